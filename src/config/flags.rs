//! The one typed definition of every setting but the key: its flag, its variable, its type,
//! its default and its help line. clap reads the command line and then the environment (a
//! flag wins), checks each value with the parsers below, and writes `--help` from the same
//! definition, with the exit codes from [`Exit`].

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{FromArgMatches as _, Parser, ValueHint};
use reqwest::Url;
use tracing::level_filters::LevelFilter;

use super::{ConfigError, Setting};
use crate::duration;
use crate::job::{IdProblem, check_id};
use crate::outcome::Exit;

/// The longest any duration setting may be: GitHub's longest job (self-hosted) runs 5 days.
/// Anything longer is a typo, and would overflow the clock if it were huge.
pub(crate) const DURATION_MAX: Duration = Duration::from_hours(120);

/// Waits on a Mintlify agent job and turns its final status into an exit code and CI outputs.
// Each switch is a setting of its own, as the user gives it: not a state to fold into an enum.
#[allow(clippy::struct_excessive_bools)]
#[derive(Parser, Debug)]
#[command(
    name = "mintlify-agent-gate",
    version,
    max_term_width = 100,
    after_help = footer(),
    hide_possible_values = true
)]
pub(crate) struct Flags {
    /// Project id [required]
    #[arg(long, env = "MINTLIFY_PROJECT_ID", value_name = "ID", value_parser = id)]
    pub(crate) project_id: Option<String>,

    /// Job to wait on; with a prompt, the job to send it to [required unless a prompt is set]
    #[arg(long, env = "MINTLIFY_JOB_ID", value_name = "ID", value_parser = id)]
    pub(crate) job_id: Option<String>,

    /// Start the agent: create a job with this prompt, or send it to the job as a follow-up
    #[arg(long, env = "MINTLIFY_PROMPT", value_name = "TEXT", value_parser = text,
          allow_hyphen_values = true)]
    pub(crate) prompt: Option<String>,

    /// Read the prompt from this file instead (UTF-8, at most 1 MiB)
    #[arg(long, env = "MINTLIFY_PROMPT_FILE", value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub(crate) prompt_file: Option<PathBuf>,

    /// false: start the agent, write the outputs and exit 0 without waiting
    #[arg(long, env = "MINTLIFY_WAIT", value_name = "BOOL", default_value = "true",
          num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = boolean)]
    pub(crate) wait: bool,

    /// After the agent job completes with a PR, build a preview of its branch and wait for it
    #[arg(long, env = "MINTLIFY_PREVIEW", value_name = "BOOL", default_value = "false",
          num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = boolean)]
    pub(crate) preview: bool,

    /// Build a preview of this branch and wait for it (no agent job)
    #[arg(long, env = "MINTLIFY_PREVIEW_BRANCH", value_name = "BRANCH", value_parser = branch)]
    pub(crate) preview_branch: Option<String>,

    /// Trigger a production deployment and wait for it (no agent job)
    #[arg(long, env = "MINTLIFY_DEPLOY", value_name = "BOOL", default_value = "false",
          num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = boolean)]
    pub(crate) deploy: bool,

    /// Wait on a deployment or preview already triggered: its statusId
    #[arg(long, env = "MINTLIFY_DEPLOYMENT_ID", value_name = "ID", value_parser = id)]
    pub(crate) deployment_id: Option<String>,

    /// Trigger this scheduled automation now and report its run (not waited on)
    #[arg(long, env = "MINTLIFY_AUTOMATION_ID", value_name = "ID", value_parser = id)]
    pub(crate) automation_id: Option<String>,

    /// Base URL: https, or http to a loopback host only
    #[arg(long, env = "MINTLIFY_API_URL", value_name = "URL", default_value = "https://api.mintlify.com", value_parser = api_url)]
    pub(crate) api_url: Url,

    /// Overall deadline, as 90, 90s, 15m, 1h30m or 500ms; at most 120h
    #[arg(long, env = "MINTLIFY_TIMEOUT", value_name = "DURATION", default_value = "30m", value_parser = duration)]
    pub(crate) timeout: Duration,

    /// First wait between polls (under 1s only to a loopback API)
    #[arg(long, env = "MINTLIFY_POLL_INITIAL", value_name = "DURATION", default_value = "1s", value_parser = duration)]
    pub(crate) poll_initial: Duration,

    /// Cap on the wait between polls; at most 10s
    #[arg(long, env = "MINTLIFY_POLL_MAX", value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub(crate) poll_max: Duration,

    /// Limit for one HTTP request
    #[arg(long, env = "MINTLIFY_REQUEST_TIMEOUT", value_name = "DURATION", default_value = "30s", value_parser = duration)]
    pub(crate) request_timeout: Duration,

    /// Treat an archived job as success
    #[arg(long, env = "MINTLIFY_ALLOW_ARCHIVED", value_name = "BOOL", default_value = "false",
          num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = boolean)]
    pub(crate) allow_archived: bool,

    /// Treat a completed job without a PR link as a failure (exit 6)
    #[arg(long, env = "MINTLIFY_REQUIRE_PR", value_name = "BOOL", default_value = "false",
          num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = boolean)]
    pub(crate) require_pr: bool,

    /// Also write the outputs to this file as a dotenv report (GitLab)
    #[arg(long, env = "MINTLIFY_DOTENV", value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub(crate) dotenv: Option<PathBuf>,

    /// Log level: error, warn, info, debug or trace
    #[arg(long, env = "MINTLIFY_LOG", value_name = "LEVEL", default_value = "info", value_parser = log_level)]
    pub(crate) log: LevelFilter,
}

