//! The Mintlify API over HTTP, and the one place that decides which failures are worth a retry.

use std::fmt;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, Url, redirect};
use tokio::time::Instant;

use crate::config::{ApiKey, Config};
use crate::job::{Job, check_id};
use crate::sanitize::untrusted;

/// Bodies above this are not a job, and reading them further would only cost memory.
const BODY_LIMIT: usize = 1024 * 1024;

/// A failure that may pass: the same request is sent again on the poll schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transient {
    pub reason: String,
    /// What the server asked for with `Retry-After`, honoured even above the poll cap.
    pub retry_after: Option<Duration>,
}

/// A failure that will not pass by waiting: the run stops with this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permanent {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Transient(Transient),
    Permanent(Permanent),
}

impl fmt::Display for Transient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl fmt::Display for Permanent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn transient(reason: String, retry_after: Option<Duration>) -> Failure {
    Failure::Transient(Transient {
        reason,
        retry_after,
    })
}

fn permanent(message: String) -> Failure {
    Failure::Permanent(Permanent { message })
}

/// The calls this program makes. A read may be repeated freely; starting the agent may not,
/// since a repeated create or follow-up could start it twice (and spend the project's hourly
/// quota), so those are repeated only when they certainly did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Read,
    Start(Start),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Create,
    FollowUp,
}

/// What a request was for: it decides what may be retried and the wording of errors.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub call: Call,
    pub project_id: &'a str,
    /// `None` for a create, whose job has no id yet.
    pub job_id: Option<&'a str>,
}

/// An HTTP answer reduced to what classification needs, so it can be tested without a server.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub location: Option<String>,
    /// The body, or why it could not be read whole.
    pub body: Result<Vec<u8>, String>,
}

/// Decides what an answer means. Every retry decision is made here and in [`unsent`].
pub fn classify(answer: Answer, target: Target<'_>) -> Result<Job, Failure> {
    let status = answer.status;
    // Trouble on the server's side: a read tries again; a start cannot know what happened.
    let server_trouble = |reason: String, retry_after: Option<Duration>| match target.call {
        Call::Read => transient(reason, retry_after),
        Call::Start(start) => uncertain(start, target, &reason),
    };
    match status {
        200..=299 => {
            let job = answer
                .body
                .and_then(|body| Job::from_json(&body))
                .map_err(|reason| server_trouble(reason, None))?;
            if target.call == Call::Start(Start::Create)
                && let Err(problem) = check_id(job.id.as_deref().unwrap_or_default())
            {
                return Err(permanent(format!(
                    "the job was created (HTTP {status}), but the id in the answer {problem}: find the job in the Mintlify dashboard and wait on it with MINTLIFY_JOB_ID"
                )));
            }
            Ok(job)
        }
        429 => Err(transient(
            "the API is rate limiting (HTTP 429)".to_owned(),
            answer.retry_after,
        )),
        // 503 means the request was not served, so even a start may be sent again.
        503 => Err(transient(
            format!(
                "the API is unavailable (HTTP 503{})",
                server_error(&answer.body)
            ),
            answer.retry_after,
        )),
        408 | 500..=599 => Err(server_trouble(
            format!(
                "the API answered HTTP {status}{}",
                server_error(&answer.body)
            ),
            None,
        )),
        300..=399 => Err(permanent(format!(
            "the API answered with a redirect (HTTP {status}) to {}, which is not followed so the key cannot travel elsewhere: check MINTLIFY_API_URL",
            answer
                .location
                .as_deref()
                .map_or_else(|| "nowhere".to_owned(), untrusted)
        ))),
        401 | 403 => Err(permanent(format!(
            "the API refused the key (HTTP {status}{}): is it expired, not an admin key (mint_...), or from another organization? Check MINTLIFY_API_KEY",
            server_error(&answer.body)
        ))),
        404 => Err(permanent(match target.job_id {
            Some(job_id) => format!(
                "job {:?} was not found in project {:?} (HTTP 404{}): check MINTLIFY_PROJECT_ID and MINTLIFY_JOB_ID",
                untrusted(job_id),
                untrusted(target.project_id),
                server_error(&answer.body)
            ),
            None => format!(
                "project {:?} was not found (HTTP 404{}): check MINTLIFY_PROJECT_ID",
                untrusted(target.project_id),
                server_error(&answer.body)
            ),
        })),
        _ => Err(permanent(format!(
            "the API refused the request (HTTP {status}{}): check the settings against the Mintlify API docs",
            server_error(&answer.body)
        ))),
    }
}

