//! Starting the agent from CI: a create or a follow-up, then the same wait. A POST that may
//! have reached the server is never sent twice.

mod common;

use std::time::{Duration, Instant};

use common::*;
use wiremock::{MockServer, ResponseTemplate};

const CREATE_PATH: &str = "/v2/agent/proj_1/job";
const NEW_JOB_PATH: &str = "/v2/agent/proj_1/job/job_new";
const MESSAGE_PATH: &str = "/v2/agent/proj_1/job/job_1/message";
const PR: &str = "https://github.com/acme/docs/pull/9";

fn created() -> ResponseTemplate {
    let mut body = job("active", None);
    body["id"] = "job_new".into();
    ResponseTemplate::new(201).set_body_json(body)
}

fn new_job(status: &str, pr: Option<&str>) -> ResponseTemplate {
    let mut body = job(status, pr);
    body["id"] = "job_new".into();
    ok(body)
}

/// A mock where creating answers `create` and the new job then completes with a PR.
async fn creating(create: impl IntoIterator<Item = ResponseTemplate>) -> MockServer {
    let server = MockServer::start().await;
    script(&server, "POST", CREATE_PATH, create).await;
    script(
        &server,
        "GET",
        NEW_JOB_PATH,
        [new_job("active", None), new_job("completed", Some(PR))],
    )
    .await;
    server
}

fn gate_with_prompt(server: &MockServer, prompt: &str) -> Gate {
    Gate::new(&server.uri())
        .unset("MINTLIFY_JOB_ID")
        .env("MINTLIFY_PROMPT", prompt)
}

