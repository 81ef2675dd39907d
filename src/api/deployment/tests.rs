use super::*;
use crate::api::fields::STATUS_LIMIT;

fn read(body: serde_json::Value) -> Deployment {
    Deployment::read(body).unwrap()
}

#[test]
fn reads_a_full_status_object() {
    let deployment = read(serde_json::json!({
        "_id": "st_1", "projectId": "p", "createdAt": "2026-01-01T00:00:00Z",
        "status": "failure", "summary": "  Build failed  ", "logs": ["a", "b\n"],
        "subdomain": "acme", "commit": {"sha": "abc", "ref": "main"}, "source": "api",
        "author": null, "screenshot": "x",
    }));
    assert_eq!(deployment.id.as_deref(), Some("st_1"));
    assert_eq!(deployment.status, Some(DeployStatus::Failure));
    assert_eq!(deployment.summary.as_deref(), Some("Build failed"));
    assert_eq!(deployment.logs, ["a", "b"]);
    assert_eq!(deployment.notes, []);
}

#[test]
fn only_success_and_failure_end_a_deployment() {
    for (sent, ended) in [
        ("queued", None),
        ("in_progress", None),
        ("success", Some(true)),
        ("failure", Some(false)),
        // The wrong name public scripts use: unknown, so still running.
        ("deployed", None),
    ] {
        let status = read(serde_json::json!({ "status": sent })).status.unwrap();
        assert_eq!(status.succeeded(), ended, "{sent}");
    }
}

#[test]
fn a_status_is_read_after_trimming_and_ignoring_case_with_a_note() {
    let deployment = read(serde_json::json!({ "status": " SUCCESS\n" }));
    assert_eq!(deployment.status, Some(DeployStatus::Success));
    assert_eq!(
        deployment.notes,
        [Note::Normalized {
            sent: " SUCCESS\n".into(),
            read: "success".into()
        }]
    );
    let long = "x".repeat(1000);
    let deployment = read(serde_json::json!({ "status": long }));
    let Some(DeployStatus::Other(shown)) = deployment.status else {
        panic!("not unknown")
    };
    assert_eq!(shown.chars().count(), STATUS_LIMIT + 1);
}

#[test]
fn only_the_last_log_lines_are_kept_each_bounded() {
    let mut logs: Vec<serde_json::Value> = (0..20).map(|n| format!("line {n}").into()).collect();
    logs.push(serde_json::json!(5));
    logs.push("y".repeat(1000).into());
    let deployment = read(serde_json::json!({ "status": "failure", "logs": logs }));
    assert_eq!(deployment.logs.len(), LOG_LINES);
    assert_eq!(deployment.logs[0], "line 16");
    assert_eq!(deployment.logs[4].chars().count(), LOG_LINE_LIMIT + 1);
    assert_eq!(
        deployment.notes,
        [Note::WrongType {
            field: "logs[]",
            expected: "a string"
        }]
    );
    let summary = "s".repeat(5000);
    let deployment = read(serde_json::json!({ "summary": summary, "logs": "text" }));
    assert_eq!(
        deployment.summary.unwrap().chars().count(),
        SUMMARY_LIMIT + 1
    );
    assert!(deployment.logs.is_empty());
}

#[test]
fn a_wrong_field_is_absent_and_the_status_still_decides() {
    let deployment = read(serde_json::json!({ "_id": 7, "status": "success", "summary": [1] }));
    assert_eq!(deployment.status, Some(DeployStatus::Success));
    assert!(deployment.unusable_id);
    assert_eq!(deployment.id, None);
    assert_eq!(deployment.summary, None);
    assert!(Deployment::read(serde_json::json!(["success"])).is_err());
}

#[test]
fn a_preview_url_is_a_link_only_under_the_rules_of_a_pr_link() {
    let answer = |url: &str| {
        Triggered::read(serde_json::json!({ "statusId": "st_1", "previewUrl": url })).unwrap()
    };
    let good = answer("https://acme-feature.mintlify.app");
    assert_eq!(
        good.preview_url.as_deref(),
        Some("https://acme-feature.mintlify.app")
    );
    assert_eq!(good.status_id.as_deref(), Some("st_1"));
    for bad in [
        "acme-feature.mintlify.app",
        "javascript:alert(1)",
        "https://x\u{202e}y",
        "https://x y",
        "file:///etc/passwd",
    ] {
        let read = answer(bad);
        assert_eq!(read.preview_url, None, "{bad}");
        assert!(
            matches!(read.notes[..], [Note::NotAPreviewUrl(_)]),
            "{bad}: {:?}",
            read.notes
        );
    }
}

