//! The report's words for a deployment, a preview and an automation: the outputs, the verdict
//! and the step summary, with server text bounded where it was read and escaped here for the
//! place it goes, as the job's is.

use serde_json::json;
use tracing::warn;

use crate::config::Task;
use crate::deploying::Deploy;
use crate::deployment::DeployStatus;
use crate::duration::display;
use crate::failure::Var;
use crate::outcome::Outcome;
use crate::report::{Report, STDOUT_LIMIT};
use crate::sanitize::{json_line, markdown, quoted, untrusted};
use crate::watch::Verdict;
use crate::watch::automation;
use crate::watch::deployment::Verdict as DeploymentVerdict;
use crate::watch::deployment::Watch as Watched;

impl Report<'_> {
    /// What the verdict is about: the deployment or the automation once the run is about one.
    pub(crate) fn who(&self) -> String {
        match (self.deployment(), &self.config.task) {
            (Some(deployment), _) => format!("deployment {}", deployment.label()),
            (None, Task::Deploy(Deploy::Production)) => "the production deployment".to_owned(),
            (None, Task::Deploy(Deploy::Preview { branch })) => {
                format!("the preview of branch {}", quoted(branch))
            }
            (None, Task::Automation { automation_id }) => {
                format!("automation {}", quoted(automation_id))
            }
            (None, _) if self.preview_pending() => "the preview of the agent's branch".to_owned(),
            (None, _) => format!("job {}", self.job_label()),
        }
    }

    fn automation(&self) -> Option<&crate::deployment::AutomationRun> {
        automation::Watch::of(self.progress).and_then(|a| a.run.as_ref())
    }

    /// The agent job completed with a PR and its preview was to follow, but did not start.
    pub(crate) fn preview_pending(&self) -> bool {
        self.config.preview
            && self.deployment().is_none()
            && self.pr_link().is_some()
            && crate::watch::job::Watch::of(self.progress).and_then(|job| job.last_status())
                == Some(&crate::job::Status::Completed)
    }

    /// How many of the run's polls read the deployment's status.
    pub(crate) fn deployment_polls(&self) -> u32 {
        let mut stages = self.progress.stages();
        let deployment =
            stages.find(|(stage, _)| matches!(stage, crate::watch::Watching::Deployment(_)));
        deployment
            .filter(|_| self.deployment().is_some())
            .map_or(0, |(_, polls)| polls)
    }

    pub(crate) fn deployment_id(&self) -> String {
        let id = self.deployment().and_then(|d| d.id.as_deref());
        untrusted(id.unwrap_or_default())
    }

    pub(crate) fn deployment_status(&self) -> String {
        let status = self.deployment();
        untrusted(status.and_then(Watched::status_text).unwrap_or_default())
    }

    /// Read as a link only under the rules of a PR link, so it is written as it is.
    pub(crate) fn preview_url(&self) -> Option<&str> {
        self.deployment()?.preview_url.as_deref()
    }

    pub(crate) fn automation_run_id(&self) -> String {
        let id = self.automation();
        untrusted(
            id.and_then(|run| run.instance_id.as_deref())
                .unwrap_or_default(),
        )
    }

    fn agent_and(&self) -> String {
        match (&self.config.task, self.pr_link()) {
            (task, Some(link)) if task.is_agent() => {
                format!("job {} completed, PR {link}; ", self.job_label())
            }
            _ => String::new(),
        }
    }

    fn preview_at(&self) -> String {
        self.preview_url()
            .map(|url| format!(" at {url}"))
            .unwrap_or_default()
    }

    /// The verdict on a deployment that succeeded or failed; a failure says why, in the
    /// server's words, bounded and escaped: its summary and its last log lines.
    pub(crate) fn deployment_ended(&self) -> String {
        let who = self.who();
        let agent = self.agent_and();
        if *self.outcome == Outcome::Ended(Verdict::Deployment(DeploymentVerdict::Succeeded)) {
            return format!("{agent}{who} succeeded{}", self.preview_at());
        }
        let last = self.deployment().and_then(|d| d.last.as_ref());
        let mut why = last
            .and_then(|last| last.summary.as_deref())
            .map_or_else(|| "no summary given".to_owned(), untrusted);
        let logs: Vec<String> = last
            .map(|last| last.logs.iter().map(|line| quoted(line)).collect())
            .unwrap_or_default();
        if !logs.is_empty() {
            why.push_str(&format!("; last log lines: {}", logs.join(" | ")));
        }
        format!("{agent}{who} failed: {why}: see the deployment in the Mintlify dashboard")
    }

    pub(crate) fn deployment_timed_out(&self) -> String {
        let problem = self
            .progress
            .last_trouble()
            .map(|trouble| format!("; last problem: {trouble}"))
            .unwrap_or_default();
        let (agent, who, timeout) = (self.agent_and(), self.who(), display(self.config.timeout));
        if self.deployment().is_none() {
            return format!(
                "{agent}{who} was not triggered before the deadline of {timeout}{problem}: raise {} or run it again later",
                Var::Timeout
            );
        }
        format!(
            "{agent}{who} has no final status after {timeout} (last status: {}{problem}): raise {} or check the deployment in the Mintlify dashboard",
            self.last_status(),
            Var::Timeout
        )
    }

    /// The verdict on a trigger that is not waited on.
    pub(crate) fn triggered(&self) -> String {
        match self.automation() {
            Some(run) => format!(
                "{}: run {} triggered (job {}); Mintlify documents no way to read a run's status, so it is not waited on",
                self.who(),
                run.instance_id
                    .as_deref()
                    .map_or_else(|| "without an id".to_owned(), quoted),
                run.job_id
                    .as_deref()
                    .map_or_else(|| "without an id".to_owned(), quoted),
            ),
            None => format!(
                "{} triggered{}; not waiting, as {}=false asks",
                self.who(),
                self.preview_at(),
                Var::Wait
            ),
        }
    }

    /// The last deployment status or automation answer, when the run is about one.
    pub(crate) fn deployment_stdout_line(&self) -> Option<String> {
        let raw = match (self.deployment(), self.automation()) {
            (Some(deployment), _) => &deployment.last.as_ref()?.raw,
            (None, Some(run)) => &run.raw,
            (None, None) => return None,
        };
        let line = json_line(raw);
        if line.len() <= STDOUT_LIMIT {
            return Some(line);
        }
        warn!(
            "the answer is over {} KiB: stdout shows only the fields read from it",
            STDOUT_LIMIT / 1024
        );
        let last = self.deployment()?.last.as_ref()?;
        Some(json_line(&json!({
            "_id": last.id,
            "status": last.status.as_ref().map(DeployStatus::as_str),
            "summary": last.summary,
            "logs": last.logs,
        })))
    }

    /// The step summary of a run about a deployment or an automation.
    pub(crate) fn deployment_summary(&self, result: &str) -> String {
        let title =
            if self.automation().is_some() || matches!(self.config.task, Task::Automation { .. }) {
                "automation"
            } else {
                "deployment"
            };
        let mut text = format!("### Mintlify {title}: {result}\n\n");
        match self.automation() {
            Some(run) => text.push_str(&format!(
                "| automation run | job |\n| --- | --- |\n| {} | {} |\n",
                markdown(&untrusted(run.instance_id.as_deref().unwrap_or("none"))),
                markdown(&untrusted(run.job_id.as_deref().unwrap_or("none"))),
            )),
            None => text.push_str(&self.deployment_table()),
        }
        text
    }

    /// The deployment's row, and a failure's summary and last log lines under it.
    pub(crate) fn deployment_table(&self) -> String {
        let deployment = self.deployment();
        let mut text = format!(
            "\n| deployment | status | preview | elapsed | polls |\n| --- | --- | --- | --- | --- |\n| {} | {} | {} | {} | {} |\n",
            markdown(&self.deployment_id()),
            markdown(&self.last_status()),
            markdown(self.preview_url().unwrap_or("none")),
            display(self.elapsed),
            self.deployment_polls()
        );
        let last = deployment.and_then(|d| d.last.as_ref());
        if *self.outcome == Outcome::Ended(Verdict::Deployment(DeploymentVerdict::Failed))
            && let Some(last) = last
        {
            if let Some(summary) = &last.summary {
                text.push_str(&format!(
                    "\n**Summary:** {}\n",
                    markdown(&untrusted(summary))
                ));
            }
            if !last.logs.is_empty() {
                text.push_str("\n**Last log lines:**\n\n");
                for line in &last.logs {
                    text.push_str(&format!("- {}\n", markdown(&untrusted(line))));
                }
            }
        }
        text
    }
}
