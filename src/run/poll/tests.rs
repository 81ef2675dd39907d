//! The schedule on tokio's paused clock: minutes of polling run in microseconds, and the times
//! asserted are exact, not lucky.

use std::cell::RefCell;
use std::collections::VecDeque;

use super::*;
use crate::api::classify::Origin;
use crate::api::failure::{NotAJob, Refusal, Transient, Trouble};
use crate::api::job::{Job, Status};
use crate::run::outcome::Outcome;
use crate::run::progress::CREATED_NOT_FOUND_GRACE;
use crate::watch::job::FOLLOW_UP_GRACE;
use crate::watch::job::Judging;
use crate::watch::{self, Verdict};
use crate::watch::{Watching, deployment};

/// A run about the agent job `id`.
fn job_progress(id: Option<&str>) -> Progress {
    Progress::of(Watching::Job(watch::job::Watch::new(id)))
}

enum Step {
    Answer(Result<Job, Failure>),
    /// A request that never gets an answer.
    Hang,
}

struct Script {
    steps: RefCell<VecDeque<Step>>,
    calls: RefCell<Vec<Instant>>,
    start: Instant,
}

impl Script {
    fn new(steps: impl IntoIterator<Item = Step>) -> Self {
        Script {
            steps: RefCell::new(steps.into_iter().collect()),
            calls: RefCell::default(),
            start: Instant::now(),
        }
    }

    /// Seconds from the start to each request.
    fn call_times(&self) -> Vec<f64> {
        self.calls
            .borrow()
            .iter()
            .map(|t| t.duration_since(self.start).as_secs_f64())
            .collect()
    }
}

impl Script {
    async fn fetch(&self) -> Result<Job, Failure> {
        self.calls.borrow_mut().push(Instant::now());
        // Once the script runs out, the job stays active.
        let step = self
            .steps
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| status("active"));
        match step {
            Step::Answer(answer) => answer,
            Step::Hang => std::future::pending().await,
        }
    }
}

fn status(status: &str) -> Step {
    let body = serde_json::json!({ "status": status });
    Step::Answer(Ok(Job::read(body).unwrap()))
}

fn transient(retry_after: Option<u64>) -> Step {
    Step::Answer(Err(Failure::Transient(Transient {
        trouble: Trouble::RateLimited,
        retry_after: retry_after.map(Duration::from_secs),
        reached: true,
    })))
}

fn settings(deadline_secs: u64) -> PollSettings {
    PollSettings {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(10),
        deadline: Instant::now() + Duration::from_secs(deadline_secs),
    }
}

/// How a poll of the job ended: its verdict, or how the wait ended without one.
type Ended = Result<watch::job::Verdict, Ending>;

/// Final statuses pass, to tell them apart.
const LENIENT: Judging = Judging {
    allow_archived: true,
    require_pr: false,
};

async fn run(script: &Script, settings: &PollSettings) -> Ended {
    poll(script, settings, &mut job_progress(Some("job_1"))).await
}

async fn poll(script: &Script, settings: &PollSettings, progress: &mut Progress) -> Ended {
    poll_judged(script, settings, LENIENT, progress).await
}

async fn poll_judged(
    script: &Script,
    settings: &PollSettings,
    judging: Judging,
    progress: &mut Progress,
) -> Ended {
    let fetch = async |_: &Progress| script.fetch().await;
    watch::job::poll(fetch, judging, settings, progress).await
}

/// Whether the poll ended on a final status, and which.
fn final_status(ended: &Ended) -> Option<&str> {
    ended.as_ref().ok().map(|verdict| verdict.result())
}

fn gaps(times: &[f64]) -> Vec<f64> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

fn assert_near(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= expected * 0.1 + 1e-6,
        "{actual} is not {expected} ±10%"
    );
}

