//! The report of a run, as text, in each form a CI reads: the `$GITHUB_OUTPUT` entries, a
//! dotenv file, the step summary, an annotation and one JSON line on stdout. Server text is
//! escaped for each place. Nothing here writes: [`crate::outputs`] puts the text in files.

use std::time::Duration;

use serde_json::json;
use tracing::warn;

use crate::classify::Start;
use crate::config::Config;
use crate::duration::display;
use crate::failure::Var;
use crate::job::{self, Job, Status};
use crate::outcome::{Outcome, Timeout};
use crate::progress::Progress;
use crate::sanitize::{json_line, markdown, quoted, untrusted, workflow_data};
use crate::watch::Verdict;
use crate::watch::job::Verdict as JobVerdict;
use crate::watch::{automation, deployment};

/// The most bytes an output value may take, escaped.
fn output_limit(name: &str) -> usize {
    match name {
        "pr_link" => job::PR_LINK_LIMIT,
        "preview_url" => crate::deployment::PREVIEW_URL_LIMIT,
        "deployment_status" => 128,
        "repository" => job::REPOSITORY_LIMIT,
        "job_id" | "deployment_id" | "automation_run_id" => job::ID_LIMIT,
        _ => 256,
    }
}

/// The longest stdout line: the answer as sent when it fits, else only the fields read.
pub(crate) const STDOUT_LIMIT: usize = 16 * 1024;

pub(crate) struct Report<'a> {
    pub outcome: &'a Outcome,
    pub progress: &'a Progress,
    pub config: &'a Config,
    pub elapsed: Duration,
}

