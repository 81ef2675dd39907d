//! A deployment (production or preview) as `GET /v1/project/update-status/{statusId}` reports
//! it, and the answers to the calls that trigger a deployment, a preview or an automation.
//! Read as a job is, through the same field reader: strictly in shape (a JSON object),
//! leniently in detail (each field on its own, with the same bounds and notes).

use serde_json::Value;

use crate::api::failure::NotAJob;
use crate::api::fields::{self, Fields, ID_LIMIT, Note, REF_LIMIT, Statuses, check_id};
use crate::text::redact::REDACTED;
use crate::text::sanitize::{is_hidden, truncated};

/// A deployment's status. `queued` and `in_progress` may change; `success` and `failure` end it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeployStatus {
    Queued,
    InProgress,
    Success,
    Failure,
    /// A status this version does not know: the deployment is taken to be still running.
    Other(String),
}

impl DeployStatus {
    const KNOWN: [DeployStatus; 4] = [
        DeployStatus::Queued,
        DeployStatus::InProgress,
        DeployStatus::Success,
        DeployStatus::Failure,
    ];

    pub(crate) fn as_str(&self) -> &str {
        match self {
            DeployStatus::Queued => "queued",
            DeployStatus::InProgress => "in_progress",
            DeployStatus::Success => "success",
            DeployStatus::Failure => "failure",
            DeployStatus::Other(text) => text,
        }
    }

    /// Whether the deployment has ended: `Some(true)` for a success.
    pub(crate) fn succeeded(&self) -> Option<bool> {
        match self {
            DeployStatus::Success => Some(true),
            DeployStatus::Failure => Some(false),
            DeployStatus::Queued | DeployStatus::InProgress | DeployStatus::Other(_) => None,
        }
    }
}

impl Statuses for DeployStatus {
    fn known(normal: &str) -> Option<DeployStatus> {
        DeployStatus::KNOWN
            .into_iter()
            .find(|status| status.as_str() == normal)
    }

    fn unknown(sent: String) -> DeployStatus {
        DeployStatus::Other(sent)
    }

    fn spelled(&self) -> &str {
        self.as_str()
    }
}

/// How many of the last log lines a failure shows, and how much of each and of the summary:
/// enough to see why a build failed, bounded for an annotation and a summary table.
pub(crate) const LOG_LINES: usize = 5;
pub(crate) const LOG_LINE_LIMIT: usize = 300;
pub(crate) const SUMMARY_LIMIT: usize = 500;

/// A preview's host name is a subdomain made from the branch: far shorter than this. Kept
/// well under a PR link's bound so every output together stays under GitLab's dotenv cap.
pub(crate) const PREVIEW_URL_LIMIT: usize = 512;

/// A branch name as the gate sends it for a preview: what no git branch holds (whitespace,
/// control or invisible characters) or what is longer than any ref is refused.
pub(crate) fn is_branch_name(branch: &str) -> bool {
    !branch.is_empty()
        && branch.len() <= REF_LIMIT
        && !branch.chars().any(|c| c.is_whitespace() || is_hidden(c))
}

/// The branch the agent's job names, as a preview is built from it: a branch name, and not one
/// redaction changed. The job's answer is redacted as it is decoded, so a branch named with 8 or
/// more characters of the key comes out holding [`REDACTED`], the name of no branch (a preview
/// of it would build nothing, or another branch that happens to have that name). A branch the
/// user gives is not redacted before it is checked, so only [`is_branch_name`] applies to it.
pub(crate) fn is_agent_branch(branch: &str) -> bool {
    is_branch_name(branch) && !branch.contains(REDACTED)
}

/// A deployment's status object.
#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    /// `_id`, the statusId the answer says it is about.
    pub id: Option<String>,
    /// An `_id` was given but is no usable id: the answer may be about any deployment.
    pub unusable_id: bool,
    pub status: Option<DeployStatus>,
    /// Cut to [`SUMMARY_LIMIT`] characters.
    pub summary: Option<String>,
    /// The last [`LOG_LINES`] string entries of `logs`, each cut to [`LOG_LINE_LIMIT`].
    pub logs: Vec<String>,
    /// The answer as decoded (and redacted), for the stdout line.
    pub raw: Value,
    pub notes: Vec<Note>,
}

