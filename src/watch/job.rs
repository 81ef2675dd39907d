//! The agent job as a run waits on it.

use std::time::Duration;

use tokio::time::Instant;
use tracing::{debug, info};

use crate::api::classify::{Call, Origin, Start};
use crate::api::client::Client;
use crate::api::failure::{Failure, NotAJob, Refusal};
use crate::api::job::{Final, Job, Status};
use crate::run::outcome::Exit;
use crate::run::poll::{Ending, PollSettings, repeat, send_until_answered};
use crate::run::progress::{self, Progress};
use crate::settings::Task;
use crate::settings::duration;
use crate::text::sanitize::{quoted, untrusted};
use crate::watch::Watching;

/// How long after a follow-up a final status from before it is not trusted, unless the job
/// reports `active` in between.
pub(crate) const FOLLOW_UP_GRACE: Duration = Duration::from_mins(1);

/// The agent job a run waits on, and what has been seen of it.
pub(crate) struct Watch {
    /// The job's id as given or as created: `None` until a created job has one.
    pub id: Option<String>,
    pub last: Option<Job>,
    /// A poll was answered with a job, whatever its status.
    read_one: bool,
    /// When this run created the job: its first reads may not find it yet.
    created_at: Option<Instant>,
    /// After a follow-up, until when a final status without `active` before it is stale.
    stale_until: Option<Instant>,
}

impl Watch {
    pub(crate) fn new(id: Option<&str>) -> Watch {
        Watch {
            id: id.map(str::to_owned),
            last: None,
            read_one: false,
            created_at: None,
            stale_until: None,
        }
    }

    /// The agent job of the run, if it is about one.
    pub(crate) fn of(progress: &Progress) -> Option<&Watch> {
        progress.stages().find_map(|(stage, _)| match stage {
            Watching::Job(watch) => Some(watch),
            _ => None,
        })
    }

    fn current_mut(progress: &mut Progress) -> Option<&mut Watch> {
        match progress.current_mut() {
            Watching::Job(watch) => Some(watch),
            _ => None,
        }
    }

    /// The job as log lines name it.
    pub(crate) fn label(&self) -> String {
        self.id
            .as_deref()
            .map_or_else(|| "(new)".to_owned(), untrusted)
    }

    /// The last status seen.
    pub(crate) fn last_status(&self) -> Option<&Status> {
        self.last.as_ref().and_then(|job| job.status.as_ref())
    }

    /// A follow-up was sent and the job has not been seen active since: its status may be the
    /// one from before.
    pub(crate) fn not_active_since_follow_up(&self) -> bool {
        self.stale_until.is_some()
    }

    /// Whether this run created the job, and how long ago.
    pub(crate) fn origin(&self) -> Origin {
        progress::origin(self.created_at)
    }

    /// This run created the job, `id` as the answer gave it: its first reads may not find it
    /// yet.
    pub(crate) fn created(progress: &mut Progress, id: Option<String>) {
        if let Some(watch) = Watch::current_mut(progress) {
            watch.id = id;
            watch.created_at = Some(Instant::now());
        }
    }

    /// A follow-up was sent: until the job turns active, a final status may be the one from
    /// before.
    pub(crate) fn followed_up(progress: &mut Progress) {
        if let Some(watch) = Watch::current_mut(progress) {
            watch.stale_until = Instant::now().checked_add(FOLLOW_UP_GRACE);
        }
    }
}

impl super::Stage for Watch {
    fn who(&self) -> String {
        format!("job {}", self.label())
    }

    fn status(&self) -> Option<String> {
        self.last_status().map(|status| untrusted(status.as_str()))
    }

    fn read_one(&self) -> bool {
        self.read_one
    }

    fn never_read(&self, reason: NotAJob) -> Refusal {
        Refusal::NeverAJob { reason }
    }
}

/// What a final status counts as: the settings that decide it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Judging {
    pub allow_archived: bool,
    pub require_pr: bool,
}

