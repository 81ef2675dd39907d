//! What an answer from the API means: what was asked for, a failure worth another try, or a
//! refusal. Every retry decision is made here (and in `client::unsent` for requests that got no
//! answer), on answers already decoded and redacted, so it is tested and fuzzed without a server.

use std::time::{Duration, SystemTime};

use crate::api::body::Body;
use crate::api::failure::{Answered, Failure, NotAJob, Refusal, Trouble, Words};
use crate::api::fields::check_id;
#[cfg(any(test, fuzzing))]
use crate::api::job::Job;
use crate::api::resource::{Identity, Reading, Subject};
use crate::text::sanitize::{quoted, truncated, untrusted};

/// How much of the server's own words an error message quotes.
pub(crate) const SERVER_WORDS_LIMIT: usize = 300;

/// The calls this program makes. A read may be repeated freely; starting the agent may not,
/// since a repeated create or follow-up could start it twice (and spend the project's hourly
/// quota), so those are repeated only when they certainly did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    Read,
    Start(Start),
}

/// The calls that start something: the agent, a deployment, a preview, an automation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    Create,
    FollowUp,
    /// A production deployment.
    Update,
    Preview,
    Automation,
}

impl Start {
    /// What the call starts, as a message names it.
    pub(crate) fn what(self) -> &'static str {
        match self {
            Start::Create => "an agent job",
            Start::FollowUp => "a follow-up",
            Start::Update => "a production deployment",
            Start::Preview => "a preview deployment",
            Start::Automation => "an automation run",
        }
    }

    /// Where in the Mintlify dashboard a trigger whose fate is unknown shows what it started.
    pub(crate) fn dashboard_page(self) -> &'static str {
        match self {
            Start::Automation => "the Automation Runs page",
            Start::Create | Start::FollowUp => "the agent jobs",
            Start::Update | Start::Preview => "the deployments",
        }
    }

    /// The least time between two requests the published rate limit allows, per organization:
    /// previews 5 a minute, updates and automation triggers 10 per 10 s. The agent's limits
    /// are per hour, where spacing the requests would not help.
    pub(crate) fn spacing(self) -> Duration {
        match self {
            Start::Preview => Duration::from_secs(12),
            Start::Update | Start::Automation => Duration::from_secs(1),
            Start::Create | Start::FollowUp => Duration::ZERO,
        }
    }
}

/// What a request was for: it decides what may be retried and the wording of errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    pub(crate) call: Call,
    pub(crate) project_id: &'a str,
    /// The id asked about: a job's, a deployment's (its statusId) or an automation's; `None`
    /// for a create or a trigger of a deployment, which has none yet.
    pub(crate) job_id: Option<&'a str>,
    pub(crate) origin: Origin,
}

/// Where the job or deployment asked about came from, which decides what a 404 on it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The user named it (`MINTLIFY_JOB_ID`): a 404 means a wrong id or project.
    Given,
    /// This run created it moments ago, so the API may not serve it yet: a 404 is transient.
    CreatedMomentsAgo,
    /// This run created it, and the API still does not serve it: no setting of the user's is
    /// wrong.
    Created,
}

/// An HTTP answer reduced to what classification needs, so it can be tested without a server.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    /// Percent-decoded and redacted.
    pub(crate) location: Option<String>,
    pub(crate) body: Body,
}

/// Decides what an answer about a job means.
#[cfg(any(test, fuzzing))]
pub(crate) fn classify(answer: Answer, target: Target<'_>) -> Result<Job, Failure> {
    classify_as(answer, target)
}

