#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let env = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    let args = std::env::args_os().skip(1).collect();
    ExitCode::from(mintlify_agent_gate::run_blocking(&env, args))
}
