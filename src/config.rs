//! Settings, read from `MINTLIFY_*` variables or the flag of the same name, and checked in full
//! before any request is sent: a run that starts is a run whose inputs make sense.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use tracing::level_filters::LevelFilter;

use crate::duration;
use crate::sanitize::{quoted, untrusted};

/// One setting: its variable, its default as the user would write it, and what it means.
/// This table is the single source for flag names, `--help` and the README's settings table.
pub struct Setting {
    pub var: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

pub const SETTINGS: &[Setting] = &[
    Setting {
        var: "MINTLIFY_API_KEY",
        default: "required",
        help: "admin API key (mint_...); environment only, never a flag",
    },
    Setting {
        var: "MINTLIFY_PROJECT_ID",
        default: "required",
        help: "project id",
    },
    Setting {
        var: "MINTLIFY_JOB_ID",
        default: "required unless MINTLIFY_PROMPT",
        help: "job to wait on (with a prompt: the job to send it to)",
    },
    Setting {
        var: "MINTLIFY_PROMPT",
        default: "unset",
        help: "start the agent: create a job with this prompt, or send it to MINTLIFY_JOB_ID as a follow-up",
    },
    Setting {
        var: "MINTLIFY_PROMPT_FILE",
        default: "unset",
        help: "read the prompt from this file instead",
    },
    Setting {
        var: "MINTLIFY_WAIT",
        default: "true",
        help: "false: start the agent, write the outputs and exit 0 without waiting",
    },
    Setting {
        var: "MINTLIFY_API_URL",
        default: "https://api.mintlify.com",
        help: "base URL; https, or http to a loopback host only",
    },
    Setting {
        var: "MINTLIFY_TIMEOUT",
        default: "30m",
        help: "overall deadline: 90, 90s, 15m, 1h, 1h30m",
    },
    Setting {
        var: "MINTLIFY_POLL_INITIAL",
        default: "1s",
        help: "first wait between polls",
    },
    Setting {
        var: "MINTLIFY_POLL_MAX",
        default: "10s",
        help: "cap on the wait between polls; at most 10s",
    },
    Setting {
        var: "MINTLIFY_REQUEST_TIMEOUT",
        default: "30s",
        help: "limit for one HTTP request",
    },
    Setting {
        var: "MINTLIFY_ALLOW_ARCHIVED",
        default: "false",
        help: "treat an archived job as success",
    },
    Setting {
        var: "MINTLIFY_REQUIRE_PR",
        default: "false",
        help: "treat a completed job without a PR link as a failure",
    },
    Setting {
        var: "MINTLIFY_DOTENV",
        default: "unset",
        help: "also write the outputs to this file as a dotenv report (GitLab)",
    },
    Setting {
        var: "MINTLIFY_LOG",
        default: "info",
        help: "log level: error, warn, info, debug, trace",
    },
];

const API_KEY: &str = "MINTLIFY_API_KEY";
const POLL_CAP: Duration = Duration::from_secs(10);
/// Mintlify asks for a poll every 5 to 10 seconds; faster is for a mock on this machine only.
const POLL_FLOOR: Duration = Duration::from_secs(1);
/// The longest any duration setting may be: GitHub's longest job (self-hosted) runs 5 days.
/// Anything longer is a typo, and would overflow the clock if it were huge.
pub const DURATION_MAX: Duration = Duration::from_secs(5 * 24 * 3600);

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    Run(Box<Config>),
    Help,
    Version,
}

#[derive(Debug)]
pub struct Config {
    pub api_key: ApiKey,
    pub project_id: String,
    pub task: Task,
    /// `false`: start the agent and report without waiting for a verdict.
    pub wait: bool,
    pub api_url: Url,
    pub timeout: Duration,
    pub poll_initial: Duration,
    pub poll_max: Duration,
    pub request_timeout: Duration,
    pub allow_archived: bool,
    pub require_pr: bool,
    pub log_level: LevelFilter,
    pub destinations: Destinations,
}

/// What the run does before it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Task {
    /// Wait on an existing job.
    Watch { job_id: String },
    /// Create a job with this prompt, then wait on it.
    Create { prompt: String },
    /// Send this prompt to an existing job, then wait on it.
    FollowUp { job_id: String, prompt: String },
}