/// Decides what an answer means, read as `R`: the rules are the same for every kind.
pub(crate) fn classify_as<R: Reading>(answer: Answer, target: Target<'_>) -> Result<R, Failure> {
    let status = answer.status;
    // Trouble on the server's side: a read tries again; a start cannot know what happened.
    let server_trouble = |trouble: Trouble, retry_after: Option<Duration>| match target.call {
        Call::Read => Failure::transient(trouble, retry_after, true),
        Call::Start(start) => uncertain(start, target, trouble),
    };
    let words = answer.body.server_words();
    let refused = |refusal| Err(Failure::Permanent(refusal));
    match status {
        200..=299 => {
            let read = answer
                .body
                .read::<R>()
                .map_err(|reason| match target.call {
                    // The server said the job was made, or the deployment or run queued; only its
                    // answer is lost.
                    Call::Start(Start::Create) => Failure::Permanent(Refusal::CreatedWithoutId {
                        status,
                        problem: format!("cannot be read: {reason}"),
                    }),
                    Call::Start(start @ (Start::Update | Start::Preview | Start::Automation)) => {
                        Failure::Permanent(Refusal::TriggeredWithoutId {
                            start,
                            status,
                            problem: format!("the answer cannot be read: {reason}"),
                        })
                    }
                    Call::Read | Call::Start(Start::FollowUp) => {
                        server_trouble(unreadable(R::SUBJECT, reason), None)
                    }
                })?;
            accepted(read, status, target)
        }
        429 => Err(Failure::transient(
            Trouble::RateLimited,
            answer.retry_after,
            true,
        )),
        // 503 means the request was not served, so even a start may be sent again.
        503 => Err(Failure::transient(
            Trouble::Unavailable { words },
            answer.retry_after,
            true,
        )),
        408 | 500..=599 => Err(server_trouble(Trouble::ServerError { status, words }, None)),
        300..=399 => refused(redirect(status, answer.location.as_deref(), target)),
        403 if target.call == Call::Start(Start::Preview) => refused(Refusal::NoPreviews { words }),
        // The deployment API needs a plan with the REST API, as well as an admin key.
        403 if R::SUBJECT != Subject::Job => refused(Refusal::KeyOrPlan { words }),
        401 | 403 => refused(Refusal::Key { status, words }),
        400 if target.call == Call::Start(Start::Automation) => {
            refused(Refusal::AutomationRefused {
                automation_id: target.job_id.unwrap_or_default().to_owned(),
                words,
            })
        }
        404 => Err(not_found(R::SUBJECT, target, words)),
        400..=499 => refused(Refusal::Rejected { status, words }),
        // Not a client error, so not a certain refusal: a start may have happened.
        _ => match target.call {
            Call::Read => refused(Refusal::Rejected { status, words }),
            Call::Start(start) => Err(uncertain(
                start,
                target,
                Trouble::ServerError { status, words },
            )),
        },
    }
}

/// What a 404 means: by the kind asked about and where it came from. A job or deployment this
/// run started moments ago may not be served yet; one named by the user is a wrong setting.
fn not_found(subject: Subject, target: Target<'_>, words: Words) -> Failure {
    let refusal = match (subject, target.job_id, target.origin) {
        _ if target.call == Call::Start(Start::Automation) => Refusal::AutomationNotFound {
            automation_id: target.job_id.unwrap_or_default().to_owned(),
            project_id: target.project_id.to_owned(),
            words,
        },
        (Subject::Deployment, Some(id), Origin::CreatedMomentsAgo) => {
            let trouble = Trouble::StatusNotReadableYet(id.to_owned());
            return Failure::transient(trouble, None, true);
        }
        (_, Some(job_id), Origin::CreatedMomentsAgo) => {
            let trouble = Trouble::NotReadableYet(job_id.to_owned());
            return Failure::transient(trouble, None, true);
        }
        (Subject::Deployment, Some(id), Origin::Created) => Refusal::TriggeredNotReadable {
            id: id.to_owned(),
            words,
        },
        (Subject::Deployment, Some(id), Origin::Given) => Refusal::DeploymentNotFound {
            id: id.to_owned(),
            words,
        },
        (_, Some(job_id), Origin::Created) => Refusal::CreatedNotReadable {
            job_id: job_id.to_owned(),
            words,
        },
        (_, Some(job_id), Origin::Given) => Refusal::JobNotFound {
            job_id: job_id.to_owned(),
            project_id: target.project_id.to_owned(),
            words,
        },
        (_, None, _) => Refusal::ProjectNotFound {
            project_id: target.project_id.to_owned(),
            words,
        },
    };
    Failure::Permanent(refusal)
}

