//! The report's words for a deployment or a preview: its outputs, its verdicts and its step
//! summary, with server text bounded where it was read and escaped here for the place it
//! goes, as the job's is.

use serde_json::json;

use crate::api::deployment::DeployStatus;
use crate::api::failure::Var;
use crate::report::{Report, Words, stdout_json};
use crate::run::outcome::Outcome;
use crate::settings::duration::display;
use crate::text::sanitize::{markdown, quoted, untrusted};
use crate::watch::Stage as _;
use crate::watch::deployment::{Asked, Verdict, Watch};

impl Watch {
    /// `" at <preview URL>"`, when the trigger gave one.
    fn preview_at(&self) -> String {
        self.preview_url
            .as_deref()
            .map(|url| format!(" at {url}"))
            .unwrap_or_default()
    }

    /// The last status seen, escaped, or "none".
    fn shown_status(&self) -> String {
        untrusted(self.status_text().unwrap_or("none"))
    }
}

impl Words for Watch {
    fn title(&self) -> &'static str {
        "deployment"
    }

    fn outputs(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "deployment_id",
                untrusted(self.id.as_deref().unwrap_or_default()),
            ),
            (
                "deployment_status",
                untrusted(self.status_text().unwrap_or_default()),
            ),
            // Read as a link only under the rules of a PR link, so it is written as it is.
            ("preview_url", self.preview_url.clone().unwrap_or_default()),
        ]
    }

    fn stdout_line(&self) -> Option<String> {
        let last = self.last.as_ref()?;
        Some(stdout_json(&last.raw, || {
            json!({
                "_id": last.id,
                "status": last.status.as_ref().map(DeployStatus::as_str),
                "summary": last.summary,
                "logs": last.logs,
            })
        }))
    }

    /// Its row, and a failure's summary and last log lines under it. The agent's preview adds
    /// no row until it was triggered.
    fn table(&self, report: &Report<'_>, polls: u32) -> String {
        if self.id.is_none() && self.asked == Asked::AgentPreview {
            return String::new();
        }
        let mut text = format!(
            "\n| deployment | status | preview | elapsed | polls |\n| --- | --- | --- | --- | --- |\n| {} | {} | {} | {} | {} |\n",
            markdown(&untrusted(self.id.as_deref().unwrap_or_default())),
            markdown(&self.shown_status()),
            markdown(self.preview_url.as_deref().unwrap_or("none")),
            display(report.elapsed),
            polls
        );
        let failed = Outcome::Ended(crate::watch::Verdict::Deployment(Verdict::Failed));
        if *report.outcome == failed
            && let Some(last) = &self.last
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

    fn lead_in(&self) -> String {
        String::new()
    }

    fn timed_out(&self, report: &Report<'_>) -> String {
        if self.id.is_none() {
            return report.not_triggered();
        }
        format!(
            "{}{} has no final status after {} (last status: {}{}): raise {} or check the deployment in the Mintlify dashboard",
            report.lead_in(),
            self.who(),
            display(report.config.timeout),
            self.shown_status(),
            report.last_problem(),
            Var::Timeout
        )
    }

    fn started(&self, _: &Report<'_>) -> String {
        format!(
            "{} triggered{}; not waiting, as {}=false asks",
            self.who(),
            self.preview_at(),
            Var::Wait
        )
    }
}

impl Verdict {
    /// A failure says why, in the server's words, bounded and escaped: its summary and its
    /// last log lines.
    pub(crate) fn sentence(self, report: &Report<'_>) -> String {
        let watch = Watch::of(report.progress);
        let (agent, who) = (report.lead_in(), report.who());
        let preview_at = watch.map(Watch::preview_at).unwrap_or_default();
        if self == Verdict::Succeeded {
            return format!("{agent}{who} succeeded{preview_at}");
        }
        let last = watch.and_then(|watch| watch.last.as_ref());
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
}
