//! A production deployment or a preview as a run waits on it: triggering it and polling its
//! status through the one retry loop, the one classifier and the run's one deadline, as a job
//! is waited on.

use tokio::time::Instant;
use tracing::{debug, info};

use crate::api::classify::{Call, Origin, Start};
use crate::api::client::Client;
use crate::api::deployment::{DeployStatus, Deployment, Triggered};
use crate::api::failure::{Failure, NotAJob, Refusal};
use crate::run::outcome::{Exit, Timeout};
use crate::run::poll::{Ending, PollSettings, repeat, send_until_answered};
use crate::run::progress::{self, Progress};
use crate::text::sanitize::{quoted, untrusted};
use crate::watch::Watching;

/// What the run asked for, which names the deployment before it has an id.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Asked {
    /// One triggered elsewhere, given by its statusId.
    Given,
    Trigger(Deploy),
    /// The preview of the agent's branch, once its job completed with a PR.
    AgentPreview,
}

/// A deployment the run triggers or was given, and what has been seen of it.
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    asked: Asked,
    /// The statusId, once there is one.
    pub id: Option<String>,
    pub preview_url: Option<String>,
    pub last: Option<Deployment>,
    /// When this run triggered it: its first reads may not find it yet.
    triggered_at: Option<Instant>,
    /// An answer was read as a deployment's status, whatever the status.
    pub read_one: bool,
}

impl Watch {
    fn asked(asked: Asked, id: Option<&str>) -> Watch {
        Watch {
            asked,
            id: id.map(str::to_owned),
            preview_url: None,
            last: None,
            triggered_at: None,
            read_one: false,
        }
    }

    /// A deployment triggered elsewhere, given by its statusId.
    pub(crate) fn given(id: &str) -> Watch {
        Watch::asked(Asked::Given, Some(id))
    }

    /// A deployment this run is to trigger.
    pub(crate) fn to_trigger(deploy: Deploy) -> Watch {
        Watch::asked(Asked::Trigger(deploy), None)
    }

    /// The preview of the agent's branch, which follows its job.
    pub(crate) fn agent_preview() -> Watch {
        Watch::asked(Asked::AgentPreview, None)
    }

    /// The deployment of the run, if it has one.
    pub(crate) fn of(progress: &Progress) -> Option<&Watch> {
        progress.stages().find_map(|(stage, _)| match stage {
            Watching::Deployment(watch) => Some(watch),
            _ => None,
        })
    }

    pub(crate) fn current(progress: &Progress) -> Option<&Watch> {
        match progress.current() {
            Watching::Deployment(watch) => Some(watch),
            _ => None,
        }
    }

    pub(crate) fn current_mut(progress: &mut Progress) -> Option<&mut Watch> {
        match progress.current_mut() {
            Watching::Deployment(watch) => Some(watch),
            _ => None,
        }
    }

    /// The trigger was answered: the run waits on the statusId of `triggered` from now on.
    pub(crate) fn triggered(progress: &mut Progress, deploy: &Deploy, triggered: &Triggered) {
        // The classifier accepts a trigger's answer only with a usable statusId.
        let id = triggered.status_id.clone().unwrap_or_default();
        if Watch::current(progress).is_none() {
            let watch = Watch::to_trigger(deploy.clone());
            progress.begin(Watching::Deployment(watch));
        }
        let Some(watch) = Watch::current_mut(progress) else {
            return;
        };
        watch.id = Some(id);
        watch.triggered_at = Some(Instant::now());
        watch.preview_url.clone_from(&triggered.preview_url);
    }

    /// The deployment as log lines name it.
    pub(crate) fn label(&self) -> String {
        untrusted(self.id.as_deref().unwrap_or_default())
    }

    pub(crate) fn last_status(&self) -> Option<&DeployStatus> {
        self.last.as_ref().and_then(|last| last.status.as_ref())
    }

    /// The last status seen, as the server wrote it (bounded).
    pub(crate) fn status_text(&self) -> Option<&str> {
        self.last_status().map(DeployStatus::as_str)
    }

    /// Whether this run triggered it, and how long ago.
    pub(crate) fn origin(&self) -> Origin {
        progress::origin(self.triggered_at)
    }
}

impl super::Stage for Watch {
    fn who(&self) -> String {
        match (&self.id, &self.asked) {
            (Some(_), _) | (None, Asked::Given) => format!("deployment {}", self.label()),
            (None, Asked::Trigger(Deploy::Production)) => "the production deployment".to_owned(),
            (None, Asked::Trigger(Deploy::Preview { branch })) => {
                format!("the preview of branch {}", quoted(branch))
            }
            (None, Asked::AgentPreview) => "the preview of the agent's branch".to_owned(),
        }
    }

    fn status(&self) -> Option<String> {
        self.status_text().map(untrusted)
    }

    fn read_one(&self) -> bool {
        self.read_one
    }

    fn never_read(&self, reason: NotAJob) -> Refusal {
        Refusal::NeverAStatus { reason }
    }
}

/// How a deployment or preview ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Succeeded,
    Failed,
}

impl Verdict {
    pub(crate) fn exit(self) -> Exit {
        match self {
            Verdict::Succeeded => Exit::Pass,
            Verdict::Failed => Exit::DeploymentFailed,
        }
    }

    pub(crate) fn result(self) -> &'static str {
        match self {
            Verdict::Succeeded => "deployed",
            Verdict::Failed => "deployment_failed",
        }
    }
}

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

/// Waits on the deployment in `progress` through `client` until it succeeds or fails.
pub(crate) async fn wait(
    client: &Client,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Result<Verdict, Ending> {
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
) -> Result<Verdict, Ending> {
    let finished = |progress: &mut Progress, deployment: Deployment| {
        let ended = deployment.status.as_ref().and_then(DeployStatus::succeeded);
        observe(progress, deployment);
        ended.map(|succeeded| {
            if succeeded {
                Verdict::Succeeded
            } else {
                Verdict::Failed
            }
        })
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

mod report;
#[cfg(test)]
mod tests;