/// Starts the agent when the task asks for it. The job in the answer is the first one seen;
/// its status, if it has one, is returned.
pub(crate) async fn start(
    task: &Task,
    client: &Client,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Result<Option<Status>, Ending> {
    let job: Job = match task {
        Task::Create { prompt } => {
            let create = async |_: &Progress| client.create_job(prompt, settings.deadline).await;
            let job = send_until_answered(create, Start::Create, settings, progress).await?;
            // The classifier accepts a create's answer only with a usable id.
            Watch::created(progress, job.id.clone());
            info!(
                "{}: created from a prompt of {}",
                progress.subject(),
                characters(prompt)
            );
            job
        }
        Task::FollowUp { job_id, prompt } => {
            let send = async |_: &Progress| {
                client
                    .send_follow_up(job_id, prompt, settings.deadline)
                    .await
            };
            let job = send_until_answered(send, Start::FollowUp, settings, progress).await?;
            // Until the job turns active, a final status may be the one from before.
            Watch::followed_up(progress);
            info!(
                "{}: follow-up sent ({})",
                progress.subject(),
                characters(prompt)
            );
            job
        }
        // Only the agent is started here: a job given by its id, or another kind, is not.
        _ => return Ok(None),
    };
    let status = job.status.clone();
    observe(progress, job);
    Ok(status)
}

/// Waits on the job in `progress` through `client` until it reaches a final status.
pub(crate) async fn wait(
    client: &Client,
    judging: Judging,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Result<Verdict, Ending> {
    let Some(job_id) = Watch::of(progress).and_then(|job| job.id.clone()) else {
        let refusal = Refusal::Client("no job id to wait on".to_owned());
        return Err(Ending::Refused(refusal));
    };
    let fetch = async |progress: &Progress| {
        let origin = Watch::of(progress).map_or(Origin::Given, Watch::origin);
        client.get_job(&job_id, origin).await
    };
    poll(fetch, judging, settings, progress).await
}

/// Polls the job at once, then on the schedule, until it reaches a final status.
///
/// `fetch` reads the job once: the HTTP client in a run, a script in tests.
pub(crate) async fn poll(
    fetch: impl AsyncFn(&Progress) -> Result<Job, Failure>,
    judging: Judging,
    settings: &PollSettings,
    progress: &mut Progress,
) -> Result<Verdict, Ending> {
    let finished = |progress: &mut Progress, job: Job| {
        let status = read(progress, job)?;
        let has_pr = Watch::of(progress).and_then(Watch::pr_link).is_some();
        Some(Verdict::of(
            status,
            has_pr,
            judging.allow_archived,
            judging.require_pr,
        ))
    };
    repeat(fetch, finished, Call::Read, settings, progress).await
}

fn characters(text: &str) -> String {
    match text.chars().count() {
        1 => "1 character".to_owned(),
        n => format!("{n} characters"),
    }
}

/// A poll read `job`: the answer the run waits on, whatever its status. Its final status,
/// when it ends the wait.
pub(crate) fn read(progress: &mut Progress, job: Job) -> Option<Final> {
    if let Some(watch) = Watch::current_mut(progress) {
        watch.read_one = true;
    }
    let status = job.status.as_ref().and_then(Status::as_final);
    observe(progress, job);
    status.filter(|_| accepts_final(progress))
}

/// Logs what changed, and keeps the answer as the last seen.
pub(crate) fn observe(progress: &mut Progress, job: Job) {
    for note in &job.notes {
        progress.warn_once(note.to_string());
    }
    let polls = progress.polls;
    let Some(watch) = Watch::current_mut(progress) else {
        return;
    };
    let label = watch.label();
    let mut unknown = None;
    if let Some(status) = &job.status {
        debug!("job {label}: poll {polls}: {}", untrusted(status.as_str()));
        let previous = watch.last_status();
        if previous != Some(status) {
            let pr = job
                .pr_link
                .as_deref()
                .map(|link| format!(", PR {}", untrusted(link)))
                .unwrap_or_default();
            let now = untrusted(status.as_str());
            if let Some(previous) = previous {
                info!("job {label}: {} -> {now}{pr}", untrusted(previous.as_str()));
            } else {
                info!("job {label}: {now}{pr}");
            }
        }
        if let Status::Other(other) = status {
            unknown = Some(format!(
                "status {} is unknown to this version; polling on as if active",
                quoted(other)
            ));
        }
        if *status == Status::Active {
            watch.stale_until = None;
        }
    }
    watch.last = Some(job);
    if let Some(unknown) = unknown {
        progress.warn_once(unknown);
    }
}

/// Whether a final status ends the run: not one still left from before a follow-up.
fn accepts_final(progress: &mut Progress) -> bool {
    let Some(watch) = Watch::current_mut(progress) else {
        return true;
    };
    let Some(until) = watch.stale_until else {
        return true;
    };
    let shown = progress.status();
    if Instant::now() < until {
        progress.warn_once(format!(
            "still {shown}, not yet active since the follow-up: waiting up to {} for it to start over",
            duration::display(FOLLOW_UP_GRACE)
        ));
        return false;
    }
    if let Some(watch) = Watch::current_mut(progress) {
        watch.stale_until = None;
    }
    progress.warn_once(format!(
        "not seen active within {} of the follow-up; taking {shown} as its final status",
        duration::display(FOLLOW_UP_GRACE)
    ));
    true
}

/// How an agent job ended, as the settings judge its final status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Completed,
    Failed,
    Archived { allowed: bool },
    CompletedWithoutPr,
}

impl Verdict {
    /// The verdict on a job that reached a final status.
    pub(crate) fn of(status: Final, has_pr: bool, allow_archived: bool, require_pr: bool) -> Self {
        match status {
            Final::Completed if require_pr && !has_pr => Verdict::CompletedWithoutPr,
            Final::Completed => Verdict::Completed,
            Final::Failed => Verdict::Failed,
            Final::Archived => Verdict::Archived {
                allowed: allow_archived,
            },
        }
    }

    pub(crate) fn exit(self) -> Exit {
        match self {
            Verdict::Completed | Verdict::Archived { allowed: true } => Exit::Pass,
            Verdict::Failed => Exit::Failed,
            Verdict::Archived { allowed: false } => Exit::Archived,
            Verdict::CompletedWithoutPr => Exit::NoPr,
        }
    }

    pub(crate) fn result(self) -> &'static str {
        match self {
            Verdict::Completed => "completed",
            Verdict::Failed => "failed",
            Verdict::Archived { .. } => "archived",
            Verdict::CompletedWithoutPr => "no_pr",
        }
    }
}

mod report;

#[cfg(test)]
mod tests;
