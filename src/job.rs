//! The job as the API reports it. The contract lets every field be absent or null, so only a
//! string `status` is required: an answer without one is not a job, whatever its HTTP status.

use serde::Deserialize;
use serde_json::Value;

use crate::sanitize::untrusted;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Active,
    Completed,
    Failed,
    Archived,
    /// A status this version does not know: the job is taken to be still running.
    Other(String),
}

impl Status {
    fn parse(text: &str) -> Self {
        match text {
            "active" => Status::Active,
            "completed" => Status::Completed,
            "failed" => Status::Failed,
            "archived" => Status::Archived,
            other => Status::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Status::Active => "active",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Archived => "archived",
            Status::Other(text) => text,
        }
    }

    /// `None` while the job may still change.
    pub fn as_final(&self) -> Option<Final> {
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
pub enum Final {
    Completed,
    Failed,
    Archived,
}

/// Why a string cannot serve as an id in a URL path segment and a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdProblem {
    Empty,
    ControlCharacter,
    DotSegment,
}

impl std::fmt::Display for IdProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IdProblem::Empty => "is empty",
            IdProblem::ControlCharacter => "holds a control character (a stray newline?)",
            // A URL library drops `.` and `..` segments, which would send the request elsewhere.
            IdProblem::DotSegment => "is `.` or `..`, which is not an id",
        })
    }
}

/// One check for ids from the user and from the server alike.
pub fn check_id(id: &str) -> Result<(), IdProblem> {
    if id.is_empty() {
        Err(IdProblem::Empty)
    } else if id.chars().any(char::is_control) {
        Err(IdProblem::ControlCharacter)
    } else if id == "." || id == ".." {
        Err(IdProblem::DotSegment)
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: Option<String>,
    pub status: Status,
    pub pr_link: Option<String>,
    pub repository: Option<String>,
    pub git_ref: Option<String>,
    /// The answer as sent, unknown fields included, for the stdout line.
    pub raw: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireJob {
    id: Option<String>,
    status: String,
    source: Option<WireSource>,
    pr_link: Option<String>,
}

#[derive(Deserialize)]
struct WireSource {
    repository: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
}

impl Job {
    /// Reads an answer body. The error says why it is not a job, already escaped for a log.
    pub fn from_json(body: &[u8]) -> Result<Job, String> {
        let raw: Value = serde_json::from_slice(body)
            .map_err(|e| format!("the answer is not JSON ({})", untrusted(&e.to_string())))?;
        let wire = WireJob::deserialize(&raw)
            .map_err(|e| format!("the answer is not a job ({})", untrusted(&e.to_string())))?;
        let source = wire.source.unwrap_or(WireSource {
            repository: None,
            git_ref: None,
        });
        let non_empty = |value: Option<String>| value.filter(|v| !v.is_empty());
        Ok(Job {
            id: non_empty(wire.id),
            status: Status::parse(&wire.status),
            pr_link: non_empty(wire.pr_link),
            repository: non_empty(source.repository),
            git_ref: non_empty(source.git_ref),
            raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_job() {
        let body = br#"{"id":"j1","status":"completed","source":{"repository":"https://github.com/o/r","ref":"main"},
            "model":"m","prLink":"https://github.com/o/r/pull/1","createdAt":"2023-11-07T05:31:56Z","archivedAt":null,"extra":1}"#;
        let job = Job::from_json(body).unwrap();
        assert_eq!(job.status, Status::Completed);
        assert_eq!(
            job.pr_link.as_deref(),
            Some("https://github.com/o/r/pull/1")
        );
        assert_eq!(job.repository.as_deref(), Some("https://github.com/o/r"));
        assert_eq!(job.git_ref.as_deref(), Some("main"));
        assert_eq!(job.raw["extra"], 1);
    }

    #[test]
    fn nulls_and_missing_fields_are_absent() {
        let job = Job::from_json(br#"{"status":"active","prLink":null,"source":null}"#).unwrap();
        assert_eq!(job.status, Status::Active);
        assert_eq!(
            (job.id, job.pr_link, job.repository, job.git_ref),
            (None, None, None, None)
        );
        let job = Job::from_json(br#"{"status":"completed","prLink":""}"#).unwrap();
        assert_eq!(job.pr_link, None);
    }

    #[test]
    fn unknown_status_is_kept_and_not_final() {
        let job = Job::from_json(br#"{"status":"queued"}"#).unwrap();
        assert_eq!(job.status, Status::Other("queued".into()));
        assert_eq!(job.status.as_final(), None);
    }

    #[test]
    fn what_is_not_a_job_says_why_on_one_line() {
        for body in [
            &b"<html>"[..],
            b"[]",
            b"{}",
            br#"{"status":null}"#,
            br#"{"status":5}"#,
            br#"{"status":"active","prLink":7}"#,
        ] {
            let error = Job::from_json(body).unwrap_err();
            assert!(error.starts_with("the answer is not"), "{error}");
            assert_eq!(error.lines().count(), 1);
        }
    }
}
