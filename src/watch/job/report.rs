//! The report's words for an agent job: its outputs, its verdicts and its step summary, with
//! server text bounded where it was read and escaped here for the place it goes.

use serde_json::json;

use crate::api::failure::Var;
use crate::api::job::Status;
use crate::report::{Report, Words, stdout_json};
use crate::settings::duration::display;
use crate::text::sanitize::{markdown, untrusted};
use crate::watch::job::{Verdict, Watch};

impl Watch {
    /// The PR link, read as one only under its rules, so it is written as it is.
    pub(crate) fn pr_link(&self) -> Option<&str> {
        self.last.as_ref().and_then(|job| job.pr_link.as_deref())
    }

    /// A field of the last answer, escaped; empty before the first.
    fn last_text(&self, field: fn(&crate::api::job::Job) -> Option<&str>) -> String {
        untrusted(self.last.as_ref().and_then(field).unwrap_or_default())
    }
}

impl Words for Watch {
    fn title(&self) -> &'static str {
        "agent"
    }

    fn outputs(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "status",
                self.last_text(|job| job.status.as_ref().map(Status::as_str)),
            ),
            ("pr_link", self.pr_link().unwrap_or_default().to_owned()),
            ("job_id", untrusted(self.id.as_deref().unwrap_or_default())),
            (
                "repository",
                self.last_text(|job| job.repository.as_deref()),
            ),
            ("ref", self.last_text(|job| job.git_ref.as_deref())),
        ]
    }

    fn stdout_line(&self) -> Option<String> {
        let job = self.last.as_ref()?;
        Some(stdout_json(&job.raw, || {
            json!({
                "id": job.id,
                "status": job.status.as_ref().map(Status::as_str),
                "prLink": job.pr_link,
                "source": {"repository": job.repository, "ref": job.git_ref},
            })
        }))
    }

    fn table(&self, report: &Report<'_>, polls: u32) -> String {
        let status = self.last_status().map(Status::as_str);
        format!(
            "| job | status | PR | elapsed | polls |\n| --- | --- | --- | --- | --- |\n| {} | {} | {} | {} | {} |\n",
            markdown(self.id.as_deref().unwrap_or_default()),
            markdown(&untrusted(status.unwrap_or("none"))),
            markdown(self.pr_link().unwrap_or("none")),
            display(report.elapsed),
            polls
        )
    }

    fn lead_in(&self) -> String {
        self.pr_link()
            .map(|link| format!("job {} completed, PR {link}; ", self.label()))
            .unwrap_or_default()
    }

    fn timed_out(&self, report: &Report<'_>) -> String {
        let mut seen = format!("last status: {}", report.last_status());
        if self.not_active_since_follow_up() {
            seen.push_str(", from before the follow-up: the job was not seen active since");
        }
        if let Some(trouble) = report.progress.last_trouble() {
            seen.push_str(&format!("; last problem: {trouble}"));
        }
        format!(
            "job {} has no final status after {} ({seen}): raise {} or check the job in the Mintlify dashboard",
            self.label(),
            display(report.config.timeout),
            Var::Timeout
        )
    }

    fn started(&self, report: &Report<'_>) -> String {
        format!(
            "job {} started ({}); not waiting, as {}=false asks",
            self.label(),
            report.last_status(),
            Var::Wait
        )
    }
}

impl Verdict {
    pub(crate) fn sentence(self, report: &Report<'_>) -> String {
        let watch = Watch::of(report.progress);
        let job = watch.map_or_else(|| "(new)".to_owned(), Watch::label);
        match self {
            Verdict::Completed => match watch.and_then(Watch::pr_link) {
                Some(link) => format!("job {job} completed, PR {link}"),
                None => format!("job {job} completed without a PR (no file changed)"),
            },
            Verdict::Failed => format!("job {job} failed: see the job in the Mintlify dashboard"),
            Verdict::Archived { allowed: true } => {
                format!(
                    "job {job} was archived, which {} accepts",
                    Var::AllowArchived
                )
            }
            Verdict::Archived { allowed: false } => {
                format!(
                    "job {job} was archived: set {}=true to accept that",
                    Var::AllowArchived
                )
            }
            Verdict::CompletedWithoutPr => {
                format!(
                    "job {job} completed without a PR, and {} asks for one",
                    Var::RequirePr
                )
            }
        }
    }
}
