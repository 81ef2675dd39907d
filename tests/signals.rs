//! SIGINT, SIGTERM and SIGHUP end a run within a second, with its outputs written; a signal
//! while the settings are read still cancels the run, and one while the report is written
//! leaves it whole; a signal ignored when the gate started stays ignored. Unix only: Windows has no `kill`, and its Ctrl-C and Ctrl-Break reach a
//! whole console, not one process.
#![cfg(unix)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// What the log says once the job's first answer was read.
const ACTIVE: &str = ": active";

async fn cancel_with(signal: &str, expected_code: i32) {
    let server = api([ok(job("active", None))]).await;
    let (run, code) = cancelled(&server, &[signal], &[], &[], Some(ACTIVE)).await;
    assert_eq!(code, Some(expected_code));
    let outputs = run.outputs();
    assert_eq!(
        (outputs["result"].as_str(), outputs["status"].as_str()),
        ("cancelled", "active")
    );
    run.assert_logged(&format!("cancelled by SIG{signal} (last status: active)"));
}

/// Runs the gate against `server` (through the command `under`, if any: `nohup`), sends
/// `signals` in turn once the server has seen a request and, if `seen` is given, once the gate
/// has logged it (the answer read, not only sent), and returns the run and its exit code. A
/// setting in `settings` given as "" is unset.
async fn cancelled(
    server: &wiremock::MockServer,
    signals: &[&str],
    settings: &[(&str, &str)],
    under: &[&str],
    seen: Option<&str>,
) -> (Run, Option<i32>) {
    let dir = tempfile::tempdir().unwrap();
    let gate = assert_cmd::cargo::cargo_bin("mintlify-agent-gate");
    let mut command = match under.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(gate);
            command
        }
        None => Command::new(gate),
    };
    command
        .env_clear()
        .env("MINTLIFY_API_KEY", KEY)
        .env("MINTLIFY_PROJECT_ID", PROJECT)
        .env("MINTLIFY_JOB_ID", JOB)
        .env("MINTLIFY_API_URL", server.uri())
        .env("MINTLIFY_POLL_INITIAL", "5s")
        .env("GITHUB_OUTPUT", dir.path().join("output"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in settings {
        if value.is_empty() {
            command.env_remove(name);
        } else {
            command.env(name, value);
        }
    }
    let mut child = command.spawn().unwrap();
    // stderr is read as it comes, so the test knows when an answer has been read.
    let stderr = child.stderr.take().unwrap();
    let (lines, logged) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
            let Ok(line) = line else { break };
            all.push_str(&line);
            all.push('\n');
            let _ = lines.send(line);
        }
        all
    });
    // Signal it while it waits between polls, once the request was sent and its answer read:
    // the server seeing the request says nothing about when the gate reads the answer.
    let started = Instant::now();
    let in_time = || started.elapsed() < Duration::from_secs(10);
    while server.received_requests().await.unwrap().is_empty() {
        assert!(in_time(), "the gate sent no request");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if let Some(seen) = seen {
        loop {
            match logged.try_recv() {
                Ok(line) if line.contains(seen) => break,
                Ok(_) => {}
                Err(_) => {
                    assert!(in_time(), "the gate never logged {seen:?}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
    for signal in signals {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
    let exited = exit_within(&mut child, Duration::from_secs(1));
    let mut output = child.wait_with_output().unwrap();
    output.stderr = reader.join().unwrap().into_bytes();
    (Run::new(output, dir), exited.code())
}

#[tokio::test]
async fn sigterm_exits_143_with_outputs() {
    cancel_with("TERM", 143).await;
}

#[tokio::test]
async fn sighup_exits_129_with_outputs() {
    cancel_with("HUP", 129).await;
}

/// `nohup` starts the gate with SIGHUP ignored: it stays ignored, and the run goes on until a
/// SIGTERM cancels it.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn under_nohup_sighup_stays_ignored() {
    let server = api([ok(job("active", None))]).await;
    let (run, code) = cancelled(&server, &["HUP", "TERM"], &[], &["nohup"], Some(ACTIVE)).await;
    assert_eq!(code, Some(143), "{}", run.stderr);
    run.assert_logged("cancelled by SIGTERM (last status: active)");
}

/// A script that starts the gate with SIGINT ignored (as `&` in a script does) gets it ignored
/// still; a SIGTERM cancels the run.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn started_with_sigint_ignored_it_stays_ignored() {
    let server = api([ok(job("active", None))]).await;
    let ignoring = ["sh", "-c", "trap '' INT; exec \"$0\""];
    let (run, code) = cancelled(&server, &["INT", "TERM"], &[], &ignoring, Some(ACTIVE)).await;
    assert_eq!(code, Some(143), "{}", run.stderr);
    run.assert_logged("cancelled by SIGTERM (last status: active)");
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
        &["TERM"],
        &[("MINTLIFY_JOB_ID", ""), ("MINTLIFY_PROMPT", "Go")],
        &[],
        None,
    )
    .await;
    assert_eq!(code, Some(143));
    assert_eq!(run.outputs()["result"], "cancelled");
    run.assert_logged(
        "cancelled by SIGTERM (last status: none); the request to create a job was in flight, so a job may or may not exist",
    );
}

/// Runs `gate` under strace, which sends `signal` to the gate as it enters its first `syscall`
/// on `path`: a signal at an exact point of the run, with nothing left to timing. None where
/// strace is missing or cannot trace (outside CI only: in CI the test must run).
#[cfg(target_os = "linux")]
fn signalled_at(
    gate: Gate,
    syscall: &str,
    path: Option<&std::path::Path>,
    signal: &str,
) -> Option<Run> {
    let traces = Command::new("strace")
        .args(["-o", "/dev/null", "true"])
        .status()
        .is_ok_and(|status| status.success());
    if !traces {
        assert!(
            std::env::var_os("CI").is_none(),
            "strace is needed for this test in CI"
        );
        eprintln!("skipped: strace is not installed or cannot trace here");
        return None;
    }
    let mut command = assert_cmd::Command::new("strace");
    command
        .args(["-o", "/dev/null", "-qq", "-f"])
        .args(
            path.map(|path| [std::ffi::OsStr::new("-P"), path.as_os_str()])
                .into_iter()
                .flatten(),
        )
        .args(["-e", &format!("trace={syscall}")])
        .args(["-e", &format!("inject={syscall}:signal={signal}:when=1")])
        .arg("--")
        .arg(gate.command.get_program())
        .env_clear()
        .timeout(Duration::from_secs(30));
    for (name, value) in gate.command.get_envs() {
        if let Some(value) = value {
            command.env(name, value);
        }
    }
    let output = command.output().unwrap();
    Some(Run::new(output, gate.dir))
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_signal_while_the_settings_are_read_cancels_the_run_before_any_request() {
    let server = wiremock::MockServer::start().await;
    let gate = Gate::new(&server.uri()).unset("MINTLIFY_JOB_ID");
    let prompt = gate.path("prompt.md");
    std::fs::write(&prompt, "Document the new flag").unwrap();
    let gate = gate.env("MINTLIFY_PROMPT_FILE", &prompt);
    let Some(run) = signalled_at(gate, "openat", Some(&prompt), "TERM") else {
        return;
    };
    run.assert_code(143)
        .assert_logged("cancelled by SIGTERM (last status: none)");
    assert!(!run.stderr.contains("in flight"), "{}", run.stderr);
    assert_eq!(run.outputs()["result"], "cancelled");
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// The signal lands as the report writes `$GITHUB_OUTPUT`, then as it puts the dotenv report in
/// place (when one is written and the other is not yet): either way both are written in full,
/// and the exit code is the verdict's.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_signal_while_the_report_is_written_leaves_it_whole_and_its_verdict_standing() {
    let server = finished_api().await;
    // strace names a rename by the path it renames from, which is drawn at random: the report's
    // is the only rename a run makes.
    for (file, syscall) in [
        (Some("output"), "write"),
        (None, "rename,renameat,renameat2"),
    ] {
        let gate = Gate::new(&server.uri());
        let dotenv = gate.path("report.env");
        let gate = gate.env("MINTLIFY_DOTENV", &dotenv);
        let path = file.map(|file| gate.path(file));
        let Some(run) = signalled_at(gate, syscall, path.as_deref(), "TERM") else {
            return;
        };
        run.assert_code(0).assert_logged(
            "SIGTERM while the report was being written: it is written in full, and the exit code is its verdict's",
        );
        let outputs = run.outputs();
        assert_eq!(
            (outputs["result"].as_str(), outputs["pr_link"].as_str()),
            ("completed", PR_LINK)
        );
        let dotenv = run.file("report.env").expect("no dotenv report");
        assert!(dotenv.contains("RESULT=completed\n"), "{dotenv}");
        // Written in full: to its last entry.
        assert!(dotenv.contains("REF=main\n"), "{dotenv}");
        assert!(dotenv.ends_with("AUTOMATION_RUN_ID=\n"), "{dotenv}");
    }
}

#[tokio::test]
async fn a_signal_while_a_deployment_is_waited_on_reports_its_last_status() {
    let server = wiremock::MockServer::start().await;
    let building = serde_json::json!({ "_id": "st_1", "status": "in_progress" });
    script(
        &server,
        "GET",
        "/v1/project/update-status/st_1",
        [ok(building)],
    )
    .await;
    let settings = [("MINTLIFY_JOB_ID", ""), ("MINTLIFY_DEPLOYMENT_ID", "st_1")];
    let (run, code) = cancelled(
        &server,
        &["TERM"],
        &settings,
        &[],
        Some("st_1: in_progress"),
    )
    .await;
    assert_eq!(code, Some(143));
    run.assert_logged("deployment st_1: cancelled by SIGTERM (last status: in_progress)");
    let outputs = run.outputs();
    assert_eq!(
        (
            outputs["result"].as_str(),
            outputs["deployment_id"].as_str(),
            outputs["deployment_status"].as_str()
        ),
        ("cancelled", "st_1", "in_progress")
    );
}