#[tokio::test(start_paused = true)]
async fn first_poll_at_once_then_doubling_waits_capped_at_ten_seconds() {
    let mut steps: Vec<Step> = (0..7).map(|_| status("active")).collect();
    steps.push(status("completed"));
    let script = Script::new(steps);
    let ending = run(&script, &settings(1800)).await;
    assert!(final_status(&ending) == Some("completed"), "{ending:?}");
    let times = script.call_times();
    assert!(times[0].abs() < f64::EPSILON, "{times:?}");
    let gaps = gaps(&times);
    assert_eq!(gaps.len(), 7);
    for (gap, expected) in gaps.iter().zip([1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]) {
        assert_near(*gap, expected);
    }
    let calls = script.calls.borrow();
    for pair in calls.windows(2) {
        assert!(
            pair[1] - pair[0] <= Duration::from_secs(10),
            "a wait passed the cap: {:?}",
            pair[1] - pair[0]
        );
    }
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_on_the_same_schedule() {
    let script = Script::new([transient(None), transient(None), status("failed")]);
    let ending = run(&script, &settings(1800)).await;
    assert!(final_status(&ending) == Some("failed"));
    let gaps = gaps(&script.call_times());
    assert_near(gaps[0], 1.0);
    assert_near(gaps[1], 2.0);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_above_the_cap() {
    let script = Script::new([transient(Some(30)), status("completed")]);
    let ending = run(&script, &settings(1800)).await;
    assert_eq!(final_status(&ending), Some("completed"), "{ending:?}");
    let gaps = gaps(&script.call_times());
    assert!(
        gaps[0] >= 30.0 && gaps[0] < 30.1,
        "waited {}s for a Retry-After of 30s",
        gaps[0]
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_past_the_deadline_ends_the_run_at_once() {
    let script = Script::new([transient(Some(600))]);
    let start = Instant::now();
    let ending = run(&script, &settings(60)).await;
    assert!(
        matches!(ending, Err(Ending::TimedOut(Timeout::RetryAfter(d))) if d == Duration::from_secs(600)),
        "{ending:?}"
    );
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(script.call_times().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_absurd_retry_after_ends_the_run_without_overflow() {
    let script = Script::new([transient(Some(u64::MAX))]);
    let ending = run(&script, &settings(60)).await;
    assert!(
        matches!(ending, Err(Ending::TimedOut(Timeout::RetryAfter(_)))),
        "{ending:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_ends_the_run_exactly_and_no_request_follows_it() {
    let script = Script::new([]);
    let start = Instant::now();
    let ending = run(&script, &settings(60)).await;
    assert!(
        matches!(ending, Err(Ending::TimedOut(Timeout::Deadline))),
        "{ending:?}"
    );
    assert_eq!(start.elapsed(), Duration::from_secs(60));
    assert!(script.call_times().iter().all(|&t| t < 60.0));
}

#[tokio::test(start_paused = true)]
async fn a_request_in_flight_is_cut_off_by_the_deadline() {
    let script = Script::new([status("active"), Step::Hang]);
    let start = Instant::now();
    let ending = run(&script, &settings(5)).await;
    assert!(
        matches!(ending, Err(Ending::TimedOut(Timeout::Deadline))),
        "{ending:?}"
    );
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert_eq!(script.call_times().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_permanent_failure_stops_at_once() {
    let refusal = Refusal::Client("refused".into());
    let script = Script::new([Step::Answer(Err(Failure::Permanent(refusal.clone())))]);
    let ending = run(&script, &settings(1800)).await;
    assert!(
        matches!(ending, Err(Ending::Refused(ref p)) if *p == refusal),
        "{ending:?}"
    );
    assert_eq!(script.call_times(), vec![0.0]);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_status_keeps_the_poll_going() {
    let script = Script::new([status("queued"), status("queued"), status("archived")]);
    let mut progress = job_progress(Some("job_1"));
    let ending = poll(&script, &settings(1800), &mut progress).await;
    assert!(final_status(&ending) == Some("archived"));
    assert_eq!(progress.polls, 3);
}

#[tokio::test(start_paused = true)]
async fn after_a_follow_up_a_final_status_counts_once_active_was_seen() {
    let script = Script::new([
        status("completed"),
        status("completed"),
        status("active"),
        status("failed"),
    ]);
    let mut progress = job_progress(Some("job_1"));
    watch::job::Watch::followed_up(&mut progress);
    let ending = poll(&script, &settings(1800), &mut progress).await;
    assert_eq!(final_status(&ending), Some("failed"), "{ending:?}");
    assert_eq!(script.call_times().len(), 4);
}

#[tokio::test(start_paused = true)]
async fn after_a_follow_up_a_final_status_never_left_counts_after_the_grace() {
    let script = Script::new((0..20).map(|_| status("completed")));
    let mut progress = job_progress(Some("job_1"));
    let start = Instant::now();
    watch::job::Watch::followed_up(&mut progress);
    let ending = poll(&script, &settings(1800), &mut progress).await;
    assert_eq!(final_status(&ending), Some("completed"), "{ending:?}");
    let waited = start.elapsed();
    assert!(
        waited >= FOLLOW_UP_GRACE && waited < FOLLOW_UP_GRACE + Duration::from_secs(11),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_start_repeats_only_transient_failures_and_is_marked_in_flight() {
    let script = Script::new([transient(None), status("active")]);
    let mut progress = job_progress(None);
    let in_flight = std::cell::Cell::new(Vec::new());
    let send = async |progress: &Progress| {
        let mut seen = in_flight.take();
        seen.push(progress.start_in_flight());
        in_flight.set(seen);
        script.fetch().await
    };
    let job = send_until_answered(send, Start::Create, &settings(1800), &mut progress)
        .await
        .unwrap();
    assert_eq!(job.status, Some(Status::Active));
    assert_eq!(in_flight.take(), [Some(Start::Create); 2]);
    assert_eq!(progress.start_in_flight(), None);
    assert_eq!(progress.polls, 0);
    assert_near(gaps(&script.call_times())[0], 1.0);
}

#[tokio::test(start_paused = true)]
async fn a_start_is_not_cut_off_by_the_poll_deadline() {
    // The request itself ends by the deadline (the client caps its timeout), so that a start
    // in flight then is reported as uncertain rather than as a timeout.
    let script = Script::new([Step::Hang]);
    let mut progress = job_progress(None);
    let send = async |_: &Progress| {
        tokio::time::timeout(Duration::from_secs(90), script.fetch())
            .await
            .unwrap_or(Err(Failure::Permanent(Refusal::Client("uncertain".into()))))
    };
    let ending = send_until_answered(send, Start::Create, &settings(60), &mut progress).await;
    assert!(
        matches!(ending, Err(Ending::Refused(Refusal::Client(ref why))) if why == "uncertain"),
        "{ending:?}"
    );
}

/// The log lines written while `body` runs, as the binary formats them.
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_heartbeat_about_once_a_minute_keeps_the_log_alive() {
    let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || Captured(writer.clone()))
        .with_ansi(false)
        .without_time()
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let script = Script::new([]);
    let ending = run(&script, &settings(300)).await;
    assert!(matches!(ending, Err(Ending::TimedOut(Timeout::Deadline))));
    let log = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    let heartbeats: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("still active after"))
        .collect();
    // Polls at most 10 s apart and a beat once 60 s have passed: at 60-70 s, 120-140 s, ...
    assert_eq!(heartbeats.len(), 4, "{log}");
    assert!(
        heartbeats[0].contains("INFO") && heartbeats[0].contains("next check in"),
        "{}",
        heartbeats[0]
    );
}

#[tokio::test(start_paused = true)]
async fn a_job_this_run_created_stays_its_own_after_the_grace() {
    let mut progress = job_progress(Some("job_1"));
    let origin = |progress: &Progress| watch::job::Watch::of(progress).unwrap().origin();
    assert_eq!(origin(&progress), Origin::Given);
    watch::job::Watch::created(&mut progress, Some("job_1".to_owned()));
    assert_eq!(origin(&progress), Origin::CreatedMomentsAgo);
    tokio::time::advance(CREATED_NOT_FOUND_GRACE).await;
    assert_eq!(origin(&progress), Origin::Created);
}

/// A poll run on the script to its end, and the verdict it gives.
async fn verdict(steps: Vec<Step>, deadline_secs: u64, progress: &mut Progress) -> Outcome {
    let script = Script::new(steps);
    let judging = Judging {
        allow_archived: false,
        require_pr: true,
    };
    match poll_judged(&script, &settings(deadline_secs), judging, progress).await {
        Ok(verdict) => Outcome::Ended(Verdict::Job(verdict)),
        Err(ending) => Outcome::of(ending, progress),
    }
}

fn failure(trouble: Trouble, reached: bool) -> Step {
    Step::Answer(Err(Failure::Transient(Transient {
        trouble,
        retry_after: None,
        reached,
    })))
}

#[tokio::test(start_paused = true)]
async fn only_failed_connects_until_the_deadline_say_unreachable() {
    let refused = || failure(Trouble::RateLimited, false);
    let mut progress = job_progress(Some("job_1"));
    let outcome = verdict((0..5).map(|_| refused()).collect(), 3, &mut progress).await;
    assert_eq!(outcome, Outcome::TimedOut(Timeout::Unreachable));
}

#[tokio::test(start_paused = true)]
async fn a_failed_connect_after_an_answer_is_a_plain_timeout() {
    let steps = vec![status("active"), failure(Trouble::RateLimited, false)];
    let mut progress = job_progress(Some("job_1"));
    let outcome = verdict(steps, 3, &mut progress).await;
    assert_eq!(outcome, Outcome::TimedOut(Timeout::Deadline));
}

#[tokio::test(start_paused = true)]
async fn answers_that_were_never_a_job_are_an_api_error_not_a_timeout() {
    let not_a_job = || failure(Trouble::NotAJob(NotAJob::NotAnObject), true);
    let mut progress = job_progress(Some("job_1"));
    let outcome = verdict((0..5).map(|_| not_a_job()).collect(), 3, &mut progress).await;
    assert_eq!(
        outcome,
        Outcome::ApiError(Refusal::NeverAJob {
            reason: NotAJob::NotAnObject
        })
    );
}

#[tokio::test(start_paused = true)]
async fn answers_never_a_status_of_a_watched_deployment_are_an_api_error() {
    let not_a_status = || failure(Trouble::NotAStatus(NotAJob::NoStatus), true);
    let mut progress = Progress::of(Watching::Deployment(deployment::Watch::given("status_1")));
    let outcome = verdict((0..5).map(|_| not_a_status()).collect(), 3, &mut progress).await;
    assert_eq!(
        outcome,
        Outcome::ApiError(Refusal::NeverAStatus {
            reason: NotAJob::NoStatus
        })
    );
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_past_the_deadline_is_its_own_timeout() {
    let mut progress = job_progress(Some("job_1"));
    let outcome = verdict(vec![transient(Some(600))], 30, &mut progress).await;
    assert_eq!(
        outcome,
        Outcome::TimedOut(Timeout::RetryAfter(Duration::from_secs(600)))
    );
}

#[tokio::test(start_paused = true)]
async fn a_final_status_is_judged_by_the_settings() {
    let mut progress = job_progress(Some("job_1"));
    let outcome = verdict(vec![status("completed")], 3, &mut progress).await;
    assert_eq!(
        outcome,
        Outcome::Ended(Verdict::Job(watch::job::Verdict::CompletedWithoutPr))
    );
    let mut progress = job_progress(Some("job_1"));
    let outcome = verdict(vec![status("archived")], 3, &mut progress).await;
    assert_eq!(
        outcome,
        Outcome::Ended(Verdict::Job(watch::job::Verdict::Archived {
            allowed: false
        }))
    );
}
