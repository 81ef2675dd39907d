//! How a run ended, and the one place that turns it into an exit code and a `result` output.

use std::time::Duration;

use crate::failure::Refusal;
use crate::job::Final;
use crate::signals::Signal;

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

/// Why a run stopped waiting before the job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timeout {
    /// The deadline passed while the job was still running.
    Deadline,
    /// The deadline passed and no connection to the API was ever made.
    Unreachable,
    /// The API asked, with `Retry-After`, for a wait that ends past the deadline.
    RetryAfter(Duration),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Completed,
    Failed,
    Archived {
        allowed: bool,
    },
    TimedOut(Timeout),
    /// The API refused the request, or the job could not be read: the refusal says what to do.
    ApiError(Refusal),
    CompletedWithoutPr,
    Cancelled(Signal),
    /// The agent, a deployment or an automation was started, and is not waited on.
    Started,
    /// The deployment or preview succeeded.
    Deployed,
    /// The deployment or preview failed.
    DeploymentFailed,
}

impl Outcome {
    pub(crate) fn exit(&self) -> Exit {
        match self {
            Outcome::Completed
            | Outcome::Archived { allowed: true }
            | Outcome::Started
            | Outcome::Deployed => Exit::Pass,
            Outcome::DeploymentFailed => Exit::DeploymentFailed,
            Outcome::Failed => Exit::Failed,
            Outcome::Archived { allowed: false } => Exit::Archived,
            Outcome::TimedOut(_) => Exit::Timeout,
            Outcome::ApiError(_) => Exit::ApiError,
            Outcome::CompletedWithoutPr => Exit::NoPr,
            Outcome::Cancelled(Signal::Interrupt) => Exit::Interrupted,
            Outcome::Cancelled(Signal::Terminate) => Exit::Terminated,
            Outcome::Cancelled(Signal::Hangup) => Exit::Hangup,
        }
    }

    /// The `result` output: the verdict in one word, for later steps to branch on.
    pub(crate) fn result(&self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Failed => "failed",
            Outcome::Archived { .. } => "archived",
            Outcome::TimedOut(_) => "timeout",
            Outcome::ApiError(_) => "api_error",
            Outcome::CompletedWithoutPr => "no_pr",
            Outcome::Cancelled(_) => "cancelled",
            Outcome::Started => "started",
            Outcome::Deployed => "deployed",
            Outcome::DeploymentFailed => "deployment_failed",
        }
    }

    /// The verdict on a job that reached a final status.
    pub(crate) fn of_final(
        status: Final,
        has_pr: bool,
        allow_archived: bool,
        require_pr: bool,
    ) -> Outcome {
        match status {
            Final::Completed if require_pr && !has_pr => Outcome::CompletedWithoutPr,
            Final::Completed => Outcome::Completed,
            Final::Failed => Outcome::Failed,
            Final::Archived => Outcome::Archived {
                allowed: allow_archived,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_has_the_documented_code_and_result() {
        let table = [
            (Outcome::Completed, 0, "completed"),
            (Outcome::Failed, 1, "failed"),
            (Outcome::Archived { allowed: false }, 3, "archived"),
            (Outcome::Archived { allowed: true }, 0, "archived"),
            (Outcome::TimedOut(Timeout::Deadline), 4, "timeout"),
            (Outcome::TimedOut(Timeout::Unreachable), 4, "timeout"),
            (
                Outcome::ApiError(Refusal::Client("x".into())),
                5,
                "api_error",
            ),
            (Outcome::CompletedWithoutPr, 6, "no_pr"),
            (Outcome::Cancelled(Signal::Interrupt), 130, "cancelled"),
            (Outcome::Cancelled(Signal::Terminate), 143, "cancelled"),
            (Outcome::Cancelled(Signal::Hangup), 129, "cancelled"),
            (Outcome::Started, 0, "started"),
            (Outcome::Deployed, 0, "deployed"),
            (Outcome::DeploymentFailed, 8, "deployment_failed"),
        ];
        for (outcome, code, result) in table {
            assert_eq!(
                (outcome.exit().code(), outcome.result()),
                (code, result),
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn a_final_status_gets_its_verdict_from_the_settings() {
        assert_eq!(
            Outcome::of_final(Final::Completed, true, false, true),
            Outcome::Completed
        );
        assert_eq!(
            Outcome::of_final(Final::Completed, false, false, false),
            Outcome::Completed
        );
        assert_eq!(
            Outcome::of_final(Final::Completed, false, false, true),
            Outcome::CompletedWithoutPr
        );
        assert_eq!(
            Outcome::of_final(Final::Failed, true, true, true),
            Outcome::Failed
        );
        assert_eq!(
            Outcome::of_final(Final::Archived, false, true, false),
            Outcome::Archived { allowed: true }
        );
        assert_eq!(
            Outcome::of_final(Final::Archived, false, false, false),
            Outcome::Archived { allowed: false }
        );
    }
}
