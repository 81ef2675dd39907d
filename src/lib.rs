//! Waits on one Mintlify agent job, deployment or preview (or starts one first) and turns how it
//! ended into an exit code and CI outputs.
//!
//! `main.rs` only hands the process's arguments and environment to [`run_blocking`], which runs
//! [`run`] on a runtime of its own; everything else lives here so the demo and the tests drive
//! exactly the code a CI job runs.

mod app;
mod classify;
mod client;
mod config;
mod deployment;
mod duration;
mod failure;
#[cfg(any(fuzzing, test))]
pub mod fuzzing;
mod job;
mod logging;
mod outcome;
mod outputs;
mod poll;
mod progress;
mod redact;
mod report;
mod resource;
#[cfg(any(fuzzing, test))]
mod runner;
mod sanitize;
mod schedule;
mod signals;
mod tls;
mod watch;

pub use app::{process_env, run, run_blocking};
