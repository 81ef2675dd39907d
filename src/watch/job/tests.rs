//! The agent job's verdict, judged by the settings.

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
