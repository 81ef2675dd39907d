//! A production deployment or a preview as a run waits on it.

use tokio::time::Instant;

use crate::classify::Origin;
use crate::deploying::Deploy;
use crate::deployment::{DeployStatus, Deployment, Triggered};
use crate::failure::{NotAJob, Refusal};
use crate::outcome::Exit;
use crate::progress::{self, Progress};
use crate::sanitize::{quoted, untrusted};
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

impl super::Watch for Watch {
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

mod report;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verdict_has_the_documented_code_and_result() {
        assert_eq!(
            (
                Verdict::Succeeded.exit().code(),
                Verdict::Succeeded.result()
            ),
            (0, "deployed")
        );
        assert_eq!(
            (Verdict::Failed.exit().code(), Verdict::Failed.result()),
            (8, "deployment_failed")
        );
    }
}