/// Decides what a request that got no answer means. A read tries again, unless the server's
/// certificate is not trusted, which waiting will not change. A start tries again only if it
/// never reached the server.
fn unsent(error: &reqwest::Error, target: Target<'_>, limit: Limit) -> Failure {
    if causes(error).any(is_untrusted_certificate) {
        return permanent(format!(
            "the API's TLS certificate is not trusted ({}): behind a proxy or a private CA, point SSL_CERT_FILE at a PEM bundle of the roots to trust",
            error_chain(error)
        ));
    }
    let reason = if error.is_timeout() {
        match limit {
            Limit::RequestTimeout(limit) => format!(
                "no answer within MINTLIFY_REQUEST_TIMEOUT ({})",
                crate::duration::display(limit)
            ),
            Limit::Deadline(_) => "no answer before the deadline (MINTLIFY_TIMEOUT)".to_owned(),
        }
    } else {
        format!("the request failed: {}", error_chain(error))
    };
    match target.call {
        Call::Read => transient(reason, None),
        Call::Start(_) if error.is_connect() => transient(reason, None),
        Call::Start(start) => uncertain(start, target, &reason),
    }
}

/// How long one request may take, and why.
#[derive(Debug, Clone, Copy)]
enum Limit {
    RequestTimeout(Duration),
    /// Less time is left before the run's deadline than a request may take.
    Deadline(Duration),
}

impl Limit {
    fn duration(self) -> Duration {
        match self {
            Limit::RequestTimeout(limit) | Limit::Deadline(limit) => limit,
        }
    }
}

/// A start whose fate is unknown: stop, and say what to check before trying again.
fn uncertain(start: Start, target: Target<'_>, reason: &str) -> Failure {
    permanent(match start {
        Start::Create => format!(
            "the request to create a job may or may not have reached Mintlify ({reason}), so a job may or may not exist: check the agent jobs of project {:?} in the Mintlify dashboard before running this again, or the agent may run twice",
            untrusted(target.project_id)
        ),
        Start::FollowUp => format!(
            "the follow-up to job {:?} may or may not have reached Mintlify ({reason}): check the job in the Mintlify dashboard before sending it again, or the agent may run it twice",
            untrusted(target.job_id.unwrap_or_default())
        ),
    })
}

/// An error and every cause behind it, looking inside `io::Error`s, whose `source` skips the
/// error they wrap (that is where hyper keeps a TLS failure).
fn causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |e| {
        e.downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as _)
            .or_else(|| e.source())
    })
}

