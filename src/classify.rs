//! What an answer from the API means: a job, a failure worth another try, or a refusal. Every
//! retry decision is made here (and in `client::unsent` for requests that got no answer), on
//! answers already decoded and redacted, so it is tested and fuzzed without a server.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::job::{Job, check_id};
use crate::redact::Redactor;
use crate::sanitize::{quoted, truncated, untrusted};

/// How much of the server's own words an error message quotes.
const SERVER_WORDS_LIMIT: usize = 300;

/// A failure that may pass: the same request is sent again on the poll schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transient {
    pub reason: String,
    /// What the server asked for with `Retry-After`, honoured even above the poll cap.
    pub retry_after: Option<Duration>,
    /// A connection to the API was made: it is reachable, whatever went wrong after.
    pub reached: bool,
}

/// A failure that will not pass by waiting: the run stops with this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permanent {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Transient(Transient),
    Permanent(Permanent),
}

impl fmt::Display for Transient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl fmt::Display for Permanent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

pub fn transient(reason: String, retry_after: Option<Duration>, reached: bool) -> Failure {
    Failure::Transient(Transient {
        reason,
        retry_after,
        reached,
    })
}

pub fn permanent(message: String) -> Failure {
    Failure::Permanent(Permanent { message })
}

/// The calls this program makes. A read may be repeated freely; starting the agent may not,
/// since a repeated create or follow-up could start it twice (and spend the project's hourly
/// quota), so those are repeated only when they certainly did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Read,
    Start(Start),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Create,
    FollowUp,
}

/// What a request was for: it decides what may be retried and the wording of errors.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub call: Call,
    pub project_id: &'a str,
    /// `None` for a create, whose job has no id yet.
    pub job_id: Option<&'a str>,
    /// The job was created moments ago, so the API may not serve it yet: a 404 is transient.
    pub just_created: bool,
}

