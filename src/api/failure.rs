//! What can go wrong with a request, as types: [`Trouble`] that may pass by waiting, and a
//! [`Refusal`] that will not. Each message lives in its `Display`; a setting that these
//! messages or a run's verdict send the user to check is named through [`Var`] (the refusals of
//! the settings themselves, in `settings`, and the exit codes' meanings, in `run::outcome`,
//! spell their names out). Server text in a message is already escaped for a log line.

use std::fmt;
use std::time::Duration;

use crate::api::classify::Start;
use crate::api::resource::Subject;
use crate::settings::duration::display;
use crate::text::sanitize::quoted;

/// The settings a message can point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Var {
    ApiKey,
    ApiUrl,
    ProjectId,
    JobId,
    Timeout,
    RequestTimeout,
    AllowArchived,
    RequirePr,
    Wait,
    SslCertFile,
    DeploymentId,
    AutomationId,
    PreviewBranch,
    HttpsProxy,
}

impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Var::ApiKey => "MINTLIFY_API_KEY",
            Var::ApiUrl => "MINTLIFY_API_URL",
            Var::ProjectId => "MINTLIFY_PROJECT_ID",
            Var::JobId => "MINTLIFY_JOB_ID",
            Var::Timeout => "MINTLIFY_TIMEOUT",
            Var::RequestTimeout => "MINTLIFY_REQUEST_TIMEOUT",
            Var::AllowArchived => "MINTLIFY_ALLOW_ARCHIVED",
            Var::RequirePr => "MINTLIFY_REQUIRE_PR",
            Var::Wait => "MINTLIFY_WAIT",
            Var::SslCertFile => "SSL_CERT_FILE",
            Var::DeploymentId => "MINTLIFY_DEPLOYMENT_ID",
            Var::AutomationId => "MINTLIFY_AUTOMATION_ID",
            Var::PreviewBranch => "MINTLIFY_PREVIEW_BRANCH",
            Var::HttpsProxy => "HTTPS_PROXY",
        })
    }
}

/// The server's own words, escaped and short: shown as `: words`, or not at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Words(pub(crate) String);

impl fmt::Display for Words {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, ": {}", self.0)
        }
    }
}

/// Why an answer is not what was asked for (a job, a deployment's status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NotAJob {
    #[error("the answer is not JSON ({0})")]
    NotJson(String),
    #[error("the answer is empty")]
    Empty,
    #[error("the answer is JSON but not an object")]
    NotAnObject,
    #[error("the answer has no status string")]
    NoStatus,
    #[error(
        "the answer's status holds a character that could not be decoded (a lone UTF-16 surrogate escape or a byte that is not UTF-8)"
    )]
    UndecodableStatus,
    #[error("the answer gives {0} twice, so what it says depends on the reader")]
    Ambiguous(&'static str),
    #[error("the answer is over 1 MiB")]
    TooLarge,
    #[error("the answer broke off: {0}")]
    BrokeOff(String),
}

/// A failure that may pass by waiting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Trouble {
    #[error("the API is rate limiting (HTTP 429)")]
    RateLimited,
    #[error("the API is unavailable (HTTP 503{words})")]
    Unavailable { words: Words },
    #[error("the API answered HTTP {status}{words}")]
    ServerError { status: u16, words: Words },
    #[error("{0}, so it is not a job")]
    NotAJob(NotAJob),
    #[error("{0}, so it is not a deployment's status")]
    NotAStatus(NotAJob),
    #[error(
        "job {} is not readable yet (HTTP 404), as can happen right after it is created",
        quoted(.0)
    )]
    NotReadableYet(String),
    #[error(
        "deployment {} is not readable yet (HTTP 404), as can happen right after it is triggered",
        quoted(.0)
    )]
    StatusNotReadableYet(String),
    #[error("no answer within {} ({})", Var::RequestTimeout, display(*.0))]
    RequestTimeout(Duration),
    #[error("no answer before the deadline ({})", Var::Timeout)]
    Deadline,
    /// The connection (DNS, TCP, TLS, a proxy's tunnel) was not made in time.
    #[error("no connection within {}", display(*.0))]
    ConnectTimeout(Duration),
    #[error("the request failed: {0}")]
    RequestFailed(String),
    #[error(
        "the proxy in {} (or ALL_PROXY) could not reach the API (HTTP {status} to its CONNECT)",
        Var::HttpsProxy
    )]
    ProxyCannotReach { status: u16 },
}

/// Who answered instead of the job or deployment asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answered {
    Named(Subject, String),
    /// An `id` that is not a string of 1 to 256 bytes.
    NoUsableId,
}

impl fmt::Display for Answered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answered::Named(subject, id) => write!(f, "{subject} {}", quoted(id)),
            Answered::NoUsableId => f.write_str("an id that is not a string of 1 to 256 bytes"),
        }
    }
}

