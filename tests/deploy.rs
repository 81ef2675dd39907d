//! Deployments, previews and automations, end to end against a scripted loopback API: each
//! setting of the deployment API, the requests it sends (paths, bodies, counts), and what a
//! hostile or failing server gets out of it.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use wiremock::{MockServer, Request, ResponseTemplate};

const UPDATE_PATH: &str = "/v1/project/update/proj_1";
const PREVIEW_PATH: &str = "/v1/project/preview/proj_1";
const STATUS_PATH: &str = "/v1/project/update-status/st_1";
const AUTOMATION_PATH: &str = "/v1/workflow/proj_1/auto_1/trigger";
const PREVIEW_URL: &str = "https://acme-feature-x.mintlify.app";

fn accepted(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(202).set_body_json(body)
}

fn triggered() -> ResponseTemplate {
    accepted(json!({ "statusId": "st_1" }))
}

fn preview_triggered() -> ResponseTemplate {
    accepted(json!({ "statusId": "st_1", "previewUrl": PREVIEW_URL }))
}

fn status(status: &str) -> ResponseTemplate {
    ok(json!({
        "_id": "st_1",
        "projectId": PROJECT,
        "createdAt": "2026-11-22T10:00:00Z",
        "status": status,
        "summary": "",
        "logs": [],
        "subdomain": "acme",
        "commit": {"sha": "abc123", "ref": "main", "message": "docs", "filesChanged": {"added": [], "modified": [], "removed": []}},
        "source": "api",
        "author": null,
    }))
}

fn failed(summary: &str, logs: &[&str]) -> ResponseTemplate {
    ok(json!({ "_id": "st_1", "status": "failure", "summary": summary, "logs": logs }))
}

/// A mock whose deployment `st_1` goes through `statuses`.
async fn deployment(statuses: impl IntoIterator<Item = ResponseTemplate>) -> MockServer {
    let server = MockServer::start().await;
    script(&server, "GET", STATUS_PATH, statuses).await;
    server
}

/// A run about no agent job: the job id every other test sets is unset.
fn gate(server: &MockServer) -> Gate {
    Gate::new(&server.uri()).unset("MINTLIFY_JOB_ID")
}

/// Asserts a request carries the key as the document says, and no body.
fn assert_bare(request: &Request) {
    assert_eq!(request.headers["authorization"], format!("Bearer {KEY}"));
    assert!(request.body.is_empty(), "{:?}", request.body);
}

async fn count(server: &MockServer, verb: &str, route: &str) -> usize {
    received(server, verb, route).await.len()
}

