//! Entry points for the fuzz targets in `fuzz/`, compiled under `--cfg fuzzing` (as `cargo fuzz`
//! builds) and in `cargo test`, which replays every seed in `fuzz/seeds/` through them. Each
//! takes raw bytes, drives the internals, and asserts the invariants itself, so the targets
//! stay one line long and the invariants sit beside the code they check.

use std::time::{Duration, SystemTime};

use crate::api::body::Body;
use crate::api::classify::{
    Answer, Call, Origin, Start, Target, classify, classify_as, parse_retry_after,
};
use crate::api::deployment::{self, AutomationRun, Deployment, Triggered};
use crate::api::failure::Failure;
use crate::api::fields::{self, check_id};
use crate::api::job::Job;
use crate::api::resource::{Identity, Reading as _};
use crate::report;
use crate::runner;
use crate::settings::duration;
use crate::text::redact::Redactor;
use crate::text::sanitize::is_hidden;

/// The key the fuzzed answers are redacted for: a seed holds it, raw and JSON-escaped.
const KEY: &str = "mint_fuzz_key";

/// Text that goes into a log line or an error message: one line, nothing a terminal or the
/// runner would act on, nothing a person cannot see, and never the key.
fn assert_one_clean_line(text: &str) {
    assert!(!text.chars().any(is_hidden), "not one clean line: {text:?}");
    assert!(!text.contains(KEY), "the key leaked: {text:?}");
}

/// Two bytes of HTTP status (little-endian), then the body. A zero byte in the body also ends
/// a `Location` header before it.
pub fn answer(data: &[u8]) {
    let Some((status, body)) = data.split_first_chunk::<2>() else {
        return;
    };
    let status = u16::from_le_bytes(*status);
    let (location, body) = match body.iter().position(|&b| b == 0) {
        Some(at) => (
            Some(String::from_utf8_lossy(&body[..at]).into_owned()),
            &body[at + 1..],
        ),
        None => (None, body),
    };
    let redactor = Redactor::new(KEY);
    let decoded = Body::decode(body, &redactor);
    if let Body::Json(value) = &decoded {
        job(value.clone());
        status_object(value.clone());
    }
    let location = location.map(|location| redactor.text(&location).into_owned());
    for (call, job_id, origin) in [
        (Call::Read, Some("job_1"), Origin::Given),
        (Call::Read, Some("job_1"), Origin::CreatedMomentsAgo),
        (Call::Read, Some("job_1"), Origin::Created),
        (Call::Start(Start::Create), None, Origin::Given),
        (Call::Start(Start::FollowUp), Some("job_1"), Origin::Given),
    ] {
        let answer = Answer {
            status,
            retry_after: None,
            location: location.clone(),
            body: decoded.clone(),
        };
        let target = Target {
            call,
            project_id: "proj_1",
            job_id,
            origin,
        };
        match classify(answer, target) {
            Ok(job) => {
                assert!((200..300).contains(&status), "HTTP {status} gave a job");
                match call {
                    // A read gives a status, and only about the job asked for.
                    Call::Read | Call::Start(Start::FollowUp) => {
                        assert!(call != Call::Read || job.status.is_some());
                        assert!(job.id.as_deref().is_none_or(|id| Some(id) == job_id));
                    }
                    // The created job's id is what the run then polls (only a create is
                    // classified as a job among the starts).
                    Call::Start(_) => {
                        assert_eq!(check_id(job.id.as_deref().unwrap_or_default()), Ok(()));
                    }
                }
            }
            Err(Failure::Transient(transient)) => {
                assert_one_clean_line(&transient.trouble.to_string());
            }
            Err(Failure::Permanent(refusal)) => assert_one_clean_line(&refusal.to_string()),
        }
    }
    deployment_answer(status, location.as_deref(), &decoded);
}

