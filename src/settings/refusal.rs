//! The refusals of settings: each one line that names the input (as the flag or the variable
//! that gave it) and says what to do. A refusal means nothing was sent and nothing written.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::duration;
use super::flags::ValueProblem;
use super::proxy::ProxyProblem;
use crate::text::sanitize::{quoted, truncated, untrusted};

/// Where a value came from, as a refusal names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Setting {
    Flag(String),
    Variable(String),
}

impl Setting {
    /// The flag or the variable, as a sentence names it.
    pub(crate) fn name(&self) -> &str {
        match self {
            Setting::Flag(name) | Setting::Variable(name) => name,
        }
    }

    /// What takes it away: a variable is unset, a flag dropped.
    fn remove(&self) -> &'static str {
        match self {
            Setting::Flag(_) => "drop",
            Setting::Variable(_) => "unset",
        }
    }
}

/// What a refusal that nothing is set adds when a setting was set to nothing.
fn empty_note(empty: Option<&Setting>) -> String {
    empty.map_or_else(String::new, |empty| {
        format!(
            " ({} is empty, which counts as not set: if it should hold a value, the expression that fills it came out empty)",
            empty.name()
        )
    })
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setting::Flag(flag) => write!(f, "{flag} "),
            Setting::Variable(var) => write!(f, "{var}="),
        }
    }
}

