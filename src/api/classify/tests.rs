use super::*;
use crate::api::failure::Transient;
use crate::text::redact::Redactor;

const TARGET: Target<'static> = Target {
    call: Call::Read,
    project_id: "proj",
    job_id: Some("job_1"),
    origin: Origin::Given,
};
const CREATE: Target<'static> = Target {
    call: Call::Start(Start::Create),
    project_id: "proj",
    job_id: None,
    origin: Origin::Given,
};
const FOLLOW_UP: Target<'static> = Target {
    call: Call::Start(Start::FollowUp),
    project_id: "proj",
    job_id: Some("job_1"),
    origin: Origin::Given,
};

fn answer(status: u16, body: &str) -> Answer {
    Answer {
        status,
        retry_after: None,
        location: None,
        body: Body::decode(body.as_bytes(), &Redactor::new("mint_k3y")),
    }
}

fn is_transient(result: &Result<Job, Failure>) -> bool {
    matches!(result, Err(Failure::Transient(_)))
}

fn refusal(result: Result<Job, Failure>) -> Refusal {
    match result {
        Err(Failure::Permanent(refusal)) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn words(text: &str) -> Words {
    Words(text.to_owned())
}

#[test]
fn a_job_answer_is_a_job() {
    let job = classify(answer(200, r#"{"status":"active"}"#), TARGET).unwrap();
    assert_eq!(job.status, Some(crate::api::job::Status::Active));
    let job = classify(answer(200, r#"{"id":"job_1","status":"active"}"#), TARGET).unwrap();
    assert_eq!(job.id.as_deref(), Some("job_1"));
}

#[test]
fn an_answer_about_another_job_is_never_taken() {
    let body = r#"{"id":"job_2","status":"completed","prLink":"https://github.com/o/r/pull/1"}"#;
    let other = (
        "job_1".to_owned(),
        Answered::Named(Subject::Job, "job_2".to_owned()),
    );
    assert_eq!(
        refusal(classify(answer(200, body), TARGET)),
        Refusal::OtherJob {
            asked: other.0.clone(),
            answered: other.1.clone()
        }
    );
    assert_eq!(
        refusal(classify(answer(200, body), FOLLOW_UP)),
        Refusal::FollowUpOtherJob {
            asked: other.0,
            answered: other.1
        }
    );
}

#[test]
fn an_answer_with_an_id_that_is_no_id_is_never_taken() {
    for id in [
        "7",
        "\"\"",
        "[\"job_1\"]",
        &format!("\"{}\"", "x".repeat(300)),
    ] {
        let body = format!(
            r#"{{"id":{id},"status":"completed","prLink":"https://github.com/o/r/pull/1"}}"#
        );
        assert!(
            matches!(
                refusal(classify(answer(200, &body), TARGET)),
                Refusal::OtherJob {
                    answered: Answered::NoUsableId,
                    ..
                }
            ),
            "{id}"
        );
        assert!(
            matches!(
                refusal(classify(answer(201, &body), CREATE)),
                Refusal::CreatedWithoutId { status: 201, .. }
            ),
            "{id}"
        );
    }
}

#[test]
fn a_field_that_decides_the_verdict_given_twice_is_not_trusted() {
    let body = r#"{"id":"job_1","status":"failed","status":"completed"}"#;
    assert!(matches!(
        classify(answer(200, body), TARGET),
        Err(Failure::Transient(Transient {
            trouble: Trouble::NotAJob(NotAJob::Ambiguous("status")),
            ..
        }))
    ));
    let body = r#"{"id":"job_1","status":"failed","model":"a","model":"b"}"#;
    assert!(classify(answer(200, body), TARGET).is_ok());
}

#[test]
fn a_bom_or_a_stray_latin1_byte_does_not_hide_the_status() {
    let redactor = Redactor::new("mint_k3y");
    for body in [
        &b"\xef\xbb\xbf{\"status\":\"failed\"}"[..],
        b"{\"status\":\"failed\",\"model\":\"caf\xe9\"}",
    ] {
        let answer = Answer {
            body: Body::decode(body, &redactor),
            ..answer(200, "")
        };
        let job = classify(answer, TARGET).unwrap();
        assert_eq!(job.status, Some(crate::api::job::Status::Failed));
    }
}

#[test]
fn the_key_is_redacted_after_decoding_json_escapes() {
    let body = r#"{"error":"\u006dint_k3y is not valid"}"#;
    assert_eq!(
        refusal(classify(answer(401, body), TARGET)),
        Refusal::Key {
            status: 401,
            words: words("<redacted> is not valid")
        }
    );
    let job = classify(
        answer(200, r#"{"status":"active","x":"\u006dint_k3y"}"#),
        TARGET,
    )
    .unwrap();
    assert_eq!(job.raw["x"], "<redacted>");
}

#[test]
fn a_404_right_after_a_create_is_retried() {
    let fresh = Target {
        origin: Origin::CreatedMomentsAgo,
        ..TARGET
    };
    let result = classify(answer(404, ""), fresh);
    assert!(is_transient(&result), "{result:?}");
    assert!(matches!(
        refusal(classify(answer(404, ""), TARGET)),
        Refusal::JobNotFound { .. }
    ));
}

#[test]
fn server_trouble_and_rate_limits_are_retried() {
    for status in [408, 429, 500, 502, 503, 504, 599] {
        assert!(
            is_transient(&classify(answer(status, "{}"), TARGET)),
            "HTTP {status}"
        );
    }
}

#[test]
fn a_body_that_is_not_a_job_is_retried() {
    for body in [
        "not json",
        "{}",
        r#"{"status":7}"#,
        "",
        "[null,\"completed\"]",
    ] {
        assert!(
            is_transient(&classify(answer(200, body), TARGET)),
            "{body:?}"
        );
    }
    let cut = Answer {
        body: Body::Unread(NotAJob::TooLarge),
        ..answer(200, "")
    };
    assert!(is_transient(&classify(cut, TARGET)));
}

#[test]
fn retry_after_is_kept_for_429_and_503_only() {
    let wait = Some(Duration::from_secs(42));
    for (status, kept) in [(429, wait), (503, wait), (500, None), (502, None)] {
        let result = classify(
            Answer {
                retry_after: wait,
                ..answer(status, "")
            },
            TARGET,
        );
        match result {
            Err(Failure::Transient(t)) => assert_eq!(t.retry_after, kept, "HTTP {status}"),
            other => panic!("HTTP {status}: {other:?}"),
        }
    }
}

#[test]
fn client_errors_and_redirects_stop_the_run() {
    assert_eq!(
        refusal(classify(answer(401, r#"{"error":"expired"}"#), TARGET)),
        Refusal::Key {
            status: 401,
            words: words("expired")
        }
    );
    assert!(matches!(
        refusal(classify(answer(403, ""), TARGET)),
        Refusal::Key { status: 403, .. }
    ));
    assert_eq!(
        refusal(classify(
            answer(404, r#"{"error":"Job not found"}"#),
            TARGET
        )),
        Refusal::JobNotFound {
            job_id: "job_1".into(),
            project_id: "proj".into(),
            words: words("Job not found")
        }
    );
    for status in [400, 409, 422] {
        assert!(matches!(
            refusal(classify(answer(status, "{}"), TARGET)),
            Refusal::Rejected { status: s, .. } if s == status
        ));
    }
    let redirect = Answer {
        location: Some("https://evil.example/x".into()),
        ..answer(302, "")
    };
    assert_eq!(
        refusal(classify(redirect, TARGET)),
        Refusal::Redirect {
            status: 302,
            location: "https://evil.example/x".into()
        }
    );
}

#[test]
fn refusals_name_the_setting_to_check() {
    let key = refusal(classify(answer(401, ""), TARGET)).to_string();
    assert!(key.contains("MINTLIFY_API_KEY"), "{key}");
    let missing = refusal(classify(answer(404, ""), TARGET)).to_string();
    assert!(missing.contains("MINTLIFY_JOB_ID"), "{missing}");
}

#[test]
fn server_words_in_errors_cannot_start_a_workflow_command() {
    let body = r#"{"error":"bad\n::error::pwned\r\n::add-mask::x"}"#;
    let message = refusal(classify(answer(400, body), TARGET)).to_string();
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains(r"bad\n::error::pwned"), "{message}");
}

#[test]
fn retry_after_reads_seconds_and_http_dates() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
    assert_eq!(
        parse_retry_after("120", now),
        Some(Duration::from_secs(120))
    );
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon", now), None);
    assert_eq!(
        parse_retry_after("18446744073709551616", now),
        Some(Duration::MAX)
    );
}

#[test]
fn a_start_is_retried_only_when_it_certainly_did_not_happen() {
    for target in [CREATE, FOLLOW_UP] {
        for status in [429, 503] {
            assert!(
                is_transient(&classify(answer(status, ""), target)),
                "HTTP {status}"
            );
        }
        let uncertain = |refusal: Refusal| {
            matches!(
                refusal,
                Refusal::CreateUncertain { .. } | Refusal::FollowUpUncertain { .. }
            )
        };
        for status in [408, 500, 502, 504] {
            let refused = refusal(classify(answer(status, ""), target));
            assert!(uncertain(refused.clone()), "HTTP {status}: {refused:?}");
        }
        // A created job whose answer is lost is a job all the same; a follow-up's may not be.
        let unread = |refused: Refusal| match target.call {
            Call::Start(Start::Create) => {
                matches!(refused, Refusal::CreatedWithoutId { status: 201, .. })
            }
            _ => uncertain(refused),
        };
        let cut = Answer {
            body: Body::Unread(NotAJob::BrokeOff("reset".into())),
            ..answer(201, "")
        };
        assert!(unread(refusal(classify(cut, target))));
        assert!(unread(refusal(classify(answer(201, "<html>"), target))));
        // Not a client error, so not a certain refusal: redirects and odd statuses too.
        for status in [301, 302, 303, 307, 308, 600, 999] {
            let refused = refusal(classify(answer(status, ""), target));
            assert!(
                matches!(
                    refused,
                    Refusal::CreateRedirected { .. } | Refusal::FollowUpRedirected { .. }
                ) || uncertain(refused.clone()),
                "HTTP {status}: {refused:?}"
            );
            assert!(
                refused.to_string().contains("Mintlify dashboard before"),
                "HTTP {status}: {refused}"
            );
        }
        assert_eq!(
            refusal(classify(
                answer(400, r#"{"error":"prompt is required"}"#),
                target
            )),
            Refusal::Rejected {
                status: 400,
                words: words("prompt is required")
            }
        );
    }
}

#[test]
fn uncertain_starts_name_what_to_check() {
    let server_error = |status| Trouble::ServerError {
        status,
        words: Words::default(),
    };
    assert_eq!(
        refusal(classify(answer(500, ""), CREATE)),
        Refusal::CreateUncertain {
            project_id: "proj".into(),
            reason: server_error(500)
        }
    );
    assert_eq!(
        refusal(classify(answer(502, ""), FOLLOW_UP)),
        Refusal::FollowUpUncertain {
            job_id: "job_1".into(),
            reason: server_error(502)
        }
    );
}

#[test]
fn a_created_job_must_come_back_with_a_usable_id() {
    let job = classify(answer(201, r#"{"id":"job_9","status":"active"}"#), CREATE).unwrap();
    assert_eq!(job.id.as_deref(), Some("job_9"));
    for body in [
        r#"{"status":"active"}"#,
        r#"{"id":"","status":"active"}"#,
        r#"{"id":"..","status":"active"}"#,
        r#"{"id":"a\nb","status":"active"}"#,
    ] {
        assert!(
            matches!(
                refusal(classify(answer(201, body), CREATE)),
                Refusal::CreatedWithoutId { status: 201, .. }
            ),
            "{body}"
        );
    }
    // A follow-up names its job already; its answer need not, nor carry a status.
    assert!(classify(answer(200, r#"{"status":"active"}"#), FOLLOW_UP).is_ok());
    assert!(classify(answer(200, "{}"), FOLLOW_UP).is_ok());
    // A create's answer needs an id and nothing else.
    let job = classify(answer(201, r#"{"id":"job_9"}"#), CREATE).unwrap();
    assert_eq!((job.id.as_deref(), job.status), (Some("job_9"), None));
}

#[test]
fn a_404_on_create_names_the_project() {
    assert_eq!(
        refusal(classify(answer(404, ""), CREATE)),
        Refusal::ProjectNotFound {
            project_id: "proj".into(),
            words: Words::default()
        }
    );
}

#[test]
fn a_start_answered_with_a_redirect_says_it_may_have_happened() {
    let see_other = |target| {
        let answer = Answer {
            location: Some("/v2/agent/proj/job/job_9".into()),
            ..answer(303, "")
        };
        refusal(classify(answer, target))
    };
    assert_eq!(
        see_other(CREATE),
        Refusal::CreateRedirected {
            project_id: "proj".into(),
            status: 303,
            location: "/v2/agent/proj/job/job_9".into()
        }
    );
    for target in [CREATE, FOLLOW_UP] {
        let message = see_other(target).to_string();
        let dashboard = message.find("Mintlify dashboard").unwrap();
        let url = message.find("MINTLIFY_API_URL").unwrap();
        assert!(dashboard < url, "{message}");
        assert!(message.contains("may have been"), "{message}");
    }
    // A read did nothing: the redirect only says the URL is wrong.
    assert!(matches!(
        see_other(TARGET),
        Refusal::Redirect { status: 303, .. }
    ));
}

#[test]
fn a_create_answered_201_with_an_empty_body_says_the_server_answered_created() {
    for body in ["", " \r\n", "\u{feff}"] {
        let refused = refusal(classify(answer(201, body), CREATE));
        assert_eq!(
            refused,
            Refusal::CreatedWithoutId {
                status: 201,
                problem: "cannot be read: the answer is empty".into()
            }
        );
        let message = refused.to_string();
        assert!(
            message.contains("created (HTTP 201)") && message.contains("the answer is empty"),
            "{message}"
        );
    }
}

#[test]
fn a_404_after_the_create_grace_names_no_setting_the_user_never_set() {
    let created = Target {
        origin: Origin::Created,
        ..TARGET
    };
    let refused = refusal(classify(
        answer(404, r#"{"error":"Job not found"}"#),
        created,
    ));
    assert_eq!(
        refused,
        Refusal::CreatedNotReadable {
            job_id: "job_1".into(),
            words: words("Job not found")
        }
    );
    let message = refused.to_string();
    assert!(message.contains("created by this run"), "{message}");
    assert!(!message.contains("check MINTLIFY_JOB_ID"), "{message}");
}

#[test]
fn a_lone_surrogate_escape_reads_as_u_fffd_and_hides_nothing() {
    let read = |body: &str| classify(answer(200, body), TARGET);
    // In a field nobody reads: the answer is read as if it were not there.
    for body in [
        r#"{"id":"job_1","status":"completed","model":"cut \ud83c"}"#,
        r#"{"id":"job_1","status":"completed","model":"\udf89 \ud83c\u0041 \ud83c\ud83c\udf89"}"#,
        r#"{"id":"job_1","status":"completed","x\ud800":["\udbff"]}"#,
    ] {
        let job = read(body).unwrap();
        assert_eq!(
            job.status,
            Some(crate::api::job::Status::Completed),
            "{body}"
        );
        assert_eq!(job.notes, [], "{body}");
    }
    let job =
        read(r#"{"status":"active","model":"\udf89 \ud83c\u0041 \ud83c\ud83c\udf89"}"#).unwrap();
    assert_eq!(job.raw["model"], "\u{fffd} \u{fffd}A \u{fffd}\u{1f389}");
    // An escaped backslash before `u` starts no escape; a whole pair is left alone.
    let job = read(r#"{"status":"active","model":"\\ud83c \ud83c\udf89"}"#).unwrap();
    assert_eq!(job.raw["model"], "\\ud83c \u{1f389}");
    // A create's answer is read the same way.
    let job = classify(
        answer(201, r#"{"id":"job_9","status":"active","model":"\ud83c"}"#),
        CREATE,
    )
    .unwrap();
    assert_eq!(job.id.as_deref(), Some("job_9"));
    // Decoded first, redacted after: an escaped key beside a lone surrogate is still caught.
    let job = read(r#"{"status":"active","x":"\ud83c\u006dint_k3y"}"#).unwrap();
    assert_eq!(job.raw["x"], "\u{fffd}<redacted>");
}

#[test]
fn a_lone_surrogate_in_a_field_that_is_read_is_never_taken_for_what_was_meant() {
    // In the id: not the id asked about, and no id to poll after a create.
    assert!(matches!(
        refusal(classify(
            answer(200, r#"{"id":"job_1\ud83c","status":"completed"}"#),
            TARGET
        )),
        Refusal::OtherJob { .. }
    ));
    let refused = refusal(classify(
        answer(201, r#"{"id":"job_\ud83c","status":"active"}"#),
        CREATE,
    ));
    assert!(
        matches!(&refused, Refusal::CreatedWithoutId { problem, .. } if problem.contains("U+FFFD")),
        "{refused:?}"
    );
    // In the status: no status, so no job (a read is tried again), not one still running.
    let result = classify(answer(200, r#"{"status":"completed\ud83c"}"#), TARGET);
    assert!(
        matches!(
            &result,
            Err(Failure::Transient(Transient {
                trouble: Trouble::NotAJob(NotAJob::UndecodableStatus),
                ..
            }))
        ),
        "{result:?}"
    );
}
