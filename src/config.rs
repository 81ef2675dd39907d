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
use crate::sanitize::untrusted;

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
        default: "required",
        help: "job id",
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
    pub job_id: String,
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

    fn required(&self, var: &str) -> Result<String, ConfigError> {
        self.get(var).map_or_else(
            || refuse(format!("{var} is not set: set it to the {}", describe(var))),
            Ok,
        )
    }

    fn duration(&self, var: &str) -> Result<Duration, ConfigError> {
        let text = self.get(var).unwrap_or_else(|| default_of(var).to_owned());
        match duration::parse(&text) {
            Some(Duration::ZERO) => refuse(format!("{var} is zero: give a positive duration")),
            Some(value) => Ok(value),
            None => refuse(format!(
                "{var}={:?} is not a duration: write it as 90, 90s, 15m, 1h30m or 500ms",
                untrusted(&text)
            )),
        }
    }

    fn boolean(&self, var: &str) -> Result<bool, ConfigError> {
        let Some(text) = self.get(var) else {
            return Ok(false);
        };
        match text.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => refuse(format!(
                "{var}={:?} is not a boolean: use true or false (1/0 and yes/no work too)",
                untrusted(&text)
            )),
        }
    }

    fn id(&self, var: &str) -> Result<String, ConfigError> {
        let id = self.required(var)?;
        if id.chars().any(char::is_control) {
            return refuse(format!(
                "{var} holds a control character (a stray newline?): give the bare {}",
                describe(var)
            ));
        }
        if id == "." || id == ".." {
            return refuse(format!(
                "{var}={id:?} is not an id: give the {}",
                describe(var)
            ));
        }
        Ok(id)
    }
}

fn default_of(var: &str) -> &'static str {
    SETTINGS
        .iter()
        .find(|s| s.var == var)
        .map_or("", |s| s.default)
}

fn describe(var: &str) -> &'static str {
    SETTINGS
        .iter()
        .find(|s| s.var == var)
        .map_or("value", |s| s.help)
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
                    "unexpected argument {:?}: settings are flags (--job-id ID) or MINTLIFY_* variables; see --help",
                    untrusted(arg)
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
        let job_id = sources.id("MINTLIFY_JOB_ID")?;
        let api_url = api_url(
            &sources
                .get("MINTLIFY_API_URL")
                .unwrap_or_else(|| default_of("MINTLIFY_API_URL").to_owned()),
        )?;
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
        let request_timeout = sources.duration("MINTLIFY_REQUEST_TIMEOUT")?;
        let allow_archived = sources.boolean("MINTLIFY_ALLOW_ARCHIVED")?;
        let require_pr = sources.boolean("MINTLIFY_REQUIRE_PR")?;
        let log_level = log_level(sources.get("MINTLIFY_LOG"))?;
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
            job_id,
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
            "MINTLIFY_API_URL={:?} is not a URL: give a base URL such as https://api.mintlify.com",
            untrusted(text)
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
        other => refuse(format!("MINTLIFY_API_URL has scheme {other:?}: use https")),
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

fn log_level(value: Option<String>) -> Result<LevelFilter, ConfigError> {
    let text = value.unwrap_or_else(|| default_of("MINTLIFY_LOG").to_owned());
    match text.to_ascii_lowercase().as_str() {
        "error" => Ok(LevelFilter::ERROR),
        "warn" => Ok(LevelFilter::WARN),
        "info" => Ok(LevelFilter::INFO),
        "debug" => Ok(LevelFilter::DEBUG),
        "trace" => Ok(LevelFilter::TRACE),
        _ => refuse(format!(
            "MINTLIFY_LOG={:?} is not a log level: use error, warn, info, debug or trace",
            untrusted(&text)
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
        "\nExit codes: 0 completed, 1 failed, 2 bad configuration, 3 archived, 4 timeout,\n\
         5 API error, 6 completed without a PR (MINTLIFY_REQUIRE_PR), 7 outputs not written,\n\
         130/143 interrupted by SIGINT/SIGTERM.\n",
    );
    text
}

#[cfg(test)]
mod tests;
