// `Report::fields` is not general enough over the report's lifetimes to stand for the closure.
#![allow(clippy::redundant_closure_for_method_calls)]

use super::*;
use crate::signals::Signal;

fn progress(body: Option<&str>) -> Progress {
    let mut progress = Progress::new(Some("job_1"));
    progress.polls = 7;
    if let Some(body) = body {
        let job = Job::read(serde_json::from_str(body).unwrap()).unwrap();
        progress.observe(job);
    }
    progress
}

fn with<T>(outcome: &Outcome, body: Option<&str>, check: impl FnOnce(&Report<'_>) -> T) -> T {
    let config = Config::example();
    let progress = progress(body);
    let report = Report {
        outcome,
        progress: &progress,
        config: &config,
        elapsed: Duration::from_secs(65),
    };
    check(&report)
}

#[test]
fn fields_carry_the_last_job_and_the_verdict() {
    let body = r#"{"status":"completed","prLink":"https://github.com/o/r/pull/1","source":{"repository":"https://github.com/o/r","ref":"main"}}"#;
    let fields = with(&Outcome::Completed, Some(body), |r| r.fields());
    let expected = [
        ("status", "completed"),
        ("pr_link", "https://github.com/o/r/pull/1"),
        ("job_id", "job_1"),
        ("result", "completed"),
        ("repository", "https://github.com/o/r"),
        ("ref", "main"),
    ];
    for ((name, value), (expected_name, expected_value)) in fields.iter().zip(expected) {
        assert_eq!((*name, value.as_str()), (expected_name, expected_value));
    }
    let fields = with(&Outcome::TimedOut(Timeout::Deadline), None, |r| r.fields());
    // status, pr_link, repository, ref, and the four outputs of a deployment or automation.
    assert_eq!(fields.iter().filter(|(_, v)| v.is_empty()).count(), 8);
}

#[test]
fn server_text_in_outputs_is_escaped_for_a_person() {
    let body = r#"{"status":"act\u202eive","source":{"repository":"r\u200b","ref":"a\nb"}}"#;
    let fields = with(&Outcome::TimedOut(Timeout::Deadline), Some(body), |r| {
        r.fields()
    });
    assert_eq!(fields[0].1, "act\\u{202e}ive");
    assert_eq!(fields[4].1, "r\\u{200b}");
    assert_eq!(fields[5].1, "a\\nb");
}

#[test]
fn the_annotation_is_one_line_whatever_the_server_sent() {
    let report_annotation = |report: &Report<'_>| {
        annotation(
            report.outcome.exit() == crate::outcome::Exit::Pass,
            &report.verdict(),
        )
    };
    let body = r#"{"status":"completed","prLink":"https://x/%0A::error::forged"}"#;
    let annotation = with(&Outcome::Completed, Some(body), report_annotation);
    assert_eq!(annotation.lines().count(), 1);
    assert_eq!(
        annotation,
        "::notice::job job_1 completed, PR https://x/%250A::error::forged"
    );
    let failure = with(&Outcome::Failed, Some(body), report_annotation);
    assert!(
        failure.starts_with("::error::job job_1 failed"),
        "{failure}"
    );
}

#[test]
fn the_summary_escapes_server_text() {
    let body = r#"{"status":"completed","prLink":"https://x/a|b<script>"}"#;
    let summary = with(&Outcome::Completed, Some(body), |r| r.summary("completed"));
    assert!(
        summary.contains("| job\\_1 | completed | https://x/a\\|b&lt;script&gt; | 1m05s | 7 |"),
        "{summary}"
    );
}

#[test]
fn verdicts_name_the_real_cause() {
    let verdict = with(
        &Outcome::TimedOut(Timeout::RetryAfter(Duration::from_secs(3600))),
        None,
        |r| r.verdict(),
    );
    assert!(
        verdict.contains("asked (Retry-After) to wait 1h00m")
            && verdict.contains("past the deadline"),
        "{verdict}"
    );
    let verdict = with(&Outcome::TimedOut(Timeout::Unreachable), None, |r| {
        r.verdict()
    });
    assert!(verdict.contains("could not be reached"), "{verdict}");
    let verdict = with(&Outcome::Cancelled(Signal::Terminate), None, |r| {
        r.verdict()
    });
    assert!(verdict.contains("cancelled by SIGTERM"), "{verdict}");
}

#[test]
fn a_long_answer_prints_only_the_fields_read() {
    let body =
        serde_json::json!({ "status": "completed", "x": "y".repeat(STDOUT_LIMIT) }).to_string();
    let line = with(&Outcome::Completed, Some(&body), |r| r.stdout_line()).unwrap();
    assert!(line.len() < 200, "{line}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&line).unwrap()["status"],
        "completed"
    );
}

#[test]
fn dotenv_values_stay_on_one_line() {
    let text = dotenv_text(&[
        ("pr_link", "https://x\nRESULT=completed".into()),
        ("result", "failed".into()),
    ]);
    assert_eq!(text, "PR_LINK=https://xRESULT=completed\nRESULT=failed\n");
}

#[test]
fn outputs_are_bounded_in_bytes_once_escaped() {
    let body = serde_json::json!({
        "status": "active",
        "source": {"repository": "\u{202E}".repeat(300), "ref": "中".repeat(80)},
    })
    .to_string();
    let fields = with(&Outcome::TimedOut(Timeout::Deadline), Some(&body), |r| {
        r.fields()
    });
    assert_eq!(fields[4].1, "", "an escaped repository over its bound");
    assert_eq!(fields[5].1, "中".repeat(80));
    assert!(dotenv_text(&fields).len() < 5120);
}

#[test]
fn nothing_is_written_unless_every_output_can_be() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("output");
    let missing = dir.path().join("no/such/dir/gate.env");
    let fields = [("result", "completed".to_owned())];
    assert!(matches!(
        write_outputs(Some(&output), Some(&missing), &fields),
        Err(OutputError::Open { .. })
    ));
    assert!(matches!(
        write_outputs(Some(dir.path()), None, &fields),
        Err(OutputError::Open { .. } | OutputError::NotAFile { .. })
    ));
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "");
    write_outputs(Some(&output), None, &fields).unwrap();
    assert!(
        std::fs::read_to_string(&output)
            .unwrap()
            .contains("completed")
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_at_once_instead_of_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(made.success());
    let error = write_outputs(Some(&path), None, &[("result", "completed".into())]).unwrap_err();
    // No reader: the non-blocking open fails at once (ENXIO) instead of waiting for one.
    assert!(matches!(error, OutputError::Open { .. }), "{error}");
}
