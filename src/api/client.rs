//! The Mintlify API over HTTP. What an answer means is decided in `classify`; this module
//! sends, reads with a size limit, decodes and redacts, and decides what a request that got
//! no answer means.

mod connect;

use std::time::{Duration, SystemTime};

use reqwest::header::{
    AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, RETRY_AFTER, TRANSFER_ENCODING,
};
use reqwest::{RequestBuilder, Response, Url, redirect};
use tokio::time::Instant;

use self::connect::{Phase, connect_timeout, pinned, tunnel_status};
use crate::api::body::Body;
use crate::api::classify::{
    Answer, Call, Origin, Start, Target, classify_as, parse_retry_after, uncertain,
};
use crate::api::deployment::{AutomationRun, Deployment, Triggered};
use crate::api::failure::{Failure, NotAJob, Refusal, Trouble, Var};
use crate::api::job::Job;
use crate::api::resource::Reading;
use crate::api::tls::TlsError;
use crate::settings::Config;
use crate::text::redact::Redactor;
use crate::text::sanitize::untrusted;

/// Bodies above this are no answer the gate reads, and reading them further would only cost
/// memory.
const BODY_LIMIT: usize = 1024 * 1024;

/// Decides what a request that got no answer (or only part of one) means. A connection that
/// failed in a way waiting will not change stops the run at once. Otherwise a read tries
/// again, and a start tries again only if it never connected, so never reached the server.
fn unsent(error: &reqwest::Error, target: Target<'_>, limit: Limit, phase: Attempt) -> Failure {
    // A connect error is one before any byte of the request was sent; so is any failure,
    // a cut off by the deadline included, while the connection was still being made.
    let reached = phase.connected && !error.is_connect();
    if !reached && let Some(refusal) = permanent(error) {
        return Failure::Permanent(refusal);
    }
    let trouble = match limit {
        _ if !error.is_timeout() => Trouble::RequestFailed(error_chain(error)),
        _ if error.is_connect() => Trouble::ConnectTimeout(phase.connect_timeout),
        Limit::RequestTimeout(limit) => Trouble::RequestTimeout(limit),
        Limit::Deadline(_) => Trouble::Deadline,
    };
    match target.call {
        Call::Read => Failure::transient(trouble, None, reached),
        Call::Start(_) if !reached => Failure::transient(trouble, None, reached),
        Call::Start(start) => uncertain(start, target, trouble),
    }
}

/// How far a request that failed got.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    /// Past its connection: one already open, or one made for it.
    connected: bool,
    /// What the connection was allowed.
    connect_timeout: Duration,
}

/// The failures of a connection that the same request later would meet again: a certificate
/// that is not trusted, a server that does not speak TLS or not a version this program
/// speaks, a proxy that wants credentials or will not open a tunnel to the API.
fn permanent(error: &reqwest::Error) -> Option<Refusal> {
    use rustls::{AlertDescription as Alert, CertificateError as Cert, Error as Tls};
    let chain = || error_chain(error);
    causes(error).find_map(|cause| {
        if let Some(tls) = cause.downcast_ref::<Tls>() {
            return match tls {
                Tls::InvalidCertificate(Cert::UnknownIssuer) => {
                    Some(Refusal::UntrustedCertificate { chain: chain() })
                }
                Tls::InvalidCertificate(
                    Cert::Expired
                    | Cert::ExpiredContext { .. }
                    | Cert::NotValidYet
                    | Cert::NotValidYetContext { .. },
                ) => Some(Refusal::CertificateExpired { chain: chain() }),
                Tls::InvalidCertificate(
                    Cert::NotValidForName | Cert::NotValidForNameContext { .. },
                ) => Some(Refusal::CertificateForAnotherHost { chain: chain() }),
                Tls::InvalidCertificate(_) => Some(Refusal::CertificateRefused { chain: chain() }),
                // Bytes that are no TLS record: most often an http server's answer.
                Tls::InvalidMessage(_) => Some(Refusal::NotTls { chain: chain() }),
                Tls::PeerIncompatible(_)
                | Tls::AlertReceived(
                    Alert::ProtocolVersion | Alert::HandshakeFailure | Alert::InsufficientSecurity,
                ) => Some(Refusal::TlsIncompatible { chain: chain() }),
                _ => None,
            };
        }
        // hyper-util's `TunnelError` is private; its words are all it shows. It keeps no status
        // but 407's: any other answer to the CONNECT but 200 (403, 404, a redirect, a 5xx, or
        // no HTTP at all) is "unsuccessful", and is taken as a refusal that waiting will not
        // change, since a run that waits it out ends "unreachable", exit 4, which some CI
        // configurations let pass.
        let words = cause.to_string();
        if words.ends_with("proxy authorization required") {
            Some(Refusal::ProxyAuthentication)
        } else if words == "tunnel error: unsuccessful" {
            Some(Refusal::ProxyRefusedTunnel { status: None })
        } else {
            None
        }
    })
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

/// Why the HTTP client cannot be built: the run stops before any request is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ClientError {
    #[error(
        "could not set up the HTTP client: {} cannot be sent in a header",
        Var::ApiKey
    )]
    KeyNotAHeader,
    #[error("could not set up the HTTP client (TLS): {0}")]
    Tls(TlsError),
    /// reqwest's own words, with their causes (its error is neither `Clone` nor `Eq`).
    #[error("could not set up the HTTP client (TLS): {0}")]
    Build(String),
}

pub(crate) struct Client {
    http: reqwest::Client,
    redactor: Redactor,
    base: Url,
    project_id: String,
    request_timeout: Duration,
    phase: Phase,
}

