//! Repeating a request on the backoff schedule until it gives what the run waits for, the
//! deadline passes, or the API refuses. Every kind's polls and starts share the one loop; what
//! differs (which answers end it, whether a request in flight is cut off at the deadline) is a
//! parameter.
//!
//! Every wait and the deadline use `tokio::time`, so tests run the whole schedule on a paused
//! clock in microseconds.

use std::time::Duration;

use tokio::time::{Instant, sleep_until, timeout_at};
use tracing::{info, warn};

use crate::api::classify::{Call, Start};
use crate::api::failure::{Failure, Refusal, Trouble};
use crate::run::outcome::Timeout;
use crate::run::progress::Progress;
use crate::run::schedule::Schedule;
use crate::settings::duration;

pub(crate) struct PollSettings {
    pub initial: Duration,
    pub max: Duration,
    pub deadline: Instant,
}

/// How often the log says the gate is still waiting, so a CI log never looks hung.
const HEARTBEAT: Duration = Duration::from_mins(1);

/// How the loop ended before what it waited for came. A timeout here is
/// [`Timeout::Deadline`] or [`Timeout::RetryAfter`]: whether the API was unreachable is decided
/// from the whole run, in [`Outcome::of`](crate::run::outcome::Outcome::of).
#[derive(Debug)]
pub(crate) enum Ending {
    TimedOut(Timeout),
    Refused(Refusal),
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
                    progress.cut_off();
                    return Err(Ending::TimedOut(Timeout::Deadline));
                };
                answer
            }
            Call::Start(start) => {
                progress.sending(Some(start));
                let answer = send(progress).await;
                progress.sending(None);
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
                        format!("{}: sending the follow-up", progress.subject())
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
        let wait = match (call, progress.last_trouble()) {
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
