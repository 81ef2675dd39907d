//! An automation run, which a run triggers and does not wait on: Mintlify documents no way to
//! read a run's status.

use crate::deployment::AutomationRun;
use crate::failure::{NotAJob, Refusal};
use crate::progress::Progress;
use crate::sanitize::quoted;
use crate::watch::Watching;

pub(crate) struct Watch {
    /// The automation, as the settings name it.
    pub automation_id: String,
    /// The run the trigger started, once answered.
    pub run: Option<AutomationRun>,
}

impl Watch {
    pub(crate) fn new(automation_id: &str) -> Watch {
        Watch {
            automation_id: automation_id.to_owned(),
            run: None,
        }
    }

    /// The automation of the run, if it is about one.
    pub(crate) fn of(progress: &Progress) -> Option<&Watch> {
        progress.stages().find_map(|(stage, _)| match stage {
            Watching::Automation(watch) => Some(watch),
            _ => None,
        })
    }

    fn current_mut(progress: &mut Progress) -> Option<&mut Watch> {
        match progress.current_mut() {
            Watching::Automation(watch) => Some(watch),
            _ => None,
        }
    }

    /// The trigger was answered with `run`.
    pub(crate) fn started(progress: &mut Progress, run: AutomationRun) {
        if let Some(watch) = Watch::current_mut(progress) {
            watch.run = Some(run);
        }
    }
}

impl super::Watch for Watch {
    fn who(&self) -> String {
        format!("automation {}", quoted(&self.automation_id))
    }

    fn status(&self) -> Option<String> {
        None
    }

    fn read_one(&self) -> bool {
        false
    }

    fn never_read(&self, reason: NotAJob) -> Refusal {
        Refusal::NeverAJob { reason }
    }
}
