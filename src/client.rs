//! The Mintlify API over HTTP, and the one place that decides which failures are worth a retry.

use std::fmt;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, LOCATION, RETRY_AFTER};
use reqwest::{Response, Url, redirect};

use crate::config::{ApiKey, Config};
use crate::job::Job;
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

/// What a request was for: it decides the wording of errors.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub project_id: &'a str,
    pub job_id: &'a str,
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

/// Decides what an answer to a job read means. Every retry decision is made here.
pub fn classify(answer: Answer, target: Target<'_>) -> Result<Job, Failure> {
    let status = answer.status;
    match status {
        200..=299 => {
            let body = answer.body.map_err(|reason| transient(reason, None))?;
            Job::from_json(&body).map_err(|reason| transient(reason, None))
        }
        408 | 500..=599 => Err(transient(
            format!(
                "the API answered HTTP {status}{}",
                server_error(&answer.body)
            ),
            answer.retry_after.filter(|_| status == 503),
        )),
        429 => Err(transient(
            "the API is rate limiting (HTTP 429)".to_owned(),
            answer.retry_after,
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
        404 => Err(permanent(format!(
            "job {:?} was not found in project {:?} (HTTP 404{}): check MINTLIFY_PROJECT_ID and MINTLIFY_JOB_ID",
            untrusted(target.job_id),
            untrusted(target.project_id),
            server_error(&answer.body)
        ))),
        _ => Err(permanent(format!(
            "the API refused the request (HTTP {status}{}): check the settings against the Mintlify API docs",
            server_error(&answer.body)
        ))),
    }
}

/// Decides what a request that got no answer means: worth a retry, unless the server's
/// certificate is not trusted, which waiting will not change.
fn unsent(error: &reqwest::Error, request_timeout: Duration) -> Failure {
    if error.is_timeout() {
        return transient(
            format!(
                "no answer within MINTLIFY_REQUEST_TIMEOUT ({})",
                crate::duration::display(request_timeout)
            ),
            None,
        );
    }
    if causes(error).any(is_untrusted_certificate) {
        return permanent(format!(
            "the API's TLS certificate is not trusted ({}): behind a proxy or a private CA, point SSL_CERT_FILE at a PEM bundle of the roots to trust",
            error_chain(error)
        ));
    }
    transient(format!("the request failed: {}", error_chain(error)), None)
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
        let http = reqwest::Client::builder()
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

    /// `base/v2/agent/{project}/job/{id}`, each id one percent-encoded segment, so an id such
    /// as `../../x` stays inside its segment.
    fn job_url(&self, job_id: &str) -> Url {
        let mut url = self.base.clone();
        // http(s) URLs always have a path, so this cannot fail for a URL the config accepted.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["v2", "agent", &self.project_id, "job", job_id]);
        }
        url
    }

    pub async fn get_job(&self, job_id: &str) -> Result<Job, Failure> {
        let target = Target {
            project_id: &self.project_id,
            job_id,
        };
        let request = self
            .http
            .get(self.job_url(job_id))
            .timeout(self.request_timeout);
        let result = match request.send().await {
            Ok(response) => classify(read(response).await, target),
            Err(error) => Err(unsent(&error, self.request_timeout)),
        };
        result.map_err(|failure| self.redact(failure))
    }

    /// A server that echoes the key in an error must not get it into the log.
    fn redact(&self, failure: Failure) -> Failure {
        let clean = |text: String| text.replace(self.key.expose(), "<redacted>");
        match failure {
            Failure::Transient(t) => transient(clean(t.reason), t.retry_after),
            Failure::Permanent(p) => permanent(clean(p.message)),
        }
    }
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
