//! How a run ended, and the one place that turns it into an exit code and a `result` output.

use std::time::Duration;

use crate::job::Final;
use crate::signals::Signal;

/// Exit codes that are not the outcome of a poll: the run never started, or its report failed.
pub const EXIT_CONFIG: u8 = 2;
pub const EXIT_OUTPUTS: u8 = 7;

/// Why a run stopped waiting before the job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// The deadline passed while the job was still running.
    Deadline,
    /// The deadline passed and no connection to the API was ever made.
    Unreachable,
    /// The API asked, with `Retry-After`, for a wait that ends past the deadline.
    RetryAfter(Duration),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Failed,
    Archived {
        allowed: bool,
    },
    TimedOut(Timeout),
    /// The API refused the request, or the job could not be read: the message says what to do.
    ApiError(String),
    CompletedWithoutPr,
    Cancelled(Signal),
    /// The agent was started and `MINTLIFY_WAIT=false` asked not to wait for it.
    Started,
}

impl Outcome {
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Completed | Outcome::Archived { allowed: true } | Outcome::Started => 0,
            Outcome::Failed => 1,
            Outcome::Archived { allowed: false } => 3,
            Outcome::TimedOut(_) => 4,
            Outcome::ApiError(_) => 5,
            Outcome::CompletedWithoutPr => 6,
            Outcome::Cancelled(Signal::Interrupt) => 130,
            Outcome::Cancelled(Signal::Terminate) => 143,
        }
    }

    /// The `result` output: the verdict in one word, for later steps to branch on.
    pub fn result(&self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Failed => "failed",
            Outcome::Archived { .. } => "archived",
            Outcome::TimedOut(_) => "timeout",
            Outcome::ApiError(_) => "api_error",
            Outcome::CompletedWithoutPr => "no_pr",
            Outcome::Cancelled(_) => "cancelled",
            Outcome::Started => "started",
        }
    }

    /// The verdict on a job that reached a final status.
    pub fn of_final(
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
            (Outcome::ApiError("x".into()), 5, "api_error"),
            (Outcome::CompletedWithoutPr, 6, "no_pr"),
            (Outcome::Cancelled(Signal::Interrupt), 130, "cancelled"),
            (Outcome::Cancelled(Signal::Terminate), 143, "cancelled"),
            (Outcome::Started, 0, "started"),
        ];
        for (outcome, code, result) in table {
            assert_eq!(
                (outcome.exit_code(), outcome.result()),
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
