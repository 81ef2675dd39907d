//! The report of a run, as text, in each form a CI reads: the `$GITHUB_OUTPUT` entries, a
//! dotenv file, the step summary, an annotation and one JSON line on stdout. Server text is
//! escaped for each place. Nothing here writes: [`crate::report::outputs`] puts the text in files.

use std::time::Duration;

use serde_json::Value;
use tracing::warn;

use crate::api::classify::Start;
use crate::api::failure::Var;
use crate::api::fields;
use crate::run::outcome::{Outcome, Timeout};
use crate::run::progress::Progress;
use crate::settings::Config;
use crate::settings::duration::display;
use crate::text::sanitize::{json_line, quoted, untrusted, workflow_data};
use crate::watch::Watching;

/// The most bytes an output value may take, escaped.
fn output_limit(name: &str) -> usize {
    match name {
        "pr_link" => fields::PR_LINK_LIMIT,
        "preview_url" => crate::api::deployment::PREVIEW_URL_LIMIT,
        "deployment_status" => 128,
        "repository" => fields::REPOSITORY_LIMIT,
        "job_id" | "deployment_id" | "automation_run_id" => fields::ID_LIMIT,
        _ => 256,
    }
}

/// The longest stdout line: the answer as sent when it fits, else only the fields read.
pub(crate) const STDOUT_LIMIT: usize = 16 * 1024;

/// The outputs action.yml declares, in the order they are written: each is always written,
/// empty when it does not apply to the run.
pub(crate) const OUTPUTS: [&str; 10] = [
    "status",
    "pr_link",
    "job_id",
    "result",
    "repository",
    "ref",
    "deployment_id",
    "deployment_status",
    "preview_url",
    "automation_run_id",
];

pub(crate) struct Report<'a> {
    pub outcome: &'a Outcome,
    pub progress: &'a Progress,
    pub config: &'a Config,
    pub elapsed: Duration,
}

/// What the report asks of each kind of thing a run waits on: its words, for each place they
/// go. Server text in them is bounded where it was read and escaped here, by the kind, for the
/// place it goes (`untrusted`, `markdown`, `json_line`).
pub(crate) trait Words {
    /// The step summary's title for a run that begins with it: "agent", "deployment", ...
    fn title(&self) -> &'static str;
    /// The outputs it owns, by action.yml's names, escaped.
    fn outputs(&self) -> Vec<(&'static str, String)>;
    /// Its last answer for stdout, on one line ([`stdout_json`]); `None` before the first.
    fn stdout_line(&self) -> Option<String>;
    /// Its part of the step summary, its share of the run's `polls` in it.
    fn table(&self, report: &Report<'_>, polls: u32) -> String;
    /// What a verdict on a later stage says of it first ("job … completed, PR …; ").
    fn lead_in(&self) -> String;
    /// The verdict when the deadline passed before it ended.
    fn timed_out(&self, report: &Report<'_>) -> String;
    /// The verdict when it was started and is not waited on.
    fn started(&self, report: &Report<'_>) -> String;
}

impl Report<'_> {
    fn current(&self) -> &Watching {
        self.progress.current()
    }

    /// What the verdict is about.
    pub(crate) fn who(&self) -> String {
        self.current().stage().who()
    }

    /// What the stages before the current one say before its verdict.
    pub(crate) fn lead_in(&self) -> String {
        let stages: Vec<&Watching> = self.progress.stages().map(|(stage, _)| stage).collect();
        let before = stages.split_last().map_or(&[][..], |(_, before)| before);
        before.iter().map(|stage| stage.words().lead_in()).collect()
    }

    /// The outputs, by the names action.yml declares, each from the kind that owns it. Server
    /// text is bounded where it is read and escaped by its kind, so a later step that shows
    /// it shows what it is.
    ///
    /// Each value is bounded in bytes once escaped, so the whole report stays under GitLab's
    /// 5,120-byte cap on a dotenv report; a value over its bound is written empty, with a
    /// warning.
    pub(crate) fn fields(&self) -> [(&'static str, String); 10] {
        let owned: Vec<(&'static str, String)> = self
            .progress
            .stages()
            .flat_map(|(stage, _)| stage.words().outputs())
            .collect();
        OUTPUTS.map(|name| {
            let value = match name {
                "result" => self.outcome.result().to_owned(),
                _ => owned
                    .iter()
                    .find(|(owner, _)| *owner == name)
                    .map(|(_, value)| value.clone())
                    .unwrap_or_default(),
            };
            let limit = output_limit(name);
            if value.len() > limit {
                warn!("output {name} is over {limit} bytes once escaped; it is written empty");
                (name, String::new())
            } else {
                (name, value)
            }
        })
    }

    /// The last status seen of what the run waits on now, escaped.
    pub(crate) fn last_status(&self) -> String {
        let status = self.current().stage().status();
        status.unwrap_or_else(|| "none".to_owned())
    }

    /// The verdict in one sentence, with what to do when it is not a pass. Server text in it
    /// is escaped already.
    pub(crate) fn verdict(&self) -> String {
        let who = self.who();
        let timeout = display(self.config.timeout);
        match self.outcome {
            Outcome::Ended(verdict) => verdict.sentence(self),
            Outcome::TimedOut(Timeout::Deadline) => self.current().words().timed_out(self),
            Outcome::Started => self.current().words().started(self),
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

    /// The verdict on something that was to be triggered and was not, before the deadline.
    pub(crate) fn not_triggered(&self) -> String {
        format!(
            "{}{} was not triggered before the deadline of {}{}: raise {} or run it again later",
            self.lead_in(),
            self.who(),
            display(self.config.timeout),
            self.last_problem(),
            Var::Timeout
        )
    }

    /// The last failure that was retried, as the end of a sentence, when there was one.
    pub(crate) fn last_problem(&self) -> String {
        self.progress
            .last_trouble()
            .map(|trouble| format!("; last problem: {trouble}"))
            .unwrap_or_default()
    }

    /// The last answer of what the run waited on last that has one.
    pub(crate) fn stdout_line(&self) -> Option<String> {
        let mut stages = self.progress.stages().collect::<Vec<_>>().into_iter().rev();
        stages.find_map(|(stage, _)| stage.words().stdout_line())
    }

    /// The summary; `result` is what the `result` output says, or that none was written.
    pub(crate) fn summary(&self, result: &str) -> String {
        let mut stages = self.progress.stages();
        let title = stages
            .next()
            .map_or("agent", |(first, _)| first.words().title());
        let mut text = format!("### Mintlify {title}: {result}\n\n");
        for (stage, polls) in self.progress.stages() {
            text.push_str(&stage.words().table(self, polls));
        }
        text
    }
}

/// An answer as sent (decoded and redacted), on one line, when it is small; else only the
/// `fields` read from it, so stdout stays bounded.
pub(crate) fn stdout_json(raw: &Value, fields: impl FnOnce() -> Value) -> String {
    let line = json_line(raw);
    if line.len() <= STDOUT_LIMIT {
        return line;
    }
    warn!(
        "the answer is over {} KiB: stdout shows only the fields read from it",
        STDOUT_LIMIT / 1024
    );
    json_line(&fields())
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

pub(crate) mod logging;
pub(crate) mod outputs;
#[cfg(test)]
mod tests;