impl Report<'_> {
    fn job(&self) -> Option<&crate::watch::job::Watch> {
        crate::watch::job::Watch::of(self.progress)
    }

    fn last(&self) -> Option<&Job> {
        self.job().and_then(|job| job.last.as_ref())
    }

    fn job_id(&self) -> &str {
        let automation = automation::Watch::of(self.progress).and_then(|a| a.run.as_ref());
        let id = self.job().and_then(|job| job.id.as_deref());
        id.or(automation.and_then(|run| run.job_id.as_deref()))
            .unwrap_or_default()
    }

    pub(crate) fn job_label(&self) -> String {
        self.job()
            .map_or_else(|| "(new)".to_owned(), crate::watch::job::Watch::label)
    }

    /// The deployment the run waits on, once it has an id.
    pub(crate) fn deployment(&self) -> Option<&deployment::Watch> {
        deployment::Watch::of(self.progress).filter(|d| d.id.is_some())
    }

    pub(crate) fn pr_link(&self) -> Option<&str> {
        self.last().and_then(|job| job.pr_link.as_deref())
    }

    /// The outputs, by the names action.yml declares. Server text is bounded where it is read
    /// and escaped here, so a later step that shows it shows what it is.
    ///
    /// Each value is bounded in bytes once escaped, so the whole report stays under GitLab's
    /// 5,120-byte cap on a dotenv report; a value over its bound is written empty, with a
    /// warning.
    pub(crate) fn fields(&self) -> [(&'static str, String); 10] {
        let last = |field: fn(&Job) -> Option<&str>| {
            untrusted(self.last().and_then(field).unwrap_or_default())
        };
        let fields = [
            (
                "status",
                last(|job| job.status.as_ref().map(Status::as_str)),
            ),
            ("pr_link", self.pr_link().unwrap_or_default().to_owned()),
            ("job_id", untrusted(self.job_id())),
            ("result", self.outcome.result().to_owned()),
            ("repository", last(|job| job.repository.as_deref())),
            ("ref", last(|job| job.git_ref.as_deref())),
            ("deployment_id", self.deployment_id()),
            ("deployment_status", self.deployment_status()),
            (
                "preview_url",
                self.preview_url().unwrap_or_default().to_owned(),
            ),
            ("automation_run_id", self.automation_run_id()),
        ];
        fields.map(|(name, value)| {
            let limit = output_limit(name);
            if value.len() > limit {
                warn!("output {name} is over {limit} bytes once escaped; it is written empty");
                (name, String::new())
            } else {
                (name, value)
            }
        })
    }

    /// The last status seen of what the run waited on last: the deployment once it has one.
    pub(crate) fn last_status(&self) -> String {
        match self.deployment() {
            Some(deployment) => untrusted(deployment.status_text().unwrap_or("none")),
            None => self.job_status(),
        }
    }

    /// The job's last status seen.
    fn job_status(&self) -> String {
        self.last()
            .and_then(|job| job.status.as_ref())
            .map_or_else(|| "none".to_owned(), |status| untrusted(status.as_str()))
    }

    /// The verdict in one sentence, with what to do when it is not a pass. Server text in it
    /// is escaped already.
    pub(crate) fn verdict(&self) -> String {
        let job = self.job_label();
        let who = self.who();
        let timeout = display(self.config.timeout);
        match self.outcome {
            Outcome::Ended(Verdict::Job(JobVerdict::Completed)) => match self.pr_link() {
                Some(link) => format!("job {job} completed, PR {link}"),
                None => format!("job {job} completed without a PR (no file changed)"),
            },
            Outcome::Ended(Verdict::Job(JobVerdict::Failed)) => {
                format!("job {job} failed: see the job in the Mintlify dashboard")
            }
            Outcome::Ended(Verdict::Job(JobVerdict::Archived { allowed: true })) => {
                format!(
                    "job {job} was archived, which {} accepts",
                    Var::AllowArchived
                )
            }
            Outcome::Ended(Verdict::Job(JobVerdict::Archived { allowed: false })) => {
                format!(
                    "job {job} was archived: set {}=true to accept that",
                    Var::AllowArchived
                )
            }
            Outcome::Ended(Verdict::Deployment(_)) => self.deployment_ended(),
            Outcome::TimedOut(Timeout::Deadline)
                if self.deployment().is_some()
                    || self.preview_pending()
                    || !self.config.task.is_agent() =>
            {
                self.deployment_timed_out()
            }
            Outcome::Started if !self.config.task.is_agent() => self.triggered(),
            Outcome::TimedOut(Timeout::Deadline) => {
                let mut seen = format!("last status: {}", self.last_status());
                if self
                    .job()
                    .is_some_and(crate::watch::job::Watch::not_active_since_follow_up)
                {
                    seen.push_str(", from before the follow-up: the job was not seen active since");
                }
                if let Some(trouble) = self.progress.last_trouble() {
                    seen.push_str(&format!("; last problem: {trouble}"));
                }
                format!(
                    "job {job} has no final status after {timeout} ({seen}): raise {} or check the job in the Mintlify dashboard",
                    Var::Timeout
                )
            }
            Outcome::TimedOut(Timeout::Unreachable) => format!(
                "{who}: the API at {url} could not be reached in {timeout} ({}): check {}, DNS, the network and any HTTPS_PROXY from this runner; curl -sS {url} shows the same error",
                self.progress
                    .last_trouble()
                    .map_or_else(|| "no request was answered".to_owned(), ToString::to_string),
                Var::ApiUrl,
                url = self.config.api_url,
            ),
            Outcome::TimedOut(Timeout::RetryAfter(asked)) => format!(
                "{who}: the API asked (Retry-After) to wait {} before the next request, past the deadline of {timeout}: run again later, or raise {}",
                display(*asked),
                Var::Timeout
            ),
            Outcome::ApiError(refusal) => format!("{who}: {refusal}"),
            Outcome::Ended(Verdict::Job(JobVerdict::CompletedWithoutPr)) => {
                format!(
                    "job {job} completed without a PR, and {} asks for one",
                    Var::RequirePr
                )
            }
            Outcome::Started => format!(
                "job {job} started ({}); not waiting, as {}=false asks",
                self.last_status(),
                Var::Wait
            ),
            Outcome::Cancelled(signal) => {
                let in_flight = match self.progress.start_in_flight() {
                    Some(Start::Create) => format!(
                        "; the request to create a job was in flight, so a job may or may not exist: check the agent jobs of project {} in the Mintlify dashboard before running this again",
                        quoted(&self.config.project_id)
                    ),
                    Some(Start::FollowUp) => "; the follow-up was in flight, so it may or may not have been sent: check the job in the Mintlify dashboard before sending it again".to_owned(),
                    Some(start) => format!("; the request to trigger {} was in flight, so it may or may not have started: check the Mintlify dashboard before running this again", start.what()),
                    None => String::new(),
                };
                format!(
                    "{who}: cancelled by {} (last status: {}){in_flight}",
                    signal.name(),
                    self.last_status()
                )
            }
        }
    }

    /// The answer as sent (decoded and redacted), on one line, when it is small; else the
    /// fields this gate read from it, so stdout stays bounded.
    pub(crate) fn stdout_line(&self) -> Option<String> {
        if let Some(line) = self.deployment_stdout_line() {
            return Some(line);
        }
        let job = self.last()?;
        let line = json_line(&job.raw);
        if line.len() <= STDOUT_LIMIT {
            return Some(line);
        }
        warn!(
            "the answer is over {} KiB: stdout shows only the fields read from it",
            STDOUT_LIMIT / 1024
        );
        Some(json_line(&json!({
            "id": job.id,
            "status": job.status.as_ref().map(Status::as_str),
            "prLink": job.pr_link,
            "source": {"repository": job.repository, "ref": job.git_ref},
        })))
    }

    /// The summary table; `result` is what the `result` output says, or that none was written.
    pub(crate) fn summary(&self, result: &str) -> String {
        if !self.config.task.is_agent() {
            return self.deployment_summary(result);
        }
        let deployment = if self.deployment().is_some() {
            self.deployment_table()
        } else {
            String::new()
        };
        let job = format!(
            "### Mintlify agent: {result}\n\n| job | status | PR | elapsed | polls |\n| --- | --- | --- | --- | --- |\n| {} | {} | {} | {} | {} |\n",
            markdown(self.job_id()),
            markdown(&self.job_status()),
            markdown(self.pr_link().unwrap_or("none")),
            display(self.elapsed),
            self.progress.polls - self.deployment_polls()
        );
        job + &deployment
    }
}

