//! Settings, read from flags and `MINTLIFY_*` variables through one typed definition
//! ([`flags`]), and checked in full before any request is sent: a run that starts is a run
//! whose inputs make sense. The key and the runner's own variables are read from the
//! environment only.

pub(crate) mod duration;
mod flags;
mod proxy;
mod refusal;

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;
use tracing::level_filters::LevelFilter;

use flags::Flags;
use flags::is_loopback;
use proxy::check_proxy;
use refusal::{ConfigError, FileProblem, Setting};

use crate::api::tls::{self, Roots};
use crate::text::sanitize::is_hidden;
use crate::watch::deployment::Deploy;
use rustls::pki_types::CertificateDer;

const POLL_CAP: Duration = Duration::from_secs(10);
/// Mintlify asks for a poll every 5 to 10 seconds; faster is for a mock on this machine only.
const POLL_FLOOR: Duration = Duration::from_secs(1);

/// What the command line asked for: a run with its settings (`Flags` as clap read them, then
/// the whole `Config`), or a text to print.
#[derive(Debug)]
pub(crate) enum Command<Settings = Config> {
    Run(Box<Settings>),
    /// `--help` or `--version`: print this and exit 0.
    Print(String),
}

// Each switch is a setting of its own, independent of the others.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug)]
pub(crate) struct Config {
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
    /// After the agent job completes with a PR, build and wait on a preview of its branch.
    pub preview: bool,
    pub log_level: LevelFilter,
    pub destinations: Destinations,
    /// The CA roots for an https API, as `SSL_CERT_FILE` and `SSL_CERT_DIR` choose them.
    pub roots: Roots,
}

/// What the run is about, and what it does before it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Task {
    /// Wait on an existing job.
    Watch { job_id: String },
    /// Create a job with this prompt, then wait on it.
    Create { prompt: String },
    /// Send this prompt to an existing job, then wait on it.
    FollowUp { job_id: String, prompt: String },
    /// Trigger a deployment or a preview, then wait on it.
    Deploy(Deploy),
    /// Wait on a deployment triggered elsewhere, by its statusId.
    WatchDeployment { deployment_id: String },
    /// Trigger a scheduled automation; its run cannot be waited on.
    Automation { automation_id: String },
}

impl Task {
    /// The job id the run starts with: none until a created job has one.
    pub(crate) fn job_id(&self) -> Option<&str> {
        match self {
            Task::Watch { job_id } | Task::FollowUp { job_id, .. } => Some(job_id),
            Task::Create { .. }
            | Task::Deploy(_)
            | Task::WatchDeployment { .. }
            | Task::Automation { .. } => None,
        }
    }

    /// Whether the run is about an agent job.
    pub(crate) fn is_agent(&self) -> bool {
        matches!(
            self,
            Task::Watch { .. } | Task::Create { .. } | Task::FollowUp { .. }
        )
    }
}

/// Where the outputs go. The GitHub paths are the runner's own variables, not settings.
#[derive(Debug, Default)]
pub(crate) struct Destinations {
    pub github_output: Option<PathBuf>,
    pub step_summary: Option<PathBuf>,
    pub github_actions: bool,
    pub dotenv: Option<PathBuf>,
}

/// The admin key. Its `Debug` and `Display` never show it, so no log line, error or panic can.
#[derive(Clone)]
pub(crate) struct ApiKey(String);

