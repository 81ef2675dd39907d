//! Waiting on a deployment on tokio's paused clock, through the one retry loop.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Duration;

use super::*;
use crate::api::failure::{Refusal, Trouble};
use crate::watch::Watching;

struct Script {
    answers: RefCell<VecDeque<Result<Deployment, Failure>>>,
    calls: RefCell<Vec<Instant>>,
    start: Instant,
}

impl Script {
    fn new(answers: impl IntoIterator<Item = Result<Deployment, Failure>>) -> Self {
        Script {
            answers: RefCell::new(answers.into_iter().collect()),
            calls: RefCell::default(),
            start: Instant::now(),
        }
    }

    fn fetch(&self) -> Result<Deployment, Failure> {
        self.calls.borrow_mut().push(Instant::now());
        self.answers
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| Ok(status("in_progress")))
    }

    /// Seconds between one request and the next, the first counted from the start.
    fn gaps(&self) -> Vec<f64> {
        let calls = self.calls.borrow();
        std::iter::once(self.start)
            .chain(calls.iter().copied())
            .collect::<Vec<_>>()
            .windows(2)
            .map(|pair| pair[1].duration_since(pair[0]).as_secs_f64())
            .collect()
    }

    /// Asserts the waits are the schedule's, within its ±10 % jitter.
    fn assert_gaps(&self, expected: &[f64]) {
        let gaps = self.gaps();
        assert_eq!(gaps.len(), expected.len(), "{gaps:?}");
        for (gap, expected) in gaps.iter().zip(expected) {
            assert!(
                (gap - expected).abs() <= expected * 0.1 + 1e-6,
                "{gaps:?} is not {expected:?} ±10%"
            );
        }
    }
}

fn status(status: &str) -> Deployment {
    Deployment::read(serde_json::json!({ "_id": "st_1", "status": status })).unwrap()
}

fn settings(deadline_secs: u64) -> PollSettings {
    PollSettings {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(10),
        deadline: Instant::now() + Duration::from_secs(deadline_secs),
    }
}

fn watching() -> Progress {
    Progress::of(Watching::Deployment(Watch::given("st_1")))
}

fn watched(progress: &Progress) -> &Watch {
    Watch::current(progress).unwrap()
}

#[tokio::test(start_paused = true)]
async fn polls_on_the_backoff_schedule_until_success() {
    let script = Script::new([
        Ok(status("queued")),
        Ok(status("in_progress")),
        Ok(status("in_progress")),
        Ok(status("in_progress")),
        Ok(status("in_progress")),
        Ok(status("in_progress")),
        Ok(status("success")),
    ]);
    let mut progress = watching();
    let ended = poll(
        async |_: &Progress| script.fetch(),
        &settings(600),
        &mut progress,
    )
    .await;
    assert!(matches!(ended, Ok(Verdict::Succeeded)), "{ended:?}");
    // 1, 2, 4, 8, then the 10 s cap, from the first read at once.
    script.assert_gaps(&[0.0, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]);
    let watched = watched(&progress);
    assert_eq!(watched.status_text(), Some("success"));
    assert!(watched.read_one);
}

