//! One run: read the settings, poll, report. The only place that decides the exit code.

use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::client::Client;
use crate::config::{self, Command, Config};
use crate::outcome::{EXIT_CONFIG, EXIT_OUTPUTS, Outcome, Signal};
use crate::outputs::{self, Report};
use crate::poll::{Ending, JobSource, PollSettings, Progress, poll_until_final};
use crate::{job::Job, logging};

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
    let mut progress = Progress::new(&config.job_id);
    let outcome = wait(&config, &mut progress).await;
    report(&config, &progress, &outcome)
}

/// The job, read over HTTP.
struct Remote<'a> {
    client: &'a Client,
    job_id: &'a str,
}

impl JobSource for Remote<'_> {
    async fn fetch(&self) -> Result<Job, crate::client::Failure> {
        self.client.get_job(self.job_id).await
    }
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
    let source = Remote {
        client: &client,
        job_id: &config.job_id,
    };
    let ending = tokio::select! {
        ending = poll_until_final(&source, &settings, progress) => ending,
        signal = signals.recv() => return Outcome::Cancelled(signal),
    };
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
        job_id: &config.job_id,
        last: progress.last.as_ref(),
        elapsed: Instant::now().duration_since(progress.started),
        polls: progress.polls,
        timeout: config.timeout,
    };
    let verdict = crate::sanitize::untrusted(&report.verdict());
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
