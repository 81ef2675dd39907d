#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mintlify_agent_gate::fuzzing::retry_after(data));
