// `Report::fields` is not general enough over the report's lifetimes to stand for the closure.
#![allow(clippy::redundant_closure_for_method_calls)]

use super::*;
use crate::api::job::Job;
use crate::run::signals::Signal;
use crate::watch::Verdict;
use crate::watch::job::Verdict as JobVerdict;

const COMPLETED: Outcome = Outcome::Ended(Verdict::Job(JobVerdict::Completed));
const FAILED: Outcome = Outcome::Ended(Verdict::Job(JobVerdict::Failed));

fn progress(body: Option<&str>) -> Progress {
    let first = crate::watch::Watching::Job(crate::watch::job::Watch::new(Some("job_1")));
    let mut progress = Progress::of(first);
    progress.polls = 7;
    if let Some(body) = body {
        let job = Job::read(serde_json::from_str(body).unwrap()).unwrap();
        crate::watch::job::observe(&mut progress, job);
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
    let fields = with(&COMPLETED, Some(body), |r| r.fields());
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
            report.outcome.exit() == crate::run::outcome::Exit::Pass,
            &report.verdict(),
        )
    };
    let body = r#"{"status":"completed","prLink":"https://x/%0A::error::forged"}"#;
    let annotation = with(&COMPLETED, Some(body), report_annotation);
    assert_eq!(annotation.lines().count(), 1);
    assert_eq!(
        annotation,
        "::notice::job job_1 completed, PR https://x/%250A::error::forged"
    );
    let failure = with(&FAILED, Some(body), report_annotation);
    assert!(
        failure.starts_with("::error::job job_1 failed"),
        "{failure}"
    );
}

#[test]
fn the_summary_escapes_server_text() {
    let body = r#"{"status":"completed","prLink":"https://x/a|b<script>"}"#;
    let summary = with(&COMPLETED, Some(body), |r| r.summary("completed"));
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
    let terminate = if cfg!(windows) {
        "Ctrl-Break"
    } else {
        "SIGTERM"
    };
    assert!(
        verdict.contains(&format!("cancelled by {terminate}")),
        "{verdict}"
    );
}

