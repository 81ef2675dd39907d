//! One run: read the settings, start and poll, report. The only place that decides the exit
//! code.

use std::ffi::OsString;
use std::time::Duration;

use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::api::client::Client;
use crate::api::failure::Refusal;
use crate::api::job::Final;
use crate::report::logging::{self, Console};
use crate::report::outputs;
use crate::report::{Report, annotation};
use crate::run::outcome::{Exit, Outcome, Timeout};
use crate::run::poll::{Ending, PollSettings};
use crate::run::progress::Progress;
use crate::run::signals::Signals;
use crate::settings::{Command, Config, Task};
use crate::text::redact::Redactor;
use crate::watch::deployment::{self, Deploy};
use crate::watch::{Verdict, Watching, automation, job};

/// The process environment, as [`run`] takes it.
#[must_use]
pub fn process_env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// [`run`] on a runtime of its own: what `main` calls.
pub fn run_blocking(env: &dyn Fn(&str) -> Option<OsString>, args: &[OsString]) -> u8 {
    // A single-threaded runtime: the gate does one request at a time, and starting one thread
    // instead of one per core keeps start-up fast.
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => {
            let code = runtime.block_on(run(env, args));
            // A name lookup cut off by the deadline or a signal may still hold a blocking
            // thread: do not wait for it.
            runtime.shutdown_background();
            code
        }
        Err(error) => {
            Console::default().err(&format!(
                "error: could not start the async runtime: {error}"
            ));
            Exit::ApiError.code()
        }
    }
}

/// How long the end of a run waits for its last lines to be written: a reader that keeps up
/// gets them all, one that stopped reading cannot hold the exit.
const FLUSH_LIMIT: Duration = Duration::from_secs(2);

/// Runs the gate as the binary does, with `env` standing in for the process environment.
/// Returns the exit code.
pub async fn run(env: &dyn Fn(&str) -> Option<OsString>, args: &[OsString]) -> u8 {
    let code = run_to_exit(env, args).await;
    logging::flush(FLUSH_LIMIT);
    code
}

async fn run_to_exit(env: &dyn Fn(&str) -> Option<OsString>, args: &[OsString]) -> u8 {
    // Caught from here to the end, before anything slow: once caught, a signal no longer ends
    // the process itself, and one that arrives while the settings are read is taken up as
    // soon as the run starts waiting.
    let mut signals = Signals::register();
    // A refusal may quote a value where the key was pasted by mistake.
    let key = env("MINTLIFY_API_KEY").map(|key| key.to_string_lossy().into_owned());
    let console = Console::new(Redactor::new(&key.unwrap_or_default()));
    let config = match Command::parse(args, env) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Print(text)) => {
            console.out(text.trim_end());
            return Exit::Pass.code();
        }
        Err(refusal) => {
            console.err(&format!("error: {refusal}"));
            return Exit::Config.code();
        }
    };
    let redactor = Redactor::new(config.api_key.expose());
    logging::init(config.log_level, redactor.clone());
    signals.warn_if_uncaught();
    let mut progress = Progress::new(&config.task);
    // Lets the runtime take up a signal that came while the settings were read, so that it
    // cancels the run before a request is sent.
    tokio::task::yield_now().await;
    let outcome = tokio::select! {
        biased;
        signal = signals.recv() => Outcome::Cancelled(signal),
        outcome = wait(&config, &mut progress) => outcome,
    };
    // From here the verdict is fixed: a signal cannot change it or cut its report short, so
    // the outputs always agree with the exit code, and are all written or none.
    let report =
        tokio::task::spawn_blocking(move || report(&config, &progress, &outcome, &redactor));
    tokio::pin!(report);
    let mut noted = false;
    loop {
        tokio::select! {
            biased;
            signal = signals.recv(), if !noted => {
                noted = true;
                warn!(
                    "{} while the report was being written: it is written in full, and the exit code is its verdict's",
                    signal.name()
                );
            }
            code = &mut report => return code.unwrap_or(Exit::Outputs).code(),
        }
    }
}

async fn wait(config: &Config, progress: &mut Progress) -> Outcome {
    let client = match Client::new(config) {
        Ok(client) => client,
        Err(error) => return Outcome::ApiError(Refusal::Setup(error)),
    };
    let settings = PollSettings {
        initial: config.poll_initial,
        max: config.poll_max,
        deadline: progress.started + config.timeout,
    };
    let ended = match &config.task {
        Task::Deploy(deploy) => {
            deploy_and_wait(Some(deploy), config, &client, &settings, progress).await
        }
        Task::WatchDeployment { .. } => {
            deploy_and_wait(None, config, &client, &settings, progress).await
        }
        Task::Automation { automation_id } => {
            automation::trigger(&client, automation_id, &settings, progress)
                .await
                .map(|()| Outcome::Started)
        }
        Task::Watch { .. } | Task::Create { .. } | Task::FollowUp { .. } => {
            agent(config, &client, &settings, progress).await
        }
    };
    ended.unwrap_or_else(|ending| Outcome::of(ending, progress))
}