impl Task {
    /// The job id the run starts with: none until a created job has one.
    pub fn job_id(&self) -> Option<&str> {
        match self {
            Task::Watch { job_id } | Task::FollowUp { job_id, .. } => Some(job_id),
            Task::Create { .. } => None,
        }
    }
}

/// Where the outputs go. The GitHub paths are the runner's own variables, not settings.
#[derive(Debug, Default)]
pub struct Destinations {
    pub github_output: Option<PathBuf>,
    pub step_summary: Option<PathBuf>,
    pub github_actions: bool,
    pub dotenv: Option<PathBuf>,
}

/// The admin key. Its `Debug` and `Display` never show it, so no log line, error or panic can.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// A refusal: one line that names the input and says what to do.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn refuse<T>(message: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(message.into()))
}

/// `MINTLIFY_JOB_ID` is spelled `--job-id` on the command line.
pub fn flag_name(var: &str) -> String {
    var.trim_start_matches("MINTLIFY_")
        .to_ascii_lowercase()
        .replace('_', "-")
}

/// Settings as given: flags first, then the environment, empty values counting as unset
/// (GitHub passes an empty string for every input nobody set).
struct Sources<'a> {
    flags: HashMap<&'static str, String>,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Sources<'_> {
    fn get(&self, var: &str) -> Option<String> {
        let value = match self.flags.get(var) {
            Some(value) => Some(value.clone()),
            None => (self.env)(var),
        };
        value.filter(|v| !v.is_empty())
    }

    /// The value, or the default from [`SETTINGS`] as the user would have written it.
    fn or_default(&self, var: &str) -> String {
        self.get(var)
            .unwrap_or_else(|| setting(var).default.to_owned())
    }

    fn required(&self, var: &str) -> Result<String, ConfigError> {
        self.get(var).map_or_else(
            || {
                refuse(format!(
                    "{var} is not set: set it to the {}",
                    setting(var).help
                ))
            },
            Ok,
        )
    }

    fn duration(&self, var: &str) -> Result<Duration, ConfigError> {
        let text = self.or_default(var);
        match duration::parse(&text) {
            Some(Duration::ZERO) => refuse(format!("{var} is zero: give a positive duration")),
            Some(value) if value > DURATION_MAX => refuse(format!(
                "{var}={} is above the maximum of 5 days (120h): give a shorter duration",
                quoted(&text)
            )),
            Some(value) => Ok(value),
            None => refuse(format!(
                "{var}={} is not a duration: write it as 90, 90s, 15m, 1h30m or 500ms",
                quoted(&text)
            )),
        }
    }

    fn boolean(&self, var: &str) -> Result<bool, ConfigError> {
        let text = self.or_default(var);
        match text.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => refuse(format!(
                "{var}={} is not a boolean: use true or false (1/0 and yes/no work too)",
                quoted(&text)
            )),
        }
    }

    fn id(&self, var: &str) -> Result<String, ConfigError> {
        checked_id(var, &self.required(var)?)
    }

    /// The prompt from `MINTLIFY_PROMPT` or `MINTLIFY_PROMPT_FILE`, exactly as written.
    fn prompt(&self) -> Result<Option<String>, ConfigError> {
        let prompt = match (
            self.get("MINTLIFY_PROMPT"),
            self.get("MINTLIFY_PROMPT_FILE"),
        ) {
            (Some(_), Some(_)) => {
                return refuse("MINTLIFY_PROMPT and MINTLIFY_PROMPT_FILE are both set: keep one");
            }
            (Some(prompt), None) => prompt,
            (None, Some(path)) => read_prompt_file(&path)?,
            (None, None) => return Ok(None),
        };
        if prompt.trim().is_empty() {
            return refuse(
                "the prompt (MINTLIFY_PROMPT or MINTLIFY_PROMPT_FILE) is empty: write what the agent should do",
            );
        }
        Ok(Some(prompt))
    }

    fn task(&self) -> Result<Task, ConfigError> {
        let job_id = self
            .get("MINTLIFY_JOB_ID")
            .map(|id| checked_id("MINTLIFY_JOB_ID", &id))
            .transpose()?;
        Ok(match (self.prompt()?, job_id) {
            (None, Some(job_id)) => Task::Watch { job_id },
            (Some(prompt), None) => Task::Create { prompt },
            (Some(prompt), Some(job_id)) => Task::FollowUp { job_id, prompt },
            (None, None) => {
                return refuse(
                    "MINTLIFY_JOB_ID is not set: set it to the job to wait on, or set MINTLIFY_PROMPT to start one",
                );
            }
        })
    }
}

