//! `cargo run --example demo`: the gate against a simulated job on a local mock of the API
//! (active, active, then completed with a PR), then a preview of the agent's branch (queued,
//! in progress, then live). No key, no network.

use std::collections::HashMap;

use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let server = MockServer::start().await;
    let job = |status: &str, pr: Option<&str>| {
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "job_demo",
            "status": status,
            "source": {"repository": "https://github.com/acme/docs", "ref": "mintlify/docs-update"},
            "prLink": pr,
        }))
    };
    let endpoint = || {
        Mock::given(method("GET"))
            .and(path("/v2/agent/proj_demo/job/job_demo"))
            .and(header("authorization", "Bearer mint_demo_not_a_real_key"))
    };
    endpoint()
        .respond_with(job("active", None))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    endpoint()
        .respond_with(job(
            "completed",
            Some("https://github.com/acme/docs/pull/42"),
        ))
        .with_priority(2)
        .mount(&server)
        .await;

    Mock::given(method("POST"))
        .and(path("/v1/project/preview/proj_demo"))
        .and(header("authorization", "Bearer mint_demo_not_a_real_key"))
        .respond_with(ResponseTemplate::new(202).set_body_json(serde_json::json!({
            "statusId": "status_demo",
            "previewUrl": "https://acme-mintlify-docs-update.mintlify.app",
        })))
        .mount(&server)
        .await;
    let deployment = |status: &str| {
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "_id": "status_demo",
            "status": status,
            "summary": "",
            "logs": [],
        }))
    };
    for (status, times) in [("queued", 1), ("in_progress", 1), ("success", 100)] {
        Mock::given(method("GET"))
            .and(path("/v1/project/update-status/status_demo"))
            .respond_with(deployment(status))
            .up_to_n_times(times)
            .mount(&server)
            .await;
    }

    let outputs = tempfile::NamedTempFile::new().expect("a temporary file for $GITHUB_OUTPUT");
    let env: HashMap<&str, String> = HashMap::from([
        ("MINTLIFY_API_KEY", "mint_demo_not_a_real_key".to_owned()),
        ("MINTLIFY_PROJECT_ID", "proj_demo".to_owned()),
        ("MINTLIFY_JOB_ID", "job_demo".to_owned()),
        ("MINTLIFY_API_URL", server.uri()),
        ("MINTLIFY_POLL_INITIAL", "500ms".to_owned()),
        ("MINTLIFY_PREVIEW", "true".to_owned()),
        ("MINTLIFY_LOG", "debug".to_owned()),
        ("GITHUB_OUTPUT", outputs.path().display().to_string()),
    ]);
    eprintln!(
        "demo: a mock Mintlify API on {}; the gate's log follows (stderr), then its stdout line",
        server.uri()
    );
    let code = mintlify_agent_gate::run(&|name| env.get(name).map(Into::into), &[]).await;
    let written = std::fs::read_to_string(outputs.path()).unwrap_or_default();
    eprintln!("\ndemo: exit code {code}; the outputs a later step reads:");
    for (name, value) in read_outputs(&written) {
        eprintln!("{name}={value}");
    }
    std::process::ExitCode::from(code)
}

/// The `name<<DELIMITER` blocks of `$GITHUB_OUTPUT`, as the runner reads them.
fn read_outputs(text: &str) -> Vec<(String, String)> {
    let mut outputs = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some((name, delimiter)) = line.split_once("<<") else {
            continue;
        };
        let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
        outputs.push((name.to_owned(), value.join("\n")));
    }
    outputs
}
