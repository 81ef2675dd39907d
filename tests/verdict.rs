//! The verdict against answers a real server, proxy or runner can produce: each class of
//! hostile or odd answer gets the binary, a local mock, and the outputs as the runner reads them.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_key_hidden_in_json_escapes_is_redacted_in_every_sink() {
    // `\u006d` is `m`: only decoding turns this into the key.
    let escaped_key = format!("\\u006d{}", &KEY[1..]);
    let body = format!(
        r#"{{"id":"job_1","status":"completed","prLink":"https://github.com/acme/docs/pull/7","source":{{"repository":"https://x/{escaped_key}","ref":"{escaped_key}"}},"note":"{escaped_key}"}}"#
    );
    let server = api([ResponseTemplate::new(200).set_body_raw(body, "application/json")]).await;
    let mut gate = Gate::new(&server.uri());
    let summary = gate.path("summary.md");
    // The relative dotenv path lands in the run's own directory, which is scanned for the key.
    gate.command.current_dir(gate.dir.path());
    let run = gate
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("MINTLIFY_DOTENV", "gate.env")
        .run();
    // Run::new has scanned stdout, stderr and every file written for the key.
    run.assert_code(0);
    assert_eq!(run.outputs()["ref"], "<redacted>");
    assert!(run.stdout.contains("<redacted>"), "{}", run.stdout);

    let refusal = format!(r#"{{"error":"key {escaped_key} expired"}}"#);
    let server = api([ResponseTemplate::new(401).set_body_raw(refusal, "application/json")]).await;
    let run = Gate::new(&server.uri()).env("GITHUB_ACTIONS", "true").run();
    run.assert_code(5);
    run.assert_logged("key <redacted> expired");
}

