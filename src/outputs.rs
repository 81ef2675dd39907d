//! The report of a run, in each form a CI reads: `$GITHUB_OUTPUT`, a dotenv file, the step
//! summary, an annotation and one JSON line on stdout. Server text is escaped for each place.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use tracing::warn;

use crate::duration::display;
use crate::job::Job;
use crate::outcome::Outcome;
use crate::sanitize::{markdown, untrusted, workflow_data};

pub struct Report<'a> {
    pub outcome: &'a Outcome,
    pub job_id: &'a str,
    pub last: Option<&'a Job>,
    pub elapsed: Duration,
    pub polls: u32,
    pub timeout: Duration,
}

impl Report<'_> {
    /// The outputs, by the names action.yml declares.
    pub fn fields(&self) -> [(&'static str, String); 6] {
        let last = |field: fn(&Job) -> Option<&str>| {
            self.last.and_then(field).unwrap_or_default().to_owned()
        };
        [
            ("status", last(|job| Some(job.status.as_str()))),
            ("pr_link", last(|job| job.pr_link.as_deref())),
            ("job_id", self.job_id.to_owned()),
            ("result", self.outcome.result().to_owned()),
            ("repository", last(|job| job.repository.as_deref())),
            ("ref", last(|job| job.git_ref.as_deref())),
        ]
    }

    fn last_status(&self) -> &str {
        self.last.map_or("none", |job| job.status.as_str())
    }

    /// The verdict in one sentence, with what to do when it is not a pass. Not yet escaped.
    pub fn verdict(&self) -> String {
        let job = if self.job_id.is_empty() {
            "(new)"
        } else {
            self.job_id
        };
        let pr = self.last.and_then(|job| job.pr_link.as_deref());
        match self.outcome {
            Outcome::Completed => match pr {
                Some(link) => format!("job {job} completed, PR {link}"),
                None => format!("job {job} completed without a PR (no file changed)"),
            },
            Outcome::Failed => format!("job {job} failed: see the job in the Mintlify dashboard"),
            Outcome::Archived { allowed: true } => {
                format!("job {job} was archived, which MINTLIFY_ALLOW_ARCHIVED accepts")
            }
            Outcome::Archived { allowed: false } => {
                format!("job {job} was archived: set MINTLIFY_ALLOW_ARCHIVED=true to accept that")
            }
            Outcome::TimedOut => format!(
                "job {job} has no final status after {} (last status: {}): raise MINTLIFY_TIMEOUT or check the job in the Mintlify dashboard",
                display(self.timeout),
                self.last_status()
            ),
            Outcome::ApiError(message) => format!("job {job}: {message}"),
            Outcome::CompletedWithoutPr => {
                format!("job {job} completed without a PR, and MINTLIFY_REQUIRE_PR asks for one")
            }
            Outcome::Started => format!(
                "job {job} started ({}); not waiting, as MINTLIFY_WAIT=false asks",
                self.last_status()
            ),
            Outcome::Cancelled(signal) => {
                format!(
                    "job {job}: cancelled by {signal:?} (last status: {})",
                    self.last_status()
                )
            }
        }
    }

    /// The verdict as one workflow command, so it shows on the run's summary page.
    pub fn annotation(&self) -> String {
        let level = if self.outcome.is_success() {
            "notice"
        } else {
            "error"
        };
        format!("::{level}::{}", workflow_data(&untrusted(&self.verdict())))
    }

    pub fn stdout_line(&self) -> Option<String> {
        self.last.map(|job| job.raw.to_string())
    }

    pub fn summary(&self) -> String {
        let pr = self
            .last
            .and_then(|job| job.pr_link.as_deref())
            .unwrap_or("none");
        format!(
            "### Mintlify agent: {}\n\n| job | status | PR | elapsed | polls |\n| --- | --- | --- | --- | --- |\n| {} | {} | {} | {} | {} |\n",
            self.outcome.result(),
            markdown(self.job_id),
            markdown(self.last_status()),
            markdown(pr),
            display(self.elapsed),
            self.polls
        )
    }
}

