//! The Mintlify API over HTTP. What an answer means is decided in `classify`; this module
//! sends, reads with a size limit, decodes and redacts, and decides what a request that got
//! no answer means.

use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, Url, redirect};
use tokio::time::Instant;

use crate::classify::{
    Answer, Body, Call, Failure, NotAJob, Refusal, Start, Target, Trouble, classify_as,
    parse_retry_after, uncertain,
};
use crate::config::Config;
use crate::deployment::{AutomationRun, Deployment, Triggered};
use crate::failure::Var;
use crate::job::Job;
use crate::redact::Redactor;
use crate::resource::Reading;
use crate::sanitize::untrusted;

/// Bodies above this are not a job, and reading them further would only cost memory.
const BODY_LIMIT: usize = 1024 * 1024;

/// Decides what a request that got no answer means. A read tries again, unless the server's
/// certificate is not trusted, which waiting will not change. A start tries again only if it
/// never reached the server.
fn unsent(error: &reqwest::Error, target: Target<'_>, limit: Limit) -> Failure {
    if causes(error).any(is_untrusted_certificate) {
        return Failure::Permanent(Refusal::UntrustedCertificate {
            chain: error_chain(error),
        });
    }
    let trouble = match limit {
        _ if !error.is_timeout() => Trouble::RequestFailed(error_chain(error)),
        Limit::RequestTimeout(limit) => Trouble::RequestTimeout(limit),
        Limit::Deadline(_) => Trouble::Deadline,
    };
    let reached = !error.is_connect();
    match target.call {
        Call::Read => Failure::transient(trouble, None, reached),
        Call::Start(_) if !reached => Failure::transient(trouble, None, reached),
        Call::Start(start) => uncertain(start, target, trouble),
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

pub(crate) struct Client {
    http: reqwest::Client,
    redactor: Redactor,
    base: Url,
    project_id: String,
    request_timeout: Duration,
}

impl Client {
    pub(crate) fn new(config: &Config) -> anyhow::Result<Self> {
        // The `ring` provider: a smaller binary and a faster first handshake than aws-lc-rs.
        // An error only means a provider is already installed, which is what we want.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.api_key.expose()))
            .map_err(|_| anyhow::anyhow!("{} cannot be sent in a header", Var::ApiKey))?;
        auth.set_sensitive(true);
        let mut builder = reqwest::Client::builder();
        if config.api_url.scheme() == "http" {
            // Plain http is allowed to this machine only; a proxy would carry the key elsewhere
            // in clear. HTTPS_PROXY and NO_PROXY apply to https, through a CONNECT tunnel.
            builder = builder.no_proxy();
        }
        let http = crate::tls::trust(builder, &config.api_url)
            .context("could not set up the HTTP client (TLS)")?
            .user_agent(concat!("mintlify-agent-gate/", env!("CARGO_PKG_VERSION")))
            .default_headers(HeaderMap::from_iter([(AUTHORIZATION, auth)]))
            .redirect(redirect::Policy::none())
            .connect_timeout(config.request_timeout)
            .build()
            .context("could not set up the HTTP client (TLS)")?;
        Ok(Client {
            http,
            redactor: Redactor::new(config.api_key.expose()),
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

    /// `base/v1/` and then `path`, each part one percent-encoded segment: the deployment API,
    /// whose server URL ends in `/v1`.
    fn url_v1(&self, path: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push("v1").extend(path);
        }
        url
    }

    fn target<'a>(&'a self, call: Call, job_id: Option<&'a str>) -> Target<'a> {
        Target {
            call,
            project_id: &self.project_id,
            job_id,
            just_created: false,
        }
    }

    /// Reads the job. `just_created`: it was created moments ago, so a 404 may pass.
    pub(crate) async fn get_job(&self, job_id: &str, just_created: bool) -> Result<Job, Failure> {
        let request = self.http.get(self.url(&["job", job_id]));
        let target = Target {
            just_created,
            ..self.target(Call::Read, Some(job_id))
        };
        self.send(request, target, None).await
    }

    /// Creates a job. The request ends by `deadline` at the latest.
    pub(crate) async fn create_job(&self, prompt: &str, deadline: Instant) -> Result<Job, Failure> {
        let request = with_prompt(self.http.post(self.url(&["job"])), prompt);
        let target = self.target(Call::Start(Start::Create), None);
        self.send(request, target, Some(deadline)).await
    }

    /// Sends a follow-up message to a job. The request ends by `deadline` at the latest.
    pub(crate) async fn send_follow_up(
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

    /// Triggers a production deployment of the project's deployment branch. No body: the API
    /// takes none. The request ends by `deadline` at the latest.
    pub(crate) async fn trigger_update(&self, deadline: Instant) -> Result<Triggered, Failure> {
        let request = self
            .http
            .post(self.url_v1(&["project", "update", &self.project_id]));
        let target = self.target(Call::Start(Start::Update), None);
        self.send(request, target, Some(deadline)).await
    }

    /// Triggers a preview deployment of `branch`. The request ends by `deadline` at the latest.
    pub(crate) async fn trigger_preview(
        &self,
        branch: &str,
        deadline: Instant,
    ) -> Result<Triggered, Failure> {
        let body = serde_json::json!({ "branch": branch }).to_string();
        let request = self
            .http
            .post(self.url_v1(&["project", "preview", &self.project_id]))
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        let target = self.target(Call::Start(Start::Preview), None);
        self.send(request, target, Some(deadline)).await
    }

    /// Reads a deployment's status. `just_triggered`: moments ago, so a 404 may pass.
    pub(crate) async fn get_deployment(
        &self,
        status_id: &str,
        just_triggered: bool,
    ) -> Result<Deployment, Failure> {
        let request = self
            .http
            .get(self.url_v1(&["project", "update-status", status_id]));
        let target = Target {
            just_created: just_triggered,
            ..self.target(Call::Read, Some(status_id))
        };
        self.send(request, target, None).await
    }

    /// Triggers a run of a scheduled automation. No body: the API takes none.
    pub(crate) async fn trigger_automation(
        &self,
        automation_id: &str,
        deadline: Instant,
    ) -> Result<AutomationRun, Failure> {
        let path = ["workflow", &self.project_id, automation_id, "trigger"];
        let request = self.http.post(self.url_v1(&path));
        let target = self.target(Call::Start(Start::Automation), Some(automation_id));
        self.send(request, target, Some(deadline)).await
    }

    async fn send<R: Reading>(
        &self,
        request: RequestBuilder,
        target: Target<'_>,
        deadline: Option<Instant>,
    ) -> Result<R, Failure> {
        let left = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
        let limit = match left {
            Some(left) if left < self.request_timeout => Limit::Deadline(left),
            _ => Limit::RequestTimeout(self.request_timeout),
        };
        match request.timeout(limit.duration()).send().await {
            Ok(response) => classify_as(read(response, &self.redactor).await, target),
            Err(error) => Err(unsent(&error, target, limit)),
        }
    }
}

fn with_prompt(request: RequestBuilder, prompt: &str) -> RequestBuilder {
    let body = serde_json::json!({ "prompt": prompt }).to_string();
    request.header(CONTENT_TYPE, "application/json").body(body)
}

/// Reads an answer whole (up to [`BODY_LIMIT`]), decoded and redacted before anything else
/// looks at it.
async fn read(mut response: Response, redactor: &Redactor) -> Answer {
    let status = response.status();
    let headers = response.headers();
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let location = headers.get(LOCATION).map(|v| {
        let raw = redactor.bytes(v.as_bytes());
        let decoded = percent_encoding::percent_decode(&raw).decode_utf8_lossy();
        redactor.text(&decoded).into_owned()
    });
    let body = if response
        .content_length()
        .is_some_and(|n| n > BODY_LIMIT as u64)
    {
        Body::Unread(NotAJob::TooLarge)
    } else {
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() > BODY_LIMIT => {
                    break Body::Unread(NotAJob::TooLarge);
                }
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break Body::decode(&body, redactor),
                Err(error) => {
                    break Body::Unread(NotAJob::BrokeOff(error_chain(&error)));
                }
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
