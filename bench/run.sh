#!/usr/bin/env bash
# Benchmarks the gate against a curl + jq loop and a Node.js script, then its start-up alone
# (exec to the first request over http and https; see BENCHMARKS.md).
# Run by hand, not in CI: it takes about 20 minutes (three rounds of 300 s jobs, and a clean
# release build). Arguments go to bench/measure.py, e.g. --jobs 20,60 --repeats 1 for a quick look.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
python3 bench/measure.py "$@"
python3 bench/startup.py
