//! Repeating a request on the backoff schedule until it gives what the run waits for, the
//! deadline passes, or the API refuses. Polling a job and starting the agent share the one
//! loop; what differs (which answers end it, whether a request in flight is cut off at the
//! deadline) is a parameter.
//!
//! Every wait and the deadline use `tokio::time`, so tests run the whole schedule on a paused
//! clock in microseconds.

use std::time::Duration;

use tokio::time::{Instant, sleep_until, timeout_at};
use tracing::{debug, info, warn};

use crate::classify::{Call, Origin, Start};
use crate::deploying::Watched;
use crate::deployment::AutomationRun;
use crate::duration;
use crate::failure::{Failure, NotAJob, Refusal, Trouble};
use crate::job::{Final, Job, Status};
use crate::outcome::{Outcome, Timeout};
use crate::sanitize::{quoted, untrusted};
use crate::schedule::Schedule;
use crate::watch::{self, Verdict};

pub(crate) struct PollSettings {
    pub initial: Duration,
    pub max: Duration,
    pub deadline: Instant,
}

/// How often the log says the gate is still waiting, so a CI log never looks hung.
const HEARTBEAT: Duration = Duration::from_mins(1);

/// How long after a create a 404 on the new job is taken as "not readable yet".
pub(crate) const CREATED_NOT_FOUND_GRACE: Duration = Duration::from_secs(30);

/// How long after a follow-up a final status from before it is not trusted, unless the job
/// reports `active` in between.
pub(crate) const FOLLOW_UP_GRACE: Duration = Duration::from_mins(1);

/// What the run has seen so far. It outlives the poll so a cancelled run can still report.
pub(crate) struct Progress {
    /// The job's id as given or as created: `None` until a created job has one.
    pub job_id: Option<String>,
    pub last: Option<Job>,
    pub polls: u32,
    pub started: Instant,
    /// A connection to the API was made at least once.
    reached: bool,
    /// A connection to the API failed at least once.
    connect_failed: bool,
    /// A poll was answered with a job, whatever its status.
    read_a_job: bool,
    /// Why the last answer that was no job was not one.
    not_a_job: Option<NotAJob>,
    /// The last failure that was retried, unless an answer came after it: a verdict says what
    /// went wrong.
    last_trouble: Option<Trouble>,
    /// A start request is in flight: if the run ends now, its fate is unknown.
    start_in_flight: Option<Start>,
    /// When this run created the job: its first reads may not find it yet.
    created_at: Option<Instant>,
    /// After a follow-up, until when a final status without `active` before it is stale.
    stale_until: Option<Instant>,
    /// The deployment or preview the run triggered or waits on, once it has one.
    pub deployment: Option<Watched>,
    /// The automation run this run triggered.
    pub automation: Option<AutomationRun>,
    said: Vec<String>,
}

impl Progress {
    pub(crate) fn new(job_id: Option<&str>) -> Self {
        Progress {
            job_id: job_id.map(str::to_owned),
            last: None,
            polls: 0,
            started: Instant::now(),
            reached: false,
            connect_failed: false,
            read_a_job: false,
            not_a_job: None,
            last_trouble: None,
            start_in_flight: None,
            created_at: None,
            stale_until: None,
            deployment: None,
            automation: None,
            said: Vec::new(),
        }
    }

    /// An answer came: the API is reachable, and the trouble before it is past.
    fn answered(&mut self) {
        self.reached = true;
        self.last_trouble = None;
    }

    /// A request failed in a way worth another try; `reached` if it connected first.
    fn failed(&mut self, trouble: Trouble, reached: bool) {
        self.reached |= reached;
        self.connect_failed |= !reached;
        if let Trouble::NotAJob(reason) | Trouble::NotAStatus(reason) = &trouble {
            self.not_a_job = Some(reason.clone());
        }
        self.last_trouble = Some(trouble);
    }

    /// This run created the job, `id` as the answer gave it: its first reads may not find it
    /// yet.
    pub(crate) fn created(&mut self, id: Option<String>) {
        self.job_id = id;
        self.created_at = Some(Instant::now());
    }