#[test]
fn a_long_answer_prints_only_the_fields_read() {
    let body =
        serde_json::json!({ "status": "completed", "x": "y".repeat(STDOUT_LIMIT) }).to_string();
    let line = with(&COMPLETED, Some(&body), |r| r.stdout_line()).unwrap();
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

/// Six values made of pieces of the output syntax, a thousand times from a fixed seed, written
/// as `$GITHUB_OUTPUT` entries and read back by the runner's model: each comes back exactly
/// (the `github_output` fuzz target's invariant, in every test run).
#[test]
fn every_output_value_reads_back_exactly_as_written() {
    use proptest::prelude::Strategy as _;
    use proptest::test_runner::{Config, RngSeed, TestRunner};
    use proptest::{collection, sample};
    // Line breaks of every kind, `=`, `<<`, delimiter-like text and a forged entry.
    let pieces = "\n|\r|\r\n|=|<<|ghadelimiter_|EOF|é|\u{2028}| |result=completed".split('|');
    let value = collection::vec(sample::select(pieces.collect::<Vec<_>>()), 0..=8)
        .prop_map(|pieces| pieces.concat());
    let mut runner = TestRunner::new(Config {
        cases: 1000,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x2545_f491_4f6c_dd1d),
        ..Config::default()
    });
    let result = runner.run(&collection::vec(value, 6), |values| {
        let bytes = values
            .iter()
            .map(|value| value.as_bytes())
            .collect::<Vec<_>>()
            .join(&0xff);
        crate::fuzzing::github_output(&bytes);
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// The README's table of outputs lists exactly the outputs a run writes, in their order.
#[test]
fn the_readme_lists_every_output() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let listed: Vec<&str> = readme
        .lines()
        .skip_while(|line| !line.contains("| output | value |"))
        .skip(2)
        .take_while(|line| line.trim_start().starts_with("| `"))
        .filter_map(|line| line.split('`').nth(1))
        .collect();
    let written = with(&COMPLETED, None, |r| r.fields().map(|(name, _)| name));
    assert_eq!(listed, written);
}

/// Every output at its bound still fits GitLab's 5,120-byte dotenv report: a run fills either
/// the agent's and a deployment's outputs, or an automation's (with `job_id` and `result`).
#[test]
fn every_output_at_its_bound_fits_a_dotenv_report() {
    let names = with(&COMPLETED, None, |r| r.fields().map(|(name, _)| name));
    let size = |names: &mut dyn Iterator<Item = &&str>| -> usize {
        names
            .map(|name| name.len() + "=\n".len() + output_limit(name))
            .sum()
    };
    let agent_and_preview = size(&mut names.iter().filter(|n| **n != "automation_run_id"));
    assert!(agent_and_preview < 5120, "{agent_and_preview}");
    let automation = ["job_id", "result", "automation_run_id"];
    assert!(size(&mut automation.iter()) < 5120);
}

/// A kind's output under a name action.yml does not declare would be dropped without a word.
#[test]
fn every_kind_owns_only_declared_outputs() {
    use crate::settings::Task;
    use crate::watch::deployment::Deploy;
    let tasks = [
        Task::Watch {
            job_id: "job_1".into(),
        },
        Task::Deploy(Deploy::Production),
        Task::Automation {
            automation_id: "daily".into(),
        },
    ];
    for task in tasks {
        let first = crate::watch::Watching::first(&task);
        for (name, _) in first.words().outputs() {
            assert!(OUTPUTS.contains(&name), "{task:?}: {name}");
        }
    }
}

/// `check` on the report of `outcome` after `progress`, with `config`.
fn reported<T>(
    config: &Config,
    progress: &Progress,
    outcome: &Outcome,
    check: impl FnOnce(&Report<'_>) -> T,
) -> T {
    check(&Report {
        outcome,
        progress,
        config,
        elapsed: Duration::from_secs(1),
    })
}

fn automation_config() -> Config {
    let mut config = Config::example();
    config.task = crate::settings::Task::Automation {
        automation_id: "daily".into(),
    };
    config
}

/// An automation whose trigger was refused is summarised as an automation, with no run.
#[test]
fn a_refused_automation_is_summarised_as_one() {
    let config = automation_config();
    let progress = Progress::new(&config.task);
    let outcome = Outcome::ApiError(crate::api::failure::Refusal::Client("no".into()));
    let (summary, verdict) = reported(&config, &progress, &outcome, |report| {
        (report.summary("api_error"), report.verdict())
    });
    assert_eq!(
        summary,
        "### Mintlify automation: api_error\n\n| automation run | job |\n| --- | --- |\n| none | none |\n"
    );
    assert_eq!(verdict, "automation \"daily\": no");
}

/// An automation run's answer too long for stdout still shows its ids there.
#[test]
fn an_automation_answer_over_the_stdout_limit_shows_its_ids() {
    let config = automation_config();
    let mut progress = Progress::new(&config.task);
    let answer = serde_json::json!({
        "schemaId": "s", "instanceId": "inst_1", "jobId": "job_9", "pad": "x".repeat(STDOUT_LIMIT)
    });
    let run = crate::api::deployment::AutomationRun::read(answer).unwrap();
    crate::watch::automation::Watch::started(&mut progress, run);
    let line = reported(&config, &progress, &Outcome::Started, |r| r.stdout_line());
    assert_eq!(
        line.as_deref(),
        Some(r#"{"instanceId":"inst_1","jobId":"job_9"}"#)
    );
}

/// Stopped while the agent's preview was being triggered: the verdict is about the preview,
/// and its last status is the preview's, not the job's.
#[test]
fn a_run_stopped_before_the_agents_preview_started_names_the_preview() {
    let body = r#"{"status":"completed","prLink":"https://github.com/o/r/pull/1","source":{"ref":"feat"}}"#;
    let mut progress = progress(Some(body));
    let preview = crate::watch::deployment::Watch::agent_preview();
    progress.begin(crate::watch::Watching::Deployment(preview));
    let mut config = Config::example();
    config.preview = true;
    let outcome = Outcome::Cancelled(Signal::Terminate);
    let (verdict, fields) = reported(&config, &progress, &outcome, |report| {
        (report.verdict(), report.fields())
    });
    // The signal's name is the platform's: Ctrl-Break on Windows.
    assert_eq!(
        verdict,
        format!(
            "the preview of the agent's branch: cancelled by {} (last status: none)",
            Signal::Terminate.name()
        )
    );
    assert_eq!(fields[0], ("status", "completed".to_owned()));
}
