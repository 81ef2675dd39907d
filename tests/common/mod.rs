//! Shared helpers for the tests that drive the real binary: a scripted mock of the API, the
//! runner's own reading of `$GITHUB_OUTPUT`, and a scan of everything a run wrote for the key.
#![allow(dead_code)] // each test file uses its own part of these helpers

#[path = "../../src/runner.rs"]
mod runner;

use std::collections::{HashMap, VecDeque};
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assert_cmd::Command;
use tempfile::TempDir;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub(crate) const KEY: &str = "mint_e2e_s3cr3t_key_value";
pub(crate) const PROJECT: &str = "proj_1";
pub(crate) const JOB: &str = "job_1";
pub(crate) const JOB_PATH: &str = "/v2/agent/proj_1/job/job_1";

pub(crate) fn job(status: &str, pr_link: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "id": JOB,
        "status": status,
        "source": {"repository": "https://github.com/acme/docs", "ref": "main"},
        "model": "agent",
        "prLink": pr_link,
        "createdAt": "2026-11-22T10:00:00Z",
        "archivedAt": null,
    })
}

pub(crate) const PR_LINK: &str = "https://github.com/acme/docs/pull/7";

/// A mock API whose job has already completed with a PR.
pub(crate) async fn finished_api() -> MockServer {
    api([ok(job("completed", Some(PR_LINK)))]).await
}

pub(crate) fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// Answers in order, then repeats the last answer: a job's life as the server tells it.
pub(crate) struct Script {
    answers: Mutex<VecDeque<ResponseTemplate>>,
}

impl Script {
    pub(crate) fn new(answers: impl IntoIterator<Item = ResponseTemplate>) -> Self {
        Script {
            answers: Mutex::new(answers.into_iter().collect()),
        }
    }
}

impl Respond for Script {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut answers = self.answers.lock().unwrap();
        if answers.len() > 1 {
            answers.pop_front().unwrap()
        } else {
            answers[0].clone()
        }
    }
}

/// A mock API whose job answers follow `answers`.
pub(crate) async fn api(answers: impl IntoIterator<Item = ResponseTemplate>) -> MockServer {
    let server = MockServer::start().await;
    script(&server, "GET", JOB_PATH, answers).await;
    server
}

/// Answers `verb` requests to `route` with `answers`, in order.
pub(crate) async fn script(
    server: &MockServer,
    verb: &str,
    route: &str,
    answers: impl IntoIterator<Item = ResponseTemplate>,
) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(Script::new(answers))
        .mount(server)
        .await;
}

/// The requests `server` received for `verb` on `route`.
pub(crate) async fn received(server: &MockServer, verb: &str, route: &str) -> Vec<Request> {
    let requests = server.received_requests().await.unwrap();
    requests
        .into_iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == route)
        .collect()
}

/// A server that drops the first `drops` connections without a word, then answers each
/// connection with `body` as a 200: what a restarting load balancer looks like.
pub(crate) fn flaky_server(drops: usize, body: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            if counted.fetch_add(1, Ordering::SeqCst) < drops {
                drop(stream);
                continue;
            }
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (url, connections)
}

/// An address where nothing answers, and that stays so: a loopback socket that is bound but
/// never listens. Linux answers a connect to it with a reset (connection refused), and the port
/// is held for as long as this value lives, so no other test's server can take it meanwhile
/// (binding without `SO_REUSEADDR` keeps even a `SO_REUSEADDR` listener off it). Keep it alive
/// until the run that uses it has ended.
pub(crate) struct Refusing {
    pub url: String,
    _socket: socket2::Socket,
}

pub(crate) fn refusing() -> Refusing {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let address = socket.local_addr().unwrap().as_socket().unwrap();
    Refusing {
        url: format!("http://{address}"),
        _socket: socket,
    }
}

/// A server that accepts every connection, reads the request and never answers: what a hung
/// backend behind a load balancer looks like.
pub(crate) fn stalled_server() -> (String, std::sync::Arc<Mutex<Vec<std::net::TcpStream>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let held = std::sync::Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            keep.lock().unwrap().push(stream);
        }
    });
    (url, held)
}