    /// A follow-up was sent: until the job turns active, a final status may be the one from
    /// before.
    pub(crate) fn followed_up(&mut self) {
        self.stale_until = Instant::now().checked_add(FOLLOW_UP_GRACE);
    }

    /// The deadline cut off a request while it was still connecting: it never reached the API.
    pub(crate) fn cut_off_connecting(&mut self) {
        self.connect_failed = true;
    }

    /// The run waits on this deployment from now on.
    pub(crate) fn watch(&mut self, deployment: Watched) {
        self.deployment = Some(deployment);
    }

    /// Polling a deployment begins: answers that were no status before, about the job, say
    /// nothing about it.
    pub(crate) fn polling_a_deployment(&mut self) {
        self.not_a_job = None;
    }

    /// An automation run was triggered: the verdict names it and its job.
    pub(crate) fn automation_started(&mut self, run: AutomationRun) {
        self.job_id.clone_from(&run.job_id);
        self.automation = Some(run);
    }

    /// A follow-up was sent and the job has not been seen active since: its status may be the
    /// one from before.
    pub(crate) fn not_active_since_follow_up(&self) -> bool {
        self.stale_until.is_some()
    }

    /// The last failure that was retried, unless an answer came after it.
    pub(crate) fn last_trouble(&self) -> Option<&Trouble> {
        self.last_trouble.as_ref()
    }

    /// The start request in flight, if any: if the run ends now, its fate is unknown.
    pub(crate) fn start_in_flight(&self) -> Option<Start> {
        self.start_in_flight
    }

    /// The job as log lines name it.
    pub(crate) fn label(&self) -> String {
        self.job_id
            .as_deref()
            .map_or_else(|| "(new)".to_owned(), untrusted)
    }

    /// What the run waits on now, as a log line names it: the deployment once there is one.
    pub(crate) fn subject(&self) -> String {
        match &self.deployment {
            Some(deployment) => format!("deployment {}", deployment.label()),
            None => format!("job {}", self.label()),
        }
    }

    /// Warns once per run for each distinct thing, however often the server repeats it.
    pub(crate) fn warn_once(&mut self, text: String) {
        if !self.said.contains(&text) {
            warn!("{}: {text}", self.subject());
            self.said.push(text);
        }
    }

    pub(crate) fn observe(&mut self, job: Job) {
        let label = self.label();
        for note in &job.notes {
            self.warn_once(note.to_string());
        }
        if let Some(status) = &job.status {
            debug!(
                "job {label}: poll {}: {}",
                self.polls,
                untrusted(status.as_str())
            );
            let previous = self.last.as_ref().and_then(|last| last.status.as_ref());
            if previous != Some(status) {
                let pr = job
                    .pr_link
                    .as_deref()
                    .map(|link| format!(", PR {}", untrusted(link)))
                    .unwrap_or_default();
                let now = untrusted(status.as_str());
                if let Some(previous) = previous {
                    info!("job {label}: {} -> {now}{pr}", untrusted(previous.as_str()));
                } else {
                    info!("job {label}: {now}{pr}");
                }
            }
            if let Status::Other(unknown) = status {
                self.warn_once(format!(
                    "status {} is unknown to this version; polling on as if active",
                    quoted(unknown)
                ));
            }
            if *status == Status::Active {
                self.stale_until = None;
            }
        }
        self.last = Some(job);
    }

    /// Whether a final status ends the run: not one still left from before a follow-up.
    fn accepts_final(&mut self) -> bool {
        let Some(until) = self.stale_until else {
            return true;
        };
        let shown = self.status();
        if Instant::now() < until {
            self.warn_once(format!(
                "still {shown}, not yet active since the follow-up: waiting up to {} for it to start over",
                duration::display(FOLLOW_UP_GRACE)
            ));
            return false;
        }
        self.stale_until = None;
        self.warn_once(format!(
            "not seen active within {} of the follow-up; taking {shown} as its final status",
            duration::display(FOLLOW_UP_GRACE)
        ));
        true
    }

    fn status(&self) -> String {
        let status = match &self.deployment {
            Some(deployment) => deployment.status_text(),
            None => self
                .last
                .as_ref()
                .and_then(|job| job.status.as_ref())
                .map(Status::as_str),
        };
        status.map_or_else(|| "no status yet".to_owned(), untrusted)
    }

