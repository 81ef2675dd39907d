//! SIGINT and SIGTERM end a run within a second, with its outputs written. Unix only: Windows
//! has no `kill`, and its Ctrl-C and Ctrl-Break reach a whole console, not one process.
#![cfg(unix)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

async fn cancel_with(signal: &str, expected_code: i32) {
    let server = api([ok(job("active", None))]).await;
    let (run, code) = cancelled(&server, signal, &[]).await;
    assert_eq!(code, Some(expected_code));
    let outputs = run.outputs();
    assert_eq!(
        (outputs["result"].as_str(), outputs["status"].as_str()),
        ("cancelled", "active")
    );
    run.assert_logged(&format!("cancelled by SIG{signal} (last status: active)"));
}

/// Runs the gate against `server`, sends `signal` once the server has seen a request, and
/// returns the run and its exit code.
async fn cancelled(
    server: &wiremock::MockServer,
    signal: &str,
    settings: &[(&str, &str)],
) -> (Run, Option<i32>) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("mintlify-agent-gate"))
        .env_clear()
        .env("MINTLIFY_API_KEY", KEY)
        .env("MINTLIFY_PROJECT_ID", PROJECT)
        .env("MINTLIFY_JOB_ID", JOB)
        .env("MINTLIFY_API_URL", server.uri())
        .env("MINTLIFY_POLL_INITIAL", "5s")
        .env("GITHUB_OUTPUT", dir.path().join("output"))
        .envs(settings.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Signal it while it waits between polls, once the job has been seen.
    let seen = Instant::now();
    while server.received_requests().await.unwrap().is_empty() {
        assert!(
            seen.elapsed() < Duration::from_secs(10),
            "the gate sent no request"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = exit_within(&mut child, Duration::from_secs(1));
    let output = child.wait_with_output().unwrap();
    (Run::new(output, dir), exited.code())
}

#[tokio::test]
async fn sigterm_exits_143_with_outputs() {
    cancel_with("TERM", 143).await;
}

#[tokio::test]
async fn sigint_exits_130_with_outputs() {
    cancel_with("INT", 130).await;
}

#[tokio::test]
async fn sigterm_during_a_create_says_a_job_may_exist() {
    let server = wiremock::MockServer::start().await;
    let slow = wiremock::ResponseTemplate::new(201).set_delay(Duration::from_mins(1));
    script(&server, "POST", "/v2/agent/proj_1/job", [slow]).await;
    let (run, code) = cancelled(
        &server,
        "TERM",
        &[("MINTLIFY_JOB_ID", ""), ("MINTLIFY_PROMPT", "Go")],
    )
    .await;
    assert_eq!(code, Some(143));
    assert_eq!(run.outputs()["result"], "cancelled");
    run.assert_logged(
        "cancelled by SIGTERM (last status: none); the request to create a job was in flight, so a job may or may not exist",
    );
}