/// The verdict as one workflow command, so it shows on the run's summary page.
pub(crate) fn annotation(success: bool, text: &str) -> String {
    let level = if success { "notice" } else { "error" };
    format!("::{level}::{}", workflow_data(&untrusted(text)))
}

/// `name<<DELIMITER` entries with a fresh random delimiter that no value contains, so no server
/// text can end a value early and forge another entry.
pub(crate) fn github_output_text(fields: &[(&str, String)]) -> Result<String, getrandom::Error> {
    let mut text = String::new();
    for (name, value) in fields {
        let delimiter = loop {
            let delimiter = random_delimiter()?;
            if !value.contains(&delimiter) {
                break delimiter;
            }
        };
        text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
    }
    Ok(text)
}

fn random_delimiter() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes)?;
    Ok(bytes
        .iter()
        .fold(String::from("ghadelimiter_"), |mut s, b| {
            s.push_str(&format!("{b:02x}"));
            s
        }))
}

/// A dotenv report (GitLab's `artifacts: reports: dotenv`): one `KEY=value` a line, so a line
/// break in a value is removed, with a warning, rather than let it start another entry.
pub(crate) fn dotenv_text(fields: &[(&str, String)]) -> String {
    let mut text = String::new();
    for (name, value) in fields {
        let key = name.to_ascii_uppercase();
        let single_line: String = value
            .chars()
            .filter(|c| !matches!(c, '\n' | '\r'))
            .collect();
        if single_line.len() != value.len() {
            warn!("{key}: line breaks removed from the value for the dotenv report");
        }
        text.push_str(&format!("{key}={single_line}\n"));
    }
    text
}

#[cfg(test)]
mod tests;