#[test]
fn an_automation_answer_gives_its_run_and_job() {
    let run = AutomationRun::read(serde_json::json!({
        "schemaId": "auto_1", "instanceId": "run_1", "jobId": "job_1"
    }))
    .unwrap();
    assert_eq!(
        (run.instance_id.as_deref(), run.job_id.as_deref()),
        (Some("run_1"), Some("job_1"))
    );
    assert_eq!(run.notes, []);
    let run = AutomationRun::read(serde_json::json!({ "instanceId": "", "jobId": 3 })).unwrap();
    assert!(run.unusable_id);
    assert_eq!(run.job_id, None);
    assert!(run.notes.contains(&Note::AcceptedWithoutId {
        field: "instanceId",
        output: "automation_run_id"
    }));
}

#[test]
fn an_automation_answer_without_its_ids_says_which_output_is_empty() {
    let mut echoed =
        serde_json::json!({ "instanceId": "run_mint_0123456789", "jobId": "0123456789" });
    crate::text::redact::Redactor::new("mint_0123456789").value(&mut echoed);
    for answer in [serde_json::json!({ "schemaId": "auto_1" }), echoed] {
        let run = AutomationRun::read(answer).unwrap();
        assert_eq!((run.instance_id, run.job_id), (None, None));
        assert_eq!(run.notes.len(), 2, "{:?}", run.notes);
    }
    let run = AutomationRun::read(serde_json::json!({ "schemaId": "auto_1" })).unwrap();
    assert_eq!(
        run.notes,
        [
            Note::AcceptedWithoutId {
                field: "instanceId",
                output: "automation_run_id"
            },
            Note::AcceptedWithoutId {
                field: "jobId",
                output: "job_id"
            },
        ]
    );
}

#[test]
fn an_automation_id_no_later_step_could_use_is_none() {
    // Each would reach automation_run_id or job_id as text that names no run and no job: a
    // later gate given it as MINTLIFY_JOB_ID would refuse it or ask for a job of that name.
    for unusable in [
        " ",
        "\t\n",
        "\u{200b}",
        "\u{feff}",
        "job\n_1",
        "job_1\r",
        "job\u{202e}_1",
        "\u{fffd}",
        "..",
        "x".repeat(ID_LIMIT + 1).as_str(),
    ] {
        let run = AutomationRun::read(serde_json::json!({
            "schemaId": "auto_1", "instanceId": unusable, "jobId": unusable
        }))
        .unwrap();
        assert_eq!((run.instance_id, run.job_id), (None, None), "{unusable:?}");
        for (field, output) in [("instanceId", "automation_run_id"), ("jobId", "job_id")] {
            assert!(
                run.notes
                    .contains(&Note::AcceptedWithoutId { field, output }),
                "{unusable:?}: {:?}",
                run.notes
            );
        }
    }
}

#[test]
fn an_undecodable_status_is_no_status_and_a_link_with_userinfo_is_no_preview() {
    let deployment = read(serde_json::json!({ "_id": "st_1", "status": "succ\u{fffd}ss" }));
    assert_eq!(deployment.status, None);
    assert_eq!(
        deployment.notes,
        [Note::Undecodable {
            field: "status",
            kept: false
        }]
    );
    let triggered = Triggered::read(serde_json::json!({
        "statusId": "st_1",
        "previewUrl": "https://acme.mintlify.app@evil.example/"
    }))
    .unwrap();
    assert_eq!(triggered.preview_url, None);
    assert_eq!(
        triggered.notes,
        [Note::NotAPreviewUrl(
            crate::api::fields::PrLinkProblem::Userinfo
        )]
    );
}

#[test]
fn a_branch_is_no_branch_with_whitespace_hidden_characters_or_redacted() {
    for branch in ["main", "docs/new-page", "mintlify/a<b>c", "ü-branch"] {
        assert!(is_agent_branch(branch), "{branch:?}");
    }
    let redacted = crate::text::redact::Redactor::new("mint_0123456789abcdef");
    let named_with_the_key = redacted.text("docs/0123456789-update");
    assert_eq!(named_with_the_key, "docs/<redacted>-update");
    for branch in [
        "",
        "a b",
        "main\n",
        "a\u{200b}b",
        &"x".repeat(REF_LIMIT + 1),
        &named_with_the_key,
    ] {
        assert!(!is_agent_branch(branch), "{branch:?}");
    }
    // A branch the user gives is not redacted first: whatever it holds is its name.
    assert!(is_branch_name("docs/<redacted>-update"));
    assert!(!is_branch_name("a b"));
}
