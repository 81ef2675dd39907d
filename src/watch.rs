//! What a run waits on: an agent job, a deployment (production or preview), an automation
//! run. Each kind is a module of its own, with its verdict, its watch state and its words in
//! the report; this module is the registry that names them, so the loop, the outcome and the
//! report speak of any kind through one type.

pub(crate) mod deployment;
pub(crate) mod job;

use crate::outcome::Exit;

/// How what the run waited on ended, in its kind's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Job(job::Verdict),
    Deployment(deployment::Verdict),
}

impl Verdict {
    pub(crate) fn exit(self) -> Exit {
        match self {
            Verdict::Job(verdict) => verdict.exit(),
            Verdict::Deployment(verdict) => verdict.exit(),
        }
    }

    /// The `result` output.
    pub(crate) fn result(self) -> &'static str {
        match self {
            Verdict::Job(verdict) => verdict.result(),
            Verdict::Deployment(verdict) => verdict.result(),
        }
    }
}