/// A failure that will not pass by waiting: the run stops, saying what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    #[error(
        "the API refused the key (HTTP {status}{words}): is it expired, not an admin key (mint_...), or from another organization? Check {}",
        Var::ApiKey
    )]
    Key { status: u16, words: Words },
    #[error(
        "job {} was not found in project {} (HTTP 404{words}): check {} and {}",
        quoted(job_id),
        quoted(project_id),
        Var::ProjectId,
        Var::JobId
    )]
    JobNotFound {
        job_id: String,
        project_id: String,
        words: Words,
    },
    #[error(
        "project {} was not found (HTTP 404{words}): check {}",
        quoted(project_id),
        Var::ProjectId
    )]
    ProjectNotFound { project_id: String, words: Words },
    #[error(
        "the API answered with a redirect (HTTP {status}) to {location}, which is not followed so the key cannot travel elsewhere: check {}",
        Var::ApiUrl
    )]
    Redirect { status: u16, location: String },
    #[error(
        "the request to create a job was answered with a redirect (HTTP {status}) to {location}, which is not followed so the key cannot travel elsewhere; the job may have been created all the same: check the agent jobs of project {} in the Mintlify dashboard before running this again, or the agent may run twice; then check {}",
        quoted(project_id),
        Var::ApiUrl
    )]
    CreateRedirected {
        project_id: String,
        status: u16,
        location: String,
    },
    #[error(
        "the follow-up to job {} was answered with a redirect (HTTP {status}) to {location}, which is not followed so the key cannot travel elsewhere; it may have been delivered all the same: check the job in the Mintlify dashboard before sending it again, or the agent may run it twice; then check {}",
        quoted(job_id),
        Var::ApiUrl
    )]
    FollowUpRedirected {
        job_id: String,
        status: u16,
        location: String,
    },
    #[error(
        "job {}, created by this run, is still not readable (HTTP 404{words}) {} after it was created: find it in the Mintlify dashboard, and wait on it with {} once the API serves it",
        quoted(job_id),
        display(crate::run::progress::CREATED_NOT_FOUND_GRACE),
        Var::JobId
    )]
    CreatedNotReadable { job_id: String, words: Words },
    #[error(
        "the API refused the request (HTTP {status}{words}): check the settings against the Mintlify API docs"
    )]
    Rejected { status: u16, words: Words },
    #[error(
        "the API answered about {answered} when asked about job {}, so the answer is not trusted: check {} and any proxy or cache in between",
        quoted(asked),
        Var::ApiUrl
    )]
    OtherJob { asked: String, answered: Answered },
    #[error(
        "the follow-up to job {} was answered about {answered}, so the answer is not trusted; the follow-up may have been delivered: check the job in the Mintlify dashboard before sending it again, and {} and any proxy or cache in between",
        quoted(asked),
        Var::ApiUrl
    )]
    FollowUpOtherJob { asked: String, answered: Answered },
    #[error(
        "the API answered that the job was created (HTTP {status}), but the id in the answer {problem}: find the job in the Mintlify dashboard and wait on it with {}",
        Var::JobId
    )]
    CreatedWithoutId { status: u16, problem: String },
    #[error(
        "the request to create a job may or may not have reached Mintlify ({reason}), so a job may or may not exist: check the agent jobs of project {} in the Mintlify dashboard before running this again, or the agent may run twice",
        quoted(project_id)
    )]
    CreateUncertain { project_id: String, reason: Trouble },
    #[error(
        "the follow-up to job {} may or may not have reached Mintlify ({reason}): check the job in the Mintlify dashboard before sending it again, or the agent may run it twice",
        quoted(job_id)
    )]
    FollowUpUncertain { job_id: String, reason: Trouble },
    #[error(
        "the API's TLS certificate is not trusted ({chain}): behind a proxy or a private CA, point {} at a PEM bundle of the roots to trust",
        Var::SslCertFile
    )]
    UntrustedCertificate { chain: String },
    #[error(
        "the API's TLS certificate is expired or not yet valid ({chain}): check this machine's clock, or ask the server's operator to renew it"
    )]
    CertificateExpired { chain: String },
    #[error(
        "the API's TLS certificate is not valid for the host in {} ({chain}): check {}",
        Var::ApiUrl,
        Var::ApiUrl
    )]
    CertificateForAnotherHost { chain: String },
    #[error(
        "the API's TLS certificate is refused ({chain}): check {} and the server's certificate",
        Var::ApiUrl
    )]
    CertificateRefused { chain: String },
    #[error(
        "the API did not answer in TLS ({chain}): is it plain http on that port? Check {}",
        Var::ApiUrl
    )]
    NotTls { chain: String },
    #[error(
        "the API and this program share no TLS version or cipher suite ({chain}): this program speaks TLS 1.2 and 1.3; check {} and the server's TLS settings",
        Var::ApiUrl
    )]
    TlsIncompatible { chain: String },
    #[error(
        "the proxy asked for credentials (HTTP 407): give them, or the right ones, in its URL ({}=http://user:password@host:port)",
        Var::HttpsProxy
    )]
    ProxyAuthentication,
    #[error(
        "the proxy in {} (or ALL_PROXY) refused to open a tunnel to the API ({}): check the proxy's rules for the API's host and port, or add the host to NO_PROXY",
        Var::HttpsProxy,
        match .status { Some(status) => format!("HTTP {status} to its CONNECT"), None => "its answer to the CONNECT was neither 200 nor 407".to_owned() }
    )]
    ProxyRefusedTunnel { status: Option<u16> },
    #[error(
        "the API answered until the deadline, but never with a job ({reason}), so how the job ended is unknown: check {} and the job in the Mintlify dashboard",
        Var::ApiUrl
    )]
    NeverAJob { reason: NotAJob },
    /// The HTTP client could not be built.
    #[error(transparent)]
    Setup(crate::api::client::ClientError),
    /// What went wrong, in its own words (not repeated around them).
    #[error("{0}")]
    Client(String),
    #[error(
        "the API answered about {answered} when asked about deployment {}, so the answer is not trusted: check {} and any proxy or cache in between",
        quoted(asked),
        Var::ApiUrl
    )]
    OtherDeployment { asked: String, answered: Answered },
    #[error(
        "deployment {} was not found (HTTP 404{words}): check {} (the statusId a trigger answered)",
        quoted(id),
        Var::DeploymentId
    )]
    DeploymentNotFound { id: String, words: Words },
    #[error(
        "automation {} was not found in project {} (HTTP 404{words}): check {} (in the automation's settings panel) and {}",
        quoted(automation_id),
        quoted(project_id),
        Var::AutomationId,
        Var::ProjectId
    )]
    AutomationNotFound {
        automation_id: String,
        project_id: String,
        words: Words,
    },
    #[error(
        "automation {} cannot be triggered (HTTP 400{words}): only an active automation on a custom schedule can; check it on the Automations page and {}",
        quoted(automation_id),
        Var::AutomationId
    )]
    AutomationRefused { automation_id: String, words: Words },
    #[error(
        "the API refused the request (HTTP 403{words}): deployments and automations through the API need a Pro or Enterprise plan and an admin key (mint_...) of this organization; check the plan and {}",
        Var::ApiKey
    )]
    KeyOrPlan { words: Words },
    #[error(
        "the API refused the preview (HTTP 403{words}): previews need a Pro or Enterprise plan; if the plan has them, check that {} is an admin key of this organization",
        Var::ApiKey
    )]
    NoPreviews { words: Words },
    #[error(
        "the API answered that {} was triggered (HTTP {status}), but {problem}: find it in the Mintlify dashboard before triggering it again",
        start.what()
    )]
    TriggeredWithoutId {
        start: Start,
        status: u16,
        problem: String,
    },
    #[error(
        "the request to trigger {} may or may not have reached Mintlify ({reason}): check {} of project {} in the Mintlify dashboard before running this again",
        start.what(),
        start.dashboard_page(),
        quoted(project_id)
    )]
    TriggerUncertain {
        start: Start,
        project_id: String,
        reason: Trouble,
    },
    #[error(
        "the request to trigger {} was answered with a redirect (HTTP {status}) to {location}, which is not followed so the key cannot travel elsewhere; it may have been queued all the same: check {} of project {} in the Mintlify dashboard before running this again; then check {}",
        start.what(),
        start.dashboard_page(),
        quoted(project_id),
        Var::ApiUrl
    )]
    TriggerRedirected {
        start: Start,
        project_id: String,
        status: u16,
        location: String,
    },
    #[error(
        "deployment {}, triggered by this run, is still not readable (HTTP 404{words}) {} after it was triggered: find it in the Mintlify dashboard",
        quoted(id),
        display(crate::run::progress::CREATED_NOT_FOUND_GRACE)
    )]
    TriggeredNotReadable { id: String, words: Words },
    #[error(
        "the API answered until the deadline, but never with a deployment's status ({reason}), so how the deployment ended is unknown: check {} and the deployment in the Mintlify dashboard",
        Var::ApiUrl
    )]
    NeverAStatus { reason: NotAJob },
    #[error(
        "the job completed with a PR, but its answer names no usable branch (source.ref absent, with whitespace or control characters, or redacted for holding part of the key), so no preview can be built: build one with {} set to the PR's branch",
        Var::PreviewBranch
    )]
    PreviewWithoutBranch,
}

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Worth the same request again, on the poll schedule.
    Transient(Transient),
    Permanent(Refusal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transient {
    pub(crate) trouble: Trouble,
    /// What the server asked for with `Retry-After`, honoured even above the poll cap.
    pub(crate) retry_after: Option<Duration>,
    /// A connection to the API was made: it is reachable, whatever went wrong after.
    pub(crate) reached: bool,
}

impl Failure {
    pub(crate) fn transient(
        trouble: Trouble,
        retry_after: Option<Duration>,
        reached: bool,
    ) -> Self {
        Failure::Transient(Transient {
            trouble,
            retry_after,
            reached,
        })
    }
}
