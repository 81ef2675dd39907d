//! Entry points for the fuzz targets in `fuzz/`, compiled only under `--cfg fuzzing` (as
//! `cargo fuzz` builds). Each takes raw bytes, drives the internals, and asserts the invariants
//! itself, so the targets stay one line long and the invariants sit beside the code they check.

use std::time::{Duration, SystemTime};

use crate::client::{Answer, Call, Failure, Start, Target, classify, parse_retry_after};
use crate::duration;
use crate::job::{Job, check_id};
use crate::outputs::write_github_output;

/// Text that goes into a log line or an error message: one line, nothing a terminal or the
/// runner would act on.
fn assert_one_clean_line(text: &str) {
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')),
        "not one clean line: {text:?}"
    );
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
    job(body);
    for (call, job_id) in [
        (Call::Read, Some("job_1")),
        (Call::Start(Start::Create), None),
        (Call::Start(Start::FollowUp), Some("job_1")),
    ] {
        let answer = Answer {
            status,
            retry_after: None,
            location: location.clone(),
            body: Ok(body.to_vec()),
        };
        let target = Target {
            call,
            project_id: "proj_1",
            job_id,
        };
        match classify(answer, target) {
            Ok(job) => {
                assert!((200..300).contains(&status), "HTTP {status} gave a job");
                if call == Call::Start(Start::Create) {
                    // The created job's id is what the run then polls.
                    assert_eq!(check_id(job.id.as_deref().unwrap_or_default()), Ok(()));
                }
            }
            Err(Failure::Transient(transient)) => assert_one_clean_line(&transient.reason),
            Err(Failure::Permanent(permanent)) => assert_one_clean_line(&permanent.message),
        }
    }
}

/// A job body: it is read or refused on one line, and the stdout line (the raw answer) reads
/// back as the same job.
pub fn job(body: &[u8]) {
    match Job::from_json(body) {
        Err(reason) => assert_one_clean_line(&reason),
        Ok(job) => {
            let line = job.raw.to_string();
            assert!(!line.contains(['\n', '\r']), "stdout line {line:?}");
            let again = Job::from_json(line.as_bytes()).expect("the stdout line is not a job");
            assert_eq!(
                (&again.id, &again.status, &again.pr_link),
                (&job.id, &job.status, &job.pr_link)
            );
            assert_eq!(
                (&again.repository, &again.git_ref),
                (&job.repository, &job.git_ref)
            );
        }
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

/// The outputs action.yml declares.
const OUTPUTS: [&str; 6] = ["status", "pr_link", "job_id", "result", "repository", "ref"];

/// Output values, separated by 0xFF bytes (never in UTF-8), written to `$GITHUB_OUTPUT` and
/// read back as the runner reads it: every name and value comes back exactly, and nothing else.
pub fn github_output(data: &[u8]) {
    let fields: Vec<(&str, String)> = OUTPUTS
        .into_iter()
        .zip(data.split(|&b| b == 0xff))
        .map(|(name, value)| (name, String::from_utf8_lossy(value).into_owned()))
        .collect();
    let path = std::env::temp_dir().join(format!(
        "mintlify-agent-gate-fuzz-output-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    write_github_output(&path, &fields).expect("could not write $GITHUB_OUTPUT");
    let text = std::fs::read_to_string(&path).expect("could not read $GITHUB_OUTPUT back");
    let _ = std::fs::remove_file(&path);
    let read = runner_outputs(&text).unwrap_or_else(|error| panic!("{error}:\n{text:?}"));
    let written: Vec<(String, String)> = fields
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    assert_eq!(read, written, "{text:?}");
}

/// The entries of a `$GITHUB_OUTPUT` file, in order, as actions/runner's file-command parser
/// reads them on Linux: only LF ends a line (a CR stays in the value); blank lines are skipped;
/// `name=value`, or `name<<DELIMITER` then the lines up to one equal to the delimiter, each of
/// them ended by LF. Anything else is an error, as it fails the runner's step.
fn runner_outputs(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut entries = Vec::new();
    let mut lines = text
        .split_inclusive('\n')
        .map(|line| match line.strip_suffix('\n') {
            Some(line) => (line, true),
            None => (line, false),
        });
    while let Some((line, _)) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        match (equals, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                entries.push((line[..e].to_owned(), line[e + 1..].to_owned()));
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err(format!("invalid entry {line:?}"));
                }
                let mut value = Vec::new();
                loop {
                    let Some((next, ended)) = lines.next() else {
                        return Err(format!("delimiter {delimiter:?} not found"));
                    };
                    if next == delimiter {
                        break;
                    }
                    if !ended {
                        return Err("the delimiter has no line break before it".to_owned());
                    }
                    value.push(next);
                }
                entries.push((name.to_owned(), value.join("\n")));
            }
            _ => return Err(format!("invalid line {line:?}")),
        }
    }
    Ok(entries)
}