/// The child's exit status, failing the test if it is still running after `limit`.
pub(crate) fn exit_within(
    child: &mut std::process::Child,
    limit: Duration,
) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(start.elapsed() < limit, "still running after {limit:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// One run of the binary with a clean environment: only what the test sets.
pub(crate) struct Gate {
    pub command: Command,
    pub dir: TempDir,
}

impl Gate {
    /// The three required settings, fast polling, a short deadline and a `$GITHUB_OUTPUT`.
    pub(crate) fn new(api_url: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::cargo_bin("mintlify-agent-gate").unwrap();
        command
            .env_clear()
            .env("MINTLIFY_API_KEY", KEY)
            .env("MINTLIFY_PROJECT_ID", PROJECT)
            .env("MINTLIFY_JOB_ID", JOB)
            .env("MINTLIFY_API_URL", api_url)
            .env("MINTLIFY_POLL_INITIAL", "10ms")
            .env("MINTLIFY_POLL_MAX", "40ms")
            .env("MINTLIFY_TIMEOUT", "20s")
            .env("GITHUB_OUTPUT", dir.path().join("output"))
            .timeout(Duration::from_secs(30));
        Gate { command, dir }
    }

    pub(crate) fn env(mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    /// Removes a variable [`Gate::new`] set: an empty one is a setting given as nothing.
    pub(crate) fn unset(mut self, name: &str) -> Self {
        self.command.env_remove(name);
        self
    }

    pub(crate) fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    pub(crate) fn args(mut self, args: &[&str]) -> Self {
        self.command.args(args);
        self
    }

    /// Runs in the temporary directory, so relative paths land there, as in a CI job.
    pub(crate) fn current_dir(mut self) -> Self {
        self.command.current_dir(self.dir.path());
        self
    }

    /// A FIFO in the run's directory, with no reader and no writer: what blocks an `open`.
    #[cfg(unix)]
    pub(crate) fn fifo(&self, name: &str) -> PathBuf {
        let path = self.path(name);
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        assert!(made.unwrap().success(), "mkfifo {}", path.display());
        path
    }

    pub(crate) fn path(&self, name: impl AsRef<std::path::Path>) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn run(mut self) -> Run {
        let output = self.command.output().unwrap();
        Run::new(output, self.dir)
    }
}

pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub dir: TempDir,
}

impl Run {
    /// Every run is scanned for the key: stdout, stderr and every file it wrote.
    pub(crate) fn new(output: Output, dir: TempDir) -> Self {
        let run = Run {
            code: output
                .status
                .code()
                .expect("the gate was killed by a signal"),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
            dir,
        };
        assert!(
            !run.stdout.contains(KEY),
            "the key is on stdout:\n{}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(KEY),
            "the key is on stderr:\n{}",
            run.stderr
        );
        let secret = &KEY["mint_".len()..];
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "the key's secret part is out:\n{}\n{}",
            run.stdout,
            run.stderr
        );
        for entry in std::fs::read_dir(run.dir.path()).unwrap() {
            let entry = entry.unwrap();
            // Reading a FIFO a test made would block: only files can hold what was written.
            if !entry.file_type().unwrap().is_file() {
                continue;
            }
            let path = entry.path();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                !text.contains(KEY),
                "the key is in {}:\n{text}",
                path.display()
            );
        }
        run
    }

    pub(crate) fn file(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.path().join(name)).ok()
    }

    /// `$GITHUB_OUTPUT` as the runner reads it.
    pub(crate) fn outputs(&self) -> HashMap<String, String> {
        parse_github_output(&self.file("output").expect("no $GITHUB_OUTPUT was written"))
    }

    /// Asserts the log holds `text`, and shows the log when it does not.
    pub(crate) fn assert_logged(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "wanted {text:?} in the log:\n{}",
            self.stderr
        );
        self
    }

    pub(crate) fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstderr:\n{}\nstdout:\n{}",
            self.stderr, self.stdout
        );
        self
    }
}

/// `$GITHUB_OUTPUT` as the runner reads it, by name (a later entry for a name wins), failing
/// the test where the runner would fail the step.
pub(crate) fn parse_github_output(text: &str) -> HashMap<String, String> {
    runner::read(text)
        .unwrap_or_else(|error| panic!("the runner would refuse $GITHUB_OUTPUT: {error}:\n{text}"))
        .into_iter()
        .collect()
}

/// Server text as the gate shows it to a person: control and invisible characters as visible
/// escapes, and `##[` defused (a test's own reading of the rule, not the gate's code).
pub(crate) fn escaped(text: &str) -> String {
    let escaped: String = text
        .chars()
        .flat_map(|c| {
            let hidden = c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
            let escape: Vec<char> = if hidden {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escape
        })
        .collect();
    escaped.replace("##[", "##\\[")
}

/// Lines a runner would take as a workflow command.
pub(crate) fn workflow_commands(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.trim_start().starts_with("::") || l.trim_start().starts_with("##["))
        .collect()
}