/// The same answer as a deployment's status and as the answer to each trigger.
fn deployment_answer(status: u16, location: Option<&str>, decoded: &Body) {
    let answer = || Answer {
        status,
        retry_after: None,
        location: location.map(str::to_owned),
        body: decoded.clone(),
    };
    for origin in [Origin::Given, Origin::CreatedMomentsAgo, Origin::Created] {
        let target = Target {
            call: Call::Read,
            project_id: "proj_1",
            job_id: Some("st_1"),
            origin,
        };
        // A status is taken only with one, and only about the deployment asked for.
        let read = classify_as::<Deployment>(answer(), target);
        assert_verdict(status, &read, |deployment| {
            assert!(deployment.status.is_some());
            assert!(!deployment.unusable_id);
            assert!(deployment.id.as_deref().is_none_or(|id| id == "st_1"));
        });
    }
    for start in [Start::Update, Start::Preview, Start::Automation] {
        let target = Target {
            call: Call::Start(start),
            project_id: "proj_1",
            job_id: (start == Start::Automation).then_some("auto_1"),
            origin: Origin::Given,
        };
        if start == Start::Automation {
            // An id reported for a later step stays one usable id.
            let run = classify_as::<AutomationRun>(answer(), target);
            assert_verdict(status, &run, |run| {
                for id in [&run.instance_id, &run.job_id].into_iter().flatten() {
                    assert_eq!(check_id(id), Ok(()));
                    assert!(!id.trim().is_empty(), "a blank id: {id:?}");
                }
            });
        } else {
            // What is waited on next is an id that stays inside its path segment.
            let triggered = classify_as::<Triggered>(answer(), target);
            assert_verdict(status, &triggered, |triggered| {
                let Identity::Named(id) = triggered.identity() else {
                    panic!("a trigger taken without a statusId")
                };
                assert_eq!(check_id(id), Ok(()));
            });
            // Only an answer that certainly did not arrive is sent again.
            if let Err(Failure::Transient(_)) = &triggered {
                assert!(
                    matches!(status, 429 | 503),
                    "HTTP {status} retried a trigger"
                );
            }
        }
    }
}

/// A classified answer: a 2xx only when taken, and every message one clean line.
fn assert_verdict<R>(status: u16, result: &Result<R, Failure>, taken: impl FnOnce(&R)) {
    match result {
        Ok(read) => {
            assert!((200..300).contains(&status), "HTTP {status} was taken");
            taken(read);
        }
        Err(Failure::Transient(transient)) => {
            assert_one_clean_line(&transient.trouble.to_string());
        }
        Err(Failure::Permanent(refusal)) => assert_one_clean_line(&refusal.to_string()),
    }
}

/// A decoded body read as a deployment's status and as a trigger's answer: what is kept stays
/// in its bounds, a preview URL is a link by the rules of a PR link, notes are clean lines.
pub fn status_object(value: serde_json::Value) {
    if let Ok(deployment) = Deployment::read(value.clone()) {
        assert!(!deployment.raw.to_string().contains(KEY));
        for note in &deployment.notes {
            assert_one_clean_line(&note.to_string());
        }
        assert!(deployment.logs.len() <= deployment::LOG_LINES);
        for line in &deployment.logs {
            assert!(line.chars().count() <= deployment::LOG_LINE_LIMIT + 1);
            assert!(!line.contains(KEY), "the key leaked: {line:?}");
        }
        if let Some(summary) = &deployment.summary {
            assert!(summary.chars().count() <= deployment::SUMMARY_LIMIT + 1);
            assert!(!summary.contains(KEY), "the key leaked: {summary:?}");
        }
        if let Some(id) = &deployment.id {
            assert!(id.len() <= fields::ID_LIMIT);
        }
    }
    if let Ok(triggered) = Triggered::read(value) {
        for note in &triggered.notes {
            assert_one_clean_line(&note.to_string());
        }
        if let Some(url) = &triggered.preview_url {
            assert_eq!(
                fields::plain_http_link(url).as_deref(),
                Ok(url.as_str()),
                "{url:?}"
            );
            assert!(url.len() <= deployment::PREVIEW_URL_LIMIT);
        }
    }
}

