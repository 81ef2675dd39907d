use super::*;

const TARGET: Target<'static> = Target {
    call: Call::Read,
    project_id: "proj",
    job_id: Some("job_1"),
    just_created: false,
};
const CREATE: Target<'static> = Target {
    call: Call::Start(Start::Create),
    project_id: "proj",
    job_id: None,
    just_created: false,
};
const FOLLOW_UP: Target<'static> = Target {
    call: Call::Start(Start::FollowUp),
    project_id: "proj",
    job_id: Some("job_1"),
    just_created: false,
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

fn permanent_message(result: Result<Job, Failure>) -> String {
    match result {
        Err(Failure::Permanent(p)) => p.message,
        other => panic!("expected a permanent failure, got {other:?}"),
    }
}

#[test]
fn a_job_answer_is_a_job() {
    let job = classify(answer(200, r#"{"status":"active"}"#), TARGET).unwrap();
    assert_eq!(job.status, Some(crate::job::Status::Active));
    let job = classify(answer(200, r#"{"id":"job_1","status":"active"}"#), TARGET).unwrap();
    assert_eq!(job.id.as_deref(), Some("job_1"));
}

#[test]
fn an_answer_about_another_job_is_never_taken() {
    let body = r#"{"id":"job_2","status":"completed","prLink":"https://github.com/o/r/pull/1"}"#;
    for target in [TARGET, FOLLOW_UP] {
        let message = permanent_message(classify(answer(200, body), target));
        assert!(
            message.contains("about job \"job_2\"") && message.contains("not trusted"),
            "{message}"
        );
    }
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
        let message = permanent_message(classify(answer(200, &body), TARGET));
        assert!(
            message.contains("not a string of 1 to 256 bytes"),
            "{id}: {message}"
        );
        let message = permanent_message(classify(answer(201, &body), CREATE));
        assert!(
            message.starts_with("the job was created"),
            "{id}: {message}"
        );
    }
}

#[test]
fn a_field_that_decides_the_verdict_given_twice_is_not_trusted() {
    let body = r#"{"id":"job_1","status":"failed","status":"completed"}"#;
    assert!(is_transient(&classify(answer(200, body), TARGET)));
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
        assert_eq!(job.status, Some(crate::job::Status::Failed));
    }
}

#[test]
fn the_key_is_redacted_after_decoding_json_escapes() {
    let body = r#"{"error":"\u006dint_k3y is not valid"}"#;
    let message = permanent_message(classify(answer(401, body), TARGET));
    assert!(message.contains("<redacted> is not valid"), "{message}");
    assert!(!message.contains("mint_k3y"), "{message}");
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
        just_created: true,
        ..TARGET
    };
    let result = classify(answer(404, ""), fresh);
    assert!(is_transient(&result), "{result:?}");
    assert!(permanent_message(classify(answer(404, ""), TARGET)).contains("not found"));
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
        body: Body::Unread("the answer is over 1 MiB".into()),
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
fn client_errors_and_redirects_stop_the_run_with_advice() {
    let message = permanent_message(classify(answer(401, r#"{"error":"expired"}"#), TARGET));
    assert!(
        message.contains("refused the key")
            && message.contains("expired")
            && message.contains("MINTLIFY_API_KEY"),
        "{message}"
    );
    assert!(permanent_message(classify(answer(403, ""), TARGET)).contains("admin key"));
    let message = permanent_message(classify(
        answer(404, r#"{"error":"Job not found"}"#),
        TARGET,
    ));
    assert!(
        message.contains("\"job_1\"")
            && message.contains("\"proj\"")
            && message.contains("MINTLIFY_JOB_ID"),
        "{message}"
    );
    for status in [400, 409, 422] {
        assert!(
            permanent_message(classify(answer(status, "{}"), TARGET))
                .contains(&format!("HTTP {status}"))
        );
    }
    let redirect = Answer {
        location: Some("https://evil.example/x".into()),
        ..answer(302, "")
    };
    let message = permanent_message(classify(redirect, TARGET));
    assert!(
        message.contains("redirect") && message.contains("https://evil.example/x"),
        "{message}"
    );
}

#[test]
fn server_words_in_errors_cannot_start_a_workflow_command() {
    let body = r#"{"error":"bad\n::error::pwned\r\n::add-mask::x"}"#;
    let message = permanent_message(classify(answer(400, body), TARGET));
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
        for status in [408, 500, 502, 504] {
            let message = permanent_message(classify(answer(status, ""), target));
            assert!(
                message.contains("may or may not have reached Mintlify"),
                "HTTP {status}: {message}"
            );
        }
        let cut = Answer {
            body: Body::Unread("the answer broke off".into()),
            ..answer(201, "")
        };
        assert!(permanent_message(classify(cut, target)).contains("may or may not"));
        let unreadable = permanent_message(classify(answer(201, "<html>"), target));
        assert!(unreadable.contains("may or may not"), "{unreadable}");
        assert!(
            permanent_message(classify(
                answer(400, r#"{"error":"prompt is required"}"#),
                target
            ))
            .contains("prompt is required")
        );
    }
}

#[test]
fn uncertain_starts_say_what_to_check() {
    let message = permanent_message(classify(answer(500, ""), CREATE));
    assert!(
        message.contains("a job may or may not exist") && message.contains("\"proj\""),
        "{message}"
    );
    let message = permanent_message(classify(answer(502, ""), FOLLOW_UP));
    assert!(message.contains("follow-up to job \"job_1\""), "{message}");
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
        let message = permanent_message(classify(answer(201, body), CREATE));
        assert!(
            message.starts_with("the job was created (HTTP 201), but the id"),
            "{body}: {message}"
        );
    }
    // A follow-up names its job already; its answer need not, nor carry a status.
    assert!(classify(answer(200, r#"{"status":"active"}"#), FOLLOW_UP).is_ok());
    assert!(classify(answer(200, r#"{}"#), FOLLOW_UP).is_ok());
    // A create's answer needs an id and nothing else.
    let job = classify(answer(201, r#"{"id":"job_9"}"#), CREATE).unwrap();
    assert_eq!((job.id.as_deref(), job.status), (Some("job_9"), None));
}

#[test]
fn a_404_on_create_names_the_project() {
    let message = permanent_message(classify(answer(404, ""), CREATE));
    assert!(
        message.starts_with("project \"proj\" was not found")
            && message.contains("MINTLIFY_PROJECT_ID"),
        "{message}"
    );
}
