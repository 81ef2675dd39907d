//! Logs go to stderr, so stdout holds only the job's JSON line. Only this crate logs below
//! `warn`: dependencies' debug output is noise in a CI log and has no business near the key.

use std::io::IsTerminal as _;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

pub fn init(level: LevelFilter) {
    let filter = Targets::new()
        .with_target(env!("CARGO_CRATE_NAME"), level)
        .with_default(level.min(LevelFilter::WARN));
    let format = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time();
    // A second call (the demo runs the gate more than once in a process) keeps the first.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(format)
        .try_init();
}