/// An answer body, decoded once and redacted after decoding, so that no escape sequence
/// (`\u006dint_…`) can carry the key past redaction.
#[derive(Debug, Clone)]
pub enum Body {
    Json(Value),
    NotJson {
        text: String,
        error: String,
    },
    /// JSON whose meaning depends on the reader: a field that decides the verdict given twice.
    Ambiguous(&'static str),
    /// It could not be read whole: too large, or the connection broke.
    Unread(String),
}

impl Body {
    /// Leniently in detail: a byte that is not UTF-8 (in a field nobody reads, say) becomes
    /// U+FFFD instead of making the whole answer unreadable, and a leading BOM is skipped.
    pub fn decode(bytes: &[u8], redactor: &Redactor) -> Body {
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

    /// The job in a 2xx answer, or why there is none; the reason is escaped for a log.
    fn job(self) -> Result<Job, String> {
        match self {
            Body::Json(value) => Job::read(value).map_err(|e| e.to_string()),
            Body::NotJson { error, .. } => {
                Err(format!("the answer is not JSON ({})", untrusted(&error)))
            }
            Body::Ambiguous(field) => Err(format!(
                "the answer gives {field} twice, so what it says depends on the reader"
            )),
            Body::Unread(reason) => Err(reason),
        }
    }

    /// The server's own words, from `{"error": "..."}` or the start of the body, escaped and
    /// short: `": words"`, or nothing.
    fn server_words(&self) -> String {
        let text = match self {
            Body::Json(value) => match value.get("error") {
                Some(Value::String(error)) => error.clone(),
                _ => value.to_string(),
            },
            Body::NotJson { text, .. } => text.clone(),
            Body::Ambiguous(_) | Body::Unread(_) => String::new(),
        };
        let text = text.trim();
        if text.is_empty() {
            String::new()
        } else {
            format!(": {}", untrusted(&truncated(text, SERVER_WORDS_LIMIT)))
        }
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
    ["status", "id", "prLink", "source"]
        .into_iter()
        .find(|field| keys.iter().filter(|key| key == field).count() > 1)
}

/// An HTTP answer reduced to what classification needs, so it can be tested without a server.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    /// Percent-decoded and redacted.
    pub location: Option<String>,
    pub body: Body,
}

/// Decides what an answer means.
pub fn classify(answer: Answer, target: Target<'_>) -> Result<Job, Failure> {
    let status = answer.status;
    // Trouble on the server's side: a read tries again; a start cannot know what happened.
    let server_trouble = |reason: String, retry_after: Option<Duration>| match target.call {
        Call::Read => transient(reason, retry_after, true),
        Call::Start(start) => uncertain(start, target, &reason),
    };
    let words = answer.body.server_words();
    match status {
        200..=299 => {
            let job = answer
                .body
                .job()
                .map_err(|reason| server_trouble(reason, None))?;
            match target.call {
                Call::Read => {
                    if let Err(not_a_job) = job.require_status() {
                        return Err(transient(not_a_job.to_string(), None, true));
                    }
                    same_job(job, target)
                }
                Call::Start(Start::FollowUp) => same_job(job, target),
                Call::Start(Start::Create) => {
                    let problem = match &job.id {
                        _ if job.unusable_id => {
                            Some("is not a string of 1 to 256 bytes".to_owned())
                        }
                        Some(id) => check_id(id)
                            .err()
                            .map(|problem| format!("{} {problem}", quoted(&truncated(id, 64)))),
                        None => Some("is missing".to_owned()),
                    };
                    match problem {
                        None => Ok(job),
                        Some(problem) => Err(permanent(format!(
                            "the job was created (HTTP {status}), but the id in the answer {problem}: find the job in the Mintlify dashboard and wait on it with MINTLIFY_JOB_ID"
                        ))),
                    }
                }
            }
        }
        429 => Err(transient(
            "the API is rate limiting (HTTP 429)".to_owned(),
            answer.retry_after,
            true,
        )),
        // 503 means the request was not served, so even a start may be sent again.
        503 => Err(transient(
            format!("the API is unavailable (HTTP 503{words})"),
            answer.retry_after,
            true,
        )),
        408 | 500..=599 => Err(server_trouble(
            format!("the API answered HTTP {status}{words}"),
            None,
        )),
        300..=399 => Err(permanent(format!(
            "the API answered with a redirect (HTTP {status}) to {}, which is not followed so the key cannot travel elsewhere: check MINTLIFY_API_URL",
            answer.location.as_deref().map_or_else(
                || "nowhere".to_owned(),
                |location| untrusted(&truncated(location, SERVER_WORDS_LIMIT))
            )
        ))),
        401 | 403 => Err(permanent(format!(
            "the API refused the key (HTTP {status}{words}): is it expired, not an admin key (mint_...), or from another organization? Check MINTLIFY_API_KEY"
        ))),
        404 => match target.job_id {
            Some(job_id) if target.just_created => Err(transient(
                format!(
                    "job {} is not readable yet (HTTP 404), as can happen right after it is created",
                    quoted(job_id)
                ),
                None,
                true,
            )),
            Some(job_id) => Err(permanent(format!(
                "job {} was not found in project {} (HTTP 404{words}): check MINTLIFY_PROJECT_ID and MINTLIFY_JOB_ID",
                quoted(job_id),
                quoted(target.project_id),
            ))),
            None => Err(permanent(format!(
                "project {} was not found (HTTP 404{words}): check MINTLIFY_PROJECT_ID",
                quoted(target.project_id),
            ))),
        },
        _ => Err(permanent(format!(
            "the API refused the request (HTTP {status}{words}): check the settings against the Mintlify API docs"
        ))),
    }
}

/// An answer about another job than the one asked for is not about this job: a proxy or cache
/// in between mixed answers up, and neither its status nor its PR can be trusted. Waiting
/// would not make the server trustworthy, so the run stops (exit 5) instead of timing out.
fn same_job(job: Job, target: Target<'_>) -> Result<Job, Failure> {
    let Some(asked) = target.job_id else {
        return Ok(job);
    };
    let answered = match &job.id {
        _ if job.unusable_id => "an id that is not a string of 1 to 256 bytes".to_owned(),
        Some(answered) if answered != asked => format!("job {}", quoted(&truncated(answered, 64))),
        _ => return Ok(job),
    };
    let asked = quoted(asked);
    Err(permanent(match target.call {
        Call::Start(Start::FollowUp) => format!(
            "the follow-up to job {asked} was answered about {answered}, so the answer is not trusted; the follow-up may have been delivered: check the job in the Mintlify dashboard before sending it again, and MINTLIFY_API_URL and any proxy or cache in between"
        ),
        _ => format!(
            "the API answered about {answered} when asked about job {asked}, so the answer is not trusted: check MINTLIFY_API_URL and any proxy or cache in between"
        ),
    }))
}

/// A start whose fate is unknown: stop, and say what to check before trying again.
pub fn uncertain(start: Start, target: Target<'_>, reason: &str) -> Failure {
    permanent(match start {
        Start::Create => format!(
            "the request to create a job may or may not have reached Mintlify ({reason}), so a job may or may not exist: check the agent jobs of project {} in the Mintlify dashboard before running this again, or the agent may run twice",
            quoted(target.project_id)
        ),
        Start::FollowUp => format!(
            "the follow-up to job {} may or may not have reached Mintlify ({reason}): check the job in the Mintlify dashboard before sending it again, or the agent may run it twice",
            quoted(target.job_id.unwrap_or_default())
        ),
    })
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests;
