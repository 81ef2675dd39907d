//! The one typed definition of every setting but the key: its flag, its variable, its type,
//! its default and its help line. [`Flags::parse`] takes each setting from its flag, else its
//! variable, else its default, checks each value with the parsers below, and names where a
//! refused one came from; clap writes `--help` from the same definition, with the exit codes
//! from [`Exit`].

use std::ffi::{OsStr, OsString};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::ValueParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{FromArgMatches as _, Parser, ValueHint};
use reqwest::Url;
use tracing::level_filters::LevelFilter;

use super::refusal::{ConfigError, Setting};
use super::{Command, is_blank, without_bom};
use crate::api::fields::{IdProblem, check_id};
use crate::run::outcome::Exit;
use crate::settings::duration;

/// The longest any duration setting may be: GitHub's longest job (self-hosted) runs 5 days.
/// Anything longer is a typo, and would overflow the clock if it were huge.
pub(crate) const DURATION_MAX: Duration = Duration::from_hours(120);

/// Waits on a Mintlify agent job, deployment or preview, and turns how it ended into an exit
/// code and CI outputs.
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

    /// Job to wait on; with a prompt, the job to send it to [required unless a prompt, deploy,
    /// preview-branch, deployment-id or automation-id is set]
    #[arg(long, env = "MINTLIFY_JOB_ID", value_name = "ID", value_parser = id)]
    pub(crate) job_id: Option<String>,

    /// Start the agent: create a job with this prompt, or send it to the job as a follow-up
    #[arg(long, env = "MINTLIFY_PROMPT", value_name = "TEXT", value_parser = prompt,
          allow_hyphen_values = true)]
    pub(crate) prompt: Option<String>,

    /// Read the prompt from this file instead (UTF-8, at most 1 MiB)
    #[arg(long, env = "MINTLIFY_PROMPT_FILE", value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub(crate) prompt_file: Option<PathBuf>,

    /// false: start the agent or trigger the deployment, write the outputs and exit 0 without waiting
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

    /// The settings that choose what the run is about and were set to nothing, when nothing
    /// else chose: the refusal that nothing is set names them.
    #[arg(skip)]
    pub(crate) empty_subjects: Vec<Setting>,

    /// Where each value given came from (its flag or its variable), by the setting's id, for
    /// a refusal to name the input as it was given.
    #[arg(skip)]
    pub(crate) sources: Vec<(String, Setting)>,
}

/// The settings that choose what the run is about, by their ids, beside `deploy`, which
/// chooses only when true.
const SUBJECTS: [&str; 6] = [
    "job_id",
    "prompt",
    "prompt_file",
    "preview_branch",
    "deployment_id",
    "automation_id",
];

impl Flags {
    /// Where the setting `id` was given: its flag or its variable; `None` when its default
    /// applies.
    pub(crate) fn source(&self, id: &str) -> Option<&Setting> {
        self.sources
            .iter()
            .find_map(|(given, setting)| (given == id).then_some(setting))
    }

    /// The definition as `--help` shows it.
    pub(crate) fn command_for_help() -> clap::Command {
        <Flags as clap::CommandFactory>::command().mut_args(|arg| arg.hide_env_values(true))
    }