/// What the command line asked for.
#[derive(Debug)]
pub(crate) enum Parsed {
    Run(Box<Flags>),
    /// `--help` or `--version`: the text to print, and nothing else to do.
    Print(String),
}

impl Flags {
    /// The definition, with each variable's value from `env` (the process environment in a
    /// run, a map in tests) standing in as the setting's default, which a flag still beats.
    /// An empty variable counts as unset: GitHub passes an empty string for every input nobody
    /// set.
    pub(crate) fn command(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> clap::Command {
        Flags::command_for_help().mut_args(|arg| {
            let value = arg
                .get_env()
                .and_then(|var| env(&var.to_string_lossy()))
                .filter(|value| !value.is_empty());
            // clap's own reading of the process would bypass `env`.
            let arg = arg.env(None);
            match value {
                Some(value) => arg.default_value(value),
                None => arg,
            }
        })
    }

    /// The definition as `--help` shows it.
    pub(crate) fn command_for_help() -> clap::Command {
        <Flags as clap::CommandFactory>::command().mut_args(|arg| arg.hide_env_values(true))
    }

    /// A variable that is not UTF-8 is refused by its name (clap would call it an argument),
    /// except a path, which is used as the system gives it.
    pub(crate) fn check_text(
        env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<(), ConfigError> {
        for arg in Flags::command_for_help().get_arguments() {
            let Some(var) = arg.get_env().map(|var| var.to_string_lossy().into_owned()) else {
                continue;
            };
            let is_text = env(&var).is_some_and(|value| value.to_str().is_some());
            if !is_text && env(&var).is_some() && arg.get_value_hint() != ValueHint::FilePath {
                return Err(ConfigError::NotUtf8(var));
            }
        }
        Ok(())
    }

    pub(crate) fn parse(
        command: clap::Command,
        args: &[std::ffi::OsString],
    ) -> Result<Parsed, ConfigError> {
        let args = std::iter::once("mintlify-agent-gate".into()).chain(args.iter().cloned());
        let matches = match command.try_get_matches_from(args.clone()) {
            Ok(matches) => matches,
            Err(error) => return refusal(&error, &args.collect::<Vec<_>>()),
        };
        Flags::from_arg_matches(&matches)
            .map(|flags| Parsed::Run(Box::new(flags)))
            .map_err(|error| ConfigError::Usage(first_line(&error)))
    }
}

/// `--help` ends with what is not a flag: the key, and the exit codes, from [`Exit`].
fn footer() -> String {
    let mut text = String::from(
        "The key is environment only: MINTLIFY_API_KEY, an admin API key (mint_...).\n\nExit codes:\n",
    );
    for exit in Exit::ALL {
        text.push_str(&format!("  {:>3}  {}\n", exit.code(), exit.meaning()));
    }
    text
}

/// A clap error as one line that names the setting, or the text `--help` asked for.
fn refusal(error: &clap::Error, args: &[std::ffi::OsString]) -> Result<Parsed, ConfigError> {
    let command = Flags::command_for_help();
    match error.kind() {
        // The help as defined, not with the environment's values as defaults.
        ErrorKind::DisplayHelp => {
            let help = Flags::command_for_help().render_help().to_string();
            return Ok(Parsed::Print(help));
        }
        ErrorKind::DisplayVersion => return Ok(Parsed::Print(error.render().to_string())),
        _ => {}
    }
    let invalid = (error.kind() == ErrorKind::ValueValidation)
        .then(|| {
            let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg) else {
                return None;
            };
            // `--timeout <DURATION>`, `--require-pr[=<BOOL>]`: the flag is what comes first.
            let flag = arg.split([' ', '[', '=']).next()?;
            let var = command
                .get_arguments()
                .find(|a| a.get_long().is_some_and(|long| flag == format!("--{long}")))?
                .get_env()?
                .to_string_lossy()
                .into_owned();
            let Some(ContextValue::String(value)) = error.get(ContextKind::InvalidValue) else {
                return None;
            };
            let problem = std::error::Error::source(error)?
                .downcast_ref::<ValueProblem>()?
                .clone();
            let given_as_flag = args.iter().any(|a| {
                let a = a.to_string_lossy();
                a == flag || a.starts_with(&format!("{flag}="))
            });
            Some(ConfigError::Invalid {
                setting: if given_as_flag {
                    Setting::Flag(flag.to_owned())
                } else {
                    Setting::Variable(var)
                },
                value: value.clone(),
                problem,
            })
        })
        .flatten();
    if let Some(refusal) = invalid {
        return Err(refusal);
    }
    if error.kind() == ErrorKind::UnknownArgument
        && let Some(ContextValue::String(unexpected)) = error.get(ContextKind::InvalidArg)
    {
        // A key pasted as an argument: say so without quoting it.
        if unexpected.starts_with("mint_") {
            return Err(ConfigError::KeyAsArgument);
        }
        // `--wait false`: a boolean flag takes its value after `=`.
        let before = args
            .iter()
            .map(|a| a.to_string_lossy())
            .take_while(|a| a.as_ref() != unexpected.as_str())
            .last();
        if let Some(flag) = before.filter(|flag| BOOLEANS.contains(&flag.as_ref())) {
            return Err(ConfigError::Usage(format!(
                "{flag} is a switch that takes its value after =, as {flag}={}; see --help",
                crate::sanitize::untrusted(&crate::sanitize::truncated(unexpected, 20))
            )));
        }
    }
    Err(ConfigError::Usage(first_line(error)))
}

/// The flags that are switches.
const BOOLEANS: [&str; 5] = [
    "--wait",
    "--allow-archived",
    "--require-pr",
    "--preview",
    "--deploy",
];

/// clap's message without its `error: ` and the lines of usage after it.
fn first_line(error: &clap::Error) -> String {
    let text = error.render().to_string();
    let line = text.lines().next().unwrap_or_default();
    format!("{}; see --help", line.trim_start_matches("error: "))
}

/// Why a value cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ValueProblem {
    #[error("is not a duration: write it as 90, 90s, 15m, 1h30m or 500ms")]
    NotADuration,
    #[error("is zero: give a positive duration")]
    Zero,
    #[error("is above the maximum of 5 days (120h): give a shorter duration")]
    AboveMaximum,
    #[error("is not a boolean: use true or false (1/0 and yes/no work too)")]
    NotABoolean,
    #[error("is not a log level: use error, warn, info, debug or trace")]
    NotALogLevel,
    #[error("is empty or blank: give a value, or leave the setting out")]
    Blank,
    #[error("{0}: give the bare id")]
    Id(IdProblem),
    #[error("is not a URL: give a base URL such as https://api.mintlify.com")]
    NotAUrl,
    #[error("holds credentials: remove them; the key goes in MINTLIFY_API_KEY")]
    UrlCredentials,
    #[error("has a query or fragment: give the bare base URL")]
    UrlQuery,
    #[error(
        "is plain http to another host, which would send the key in clear: use https (http is for 127.0.0.1, ::1 or localhost only)"
    )]
    PlainHttp,
    #[error("has a scheme that is not https: use https")]
    Scheme,
    #[error(
        "is not a branch name (whitespace, a control or invisible character, or over 256 bytes): give the branch's name"
    )]
    NotABranch,
}