/// Appends everything in one write, so a reader never sees half a report.
fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("could not open {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("could not write {}", path.display()))
}

/// `name<<DELIMITER` entries with a fresh random delimiter that no value contains, so no server
/// text can end a value early and forge another entry.
pub fn write_github_output(path: &Path, fields: &[(&str, String)]) -> anyhow::Result<()> {
    let mut text = String::new();
    for (name, value) in fields {
        let delimiter = loop {
            let delimiter = random_delimiter().context("could not draw a random delimiter")?;
            if !value.contains(&delimiter) {
                break delimiter;
            }
        };
        text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
    }
    append(path, &text)
}

fn random_delimiter() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(bytes
        .iter()
        .fold(String::from("ghadelimiter_"), |mut s, b| {
            s.push_str(&format!("{b:02x}"));
            s
        }))
}

/// A dotenv report (GitLab's `artifacts: reports: dotenv`): one `KEY=value` a line, so a line
/// break in a value is removed, with a warning, rather than let it start another entry.
pub fn write_dotenv(path: &Path, fields: &[(&str, String)]) -> anyhow::Result<()> {
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
    append(path, &text)
}

pub fn write_summary(path: &Path, report: &Report<'_>) -> anyhow::Result<()> {
    append(path, &report.summary())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Job;

    fn job(body: &str) -> Job {
        Job::from_json(body.as_bytes()).unwrap()
    }

    fn report<'a>(outcome: &'a Outcome, last: Option<&'a Job>) -> Report<'a> {
        Report {
            outcome,
            job_id: "job_1",
            last,
            elapsed: Duration::from_secs(65),
            polls: 7,
            timeout: Duration::from_secs(1800),
        }
    }

    #[test]
    fn fields_carry_the_last_job_and_the_verdict() {
        let last = job(
            r#"{"status":"completed","prLink":"https://github.com/o/r/pull/1","source":{"repository":"https://github.com/o/r","ref":"main"}}"#,
        );
        let fields = report(&Outcome::Completed, Some(&last)).fields();
        let expected = [
            ("status", "completed"),
            ("pr_link", "https://github.com/o/r/pull/1"),
            ("job_id", "job_1"),
            ("result", "completed"),
            ("repository", "https://github.com/o/r"),
            ("ref", "main"),
        ];
        for ((name, value), (expected_name, expected_value)) in fields.iter().zip(expected) {
            assert_eq!((*name, value.as_str()), (expected_name, expected_value));
        }
        let fields = report(&Outcome::TimedOut, None).fields();
        assert_eq!(fields.iter().filter(|(_, v)| v.is_empty()).count(), 4);
    }

    #[test]
    fn the_annotation_is_one_line_whatever_the_server_sent() {
        let last = job(r#"{"status":"completed","prLink":"https://x\n::error::forged%0A"}"#);
        let annotation = report(&Outcome::Completed, Some(&last)).annotation();
        assert_eq!(annotation.lines().count(), 1);
        assert!(
            annotation
                .starts_with("::notice::job job_1 completed, PR https://x\\n::error::forged%250A"),
            "{annotation}"
        );
        let failure = report(&Outcome::Failed, Some(&last)).annotation();
        assert!(
            failure.starts_with("::error::job job_1 failed"),
            "{failure}"
        );
    }

    #[test]
    fn the_summary_escapes_server_text() {
        let last = job(r#"{"status":"completed","prLink":"a|b<script>"}"#);
        let summary = report(&Outcome::Completed, Some(&last)).summary();
        assert!(
            summary.contains("| job\\_1 | completed | a\\|b&lt;script&gt; | 1m05s | 7 |"),
            "{summary}"
        );
    }

    #[test]
    fn dotenv_values_stay_on_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gate.env");
        write_dotenv(
            &path,
            &[
                ("pr_link", "https://x\nRESULT=completed".into()),
                ("result", "failed".into()),
            ],
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "PR_LINK=https://xRESULT=completed\nRESULT=failed\n");
    }
}
