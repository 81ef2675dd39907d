//! Polling one job until it reaches a final status, the deadline passes, or the API refuses.
//!
//! Every wait and the deadline use `tokio::time`, so tests run the whole schedule on a paused
//! clock in microseconds.

use std::future::Future;
use std::time::Duration;

use tokio::time::{Instant, sleep_until, timeout_at};
use tracing::{debug, info, warn};

use crate::client::{Failure, Permanent};
use crate::duration;
use crate::job::{Final, Job, Status};
use crate::sanitize::untrusted;
use crate::schedule::Schedule;

/// Something that reads the job once: the HTTP client in a run, a script in tests.
pub trait JobSource {
    fn fetch(&self) -> impl Future<Output = Result<Job, Failure>>;
}

pub struct PollSettings {
    pub initial: Duration,
    pub max: Duration,
    pub deadline: Instant,
}

/// How often the log says the gate is still waiting, so a CI log never looks hung.
const HEARTBEAT: Duration = Duration::from_secs(60);

/// What the run has seen so far. It outlives the poll so a cancelled run can still report.
pub struct Progress {
    pub label: String,
    pub last: Option<Job>,
    pub polls: u32,
    pub started: Instant,
    warned_unknown: Vec<String>,
}

impl Progress {
    pub fn new(label: &str) -> Self {
        Progress {
            label: untrusted(label),
            last: None,
            polls: 0,
            started: Instant::now(),
            warned_unknown: Vec::new(),
        }
    }

    fn observe(&mut self, job: &Job) {
        let status = job.status.as_str();
        debug!(
            "job {}: poll {}: {}",
            self.label,
            self.polls,
            untrusted(status)
        );
        let previous = self
            .last
            .as_ref()
            .map(|last| last.status.as_str().to_owned());
        if previous.as_deref() != Some(status) {
            let pr = job
                .pr_link
                .as_deref()
                .map(|link| format!(", PR {}", untrusted(link)))
                .unwrap_or_default();
            match previous {
                Some(previous) => info!(
                    "job {}: {} -> {}{pr}",
                    self.label,
                    untrusted(&previous),
                    untrusted(status)
                ),
                None => info!("job {}: {}{pr}", self.label, untrusted(status)),
            }
        }
        if let Status::Other(unknown) = &job.status
            && !self.warned_unknown.contains(unknown)
        {
            warn!(
                "job {}: status {:?} is unknown to this version; polling on as if active",
                self.label,
                untrusted(unknown)
            );
            self.warned_unknown.push(unknown.clone());
        }
        self.last = Some(job.clone());
    }

    fn status(&self) -> String {
        self.last.as_ref().map_or_else(
            || "no answer yet".to_owned(),
            |job| untrusted(job.status.as_str()),
        )
    }
}

#[derive(Debug)]
pub enum Ending {
    Final(Job, Final),
    TimedOut,
    Refused(Permanent),
}

/// Polls at once, then on the schedule, never past the deadline: a request still in flight at
/// the deadline is dropped, and a wait that would end past it ends the run instead.
pub async fn poll_until_final(
    source: &impl JobSource,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Ending {
    let mut schedule = Schedule::new(settings.initial, settings.max);
    let mut last_heartbeat = Instant::now();
    loop {
        progress.polls += 1;
        let retry_after = match timeout_at(settings.deadline, source.fetch()).await {
            Err(_) => return Ending::TimedOut,
            Ok(Ok(job)) => {
                progress.observe(&job);
                if let Some(status) = job.status.as_final() {
                    return Ending::Final(job, status);
                }
                None
            }
            Ok(Err(Failure::Permanent(refusal))) => return Ending::Refused(refusal),
            Ok(Err(Failure::Transient(trouble))) => {
                warn!("job {}: {trouble}; trying again", progress.label);
                trouble.retry_after
            }
        };
        let now = Instant::now();
        if let Some(asked) = retry_after.filter(|&asked| now + asked > settings.deadline) {
            warn!(
                "job {}: the API asks to wait {}, past the deadline",
                progress.label,
                duration::display(asked)
            );
            return Ending::TimedOut;
        }
        let wait = schedule.next_wait().max(retry_after.unwrap_or_default());
        if now.duration_since(last_heartbeat) >= HEARTBEAT {
            info!(
                "job {}: still {} after {}; next check in {}",
                progress.label,
                progress.status(),
                duration::display(now.duration_since(progress.started)),
                duration::display(wait)
            );
            last_heartbeat = now;
        }
        if now + wait >= settings.deadline {
            sleep_until(settings.deadline).await;
            return Ending::TimedOut;
        }
        sleep_until(now + wait).await;
    }
}

#[cfg(test)]
mod tests;