#[tokio::test]
async fn closed_stdout_and_stderr_lose_lines_not_outputs_or_the_verdict() {
    let server = finished_api().await;
    let gate = Gate::new(&server.uri()).env("GITHUB_ACTIONS", "true");
    let output = gate.path("output");
    let mut command =
        std::process::Command::new(assert_cmd::cargo::cargo_bin("mintlify-agent-gate"));
    command
        .env_clear()
        .envs(gate.command.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    // Both readers gone before the gate writes a line: every write meets a broken pipe.
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    let outputs = parse_github_output(&std::fs::read_to_string(output).unwrap());
    assert_eq!(outputs["result"], "completed");
}

#[cfg(unix)]
#[tokio::test]
async fn an_output_path_that_is_a_fifo_fails_fast_with_exit_7_and_an_error_annotation() {
    let server = finished_api().await;
    for variable in ["GITHUB_OUTPUT", "MINTLIFY_DOTENV"] {
        let gate = Gate::new(&server.uri()).env("GITHUB_ACTIONS", "true");
        let fifo = gate.fifo("fifo");
        let started = std::time::Instant::now();
        let run = gate.env(variable, &fifo).run();
        run.assert_code(7);
        assert!(started.elapsed() < Duration::from_secs(10));
        run.assert_logged("outputs not written");
        let commands = workflow_commands(&run.stderr);
        assert_eq!(commands.len(), 1, "{}", run.stderr);
        assert!(
            commands[0].starts_with("::error::outputs not written"),
            "{}",
            commands[0]
        );
    }
    // The step summary is a courtesy: a FIFO there is a warning, and the verdict stands.
    let gate = Gate::new(&server.uri());
    let fifo = gate.fifo("fifo");
    let run = gate.env("GITHUB_STEP_SUMMARY", &fifo).run();
    run.assert_code(0);
    run.assert_logged("step summary not written");
}

#[cfg(unix)]
#[test]
fn a_non_utf8_argument_is_refused_with_exit_2() {
    use std::os::unix::ffi::OsStrExt as _;
    let run = Gate::new("http://127.0.0.1:9")
        .arg(std::ffi::OsStr::from_bytes(b"--timeout=\xff"))
        .run();
    run.assert_code(2);
    assert!(
        run.stderr.starts_with("error: invalid UTF-8 was detected"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[tokio::test]
async fn a_json_array_is_not_a_job_whatever_it_holds() {
    let array = serde_json::json!([null, "completed", null, PR_LINK]);
    let server = api([ok(array)]).await;
    let run = Gate::new(&server.uri()).env("MINTLIFY_TIMEOUT", "2s").run();
    // Never a job until the deadline: not a timeout a pipeline may let pass, an API error.
    run.assert_code(5);
    assert_eq!(run.outputs()["pr_link"], "");
    run.assert_logged("the answer is JSON but not an object")
        .assert_logged("never with a job");
}

#[tokio::test]
async fn fields_of_the_wrong_type_are_absent_and_the_status_still_decides() {
    let body =
        r#"{"id":"job_1","status":"failed","prLink":5,"source":"text","createdAt":7,"x":1e999999}"#;
    let server = api([ResponseTemplate::new(200).set_body_raw(body, "application/json")]).await;
    let run = Gate::new(&server.uri()).run();
    run.assert_code(1);
    run.assert_logged("field prLink is not a string; read as absent")
        .assert_logged("field source is not an object; read as absent")
        .assert_logged("field createdAt is not a string; read as absent");
    assert_eq!(run.stderr.matches("field prLink").count(), 1);
    assert_eq!(run.outputs()["result"], "failed");
}

#[tokio::test]
async fn statuses_are_read_after_trimming_and_ignoring_case() {
    for (sent, code, result) in [(" COMPLETED", 0, "completed"), ("Failed\n", 1, "failed")] {
        let server = api([ok(job(sent, None))]).await;
        let run = Gate::new(&server.uri()).run();
        run.assert_code(code);
        assert_eq!(run.outputs()["status"], result);
        run.assert_logged("(whitespace or case differs)");
    }
}

#[tokio::test]
async fn an_answer_about_another_job_is_an_api_error() {
    let mut other = job("completed", Some(PR_LINK));
    other["id"] = "job_2".into();
    let server = api([ok(other)]).await;
    let run = Gate::new(&server.uri()).run();
    run.assert_code(5);
    let outputs = run.outputs();
    assert_eq!(
        (outputs["result"].as_str(), outputs["pr_link"].as_str()),
        ("api_error", "")
    );
    run.assert_logged("answered about job \"job_2\" when asked about job \"job_1\"");
}

#[tokio::test]
async fn only_a_real_link_counts_as_a_pr() {
    for link in [
        " ",
        "null",
        "javascript:alert(document.cookie)//https://github.com",
    ] {
        let server = api([ok(job("completed", Some(link)))]).await;
        let run = Gate::new(&server.uri())
            .env("MINTLIFY_REQUIRE_PR", "true")
            .run();
        run.assert_code(6);
        assert_eq!(run.outputs()["pr_link"], "", "{link:?}");
        run.assert_logged("read as no PR");
    }
}

#[tokio::test]
async fn a_huge_field_is_bounded_in_every_sink() {
    // Under the 1 MiB an answer may have, well over what any sink should take.
    let huge = format!("https://github.com/{}", "a".repeat(600_000));
    let mut answer = job("completed", Some(&huge));
    answer["source"]["ref"] = "r".repeat(300_000).into();
    let server = api([ok(answer)]).await;
    let gate = Gate::new(&server.uri()).env("GITHUB_ACTIONS", "true");
    let summary = gate.path("summary.md");
    let run = gate.env("GITHUB_STEP_SUMMARY", &summary).run();
    run.assert_code(0);
    assert!(run.stderr.len() < 4096, "{} bytes of log", run.stderr.len());
    assert!(
        run.stdout.len() < 4096,
        "{} bytes on stdout",
        run.stdout.len()
    );
    assert!(run.file("output").unwrap().len() < 4096);
    assert!(run.file("summary.md").unwrap().len() < 4096);
    run.assert_logged("field prLink is over 2048 characters")
        .assert_logged("field source.ref is over 256 characters")
        .assert_logged("stdout shows only the fields read");
}

#[tokio::test]
async fn invisible_characters_are_escaped_once_in_log_annotation_and_summary() {
    let server = api([
        ok(job("act\u{1b}[2Kive\u{202E}", None)),
        ok(job("completed", Some(PR_LINK))),
    ])
    .await;
    let gate = Gate::new(&server.uri()).env("GITHUB_ACTIONS", "true");
    let summary = gate.path("summary.md");
    let run = gate.env("GITHUB_STEP_SUMMARY", &summary).run();
    run.assert_code(0);
    run.assert_logged("status \"act\\u{1b}[2Kive\\u{202e}\" is unknown");
    assert!(!run.stderr.contains('\u{202E}') && !run.stderr.contains('\u{1b}'));
    let summary = run.file("summary.md").unwrap();
    assert!(!summary.contains('\u{202E}'), "{summary}");
}

#[tokio::test]
async fn retry_after_past_the_deadline_says_so() {
    let server = api([ResponseTemplate::new(429).insert_header("retry-after", "3600")]).await;
    let run = Gate::new(&server.uri()).env("MINTLIFY_TIMEOUT", "5s").run();
    run.assert_code(4);
    run.assert_logged("the API asked (Retry-After) to wait 1h00m before the next request, past the deadline of 5.0s");
}

// Windows answers a connect to a port nobody listens on only after about a second of retries,
// longer than these runs last.
#[cfg_attr(
    windows,
    ignore = "Windows retries a refused connect for about a second"
)]
#[test]
fn an_api_that_cannot_be_reached_is_named_as_such() {
    let refusing = refusing();
    let run = Gate::new(&refusing.url).env("MINTLIFY_TIMEOUT", "1s").run();
    run.assert_code(4);
    run.assert_logged("could not be reached in 1.0s")
        .assert_logged("check MINTLIFY_API_URL, DNS, the network and any HTTPS_PROXY");
}

#[tokio::test]
async fn refusals_of_the_configuration_name_the_input() {
    let server = finished_api().await;
    for (name, value, says) in [
        (
            "MINTLIFY_TIMEOUT",
            "9223372036854775807",
            "above the maximum of 5 days",
        ),
        (
            "MINTLIFY_REQUEST_TIMEOUT",
            "200h",
            "above the maximum of 5 days",
        ),
        ("MINTLIFY_POLL_INITIAL", "1ms", "under 1s"),
        ("SSL_CERT_FILE", "/no/such/bundle.pem", "cannot be read"),
    ] {
        let run = Gate::new(&server.uri())
            .env("MINTLIFY_API_URL", "https://api.example.com")
            .env("MINTLIFY_POLL_INITIAL", "1s")
            .env("MINTLIFY_POLL_MAX", "10s")
            .env(name, value)
            .run();
        run.assert_code(2);
        assert!(
            run.stderr.starts_with(&format!("error: {name}")) && run.stderr.contains(says),
            "{}",
            run.stderr
        );
        assert_eq!(run.file("output"), None);
    }
}

#[tokio::test]
async fn ids_are_trimmed_like_the_key() {
    let server = finished_api().await;
    let run = Gate::new(&server.uri())
        .env("MINTLIFY_JOB_ID", " job_1\n")
        .env("MINTLIFY_PROJECT_ID", "\tproj_1 ")
        .run();
    run.assert_code(0);
    assert_eq!(run.outputs()["job_id"], JOB);
}

#[tokio::test]
async fn an_id_that_is_no_id_makes_the_answer_untrusted() {
    for id in [
        serde_json::json!("x".repeat(300)),
        serde_json::json!(7),
        serde_json::json!(""),
    ] {
        let mut answer = job("completed", Some("https://github.com/evil/x/pull/9"));
        answer["id"] = id.clone();
        let server = api([ok(answer)]).await;
        let run = Gate::new(&server.uri()).run();
        run.assert_code(5);
        assert_eq!(run.outputs()["pr_link"], "", "{id}");
    }
}

#[tokio::test]
async fn legacy_workflow_commands_and_invisible_characters_are_defused_everywhere() {
    let mut answer = job("##[stop-commands]t0k", None);
    answer["model"] = "a\u{9b}31mRED\u{7f}\u{2028}x\u{200b}".into();
    let server = api([
        ok(answer),
        ResponseTemplate::new(400)
            .set_body_json(serde_json::json!({"error": "##[set-output name=result;]completed"})),
    ])
    .await;
    let run = Gate::new(&server.uri()).env("GITHUB_ACTIONS", "true").run();
    run.assert_code(5);
    for stream in [&run.stdout, &run.stderr] {
        assert!(!stream.contains("##["), "{stream}");
        assert!(
            !stream.contains(['\u{9b}', '\u{7f}', '\u{2028}', '\u{200b}']),
            "{stream}"
        );
    }
    run.assert_logged("##\\[stop-commands]t0k");
    let printed: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(printed["status"], "##[stop-commands]t0k");
}

#[tokio::test]
async fn a_key_echoed_cut_short_encoded_or_in_capitals_is_redacted() {
    let secret = &KEY["mint_".len()..];
    for echo in [
        format!("Invalid API key: {}", &KEY[..KEY.len() - 1]),
        format!("key {secret} rejected"),
        format!("key {} expired", KEY.replace('_', "%5F")),
        format!("KEY {}", KEY.to_uppercase()),
        format!("bad key \\u006d{}", &KEY[1..]),
        format!("key {} rejected", KEY.replace('_', "&#95")),
    ] {
        let server =
            api([ResponseTemplate::new(401).set_body_json(serde_json::json!({ "error": echo }))])
                .await;
        let run = Gate::new(&server.uri()).env("GITHUB_ACTIONS", "true").run();
        run.assert_code(5);
        run.assert_logged("<redacted>");
        for stream in [&run.stdout, &run.stderr] {
            assert!(
                !stream.to_lowercase().contains(&secret.to_lowercase()),
                "{stream}"
            );
        }
    }
}

#[test]
fn a_key_pasted_as_an_argument_is_never_echoed() {
    let run = Gate::new("http://127.0.0.1:9").args(&[KEY]).run();
    run.assert_code(2);
    run.assert_logged("looks like a Mintlify key");
    let run = Gate::new("http://127.0.0.1:9")
        .args(&["--timeout", KEY])
        .run();
    run.assert_code(2);
    run.assert_logged("<redacted>");
}

#[tokio::test]
async fn a_stray_byte_a_bom_or_a_duplicate_status_never_passes_a_failed_job() {
    let latin1 = b"{\"id\":\"job_1\",\"status\":\"failed\",\"model\":\"caf\xe9\"}".to_vec();
    let bom = b"\xef\xbb\xbf{\"id\":\"job_1\",\"status\":\"failed\"}".to_vec();
    for body in [latin1, bom] {
        let server = api([ResponseTemplate::new(200).set_body_raw(body, "application/json")]).await;
        Gate::new(&server.uri()).run().assert_code(1);
    }
    let twice = r#"{"id":"job_1","status":"failed","status":"completed"}"#;
    let server = api([ResponseTemplate::new(200).set_body_raw(twice, "application/json")]).await;
    let run = Gate::new(&server.uri()).env("MINTLIFY_TIMEOUT", "2s").run();
    run.assert_code(5);
    run.assert_logged("the answer gives status twice");
}

#[tokio::test]
async fn the_dotenv_report_stays_under_gitlabs_cap() {
    let mut answer = job(
        "completed",
        Some(&format!("https://github.com/{}", "中".repeat(600))),
    );
    answer["source"]["repository"] = "\u{202e}".repeat(300).into();
    answer["source"]["ref"] = "中".repeat(80).into();
    let server = api([ok(answer)]).await;
    let run = Gate::new(&server.uri())
        .env("MINTLIFY_DOTENV", "gate.env")
        .current_dir()
        .run();
    run.assert_code(0);
    let dotenv = run.file("gate.env").unwrap();
    assert!(dotenv.len() < 5120, "{} bytes", dotenv.len());
    run.assert_logged("output repository is over 1024 bytes once escaped");
}

#[test]
fn a_stalled_server_is_not_called_unreachable() {
    let (url, _connections) = stalled_server();
    let run = Gate::new(&url).env("MINTLIFY_TIMEOUT", "500ms").run();
    run.assert_code(4);
    run.assert_logged("has no final status after 500ms");
    assert!(
        !run.stderr.contains("could not be reached"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_pr_link_cannot_carry_a_legacy_command_into_the_verdict() {
    let link = "https://github.com/acme/docs/pull/7##[error]pwned";
    let server = api([ok(job("completed", Some(link)))]).await;
    let run = Gate::new(&server.uri()).env("GITHUB_ACTIONS", "true").run();
    run.assert_code(0);
    assert_eq!(run.outputs()["pr_link"], link);
    assert!(!run.stderr.contains("##["), "{}", run.stderr);
    run.assert_logged("completed, PR https://github.com/acme/docs/pull/7##\\[error]pwned");
}

#[tokio::test]
async fn a_key_pasted_into_another_setting_never_reaches_an_output_file() {
    let mut answer = job("completed", None);
    answer["id"] = serde_json::Value::Null;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ok(answer))
        .mount(&server)
        .await;
    let gate = Gate::new(&server.uri())
        .env("MINTLIFY_JOB_ID", KEY)
        .env("MINTLIFY_DOTENV", "gate.env")
        .env("GITHUB_ACTIONS", "true")
        .current_dir();
    let summary = gate.path("summary.md");
    // Run::new scans stdout, stderr and every file for the key.
    let run = gate.env("GITHUB_STEP_SUMMARY", &summary).run();
    run.assert_code(0);
    assert_eq!(run.outputs()["job_id"], "<redacted>");
}

#[tokio::test]
async fn a_stderr_nobody_reads_cannot_hold_the_run_past_its_deadline() {
    let words = "x".repeat(300);
    let server = api([ResponseTemplate::new(503).set_body_string(words)]).await;
    let gate = Gate::new(&server.uri())
        .env("MINTLIFY_TIMEOUT", "3s")
        .env("MINTLIFY_POLL_MAX", "10ms");
    let output = gate.path("output");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mintlify-agent-gate"))
        .env_clear()
        .envs(gate.command.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .stdout(Stdio::null())
        // Piped and never read: about 100 KB of warnings fill the pipe long before the deadline.
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = exit_within(&mut child, Duration::from_secs(15));
    assert_eq!(status.code(), Some(4));
    let outputs = parse_github_output(&std::fs::read_to_string(output).unwrap());
    assert_eq!(outputs["result"], "timeout");
}

#[tokio::test]
async fn an_answer_too_deep_to_read_is_never_a_pass() {
    let deep = format!(
        r#"{{"id":"job_1","status":"failed","x":{}{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let server = api([ResponseTemplate::new(200).set_body_raw(deep, "application/json")]).await;
    let run = Gate::new(&server.uri()).env("MINTLIFY_TIMEOUT", "2s").run();
    run.assert_code(5);
    run.assert_logged("never with a job");
}

#[test]
fn a_key_that_is_not_ascii_is_refused_without_a_panic_or_an_echo() {
    let run = Gate::new("http://127.0.0.1:9")
        .env("MINTLIFY_API_KEY", "mint_S3cr3tK3yé")
        .arg("mint_S3cr3tK3yè")
        .run();
    run.assert_code(2);
    assert!(!run.stderr.contains("S3cr3tK3y"), "{}", run.stderr);
}

#[cfg(unix)]
#[tokio::test]
async fn an_output_path_that_is_not_utf8_is_used_as_it_is() {
    use std::os::unix::ffi::OsStrExt as _;
    let server = finished_api().await;
    let gate = Gate::new(&server.uri());
    let raw = gate.path(std::ffi::OsStr::from_bytes(b"out\xff"));
    let run = gate.env("GITHUB_OUTPUT", &raw).run();
    run.assert_code(0);
    let written = std::fs::read_to_string(&raw).expect("nothing at the path as given");
    assert_eq!(parse_github_output(&written)["result"], "completed");
}

#[tokio::test]
async fn a_lone_surrogate_escape_hides_no_status() {
    // What Node's JSON.stringify writes for a string cut inside an emoji.
    let body = format!(
        r#"{{"id":"job_1","status":"completed","prLink":"{PR_LINK}","model":"cut \ud83c","x":["\udf89"]}}"#
    );
    let server = api([ResponseTemplate::new(200).set_body_raw(body, "application/json")]).await;
    let run = Gate::new(&server.uri()).run();
    run.assert_code(0);
    assert_eq!(run.outputs()["pr_link"], PR_LINK);
    assert!(
        !run.stderr.contains("could not be decoded"),
        "{}",
        run.stderr
    );

    // In a field that is read: the link is no PR, with one warning, and the status still holds.
    let body = format!(r#"{{"id":"job_1","status":"completed","prLink":"{PR_LINK}\ud83c"}}"#);
    let server = api([ResponseTemplate::new(200).set_body_raw(body, "application/json")]).await;
    let run = Gate::new(&server.uri())
        .env("MINTLIFY_REQUIRE_PR", "true")
        .run();
    run.assert_code(6);
    assert_eq!(run.outputs()["pr_link"], "");
    assert_eq!(
        run.stderr.matches("could not be decoded").count(),
        1,
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_status_with_a_lone_surrogate_is_no_status_and_never_a_timeout() {
    let body = r#"{"id":"job_1","status":"completed\ud83c"}"#;
    let server = api([ResponseTemplate::new(200).set_body_raw(body, "application/json")]).await;
    let run = Gate::new(&server.uri()).env("MINTLIFY_TIMEOUT", "1s").run();
    // Exit 4 would read as "slow", and some CI lets a timeout pass.
    run.assert_code(5);
    run.assert_logged(
        "never with a job (the answer's status holds a character that could not be decoded",
    );
    assert_eq!(run.outputs()["result"], "api_error");
}

#[tokio::test]
async fn a_pr_link_with_userinfo_is_no_pr() {
    for link in [
        "https://github.com@evil.example/acme/docs/pull/7",
        "https://user:pw@github.com/acme/docs/pull/7",
    ] {
        let server = api([ok(job("completed", Some(link)))]).await;
        let run = Gate::new(&server.uri())
            .env("MINTLIFY_REQUIRE_PR", "true")
            .run();
        run.assert_code(6);
        assert_eq!(run.outputs()["pr_link"], "", "{link}");
        run.assert_logged("prLink holds a user name or password before its host");
    }
}

#[tokio::test]
async fn a_pr_link_that_url_readers_read_differently_is_no_pr() {
    for link in [
        "https://github.com\\@evil.example/acme/docs/pull/7",
        "https://@evil.example/acme/docs/pull/7",
        "https://:@evil.example/acme/docs/pull/7",
        "https:github.com/acme/docs/pull/7",
        "https:/github.com/acme/docs/pull/7",
        "https:///github.com/acme/docs/pull/7",
        "https://github.com/acme/docs/pull/7\u{034F}",
        "https://github.com/acme/docs/pull/7\u{3164}",
        "https://github.com/acme/docs/pull/7\u{115F}",
        "https://github.com/acme/docs/pull/7\u{FFFC}",
    ] {
        let server = api([ok(job("completed", Some(link)))]).await;
        let gate = Gate::new(&server.uri()).env("MINTLIFY_REQUIRE_PR", "true");
        let dotenv = gate.path("gate.env");
        let run = gate.env("MINTLIFY_DOTENV", &dotenv).run();
        run.assert_code(6);
        assert_eq!(run.outputs()["pr_link"], "", "{link:?}");
        run.assert_logged("read as no PR");
        assert!(!run.file("gate.env").unwrap().contains("evil"), "{link:?}");
    }
    // A host that reads as one and leads to another.
    let link = "https://g\u{0456}thub.com/acme/docs/pull/7";
    let server = api([ok(job("completed", Some(link)))]).await;
    let run = Gate::new(&server.uri())
        .env("MINTLIFY_REQUIRE_PR", "true")
        .run();
    run.assert_code(6);
    run.assert_logged("prLink's host is not written as URL readers read it");
}

/// The text with the characters no one sees taken out, as a reader (or a program) takes it.
fn as_read(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\u{200b}' | '\u{034F}' | '\u{2060}'))
        .collect::<String>()
        .replace("\\u200b", "")
        .replace("\\u034f", "")
        .replace("\\u{200b}", "")
        .replace("\\u{34f}", "")
}

#[tokio::test]
async fn a_key_split_by_invisible_characters_is_redacted_in_every_sink() {
    let secret = &KEY["mint_".len()..];
    let split = format!(
        "mint_{}\u{200b}{}\u{034F}{}\u{2060}{}",
        &secret[..5],
        &secret[5..10],
        &secret[10..15],
        &secret[15..]
    );
    let mut answer = job("completed", Some(PR_LINK));
    answer["source"] = serde_json::json!({ "repository": "acme/docs", "ref": split });
    answer["note"] = serde_json::json!(format!("key {split} seen"));
    let server = api([ok(answer)]).await;
    let gate = Gate::new(&server.uri()).env("GITHUB_ACTIONS", "true");
    let dotenv = gate.path("gate.env");
    let run = gate.env("MINTLIFY_DOTENV", &dotenv).run();
    run.assert_code(0);
    assert_eq!(run.outputs()["ref"], "<redacted>");
    let dotenv = run.file("gate.env").unwrap();
    for (sink, text) in [
        ("stdout", &run.stdout),
        ("stderr", &run.stderr),
        ("dotenv", &dotenv),
    ] {
        let read = as_read(text);
        assert!(!read.contains(&secret[4..]), "the key is in {sink}: {text}");
    }
}

#[tokio::test]
async fn characters_drawn_as_nothing_never_reach_an_output_raw() {
    let mut answer = job("completed", Some(PR_LINK));
    answer["source"] = serde_json::json!({ "repository": "acme/\u{034F}docs\u{3164}\u{2800}", "ref": "main\u{FE0F}" });
    let server = api([ok(answer)]).await;
    let gate = Gate::new(&server.uri());
    let dotenv = gate.path("gate.env");
    let run = gate.env("MINTLIFY_DOTENV", &dotenv).run();
    run.assert_code(0);
    let outputs = run.outputs();
    let dotenv = run.file("gate.env").unwrap();
    for (sink, text) in [
        ("repository", &outputs["repository"]),
        ("ref", &outputs["ref"]),
        ("dotenv", &dotenv),
        ("stdout", &run.stdout),
    ] {
        assert!(
            !text.contains(['\u{034F}', '\u{3164}', '\u{2800}', '\u{FE0F}']),
            "{sink}: {text:?}"
        );
    }
    assert_eq!(outputs["repository"], "acme/\\u{34f}docs\\u{3164}\\u{2800}");
}
