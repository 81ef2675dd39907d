//! How a run ended, and the one place that turns it into an exit code and a `result` output.

use std::time::Duration;

use crate::api::failure::Refusal;
use crate::run::poll::Ending;
use crate::run::progress::Progress;
use crate::run::signals::Signal;
use crate::watch::Verdict;

/// Every exit code the gate gives: the one place a number is written. `--help` and the
/// README's table are made from, or checked against, [`Exit::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Pass = 0,
    Failed = 1,
    Config = 2,
    Archived = 3,
    Timeout = 4,
    ApiError = 5,
    NoPr = 6,
    Outputs = 7,
    DeploymentFailed = 8,
    Hangup = 129,
    Interrupted = 130,
    Terminated = 143,
}

impl Exit {
    pub(crate) const ALL: [Exit; 12] = [
        Exit::Pass,
        Exit::Failed,
        Exit::Config,
        Exit::Archived,
        Exit::Timeout,
        Exit::ApiError,
        Exit::NoPr,
        Exit::Outputs,
        Exit::DeploymentFailed,
        Exit::Hangup,
        Exit::Interrupted,
        Exit::Terminated,
    ];

    pub(crate) fn code(self) -> u8 {
        self as u8
    }

    pub(crate) fn meaning(self) -> &'static str {
        match self {
            Exit::Pass => {
                "completed or deployed (archived too with MINTLIFY_ALLOW_ARCHIVED); started, if not waiting"
            }
            Exit::Failed => "failed",
            Exit::Config => "bad configuration: nothing was sent, nothing written",
            Exit::Archived => "archived",
            Exit::Timeout => "no final status before the deadline (MINTLIFY_TIMEOUT)",
            Exit::ApiError => {
                "the API refused, answered about another job or deployment, or a start's fate is unknown"
            }
            Exit::NoPr => "completed without a PR while MINTLIFY_REQUIRE_PR",
            Exit::Outputs => "the outputs could not be written",
            Exit::DeploymentFailed => "the deployment or preview failed",
            Exit::Hangup => "hung up by SIGHUP (Unix only)",
            Exit::Interrupted => "interrupted by SIGINT (Ctrl-C on Windows)",
            Exit::Terminated => "terminated by SIGTERM (Ctrl-Break on Windows)",
        }
    }
}

/// Why a run stopped waiting before what it waited on ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timeout {
    /// The deadline passed while what the run waited on was still running.
    Deadline,
    /// The deadline passed and no connection to the API was ever made.
    Unreachable,
    /// The API asked, with `Retry-After`, for a wait that ends past the deadline.
    RetryAfter(Duration),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// What the run waited on reached a final status, judged in its kind's terms.
    Ended(Verdict),
    TimedOut(Timeout),
    /// The API refused the request, or what was asked about could not be read: the refusal
    /// says what to do.
    ApiError(Refusal),
    Cancelled(Signal),
    /// The agent, a deployment or an automation was started, and is not waited on.
    Started,
}

impl Outcome {
    pub(crate) fn exit(&self) -> Exit {
        match self {
            Outcome::Ended(verdict) => verdict.exit(),
            Outcome::Started => Exit::Pass,
            Outcome::TimedOut(_) => Exit::Timeout,
            Outcome::ApiError(_) => Exit::ApiError,
            Outcome::Cancelled(Signal::Interrupt) => Exit::Interrupted,
            Outcome::Cancelled(Signal::Terminate) => Exit::Terminated,
            Outcome::Cancelled(Signal::Hangup) => Exit::Hangup,
        }
    }

    /// The verdict of a run whose wait ended as `ending` after seeing `progress`.
    pub(crate) fn of(ending: Ending, progress: &Progress) -> Outcome {
        match ending {
            Ending::TimedOut(Timeout::Deadline) if progress.never_reached() => {
                Outcome::TimedOut(Timeout::Unreachable)
            }
            // Answers that were never one of what the run waits on say nothing about it: not a
            // timeout, which a pipeline may let pass (GitLab's `allow_failure: exit_codes:
            // [4]`), but an API error.
            Ending::TimedOut(Timeout::Deadline) => match progress.never_read() {
                Some(reason) => {
                    Outcome::ApiError(progress.current().stage().never_read(reason.clone()))
                }
                None => Outcome::TimedOut(Timeout::Deadline),
            },
            Ending::TimedOut(timeout) => Outcome::TimedOut(timeout),
            Ending::Refused(refusal) => Outcome::ApiError(refusal),
        }
    }

    /// The `result` output: the verdict in one word, for later steps to branch on.
    pub(crate) fn result(&self) -> &'static str {
        match self {
            Outcome::Ended(verdict) => verdict.result(),
            Outcome::TimedOut(_) => "timeout",
            Outcome::ApiError(_) => "api_error",
            Outcome::Cancelled(_) => "cancelled",
            Outcome::Started => "started",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::{deployment, job};

    #[test]
    fn every_outcome_has_the_documented_code_and_result() {
        let table = [
            (
                Outcome::Ended(Verdict::Job(job::Verdict::Completed)),
                0,
                "completed",
            ),
            (
                Outcome::Ended(Verdict::Job(job::Verdict::Archived { allowed: false })),
                3,
                "archived",
            ),
            (
                Outcome::Ended(Verdict::Deployment(deployment::Verdict::Failed)),
                8,
                "deployment_failed",
            ),
            (Outcome::TimedOut(Timeout::Deadline), 4, "timeout"),
            (Outcome::TimedOut(Timeout::Unreachable), 4, "timeout"),
            (
                Outcome::ApiError(Refusal::Client("x".into())),
                5,
                "api_error",
            ),
            (Outcome::Cancelled(Signal::Interrupt), 130, "cancelled"),
            (Outcome::Cancelled(Signal::Terminate), 143, "cancelled"),
            (Outcome::Cancelled(Signal::Hangup), 129, "cancelled"),
            (Outcome::Started, 0, "started"),
        ];
        for (outcome, code, result) in table {
            assert_eq!(
                (outcome.exit().code(), outcome.result()),
                (code, result),
                "{outcome:?}"
            );
        }
    }
}
