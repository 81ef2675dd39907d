//! The job as the API reports it, read strictly in shape and leniently in detail: the answer
//! must be a JSON object, but each field is read on its own, so one field of an unexpected type
//! or size is treated as absent (with a note the log shows once) instead of losing the status.

use std::fmt;

use serde_json::{Map, Value};

pub(crate) use crate::failure::NotAJob;
use crate::sanitize::{is_hidden, quoted, truncated};

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

    /// Known statuses are recognised after trimming whitespace and ignoring ASCII case.
    fn read(text: &str) -> Status {
        let normal = text.trim().to_ascii_lowercase();
        Status::KNOWN
            .into_iter()
            .find(|status| status.as_str() == normal)
            .unwrap_or_else(|| Status::Other(truncated(text, STATUS_LIMIT)))
    }

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

/// The statuses that end a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Final {
    Completed,
    Failed,
    Archived,
}

/// Bounds, in bytes, on what the server may put in a field that reaches an output or a log
/// line. GitLab caps a whole dotenv report at 5,120 bytes, and a longer value is not a real one
/// anyway; together these stay under that cap.
pub(crate) const ID_LIMIT: usize = 256;
pub(crate) const STATUS_LIMIT: usize = 64;
pub(crate) const PR_LINK_LIMIT: usize = 2048;
pub(crate) const REPOSITORY_LIMIT: usize = 1024;
pub(crate) const REF_LIMIT: usize = 256;

/// Why a string cannot serve as an id in a URL path segment and a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdProblem {
    Empty,
    HiddenCharacter,
    DotSegment,
    TooLong,
}

impl fmt::Display for IdProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdProblem::Empty => "is empty",
            IdProblem::HiddenCharacter => {
                "holds a control or invisible character (a stray newline?)"
            }
            // A URL library drops `.` and `..` segments, which would send the request elsewhere.
            IdProblem::DotSegment => "is `.` or `..`, which is not an id",
            IdProblem::TooLong => "is over 256 bytes",
        })
    }
}

/// One check for ids from the user and from the server alike.
pub(crate) fn check_id(id: &str) -> Result<(), IdProblem> {
    if id.is_empty() {
        Err(IdProblem::Empty)
    } else if id.chars().any(is_hidden) {
        Err(IdProblem::HiddenCharacter)
    } else if id == "." || id == ".." {
        Err(IdProblem::DotSegment)
    } else if id.len() > ID_LIMIT {
        Err(IdProblem::TooLong)
    } else {
        Ok(())
    }
}

/// Why a `prLink` is not taken as a link to a pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrLinkProblem {
    NotHttpUrl,
    HiddenCharacters,
}

