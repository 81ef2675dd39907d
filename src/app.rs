//! One run: read the settings, poll, report. The only place that decides the exit code.

use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::client::Client;
use crate::config::{self, Command, Config, Task};
use crate::logging;
use crate::outcome::{EXIT_CONFIG, EXIT_OUTPUTS, Outcome, Signal};
use crate::outputs::{self, Report};
use crate::poll::{Ending, PollSettings, Progress, poll_until_final, send_until_answered};
use crate::sanitize::untrusted;

/// [`run`] on a runtime of its own: what `main` calls.
pub fn run_blocking(env: &dyn Fn(&str) -> Option<String>, args: &[String]) -> u8 {
    // A single-threaded runtime: the gate does one request at a time, and starting one thread
    // instead of one per core keeps start-up fast.
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(env, args)),
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            Outcome::ApiError(error.to_string()).exit_code()
        }
    }
}

/// Runs the gate as the binary does, with `env` standing in for the process environment.
/// Returns the exit code.
pub async fn run(env: &dyn Fn(&str) -> Option<String>, args: &[String]) -> u8 {
    let config = match Command::parse(args, env) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            print!("{}", config::help());
            return 0;
        }
        Ok(Command::Version) => {
            println!("mintlify-agent-gate {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        Err(refusal) => {
            eprintln!("error: {refusal}");
            return EXIT_CONFIG;
        }
    };
    logging::init(config.log_level);
    let mut progress = Progress::new(config.task.job_id());
    let outcome = wait(&config, &mut progress).await;
    report(&config, &progress, &outcome)
}

async fn wait(config: &Config, progress: &mut Progress) -> Outcome {
    let mut signals = Signals::register();
    let client = match Client::new(config) {
        Ok(client) => client,
        Err(error) => return Outcome::ApiError(format!("{error:#}")),
    };
    let settings = PollSettings {
        initial: config.poll_initial,
        max: config.poll_max,
        deadline: progress.started + config.timeout,
    };
    tokio::select! {
        outcome = start_and_wait(config, &client, &settings, progress) => outcome,
        signal = signals.recv() => Outcome::Cancelled(signal),
    }
}

async fn start_and_wait(
    config: &Config,
    client: &Client,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Outcome {
    if let Err(ending) = start(config, client, settings, progress).await {
        return outcome_of(ending, config);
    }
    if !config.wait {
        return Outcome::Started;
    }
    let job_id = progress.job_id.clone();
    let fetch = async || client.get_job(&job_id).await;
    outcome_of(poll_until_final(fetch, settings, progress).await, config)
}

/// Starts the agent when the task asks for it. The job in the answer is the first one seen.
async fn start(
    config: &Config,
    client: &Client,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Result<(), Ending> {
    let job = match &config.task {
        Task::Watch { .. } => return Ok(()),
        Task::Create { prompt } => {
            let create = async || client.create_job(prompt, settings.deadline).await;
            let job = send_until_answered(create, "creating a job", settings).await?;
            // The classifier accepts a create's answer only with a usable id.
            progress.job_id = job.id.clone().unwrap_or_default();
            let length = prompt.chars().count();
            info!(
                "job {}: created from a prompt of {length} characters",
                progress.label()
            );
            job
        }
        Task::FollowUp { job_id, prompt } => {
            let what = format!("job {}: sending the follow-up", progress.label());
            let send = async || {
                client
                    .send_follow_up(job_id, prompt, settings.deadline)
                    .await
            };
            let job = send_until_answered(send, &what, settings).await?;
            let length = prompt.chars().count();
            info!(
                "job {}: follow-up sent ({length} characters)",
                progress.label()
            );
            job
        }
    };
    progress.observe(&job);
    Ok(())
}

fn outcome_of(ending: Ending, config: &Config) -> Outcome {
    match ending {
        Ending::Final(job, status) => Outcome::of_final(
            status,
            job.pr_link.is_some(),
            config.allow_archived,
            config.require_pr,
        ),
        Ending::TimedOut => Outcome::TimedOut,
        Ending::Refused(refusal) => Outcome::ApiError(refusal.message),
    }
}

/// SIGINT and SIGTERM, caught so a cancelled run still writes its outputs.
struct Signals(Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>);

impl Signals {
    fn register() -> Self {
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(interrupt), Ok(terminate)) => Signals(Some((interrupt, terminate))),
            (Err(error), _) | (_, Err(error)) => {
                warn!("signals cannot be caught ({error}): a cancelled run will write no outputs");
                Signals(None)
            }
        }
    }

    async fn recv(&mut self) -> Signal {
        let Some((interrupt, terminate)) = &mut self.0 else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = interrupt.recv() => Signal::Interrupt,
            _ = terminate.recv() => Signal::Terminate,
        }
    }
}

/// Writes every output the environment asks for and picks the exit code. Output files that
/// cannot be written turn any outcome into exit 7: a later step would read nothing.
fn report(config: &Config, progress: &Progress, outcome: &Outcome) -> u8 {
    let report = Report {
        outcome,
        job_id: &progress.job_id,
        last: progress.last.as_ref(),
        elapsed: Instant::now().duration_since(progress.started),
        polls: progress.polls,
        timeout: config.timeout,
    };
    let verdict = untrusted(&report.verdict());
    if outcome.is_success() {
        info!("{verdict}");
    } else {
        error!("{verdict}");
    }
    if let Some(line) = report.stdout_line() {
        println!("{line}");
    }
    let destinations = &config.destinations;
    if destinations.github_actions {
        eprintln!("{}", report.annotation());
    }
    if let Some(path) = &destinations.step_summary
        && let Err(error) = outputs::write_summary(path, &report)
    {
        warn!("step summary not written: {error:#}");
    }
    let fields = report.fields();
    let mut written = Ok(());
    if let Some(path) = &destinations.github_output {
        written = written.and(outputs::write_github_output(path, &fields));
    }
    if let Some(path) = &destinations.dotenv {
        written = written.and(outputs::write_dotenv(path, &fields));
    }
    match written {
        Ok(()) => outcome.exit_code(),
        Err(error) => {
            error!(
                "outputs not written: {error:#}: check that the file's directory exists and is writable"
            );
            EXIT_OUTPUTS
        }
    }
}