fn sent_prompt(request: &wiremock::Request) -> String {
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    body["prompt"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn create_then_wait_to_completed() {
    let server = creating([created()]).await;
    let run = gate_with_prompt(&server, "Document the new endpoint").run();
    run.assert_code(0);
    let outputs = run.outputs();
    assert_eq!(outputs["job_id"], "job_new");
    assert_eq!(outputs["result"], "completed");
    assert_eq!(outputs["pr_link"], PR);
    let posts = received(&server, "POST", CREATE_PATH).await;
    assert_eq!(posts.len(), 1);
    assert_eq!(sent_prompt(&posts[0]), "Document the new endpoint");
    assert_eq!(posts[0].headers["content-type"], "application/json");
    run.assert_logged("job job_new: created from a prompt of 25 characters");
    assert_eq!(received(&server, "GET", NEW_JOB_PATH).await.len(), 2);
}

#[tokio::test]
async fn follow_up_then_wait_to_failed() {
    let server = api([ok(job("active", None)), ok(job("failed", None))]).await;
    script(&server, "POST", MESSAGE_PATH, [ok(job("active", None))]).await;
    let run = Gate::new(&server.uri())
        .env("MINTLIFY_PROMPT", "Also cover the CLI")
        .run();
    run.assert_code(1);
    let outputs = run.outputs();
    assert_eq!(
        (outputs["job_id"].as_str(), outputs["result"].as_str()),
        (JOB, "failed")
    );
    let posts = received(&server, "POST", MESSAGE_PATH).await;
    assert_eq!(posts.len(), 1);
    assert_eq!(sent_prompt(&posts[0]), "Also cover the CLI");
    run.assert_logged("job job_1: follow-up sent");
}

#[tokio::test]
async fn wait_false_starts_and_reports_without_waiting() {
    let server = creating([created()]).await;
    let run = gate_with_prompt(&server, "Go")
        .env("MINTLIFY_WAIT", "false")
        .run();
    run.assert_code(0);
    let outputs = run.outputs();
    assert_eq!(outputs["job_id"], "job_new");
    assert_eq!(outputs["status"], "active");
    assert_eq!(outputs["result"], "started");
    assert!(
        received(&server, "GET", NEW_JOB_PATH).await.is_empty(),
        "it waited"
    );
}

#[tokio::test]
async fn rate_limited_then_created_makes_one_job() {
    let limited = ResponseTemplate::new(429).insert_header("retry-after", "1");
    let server = creating([limited, created()]).await;
    let started = Instant::now();
    let run = gate_with_prompt(&server, "Go").run();
    run.assert_code(0);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!(received(&server, "POST", CREATE_PATH).await.len(), 2);
    assert_eq!(run.outputs()["job_id"], "job_new");
}

#[tokio::test]
async fn unavailable_then_created_is_retried() {
    let server = creating([ResponseTemplate::new(503), created()]).await;
    let run = gate_with_prompt(&server, "Go").run();
    run.assert_code(0);
    assert_eq!(received(&server, "POST", CREATE_PATH).await.len(), 2);
}

#[tokio::test]
async fn a_server_error_on_create_is_sent_once_and_reported_as_uncertain() {
    for status in [500, 502, 504] {
        let server = creating([ResponseTemplate::new(status), created()]).await;
        let run = gate_with_prompt(&server, "Go").run();
        run.assert_code(5);
        assert_eq!(
            received(&server, "POST", CREATE_PATH).await.len(),
            1,
            "HTTP {status} was retried"
        );
        run.assert_logged("a job may or may not exist");
        let outputs = run.outputs();
        assert_eq!(
            (outputs["result"].as_str(), outputs["job_id"].as_str()),
            ("api_error", "")
        );
    }
}

#[tokio::test]
async fn a_timeout_on_create_is_sent_once() {
    let server = creating([created().set_delay(Duration::from_secs(5))]).await;
    let run = gate_with_prompt(&server, "Go")
        .env("MINTLIFY_REQUEST_TIMEOUT", "300ms")
        .run();
    run.assert_code(5);
    assert_eq!(received(&server, "POST", CREATE_PATH).await.len(), 1);
    run.assert_logged("no answer within MINTLIFY_REQUEST_TIMEOUT");
}

#[tokio::test]
async fn a_create_in_flight_at_the_deadline_is_reported_as_uncertain() {
    let server = creating([created().set_delay(Duration::from_secs(30))]).await;
    let run = gate_with_prompt(&server, "Go")
        .env("MINTLIFY_TIMEOUT", "500ms")
        .run();
    run.assert_code(5);
    run.assert_logged("no answer before the deadline");
    run.assert_logged("may or may not exist");
}

#[tokio::test]
async fn a_follow_up_that_may_have_been_sent_is_not_sent_again() {
    let server = api([ok(job("active", None))]).await;
    script(
        &server,
        "POST",
        MESSAGE_PATH,
        [ResponseTemplate::new(500), ok(job("active", None))],
    )
    .await;
    let run = Gate::new(&server.uri())
        .env("MINTLIFY_PROMPT", "More")
        .run();
    run.assert_code(5);
    assert_eq!(received(&server, "POST", MESSAGE_PATH).await.len(), 1);
    run.assert_logged("the follow-up to job \"job_1\" may or may not have reached Mintlify");
}

// Windows answers a connect to a port nobody listens on only after about a second of retries,
// longer than these runs last.
#[cfg_attr(
    windows,
    ignore = "Windows retries a refused connect for about a second"
)]
#[test]
fn a_create_that_never_connects_is_retried_until_the_deadline() {
    let nothing = refusing();
    let run = Gate::new(&nothing.url)
        .unset("MINTLIFY_JOB_ID")
        .env("MINTLIFY_PROMPT", "Go")
        .env("MINTLIFY_TIMEOUT", "300ms")
        .run();
    run.assert_code(4);
    assert!(
        run.stderr
            .matches("creating a job: the request failed")
            .count()
            >= 2,
        "{}",
        run.stderr
    );
    drop(nothing);
}

/// The premise of the test above: the address refuses at once, rather than hanging or being
/// answered by whichever server got the port.
#[test]
fn the_address_where_nothing_answers_refuses_a_connect() {
    let nothing = refusing();
    let address = nothing.url.strip_prefix("http://").unwrap();
    for _ in 0..3 {
        let error = std::net::TcpStream::connect(address).unwrap_err();
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::ConnectionRefused,
            "{error}"
        );
    }
    // Nothing else can take the port while it is held, not even a SO_REUSEADDR listener.
    assert!(std::net::TcpListener::bind(address).is_err());
}

