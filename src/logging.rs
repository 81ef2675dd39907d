//! Logs go to stderr, so stdout holds only the job's JSON line. Only this crate logs below
//! `warn`: dependencies' debug output is noise in a CI log and has no business near the key.
//!
//! Nothing written to stdout or stderr may panic (`println!` does on a closed pipe) or carry
//! the key: every line goes through [`Console`] or the log writer, which redact and drop what
//! a closed stream cannot take. Losing a line is better than losing the outputs.

use std::io::{IsTerminal as _, Write};

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::redact::Redactor;

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

/// stdout and stderr, redacted and never failing.
#[derive(Clone, Default)]
pub(crate) struct Console {
    redactor: Redactor,
}

impl Console {
    pub(crate) fn new(redactor: Redactor) -> Self {
        Console { redactor }
    }

    pub(crate) fn out(&self, line: &str) {
        let _ = writeln!(std::io::stdout().lock(), "{}", self.redactor.text(line));
    }

    pub(crate) fn err(&self, line: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{}", self.redactor.text(line));
    }
}

/// The log writer: one `write_all` per event, so the key cannot straddle two writes.
pub(crate) struct LogLine<'a>(&'a Redactor);

impl Write for LogLine<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().lock().write_all(&self.0.bytes(bytes));
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