/// A redirect is never followed, so the key cannot travel elsewhere. A start may have been
/// carried out before it (a 303 to the new job), so it says so before naming the URL.
fn redirect(status: u16, location: Option<&str>, target: Target<'_>) -> Refusal {
    let location = location.map_or_else(
        || "nowhere".to_owned(),
        |location| untrusted(&truncated(location, SERVER_WORDS_LIMIT)),
    );
    match target.call {
        Call::Read => Refusal::Redirect { status, location },
        Call::Start(Start::Create) => Refusal::CreateRedirected {
            project_id: target.project_id.to_owned(),
            status,
            location,
        },
        Call::Start(Start::FollowUp) => Refusal::FollowUpRedirected {
            job_id: target.job_id.unwrap_or_default().to_owned(),
            status,
            location,
        },
        Call::Start(start) => Refusal::TriggerRedirected {
            start,
            project_id: target.project_id.to_owned(),
            status,
            location,
        },
    }
}

/// An answer that could not be read as `subject`.
fn unreadable(subject: Subject, reason: NotAJob) -> Trouble {
    match subject {
        Subject::Deployment => Trouble::NotAStatus(reason),
        Subject::Job | Subject::AutomationRun => Trouble::NotAJob(reason),
    }
}

/// A 2xx answer, read: taken if it is about what was asked, and, after a trigger or a create,
/// only with a usable id to wait on.
fn accepted<R: Reading>(read: R, status: u16, target: Target<'_>) -> Result<R, Failure> {
    let refused = |refusal| Err(Failure::Permanent(refusal));
    match target.call {
        Call::Read => match read.no_status() {
            Some(reason) => Err(Failure::transient(
                unreadable(R::SUBJECT, reason),
                None,
                true,
            )),
            None => same_one(read, target),
        },
        Call::Start(Start::FollowUp) => same_one(read, target),
        // An automation's run is not waited on: its ids are reported if usable.
        Call::Start(Start::Automation) => Ok(read),
        Call::Start(start @ (Start::Create | Start::Update | Start::Preview)) => {
            let problem = match read.identity() {
                Identity::Unusable => Some("is not a string of 1 to 256 bytes".to_owned()),
                Identity::Named(id) => check_id(id)
                    .err()
                    .map(|problem| format!("{} {problem}", quoted(&truncated(id, 64)))),
                Identity::Unnamed => Some("is missing".to_owned()),
            };
            match problem {
                None => Ok(read),
                Some(problem) if start == Start::Create => {
                    refused(Refusal::CreatedWithoutId { status, problem })
                }
                Some(problem) => refused(Refusal::TriggeredWithoutId {
                    start,
                    status,
                    problem: format!("the statusId in the answer {problem}"),
                }),
            }
        }
    }
}

/// An answer about another job or deployment than the one asked for is not about it: a proxy
/// or cache in between mixed answers up, and nothing in it can be trusted. Waiting would not
/// make the server trustworthy, so the run stops (exit 5) instead of timing out.
fn same_one<R: Reading>(read: R, target: Target<'_>) -> Result<R, Failure> {
    let Some(asked) = target.job_id else {
        return Ok(read);
    };
    let answered = match read.identity() {
        Identity::Unusable => Answered::NoUsableId,
        Identity::Named(answered) if answered != asked => {
            Answered::Named(R::SUBJECT, truncated(answered, 64))
        }
        Identity::Named(_) | Identity::Unnamed => return Ok(read),
    };
    let asked = asked.to_owned();
    Err(Failure::Permanent(match (target.call, R::SUBJECT) {
        (Call::Start(Start::FollowUp), _) => Refusal::FollowUpOtherJob { asked, answered },
        (_, Subject::Deployment) => Refusal::OtherDeployment { asked, answered },
        _ => Refusal::OtherJob { asked, answered },
    }))
}

/// A start whose fate is unknown: stop, and say what to check before trying again.
pub(crate) fn uncertain(start: Start, target: Target<'_>, reason: Trouble) -> Failure {
    Failure::Permanent(match start {
        Start::Create => Refusal::CreateUncertain {
            project_id: target.project_id.to_owned(),
            reason,
        },
        Start::FollowUp => Refusal::FollowUpUncertain {
            job_id: target.job_id.unwrap_or_default().to_owned(),
            reason,
        },
        Start::Update | Start::Preview | Start::Automation => Refusal::TriggerUncertain {
            start,
            project_id: target.project_id.to_owned(),
            reason,
        },
    })
}

/// `Retry-After` as seconds or as an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More seconds than a u64 holds is still a wait, past any deadline: not an absent one,
        // which would be retried on the schedule.
        return Some(
            value
                .parse::<u64>()
                .map_or(Duration::MAX, Duration::from_secs),
        );
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests;
