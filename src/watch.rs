//! What a run waits on: an agent job, a deployment (production or preview), an automation
//! run. Each kind is a module of its own, with its verdict, its watch state, its polls or
//! triggers and its words in the report; this module is the registry that names them, so the
//! loop, the outcome and the report speak of any kind through one type. A new kind is its
//! module, a variant of [`Watching`] (with its arm in `first`, `stage` and `words`) and, if it
//! ends in a verdict of its own, a variant of [`Verdict`] (with its arm in each method).

pub(crate) mod automation;
pub(crate) mod deployment;
pub(crate) mod job;

use crate::api::failure::{NotAJob, Refusal};
use crate::report::{Report, Words};
use crate::run::outcome::Exit;
use crate::settings::Task;

/// What one stage of a run waits on, and what has been seen of it.
pub(crate) enum Watching {
    Job(job::Watch),
    Deployment(deployment::Watch),
    Automation(automation::Watch),
}

impl Watching {
    /// What a run about `task` waits on first.
    pub(crate) fn first(task: &Task) -> Watching {
        match task {
            Task::Watch { .. } | Task::Create { .. } | Task::FollowUp { .. } => {
                Watching::Job(job::Watch::new(task.job_id()))
            }
            Task::Deploy(deploy) => {
                Watching::Deployment(deployment::Watch::to_trigger(deploy.clone()))
            }
            Task::WatchDeployment { deployment_id } => {
                Watching::Deployment(deployment::Watch::given(deployment_id))
            }
            Task::Automation { automation_id } => {
                Watching::Automation(automation::Watch::new(automation_id))
            }
        }
    }

    /// The stage as the loop and the verdict speak of any kind.
    pub(crate) fn stage(&self) -> &dyn Stage {
        match self {
            Watching::Job(watch) => watch,
            Watching::Deployment(watch) => watch,
            Watching::Automation(watch) => watch,
        }
    }

    /// The stage's words in the report.
    pub(crate) fn words(&self) -> &dyn Words {
        match self {
            Watching::Job(watch) => watch,
            Watching::Deployment(watch) => watch,
            Watching::Automation(watch) => watch,
        }
    }
}

/// What the loop and the verdict ask of any kind.
pub(crate) trait Stage {
    /// What log lines and the verdict call it: `job "…"`, `deployment "…"`, `the preview of
    /// branch "…"`. Server text in it is escaped.
    fn who(&self) -> String;
    /// The last status seen, escaped; `None` before the first.
    fn status(&self) -> Option<String>;
    /// Whether an answer was read as one of its own, whatever its status.
    fn read_one(&self) -> bool;
    /// Why a run that read none of its answers is refused: each was `reason`.
    fn never_read(&self, reason: NotAJob) -> Refusal;
}

/// How what the run waited on ended, in its kind's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Job(job::Verdict),
    Deployment(deployment::Verdict),
}

impl Verdict {
    pub(crate) fn exit(self) -> Exit {
        match self {
            Verdict::Job(verdict) => verdict.exit(),
            Verdict::Deployment(verdict) => verdict.exit(),
        }
    }

    /// The `result` output.
    pub(crate) fn result(self) -> &'static str {
        match self {
            Verdict::Job(verdict) => verdict.result(),
            Verdict::Deployment(verdict) => verdict.result(),
        }
    }

    /// The verdict in one sentence, with what to do when it is not a pass.
    pub(crate) fn sentence(self, report: &Report<'_>) -> String {
        match self {
            Verdict::Job(verdict) => verdict.sentence(report),
            Verdict::Deployment(verdict) => verdict.sentence(report),
        }
    }
}
