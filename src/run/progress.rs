//! What a run has seen so far, whatever it waits on: the polls, whether the API was ever
//! reached, the last trouble, a start in flight, and the stages of the run (an agent job, then
//! its preview), each holding its own kind's watch state. It outlives the poll so a cancelled
//! run can still report.

use std::time::Duration;

use tokio::time::Instant;
use tracing::warn;

use crate::api::classify::{Origin, Start};
use crate::api::failure::{NotAJob, Trouble};
use crate::settings::Task;
use crate::watch::Watching;

pub(crate) struct Progress {
    pub polls: u32,
    pub started: Instant,
    /// A connection to the API was made at least once.
    reached: bool,
    /// A connection to the API failed at least once.
    connect_failed: bool,
    /// Why the last answer of the current stage that was not one of its answers was not.
    not_one: Option<NotAJob>,
    /// The last failure that was retried, unless an answer came after it: a verdict says what
    /// went wrong.
    last_trouble: Option<Trouble>,
    /// A start request is in flight: if the run ends now, its fate is unknown.
    start_in_flight: Option<Start>,
    /// What the run waited on first.
    first: Stage,
    /// What it waited on after, in the order it began: the last is the current one.
    then: Vec<Stage>,
    said: Vec<String>,
}

struct Stage {
    /// The run's polls before this stage's first: a preview after the agent's job counts its
    /// own.
    polls_before: u32,
    watching: Watching,
}

impl Progress {
    /// A run about `task`, which names its first stage.
    pub(crate) fn new(task: &Task) -> Self {
        Progress::of(Watching::first(task))
    }

    pub(crate) fn of(first: Watching) -> Self {
        Progress {
            polls: 0,
            started: Instant::now(),
            reached: false,
            connect_failed: false,
            not_one: None,
            last_trouble: None,
            start_in_flight: None,
            first: Stage {
                polls_before: 0,
                watching: first,
            },
            then: Vec::new(),
            said: Vec::new(),
        }
    }

    /// The run waits on `next` from now on: what was not an answer before says nothing about
    /// it.
    pub(crate) fn begin(&mut self, next: Watching) {
        self.not_one = None;
        self.then.push(Stage {
            polls_before: self.polls,
            watching: next,
        });
    }

    /// What the run waits on now.
    pub(crate) fn current(&self) -> &Watching {
        &self.then.last().unwrap_or(&self.first).watching
    }

    pub(crate) fn current_mut(&mut self) -> &mut Watching {
        &mut self.then.last_mut().unwrap_or(&mut self.first).watching
    }

    /// Each stage in the order it began, with its share of the run's polls.
    pub(crate) fn stages(&self) -> impl Iterator<Item = (&Watching, u32)> {
        let stages = || std::iter::once(&self.first).chain(&self.then);
        let ends = stages().skip(1).map(|next| next.polls_before);
        let ends = ends.chain(std::iter::once(self.polls));
        stages()
            .zip(ends)
            .map(|(stage, end)| (&stage.watching, end.saturating_sub(stage.polls_before)))
    }

    /// An answer came: the API is reachable, and the trouble before it is past.
    pub(crate) fn answered(&mut self) {
        self.reached = true;
        self.last_trouble = None;
    }

    /// A request failed in a way worth another try; `reached` if it connected first.
    pub(crate) fn failed(&mut self, trouble: Trouble, reached: bool) {
        self.reached |= reached;
        self.connect_failed |= !reached;
        if let Trouble::NotAJob(reason) | Trouble::NotAStatus(reason) = &trouble {
            self.not_one = Some(reason.clone());
        }
        self.last_trouble = Some(trouble);
    }

    /// The deadline cut off a poll in flight: that says less than the failure before it.
    pub(crate) fn cut_off(&mut self) {
        self.last_trouble.get_or_insert(Trouble::Deadline);
    }

    /// The deadline cut off a request while it was still connecting: it never reached the API.
    pub(crate) fn cut_off_connecting(&mut self) {
        self.connect_failed = true;
    }

    /// Only failures to connect say the API is unreachable: a request cut off in flight by
    /// the deadline says nothing either way.
    pub(crate) fn never_reached(&self) -> bool {
        !self.reached && self.connect_failed
    }

    /// Why the answers of the current stage were never one of its answers, when none was.
    pub(crate) fn never_read(&self) -> Option<&NotAJob> {
        self.not_one
            .as_ref()
            .filter(|_| !self.current().stage().read_one())
    }

    /// The last failure that was retried, unless an answer came after it.
    pub(crate) fn last_trouble(&self) -> Option<&Trouble> {
        self.last_trouble.as_ref()
    }

    /// Marks a start request in flight, or none.
    pub(crate) fn sending(&mut self, start: Option<Start>) {
        self.start_in_flight = start;
    }

    /// The start request in flight, if any: if the run ends now, its fate is unknown.
    pub(crate) fn start_in_flight(&self) -> Option<Start> {
        self.start_in_flight
    }

    /// What the run waits on now, as a log line names it.
    pub(crate) fn subject(&self) -> String {
        self.current().stage().who()
    }

    /// The current stage's last status, for a heartbeat.
    pub(crate) fn status(&self) -> String {
        let status = self.current().stage().status();
        status.unwrap_or_else(|| "no status yet".to_owned())
    }

    /// Warns once per run for each distinct thing, however often the server repeats it.
    pub(crate) fn warn_once(&mut self, text: String) {
        if !self.said.contains(&text) {
            warn!("{}: {text}", self.subject());
            self.said.push(text);
        }
    }
}

/// How long after a create or a trigger a 404 on what it started is taken as "not readable
/// yet".
pub(crate) const CREATED_NOT_FOUND_GRACE: Duration = Duration::from_secs(30);

/// Where what is asked about came from, by when this run started it (a job it created, a
/// deployment it triggered), which decides what a 404 on it means.
pub(crate) fn origin(started_at: Option<Instant>) -> Origin {
    let Some(at) = started_at else {
        return Origin::Given;
    };
    match at.checked_add(CREATED_NOT_FOUND_GRACE) {
        Some(until) if Instant::now() < until => Origin::CreatedMomentsAgo,
        _ => Origin::Created,
    }
}
