//! What an answer from the API means: a job, a failure worth another try, or a refusal. Every
//! retry decision is made here (and in `client::unsent` for requests that got no answer), on
//! answers already decoded and redacted, so it is tested and fuzzed without a server.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde_json::Value;

pub(crate) use crate::failure::{Answered, Failure, NotAJob, Refusal, Start, Trouble, Words};
#[cfg(any(test, fuzzing))]
use crate::job::Job;
use crate::job::check_id;
use crate::redact::Redactor;
use crate::resource::{Identity, Reading, Subject};
use crate::sanitize::{quoted, truncated, untrusted};

/// How much of the server's own words an error message quotes.
const SERVER_WORDS_LIMIT: usize = 300;

/// The calls this program makes. A read may be repeated freely; starting the agent may not,
/// since a repeated create or follow-up could start it twice (and spend the project's hourly
/// quota), so those are repeated only when they certainly did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    Read,
    Start(Start),
}

/// What a request was for: it decides what may be retried and the wording of errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    pub(crate) call: Call,
    pub(crate) project_id: &'a str,
    /// The id asked about: a job's, a deployment's (its statusId) or an automation's; `None`
    /// for a create or a trigger of a deployment, which has none yet.
    pub(crate) job_id: Option<&'a str>,
    /// It was created moments ago, so the API may not serve it yet: a 404 is transient.
    pub(crate) just_created: bool,
}

/// An answer body, decoded once and redacted after decoding, so that no escape sequence
/// (`\u006dint_…`) can carry the key past redaction.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Json(Value),
    NotJson {
        text: String,
        error: String,
    },
    /// JSON whose meaning depends on the reader: a field that decides the verdict given twice.
    Ambiguous(&'static str),
    /// It could not be read whole: too large, or the connection broke.
    Unread(NotAJob),
}

impl Body {
    /// Leniently in detail: a byte that is not UTF-8 (in a field nobody reads, say) becomes
    /// U+FFFD instead of making the whole answer unreadable, and a leading BOM is skipped.
    pub(crate) fn decode(bytes: &[u8], redactor: &Redactor) -> Body {
        let text = String::from_utf8_lossy(bytes);
        let json = text.strip_prefix('\u{feff}').unwrap_or(&text);
        match serde_json::from_str::<Value>(json) {
            Ok(mut value) => {
                if let Some(field) = twice(json) {
                    return Body::Ambiguous(field);
                }
                redactor.value(&mut value);
                Body::Json(value)
            }
            Err(error) => Body::NotJson {
                text: redactor.text(&text).into_owned(),
                error: error.to_string(),
            },
        }
    }

    /// What a 2xx answer holds, or why it holds none.
    fn read<R: Reading>(self) -> Result<R, NotAJob> {
        match self {
            Body::Json(value) => R::read(value),
            Body::NotJson { error, .. } => Err(NotAJob::NotJson(untrusted(&error))),
            Body::Ambiguous(field) => Err(NotAJob::Ambiguous(field)),
            Body::Unread(reason) => Err(reason),
        }
    }

    /// The server's own words, from `{"error": "..."}` or the start of the body, escaped and
    /// short.
    fn server_words(&self) -> Words {
        let text = match self {
            Body::Json(value) => match value.get("error") {
                Some(Value::String(error)) => error.clone(),
                _ => value.to_string(),
            },
            Body::NotJson { text, .. } => text.clone(),
            Body::Ambiguous(_) | Body::Unread(_) => String::new(),
        };
        Words(untrusted(&truncated(text.trim(), SERVER_WORDS_LIMIT)))
    }
}

/// The first field that decides the verdict and appears twice in a JSON object answer: serde
/// keeps the last, another reader the first, so neither can be trusted.
fn twice(json: &str) -> Option<&'static str> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Keys;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((key, serde::de::IgnoredAny)) = map.next_entry::<String, _>()? {
                        keys.push(key);
                    }
                    Ok(Keys(keys))
                }
            }
            deserializer.deserialize_map(Visitor)
        }
    }
    let Keys(keys) = serde_json::from_str(json).ok()?;
    [
        "status",
        "id",
        "prLink",
        "source",
        "_id",
        "statusId",
        "previewUrl",
    ]
    .into_iter()
    .find(|field| keys.iter().filter(|key| key == field).count() > 1)
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
                .map_err(|reason| server_trouble(Trouble::NotAJob(reason), None))?;
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
        300..=399 => refused(Refusal::Redirect {
            status,
            location: answer.location.as_deref().map_or_else(
                || "nowhere".to_owned(),
                |location| untrusted(&truncated(location, SERVER_WORDS_LIMIT)),
            ),
        }),
        403 if target.call == Call::Start(Start::Preview) => refused(Refusal::NoPreviews { words }),
        401 | 403 => refused(Refusal::Key { status, words }),
        400 if target.call == Call::Start(Start::Automation) => {
            refused(Refusal::AutomationRefused {
                automation_id: target.job_id.unwrap_or_default().to_owned(),
                words,
            })
        }
        404 => match target.job_id {
            Some(id) if target.just_created && R::SUBJECT == Subject::Deployment => Err(
                Failure::transient(Trouble::StatusNotReadableYet(id.to_owned()), None, true),
            ),
            Some(job_id) if target.just_created => Err(Failure::transient(
                Trouble::NotReadableYet(job_id.to_owned()),
                None,
                true,
            )),
            Some(id) if R::SUBJECT == Subject::Deployment => refused(Refusal::DeploymentNotFound {
                id: id.to_owned(),
                words,
            }),
            Some(id) if target.call == Call::Start(Start::Automation) => {
                refused(Refusal::AutomationNotFound {
                    automation_id: id.to_owned(),
                    project_id: target.project_id.to_owned(),
                    words,
                })
            }
            Some(job_id) => refused(Refusal::JobNotFound {
                job_id: job_id.to_owned(),
                project_id: target.project_id.to_owned(),
                words,
            }),
            None => refused(Refusal::ProjectNotFound {
                project_id: target.project_id.to_owned(),
                words,
            }),
        },
        _ => refused(Refusal::Rejected { status, words }),
    }
}

/// A 2xx answer, read: taken if it is about what was asked, and, after a trigger or a create,
/// only with a usable id to wait on.
fn accepted<R: Reading>(read: R, status: u16, target: Target<'_>) -> Result<R, Failure> {
    let refused = |refusal| Err(Failure::Permanent(refusal));
    match target.call {
        Call::Read => {
            if !read.has_status() {
                let trouble = Trouble::NotAJob(NotAJob::NoStatus);
                return Err(Failure::transient(trouble, None, true));
            }
            same_one(read, target)
        }
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
                    problem,
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
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests;