/// Something odd in an answer that did not stop it from being read: said once in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Note {
    WrongType {
        field: &'static str,
        expected: &'static str,
    },
    TooLong {
        field: &'static str,
        limit: usize,
    },
    StatusNormalized {
        sent: String,
        read: Status,
    },
    NotAPrLink(PrLinkProblem),
    NotAPreviewUrl(PrLinkProblem),
    /// A status of another kind of answer than a job's, read as a known one.
    Normalized {
        sent: String,
        read: String,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::WrongType { field, expected } => {
                write!(f, "field {field} is not {expected}; read as absent")
            }
            Note::TooLong { field, limit } => {
                write!(
                    f,
                    "field {field} is over {limit} characters; read as absent"
                )
            }
            Note::StatusNormalized { sent, read } => write!(
                f,
                "status {} read as {:?} (whitespace or case differs)",
                quoted(sent),
                read.as_str()
            ),
            Note::NotAPrLink(PrLinkProblem::NotHttpUrl) => {
                f.write_str("prLink is not an absolute http(s) URL with a host; read as no PR")
            }
            Note::NotAPrLink(PrLinkProblem::HiddenCharacters) => f.write_str(
                "prLink holds whitespace, control or invisible characters; read as no PR",
            ),
            Note::Normalized { sent, read } => write!(
                f,
                "status {} read as {read:?} (whitespace or case differs)",
                quoted(sent)
            ),
            Note::NotAPreviewUrl(PrLinkProblem::NotHttpUrl) => f.write_str(
                "previewUrl is not an absolute http(s) URL with a host; read as no preview URL",
            ),
            Note::NotAPreviewUrl(PrLinkProblem::HiddenCharacters) => f.write_str(
                "previewUrl holds whitespace, control or invisible characters; read as no preview URL",
            ),
        }
    }
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
    /// Reads a decoded answer. Only the shape is required: a JSON object.
    pub(crate) fn read(raw: Value) -> Result<Job, NotAJob> {
        let Value::Object(object) = &raw else {
            return Err(NotAJob::NotAnObject);
        };
        let mut notes = Vec::new();
        let mut reader = Fields {
            object,
            notes: &mut notes,
        };
        // Any length: a long status is unknown, and kept short when shown.
        let status = reader
            .string("status", usize::MAX)
            .map(|text| reader.status(text));
        let id = reader.string("id", ID_LIMIT);
        let unusable_id = id.is_none() && object.get("id").is_some_and(|id| !id.is_null());
        let pr_link = reader.pr_link();
        let (repository, git_ref) = reader.source();
        for field in ["model", "createdAt", "archivedAt"] {
            reader.string(field, usize::MAX);
        }
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

/// Why `link` cannot be shown as a link a person and a later step may follow, if it cannot.
pub(crate) fn link_problem(link: &str) -> Option<PrLinkProblem> {
    if link.chars().any(|c| c.is_whitespace() || is_hidden(c)) {
        Some(PrLinkProblem::HiddenCharacters)
    } else if url::Url::parse(link).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty())
    }) {
        None
    } else {
        Some(PrLinkProblem::NotHttpUrl)
    }
}

/// One object's fields, each read on its own, with what was odd noted. Every kind of answer
/// (a job, a deployment's status, a trigger's answer) is read through it.
pub(crate) struct Fields<'a> {
    pub(crate) object: &'a Map<String, Value>,
    pub(crate) notes: &'a mut Vec<Note>,
}

impl Fields<'_> {
    /// A string field; `null`, absent and `""` are all absent, another type is noted.
    pub(crate) fn string(&mut self, field: &'static str, limit: usize) -> Option<String> {
        self.string_in(self.object, field, field, limit)
    }

    /// `field` is how a note names the field; `name` is its key in `object`.
    pub(crate) fn string_in(
        &mut self,
        object: &Map<String, Value>,
        name: &str,
        field: &'static str,
        limit: usize,
    ) -> Option<String> {
        match object.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.is_empty() => None,
            Some(Value::String(text)) if text.len() > limit => {
                self.notes.push(Note::TooLong { field, limit });
                None
            }
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => {
                self.notes.push(Note::WrongType {
                    field,
                    expected: "a string",
                });
                None
            }
        }
    }

    fn status(&mut self, sent: String) -> Status {
        let status = Status::read(&sent);
        if !matches!(status, Status::Other(_)) && status.as_str() != sent {
            self.notes.push(Note::StatusNormalized {
                sent,
                read: status.clone(),
            });
        } else if sent.len() > STATUS_LIMIT {
            self.notes.push(Note::TooLong {
                field: "status",
                limit: STATUS_LIMIT,
            });
        }
        status
    }

    /// A link only if a person and a later step can trust it to be what it looks like.
    fn pr_link(&mut self) -> Option<String> {
        self.link("prLink", Note::NotAPrLink)
    }

    /// A link field, under the rules of [`link_problem`]; `note` says why one is not taken.
    pub(crate) fn link(
        &mut self,
        field: &'static str,
        note: fn(PrLinkProblem) -> Note,
    ) -> Option<String> {
        let link = self.string(field, PR_LINK_LIMIT)?;
        match link_problem(&link) {
            None => Some(link),
            Some(problem) => {
                self.notes.push(note(problem));
                None
            }
        }
    }

    fn source(&mut self) -> (Option<String>, Option<String>) {
        match self.object.get("source") {
            None | Some(Value::Null) => (None, None),
            Some(Value::Object(source)) => (
                self.string_in(source, "repository", "source.repository", REPOSITORY_LIMIT),
                self.string_in(source, "ref", "source.ref", REF_LIMIT),
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