    /// A variable that is not UTF-8 is refused by its name (clap would call it an argument),
    /// except a path, which is used as the system gives it.
    pub(crate) fn check_text(env: &dyn Fn(&str) -> Option<OsString>) -> Result<(), ConfigError> {
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

    /// Each setting from its flag, else from its variable in `env` (the process environment
    /// in a run, a map in tests), else its default. An empty variable counts as unset: GitHub
    /// passes an empty string for every input nobody set. One that chooses what the run is
    /// about, beside another that does, is refused instead ([`empty_subjects`]).
    ///
    /// clap first reads the command line with every value as given, so that a value its
    /// parser refuses does not come back as an error that names its argument only in text.
    /// Then the values are parsed together into [`Flags`], defaults filling the rest, each by
    /// its setting's own parser; a value refused is found again alone, where its source is
    /// known.
    pub(crate) fn parse(
        args: &[OsString],
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Command<Flags>, ConfigError> {
        flag_as_value(args)?;
        let definition = Flags::command_for_help();
        // clap's own reading of the process would bypass `env`.
        let mut parser = definition
            .clone()
            .no_binary_name(true)
            .mut_args(|arg| arg.env(None));
        let as_given = match parser
            .clone()
            .mut_args(|arg| arg.value_parser(ValueParser::os_string()))
            .try_get_matches_from(args)
        {
            Ok(matches) => matches,
            Err(error) => return refusal(&error, args),
        };
        let empty_subjects = empty_subjects(&definition, &as_given, env)?;
        // A refusal names the first bad flag on the command line, then the first bad variable.
        let mut settings: Vec<_> = definition.get_arguments().collect();
        settings.sort_by_key(|arg| {
            let id = arg.get_id().as_str();
            (as_given.value_source(id) == Some(ValueSource::CommandLine))
                .then(|| as_given.index_of(id))
                .flatten()
                .unwrap_or(usize::MAX)
        });
        let mut resolved = Vec::new();
        let mut sources = Vec::new();
        for arg in settings {
            let (Some(long), Some((setting, value))) = (arg.get_long(), given(arg, &as_given, env))
            else {
                continue;
            };
            sources.push((arg.get_id().to_string(), setting.clone()));
            let mut assignment = OsString::from(format!("--{long}="));
            assignment.push(&value);
            resolved.push((setting, value, assignment));
        }
        let usage = |error: clap::Error| ConfigError::Usage(first_line(&error));
        let matches = match parser.try_get_matches_from_mut(resolved.iter().map(|(.., a)| a)) {
            Ok(matches) => matches,
            // Which value it was: parsed alone, each names itself by construction.
            Err(error) => {
                let mut alone = parser.mut_args(|arg| arg.default_value(None));
                for (setting, value, assignment) in resolved {
                    if let Err(error) = alone.try_get_matches_from_mut([assignment]) {
                        return Err(invalid(&error, setting, &value));
                    }
                }
                return Err(usage(error));
            }
        };
        let mut flags = Flags::from_arg_matches(&matches).map_err(usage)?;
        flags.empty_subjects = empty_subjects;
        flags.sources = sources;
        Ok(Command::Run(Box::new(flags)))
    }
}

/// Where `arg`'s value comes from, and the value, unless its default applies.
fn given(
    arg: &clap::Arg,
    as_given: &clap::ArgMatches,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Option<(Setting, OsString)> {
    set(arg, as_given, env)
        .filter(|(setting, value)| !(matches!(setting, Setting::Variable(_)) && value.is_empty()))
}

/// Where `arg`'s value comes from, and the value, an empty variable included.
fn set(
    arg: &clap::Arg,
    as_given: &clap::ArgMatches,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Option<(Setting, OsString)> {
    let id = arg.get_id().as_str();
    if as_given.value_source(id) == Some(ValueSource::CommandLine) {
        let value = as_given.get_raw(id)?.next()?.to_owned();
        return Some((Setting::Flag(format!("--{}", arg.get_long()?)), value));
    }
    let var = arg.get_env()?.to_string_lossy().into_owned();
    let value = env(&var)?;
    Some((Setting::Variable(var), value))
}

/// The settings that choose what the run is about and are set to nothing (empty, or blank).
/// Beside another that chooses, one is refused: it is an expression that came out empty
/// (`MINTLIFY_PREVIEW_BRANCH: $CI_MERGE_REQUEST_SOURCE_BRANCH_NAME` on a pipeline without a
/// merge request, a prompt from a step that wrote nothing), and taking it as unset would answer
/// a question nobody asked: gate a job instead of building a preview, or watch a job instead of
/// sending it a follow-up, and pass on its old status. Alone, each is left to the refusal of
/// its own value (a flag, a blank variable) or to the one that nothing is set, which names it.
fn empty_subjects(
    definition: &clap::Command,
    as_given: &clap::ArgMatches,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Vec<Setting>, ConfigError> {
    let mut empty = Vec::new();
    let mut overridden = None;
    let mut chosen = None;
    for arg in definition.get_arguments() {
        let id = arg.get_id().as_str();
        let is_subject = SUBJECTS.contains(&id);
        if !is_subject && id != "deploy" {
            continue;
        }
        let Some((setting, value)) = set(arg, as_given, env) else {
            continue;
        };
        let value = value.to_string_lossy();
        if !is_subject {
            if boolean(&value) == Ok(true) {
                chosen.get_or_insert(setting);
            }
        } else if is_blank(&value) {
            if empty.is_empty() && matches!(setting, Setting::Flag(_)) {
                overridden = arg
                    .get_env()
                    .map(|var| var.to_string_lossy().into_owned())
                    .filter(|var| env(var).is_some_and(|value| !value.is_empty()));
            }
            empty.push(setting);
        } else {
            chosen.get_or_insert(setting);
        }
    }
    match (empty.first(), chosen) {
        (Some(empty), Some(beside)) => Err(ConfigError::EmptySubject {
            empty: empty.clone(),
            beside,
            overridden,
        }),
        _ => Ok(empty),
    }
}

/// `setting`'s value refused by its parser, or clap's own words for what no parser said.
fn invalid(error: &clap::Error, setting: Setting, value: &OsStr) -> ConfigError {
    match std::error::Error::source(error).and_then(|source| source.downcast_ref::<ValueProblem>())
    {
        Some(problem) => ConfigError::Invalid {
            setting,
            value: value.to_string_lossy().into_owned(),
            problem: problem.clone(),
        },
        None => ConfigError::Usage(first_line(error)),
    }
}

/// `--prompt --job-id=job_42` would start a new job whose prompt is `--job-id=job_42`, and
/// `--prompt --require-pr` would drop the requirement unseen (the prompt lets a value start
/// with `-`, for `- update the list`, `---`): a flag's value given apart from it is never a
/// flag, nor `--`, which ends the flags. Any other flag's value given apart from it never starts
/// with `-` (`--timeout -5s` would be an unknown flag `-5`). One that really starts like that
/// goes after `=` or in the variable.
fn flag_as_value(args: &[OsString]) -> Result<(), ConfigError> {
    let command = Flags::command_for_help();
    for pair in args.windows(2) {
        let (flag, next) = (pair[0].to_string_lossy(), pair[1].to_string_lossy());
        let takes_value = named(&command, &flag)
            .filter(|arg| arg.get_action().takes_values() && !arg.is_require_equals_set());
        if let Some(arg) = takes_value
            && (looks_like_a_flag(&next)
                || (!arg.is_allow_hyphen_values_set() && next.starts_with('-')))
        {
            return Err(ConfigError::FlagAsValue {
                flag: flag.into_owned(),
                next: next.into_owned(),
                var: arg
                    .get_env()
                    .map(|var| var.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            });
        }
    }
    Ok(())
}

/// `-h`, `--job-id=x`: a dash or two, then a letter; or `--` alone.
fn looks_like_a_flag(text: &str) -> bool {
    let name = text.strip_prefix("--").or_else(|| text.strip_prefix('-'));
    text == "--" || name.is_some_and(|name| name.starts_with(|c: char| c.is_ascii_alphabetic()))
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

/// A clap error about the command line as one line, or the text `--help` asked for.
fn refusal(error: &clap::Error, args: &[OsString]) -> Result<Command<Flags>, ConfigError> {
    match error.kind() {
        ErrorKind::DisplayHelp => {
            let help = Flags::command_for_help().render_help().to_string();
            return Ok(Command::Print(help));
        }
        ErrorKind::DisplayVersion => return Ok(Command::Print(error.render().to_string())),
        _ => {}
    }
    if error.kind() == ErrorKind::UnknownArgument
        && let Some(ContextValue::String(unexpected)) = error.get(ContextKind::InvalidArg)
    {
        // A key pasted as an argument: say so without quoting it.
        if unexpected.starts_with("mint_") {
            return Err(ConfigError::KeyAsArgument);
        }
        // `--wait false`: a switch takes its value after `=`.
        let before = args
            .iter()
            .map(|a| a.to_string_lossy())
            .take_while(|a| a.as_ref() != unexpected.as_str())
            .last();
        let command = Flags::command_for_help();
        let is_switch =
            |flag: &str| named(&command, flag).is_some_and(clap::Arg::is_require_equals_set);
        if let Some(flag) = before.filter(|flag| is_switch(flag)) {
            return Err(ConfigError::Usage(format!(
                "{flag} is a switch that takes its value after =, as {flag}={}; see --help",
                crate::text::sanitize::untrusted(&crate::text::sanitize::truncated(unexpected, 20))
            )));
        }
    }
    Err(ConfigError::Usage(first_line(error)))
}

/// The setting a `--name` flag names.
fn named<'a>(command: &'a clap::Command, flag: &str) -> Option<&'a clap::Arg> {
    let long = flag.strip_prefix("--")?;
    command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(long))
}

/// clap's message without its `error: ` and the lines of usage after it.
fn first_line(error: &clap::Error) -> String {
    let text = error.render().to_string();
    let line = text.lines().next().unwrap_or_default();
    format!("{}; see --help", line.trim_start_matches("error: "))
}

/// Why a value cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ValueProblem {
    #[error(
        "is not a duration: write 90, 90s, 15m, 1h or 500ms, or units largest first, each once, each part after the first below the unit above it (1h30m, 2m30s, 1s500ms)"
    )]
    NotADuration,
    #[error("is zero: give a positive duration")]
    Zero,
    #[error("is above the maximum of 5 days (120h): give a shorter duration")]
    AboveMaximum,
    #[error("is not a boolean: use true or false (1/0 and yes/no work too)")]
    NotABoolean,
    #[error("is not a log level: use error, warn, info, debug or trace")]
    NotALogLevel,
    #[error(
        "is empty or blank (only whitespace or invisible characters): give a value, or leave the setting out"
    )]
    Blank,
    /// `-` stands for standard input to many tools; this program reads no prompt from it.
    #[error(
        "is a lone -, which is no prompt (standard input is not read): give the text, or its file in --prompt-file"
    )]
    LoneDash,
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

/// The prompt, without a leading byte order mark (a value pasted from a file may carry one).
fn prompt(text: &str) -> Result<String, ValueProblem> {
    let text = without_bom(text);
    if is_blank(text) {
        Err(ValueProblem::Blank)
    } else if text.trim() == "-" {
        Err(ValueProblem::LoneDash)
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
    } else if crate::api::deployment::is_branch_name(branch) {
        Ok(branch.to_owned())
    } else {
        Err(ValueProblem::NotABranch)
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
