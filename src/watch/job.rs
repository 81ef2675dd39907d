//! The agent job as a run waits on it.

use crate::job::Final;
use crate::outcome::Exit;

/// How an agent job ended, as the settings judge its final status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Completed,
    Failed,
    Archived { allowed: bool },
    CompletedWithoutPr,
}

impl Verdict {
    /// The verdict on a job that reached a final status.
    pub(crate) fn of(status: Final, has_pr: bool, allow_archived: bool, require_pr: bool) -> Self {
        match status {
            Final::Completed if require_pr && !has_pr => Verdict::CompletedWithoutPr,
            Final::Completed => Verdict::Completed,
            Final::Failed => Verdict::Failed,
            Final::Archived => Verdict::Archived {
                allowed: allow_archived,
            },
        }
    }

    pub(crate) fn exit(self) -> Exit {
        match self {
            Verdict::Completed | Verdict::Archived { allowed: true } => Exit::Pass,
            Verdict::Failed => Exit::Failed,
            Verdict::Archived { allowed: false } => Exit::Archived,
            Verdict::CompletedWithoutPr => Exit::NoPr,
        }
    }

    pub(crate) fn result(self) -> &'static str {
        match self {
            Verdict::Completed => "completed",
            Verdict::Failed => "failed",
            Verdict::Archived { .. } => "archived",
            Verdict::CompletedWithoutPr => "no_pr",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verdict_has_the_documented_code_and_result() {
        let table = [
            (Verdict::Completed, 0, "completed"),
            (Verdict::Failed, 1, "failed"),
            (Verdict::Archived { allowed: false }, 3, "archived"),
            (Verdict::Archived { allowed: true }, 0, "archived"),
            (Verdict::CompletedWithoutPr, 6, "no_pr"),
        ];
        for (verdict, code, result) in table {
            assert_eq!(
                (verdict.exit().code(), verdict.result()),
                (code, result),
                "{verdict:?}"
            );
        }
    }

    #[test]
    fn a_final_status_gets_its_verdict_from_the_settings() {
        let cases = [
            ((Final::Completed, true, false, true), Verdict::Completed),
            ((Final::Completed, false, false, false), Verdict::Completed),
            (
                (Final::Completed, false, false, true),
                Verdict::CompletedWithoutPr,
            ),
            ((Final::Failed, true, true, true), Verdict::Failed),
            (
                (Final::Archived, false, true, false),
                Verdict::Archived { allowed: true },
            ),
            (
                (Final::Archived, false, false, false),
                Verdict::Archived { allowed: false },
            ),
        ];
        for ((status, has_pr, allow_archived, require_pr), verdict) in cases {
            assert_eq!(
                Verdict::of(status, has_pr, allow_archived, require_pr),
                verdict
            );
        }
    }
}