/// An id goes into a URL path segment and into log lines: refuse what could leave either.
/// Surrounding whitespace is dropped, as for the key: pasted values often carry a newline.
fn checked_id(var: &str, id: &str) -> Result<String, ConfigError> {
    let id = id.trim();
    match crate::job::check_id(id) {
        Ok(()) => Ok(id.to_owned()),
        Err(problem) => refuse(format!("{var} {problem}: give the bare id")),
    }
}

/// The most a prompt file may hold: far more than any prompt, far less than memory.
const PROMPT_FILE_LIMIT: u64 = 1024 * 1024;

/// Reads the prompt file, which must be a regular file: reading a FIFO with no writer would
/// block before the deadline even starts, and a device such as `/dev/zero` never ends.
fn read_prompt_file(path: &str) -> Result<String, ConfigError> {
    let unreadable = |error: std::io::Error| {
        ConfigError(format!(
            "MINTLIFY_PROMPT_FILE={} cannot be read ({error}): check the path (a relative one starts from the working directory)",
            quoted(path)
        ))
    };
    let metadata = std::fs::metadata(path).map_err(unreadable)?;
    if !metadata.is_file() {
        return refuse(format!(
            "MINTLIFY_PROMPT_FILE={} is not a regular file: write the prompt to a file and name that",
            quoted(path)
        ));
    }
    if metadata.len() > PROMPT_FILE_LIMIT {
        return refuse(format!(
            "MINTLIFY_PROMPT_FILE={} is over 1 MiB: a prompt is text for the agent, keep it shorter",
            quoted(path)
        ));
    }
    let bytes = std::fs::read(path).map_err(unreadable)?;
    String::from_utf8(bytes).map_err(|_| {
        ConfigError(format!(
            "MINTLIFY_PROMPT_FILE={} is not UTF-8 text: save it as UTF-8",
            quoted(path)
        ))
    })
}

/// A CA bundle that is named but cannot serve would fail every request later, as a TLS
/// error: refuse it now, by name. Only https loads roots, so only https checks it.
fn check_ca_bundle(path: &str) -> Result<(), ConfigError> {
    let named = || format!("SSL_CERT_FILE={}", quoted(path));
    let metadata = std::fs::metadata(path).map_err(|error| {
        ConfigError(format!(
            "{} cannot be read ({error}): point it at a PEM bundle of CA certificates, or unset it",
            named()
        ))
    })?;
    // Reading a FIFO would block with no writer; a bundle is a regular file.
    if !metadata.is_file() {
        return refuse(format!(
            "{} is not a regular file: point it at a PEM bundle of CA certificates, or unset it",
            named()
        ));
    }
    let text = std::fs::read(path).map_err(|error| {
        ConfigError(format!(
            "{} cannot be read ({error}): point it at a PEM bundle of CA certificates, or unset it",
            named()
        ))
    })?;
    let marker = b"-----BEGIN CERTIFICATE-----";
    if !text.windows(marker.len()).any(|window| window == marker) {
        return refuse(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----): point it at a PEM bundle of CA certificates, or unset it",
            named()
        ));
    }
    Ok(())
}

/// The table entry of a variable this module reads (all of them are in [`SETTINGS`]).
fn setting(var: &str) -> &'static Setting {
    static UNKNOWN: Setting = Setting {
        var: "",
        default: "",
        help: "value",
    };
    SETTINGS.iter().find(|s| s.var == var).unwrap_or(&UNKNOWN)
}