#[tokio::test(start_paused = true)]
async fn a_failure_ends_the_wait_and_an_unknown_status_does_not() {
    let script = Script::new([Ok(status("deployed")), Ok(status("failure"))]);
    let mut progress = watching();
    let ended = poll(
        async |_: &Progress| script.fetch(),
        &settings(600),
        &mut progress,
    )
    .await;
    assert!(matches!(ended, Ok(Verdict::Failed)), "{ended:?}");
    script.assert_gaps(&[0.0, 1.0]);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_ends_a_deployment_still_in_progress() {
    let script = Script::new([Ok(status("queued"))]);
    let mut progress = watching();
    let started = Instant::now();
    let ended = poll(
        async |_: &Progress| script.fetch(),
        &settings(30),
        &mut progress,
    )
    .await;
    assert!(
        matches!(ended, Err(Ending::TimedOut(Timeout::Deadline))),
        "{ended:?}"
    );
    assert_eq!(
        Instant::now().duration_since(started),
        Duration::from_secs(30)
    );
    assert_eq!(script.gaps().len(), 6);
    assert_eq!(watched(&progress).status_text(), Some("in_progress"));
}

#[tokio::test(start_paused = true)]
async fn a_refusal_stops_at_once_and_trouble_is_retried() {
    let rate_limited = Err(Failure::transient(
        Trouble::RateLimited,
        Some(Duration::from_secs(20)),
        true,
    ));
    let refused = Err(Failure::Permanent(Refusal::DeploymentNotFound {
        id: "st_1".into(),
        words: crate::api::failure::Words::default(),
    }));
    let script = Script::new([rate_limited, refused]);
    let mut progress = watching();
    let ended = poll(
        async |_: &Progress| script.fetch(),
        &settings(600),
        &mut progress,
    )
    .await;
    assert!(
        matches!(
            ended,
            Err(Ending::Refused(Refusal::DeploymentNotFound { .. }))
        ),
        "{ended:?}"
    );
    // Retry-After is honoured above the schedule's first wait.
    script.assert_gaps(&[0.0, 20.0]);
    assert!(!watched(&progress).read_one);
}

#[tokio::test(start_paused = true)]
async fn a_fresh_trigger_is_new_for_the_grace_period_only() {
    let deploy = Deploy::Production;
    let mut progress = Progress::of(Watching::Deployment(Watch::to_trigger(deploy.clone())));
    assert_eq!(watched(&progress).origin(), Origin::Given);
    let answer = serde_json::json!({ "statusId": "st_1" });
    let triggered = crate::api::deployment::Triggered::read(answer).unwrap();
    Watch::triggered(&mut progress, &deploy, &triggered);
    assert_eq!(watched(&progress).origin(), Origin::CreatedMomentsAgo);
    tokio::time::advance(crate::run::progress::CREATED_NOT_FOUND_GRACE).await;
    assert_eq!(watched(&progress).origin(), Origin::Created);
}

#[tokio::test(start_paused = true)]
async fn nothing_is_triggered_once_the_deadline_has_passed() {
    let config = crate::settings::Config::example();
    let client = Client::new(&config).unwrap();
    let mut progress = Progress::of(Watching::Deployment(Watch::agent_preview()));
    let deploy = Deploy::Preview {
        branch: "main".into(),
    };
    let ended = trigger(&client, &deploy, &settings(0), &mut progress).await;
    assert!(
        matches!(ended, Err(Ending::TimedOut(Timeout::Deadline))),
        "{ended:?}"
    );
    assert!(watched(&progress).id.is_none() && progress.start_in_flight().is_none());
}

/// After a 429 without `Retry-After`, a trigger waits out its published rate; the agent's
/// create keeps the schedule.
#[tokio::test(start_paused = true)]
async fn a_rate_limited_trigger_waits_for_its_published_rate() {
    for (start, expected) in [
        (Start::Preview, 12.0),
        (Start::Update, 1.0),
        (Start::Automation, 1.0),
        (Start::Create, 1.0),
    ] {
        let answers = RefCell::new(VecDeque::from([
            Err(Failure::transient(Trouble::RateLimited, None, true)),
            Ok(()),
        ]));
        let calls = RefCell::new(Vec::new());
        let send = async |_: &Progress| {
            calls.borrow_mut().push(Instant::now());
            answers.borrow_mut().pop_front().unwrap_or(Ok(()))
        };
        let mut progress = Progress::of(Watching::Deployment(Watch::agent_preview()));
        send_until_answered(send, start, &settings(600), &mut progress)
            .await
            .unwrap();
        let calls = calls.borrow();
        let gap = calls[1].duration_since(calls[0]).as_secs_f64();
        assert!(
            (gap - expected).abs() <= expected * 0.1 + 1e-6,
            "{start:?}: {gap}"
        );
    }
}

#[test]
fn every_verdict_has_the_documented_code_and_result() {
    assert_eq!(
        (
            Verdict::Succeeded.exit().code(),
            Verdict::Succeeded.result()
        ),
        (0, "deployed")
    );
    assert_eq!(
        (Verdict::Failed.exit().code(), Verdict::Failed.result()),
        (8, "deployment_failed")
    );
}