fn is_untrusted_certificate(error: &(dyn std::error::Error + 'static)) -> bool {
    matches!(
        error.downcast_ref::<rustls::Error>(),
        Some(rustls::Error::InvalidCertificate(_))
    )
}

/// The server's own words, from `{"error": "..."}` or the start of the body, escaped and short.
fn server_error(body: &Result<Vec<u8>, String>) -> String {
    let Ok(body) = body else { return String::new() };
    let text = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let text: String = text.trim().chars().take(300).collect();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {}", untrusted(&text))
    }
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

pub struct Client {
    http: reqwest::Client,
    key: ApiKey,
    base: Url,
    project_id: String,
    request_timeout: Duration,
}

impl Client {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        // The `ring` provider: a smaller binary and a faster first handshake than aws-lc-rs.
        // An error only means a provider is already installed, which is what we want.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.api_key.expose()))
            .map_err(|_| anyhow::anyhow!("MINTLIFY_API_KEY cannot be sent in a header"))?;
        auth.set_sensitive(true);
        let mut builder = reqwest::Client::builder();
        if config.api_url.scheme() == "http" {
            // Plain http is allowed to this machine only; a proxy would carry the key elsewhere
            // in clear. HTTPS_PROXY and NO_PROXY apply to https, through a CONNECT tunnel.
            builder = builder.no_proxy();
        }
        let http = builder
            .user_agent(concat!("mintlify-agent-gate/", env!("CARGO_PKG_VERSION")))
            .default_headers(HeaderMap::from_iter([(AUTHORIZATION, auth)]))
            .redirect(redirect::Policy::none())
            .connect_timeout(config.request_timeout)
            .build()
            .context("could not set up the HTTP client (TLS)")?;
        Ok(Client {
            http,
            key: config.api_key.clone(),
            base: config.api_url.clone(),
            project_id: config.project_id.clone(),
            request_timeout: config.request_timeout,
        })
    }

    /// `base/v2/agent/{project}/` and then `tail`, each part one percent-encoded segment, so an
    /// id such as `../../x` stays inside its segment.
    fn url(&self, tail: &[&str]) -> Url {
        let mut url = self.base.clone();
        // http(s) URLs always have a path, so this cannot fail for a URL the config accepted.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["v2", "agent", &self.project_id])
                .extend(tail);
        }
        url
    }

    fn target<'a>(&'a self, call: Call, job_id: Option<&'a str>) -> Target<'a> {
        Target {
            call,
            project_id: &self.project_id,
            job_id,
        }
    }

    pub async fn get_job(&self, job_id: &str) -> Result<Job, Failure> {
        let request = self.http.get(self.url(&["job", job_id]));
        self.send(request, self.target(Call::Read, Some(job_id)), None)
            .await
    }

    /// Creates a job. The request ends by `deadline` at the latest.
    pub async fn create_job(&self, prompt: &str, deadline: Instant) -> Result<Job, Failure> {
        let request = with_prompt(self.http.post(self.url(&["job"])), prompt);
        let target = self.target(Call::Start(Start::Create), None);
        self.send(request, target, Some(deadline)).await
    }

    /// Sends a follow-up message to a job. The request ends by `deadline` at the latest.
    pub async fn send_follow_up(
        &self,
        job_id: &str,
        prompt: &str,
        deadline: Instant,
    ) -> Result<Job, Failure> {
        let request = with_prompt(
            self.http.post(self.url(&["job", job_id, "message"])),
            prompt,
        );
        let target = self.target(Call::Start(Start::FollowUp), Some(job_id));
        self.send(request, target, Some(deadline)).await
    }

    async fn send(
        &self,
        request: RequestBuilder,
        target: Target<'_>,
        deadline: Option<Instant>,
    ) -> Result<Job, Failure> {
        let left = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
        let limit = match left {
            Some(left) if left < self.request_timeout => Limit::Deadline(left),
            _ => Limit::RequestTimeout(self.request_timeout),
        };
        match request.timeout(limit.duration()).send().await {
            Ok(response) => classify(self.redact(read(response).await), target),
            Err(error) => Err(unsent(&error, target, limit)),
        }
    }

    /// A server that echoes the key must not get it into a log line or an output. Everything
    /// the classifier reads from the server passes through here first.
    fn redact(&self, mut answer: Answer) -> Answer {
        let key = self.key.expose();
        if let Ok(body) = &mut answer.body {
            *body = replace_all(body, key.as_bytes(), REDACTED.as_bytes());
        }
        answer.location = answer
            .location
            .map(|location| location.replace(key, REDACTED));
        answer
    }
}

const REDACTED: &str = "<redacted>";

/// Bytes, not text: a body that is not UTF-8 is still shown (lossily) in an error.
fn replace_all(haystack: &[u8], needle: &[u8], replacement: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest
        .windows(needle.len())
        .position(|window| window == needle)
    {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(replacement);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

fn with_prompt(request: RequestBuilder, prompt: &str) -> RequestBuilder {
    let body = serde_json::json!({ "prompt": prompt }).to_string();
    request.header(CONTENT_TYPE, "application/json").body(body)
}

async fn read(mut response: Response) -> Answer {
    let status = response.status();
    let headers = response.headers();
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let location = headers
        .get(LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body = if response
        .content_length()
        .is_some_and(|n| n > BODY_LIMIT as u64)
    {
        Err(too_large())
    } else {
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() > BODY_LIMIT => break Err(too_large()),
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break Ok(body),
                Err(error) => break Err(format!("the answer broke off: {}", error_chain(&error))),
            }
        }
    };
    Answer {
        status: status.as_u16(),
        retry_after,
        location,
        body,
    }
}

fn too_large() -> String {
    format!(
        "the answer is over {} MiB, so it is not a job",
        BODY_LIMIT / (1024 * 1024)
    )
}

/// An error and its causes on one line; reqwest's own message alone rarely says what happened.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    untrusted(&text)
}

#[cfg(test)]
mod tests;
