//! The job as the API reports it, read strictly in shape and leniently in detail: the answer
//! must be a JSON object, but each field is read on its own, so one field of an unexpected type
//! or size is treated as absent (with a note the log shows once) instead of losing the status.

use serde_json::Value;

use crate::api::failure::NotAJob;
use crate::api::fields::{
    self, Fields, Note, PR_LINK_LIMIT, REF_LIMIT, REPOSITORY_LIMIT, Statuses,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
    Active,
    Completed,
    Failed,
    Archived,
    /// A status this version does not know: the job is taken to be still running.
    Other(String),
}

impl Status {
    const KNOWN: [Status; 4] = [
        Status::Active,
        Status::Completed,
        Status::Failed,
        Status::Archived,
    ];

    pub(crate) fn as_str(&self) -> &str {
        match self {
            Status::Active => "active",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Archived => "archived",
            Status::Other(text) => text,
        }
    }

    /// `None` while the job may still change.
    pub(crate) fn as_final(&self) -> Option<Final> {
        match self {
            Status::Completed => Some(Final::Completed),
            Status::Failed => Some(Final::Failed),
            Status::Archived => Some(Final::Archived),
            Status::Active | Status::Other(_) => None,
        }
    }
}

impl Statuses for Status {
    fn known(normal: &str) -> Option<Status> {
        Status::KNOWN
            .into_iter()
            .find(|status| status.as_str() == normal)
    }

    fn unknown(sent: String) -> Status {
        Status::Other(sent)
    }

    fn spelled(&self) -> &str {
        self.as_str()
    }
}

/// The statuses that end a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Final {
    Completed,
    Failed,
    Archived,
}

#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub id: Option<String>,
    /// An `id` was given but is no usable id (not a string, empty, too long): the answer may
    /// be about any job.
    pub unusable_id: bool,
    /// Absent only in the answer to a start, which need not carry one.
    pub status: Option<Status>,
    pub pr_link: Option<String>,
    pub repository: Option<String>,
    pub git_ref: Option<String>,
    /// The answer as decoded (and redacted), unknown fields included, for the stdout line.
    pub raw: Value,
    pub notes: Vec<Note>,
}

impl Job {
    /// Whether the answer names a PR at all, usable as a link or not. Only an answer without
    /// one says the agent changed nothing: a link refused as unreadable (a trailing newline, no
    /// scheme) is still a change whose preview decides the verdict, never a reason to pass.
    pub(crate) fn names_a_pr(&self) -> bool {
        self.pr_link.is_some()
            || self
                .raw
                .get("prLink")
                .is_some_and(|link| !link.is_null() && link.as_str() != Some(""))
    }

    /// Reads a decoded answer. Only the shape is required: a JSON object.
    pub(crate) fn read(raw: Value) -> Result<Job, NotAJob> {
        let ((status, id, unusable_id, pr_link, (repository, git_ref)), raw, notes) =
            fields::object(raw, |reader| {
                let status = reader.status();
                let (id, unusable_id) = reader.id("id");
                let pr_link = reader.pr_link();
                let source = reader.source();
                for field in ["model", "createdAt", "archivedAt"] {
                    reader.string(field, usize::MAX);
                }
                (status, id, unusable_id, pr_link, source)
            })?;
        Ok(Job {
            id,
            unusable_id,
            status,
            pr_link,
            repository,
            git_ref,
            raw,
            notes,
        })
    }
}

/// The fields only a job has.
impl Fields<'_> {
    /// A link only if a person and a later step can trust it to be what it looks like.
    fn pr_link(&mut self) -> Option<String> {
        self.link("prLink", PR_LINK_LIMIT, Note::NotAPrLink)
    }

    fn source(&mut self) -> (Option<String>, Option<String>) {
        match self.object.get("source") {
            None | Some(Value::Null) => (None, None),
            Some(Value::Object(source)) => (
                self.text_in(source, "repository", "source.repository", REPOSITORY_LIMIT),
                self.text_in(source, "ref", "source.ref", REF_LIMIT),
            ),
            Some(_) => {
                self.notes.push(Note::WrongType {
                    field: "source",
                    expected: "an object",
                });
                (None, None)
            }
        }
    }
}

#[cfg(test)]
mod tests;