/// A refusal: one line that names the input and says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ConfigError {
    /// clap's own words: an unknown or repeated flag, a missing value.
    #[error("{0}")]
    Usage(String),
    #[error("{setting}{} {problem}", quoted(value))]
    Invalid {
        setting: Setting,
        value: String,
        problem: ValueProblem,
    },
    #[error(
        "MINTLIFY_API_KEY is not set: set it to an admin API key (mint_...) from the Mintlify dashboard"
    )]
    KeyMissing,
    #[error("MINTLIFY_API_KEY is blank: set it to an admin API key (mint_...)")]
    KeyBlank,
    // The key's prefix is not quoted: 8 characters of the key are redacted wherever they appear.
    #[error(
        "MINTLIFY_API_KEY is {kind}, which the agent API refuses: use an admin API key (mint_...)"
    )]
    KeyOfKind { kind: &'static str },
    #[error(
        "MINTLIFY_API_KEY holds spaces, control or non-ASCII characters: paste the admin API key (mint_...) alone"
    )]
    KeyCharacters,
    #[error(
        "--api-key is not accepted (a flag would show the key in process lists and logs): set MINTLIFY_API_KEY in the environment"
    )]
    KeyAsFlag,
    #[error(
        "an argument looks like a Mintlify key (mint_...), which is never given on the command line (process lists and logs show it): set MINTLIFY_API_KEY in the environment"
    )]
    KeyAsArgument,
    #[error(
        "{flag} is followed by {}, which is taken for a flag, not its value: a value that starts with - goes after =, as {flag}={}, or in {var}",
        quoted(next),
        untrusted(&truncated(next, 60))
    )]
    FlagAsValue {
        flag: String,
        next: String,
        var: String,
    },
    #[error("{0} holds bytes that are not UTF-8: settings are text; fix its encoding")]
    NotUtf8(String),
    #[error("MINTLIFY_PROJECT_ID (or --project-id) is not set: set it to the project id")]
    NoProject,
    #[error(
        "MINTLIFY_JOB_ID (or --job-id) is not set{}: set it to the job to wait on, or set MINTLIFY_PROMPT (--prompt) to start one (or, for a deployment, MINTLIFY_DEPLOY, MINTLIFY_PREVIEW_BRANCH, MINTLIFY_DEPLOYMENT_ID or MINTLIFY_AUTOMATION_ID)",
        empty_note(.empty.as_ref())
    )]
    NoJob { empty: Option<Setting> },
    #[error("{} each choose what the run is about: keep one", .0.join(" and "))]
    SeveralSubjects(Vec<String>),
    #[error(
        "{} is set but empty or blank beside {}, which chooses what the run is about: {} {}{} if the run is about {}; if {} should hold a value, the expression that fills it came out empty",
        empty.name(),
        beside.name(),
        empty.remove(),
        empty.name(),
        overridden.as_ref().map_or_else(String::new, |var| format!(" and unset {var}, which it overrides,")),
        beside.name(),
        empty.name()
    )]
    EmptySubject {
        empty: Setting,
        beside: Setting,
        /// The variable an empty flag overrides, when it holds a value: dropping the flag alone
        /// would bring that value back, and with it a run about something else.
        overridden: Option<String>,
    },
    #[error(
        "MINTLIFY_PREVIEW (--preview) builds a preview of an agent job's branch, and no agent job is set{}: set MINTLIFY_JOB_ID or MINTLIFY_PROMPT, or use MINTLIFY_PREVIEW_BRANCH for a branch of your own",
        empty_note(.empty.as_ref())
    )]
    PreviewWithoutAgent { empty: Option<Setting> },
    #[error(
        "MINTLIFY_PREVIEW (--preview) waits for the agent job to build its preview, and MINTLIFY_WAIT=false asks not to wait: drop one"
    )]
    PreviewWithoutWaiting,
    #[error(
        "MINTLIFY_WAIT=false (--wait=false) with MINTLIFY_DEPLOYMENT_ID: there is nothing to start, only to wait on; drop one"
    )]
    WaitWithoutTrigger,
    #[error(
        "both a prompt and a prompt file are given (MINTLIFY_PROMPT or --prompt, MINTLIFY_PROMPT_FILE or --prompt-file): keep one"
    )]
    PromptTwice,
    #[error("{setting}{} {problem}", quoted(&path.display().to_string()))]
    PromptFile {
        setting: Setting,
        path: PathBuf,
        problem: FileProblem,
    },
    #[error(
        "MINTLIFY_WAIT=false (--wait=false) needs a prompt (MINTLIFY_PROMPT or --prompt): without one there is nothing to start, only to wait on"
    )]
    WaitWithoutPrompt,
    #[error(
        "MINTLIFY_POLL_MAX (--poll-max) is {}, above 10s: Mintlify asks for a poll every 5 to 10 seconds, so give 10s or less",
        duration::display(*.0)
    )]
    PollAboveCap(Duration),
    #[error(
        "MINTLIFY_POLL_INITIAL (--poll-initial) is {}, above MINTLIFY_POLL_MAX (--poll-max), {}: lower the first or raise the second (at most 10s)",
        duration::display(*initial),
        duration::display(*max)
    )]
    PollInitialAboveMax { initial: Duration, max: Duration },
    #[error(
        "MINTLIFY_POLL_INITIAL (--poll-initial) is {}, under 1s, which is for a mock API on this machine only: Mintlify asks for a poll every 5 to 10 seconds, so give 1s or more",
        duration::display(*.0)
    )]
    PollTooFast(Duration),
    #[error("SSL_CERT_FILE={} {problem}", quoted(&path.display().to_string()))]
    CaBundle { path: PathBuf, problem: FileProblem },
    #[error(
        "MINTLIFY_DOTENV (or --dotenv) names the same file as GITHUB_OUTPUT, which the runner owns and reads as outputs: give the dotenv report a file of its own"
    )]
    DotenvIsGithubOutput,
    #[error("{name}={} {problem}", quoted(value))]
    Proxy {
        name: &'static str,
        value: String,
        problem: ProxyProblem,
    },
}

/// Why a file named by a setting cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FileProblem {
    #[error(
        "cannot be read ({0}): check the path (a relative one starts from the working directory)"
    )]
    Unreadable(String),
    #[error("is not a regular file: name a file")]
    NotAFile,
    #[error("is over 1 MiB: a prompt is text for the agent, keep it shorter")]
    TooLarge,
    #[error("is not UTF-8 text: save it as UTF-8")]
    NotUtf8,
    #[error(
        "is empty (nothing but whitespace or invisible characters): write what the agent should do in it"
    )]
    Empty,
    #[error(
        "is UTF-16 text (as PowerShell 5's > and Out-File write): save it as UTF-8 (Out-File -Encoding utf8)"
    )]
    Utf16,
    #[error(
        "holds no usable PEM certificate (-----BEGIN CERTIFICATE-----): point it at a PEM bundle of CA certificates, or unset it"
    )]
    NoCertificate,
}
