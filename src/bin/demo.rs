//! `cargo run --features demo --bin mintlify-agent-gate-demo`: the gate against a simulated job
//! on a local mock of the API (active, active, then completed with a PR). No key, no network.
//!
//! A binary behind a feature, not an example, and its mock server is plain `std`: an example
//! would first build every dev-dependency (wiremock, proptest, rcgen, ...), so the first
//! command a newcomer runs would build twice what the gate needs.

// The runner's reading of `$GITHUB_OUTPUT`, as the tests use it.
#[path = "../runner.rs"]
mod runner;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;

const KEY: &str = "mint_demo_not_a_real_key";
const JOB_PATH: &str = "/v2/agent/proj_demo/job/job_demo";

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
/// with a PR. A request without the demo key gets 401, any other path 404.
fn serve(listener: &TcpListener) {
    let mut reads = 0;
    for stream in listener.incoming().flatten() {
        let Some((request_line, authorized)) = read_head(&stream) else {
            continue;
        };
        let (status, body) = if !authorized {
            (
                "401 Unauthorized",
                serde_json::json!({"error": "unauthorized"}),
            )
        } else if request_line != format!("GET {JOB_PATH} HTTP/1.1") {
            ("404 Not Found", serde_json::json!({"error": "not found"}))
        } else {
            reads += 1;
            let (status, pr) = if reads <= 2 {
                ("active", None)
            } else {
                ("completed", Some("https://github.com/acme/docs/pull/42"))
            };
            let job = serde_json::json!({
                "id": "job_demo",
                "status": status,
                "source": {"repository": "https://github.com/acme/docs", "ref": "main"},
                "prLink": pr,
            });
            ("200 OK", job)
        };
        let body = body.to_string();
        let answer = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = (&stream).write_all(answer.as_bytes());
    }
}

/// The request line, and whether the request carries the demo key.
fn read_head(stream: &TcpStream) -> Option<(String, bool)> {
    let mut lines = BufReader::new(stream).lines();
    let request_line = lines.next()?.ok()?;
    let mut authorized = false;
    for line in lines {
        let line = line.ok()?;
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("authorization")
        {
            authorized = value.trim() == format!("Bearer {KEY}");
        }
    }
    Some((request_line, authorized))
}
