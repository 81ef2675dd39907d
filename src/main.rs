use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let env = mintlify_agent_gate::process_env;
    ExitCode::from(mintlify_agent_gate::run_blocking(&env, &args))
}
