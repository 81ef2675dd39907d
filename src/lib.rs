//! Waits on one Mintlify agent job, deployment or preview (or starts one first) and turns how it
//! ended into an exit code and CI outputs.
//!
//! `main.rs` only hands the process's arguments and environment to [`run_blocking`], which runs
//! [`run()`] on a runtime of its own; everything else lives here so the demo and the tests drive
//! exactly the code a CI job runs.

mod api;
#[cfg(any(fuzzing, test))]
pub mod fuzzing;
mod report;
mod run;
#[cfg(any(fuzzing, test))]
mod runner;
mod settings;
mod text;
mod watch;

pub use run::{process_env, run, run_blocking};