impl Client {
    pub(crate) fn new(config: &Config) -> Result<Self, ClientError> {
        // The `ring` provider: a smaller binary and a faster first handshake than aws-lc-rs.
        // An error only means a provider is already installed, which is what we want.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.api_key.expose()))
            .map_err(|_| ClientError::KeyNotAHeader)?;
        auth.set_sensitive(true);
        let mut builder = reqwest::Client::builder();
        if config.api_url.scheme() == "http" {
            // Plain http is allowed to this machine only; a proxy would carry the key elsewhere
            // in clear. HTTPS_PROXY and NO_PROXY apply to https, through a CONNECT tunnel.
            builder = builder.no_proxy();
        }
        if let Some(loopback) = pinned(&config.api_url) {
            builder = builder.resolve_to_addrs("localhost", &loopback);
        }
        let phase = Phase::default();
        let http = crate::api::tls::trust(builder, &config.api_url, &config.roots)
            .map_err(ClientError::Tls)?
            .user_agent(concat!("mintlify-agent-gate/", env!("CARGO_PKG_VERSION")))
            .default_headers(HeaderMap::from_iter([(AUTHORIZATION, auth)]))
            .redirect(redirect::Policy::none())
            .connect_timeout(connect_timeout(config.request_timeout))
            .connector_layer(phase.clone())
            // A fresh connection for every request, so that one still being made is this
            // request's own: with a pool, a connection started for one request may be beaten
            // by one that came back idle, and a start sent on that would look unsent.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|error| ClientError::Build(error_chain(&error)))?;
        Ok(Client {
            http,
            redactor: Redactor::new(config.api_key.expose()),
            base: config.api_url.clone(),
            project_id: config.project_id.clone(),
            request_timeout: config.request_timeout,
            phase,
        })
    }

    /// Whether the last request is still making its connection (or failed to): one cut off
    /// then never reached the server.
    pub(crate) fn connecting(&self) -> bool {
        !self.phase.connected()
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
            origin: Origin::Given,
        }
    }

    /// Reads the job. `origin`: whether this run created it, which decides what a 404 means.
    pub(crate) async fn get_job(&self, job_id: &str, origin: Origin) -> Result<Job, Failure> {
        let request = self.http.get(self.url(&["job", job_id]));
        let target = Target {
            origin,
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

    /// Reads a deployment's status. `origin`: whether this run triggered it, which decides
    /// what a 404 means.
    pub(crate) async fn get_deployment(
        &self,
        status_id: &str,
        origin: Origin,
    ) -> Result<Deployment, Failure> {
        let request = self
            .http
            .get(self.url_v1(&["project", "update-status", status_id]));
        let target = Target {
            origin,
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
        self.phase.start_request();
        let answer = match request.timeout(limit.duration()).send().await {
            Ok(response) => read(response, &self.redactor).await,
            Err(error) => Err(error),
        };
        match answer {
            Ok(answer) => classify_as(answer, target),
            Err(error) => {
                let attempt = Attempt {
                    connected: self.phase.connected(),
                    connect_timeout: connect_timeout(self.request_timeout),
                };
                match unsent(&error, target, limit, attempt) {
                    Failure::Permanent(Refusal::ProxyRefusedTunnel { .. }) => {
                        Err(self.tunnel_refused(deadline).await)
                    }
                    failure => Err(failure),
                }
            }
        }
    }
}

impl Client {
    /// A proxy that cannot reach the API now (502, 503, 504) may later: that is worth waiting
    /// for, and the request never reached the API. Any other refusal of the tunnel is not.
    async fn tunnel_refused(&self, deadline: Option<Instant>) -> Failure {
        let mut within = connect_timeout(self.request_timeout);
        if let Some(deadline) = deadline {
            within = within.min(deadline.saturating_duration_since(Instant::now()));
        }
        let status = tunnel_status(&self.base, within).await;
        match status {
            Some(status @ (502..=504)) => {
                Failure::transient(Trouble::ProxyCannotReach { status }, None, false)
            }
            status => Failure::Permanent(Refusal::ProxyRefusedTunnel { status }),
        }
    }
}

fn with_prompt(request: RequestBuilder, prompt: &str) -> RequestBuilder {
    let body = serde_json::json!({ "prompt": prompt }).to_string();
    request.header(CONTENT_TYPE, "application/json").body(body)
}

/// Reads an answer whole (up to [`BODY_LIMIT`]), decoded and redacted before anything else
/// looks at it. A body still coming when the request's time is up is the same failure as
/// headers that never came: the error.
async fn read(mut response: Response, redactor: &Redactor) -> Result<Answer, reqwest::Error> {
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
    // Neither a length nor chunks: the end of the connection is the end of the body.
    let close_delimited =
        response.content_length().is_none() && !headers.contains_key(TRANSFER_ENCODING);
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
                Err(error) if error.is_timeout() => return Err(error),
                // A body that ends where the connection does, closed without TLS `close_notify`
                // (as many servers do): what arrived stands if it is whole JSON, which a cut
                // cannot leave it (an object ends at its last byte).
                Err(error) if close_delimited && closed_without_notify(&error) => {
                    match Body::decode(&body, redactor) {
                        json @ Body::Json(_) => break json,
                        _ => break Body::Unread(NotAJob::BrokeOff(error_chain(&error))),
                    }
                }
                Err(error) => {
                    break Body::Unread(NotAJob::BrokeOff(error_chain(&error)));
                }
            }
        }
    };
    Ok(Answer {
        status: status.as_u16(),
        retry_after,
        location,
        body,
    })
}

/// The end of a TLS connection without `close_notify`, as rustls reports it.
fn closed_without_notify(error: &reqwest::Error) -> bool {
    causes(error).any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| {
            io.kind() == std::io::ErrorKind::UnexpectedEof
                && io.to_string().contains("close_notify")
        })
    })
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
