//! An automation run, which a run triggers and does not wait on: Mintlify documents no way to
//! read a run's status.

use serde_json::json;

use crate::api::classify::Start;
use crate::api::client::Client;
use crate::api::deployment::AutomationRun;
use crate::api::failure::{NotAJob, Refusal};
use crate::report::{Report, Words, stdout_json};
use crate::run::poll::{Ending, PollSettings, send_until_answered};
use crate::run::progress::Progress;
use crate::text::sanitize::{markdown, quoted, untrusted};
use crate::watch::{Stage as _, Watching};

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

impl super::Stage for Watch {
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

impl Words for Watch {
    fn title(&self) -> &'static str {
        "automation"
    }

    fn outputs(&self) -> Vec<(&'static str, String)> {
        let run = self.run.as_ref();
        let id = |field: fn(&AutomationRun) -> Option<&str>| {
            untrusted(run.and_then(field).unwrap_or_default())
        };
        vec![
            ("automation_run_id", id(|run| run.instance_id.as_deref())),
            ("job_id", id(|run| run.job_id.as_deref())),
        ]
    }

    fn stdout_line(&self) -> Option<String> {
        let run = self.run.as_ref()?;
        Some(stdout_json(
            &run.raw,
            || json!({ "instanceId": run.instance_id, "jobId": run.job_id }),
        ))
    }

    fn table(&self, _: &Report<'_>, _: u32) -> String {
        let run = self.run.as_ref();
        let id = |field: fn(&AutomationRun) -> Option<&str>| {
            markdown(&untrusted(run.and_then(field).unwrap_or("none")))
        };
        format!(
            "| automation run | job |\n| --- | --- |\n| {} | {} |\n",
            id(|run| run.instance_id.as_deref()),
            id(|run| run.job_id.as_deref()),
        )
    }

    fn lead_in(&self) -> String {
        String::new()
    }

    fn timed_out(&self, report: &Report<'_>) -> String {
        report.not_triggered()
    }

    fn started(&self, _: &Report<'_>) -> String {
        let id = |field: fn(&AutomationRun) -> Option<&str>| {
            let id = self.run.as_ref().and_then(field);
            id.map_or_else(|| "without an id".to_owned(), quoted)
        };
        format!(
            "{}: run {} triggered (job {}); Mintlify documents no way to read a run's status, so it is not waited on",
            self.who(),
            id(|run| run.instance_id.as_deref()),
            id(|run| run.job_id.as_deref()),
        )
    }
}

/// Triggers the automation once; its run is not waited on, since Mintlify documents no way to
/// read a run's status.
pub(crate) async fn trigger(
    client: &Client,
    automation_id: &str,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Result<(), Ending> {
    let deadline = settings.deadline;
    let send = async |_: &Progress| client.trigger_automation(automation_id, deadline).await;
    let run = send_until_answered(send, Start::Automation, settings, progress).await?;
    for note in &run.notes {
        progress.warn_once(note.to_string());
    }
    // The verdict names the run and its job: no status of it can be read to wait on.
    Watch::started(progress, run);
    Ok(())
}