impl Command {
    /// Reads the command line and the environment. Nothing is sent anywhere until this succeeds.
    pub fn parse(
        args: &[String],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut flags = HashMap::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "-h" | "--help" => return Ok(Command::Help),
                "-V" | "--version" => return Ok(Command::Version),
                _ => {}
            }
            let Some(flag) = arg.strip_prefix("--") else {
                return refuse(format!(
                    "unexpected argument {}: settings are flags (--job-id ID) or MINTLIFY_* variables; see --help",
                    quoted(arg)
                ));
            };
            let (name, inline_value) = match flag.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (flag, None),
            };
            if name == flag_name(API_KEY) {
                return refuse(
                    "--api-key is not accepted (a flag would show the key in process lists and logs): set MINTLIFY_API_KEY in the environment",
                );
            }
            let Some(setting) = SETTINGS
                .iter()
                .find(|s| s.var != API_KEY && flag_name(s.var) == name)
            else {
                return refuse(format!(
                    "unknown flag --{}: see --help for the settings",
                    untrusted(name)
                ));
            };
            let value = match inline_value.or_else(|| args.next().cloned()) {
                Some(value) => value,
                None => return refuse(format!("--{name} needs a value: --{name} VALUE")),
            };
            flags.insert(setting.var, value);
        }
        let sources = Sources { flags, env };
        Config::read(&sources).map(|config| Command::Run(Box::new(config)))
    }
}

impl Config {
    fn read(sources: &Sources<'_>) -> Result<Self, ConfigError> {
        let api_key = api_key(sources.get(API_KEY))?;
        let project_id = sources.id("MINTLIFY_PROJECT_ID")?;
        let task = sources.task()?;
        let wait = sources.boolean("MINTLIFY_WAIT")?;
        if !wait && matches!(task, Task::Watch { .. }) {
            return refuse(
                "MINTLIFY_WAIT=false needs MINTLIFY_PROMPT: without a prompt there is nothing to start, only to wait on",
            );
        }
        let api_url = api_url(&sources.or_default("MINTLIFY_API_URL"))?;
        if api_url.scheme() == "https"
            && let Some(bundle) = (sources.env)("SSL_CERT_FILE").filter(|p| !p.is_empty())
        {
            check_ca_bundle(&bundle)?;
        }
        let timeout = sources.duration("MINTLIFY_TIMEOUT")?;
        let poll_initial = sources.duration("MINTLIFY_POLL_INITIAL")?;
        let poll_max = sources.duration("MINTLIFY_POLL_MAX")?;
        if poll_max > POLL_CAP {
            return refuse(format!(
                "MINTLIFY_POLL_MAX={} is above 10s: Mintlify asks for a poll every 5 to 10 seconds, so give 10s or less",
                duration::display(poll_max)
            ));
        }
        if poll_initial > poll_max {
            return refuse(format!(
                "MINTLIFY_POLL_INITIAL={} is above MINTLIFY_POLL_MAX={}: lower the first or raise the second (at most 10s)",
                duration::display(poll_initial),
                duration::display(poll_max)
            ));
        }
        if poll_initial < POLL_FLOOR && !is_loopback(&api_url) {
            return refuse(format!(
                "MINTLIFY_POLL_INITIAL={} is under 1s, which is for a mock API on this machine only: Mintlify asks for a poll every 5 to 10 seconds, so give 1s or more",
                duration::display(poll_initial)
            ));
        }
        let request_timeout = sources.duration("MINTLIFY_REQUEST_TIMEOUT")?;
        let allow_archived = sources.boolean("MINTLIFY_ALLOW_ARCHIVED")?;
        let require_pr = sources.boolean("MINTLIFY_REQUIRE_PR")?;
        let log_level = log_level(&sources.or_default("MINTLIFY_LOG"))?;
        let destinations = Destinations {
            github_output: (sources.env)("GITHUB_OUTPUT")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            step_summary: (sources.env)("GITHUB_STEP_SUMMARY")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            github_actions: (sources.env)("GITHUB_ACTIONS").as_deref() == Some("true"),
            dotenv: sources.get("MINTLIFY_DOTENV").map(PathBuf::from),
        };
        Ok(Config {
            api_key,
            project_id,
            task,
            wait,
            api_url,
            timeout,
            poll_initial,
            poll_max,
            request_timeout,
            allow_archived,
            require_pr,
            log_level,
            destinations,
        })
    }
}

