//! `cargo run --features demo --bin mintlify-agent-gate-demo`: the gate against a simulated job
//! on a local mock of the API (active, active, then completed with a PR), then a preview of the
//! agent's branch (queued, in progress, then live). No key, no network.
//!
//! A binary behind a feature, not an example, and its mock server is plain `std`: an example
//! would first build every dev-dependency (wiremock, proptest, rcgen, ...), so the first
//! command a newcomer runs would build twice what the gate needs.

// The runner's reading of `$GITHUB_OUTPUT`, as the tests use it.
#[path = "../runner.rs"]
mod runner;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;

const KEY: &str = "mint_demo_not_a_real_key";
const JOB_PATH: &str = "/v2/agent/proj_demo/job/job_demo";
const PREVIEW_PATH: &str = "/v1/project/preview/proj_demo";
const STATUS_PATH: &str = "/v1/project/update-status/status_demo";
const BRANCH: &str = "mintlify/docs-update";

fn main() -> ExitCode {
    let listener = match TcpListener::bind("127.0.0.1:0").and_then(|l| Ok((l.local_addr()?, l))) {
        Ok((address, listener)) => {
            std::thread::spawn(move || serve(&listener));
            address
        }
        Err(error) => {
            eprintln!("demo: could not listen on loopback: {error}");
            return ExitCode::FAILURE;
        }
    };
    let api = format!("http://{listener}");
    let outputs = std::env::temp_dir().join(format!(
        "mintlify-agent-gate-demo-{}.output",
        std::process::id()
    ));
    let env: HashMap<&str, String> = HashMap::from([
        ("MINTLIFY_API_KEY", KEY.to_owned()),
        ("MINTLIFY_PROJECT_ID", "proj_demo".to_owned()),
        ("MINTLIFY_JOB_ID", "job_demo".to_owned()),
        ("MINTLIFY_API_URL", api.clone()),
        ("MINTLIFY_POLL_INITIAL", "500ms".to_owned()),
        ("MINTLIFY_PREVIEW", "true".to_owned()),
        ("MINTLIFY_LOG", "debug".to_owned()),
        ("GITHUB_OUTPUT", outputs.display().to_string()),
    ]);
    eprintln!(
        "demo: a mock Mintlify API on {api}; the gate's log follows (stderr), then its stdout line"
    );
    let code = mintlify_agent_gate::run_blocking(&|name| env.get(name).map(Into::into), &[]);
    let written = std::fs::read_to_string(&outputs).unwrap_or_default();
    let _ = std::fs::remove_file(&outputs);
    eprintln!("\ndemo: exit code {code}; the outputs a later step reads:");
    match runner::read(&written) {
        Ok(entries) => {
            for (name, value) in entries {
                eprintln!("{name}={value}");
            }
        }
        Err(error) => eprintln!("demo: the runner would refuse them: {error}"),
    }
    ExitCode::from(code)
}

/// The mock API, one connection per request: the job is active for two reads, then completed
/// with a PR; a preview of its branch is then queued, in progress, and live. A request without
/// the demo key gets 401, any other request 404.
fn serve(listener: &TcpListener) {
    let (mut job_reads, mut status_reads) = (0, 0);
    for stream in listener.incoming().flatten() {
        let Some(request) = read_request(&stream) else {
            continue;
        };
        let route = request.line.strip_suffix(" HTTP/1.1").unwrap_or_default();
        let preview_body = serde_json::json!({ "branch": BRANCH }).to_string();
        let (status, body) = if !request.authorized {
            (
                "401 Unauthorized",
                serde_json::json!({"error": "unauthorized"}),
            )
        } else if route == format!("GET {JOB_PATH}") {
            job_reads += 1;
            let (status, pr) = if job_reads <= 2 {
                ("active", None)
            } else {
                ("completed", Some("https://github.com/acme/docs/pull/42"))
            };
            let job = serde_json::json!({
                "id": "job_demo",
                "status": status,
                "source": {"repository": "https://github.com/acme/docs", "ref": BRANCH},
                "prLink": pr,
            });
            ("200 OK", job)
        } else if route == format!("POST {PREVIEW_PATH}") && request.body == preview_body {
            let triggered = serde_json::json!({
                "statusId": "status_demo",
                "previewUrl": "https://acme-mintlify-docs-update.mintlify.app",
            });
            ("202 Accepted", triggered)
        } else if route == format!("GET {STATUS_PATH}") {
            status_reads += 1;
            let status = ["queued", "in_progress"]
                .get(status_reads - 1)
                .copied()
                .unwrap_or("success");
            let deployment = serde_json::json!({
                "_id": "status_demo",
                "status": status,
                "summary": "",
                "logs": [],
            });
            ("200 OK", deployment)
        } else {
            ("404 Not Found", serde_json::json!({"error": "not found"}))
        };
        let body = body.to_string();
        let answer = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = (&stream).write_all(answer.as_bytes());
    }
}

struct Request {
    line: String,
    /// It carries the demo key.
    authorized: bool,
    body: String,
}

/// The request line, whether it carries the demo key, and its body, read whole so that closing
/// the connection never resets it before the answer is read.
fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut request = Request {
        line: line.trim_end().to_owned(),
        authorized: false,
        body: String::new(),
    };
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                request.authorized = value.trim() == format!("Bearer {KEY}");
            } else if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    request.body = String::from_utf8(body).ok()?;
    Some(request)
}
