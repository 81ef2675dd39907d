//! Triggering a production deployment, a preview or an automation, and waiting on a
//! deployment's status: through the one retry loop, the one classifier and the run's one
//! deadline, as a job is waited on.

use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::classify::{Call, Origin, Start};
use crate::client::Client;
use crate::deployment::{DeployStatus, Deployment};
use crate::failure::Failure;
use crate::outcome::Timeout;
use crate::poll::{Ending, PollSettings, Progress, repeat, send_until_answered};
use crate::sanitize::{quoted, untrusted};

/// What a run deploys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Deploy {
    /// The project's deployment branch, to production.
    Production,
    Preview {
        branch: String,
    },
}

impl Deploy {
    /// The call that starts it.
    fn start(&self) -> Start {
        match self {
            Deploy::Production => Start::Update,
            Deploy::Preview { .. } => Start::Preview,
        }
    }
}

/// A deployment the run triggered or was given, and what has been seen of it.
#[derive(Debug, Clone)]
pub(crate) struct Watched {
    /// The statusId.
    pub id: String,
    pub preview_url: Option<String>,
    pub last: Option<Deployment>,
    /// When this run triggered it: its first reads may not find it yet.
    triggered_at: Option<Instant>,
    /// An answer was read as a deployment's status, whatever the status.
    pub read_one: bool,
    /// The run's polls before this deployment's first: a preview after the agent's job counts
    /// its own.
    polls_before: u32,
}

impl Watched {
    /// A deployment triggered elsewhere, given by its statusId.
    pub(crate) fn given(id: &str) -> Watched {
        Watched {
            id: id.to_owned(),
            preview_url: None,
            last: None,
            triggered_at: None,
            read_one: false,
            polls_before: 0,
        }
    }

    /// The polls of this deployment's status, out of the run's `polls`.
    pub(crate) fn polls(&self, polls: u32) -> u32 {
        polls.saturating_sub(self.polls_before)
    }

    /// The deployment as log lines name it.
    pub(crate) fn label(&self) -> String {
        untrusted(&self.id)
    }

    pub(crate) fn status(&self) -> Option<&DeployStatus> {
        self.last.as_ref().and_then(|last| last.status.as_ref())
    }

    /// The last status seen, as the server wrote it (bounded).
    pub(crate) fn status_text(&self) -> Option<&str> {
        self.status().map(DeployStatus::as_str)
    }

    /// Whether this run triggered it, and how long ago.
    fn origin(&self) -> Origin {
        crate::poll::origin(self.triggered_at)
    }
}

/// Triggers the deployment, sent again only when it certainly did not arrive. Once answered,
/// the run waits on the statusId of the answer.
pub(crate) async fn trigger(
    client: &Client,
    deploy: &Deploy,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Result<(), Ending> {
    let deadline = settings.deadline;
    // A request sent with no time left would be cut off at once, and look as if it may have
    // arrived: after a job that ended at the deadline, nothing is sent.
    if Instant::now() >= deadline {
        return Err(Ending::TimedOut(Timeout::Deadline));
    }
    let start = deploy.start();
    let send = async |_: &Progress| match deploy {
        Deploy::Production => client.trigger_update(deadline).await,
        Deploy::Preview { branch } => client.trigger_preview(branch, deadline).await,
    };
    let triggered = send_until_answered(send, start, settings, progress).await?;
    // The classifier accepts a trigger's answer only with a usable statusId.
    let id = triggered.status_id.clone().unwrap_or_default();
    let mut watched = Watched::given(&id);
    watched.triggered_at = Some(Instant::now());
    watched.polls_before = progress.polls;
    watched.preview_url.clone_from(&triggered.preview_url);
    progress.watch(watched);
    for note in &triggered.notes {
        progress.warn_once(note.to_string());
    }
    match deploy {
        Deploy::Production => info!("deployment {}: triggered", untrusted(&id)),
        Deploy::Preview { branch } => info!(
            "deployment {}: preview of branch {} triggered{}",
            untrusted(&id),
            quoted(branch),
            triggered
                .preview_url
                .as_deref()
                .map(|url| format!(", to be served at {}", untrusted(url)))
                .unwrap_or_default()
        ),
    }
    debug!(
        "{} answered: {}",
        start.what(),
        untrusted(&triggered.raw.to_string())
    );
    Ok(())
}

/// Triggers the automation once; its run is not waited on, since Mintlify documents no way to
/// read a run's status.
pub(crate) async fn trigger_automation(
    client: &Client,
    automation_id: &str,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Result<(), Ending> {
    let deadline = settings.deadline;
    let send = async |_: &Progress| client.trigger_automation(automation_id, deadline).await;
    let run = send_until_answered(send, Start::Automation, settings, progress).await?;
    // Read once: each note is said once without `warn_once`, which names the job or deployment.
    for note in &run.notes {
        warn!("automation {}: {note}", quoted(automation_id));
    }
    // The verdict names the run and its job: no status of it can be read to wait on.
    progress.automation_started(run);
    Ok(())
}

/// Waits on the deployment in `progress` through `client`: `Ok(true)` for a success.
pub(crate) async fn wait(
    client: &Client,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Result<bool, Ending> {
    let id = progress.deployment.as_ref().map(|d| d.id.clone());
    let fetch = async |progress: &Progress| {
        let origin = progress
            .deployment
            .as_ref()
            .map_or(Origin::Given, Watched::origin);
        client
            .get_deployment(id.as_deref().unwrap_or_default(), origin)
            .await
    };
    poll(fetch, settings, progress).await
}

/// Polls the deployment at once, then on the schedule, until it succeeds or fails.
///
/// `fetch` reads its status once: the HTTP client in a run, a script in tests.
async fn poll(
    fetch: impl AsyncFn(&Progress) -> Result<Deployment, Failure>,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Result<bool, Ending> {
    // Answers that were no status before, about the job, say nothing about the deployment.
    progress.polling_a_deployment();
    let finished = |progress: &mut Progress, deployment: Deployment| {
        let ended = deployment.status.as_ref().and_then(DeployStatus::succeeded);
        observe(progress, deployment);
        ended
    };
    repeat(fetch, finished, Call::Read, settings, progress).await
}

/// Logs what changed, and keeps the answer as the last seen.
fn observe(progress: &mut Progress, deployment: Deployment) {
    for note in &deployment.notes {
        progress.warn_once(note.to_string());
    }
    let Some(watched) = progress.deployment.as_mut() else {
        return;
    };
    watched.read_one = true;
    let label = watched.label();
    let previous = watched.status().cloned();
    let now = deployment.status.clone();
    watched.last = Some(deployment);
    let Some(now) = now else { return };
    debug!(
        "deployment {label}: poll {}: {}",
        watched.polls(progress.polls),
        untrusted(now.as_str())
    );
    let changed = match &previous {
        None => Some(String::new()),
        Some(previous) if *previous != now => Some(format!("{} -> ", untrusted(previous.as_str()))),
        Some(_) => None,
    };
    if let Some(from) = changed {
        info!("deployment {label}: {from}{}", untrusted(now.as_str()));
    }
    if let DeployStatus::Other(unknown) = &now {
        progress.warn_once(format!(
            "status {} is unknown to this version; polling on as if in progress",
            quoted(unknown)
        ));
    }
}

mod report;
#[cfg(test)]
mod tests;