/// Starts the agent if the task asks for it, waits on its job unless told not to, then on its
/// preview if asked for one.
async fn agent(
    config: &Config,
    client: &Client,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Result<Outcome, Ending> {
    let started = job::start(&config.task, client, settings, progress).await?;
    if !config.wait {
        // A create answered with a failure is reported as one, waiting or not. A follow-up's
        // answer may still hold the status from before it, so only waiting can tell.
        let created = matches!(config.task, Task::Create { .. });
        return Ok(match started.and_then(|status| status.as_final()) {
            Some(status @ (Final::Failed | Final::Archived)) if created => {
                Outcome::Ended(Verdict::Job(job::Verdict::of(
                    status,
                    false,
                    config.allow_archived,
                    false,
                )))
            }
            _ => Outcome::Started,
        });
    }
    let judging = job::Judging {
        allow_archived: config.allow_archived,
        require_pr: config.require_pr,
    };
    let verdict = polled(
        job::wait(client, judging, settings, progress).await,
        client,
        progress,
    )?;
    if !config.preview || verdict != job::Verdict::Completed {
        return Ok(Outcome::Ended(Verdict::Job(verdict)));
    }
    // One deadline covers the agent and its preview.
    let last = job::Watch::of(progress).and_then(|job| job.last.as_ref());
    let Some(git_ref) = last
        .filter(|job| job.names_a_pr())
        .map(|job| job.git_ref.clone())
    else {
        info!("no PR, so no preview to build: the agent changed nothing");
        return Ok(Outcome::Ended(Verdict::Job(verdict)));
    };
    progress.begin(Watching::Deployment(deployment::Watch::agent_preview()));
    let Some(branch) = git_ref.filter(|r| crate::api::deployment::is_agent_branch(r)) else {
        return Ok(Outcome::ApiError(Refusal::PreviewWithoutBranch));
    };
    let deploy = Deploy::Preview { branch };
    deploy_and_wait(Some(&deploy), config, client, settings, progress).await
}

/// Triggers the deployment if the run is to, and waits on it unless told not to.
async fn deploy_and_wait(
    deploy: Option<&Deploy>,
    config: &Config,
    client: &Client,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Result<Outcome, Ending> {
    if let Some(deploy) = deploy {
        deployment::trigger(client, deploy, settings, progress).await?;
        if !config.wait {
            return Ok(Outcome::Started);
        }
    }
    let verdict = polled(
        deployment::wait(client, settings, progress).await,
        client,
        progress,
    )?;
    Ok(Outcome::Ended(Verdict::Deployment(verdict)))
}

/// A poll the deadline cut off while it was still connecting never reached the API.
fn polled<T>(
    ended: Result<T, Ending>,
    client: &Client,
    progress: &mut Progress,
) -> Result<T, Ending> {
    if matches!(ended, Err(Ending::TimedOut(Timeout::Deadline))) && client.connecting() {
        progress.cut_off_connecting();
    }
    ended
}

/// Writes the output files first, then says the verdict: a run whose outputs were lost must
/// not have announced a success. Output files that cannot be written turn any outcome into
/// exit 7: a later step would read nothing.
fn report(config: &Config, progress: &Progress, outcome: &Outcome, redactor: &Redactor) -> Exit {
    let console = Console::new(redactor.clone());
    let report = Report {
        outcome,
        progress,
        config,
        elapsed: Instant::now().duration_since(progress.started),
    };
    let destinations = &config.destinations;
    let written = outputs::write_outputs(
        destinations.github_output.as_deref(),
        destinations.dotenv.as_deref(),
        // The key may also come from a setting (a job id pasted wrong): every sink redacts.
        &report
            .fields()
            .map(|(name, value)| (name, redactor.text(&value).into_owned())),
    );
    let verdict = report.verdict();
    let (code, said, result) = match written {
        Ok(()) => (outcome.exit(), verdict, outcome.result()),
        Err(error) => (
            Exit::Outputs,
            format!(
                "outputs not written: {error:#}: the path must be a writable regular file, on a disk with room; the run's own result was: {verdict}"
            ),
            "outputs not written",
        ),
    };
    let success = code == Exit::Pass;
    if success {
        info!("{said}");
    } else {
        error!("{said}");
    }
    if let Some(line) = report.stdout_line() {
        console.out(&line);
    }
    if destinations.github_actions {
        console.err(&annotation(success, &said));
    }
    if let Some(path) = &destinations.step_summary
        && let Err(error) = outputs::write_summary(path, &redactor.text(&report.summary(result)))
    {
        warn!("step summary not written: {error:#}");
    }
    code
}

pub(crate) mod outcome;
pub(crate) mod poll;
pub(crate) mod progress;
pub(crate) mod schedule;
pub(crate) mod signals;
