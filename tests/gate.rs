//! The binary against a local mock of the API: every outcome, exit code and output, and what a
//! hostile or broken server can and cannot do to a run.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use proptest::prelude::Strategy as _;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use proptest::{collection, sample};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

#[tokio::test]
async fn completed_with_a_pr_passes_and_reports_everything() {
    let server = api([
        ok(job("active", None)),
        ok(job("active", None)),
        ok(job("completed", Some(PR_LINK))),
    ])
    .await;
    let run = Gate::new(&server.uri()).run();
    run.assert_code(0);
    let outputs = run.outputs();
    let expected = [
        ("status", "completed"),
        ("pr_link", "https://github.com/acme/docs/pull/7"),
        ("job_id", JOB),
        ("result", "completed"),
        ("repository", "https://github.com/acme/docs"),
        ("ref", "main"),
        ("deployment_id", ""),
        ("deployment_status", ""),
        ("preview_url", ""),
        ("automation_run_id", ""),
    ];
    for (name, value) in expected {
        assert_eq!(
            outputs.get(name).map(String::as_str),
            Some(value),
            "output {name}"
        );
    }
    assert_eq!(outputs.len(), expected.len());
    let printed: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(printed, job("completed", Some(PR_LINK)));
    assert_eq!(run.stdout.lines().count(), 1);
    run.assert_logged("job job_1: active -> completed, PR https://github.com/acme/docs/pull/7");

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_eq!(
            request.headers["authorization"],
            format!("Bearer {KEY}").as_str()
        );
        let agent = request.headers["user-agent"].to_str().unwrap();
        assert_eq!(
            agent,
            concat!("mintlify-agent-gate/", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[tokio::test]
async fn each_final_status_has_its_exit_code_and_result() {
    let cases = [
        (job("failed", None), vec![], 1, "failed"),
        (job("archived", None), vec![], 3, "archived"),
        (
            job("archived", None),
            vec![("MINTLIFY_ALLOW_ARCHIVED", "true")],
            0,
            "archived",
        ),
        (job("completed", None), vec![], 0, "completed"),
        (
            job("completed", None),
            vec![("MINTLIFY_REQUIRE_PR", "yes")],
            6,
            "no_pr",
        ),
        (
            job("completed", Some(PR_LINK)),
            vec![("MINTLIFY_REQUIRE_PR", "yes")],
            0,
            "completed",
        ),
    ];
    for (body, settings, code, result) in cases {
        let server = api([ok(body.clone())]).await;
        let mut gate = Gate::new(&server.uri());
        for (name, value) in settings {
            gate = gate.env(name, value);
        }
        let run = gate.run();
        run.assert_code(code);
        let outputs = run.outputs();
        assert_eq!(outputs["result"], result, "{body}");
        assert_eq!(outputs["status"], body["status"].as_str().unwrap());
    }
}

#[tokio::test]
async fn bad_configuration_exits_2_before_any_request_and_writes_nothing() {
    let server = api([ok(job("completed", Some(PR_LINK)))]).await;
    for (name, value) in [
        ("MINTLIFY_TIMEOUT", "forever"),
        ("MINTLIFY_API_KEY", "mint_dsc_assistant"),
        ("MINTLIFY_POLL_MAX", "1m"),
        ("MINTLIFY_REQUIRE_PR", "sure"),
        // A key's kind is read in any case; durations are read one way only.
        ("MINTLIFY_API_KEY", "MINT_DSC_ASSISTANT"),
        ("MINTLIFY_TIMEOUT", "1h1h"),
        ("MINTLIFY_TIMEOUT", "1m60s"),
        ("MINTLIFY_REQUEST_TIMEOUT", "1ms1000s"),
    ] {
        let run = Gate::new(&server.uri()).env(name, value).run();
        run.assert_code(2);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.starts_with(&format!("error: {name}")),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
        assert_eq!(run.file("output"), None);
    }
    let run = Gate::new("http://example.com").run();
    run.assert_code(2);
    run.assert_logged("MINTLIFY_API_URL");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_deadline_ends_the_run_with_exit_4() {
    let server = api([ok(job("active", None))]).await;
    let run = Gate::new(&server.uri())
        .env("MINTLIFY_TIMEOUT", "300ms")
        .run();
    run.assert_code(4);
    let outputs = run.outputs();
    assert_eq!(
        (outputs["result"].as_str(), outputs["status"].as_str()),
        ("timeout", "active")
    );
    run.assert_logged("raise MINTLIFY_TIMEOUT");
}

#[tokio::test]
async fn the_deadline_cuts_off_a_request_in_flight() {
    let server = api([ok(job("active", None)).set_delay(Duration::from_mins(1))]).await;
    let started = Instant::now();
    let run = Gate::new(&server.uri())
        .env("MINTLIFY_TIMEOUT", "500ms")
        .run();
    run.assert_code(4);
    assert_eq!(run.outputs()["status"], "");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the run hung for {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn refusals_stop_at_once_with_exit_5_and_advice() {
    let cases = [
        (
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"error": "Invalid API key"})),
            "MINTLIFY_API_KEY",
        ),
        (ResponseTemplate::new(403), "not an admin key"),
        (
            ResponseTemplate::new(404).set_body_json(serde_json::json!({"error": "Job not found"})),
            "\"job_1\" was not found in project \"proj_1\"",
        ),
        (
            ResponseTemplate::new(400).set_body_json(serde_json::json!({"error": "bad id"})),
            "HTTP 400: bad id",
        ),
        (
            ResponseTemplate::new(302).insert_header("location", "https://elsewhere.example/steal"),
            "https://elsewhere.example/steal",
        ),
    ];
    for (answer, advice) in cases {
        let server = api([answer]).await;
        let run = Gate::new(&server.uri()).run();
        run.assert_code(5);
        assert_eq!(run.outputs()["result"], "api_error");
        run.assert_logged(advice);
        assert_eq!(
            server.received_requests().await.unwrap().len(),
            1,
            "a refusal was retried"
        );
    }
}

#[tokio::test]
async fn a_key_echoed_by_the_server_is_redacted() {
    let body = serde_json::json!({"error": format!("key {KEY} has expired")});
    let server = api([ResponseTemplate::new(401).set_body_json(body)]).await;
    let run = Gate::new(&server.uri()).run();
    run.assert_code(5);
    run.assert_logged("key <redacted> has expired");
}

#[tokio::test]
async fn a_key_echoed_in_a_job_or_a_redirect_is_redacted() {
    let echoed = format!("https://github.com/acme/docs/pull/7?k={KEY}");
    let server = api([ok(job("completed", Some(&echoed)))]).await;
    let run = Gate::new(&server.uri()).env("GITHUB_ACTIONS", "true").run();
    run.assert_code(0);
    assert_eq!(
        run.outputs()["pr_link"],
        "https://github.com/acme/docs/pull/7?k=<redacted>"
    );
    let location = format!("https://elsewhere.example/?key={KEY}");
    let server =
        api([ResponseTemplate::new(307).insert_header("location", location.as_str())]).await;
    let run = Gate::new(&server.uri()).run();
    run.assert_code(5);
    run.assert_logged("https://elsewhere.example/?key=<redacted>");
}

#[tokio::test]
async fn server_errors_in_a_burst_are_retried() {
    let burst = [500, 502, 503, 504, 408].map(ResponseTemplate::new);
    let server = api(burst
        .into_iter()
        .chain([ok(job("completed", Some(PR_LINK)))]))
    .await;
    let run = Gate::new(&server.uri()).run();
    run.assert_code(0);
    assert_eq!(server.received_requests().await.unwrap().len(), 6);
    assert_eq!(
        run.stderr.matches("trying again").count(),
        5,
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn retry_after_on_429_is_honoured_above_the_poll_cap() {
    let limited = ResponseTemplate::new(429).insert_header("retry-after", "1");
    let server = api([limited, ok(job("completed", Some(PR_LINK)))]).await;
    let started = Instant::now();
    let run = Gate::new(&server.uri()).run();
    run.assert_code(0);
    // With a 40 ms cap the retry would come at once unless Retry-After was obeyed.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retried after {:?}",
        started.elapsed()
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn malformed_and_oversized_answers_are_retried() {
    let huge = format!(
        r#"{{"status":"completed","pad":"{}"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let answers = [
        ResponseTemplate::new(200).set_body_string("<html>gateway</html>"),
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"status": 5})),
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": JOB})),
        ResponseTemplate::new(200).set_body_string(huge),
        ok(job("completed", Some(PR_LINK))),
    ];
    let server = api(answers).await;
    let run = Gate::new(&server.uri()).run();
    run.assert_code(0);
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
    for reason in ["not JSON", "not a job", "over 1 MiB"] {
        run.assert_logged(reason);
    }
}

#[test]
fn dropped_connections_are_retried() {
    let (url, connections) = flaky_server(2, job("completed", Some(PR_LINK)).to_string());
    let run = Gate::new(&url).run();
    run.assert_code(0);
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert_eq!(
        run.outputs()["pr_link"],
        "https://github.com/acme/docs/pull/7"
    );
}

#[tokio::test]
async fn a_slow_answer_is_cut_off_by_the_request_timeout_and_retried() {
    let slow = ok(job("active", None)).set_delay(Duration::from_secs(5));
    let server = api([slow, ok(job("completed", Some(PR_LINK)))]).await;
    let run = Gate::new(&server.uri())
        .env("MINTLIFY_REQUEST_TIMEOUT", "200ms")
        .run();
    run.assert_code(0);
    run.assert_logged("no answer within MINTLIFY_REQUEST_TIMEOUT (200ms)");
}

#[tokio::test]
async fn outputs_that_cannot_be_written_exit_7() {
    let server = api([ok(job("completed", Some(PR_LINK)))]).await;
    let gate = Gate::new(&server.uri());
    let missing = gate.path("no/such/dir/output");
    let run = gate.env("GITHUB_OUTPUT", &missing).run();
    run.assert_code(7);
    run.assert_logged(&missing.display().to_string());
}

#[tokio::test]
async fn server_text_cannot_forge_an_output() {
    let forged =
        "https://x/pull/1\nresult=completed\nstatus<<EOF\ncompleted\nEOF\nghadelimiter_0000\n";
    let mut answer = job("failed", Some(forged));
    answer["source"]["ref"] = forged.into();
    let server = api([ok(answer)]).await;
    let run = Gate::new(&server.uri()).run();
    run.assert_code(1);
    let outputs = run.outputs();
    assert_eq!(outputs["result"], "failed");
    assert_eq!(outputs["status"], "failed");
    assert_eq!(outputs["pr_link"], "");
    assert_eq!(outputs["ref"], escaped(forged));
    assert_eq!(outputs.len(), 10);
    run.assert_logged("prLink holds whitespace, control or invisible characters; read as no PR");
}

#[tokio::test]
async fn server_text_cannot_inject_a_workflow_command() {
    let hostile = "x\n::add-mask::y\r\n::stop-commands::t\n##[error]z\n::error::pwned";
    let server = api([
        ok(job(hostile, None)),
        ResponseTemplate::new(500).set_body_string(hostile),
        ok(job("failed", Some(hostile))),
    ])
    .await;
    let run = Gate::new(&server.uri())
        .env("GITHUB_ACTIONS", "true")
        .env("MINTLIFY_LOG", "trace")
        .run();
    run.assert_code(1);
    let commands = workflow_commands(&run.stderr);
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert!(
        commands[0].starts_with("::error::job job_1 failed"),
        "{}",
        commands[0]
    );
    assert!(workflow_commands(&run.stdout).is_empty());
    run.assert_logged("is unknown to this version");
}

#[tokio::test]
async fn github_actions_gets_a_notice_and_a_step_summary() {
    let server = api([ok(job(
        "completed",
        Some("https://github.com/acme/docs/pull/7|<b>"),
    ))])
    .await;
    let gate = Gate::new(&server.uri());
    let summary = gate.path("summary");
    let run = gate
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .run();
    run.assert_code(0);
    assert!(
        run.stderr.lines().any(|l| l.starts_with(
            "::notice::job job_1 completed, PR https://github.com/acme/docs/pull/7|<b>"
        )),
        "{}",
        run.stderr
    );
    let summary = run.file("summary").unwrap();
    assert!(
        summary
            .contains("| job\\_1 | completed | https://github.com/acme/docs/pull/7\\|&lt;b&gt; |"),
        "{summary}"
    );
}

#[tokio::test]
async fn a_dotenv_report_is_written_for_other_ci() {
    let mut answer = job("completed", Some("https://x/pull/1"));
    answer["source"]["ref"] = "main\nRESULT=completed".into();
    let server = api([ok(answer)]).await;
    let mut gate = Gate::new(&server.uri()).env("MINTLIFY_DOTENV", "gate.env");
    // A relative path, as in a GitLab job, is relative to the working directory.
    gate.command.current_dir(gate.dir.path());
    let run = gate.run();
    run.assert_code(0);
    let dotenv = run.file("gate.env").unwrap();
    let expected = "STATUS=completed\nPR_LINK=https://x/pull/1\nJOB_ID=job_1\nRESULT=completed\n\
                    REPOSITORY=https://github.com/acme/docs\nREF=main\\nRESULT=completed\n\
                    DEPLOYMENT_ID=\nDEPLOYMENT_STATUS=\nPREVIEW_URL=\nAUTOMATION_RUN_ID=\n";
    assert_eq!(dotenv, expected);
}

#[tokio::test]
async fn the_dotenv_report_is_written_whole_each_run_and_outputs_still_appended() {
    let server = finished_api().await;
    let gate = Gate::new(&server.uri());
    let dotenv = gate.path("gate.env");
    std::fs::write(&dotenv, "STATUS=failed\nSTALE=from an earlier run\n").unwrap();
    let output = gate.path("output");
    std::fs::write(&output, "earlier=step\n").unwrap();
    let run = gate.env("MINTLIFY_DOTENV", &dotenv).run();
    run.assert_code(0);
    let report = run.file("gate.env").unwrap();
    assert!(report.starts_with("STATUS=completed\n"), "{report}");
    assert!(
        !report.contains("STALE") && !report.contains("failed"),
        "{report}"
    );
    assert!(run.file("output").unwrap().starts_with("earlier=step\n"));
    assert_eq!(run.outputs()["status"], "completed");
    // Nothing is left beside the report.
    let names: Vec<_> = std::fs::read_dir(run.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .filter(|name| name.to_string_lossy().contains(".tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[tokio::test]
async fn a_dotenv_report_in_the_runners_output_file_is_refused() {
    let server = finished_api().await;
    // The same file by another name, before and after the runner made it.
    for (dotenv, made) in [("output", false), ("./sub/../output", true)] {
        let gate = Gate::new(&server.uri()).current_dir();
        let output = gate.path("output");
        if made {
            std::fs::create_dir(gate.path("sub")).unwrap();
            std::fs::write(&output, "").unwrap();
        }
        let run = gate.env("MINTLIFY_DOTENV", dotenv).run();
        run.assert_code(2);
        run.assert_logged("MINTLIFY_DOTENV (or --dotenv) names the same file as GITHUB_OUTPUT");
        assert_eq!(run.file("output").unwrap_or_default(), "", "{dotenv}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn ids_stay_inside_their_path_segment() {
    let server = wiremock::MockServer::start().await;
    let run = Gate::new(&server.uri())
        .env("MINTLIFY_JOB_ID", "../../x?y#z")
        .run();
    run.assert_code(5);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].url.path(),
        "/v2/agent/proj_1/job/..%2F..%2Fx%3Fy%23z"
    );
    assert_eq!(requests[0].url.query(), None);
}

#[test]
fn help_and_version_need_no_settings() {
    let output = assert_cmd::Command::cargo_bin("mintlify-agent-gate")
        .unwrap()
        .env_clear()
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8(output.stdout).unwrap();
    for var in [
        "MINTLIFY_API_KEY",
        "MINTLIFY_JOB_ID",
        "MINTLIFY_TIMEOUT",
        "MINTLIFY_POLL_MAX",
        "MINTLIFY_LOG",
    ] {
        assert!(help.contains(var), "{var} missing from --help");
    }
    // A job id is required only where nothing else says what the run is about: its help names
    // each setting that does without one.
    let words = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let unless: Vec<&str> = words
        .split("--job-id <ID>")
        .nth(1)
        .and_then(|rest| rest.split("--prompt <TEXT>").next())
        .and_then(|entry| entry.split("required unless").nth(1))
        .expect("--help says when --job-id is required")
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .collect();
    for other in [
        "prompt",
        "deploy",
        "preview-branch",
        "deployment-id",
        "automation-id",
    ] {
        assert!(
            unless.contains(&other),
            "--job-id's help does not say {other} does without it: {unless:?}"
        );
    }
    let output = assert_cmd::Command::cargo_bin("mintlify-agent-gate")
        .unwrap()
        .env_clear()
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        concat!("mintlify-agent-gate ", env!("CARGO_PKG_VERSION"), "\n")
    );
}

/// Answers with a failed job whose `ref` is the value under test.
struct FailedWithRef(Arc<Mutex<String>>);

impl Respond for FailedWithRef {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut answer = job("failed", None);
        answer["source"]["ref"] = self.0.lock().unwrap().as_str().into();
        ok(answer)
    }
}

/// Hostile values made by proptest from a fixed seed: pieces of output syntax, workflow
/// commands, line breaks of every kind. Each must come back from `$GITHUB_OUTPUT` as one entry,
/// escaped for a person exactly as the log escapes it, and start no command.
#[tokio::test]
async fn no_generated_value_can_break_out_of_its_output() {
    const PIECES: [&str; 16] = [
        "\n",
        "\r",
        "\r\n",
        "=",
        "<<",
        "ghadelimiter_",
        "EOF",
        "::error::",
        "::add-mask::",
        "%0A",
        "é",
        "\u{2028}",
        "\u{85}",
        " ",
        "result=completed",
        "##[error]",
    ];
    let values =
        collection::vec(sample::select(PIECES.to_vec()), 1..=12).prop_map(|pieces| pieces.concat());
    let current = Arc::new(Mutex::new(String::new()));
    let server = wiremock::MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(JOB_PATH))
        .respond_with(FailedWithRef(Arc::clone(&current)))
        .mount(&server)
        .await;
    // Each case runs the binary: a modest number of them, the same ones on every run, and no
    // regression file written into the repository.
    let mut runner = TestRunner::new(Config {
        cases: 40,
        max_shrink_iters: 200,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x9e37_79b9_7f4a_7c15),
        ..Config::default()
    });
    let result = runner.run(&values, |value| {
        value.clone_into(&mut current.lock().unwrap());
        let run = Gate::new(&server.uri()).env("GITHUB_ACTIONS", "true").run();
        run.assert_code(1);
        let outputs = run.outputs();
        assert_eq!(outputs.len(), 10, "{value:?}");
        assert_eq!(
            (outputs["result"].as_str(), outputs["ref"].as_str()),
            ("failed", escaped(&value).as_str())
        );
        let printed: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
        assert_eq!(printed["source"]["ref"], value.as_str());
        assert_eq!(
            workflow_commands(&run.stderr).len(),
            1,
            "{value:?}:\n{}",
            run.stderr
        );
        assert!(workflow_commands(&run.stdout).is_empty());
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