/// Every request the server got, as `VERB /path`.
async fn all_requests(server: &MockServer) -> Vec<String> {
    let requests = server.received_requests().await.unwrap();
    requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

#[tokio::test]
async fn deploy_triggers_production_once_and_waits_for_success() {
    let server = deployment([status("queued"), status("in_progress"), status("success")]).await;
    script(&server, "POST", UPDATE_PATH, [triggered()]).await;
    let run = gate(&server).env("MINTLIFY_DEPLOY", "true").run();
    run.assert_code(0)
        .assert_logged("deployment st_1: triggered")
        .assert_logged("deployment st_1: queued -> in_progress")
        .assert_logged("deployment st_1: in_progress -> success");
    let posts = received(&server, "POST", UPDATE_PATH).await;
    assert_eq!(posts.len(), 1);
    assert_bare(&posts[0]);
    let gets = received(&server, "GET", STATUS_PATH).await;
    assert_eq!(gets.len(), 3);
    assert_bare(&gets[0]);
    let outputs = run.outputs();
    assert_eq!(outputs["result"], "deployed");
    assert_eq!(outputs["deployment_id"], "st_1");
    assert_eq!(outputs["deployment_status"], "success");
    for empty in [
        "preview_url",
        "automation_run_id",
        "job_id",
        "status",
        "pr_link",
    ] {
        assert_eq!(outputs[empty], "", "{empty}");
    }
    assert!(run.stdout.contains(r#""_id":"st_1""#), "{}", run.stdout);
}

#[tokio::test]
async fn preview_branch_sends_the_branch_and_reports_the_url() {
    let server = deployment([status("in_progress"), status("success")]).await;
    script(&server, "POST", PREVIEW_PATH, [preview_triggered()]).await;
    let run = gate(&server)
        .arg("--preview-branch")
        .arg(" feature/x\n")
        .run();
    run.assert_code(0)
        .assert_logged(r#"preview of branch "feature/x" triggered"#);
    let posts = received(&server, "POST", PREVIEW_PATH).await;
    assert_eq!(posts.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(body, json!({ "branch": "feature/x" }));
    assert_eq!(posts[0].headers["content-type"], "application/json");
    let outputs = run.outputs();
    assert_eq!(outputs["preview_url"], PREVIEW_URL);
    assert_eq!(outputs["deployment_status"], "success");
    assert_eq!(outputs["result"], "deployed");
}

/// Only the agent's branch is redacted before it is checked: a branch the user names is sent
/// as named, whatever text it holds.
#[tokio::test]
async fn a_user_branch_that_reads_like_a_redaction_is_still_a_branch() {
    let server = deployment([status("success")]).await;
    script(&server, "POST", PREVIEW_PATH, [preview_triggered()]).await;
    let run = gate(&server)
        .env("MINTLIFY_PREVIEW_BRANCH", "docs/<redacted>")
        .run();
    run.assert_code(0);
    let posts = received(&server, "POST", PREVIEW_PATH).await;
    let body: serde_json::Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(body, json!({ "branch": "docs/<redacted>" }));
}

#[tokio::test]
async fn a_failure_exits_8_with_its_summary_and_last_logs_everywhere_redacted() {
    let logs: Vec<String> = (1..=8).map(|n| format!("step {n}")).collect();
    let mut logs: Vec<&str> = logs.iter().map(String::as_str).collect();
    let echoed = format!("auth header was Bearer {KEY}");
    logs.push(&echoed);
    logs.push("::error::forged\n##[warning]x");
    let server = deployment([
        status("in_progress"),
        failed("Build failed: broken link in <b>api.mdx</b>", &logs),
    ])
    .await;
    let run = gate(&server)
        .env("MINTLIFY_DEPLOYMENT_ID", "st_1")
        .env("GITHUB_ACTIONS", "true")
        .run();
    run.assert_code(8)
        .assert_logged("deployment st_1 failed: Build failed: broken link in <b>api.mdx</b>")
        .assert_logged(r#""step 6" | "step 7" | "step 8" | "auth header was Bearer <redacted>""#);
    assert!(
        !run.stderr.contains("step 5"),
        "only the last lines:\n{}",
        run.stderr
    );
    assert_eq!(workflow_commands(&run.stderr).len(), 1, "{}", run.stderr);
    let annotation = workflow_commands(&run.stderr)[0];
    assert!(
        annotation.starts_with("::error::deployment st_1 failed"),
        "{annotation}"
    );
    assert!(annotation.contains("<redacted>"), "{annotation}");
    let outputs = run.outputs();
    assert_eq!(outputs["result"], "deployment_failed");
    assert_eq!(outputs["deployment_status"], "failure");
    assert_eq!(outputs["deployment_id"], "st_1");
    assert_eq!(count(&server, "POST", UPDATE_PATH).await, 0);
}

#[tokio::test]
async fn the_step_summary_shows_a_failure_escaped() {
    let server = deployment([failed("bad | table <img src=x>", &["line *1*", "line `2`"])]).await;
    let g = gate(&server).env("MINTLIFY_DEPLOYMENT_ID", "st_1");
    let path = g.path("summary");
    let run = g.env("GITHUB_STEP_SUMMARY", &path).run();
    run.assert_code(8);
    let summary = run.file("summary").unwrap();
    assert!(
        summary.starts_with("### Mintlify deployment: deployment_failed"),
        "{summary}"
    );
    assert!(summary.contains("| st\\_1 | failure | none |"), "{summary}");
    assert!(
        summary.contains("bad \\| table &lt;img src=x&gt;"),
        "{summary}"
    );
    assert!(
        summary.contains("- line \\*1\\*\n- line \\`2\\`\n"),
        "{summary}"
    );
}

#[tokio::test]
async fn still_in_progress_at_the_deadline_is_a_timeout() {
    let server = deployment([status("queued"), status("in_progress")]).await;
    let run = gate(&server)
        .env("MINTLIFY_DEPLOYMENT_ID", "st_1")
        .env("MINTLIFY_TIMEOUT", "300ms")
        .run();
    // A read in flight at the deadline adds it as the last problem: the message goes on.
    run.assert_code(4)
        .assert_logged("deployment st_1 has no final status after 300ms (last status: in_progress");
    let outputs = run.outputs();
    assert_eq!(outputs["result"], "timeout");
    assert_eq!(outputs["deployment_status"], "in_progress");
}

#[tokio::test]
async fn an_automation_is_triggered_once_and_not_waited_on() {
    let server = MockServer::start().await;
    let answer = json!({ "schemaId": 5, "instanceId": "run_9", "jobId": "job_77" });
    script(&server, "POST", AUTOMATION_PATH, [accepted(answer)]).await;
    let run = gate(&server).env("MINTLIFY_AUTOMATION_ID", "auto_1").run();
    run.assert_code(0)
        .assert_logged("Mintlify documents no way to read a run's status")
        .assert_logged("automation \"auto_1\": field schemaId is not a string; read as absent");
    assert_eq!(
        all_requests(&server).await,
        [format!("POST {AUTOMATION_PATH}")]
    );
    assert_bare(&received(&server, "POST", AUTOMATION_PATH).await[0]);
    let outputs = run.outputs();
    assert_eq!(outputs["result"], "started");
    assert_eq!(outputs["automation_run_id"], "run_9");
    assert_eq!(outputs["job_id"], "job_77");
    assert_eq!(outputs["deployment_id"], "");
}

#[tokio::test]
async fn an_automation_accepted_without_its_ids_passes_and_says_where_to_find_the_run() {
    let server = MockServer::start().await;
    let answer = json!({ "schemaId": "auto_1", "jobId": "job_77" });
    script(&server, "POST", AUTOMATION_PATH, [accepted(answer)]).await;
    let run = gate(&server)
        .env("MINTLIFY_AUTOMATION_ID", "auto_1")
        .env("GITHUB_ACTIONS", "true")
        .run();
    run.assert_code(0).assert_logged(
        "automation \"auto_1\": the trigger was accepted, but the answer gives no usable instanceId, so the automation_run_id output is empty: the trigger is not sent again (the automation would run twice); find the run on the Automation Runs page of the Mintlify dashboard",
    );
    assert!(
        !run.stderr.contains("no usable jobId"),
        "a jobId was given: {}",
        run.stderr
    );
    assert_eq!(count(&server, "POST", AUTOMATION_PATH).await, 1);
    let outputs = run.outputs();
    assert_eq!(outputs["result"], "started");
    assert_eq!(outputs["automation_run_id"], "");
    assert_eq!(outputs["job_id"], "job_77");
    // Neither id: each empty output is named.
    let server = MockServer::start().await;
    script(&server, "POST", AUTOMATION_PATH, [accepted(json!({}))]).await;
    let run = gate(&server).env("MINTLIFY_AUTOMATION_ID", "auto_1").run();
    run.assert_code(0)
        .assert_logged("no usable instanceId, so the automation_run_id output is empty")
        .assert_logged("no usable jobId, so the job_id output is empty");
    assert_eq!(count(&server, "POST", AUTOMATION_PATH).await, 1);
}

#[tokio::test]
async fn an_automation_accepted_with_ids_no_later_step_could_use_reports_none() {
    // A line break, a zero-width space, blanks: text in the outputs that names no run or job.
    for (instance_id, job_id) in [("run\n1", "\u{200b}"), (" ", "job_1\r\n")] {
        let server = MockServer::start().await;
        let answer = json!({ "schemaId": "auto_1", "instanceId": instance_id, "jobId": job_id });
        script(&server, "POST", AUTOMATION_PATH, [accepted(answer)]).await;
        let run = gate(&server).env("MINTLIFY_AUTOMATION_ID", "auto_1").run();
        run.assert_code(0)
            .assert_logged("no usable instanceId, so the automation_run_id output is empty")
            .assert_logged("no usable jobId, so the job_id output is empty");
        let outputs = run.outputs();
        assert_eq!(outputs["result"], "started");
        assert_eq!(outputs["automation_run_id"], "", "{instance_id:?}");
        assert_eq!(outputs["job_id"], "", "{job_id:?}");
        assert_eq!(count(&server, "POST", AUTOMATION_PATH).await, 1);
    }
}

#[tokio::test]
async fn an_automation_refused_says_what_to_check() {
    let server = MockServer::start().await;
    let refused = ResponseTemplate::new(400)
        .set_body_json(json!({"error": "Automation is not on a custom schedule"}));
    script(&server, "POST", AUTOMATION_PATH, [refused]).await;
    let run = gate(&server).env("MINTLIFY_AUTOMATION_ID", "auto_1").run();
    run.assert_code(5).assert_logged(
        "automation \"auto_1\" cannot be triggered (HTTP 400: Automation is not on a custom schedule): only an active automation on a custom schedule can",
    );
    assert_eq!(count(&server, "POST", AUTOMATION_PATH).await, 1);
    let server = MockServer::start().await;
    script(
        &server,
        "POST",
        AUTOMATION_PATH,
        [ResponseTemplate::new(404)],
    )
    .await;
    gate(&server)
        .env("MINTLIFY_AUTOMATION_ID", "auto_1")
        .run()
        .assert_code(5)
        .assert_logged("automation \"auto_1\" was not found in project \"proj_1\" (HTTP 404)");
}

#[tokio::test]
async fn the_agent_then_its_preview_share_one_run() {
    let mut completed = job("completed", Some(PR_LINK));
    completed["source"]["ref"] = "mintlify/agent-docs".into();
    let server = api([ok(job("active", None)), ok(completed)]).await;
    script(&server, "POST", PREVIEW_PATH, [preview_triggered()]).await;
    script(
        &server,
        "GET",
        STATUS_PATH,
        [status("queued"), status("success")],
    )
    .await;
    let gate = Gate::new(&server.uri()).arg("--preview");
    let summary = gate.path("summary");
    let run = gate.env("GITHUB_STEP_SUMMARY", &summary).run();
    run.assert_code(0);
    // Each table counts its own reads: two of the job, two of the preview's status.
    let summary = run.file("summary").unwrap();
    for row in ["| job\\_1 | completed |", "| st\\_1 | success |"] {
        let line = summary.lines().find(|line| line.starts_with(row));
        assert!(
            line.is_some_and(|line| line.ends_with("| 2 |")),
            "{summary}"
        );
    }
    let posts = received(&server, "POST", PREVIEW_PATH).await;
    assert_eq!(posts.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(body, json!({ "branch": "mintlify/agent-docs" }));
    let outputs = run.outputs();
    assert_eq!(outputs["status"], "completed");
    assert_eq!(outputs["pr_link"], PR_LINK);
    assert_eq!(outputs["job_id"], JOB);
    assert_eq!(outputs["preview_url"], PREVIEW_URL);
    assert_eq!(outputs["deployment_status"], "success");
    assert_eq!(outputs["result"], "deployed");
    run.assert_logged(&format!(
        "job job_1 completed, PR {PR_LINK}; deployment st_1 succeeded at {PREVIEW_URL}"
    ));
}

#[tokio::test]
async fn a_failed_preview_of_the_agent_keeps_the_agent_outputs() {
    let server = api([ok(job("completed", Some(PR_LINK)))]).await;
    script(&server, "POST", PREVIEW_PATH, [preview_triggered()]).await;
    script(
        &server,
        "GET",
        STATUS_PATH,
        [failed("mint.json is invalid", &[])],
    )
    .await;
    let run = Gate::new(&server.uri())
        .env("MINTLIFY_PREVIEW", "true")
        .run();
    run.assert_code(8).assert_logged(&format!(
        "job job_1 completed, PR {PR_LINK}; deployment st_1 failed: mint.json is invalid"
    ));
    let outputs = run.outputs();
    assert_eq!(outputs["status"], "completed");
    assert_eq!(outputs["pr_link"], PR_LINK);
    assert_eq!(outputs["ref"], "main");
    assert_eq!(outputs["result"], "deployment_failed");
    let body: serde_json::Value =
        serde_json::from_slice(&received(&server, "POST", PREVIEW_PATH).await[0].body).unwrap();
    assert_eq!(body, json!({ "branch": "main" }));
}

#[tokio::test]
async fn a_job_without_a_pr_skips_the_preview_and_passes() {
    let server = api([ok(job("completed", None))]).await;
    let run = Gate::new(&server.uri()).arg("--preview").run();
    run.assert_code(0)
        .assert_logged("no PR, so no preview to build");
    assert_eq!(run.outputs()["result"], "completed");
    assert_eq!(run.outputs()["deployment_id"], "");
    assert_eq!(count(&server, "POST", PREVIEW_PATH).await, 0);
}

/// A PR link the gate cannot take (a trailing newline, no scheme, a script) is still a PR: the
/// agent changed something, so its branch is built and the preview decides the verdict.
#[tokio::test]
async fn a_job_whose_pr_link_is_unreadable_still_builds_its_preview() {
    for link in [
        json!("https://github.com/acme/docs/pull/7\n"),
        json!("github.com/acme/docs/pull/7"),
        json!("javascript:alert(1)"),
        json!(7),
    ] {
        let mut completed = job("completed", None);
        completed["prLink"] = link.clone();
        let server = api([ok(completed)]).await;
        script(&server, "POST", PREVIEW_PATH, [preview_triggered()]).await;
        script(
            &server,
            "GET",
            STATUS_PATH,
            [failed("mint.json is invalid", &[])],
        )
        .await;
        let run = Gate::new(&server.uri()).arg("--preview").run();
        run.assert_code(8);
        assert!(
            !run.stderr.contains("no preview to build"),
            "{link}: {}",
            run.stderr
        );
        assert_eq!(count(&server, "POST", PREVIEW_PATH).await, 1, "{link}");
        assert_eq!(run.outputs()["pr_link"], "", "{link}");
        assert_eq!(run.outputs()["result"], "deployment_failed", "{link}");
    }
}

#[tokio::test]
async fn a_failed_job_builds_no_preview() {
    let server = api([ok(job("failed", None))]).await;
    Gate::new(&server.uri())
        .arg("--preview")
        .run()
        .assert_code(1);
    assert_eq!(count(&server, "POST", PREVIEW_PATH).await, 0);
}

#[tokio::test]
async fn one_timeout_covers_the_agent_and_its_preview() {
    // The job answers after 1 s and the preview's status after 1 s more, so a deadline of
    // 1.5 s for the whole run cuts off the first read of the status: nothing is seen of it. A
    // deadline of its own for the preview would have let that read answer `in_progress`.
    let second = Duration::from_secs(1);
    let completed = ok(job("completed", Some(PR_LINK))).set_delay(second);
    let server = api([completed]).await;
    script(&server, "POST", PREVIEW_PATH, [preview_triggered()]).await;
    let building = status("in_progress").set_delay(second);
    script(&server, "GET", STATUS_PATH, [building]).await;
    let run = Gate::new(&server.uri())
        .arg("--preview")
        .env("MINTLIFY_TIMEOUT", "1500ms")
        .run();
    run.assert_code(4).assert_logged("after 1.5s");
    let outputs = run.outputs();
    assert_eq!(outputs["status"], "completed");
    assert_eq!(outputs["deployment_status"], "");
    assert_eq!(outputs["result"], "timeout");
}

#[tokio::test]
async fn wait_false_triggers_and_reports_without_reading_the_status() {
    for (setting, value, path, answer) in [
        ("MINTLIFY_DEPLOY", "true", UPDATE_PATH, triggered()),
        (
            "MINTLIFY_PREVIEW_BRANCH",
            "main",
            PREVIEW_PATH,
            preview_triggered(),
        ),
    ] {
        let server = MockServer::start().await;
        script(&server, "POST", path, [answer]).await;
        let run = gate(&server).env(setting, value).arg("--wait=false").run();
        run.assert_code(0).assert_logged("triggered");
        assert_eq!(all_requests(&server).await, [format!("POST {path}")]);
        let outputs = run.outputs();
        assert_eq!(outputs["result"], "started");
        assert_eq!(outputs["deployment_id"], "st_1");
        assert_eq!(outputs["deployment_status"], "");
    }
}

#[tokio::test]
async fn each_setting_chooses_what_the_run_is_about_and_two_are_refused() {
    let server = MockServer::start().await;
    let refusals: [(&[(&str, &str)], &str); 8] = [
        (
            &[("MINTLIFY_JOB_ID", "job_1"), ("MINTLIFY_DEPLOY", "true")],
            "the agent job (MINTLIFY_JOB_ID) and MINTLIFY_DEPLOY each choose what the run is about: keep one",
        ),
        (
            &[("MINTLIFY_DEPLOY", "1"), ("MINTLIFY_DEPLOYMENT_ID", "st_1")],
            "MINTLIFY_DEPLOY and MINTLIFY_DEPLOYMENT_ID each choose",
        ),
        (
            &[
                ("MINTLIFY_PREVIEW_BRANCH", "main"),
                ("MINTLIFY_AUTOMATION_ID", "auto_1"),
            ],
            "MINTLIFY_PREVIEW_BRANCH and MINTLIFY_AUTOMATION_ID each choose",
        ),
        (
            &[("MINTLIFY_PREVIEW", "true")],
            "MINTLIFY_PREVIEW (--preview) builds a preview of an agent job's branch, and no agent job is set",
        ),
        (
            &[("MINTLIFY_PREVIEW", "true"), ("MINTLIFY_DEPLOY", "true")],
            "no agent job is set",
        ),
        (
            &[("MINTLIFY_PREVIEW_BRANCH", " \t ")],
            "MINTLIFY_PREVIEW_BRANCH=\" \\t \" is empty or blank",
        ),
        (
            &[
                ("MINTLIFY_DEPLOYMENT_ID", "st_1"),
                ("MINTLIFY_WAIT", "false"),
            ],
            "MINTLIFY_WAIT=false (--wait=false) with MINTLIFY_DEPLOYMENT_ID: there is nothing to start",
        ),
        (
            &[
                ("MINTLIFY_PROMPT", "Document it"),
                ("MINTLIFY_PREVIEW", "true"),
                ("MINTLIFY_WAIT", "false"),
            ],
            "MINTLIFY_PREVIEW (--preview) waits for the agent job to build its preview",
        ),
    ];
    for (settings, message) in refusals {
        let mut gate = gate(&server);
        for (name, value) in settings {
            gate = gate.env(name, value);
        }
        let run = gate.run();
        run.assert_code(2).assert_logged(message);
        assert!(
            run.file("output").is_none(),
            "outputs written for {settings:?}"
        );
    }
    let run = gate(&server).arg("--preview-branch=a\u{202e}b").run();
    run.assert_code(2).assert_logged("is not a branch name");
    let run = gate(&server)
        .args(&["--deploy", "--deployment-id=st_1"])
        .run();
    // Named as given: the flags as flags, a variable as a variable.
    run.assert_code(2)
        .assert_logged("--deploy and --deployment-id each choose what the run is about");
    let run = gate(&server)
        .env("MINTLIFY_PROMPT", "Document it")
        .args(&["--job-id=job_1", "--automation-id=auto_1"])
        .run();
    run.assert_code(2)
        .assert_logged("the agent job (--job-id, MINTLIFY_PROMPT) and --automation-id each choose");
    assert_eq!(all_requests(&server).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_status_about_another_deployment_is_not_trusted() {
    let mut other = json!({ "_id": "st_2", "status": "success" });
    let server = deployment([ok(other.take())]).await;
    let run = gate(&server).env("MINTLIFY_DEPLOYMENT_ID", "st_1").run();
    run.assert_code(5).assert_logged(
        "the API answered about deployment \"st_2\" when asked about deployment \"st_1\", so the answer is not trusted",
    );
    assert_eq!(run.outputs()["deployment_status"], "");
    assert_eq!(count(&server, "GET", STATUS_PATH).await, 1);
}

#[tokio::test]
async fn a_preview_url_that_is_not_a_link_is_not_reported() {
    let server = deployment([status("success")]).await;
    let answer =
        accepted(json!({ "statusId": "st_1", "previewUrl": "javascript:alert(1)//https://x" }));
    script(&server, "POST", PREVIEW_PATH, [answer]).await;
    let run = gate(&server).env("MINTLIFY_PREVIEW_BRANCH", "main").run();
    run.assert_code(0).assert_logged(
        "previewUrl is not written as http:// or https:// and a host; read as no preview URL",
    );
    assert_eq!(run.outputs()["preview_url"], "");
    assert!(!run.stderr.contains("javascript:"), "{}", run.stderr);
}

#[tokio::test]
async fn a_trigger_rate_limited_is_sent_again_after_retry_after() {
    let server = deployment([status("success")]).await;
    let limited = ResponseTemplate::new(429).insert_header("retry-after", "1");
    script(&server, "POST", UPDATE_PATH, [limited, triggered()]).await;
    let started = Instant::now();
    let run = gate(&server).env("MINTLIFY_DEPLOY", "true").run();
    run.assert_code(0).assert_logged(
        "triggering a production deployment: the API is rate limiting (HTTP 429); trying again",
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After not honoured"
    );
    assert_eq!(count(&server, "POST", UPDATE_PATH).await, 2);
    let server = deployment([status("success")]).await;
    let unavailable = ResponseTemplate::new(503);
    script(
        &server,
        "POST",
        PREVIEW_PATH,
        [unavailable, preview_triggered()],
    )
    .await;
    gate(&server)
        .env("MINTLIFY_PREVIEW_BRANCH", "main")
        .run()
        .assert_code(0);
    assert_eq!(count(&server, "POST", PREVIEW_PATH).await, 2);
}

#[tokio::test]
async fn a_trigger_that_may_have_arrived_is_never_sent_again() {
    // Each names the dashboard page that shows what it may have started.
    for (setting, value, path, page) in [
        ("MINTLIFY_DEPLOY", "true", UPDATE_PATH, "the deployments"),
        (
            "MINTLIFY_PREVIEW_BRANCH",
            "main",
            PREVIEW_PATH,
            "the deployments",
        ),
        (
            "MINTLIFY_AUTOMATION_ID",
            "auto_1",
            AUTOMATION_PATH,
            "the Automation Runs page",
        ),
    ] {
        let server = MockServer::start().await;
        script(&server, "POST", path, [ResponseTemplate::new(500)]).await;
        let run = gate(&server).env(setting, value).run();
        run.assert_code(5)
            .assert_logged("may or may not have reached Mintlify (the API answered HTTP 500)")
            .assert_logged(&format!(
                "check {page} of project \"proj_1\" in the Mintlify dashboard"
            ));
        assert_eq!(count(&server, "POST", path).await, 1, "{setting}");
        assert_eq!(run.outputs()["result"], "api_error");
    }
}

#[tokio::test]
async fn a_trigger_answered_without_a_status_id_stops() {
    let server = MockServer::start().await;
    script(
        &server,
        "POST",
        UPDATE_PATH,
        [accepted(json!({ "statusId": 7 }))],
    )
    .await;
    let run = gate(&server).env("MINTLIFY_DEPLOY", "true").run();
    run.assert_code(5).assert_logged(
        "the API answered that a production deployment was triggered (HTTP 202), but the statusId in the answer is not a string of 1 to 256 bytes",
    );
    assert_eq!(all_requests(&server).await, [format!("POST {UPDATE_PATH}")]);
    for (setting, value, path) in [
        ("MINTLIFY_PREVIEW_BRANCH", "main", PREVIEW_PATH),
        ("MINTLIFY_AUTOMATION_ID", "auto_1", AUTOMATION_PATH),
    ] {
        let server = MockServer::start().await;
        let garbled = ResponseTemplate::new(202).set_body_string("<html>queued</html>");
        script(&server, "POST", path, [garbled]).await;
        let run = gate(&server).env(setting, value).run();
        run.assert_code(5).assert_logged(
            "was triggered (HTTP 202), but the answer cannot be read: the answer is not JSON",
        );
        assert_eq!(count(&server, "POST", path).await, 1);
    }
}

#[tokio::test]
async fn a_fresh_status_id_not_found_yet_is_read_again() {
    let server = deployment([ResponseTemplate::new(404), status("success")]).await;
    script(&server, "POST", UPDATE_PATH, [triggered()]).await;
    let run = gate(&server).env("MINTLIFY_DEPLOY", "true").run();
    run.assert_code(0)
        .assert_logged("deployment \"st_1\" is not readable yet (HTTP 404)");
    assert_eq!(count(&server, "GET", STATUS_PATH).await, 2);
}

#[tokio::test]
async fn a_given_status_id_not_found_is_refused_at_once() {
    let server = deployment([ResponseTemplate::new(404)]).await;
    let run = gate(&server).env("MINTLIFY_DEPLOYMENT_ID", "st_1").run();
    run.assert_code(5).assert_logged(
        "deployment \"st_1\" was not found (HTTP 404): check MINTLIFY_DEPLOYMENT_ID",
    );
    assert_eq!(count(&server, "GET", STATUS_PATH).await, 1);
}

#[tokio::test]
async fn a_preview_refused_with_403_names_the_plan() {
    let server = MockServer::start().await;
    let refused = ResponseTemplate::new(403).set_body_json(
        json!({"error": "Preview deployments are not available on your current plan"}),
    );
    script(&server, "POST", PREVIEW_PATH, [refused]).await;
    let run = gate(&server).env("MINTLIFY_PREVIEW_BRANCH", "main").run();
    run.assert_code(5)
        .assert_logged("previews need a Pro or Enterprise plan");
    assert_eq!(count(&server, "POST", PREVIEW_PATH).await, 1);
    let server = MockServer::start().await;
    script(&server, "POST", UPDATE_PATH, [ResponseTemplate::new(401)]).await;
    gate(&server)
        .env("MINTLIFY_DEPLOY", "true")
        .run()
        .assert_code(5)
        .assert_logged("the API refused the key (HTTP 401)");
    let server = deployment([ResponseTemplate::new(403)]).await;
    gate(&server)
        .env("MINTLIFY_DEPLOYMENT_ID", "st_1")
        .run()
        .assert_code(5)
        .assert_logged(
            "need a Pro or Enterprise plan and an admin key (mint_...) of this organization",
        );
    assert_eq!(count(&server, "GET", STATUS_PATH).await, 1);
}

// Windows answers a connect to a port nobody listens on only after about a second of retries,
// longer than this run lasts.
#[cfg_attr(
    windows,
    ignore = "Windows retries a refused connect for about a second"
)]
#[tokio::test]
async fn a_trigger_that_never_connects_is_retried_until_the_deadline() {
    let refusing = refusing();
    let run = Gate::new(&refusing.url)
        .unset("MINTLIFY_JOB_ID")
        .env("MINTLIFY_DEPLOY", "true")
        .env("MINTLIFY_TIMEOUT", "1s")
        .run();
    run.assert_code(4)
        .assert_logged("triggering a production deployment: the request failed")
        .assert_logged("the production deployment: the API at http://127.0.0.1:")
        .assert_logged("could not be reached in 1.0s");
    assert!(
        run.stderr.matches("trying again").count() >= 2,
        "{}",
        run.stderr
    );
    assert_eq!(run.outputs()["result"], "timeout");
}

#[tokio::test]
async fn a_job_whose_branch_is_unusable_builds_no_preview() {
    for git_ref in [serde_json::Value::Null, "main\n::error::x".into()] {
        let mut completed = job("completed", Some(PR_LINK));
        completed["source"]["ref"] = git_ref;
        let server = api([ok(completed)]).await;
        let run = Gate::new(&server.uri()).arg("--preview").run();
        run.assert_code(5)
            .assert_logged("the preview of the agent's branch: the job completed with a PR, but its answer names no usable branch");
        assert_eq!(count(&server, "POST", PREVIEW_PATH).await, 0);
        assert_eq!(run.outputs()["pr_link"], PR_LINK);
    }
}

#[tokio::test]
async fn a_job_whose_branch_was_redacted_builds_no_preview() {
    // A branch named with part of the key reaches the gate as `<redacted>`: no branch to build.
    let secret = &KEY["mint_".len()..];
    for git_ref in [
        format!("docs/{secret}"),
        format!("docs/{}", &secret[..8]),
        format!(
            "docs/x\\u{:04x}{}",
            u32::from(secret.as_bytes()[0]),
            &secret[1..9]
        ),
    ] {
        let mut completed = job("completed", Some(PR_LINK)).to_string();
        completed = completed.replace(r#""ref":"main""#, &format!(r#""ref":"{git_ref}""#));
        assert!(completed.contains(&git_ref), "{completed}");
        let answer = ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .set_body_string(completed);
        let server = api([answer]).await;
        script(&server, "POST", PREVIEW_PATH, [preview_triggered()]).await;
        let run = Gate::new(&server.uri()).arg("--preview").run();
        run.assert_code(5).assert_logged(
            "names no usable branch (source.ref absent, with whitespace or control characters, or redacted for holding part of the key)",
        );
        assert_eq!(count(&server, "POST", PREVIEW_PATH).await, 0, "{git_ref}");
        assert_eq!(run.outputs()["pr_link"], PR_LINK);
        assert_eq!(run.outputs()["result"], "api_error");
    }
}

#[tokio::test]
async fn a_trigger_rate_limited_until_the_deadline_is_a_timeout_that_says_so() {
    // Without Retry-After, a preview waits out its published rate (12 s), past this deadline:
    // the run sleeps to the deadline with no request in flight, and says it never got through.
    let server = MockServer::start().await;
    script(&server, "POST", PREVIEW_PATH, [ResponseTemplate::new(429)]).await;
    let run = gate(&server)
        .env("MINTLIFY_PREVIEW_BRANCH", "main")
        .env("MINTLIFY_TIMEOUT", "300ms")
        .run();
    run.assert_code(4).assert_logged(
        "the preview of branch \"main\" was not triggered before the deadline of 300ms; last problem: the API is rate limiting (HTTP 429)",
    );
    assert_eq!(count(&server, "POST", PREVIEW_PATH).await, 1);
    assert_eq!(run.outputs()["deployment_id"], "");
}

#[tokio::test]
async fn a_trigger_redirected_may_have_been_queued() {
    let server = MockServer::start().await;
    let moved = ResponseTemplate::new(307).insert_header("location", "https://elsewhere.example/x");
    script(&server, "POST", UPDATE_PATH, [moved]).await;
    let run = gate(&server).env("MINTLIFY_DEPLOY", "true").run();
    run.assert_code(5).assert_logged(
        "the request to trigger a production deployment was answered with a redirect (HTTP 307) to https://elsewhere.example/x, which is not followed",
    );
    assert_eq!(count(&server, "POST", UPDATE_PATH).await, 1);
}

#[tokio::test]
async fn a_status_given_twice_is_never_taken() {
    let server = MockServer::start().await;
    let twice = ResponseTemplate::new(200)
        .set_body_string(r#"{"_id":"st_1","status":"in_progress","status":"success"}"#);
    script(&server, "GET", STATUS_PATH, [twice]).await;
    let run = gate(&server)
        .env("MINTLIFY_DEPLOYMENT_ID", "st_1")
        .env("MINTLIFY_TIMEOUT", "300ms")
        .run();
    run.assert_code(5).assert_logged(
        "never with a deployment's status (the answer gives status twice, so what it says depends on the reader)",
    );
    run.assert_logged("so it is not a deployment's status; trying again");
    assert!(!run.stderr.contains("not a job"), "{}", run.stderr);
    assert_eq!(run.outputs()["deployment_status"], "");
    assert!(count(&server, "GET", STATUS_PATH).await >= 2);
}

#[tokio::test]
async fn a_subject_set_to_nothing_beside_another_is_refused_and_nothing_is_sent() {
    /// The setting set to nothing, the others set, and the one it is refused beside.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    // A completed job with a PR: any run that took the empty setting as unset would pass.
    let server = finished_api().await;
    let cases: [Case<'_>; 7] = [
        ("MINTLIFY_PREVIEW_BRANCH", &[], "MINTLIFY_JOB_ID"),
        // A follow-up whose prompt came out empty never becomes a watch of the old status.
        ("MINTLIFY_PROMPT", &[], "MINTLIFY_JOB_ID"),
        ("MINTLIFY_PROMPT_FILE", &[], "MINTLIFY_JOB_ID"),
        ("MINTLIFY_DEPLOYMENT_ID", &[], "MINTLIFY_JOB_ID"),
        ("MINTLIFY_AUTOMATION_ID", &[], "MINTLIFY_JOB_ID"),
        (
            "MINTLIFY_JOB_ID",
            &[("MINTLIFY_PROMPT", "Go")],
            "MINTLIFY_PROMPT",
        ),
        (
            "MINTLIFY_JOB_ID",
            &[("MINTLIFY_DEPLOY", "true")],
            "MINTLIFY_DEPLOY",
        ),
    ];
    for (empty, others, beside) in cases {
        for value in ["", " \t"] {
            let mut gate = Gate::new(&server.uri()).env(empty, value);
            for (name, value) in others {
                gate = gate.env(name, value);
            }
            let run = gate.run();
            run.assert_code(2).assert_logged(&format!(
                "{empty} is set but empty or blank beside {beside}, which chooses what the run is about: unset {empty} if the run is about {beside}; if {empty} should hold a value, the expression that fills it came out empty"
            ));
            assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
            assert!(run.file("output").is_none(), "outputs written for {empty}");
        }
    }
    let run = Gate::new(&server.uri()).arg("--preview-branch=").run();
    run.assert_code(2).assert_logged(
        "--preview-branch is set but empty or blank beside MINTLIFY_JOB_ID, which chooses what the run is about: drop --preview-branch",
    );
    assert_eq!(all_requests(&server).await, Vec::<String>::new());
}

#[tokio::test]
async fn an_empty_flag_over_a_variable_that_chooses_says_to_unset_it_too() {
    let server = finished_api().await;
    // Dropping the flag alone would send the variable's prompt to the job as a follow-up.
    let run = Gate::new(&server.uri())
        .env("MINTLIFY_PROMPT", "Go")
        .arg("--prompt=")
        .run();
    run.assert_code(2).assert_logged(
        "--prompt is set but empty or blank beside MINTLIFY_JOB_ID, which chooses what the run is about: drop --prompt and unset MINTLIFY_PROMPT, which it overrides, if the run is about MINTLIFY_JOB_ID",
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert_eq!(all_requests(&server).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_subject_set_to_nothing_alone_is_named() {
    let server = MockServer::start().await;
    for empty in [
        "MINTLIFY_JOB_ID",
        "MINTLIFY_PROMPT",
        "MINTLIFY_PROMPT_FILE",
        "MINTLIFY_PREVIEW_BRANCH",
        "MINTLIFY_DEPLOYMENT_ID",
        "MINTLIFY_AUTOMATION_ID",
    ] {
        let run = gate(&server).env(empty, "").run();
        run.assert_code(2).assert_logged(&format!(
            "MINTLIFY_JOB_ID (or --job-id) is not set ({empty} is empty, which counts as not set: if it should hold a value, the expression that fills it came out empty): set it"
        ));
        assert!(run.file("output").is_none(), "outputs written for {empty}");
    }
    assert_eq!(all_requests(&server).await, Vec::<String>::new());
}
