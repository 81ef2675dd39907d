use super::*;

const TARGET: Target<'static> = Target {
    project_id: "proj",
    job_id: "job_1",
};

fn answer(status: u16, body: &str) -> Answer {
    Answer {
        status,
        retry_after: None,
        location: None,
        body: Ok(body.as_bytes().to_vec()),
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
    assert_eq!(job.status.as_str(), "active");
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
    for body in ["not json", "{}", r#"{"status":7}"#, ""] {
        assert!(
            is_transient(&classify(answer(200, body), TARGET)),
            "{body:?}"
        );
    }
    let cut = Answer {
        body: Err(too_large()),
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
