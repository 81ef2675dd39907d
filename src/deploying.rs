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
use crate::poll::{Ending, PollSettings, repeat, send_until_answered};
use crate::progress::Progress;
use crate::sanitize::{quoted, untrusted};
use crate::watch::automation;
use crate::watch::deployment::Watch;

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
    Watch::triggered(progress, deploy, &triggered);
    let id = triggered.status_id.clone().unwrap_or_default();
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
    automation::Watch::started(progress, run);
    Ok(())
}

/// Waits on the deployment in `progress` through `client`: `Ok(true)` for a success.
pub(crate) async fn wait(
    client: &Client,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Result<bool, Ending> {
    let id = Watch::current(progress).and_then(|watch| watch.id.clone());
    let fetch = async |progress: &Progress| {
        let origin = Watch::current(progress).map_or(Origin::Given, Watch::origin);
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
    let polls = progress.stages().last().map_or(0, |(_, polls)| polls);
    let Some(watched) = Watch::current_mut(progress) else {
        return;
    };
    watched.read_one = true;
    let label = watched.label();
    let previous = watched.last_status().cloned();
    let now = deployment.status.clone();
    watched.last = Some(deployment);
    let Some(now) = now else { return };
    debug!(
        "deployment {label}: poll {polls}: {}",
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

#[cfg(test)]
mod tests;
