//! Waits on one Mintlify agent job and turns its final status into an exit code and CI outputs.
//!
//! `main.rs` only hands the process environment to [`run`]; everything else lives here so the
//! demo and the tests drive exactly the code a CI job runs.
#![forbid(unsafe_code)]

mod app;
mod classify;
mod client;
mod config;
mod deploying;
mod deployment;
mod duration;
mod failure;
#[cfg(fuzzing)]
pub mod fuzzing;
mod job;
mod logging;
mod outcome;
mod outputs;
mod poll;
mod redact;
mod resource;
mod sanitize;
mod schedule;
mod signals;
mod tls;

pub use app::{process_env, run, run_blocking};