/// A decoded body: read as a job or refused; what is read keeps its bounds and rules, the
/// notes are clean lines, and the stdout line is one line without the key.
pub fn job(value: serde_json::Value) {
    let Ok(job) = Job::read(value) else { return };
    let line = job.raw.to_string();
    assert!(!line.contains(['\n', '\r']), "stdout line {line:?}");
    assert!(!line.contains(KEY), "the key leaked: {line:?}");
    for note in &job.notes {
        assert_one_clean_line(&note.to_string());
    }
    if let Some(link) = &job.pr_link {
        assert!(link.chars().count() <= fields::PR_LINK_LIMIT, "{link:?}");
        assert!(
            !link.chars().any(|c| c.is_whitespace() || is_hidden(c)),
            "{link:?}"
        );
        let scheme = url::Url::parse(link).map(|url| url.scheme().to_owned());
        assert!(
            matches!(scheme.as_deref(), Ok("http" | "https")),
            "{link:?}"
        );
    }
    for (value, limit) in [
        (&job.id, fields::ID_LIMIT),
        (&job.repository, fields::REPOSITORY_LIMIT),
        (&job.git_ref, fields::REF_LIMIT),
    ] {
        assert!(value.as_ref().is_none_or(|v| v.chars().count() <= limit));
    }
}

/// A `Retry-After` value, read against two clocks; what it gives can be shown in a log.
pub fn retry_after(data: &[u8]) {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let epoch_ish = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for now in [SystemTime::now(), epoch_ish] {
        if let Some(wait) = parse_retry_after(value, now) {
            assert_one_clean_line(&duration::display(wait));
            if let Ok(seconds) = value.trim().parse::<u64>() {
                assert_eq!(wait, Duration::from_secs(seconds));
            }
        }
    }
}

/// A duration setting, and any duration shown in a log line.
pub fn duration(data: &[u8]) {
    if let Some((raw, _)) = data.split_first_chunk::<12>() {
        let (secs, nanos) = raw.split_at(8);
        let secs = u64::from_le_bytes(secs.try_into().unwrap_or_default());
        let nanos = u32::from_le_bytes(nanos.try_into().unwrap_or_default()) % 1_000_000_000;
        assert_one_clean_line(&duration::display(Duration::new(secs, nanos)));
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(parsed) = duration::parse(text) {
        assert_one_clean_line(&duration::display(parsed));
        // Every form is a whole number of milliseconds, and reads back as one.
        assert_eq!(parsed.subsec_nanos() % 1_000_000, 0, "{text:?}");
        if let Ok(millis) = u32::try_from(parsed.as_millis()) {
            assert_eq!(duration::parse(&format!("{millis}ms")), Some(parsed));
        }
    }
}

/// Output values, separated by 0xFF bytes (never in UTF-8), written to `$GITHUB_OUTPUT` and
/// read back as the runner reads it: every name and value comes back exactly, and nothing else.
pub fn github_output(data: &[u8]) {
    let fields: Vec<(&str, String)> = report::OUTPUTS
        .into_iter()
        .zip(data.split(|&b| b == 0xff))
        .map(|(name, value)| (name, String::from_utf8_lossy(value).into_owned()))
        .collect();
    let text = report::github_output_text(&fields).expect("could not draw a delimiter");
    let read = runner::read(&text).unwrap_or_else(|error| panic!("{error}:\n{text:?}"));
    let written: Vec<(String, String)> = fields
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    assert_eq!(read, written, "{text:?}");
}

/// Every seed in `fuzz/seeds/<target>/` through the target's entry point: the invariants hold
/// for them in every test run, not only when the fuzzer runs. A seed directory with no entry
/// point here is an error, so a new target cannot go unreplayed.
#[cfg(test)]
#[test]
fn every_seed_keeps_the_invariants() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut replayed = 0;
    for target in std::fs::read_dir(&seeds).unwrap() {
        let target = target.unwrap();
        let name = target.file_name().into_string().unwrap();
        let entry: fn(&[u8]) = match name.as_str() {
            "answer" => answer,
            "duration" => duration,
            "github_output" => github_output,
            "retry_after" => retry_after,
            other => panic!("fuzz/seeds/{other} has no entry point in src/fuzzing.rs"),
        };
        for seed in std::fs::read_dir(target.path()).unwrap() {
            let path = seed.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            // A failed invariant panics; the seed is named in the test's output.
            eprintln!("{}", path.display());
            entry(&bytes);
            replayed += 1;
        }
    }
    assert!(
        replayed >= 4,
        "only {replayed} seeds found in {}",
        seeds.display()
    );
}