impl Deployment {
    pub(crate) fn read(raw: Value) -> Result<Deployment, NotAJob> {
        let ((id, unusable_id, status, summary, logs), raw, notes) =
            fields::object(raw, |reader| {
                let status = reader.status();
                let (id, unusable_id) = reader.id("_id");
                let summary = reader
                    .string("summary", usize::MAX)
                    .map(|summary| truncated(summary.trim(), SUMMARY_LIMIT));
                (id, unusable_id, status, summary, logs(reader))
            })?;
        Ok(Deployment {
            id,
            unusable_id,
            status,
            summary,
            logs,
            raw,
            notes,
        })
    }
}

/// The last lines of `logs`: entries that are not strings are skipped, with one note.
fn logs(reader: &mut Fields<'_>) -> Vec<String> {
    let entries = match reader.object.get("logs") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(entries)) => entries,
        Some(_) => {
            reader.notes.push(Note::WrongType {
                field: "logs",
                expected: "an array",
            });
            return Vec::new();
        }
    };
    let lines: Vec<&str> = entries.iter().filter_map(Value::as_str).collect();
    if lines.len() != entries.len() {
        reader.notes.push(Note::WrongType {
            field: "logs[]",
            expected: "a string",
        });
    }
    lines[lines.len().saturating_sub(LOG_LINES)..]
        .iter()
        .map(|line| truncated(line.trim_end(), LOG_LINE_LIMIT))
        .collect()
}

/// The answer to a trigger of a deployment or a preview: `{statusId, previewUrl}`.
#[derive(Debug, Clone)]
pub(crate) struct Triggered {
    pub status_id: Option<String>,
    pub unusable_id: bool,
    /// Only a plain http(s) link, under the rules of a `prLink` ([`crate::api::fields::plain_http_link`]).
    pub preview_url: Option<String>,
    pub raw: Value,
    pub notes: Vec<Note>,
}

impl Triggered {
    pub(crate) fn read(raw: Value) -> Result<Triggered, NotAJob> {
        let ((status_id, unusable_id, preview_url), raw, notes) = fields::object(raw, |reader| {
            let (status_id, unusable_id) = reader.id("statusId");
            let preview_url = reader.link("previewUrl", PREVIEW_URL_LIMIT, Note::NotAPreviewUrl);
            (status_id, unusable_id, preview_url)
        })?;
        Ok(Triggered {
            status_id,
            unusable_id,
            preview_url,
            raw,
            notes,
        })
    }
}

/// The answer to an automation's trigger: `{schemaId, instanceId, jobId}`.
#[derive(Debug, Clone)]
pub(crate) struct AutomationRun {
    pub instance_id: Option<String>,
    pub unusable_id: bool,
    pub job_id: Option<String>,
    pub raw: Value,
    pub notes: Vec<Note>,
}

impl AutomationRun {
    pub(crate) fn read(raw: Value) -> Result<AutomationRun, NotAJob> {
        let ((instance_id, unusable_id, job_id), raw, notes) = fields::object(raw, |reader| {
            // An id a later step could not use names no run: blank, with a line break or another
            // hidden character, or redacted for holding part of the key (reported as
            // `<redacted>`, a later step would look for a run of that name).
            let named = |id: Option<String>| {
                id.filter(|id| {
                    check_id(id).is_ok() && !id.trim().is_empty() && !id.contains(REDACTED)
                })
            };
            let (instance_id, unusable_id) = reader.id("instanceId");
            let instance_id = named(instance_id);
            let job_id = named(reader.string("jobId", ID_LIMIT));
            reader.string("schemaId", ID_LIMIT);
            // A later step reading an output that came out empty would get nothing: say so.
            for (id, field, output) in [
                (&instance_id, "instanceId", "automation_run_id"),
                (&job_id, "jobId", "job_id"),
            ] {
                if id.is_none() {
                    reader.notes.push(Note::AcceptedWithoutId { field, output });
                }
            }
            (instance_id, unusable_id, job_id)
        })?;
        Ok(AutomationRun {
            instance_id,
            unusable_id,
            job_id,
            raw,
            notes,
        })
    }
}

#[cfg(test)]
mod tests;
