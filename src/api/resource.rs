//! What the gate reads from the API, as the classifier and the retry loop speak of it: each
//! kind of answer (a job, a deployment's status, the answer to a trigger) says how it is read
//! and what it says it is about. The rules around it (what is retried, what is trusted, the
//! redaction and escaping of its text) are shared, so a new kind is an implementation of
//! [`Reading`] and a [`Subject`], not a copy of the rules.

use serde_json::Value;

use crate::api::deployment::{AutomationRun, Deployment, Triggered};
use crate::api::failure::NotAJob;
use crate::api::fields::no_status;
use crate::api::job::Job;

/// What an answer is about, as messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject {
    Job,
    /// A production or preview deployment, by its statusId.
    Deployment,
    AutomationRun,
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Subject::Job => "job",
            Subject::Deployment => "deployment",
            Subject::AutomationRun => "automation run",
        })
    }
}

/// What an answer says it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Identity<'a> {
    Named(&'a str),
    /// An id was given but is no usable id (not a string, empty, too long).
    Unusable,
    Unnamed,
}

impl<'a> Identity<'a> {
    fn of(id: Option<&'a str>, unusable: bool) -> Self {
        match id {
            _ if unusable => Identity::Unusable,
            Some(id) => Identity::Named(id),
            None => Identity::Unnamed,
        }
    }
}

/// A kind of answer, read strictly in shape and leniently in detail.
pub(crate) trait Reading: Sized {
    const SUBJECT: Subject;
    fn read(raw: Value) -> Result<Self, NotAJob>;
    fn identity(&self) -> Identity<'_>;
    /// Why it is no answer to a read, which must carry a status: `None` when it has one.
    fn no_status(&self) -> Option<NotAJob>;
}

impl Reading for Job {
    const SUBJECT: Subject = Subject::Job;

    fn read(raw: Value) -> Result<Self, NotAJob> {
        Job::read(raw)
    }

    fn identity(&self) -> Identity<'_> {
        Identity::of(self.id.as_deref(), self.unusable_id)
    }

    fn no_status(&self) -> Option<NotAJob> {
        self.status.is_none().then(|| no_status(&self.notes))
    }
}

impl Reading for Deployment {
    const SUBJECT: Subject = Subject::Deployment;

    fn read(raw: Value) -> Result<Self, NotAJob> {
        Deployment::read(raw)
    }

    fn identity(&self) -> Identity<'_> {
        Identity::of(self.id.as_deref(), self.unusable_id)
    }

    fn no_status(&self) -> Option<NotAJob> {
        self.status.is_none().then(|| no_status(&self.notes))
    }
}

impl Reading for Triggered {
    const SUBJECT: Subject = Subject::Deployment;

    fn read(raw: Value) -> Result<Self, NotAJob> {
        Triggered::read(raw)
    }

    fn identity(&self) -> Identity<'_> {
        Identity::of(self.status_id.as_deref(), self.unusable_id)
    }

    fn no_status(&self) -> Option<NotAJob> {
        Some(NotAJob::NoStatus)
    }
}

impl Reading for AutomationRun {
    const SUBJECT: Subject = Subject::AutomationRun;

    fn read(raw: Value) -> Result<Self, NotAJob> {
        AutomationRun::read(raw)
    }

    fn identity(&self) -> Identity<'_> {
        Identity::of(self.instance_id.as_deref(), self.unusable_id)
    }

    fn no_status(&self) -> Option<NotAJob> {
        Some(NotAJob::NoStatus)
    }
}