    /// Whether this run created the job, and how long ago.
    pub(crate) fn origin(&self) -> Origin {
        origin(self.created_at)
    }
}

/// Where what is asked about came from, by when this run started it (a job it created, a
/// deployment it triggered), which decides what a 404 on it means.
pub(crate) fn origin(started_at: Option<Instant>) -> Origin {
    let Some(at) = started_at else {
        return Origin::Given;
    };
    match at.checked_add(CREATED_NOT_FOUND_GRACE) {
        Some(until) if Instant::now() < until => Origin::CreatedMomentsAgo,
        _ => Origin::Created,
    }
}

/// How the loop ended. A timeout here is [`Timeout::Deadline`] or [`Timeout::RetryAfter`]:
/// whether the API was unreachable is decided from the whole run, in [`outcome_of`].
#[derive(Debug)]
pub(crate) enum Ending {
    Final(Job, Final),
    TimedOut(Timeout),
    Refused(Refusal),
}

/// What a final status counts as: the settings that decide it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Judging {
    pub allow_archived: bool,
    pub require_pr: bool,
}

/// The verdict of a run that ended as `ending` after seeing `progress`.
pub(crate) fn outcome_of(ending: Ending, judging: Judging, progress: &Progress) -> Outcome {
    match ending {
        Ending::Final(job, status) => Outcome::Ended(Verdict::Job(watch::job::Verdict::of(
            status,
            job.pr_link.is_some(),
            judging.allow_archived,
            judging.require_pr,
        ))),
        // Only failures to connect say the API is unreachable: a request cut off in flight
        // by the deadline says nothing either way.
        Ending::TimedOut(Timeout::Deadline) if !progress.reached && progress.connect_failed => {
            Outcome::TimedOut(Timeout::Unreachable)
        }
        // Answers that were never a deployment's status say nothing about it: an API error, as
        // for a job below.
        Ending::TimedOut(Timeout::Deadline) if progress.deployment.is_some() => {
            match (&progress.deployment, &progress.not_a_job) {
                (Some(watched), Some(reason)) if !watched.read_one => {
                    Outcome::ApiError(Refusal::NeverAStatus {
                        reason: reason.clone(),
                    })
                }
                _ => Outcome::TimedOut(Timeout::Deadline),
            }
        }
        // Answers that were never a job say nothing about the job: not a timeout, which a
        // pipeline may let pass (GitLab's `allow_failure: exit_codes: [4]`), but an API error.
        Ending::TimedOut(Timeout::Deadline) if !progress.read_a_job => match &progress.not_a_job {
            Some(reason) => Outcome::ApiError(Refusal::NeverAJob {
                reason: reason.clone(),
            }),
            None => Outcome::TimedOut(Timeout::Deadline),
        },
        Ending::TimedOut(timeout) => Outcome::TimedOut(timeout),
        Ending::Refused(refusal) => Outcome::ApiError(refusal),
    }
}