#[tokio::test]
async fn a_bad_request_is_permanent() {
    let refused =
        ResponseTemplate::new(400).set_body_json(serde_json::json!({"error": "prompt too long"}));
    let server = creating([refused, created()]).await;
    let run = gate_with_prompt(&server, "Go").run();
    run.assert_code(5);
    run.assert_logged("HTTP 400: prompt too long");
    assert_eq!(received(&server, "POST", CREATE_PATH).await.len(), 1);
}

#[tokio::test]
async fn a_multi_line_prompt_file_is_sent_unchanged() {
    let server = creating([created()]).await;
    let gate = Gate::new(&server.uri()).unset("MINTLIFY_JOB_ID");
    let prompt = "Update the docs for this change.\n\n```diff\n-  old: \"1\"\n+  new: \"2\"\n```\r\n\tIndented, with a trailing newline and é.\n";
    let file = gate.path("prompt.md");
    std::fs::write(&file, prompt).unwrap();
    let run = gate.env("MINTLIFY_PROMPT_FILE", &file).run();
    run.assert_code(0);
    let posts = received(&server, "POST", CREATE_PATH).await;
    assert_eq!(sent_prompt(&posts[0]), prompt);
}

#[tokio::test]
async fn a_bad_prompt_is_refused_before_any_request() {
    let server = creating([created()]).await;
    let gate = Gate::new(&server.uri()).env("MINTLIFY_PROMPT", "x");
    let file = gate.path("prompt.md");
    std::fs::write(&file, "y").unwrap();
    let run = gate.env("MINTLIFY_PROMPT_FILE", &file).run();
    run.assert_code(2);
    run.assert_logged("both a prompt and a prompt file are given");
    let run = gate_with_prompt(&server, " \n ").run();
    run.assert_code(2);
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_create_answered_with_only_an_id_is_waited_on() {
    let only_id = ResponseTemplate::new(201).set_body_json(serde_json::json!({"id": "job_new"}));
    let server = creating([only_id]).await;
    let run = gate_with_prompt(&server, "x").run();
    run.assert_code(0);
    let outputs = run.outputs();
    assert_eq!(
        (outputs["job_id"].as_str(), outputs["pr_link"].as_str()),
        ("job_new", PR)
    );
    run.assert_logged("created from a prompt of 1 character");
}

#[tokio::test]
async fn a_404_right_after_a_create_is_waited_out() {
    let server = MockServer::start().await;
    script(&server, "POST", CREATE_PATH, [created()]).await;
    let not_yet =
        ResponseTemplate::new(404).set_body_json(serde_json::json!({"error": "Job not found"}));
    script(
        &server,
        "GET",
        NEW_JOB_PATH,
        [not_yet.clone(), not_yet, new_job("completed", Some(PR))],
    )
    .await;
    let run = gate_with_prompt(&server, "Go").run();
    run.assert_code(0);
    run.assert_logged("job \"job_new\" is not readable yet (HTTP 404)");
    assert_eq!(received(&server, "GET", NEW_JOB_PATH).await.len(), 3);
}

#[tokio::test]
async fn after_a_follow_up_the_old_final_status_does_not_pass_the_gate() {
    const OLD_PR: &str = "https://github.com/acme/docs/pull/1";
    let server = api([
        ok(job("completed", Some(OLD_PR))),
        ok(job("active", None)),
        ok(job("completed", Some(PR))),
    ])
    .await;
    script(
        &server,
        "POST",
        MESSAGE_PATH,
        [ok(job("completed", Some(OLD_PR)))],
    )
    .await;
    let run = Gate::new(&server.uri())
        .env("MINTLIFY_PROMPT", "Also cover the CLI")
        .run();
    run.assert_code(0);
    assert_eq!(run.outputs()["pr_link"], PR);
    assert_eq!(received(&server, "GET", JOB_PATH).await.len(), 3);
    run.assert_logged("not yet active since the follow-up");
}

#[tokio::test]
async fn not_waiting_still_reports_a_start_answered_with_a_failure() {
    for (status, code) in [("failed", 1), ("archived", 3)] {
        let mut answer = job(status, None);
        answer["id"] = "job_new".into();
        let server = creating([ResponseTemplate::new(201).set_body_json(answer)]).await;
        let run = gate_with_prompt(&server, "Go")
            .env("MINTLIFY_WAIT", "false")
            .run();
        run.assert_code(code);
        assert_eq!(run.outputs()["result"], status);
    }
}

#[tokio::test]
async fn a_prompt_file_that_is_not_utf8_says_so() {
    let server = creating([created()]).await;
    let gate = Gate::new(&server.uri()).unset("MINTLIFY_JOB_ID");
    let file = gate.path("prompt.md");
    std::fs::write(&file, b"caf\xe9").unwrap();
    let run = gate.env("MINTLIFY_PROMPT_FILE", &file).run();
    run.assert_code(2);
    run.assert_logged("is not UTF-8 text: save it as UTF-8");
    assert!(received(&server, "POST", CREATE_PATH).await.is_empty());
}

#[tokio::test]
async fn not_waiting_after_a_follow_up_trusts_no_old_final_status() {
    let server = api([ok(job("failed", None))]).await;
    script(&server, "POST", MESSAGE_PATH, [ok(job("failed", None))]).await;
    let run = Gate::new(&server.uri())
        .env("MINTLIFY_PROMPT", "Try again")
        .env("MINTLIFY_WAIT", "false")
        .run();
    run.assert_code(0);
    assert_eq!(run.outputs()["result"], "started");
}

#[tokio::test]
async fn a_follow_up_answered_about_another_job_says_it_may_have_been_delivered() {
    let server = api([ok(job("active", None))]).await;
    let mut other = job("active", None);
    other["id"] = "job_2".into();
    script(&server, "POST", MESSAGE_PATH, [ok(other)]).await;
    let run = Gate::new(&server.uri())
        .env("MINTLIFY_PROMPT", "More")
        .run();
    run.assert_code(5);
    run.assert_logged("the follow-up may have been delivered");
}

#[cfg(unix)]
#[tokio::test]
async fn a_prompt_file_that_is_a_fifo_is_refused_at_once() {
    let server = creating([created()]).await;
    let gate = Gate::new(&server.uri()).unset("MINTLIFY_JOB_ID");
    let fifo = gate.fifo("prompt");
    let run = gate.env("MINTLIFY_PROMPT_FILE", &fifo).run();
    run.assert_code(2);
    run.assert_logged("is not a regular file");
}

#[tokio::test]
async fn a_flag_after_prompt_is_refused_not_sent_as_the_prompt() {
    let server = creating([created()]).await;
    for (args, var) in [
        (["--prompt", "--job-id=job_42"], "MINTLIFY_PROMPT"),
        (["--prompt", "--require-pr"], "MINTLIFY_PROMPT"),
        (["--prompt", "-h"], "MINTLIFY_PROMPT"),
        (["--prompt", "--"], "MINTLIFY_PROMPT"),
        (["--timeout", "-5s"], "MINTLIFY_TIMEOUT"),
    ] {
        let run = Gate::new(&server.uri())
            .unset("MINTLIFY_JOB_ID")
            .env("MINTLIFY_PROMPT", "Document the API")
            .args(&args)
            .run();
        run.assert_code(2);
        run.assert_logged(&format!(
            "{} is followed by \"{}\", which is taken for a flag, not its value",
            args[0], args[1]
        ));
        run.assert_logged(&format!("as {}={}, or in {var}", args[0], args[1]));
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert_eq!(run.file("output"), None);
    }
    // `--` after a follow-up's job id is no prompt either; nor is a lone `-`, however given.
    for args in [
        &["--job-id", "job_42", "--prompt", "--"][..],
        &["--prompt", "-"][..],
        &["--prompt=-"][..],
    ] {
        let run = Gate::new(&server.uri())
            .unset("MINTLIFY_JOB_ID")
            .args(args)
            .run();
        run.assert_code(2);
        assert_eq!(run.file("output"), None);
    }
    let run = Gate::new(&server.uri())
        .unset("MINTLIFY_JOB_ID")
        .args(&["--prompt", "-"])
        .run();
    run.assert_logged("is a lone -, which is no prompt");
    assert!(server.received_requests().await.unwrap().is_empty());
    // Given after `=`, the same text is the prompt.
    let run = Gate::new(&server.uri())
        .unset("MINTLIFY_JOB_ID")
        .arg("--prompt=--require-pr")
        .run();
    run.assert_code(0);
    let posts = received(&server, "POST", CREATE_PATH).await;
    assert_eq!(sent_prompt(&posts[0]), "--require-pr");
}

#[tokio::test]
async fn a_prompt_of_only_a_bom_or_invisible_characters_starts_nothing() {
    let server = creating([created()]).await;
    for text in [
        "\u{feff}",
        "\u{feff}\r\n",
        "\u{200b}\u{200d} \u{2060}",
        // Default-ignorable but not format characters, and blanks drawn as nothing.
        "\u{034F}\u{115F}\u{1160}\u{3164}\u{FFA0}\u{17B4}\u{17B5}\u{FE0F}\u{E0100}\u{2800}",
    ] {
        let gate = Gate::new(&server.uri()).unset("MINTLIFY_JOB_ID");
        let file = gate.path("prompt.md");
        std::fs::write(&file, text).unwrap();
        let run = gate.env("MINTLIFY_PROMPT_FILE", &file).run();
        run.assert_code(2);
        run.assert_logged("is empty: write what the agent should do");
        let run = gate_with_prompt(&server, text).run();
        run.assert_code(2);
        run.assert_logged("MINTLIFY_PROMPT=");
        run.assert_logged("is empty or blank");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    // A file saved with a BOM sends the text after it.
    let gate = Gate::new(&server.uri()).unset("MINTLIFY_JOB_ID");
    let file = gate.path("prompt.md");
    std::fs::write(&file, "\u{feff}Document the API").unwrap();
    gate.env("MINTLIFY_PROMPT_FILE", &file).run().assert_code(0);
    let posts = received(&server, "POST", CREATE_PATH).await;
    assert_eq!(sent_prompt(&posts[0]), "Document the API");
}

#[tokio::test]
async fn a_create_answered_with_a_redirect_says_a_job_may_exist_and_is_not_sent_again() {
    for status in [303, 307] {
        let redirect =
            ResponseTemplate::new(status).insert_header("Location", "/v2/agent/proj_1/job/job_new");
        let server = creating([redirect, created()]).await;
        let run = gate_with_prompt(&server, "Go").run();
        run.assert_code(5);
        assert_eq!(received(&server, "POST", CREATE_PATH).await.len(), 1);
        run.assert_logged(&format!(
            "the request to create a job was answered with a redirect (HTTP {status})"
        ));
        run.assert_logged("the job may have been created all the same: check the agent jobs of project \"proj_1\" in the Mintlify dashboard before running this again");
        assert_eq!(run.outputs()["result"], "api_error");
    }
    // A follow-up too.
    let server = api([ok(job("active", None))]).await;
    script(
        &server,
        "POST",
        MESSAGE_PATH,
        [ResponseTemplate::new(303).insert_header("Location", "/elsewhere")],
    )
    .await;
    let run = Gate::new(&server.uri()).env("MINTLIFY_PROMPT", "Go").run();
    run.assert_code(5);
    run.assert_logged(
        "it may have been delivered all the same: check the job in the Mintlify dashboard",
    );
}

#[tokio::test]
async fn a_create_answered_201_with_an_empty_body_says_the_server_answered_created() {
    let server = creating([ResponseTemplate::new(201)]).await;
    let run = gate_with_prompt(&server, "Go").run();
    run.assert_code(5);
    assert_eq!(received(&server, "POST", CREATE_PATH).await.len(), 1);
    run.assert_logged("the API answered that the job was created (HTTP 201), but the id in the answer cannot be read: the answer is empty");
}

#[tokio::test]
async fn a_lone_surrogate_escape_in_a_create_answer_hides_nothing() {
    let body = r#"{"id":"job_new","status":"active","model":"cut \ud83c"}"#;
    let created = ResponseTemplate::new(201).set_body_raw(body, "application/json");
    let server = creating([created]).await;
    let run = gate_with_prompt(&server, "Go").run();
    run.assert_code(0);
    assert_eq!(run.outputs()["job_id"], "job_new");
}