impl ApiKey {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl Command {
    /// Reads the command line, the `MINTLIFY_*` variables through [`Flags`], and the key and
    /// the runner's variables through `env`. Nothing is sent anywhere until this succeeds.
    pub(crate) fn parse(
        args: &[OsString],
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Self, ConfigError> {
        if args
            .iter()
            .any(|a| a == "--api-key" || a.to_string_lossy().starts_with("--api-key="))
        {
            return Err(ConfigError::KeyAsFlag);
        }
        Flags::check_text(env)?;
        match Flags::parse(args, env)? {
            Command::Print(text) => Ok(Command::Print(text)),
            Command::Run(flags) => Config::read(*flags, env).map(|c| Command::Run(Box::new(c))),
        }
    }
}

impl Config {
    fn read(mut flags: Flags, env: &dyn Fn(&str) -> Option<OsString>) -> Result<Self, ConfigError> {
        let text = |name: &str| {
            env(name)
                .map(|v| v.to_string_lossy().into_owned())
                .filter(|v| !v.is_empty())
        };
        let path = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let api_key = api_key(text("MINTLIFY_API_KEY"))?;
        let project_id = flags.project_id.take().ok_or(ConfigError::NoProject)?;
        let prompt = match (flags.prompt.take(), flags.prompt_file.take()) {
            (Some(_), Some(_)) => return Err(ConfigError::PromptTwice),
            (Some(prompt), None) => Some(prompt),
            (None, Some(path)) => Some(read_prompt_file(
                &path,
                flags.source("prompt_file").cloned(),
            )?),
            (None, None) => None,
        };
        let task = task(prompt, &flags)?;
        if !flags.wait {
            match task {
                Task::Watch { .. } => return Err(ConfigError::WaitWithoutPrompt),
                Task::WatchDeployment { .. } => return Err(ConfigError::WaitWithoutTrigger),
                _ if flags.preview => return Err(ConfigError::PreviewWithoutWaiting),
                _ => {}
            }
        }
        let roots = if flags.api_url.scheme() == "https" {
            check_proxy(&flags.api_url, env)?;
            Roots {
                bundle: path("SSL_CERT_FILE")
                    .map(|bundle| read_ca_bundle(&bundle))
                    .transpose()?,
                directories: env("SSL_CERT_DIR")
                    .map(|dirs| {
                        std::env::split_paths(&dirs)
                            .filter(|dir| !dir.as_os_str().is_empty())
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        } else {
            Roots::default()
        };
        if flags.poll_max > POLL_CAP {
            return Err(ConfigError::PollAboveCap(flags.poll_max));
        }
        if flags.poll_initial > flags.poll_max {
            return Err(ConfigError::PollInitialAboveMax {
                initial: flags.poll_initial,
                max: flags.poll_max,
            });
        }
        if flags.poll_initial < POLL_FLOOR && !is_loopback(&flags.api_url) {
            return Err(ConfigError::PollTooFast(flags.poll_initial));
        }
        let github_output = path("GITHUB_OUTPUT");
        if let (Some(dotenv), Some(github_output)) = (&flags.dotenv, &github_output)
            && same_file(dotenv, github_output)
        {
            return Err(ConfigError::DotenvIsGithubOutput);
        }
        let destinations = Destinations {
            github_output,
            step_summary: path("GITHUB_STEP_SUMMARY"),
            github_actions: text("GITHUB_ACTIONS").as_deref() == Some("true"),
            dotenv: flags.dotenv,
        };
        Ok(Config {
            api_key,
            project_id,
            task,
            wait: flags.wait,
            api_url: flags.api_url,
            timeout: flags.timeout,
            poll_initial: flags.poll_initial,
            poll_max: flags.poll_max,
            request_timeout: flags.request_timeout,
            allow_archived: flags.allow_archived,
            require_pr: flags.require_pr,
            preview: flags.preview,
            log_level: flags.log,
            destinations,
            roots,
        })
    }
}

/// What the run is about: the agent settings, `deploy`, `preview_branch`, `deployment_id` and
/// `automation_id` each choose it, so two of them are a contradiction, not a priority.
fn task(prompt: Option<String>, flags: &Flags) -> Result<Task, ConfigError> {
    // Each named as it was given: its flag or its variable.
    let named = |ids: &[&str]| -> Vec<String> {
        ids.iter()
            .filter_map(|id| flags.source(id))
            .map(|setting| setting.name().to_owned())
            .collect()
    };
    let agent = named(&["job_id", "prompt", "prompt_file"]);
    let chosen: Vec<String> = [
        (
            flags.job_id.is_some() || prompt.is_some(),
            format!("the agent job ({})", agent.join(", ")),
        ),
        (flags.deploy, named(&["deploy"]).concat()),
        (
            flags.preview_branch.is_some(),
            named(&["preview_branch"]).concat(),
        ),
        (
            flags.deployment_id.is_some(),
            named(&["deployment_id"]).concat(),
        ),
        (
            flags.automation_id.is_some(),
            named(&["automation_id"]).concat(),
        ),
    ]
    .into_iter()
    .filter_map(|(given, name)| given.then_some(name))
    .collect();
    if chosen.len() > 1 {
        return Err(ConfigError::SeveralSubjects(chosen));
    }
    let empty = flags.empty_subjects.first().cloned();
    let task = match (prompt, flags.job_id.clone()) {
        (None, Some(job_id)) => Task::Watch { job_id },
        (Some(prompt), None) => Task::Create { prompt },
        (Some(prompt), Some(job_id)) => Task::FollowUp { job_id, prompt },
        (None, None) if flags.deploy => Task::Deploy(Deploy::Production),
        (None, None) => match (
            &flags.preview_branch,
            &flags.deployment_id,
            &flags.automation_id,
        ) {
            (Some(branch), _, _) => Task::Deploy(Deploy::Preview {
                branch: branch.clone(),
            }),
            (_, Some(deployment_id), _) => Task::WatchDeployment {
                deployment_id: deployment_id.clone(),
            },
            (_, _, Some(automation_id)) => Task::Automation {
                automation_id: automation_id.clone(),
            },
            (None, None, None) if flags.preview => {
                return Err(ConfigError::PreviewWithoutAgent { empty });
            }
            (None, None, None) => return Err(ConfigError::NoJob { empty }),
        },
    };
    if flags.preview && !task.is_agent() {
        return Err(ConfigError::PreviewWithoutAgent { empty: None });
    }
    Ok(task)
}

#[cfg(test)]
impl Config {
    /// The settings of a plain run, for tests of what uses them.
    pub(crate) fn example() -> Config {
        let env = |name: &str| (name == "MINTLIFY_API_KEY").then(|| "mint_example".into());
        let args = ["--project-id=proj", "--job-id=job_1"].map(OsString::from);
        match Command::parse(&args, &env) {
            Ok(Command::Run(config)) => *config,
            other => panic!("the example settings do not parse: {other:?}"),
        }
    }
}

/// Checks the key's shape without ever echoing it. Surrounding whitespace is dropped because
/// secrets pasted into CI settings often carry a trailing newline.
fn api_key(value: Option<String>) -> Result<ApiKey, ConfigError> {
    let value = value.ok_or(ConfigError::KeyMissing)?;
    let key = value.trim();
    if key.is_empty() {
        return Err(ConfigError::KeyBlank);
    }
    for (prefix, kind) in [
        ("mint_dsc_", "an assistant key"),
        ("mint_us_", "an index key"),
    ] {
        // A key pasted in capitals is still that kind of key, and still refused by the API.
        if key
            .get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
        {
            return Err(ConfigError::KeyOfKind { kind });
        }
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::KeyCharacters);
    }
    Ok(ApiKey(key.to_owned()))
}

/// The most a prompt file may hold: far more than any prompt, far less than memory.
const PROMPT_FILE_LIMIT: u64 = 1024 * 1024;

/// Reads the prompt file, which must be a regular file: reading a FIFO with no writer would
/// block before the deadline even starts, and a device such as `/dev/zero` never ends.
fn read_prompt_file(path: &Path, from: Option<Setting>) -> Result<String, ConfigError> {
    let setting = from.unwrap_or_else(|| Setting::Variable("MINTLIFY_PROMPT_FILE".into()));
    let refuse = |problem| ConfigError::PromptFile {
        setting: setting.clone(),
        path: path.to_owned(),
        problem,
    };
    let unreadable = |error: std::io::Error| refuse(FileProblem::Unreadable(error.to_string()));
    let metadata = std::fs::metadata(path).map_err(unreadable)?;
    if !metadata.is_file() {
        return Err(refuse(FileProblem::NotAFile));
    }
    if metadata.len() > PROMPT_FILE_LIMIT {
        return Err(refuse(FileProblem::TooLarge));
    }
    let bytes = std::fs::read(path).map_err(unreadable)?;
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(refuse(FileProblem::Utf16));
    }
    let text = String::from_utf8(bytes).map_err(|_| refuse(FileProblem::NotUtf8))?;
    let text = without_bom(&text);
    if is_blank(text) {
        return Err(refuse(FileProblem::Empty));
    }
    Ok(text.to_owned())
}

/// Notepad and PowerShell 5 begin a UTF-8 file with a byte order mark, which is no part of
/// the text and would reach the agent as an invisible first character.
pub(crate) fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Text with nothing a person can read in it: whitespace, byte order marks, zero-width and
/// other invisible characters only. A prompt of this is no prompt.
pub(crate) fn is_blank(text: &str) -> bool {
    text.chars().all(|c| c.is_whitespace() || is_hidden(c))
}

/// A CA bundle that is named but cannot serve would fail every request later, as a TLS
/// error: refuse it now, by name. Only https loads roots, so only https reads it. It is read
/// whole, once: the first certificate may come after any amount of comments.
fn read_ca_bundle(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let refuse = |problem| ConfigError::CaBundle {
        path: path.to_owned(),
        problem,
    };
    let unreadable = |error: std::io::Error| refuse(FileProblem::Unreadable(error.to_string()));
    // Reading a FIFO would block with no writer; a bundle is a regular file.
    if !std::fs::metadata(path).map_err(unreadable)?.is_file() {
        return Err(refuse(FileProblem::NotAFile));
    }
    let certs = tls::pem_certificates(&std::fs::read(path).map_err(unreadable)?);
    if !tls::any_usable(&certs) {
        return Err(refuse(FileProblem::NoCertificate));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests;

/// Whether two paths lead to one file: through links, `..` and relative paths alike. The dotenv
/// report is replaced whole each run, which would drop the runner's outputs from the other.
fn same_file(a: &Path, b: &Path) -> bool {
    let real = |path: &Path| {
        std::fs::canonicalize(path)
            .or_else(|_| std::path::absolute(path))
            .ok()
    };
    real(a).is_some_and(|a| Some(a) == real(b))
}