/// Polls the job at once, then on the schedule, until it reaches a final status.
///
/// `fetch` reads the job once: the HTTP client in a run, a script in tests.
pub(crate) async fn poll_until_final(
    fetch: impl AsyncFn(&Progress) -> Result<Job, Failure>,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Ending {
    let finished = |progress: &mut Progress, job: Job| {
        progress.read_a_job = true;
        let status = job.status.as_ref().and_then(Status::as_final);
        progress.observe(job);
        let status = status.filter(|_| progress.accepts_final())?;
        progress.last.clone().map(|job| (job, status))
    };
    match repeat(fetch, finished, Call::Read, settings, progress).await {
        Ok((job, status)) => Ending::Final(job, status),
        Err(ending) => ending,
    }
}

/// Sends a request that starts something (the agent, a deployment, an automation) until it
/// is answered.
pub(crate) async fn send_until_answered<A>(
    send: impl AsyncFn(&Progress) -> Result<A, Failure>,
    start: Start,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Result<A, Ending> {
    let answered = |_: &mut Progress, answer: A| Some(answer);
    repeat(send, answered, Call::Start(start), settings, progress).await
}

/// The one retry loop: sends at once, then after each wait of the schedule (or longer, if the
/// server asked), never past the deadline. `A` is what an answer holds: a job, a deployment's
/// status, a trigger's answer.
///
/// A read is repeated until `done`, and cut off at the deadline. A start is repeated only on
/// failures that certainly did not start it, and not cut off here: the request ends by the
/// deadline itself, so that one in flight then is reported as one whose fate is unknown.
pub(crate) async fn repeat<A, T>(
    send: impl AsyncFn(&Progress) -> Result<A, Failure>,
    mut done: impl FnMut(&mut Progress, A) -> Option<T>,
    call: Call,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Result<T, Ending> {
    let mut schedule = Schedule::new(settings.initial, settings.max);
    let mut last_heartbeat = Instant::now();
    loop {
        let answer = match call {
            Call::Read => {
                progress.polls += 1;
                let Ok(answer) = timeout_at(settings.deadline, send(progress)).await else {
                    // A poll cut off by the deadline says less than the failure before it.
                    progress.last_trouble.get_or_insert(Trouble::Deadline);
                    return Err(Ending::TimedOut(Timeout::Deadline));
                };
                answer
            }
            Call::Start(start) => {
                progress.start_in_flight = Some(start);
                let answer = send(progress).await;
                progress.start_in_flight = None;
                answer
            }
        };
        let retry_after = match answer {
            Ok(answer) => {
                progress.answered();
                if let Some(done) = done(progress, answer) {
                    return Ok(done);
                }
                None
            }
            Err(Failure::Permanent(refusal)) => return Err(Ending::Refused(refusal)),
            Err(Failure::Transient(failure)) => {
                let what = match call {
                    Call::Read => progress.subject(),
                    Call::Start(Start::Create) => "creating a job".to_owned(),
                    Call::Start(Start::FollowUp) => {
                        format!("job {}: sending the follow-up", progress.label())
                    }
                    Call::Start(start) => format!("triggering {}", start.what()),
                };
                warn!("{what}: {}; trying again", failure.trouble);
                progress.failed(failure.trouble, failure.reached);
                failure.retry_after
            }
        };
        let wait = next_wait(&mut schedule, retry_after, settings.deadline)
            .map_err(|asked| Ending::TimedOut(Timeout::RetryAfter(asked)))?;
        // A trigger refused for its rate is sent again no sooner than its published limit
        // allows, when the server did not say when.
        let wait = match (call, &progress.last_trouble) {
            (Call::Start(start), Some(Trouble::RateLimited)) => wait.max(start.spacing()),
            _ => wait,
        };
        let now = Instant::now();
        if now.duration_since(last_heartbeat) >= HEARTBEAT {
            info!(
                "{}: still {} after {}; next check in {}",
                progress.subject(),
                progress.status(),
                duration::display(now.duration_since(progress.started)),
                duration::display(wait)
            );
            last_heartbeat = now;
        }
        if !pause(wait, settings.deadline).await {
            return Err(Ending::TimedOut(Timeout::Deadline));
        }
    }
}

/// The wait before the next attempt: the schedule's, or longer if the server asked for it.
/// `Err` with what the server asked when that ends past the deadline: waiting is pointless.
fn next_wait(
    schedule: &mut Schedule,
    retry_after: Option<Duration>,
    deadline: Instant,
) -> Result<Duration, Duration> {
    let past_deadline = |asked: Duration| {
        Instant::now()
            .checked_add(asked)
            .is_none_or(|end| end > deadline)
    };
    match retry_after {
        Some(asked) if past_deadline(asked) => Err(asked),
        _ => Ok(schedule.next_wait().max(retry_after.unwrap_or_default())),
    }
}

/// Sleeps for `wait`, or until the deadline if that comes first; `false` then.
async fn pause(wait: Duration, deadline: Instant) -> bool {
    match Instant::now().checked_add(wait) {
        Some(wake) if wake < deadline => {
            sleep_until(wake).await;
            true
        }
        _ => {
            sleep_until(deadline).await;
            false
        }
    }
}

#[cfg(test)]
mod tests;