fn duration(text: &str) -> Result<Duration, ValueProblem> {
    match duration::parse(text) {
        None => Err(ValueProblem::NotADuration),
        Some(Duration::ZERO) => Err(ValueProblem::Zero),
        Some(value) if value > DURATION_MAX => Err(ValueProblem::AboveMaximum),
        Some(value) => Ok(value),
    }
}

fn boolean(text: &str) -> Result<bool, ValueProblem> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(ValueProblem::NotABoolean),
    }
}

fn log_level(text: &str) -> Result<LevelFilter, ValueProblem> {
    match text.to_ascii_lowercase().as_str() {
        "error" => Ok(LevelFilter::ERROR),
        "warn" => Ok(LevelFilter::WARN),
        "info" => Ok(LevelFilter::INFO),
        "debug" => Ok(LevelFilter::DEBUG),
        "trace" => Ok(LevelFilter::TRACE),
        _ => Err(ValueProblem::NotALogLevel),
    }
}

fn text(text: &str) -> Result<String, ValueProblem> {
    if text.trim().is_empty() {
        Err(ValueProblem::Blank)
    } else {
        Ok(text.to_owned())
    }
}

/// An id goes into a URL path segment and into log lines: refuse what could leave either.
/// Surrounding whitespace is dropped, as for the key: pasted values often carry a newline.
fn id(text: &str) -> Result<String, ValueProblem> {
    let id = text.trim();
    check_id(id).map_err(ValueProblem::Id)?;
    Ok(id.to_owned())
}

/// A branch goes into a request body and into log lines, and becomes part of a preview's host
/// name: refuse what no git branch holds. Trimmed, as an id is.
fn branch(text: &str) -> Result<String, ValueProblem> {
    let branch = text.trim();
    if branch.is_empty() {
        Err(ValueProblem::Blank)
    } else if branch.len() > crate::job::REF_LIMIT
        || branch
            .chars()
            .any(|c| c.is_whitespace() || crate::sanitize::is_hidden(c))
    {
        Err(ValueProblem::NotABranch)
    } else {
        Ok(branch.to_owned())
    }
}

/// The key goes in a header on every request, so only TLS is allowed, except to this machine.
fn api_url(text: &str) -> Result<Url, ValueProblem> {
    let url = Url::parse(text).map_err(|_| ValueProblem::NotAUrl)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ValueProblem::UrlCredentials);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ValueProblem::UrlQuery);
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(ValueProblem::PlainHttp),
        _ => Err(ValueProblem::Scheme),
    }
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}
