//! Logs go to stderr, so stdout holds only the last answer's JSON line. Only this crate logs
//! below `warn`: dependencies' debug output is noise in a CI log and has no business near the
//! key.
//!
//! Nothing written to stdout or stderr may panic (`println!` does on a closed pipe), carry the
//! key, or carry `##[`, which the runner takes as a command anywhere in a line. Nor may a
//! write block the run: a reader that stops reading (a full pipe) would otherwise stop the
//! deadline and the signals with it. So every line goes through [`Console`] or the log writer,
//! which redact and defuse it and hand it to a thread of its own that does the writing; if
//! that thread falls behind by [`BACKLOG`] lines, new lines are dropped. Losing a line is
//! better than losing the outputs or the verdict.

use std::io::{IsTerminal as _, Write};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::text::redact::Redactor;
use crate::text::sanitize::defuse_legacy_commands;

/// Lines waiting for the writer before new ones are dropped.
const BACKLOG: usize = 1024;

pub(crate) fn init(level: LevelFilter, redactor: Redactor) {
    let filter = Targets::new()
        .with_target(env!("CARGO_CRATE_NAME"), level)
        .with_default(level.min(LevelFilter::WARN));
    let format = tracing_subscriber::fmt::layer()
        .with_writer(Console { redactor })
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .log_internal_errors(false);
    // A second call (the demo runs the gate more than once in a process) keeps the first.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(format)
        .try_init();
}

#[derive(Clone, Copy)]
enum Stream {
    Out,
    Err,
}

/// The writing thread, started on the first line, and how many lines it has yet to write.
struct Writer {
    lines: SyncSender<(Stream, Vec<u8>)>,
    pending: &'static (Mutex<usize>, Condvar),
}

static PENDING: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

fn writer() -> Option<&'static Writer> {
    static WRITER: OnceLock<Option<Writer>> = OnceLock::new();
    WRITER
        .get_or_init(|| {
            let (lines, receive) = sync_channel::<(Stream, Vec<u8>)>(BACKLOG);
            std::thread::Builder::new()
                .name("output".into())
                .spawn(move || {
                    for (stream, bytes) in receive {
                        let _ = match stream {
                            Stream::Out => std::io::stdout().lock().write_all(&bytes),
                            Stream::Err => std::io::stderr().lock().write_all(&bytes),
                        };
                        count(-1);
                    }
                })
                .ok()?;
            Some(Writer {
                lines,
                pending: &PENDING,
            })
        })
        .as_ref()
}

/// Adds to the lines pending, and wakes a [`flush`] waiting for none.
fn count(change: isize) {
    let (pending, written) = &PENDING;
    let mut pending = pending
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *pending = pending.saturating_add_signed(change);
    written.notify_all();
}

fn send(stream: Stream, bytes: Vec<u8>) {
    match writer() {
        Some(writer) => {
            count(1);
            if writer.lines.try_send((stream, bytes)).is_err() {
                count(-1);
            }
        }
        // No thread could be started: write here, and accept that a full pipe may block.
        None => {
            let _ = match stream {
                Stream::Out => std::io::stdout().lock().write_all(&bytes),
                Stream::Err => std::io::stderr().lock().write_all(&bytes),
            };
        }
    }
}

/// Waits, at most `limit`, for the lines handed over so far to be written: at the end of a
/// run, so the verdict reaches a reader that keeps up, and a stuck one cannot hold the exit.
pub(crate) fn flush(limit: Duration) {
    let Some(writer) = writer() else { return };
    let (pending, written) = writer.pending;
    let pending = pending
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let _ = written.wait_timeout_while(pending, limit, |pending| *pending > 0);
}

/// stdout and stderr, redacted, defused and never blocking or failing.
#[derive(Clone, Default)]
pub(crate) struct Console {
    redactor: Redactor,
}

impl Console {
    pub(crate) fn new(redactor: Redactor) -> Self {
        Console { redactor }
    }

    pub(crate) fn out(&self, line: &str) {
        let line = defuse_legacy_commands(self.redactor.text(line).into_owned());
        send(Stream::Out, format!("{line}\n").into_bytes());
    }

    pub(crate) fn err(&self, line: &str) {
        let line = defuse_legacy_commands(self.redactor.text(line).into_owned());
        send(Stream::Err, format!("{line}\n").into_bytes());
    }
}

/// The log writer: the formatter hands over one event per `write_all`, so the key cannot
/// straddle two writes.
pub(crate) struct LogLine<'a>(&'a Redactor);

impl Write for LogLine<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(&self.0.bytes(bytes)).into_owned();
        send(Stream::Err, defuse_legacy_commands(text).into_bytes());
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Console {
    type Writer = LogLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LogLine(&self.redactor)
    }
}
