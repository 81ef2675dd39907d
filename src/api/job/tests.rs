use super::*;
use crate::api::fields::{IdProblem, PrLinkProblem, STATUS_LIMIT, check_id};

fn read(body: &str) -> Job {
    Job::read(serde_json::from_str(body).unwrap()).unwrap()
}

#[test]
fn reads_a_full_job() {
    let job = read(
        r#"{"id":"j1","status":"completed","source":{"repository":"https://github.com/o/r","ref":"main"},
        "model":"m","prLink":"https://github.com/o/r/pull/1","createdAt":"2023-11-07T05:31:56Z","archivedAt":null,"extra":1}"#,
    );
    assert_eq!(job.status, Some(Status::Completed));
    assert_eq!(job.id.as_deref(), Some("j1"));
    assert_eq!(
        job.pr_link.as_deref(),
        Some("https://github.com/o/r/pull/1")
    );
    assert_eq!(job.repository.as_deref(), Some("https://github.com/o/r"));
    assert_eq!(job.git_ref.as_deref(), Some("main"));
    assert_eq!(job.raw["extra"], 1);
    assert_eq!(job.notes, []);
}

#[test]
fn nulls_missing_and_empty_fields_are_absent_without_a_note() {
    let job = read(r#"{"status":"active","prLink":null,"source":null}"#);
    assert_eq!(job.status, Some(Status::Active));
    assert_eq!(
        (job.id, job.pr_link, job.repository, job.git_ref),
        (None, None, None, None)
    );
    assert_eq!(read(r#"{"status":"completed","prLink":""}"#).pr_link, None);
    let job = read(r#"{"id":"j"}"#);
    assert_eq!((job.status, job.notes), (None, vec![]));
}

#[test]
fn a_field_of_the_wrong_type_is_absent_and_noted_and_the_rest_is_read() {
    let job = read(
        r#"{"status":"failed","prLink":5,"source":"text","createdAt":7,"id":["j"],"x":1e999999}"#,
    );
    assert_eq!(job.status, Some(Status::Failed));
    assert_eq!((job.id, job.pr_link, job.repository), (None, None, None));
    let wrong = |field, expected| Note::WrongType { field, expected };
    assert_eq!(
        job.notes,
        [
            wrong("id", "a string"),
            wrong("prLink", "a string"),
            wrong("source", "an object"),
            wrong("createdAt", "a string"),
        ]
    );
    let job = read(r#"{"status":"active","source":{"repository":3,"ref":"dev"}}"#);
    assert_eq!(job.git_ref.as_deref(), Some("dev"));
    assert_eq!(job.notes, [wrong("source.repository", "a string")]);
}

#[test]
fn statuses_are_read_after_trimming_and_ignoring_ascii_case() {
    for (sent, status) in [
        (" COMPLETED", Status::Completed),
        ("Failed\n", Status::Failed),
        ("aRcHiVeD", Status::Archived),
    ] {
        let job = read(&serde_json::json!({ "status": sent }).to_string());
        assert_eq!(job.status, Some(status.clone()));
        assert_eq!(
            job.notes,
            [Note::Normalized {
                sent: sent.into(),
                read: status.as_str().to_owned()
            }]
        );
    }
    let job = read(r#"{"status":"queued"}"#);
    assert_eq!(job.status, Some(Status::Other("queued".into())));
    assert_eq!(job.status.unwrap().as_final(), None);
    // Not ASCII case: the Kelvin sign is not a K, so this is no known status.
    let job = read(r#"{"status":"AKTIVE\u212a"}"#);
    assert!(matches!(job.status, Some(Status::Other(_))));
}

#[test]
fn a_long_status_is_unknown_and_kept_short() {
    let job = read(&serde_json::json!({ "status": "x".repeat(10_000) }).to_string());
    let Some(Status::Other(text)) = job.status else {
        panic!("not unknown")
    };
    assert_eq!(text.chars().count(), STATUS_LIMIT + 1);
    assert_eq!(
        job.notes,
        [Note::TooLong {
            field: "status",
            limit: STATUS_LIMIT
        }]
    );
}

#[test]
fn only_an_absolute_http_link_with_a_host_is_a_pr() {
    for good in [
        "https://github.com/o/r/pull/1",
        "http://gitlab.example/o/r/-/merge_requests/2",
        "https://[::1]:8443/x",
    ] {
        let job = read(&serde_json::json!({ "status": "completed", "prLink": good }).to_string());
        assert_eq!(job.pr_link.as_deref(), Some(good));
    }
    let long = format!("https://github.com/{}", "a".repeat(PR_LINK_LIMIT));
    for (bad, note) in [
        (" ", Note::NotAPrLink(PrLinkProblem::HiddenCharacters)),
        ("null", Note::NotAPrLink(PrLinkProblem::NotHttpUrl)),
        (
            "javascript:alert(1)//https://github.com",
            Note::NotAPrLink(PrLinkProblem::NotHttpUrl),
        ),
        ("/o/r/pull/1", Note::NotAPrLink(PrLinkProblem::NotHttpUrl)),
        ("https://", Note::NotAPrLink(PrLinkProblem::NotHttpUrl)),
        (
            "file:///etc/passwd",
            Note::NotAPrLink(PrLinkProblem::NotHttpUrl),
        ),
        (
            "https://github.com/o/r/pull/1 ",
            Note::NotAPrLink(PrLinkProblem::HiddenCharacters),
        ),
        (
            "https://github.com/o/r/pull/\u{202E}1",
            Note::NotAPrLink(PrLinkProblem::HiddenCharacters),
        ),
        (
            "https://github.com/\u{200B}o/r",
            Note::NotAPrLink(PrLinkProblem::HiddenCharacters),
        ),
        (
            "https://github.com@evil.example/o/r/pull/1",
            Note::NotAPrLink(PrLinkProblem::Userinfo),
        ),
        (
            "https://user:pw@github.com/o/r/pull/1",
            Note::NotAPrLink(PrLinkProblem::Userinfo),
        ),
        (
            "https://:pw@github.com/o/r/pull/1",
            Note::NotAPrLink(PrLinkProblem::Userinfo),
        ),
        (
            "https://github.com/o/r/pull/1\u{fffd}",
            Note::NotAPrLink(PrLinkProblem::Undecodable),
        ),
        (
            &long,
            Note::TooLong {
                field: "prLink",
                limit: PR_LINK_LIMIT,
            },
        ),
    ] {
        let job = read(&serde_json::json!({ "status": "completed", "prLink": bad }).to_string());
        assert_eq!(job.pr_link, None, "{bad:?}");
        assert_eq!(job.notes, [note], "{bad:?}");
    }
}

#[test]
fn only_an_object_is_a_job() {
    for body in [
        "[null,\"completed\",null,\"https://x\"]",
        "\"completed\"",
        "null",
        "7",
    ] {
        let raw = serde_json::from_str(body).unwrap();
        assert_eq!(Job::read(raw).unwrap_err(), NotAJob::NotAnObject, "{body}");
    }
    let job = read(r#"{"status":5}"#);
    assert_eq!(job.status, None);
}

#[test]
fn a_character_that_could_not_be_decoded_is_noted_once_where_it_is_read() {
    let job = read(
        r#"{"id":"j\ufffd","status":"active\ufffd","source":{"repository":"r\ufffd","ref":"\ufffd"},"model":"\ufffd"}"#,
    );
    assert_eq!(
        job.notes,
        [
            ("status", false),
            ("id", true),
            ("source.repository", true),
            ("source.ref", true)
        ]
        .map(|(field, kept)| Note::Undecodable { field, kept })
    );
    assert_eq!(job.status, None);
    assert_eq!(job.git_ref.as_deref(), Some("\u{fffd}"));
    assert_eq!(check_id("j\u{fffd}"), Err(IdProblem::Undecodable));
}