#[cfg(test)]
impl Config {
    /// The settings of a plain run, for tests of what uses them.
    pub fn example() -> Config {
        let env = |name: &str| match name {
            API_KEY => Some("mint_example".to_owned()),
            "MINTLIFY_PROJECT_ID" => Some("proj".to_owned()),
            "MINTLIFY_JOB_ID" => Some("job_1".to_owned()),
            _ => None,
        };
        match Command::parse(&[], &env) {
            Ok(Command::Run(config)) => *config,
            other => panic!("the example settings do not parse: {other:?}"),
        }
    }
}

/// Checks the key's shape without ever echoing it. Surrounding whitespace is dropped because
/// secrets pasted into CI settings often carry a trailing newline.
fn api_key(value: Option<String>) -> Result<ApiKey, ConfigError> {
    let Some(value) = value else {
        return refuse(
            "MINTLIFY_API_KEY is not set: set it to an admin API key (mint_...) from the Mintlify dashboard",
        );
    };
    let key = value.trim();
    if key.is_empty() {
        return refuse("MINTLIFY_API_KEY is blank: set it to an admin API key (mint_...)");
    }
    for (prefix, kind) in [
        ("mint_dsc_", "an assistant key"),
        ("mint_us_", "an index key"),
    ] {
        if key.starts_with(prefix) {
            return refuse(format!(
                "MINTLIFY_API_KEY is {kind} ({prefix}...), which the agent API refuses: use an admin API key (mint_...)"
            ));
        }
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return refuse(
            "MINTLIFY_API_KEY holds spaces, control or non-ASCII characters: paste the admin API key (mint_...) alone",
        );
    }
    Ok(ApiKey(key.to_owned()))
}

/// The key goes in a header on every request, so only TLS is allowed, except to this machine.
fn api_url(text: &str) -> Result<Url, ConfigError> {
    let Ok(url) = Url::parse(text) else {
        return refuse(format!(
            "MINTLIFY_API_URL={} is not a URL: give a base URL such as https://api.mintlify.com",
            quoted(text)
        ));
    };
    if !url.username().is_empty() || url.password().is_some() {
        return refuse(
            "MINTLIFY_API_URL holds credentials: remove them; the key goes in MINTLIFY_API_KEY",
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return refuse("MINTLIFY_API_URL has a query or fragment: give the bare base URL");
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => refuse(format!(
            "MINTLIFY_API_URL={url} is plain http to another host, which would send the key in clear: use https (http is for 127.0.0.1, ::1 or localhost only)"
        )),
        other => refuse(format!(
            "MINTLIFY_API_URL has scheme {}: use https",
            quoted(other)
        )),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn log_level(text: &str) -> Result<LevelFilter, ConfigError> {
    match text.to_ascii_lowercase().as_str() {
        "error" => Ok(LevelFilter::ERROR),
        "warn" => Ok(LevelFilter::WARN),
        "info" => Ok(LevelFilter::INFO),
        "debug" => Ok(LevelFilter::DEBUG),
        "trace" => Ok(LevelFilter::TRACE),
        _ => refuse(format!(
            "MINTLIFY_LOG={} is not a log level: use error, warn, info, debug or trace",
            quoted(text)
        )),
    }
}

/// `--help`, generated from [`SETTINGS`] so it cannot drift from what is read.
pub fn help() -> String {
    let mut text = format!(
        "mintlify-agent-gate {}\nWaits on a Mintlify agent job and turns its final status into an exit code and CI outputs.\n\n\
         Usage: mintlify-agent-gate [--job-id ID] [--timeout 30m] ...\n\n\
         Every setting is a MINTLIFY_* variable; all but the key may also be given as a flag, which wins.\n\n",
        env!("CARGO_PKG_VERSION")
    );
    for setting in SETTINGS {
        let flag = if setting.var == API_KEY {
            "(no flag)".to_owned()
        } else {
            format!("--{}", flag_name(setting.var))
        };
        text.push_str(&format!(
            "  {flag:<20} {:<26} {} [default: {}]\n",
            setting.var, setting.help, setting.default
        ));
    }
    text.push_str(
        "\nExit codes: 0 completed (or started, with MINTLIFY_WAIT=false), 1 failed,\n\
         2 bad configuration, 3 archived, 4 timeout, 5 API error, 6 completed without a PR\n\
         (MINTLIFY_REQUIRE_PR), 7 outputs not written, 130/143 interrupted by SIGINT/SIGTERM.\n",
    );
    text
}

#[cfg(test)]
mod tests;
