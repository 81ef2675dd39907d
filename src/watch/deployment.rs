//! A production deployment or a preview as a run waits on it.

use crate::outcome::Exit;

/// How a deployment or preview ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Succeeded,
    Failed,
}

impl Verdict {
    pub(crate) fn exit(self) -> Exit {
        match self {
            Verdict::Succeeded => Exit::Pass,
            Verdict::Failed => Exit::DeploymentFailed,
        }
    }

    pub(crate) fn result(self) -> &'static str {
        match self {
            Verdict::Succeeded => "deployed",
            Verdict::Failed => "deployment_failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verdict_has_the_documented_code_and_result() {
        assert_eq!(
            (
                Verdict::Succeeded.exit().code(),
                Verdict::Succeeded.result()
            ),
            (0, "deployed")
        );
        assert_eq!(
            (Verdict::Failed.exit().code(), Verdict::Failed.result()),
            (8, "deployment_failed")
        );
    }
}
