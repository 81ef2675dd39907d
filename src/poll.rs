//! Polling one job until it reaches a final status, the deadline passes, or the API refuses.
//!
//! Every wait and the deadline use `tokio::time`, so tests run the whole schedule on a paused
//! clock in microseconds.

use std::time::Duration;

use tokio::time::{Instant, sleep_until, timeout_at};
use tracing::{debug, info, warn};

use crate::client::{Failure, Permanent};
use crate::duration;
use crate::job::{Final, Job, Status};
use crate::sanitize::untrusted;
use crate::schedule::Schedule;

pub struct PollSettings {
    pub initial: Duration,
    pub max: Duration,
    pub deadline: Instant,
}

/// How often the log says the gate is still waiting, so a CI log never looks hung.
const HEARTBEAT: Duration = Duration::from_secs(60);

/// What the run has seen so far. It outlives the poll so a cancelled run can still report.
pub struct Progress {
    /// The job's id as given or as created: empty until a created job has one.
    pub job_id: String,
    pub last: Option<Job>,
    pub polls: u32,
    pub started: Instant,
    warned_unknown: Vec<String>,
}

impl Progress {
    pub fn new(job_id: Option<&str>) -> Self {
        Progress {
            job_id: job_id.unwrap_or_default().to_owned(),
            last: None,
            polls: 0,
            started: Instant::now(),
            warned_unknown: Vec::new(),
        }
    }

    /// The job as log lines name it.
    pub fn label(&self) -> String {
        if self.job_id.is_empty() {
            "(new)".to_owned()
        } else {
            untrusted(&self.job_id)
        }
    }

    pub fn observe(&mut self, job: &Job) {
        let label = self.label();
        let status = job.status.as_str();
        debug!("job {}: poll {}: {}", label, self.polls, untrusted(status));
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
                    label,
                    untrusted(&previous),
                    untrusted(status)
                ),
                None => info!("job {}: {}{pr}", label, untrusted(status)),
            }
        }
        if let Status::Other(unknown) = &job.status
            && !self.warned_unknown.contains(unknown)
        {
            warn!(
                "job {}: status {:?} is unknown to this version; polling on as if active",
                label,
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
///
/// `fetch` reads the job once: the HTTP client in a run, a script in tests.
pub async fn poll_until_final(
    fetch: impl AsyncFn() -> Result<Job, Failure>,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Ending {
    let mut schedule = Schedule::new(settings.initial, settings.max);
    let mut last_heartbeat = Instant::now();
    loop {
        progress.polls += 1;
        let retry_after = match timeout_at(settings.deadline, fetch()).await {
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
                warn!("job {}: {trouble}; trying again", progress.label());
                trouble.retry_after
            }
        };
        let Some(wait) = next_wait(&mut schedule, retry_after, settings.deadline) else {
            return Ending::TimedOut;
        };
        let now = Instant::now();
        if now.duration_since(last_heartbeat) >= HEARTBEAT {
            info!(
                "job {}: still {} after {}; next check in {}",
                progress.label(),
                progress.status(),
                duration::display(now.duration_since(progress.started)),
                duration::display(wait)
            );
            last_heartbeat = now;
        }
        if !pause(wait, settings.deadline).await {
            return Ending::TimedOut;
        }
    }
}

/// Sends a request that starts the agent until it is answered, retrying only the failures
/// the classifier calls transient (for a start: it certainly did not happen). It is not cut
/// off here: `send` must end by the deadline itself, so that a request in flight then is
/// reported as one whose fate is unknown.
pub async fn send_until_answered(
    send: impl AsyncFn() -> Result<Job, Failure>,
    what: &str,
    settings: &PollSettings,
) -> Result<Job, Ending> {
    let mut schedule = Schedule::new(settings.initial, settings.max);
    loop {
        match send().await {
            Ok(job) => return Ok(job),
            Err(Failure::Permanent(refusal)) => return Err(Ending::Refused(refusal)),
            Err(Failure::Transient(trouble)) => {
                warn!("{what}: {trouble}; trying again");
                let Some(wait) = next_wait(&mut schedule, trouble.retry_after, settings.deadline)
                else {
                    return Err(Ending::TimedOut);
                };
                if !pause(wait, settings.deadline).await {
                    return Err(Ending::TimedOut);
                }
            }
        }
    }
}

/// The wait before the next attempt: the schedule's, or longer if the server asked for it.
/// `None` when the server asks for a wait that ends past the deadline: waiting is pointless.
fn next_wait(
    schedule: &mut Schedule,
    retry_after: Option<Duration>,
    deadline: Instant,
) -> Option<Duration> {
    let past_deadline = |asked: Duration| {
        Instant::now()
            .checked_add(asked)
            .is_none_or(|end| end > deadline)
    };
    if let Some(asked) = retry_after.filter(|&asked| past_deadline(asked)) {
        warn!(
            "the API asks to wait {}, past the deadline",
            duration::display(asked)
        );
        return None;
    }
    Some(schedule.next_wait().max(retry_after.unwrap_or_default()))
}

/// Sleeps for `wait`, or until the deadline if that comes first; `false` then.
async fn pause(wait: Duration, deadline: Instant) -> bool {
    let wake = Instant::now() + wait;
    if wake >= deadline {
        sleep_until(deadline).await;
        return false;
    }
    sleep_until(wake).await;
    true
}

#[cfg(test)]
mod tests;
