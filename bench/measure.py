#!/usr/bin/env python3
"""Measures the gate next to two baselines against tests/mock_api.py on loopback.

Prints a Markdown table (median, min and max of each figure) for BENCHMARKS.md. Run through
bench/run.sh, which builds the release binary first. Standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "mintlify-agent-gate")
# name: (command, extra environment). The first is the gate as shipped; names that start with
# "gate" are the gate, the others the baselines it is judged against.
CONTENDERS = {
    "gate": ([BINARY], {}),
    "gate, poll max 5s": ([BINARY], {"MINTLIFY_POLL_MAX": "5s"}),
    "curl + jq loop": (["bash", os.path.join(ROOT, "bench", "baseline-curl.sh")], {}),
    "Node.js script": (["node", os.path.join(ROOT, "bench", "baseline-node.mjs")], {}),
}
BASELINES = [name for name in CONTENDERS if not name.startswith("gate")]
# The baselines poll every 5 s from their first request, so a job of exactly 20 s would flip
# just before one of their polls. Each repeat adds a different phase within one 5 s period.
PERIOD = 5.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mock:
    """tests/mock_api.py in a process of its own, and the requests it saw."""

    def __init__(self, workdir):
        self.port = free_port()
        self.events = os.path.join(workdir, "events.jsonl")
        open(self.events, "w").close()
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests", "mock_api.py"), "--port", str(self.port),
             "--active-for", "3600", "--events", self.events])
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def requests(self, job):
        with open(self.events, encoding="utf-8") as f:
            return [e for e in map(json.loads, f) if e["job"] == job]

    def stop(self):
        self.process.terminate()
        self.process.wait()


def environment(mock, job, extra):
    return {
        **extra,
        "PATH": os.environ["PATH"],
        "MINTLIFY_API_KEY": "mint_bench_not_a_secret",
        "MINTLIFY_PROJECT_ID": "proj_bench",
        "MINTLIFY_JOB_ID": job,
        "MINTLIFY_API_URL": f"http://127.0.0.1:{mock.port}",
        "MINTLIFY_TIMEOUT": "15m",
    }


def slug(name):
    return "".join(c for c in name if c.isalnum())


def first_request_ms(mock, name, runs):
    """Process start to the first request logged by the server, one fresh process a run."""
    command, extra = CONTENDERS[name]
    times = []
    for run in range(runs):
        job = f"first-{slug(name)}-{run}"
        started = time.monotonic()
        process = subprocess.Popen(command, env=environment(mock, job, extra),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not (seen := mock.requests(job)):
            if time.monotonic() - started > 10:
                raise RuntimeError(f"{name} sent no request in 10 s")
            time.sleep(0.002)
        times.append((seen[0]["t"] - started) * 1000)
        process.terminate()
        process.wait()
    return times


def wait_run(mock, name, seconds, phase, repeat, results):
    """One wait on a job that completes after `seconds` + `phase`, under /usr/bin/time -v."""
    command, extra = CONTENDERS[name]
    job = f"wait-{slug(name)}-{repeat}-for{seconds + phase:.2f}"
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        process = subprocess.run(["/usr/bin/time", "-v", "-o", report.name, *command],
                                 env=environment(mock, job, extra),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        exited = time.monotonic()
        usage = dict(line.strip().rsplit(": ", 1) for line in report if ": " in line)
    if process.returncode != 0:
        raise RuntimeError(f"{name} exited {process.returncode} on a {seconds} s job")
    requests = mock.requests(job)
    results.append({
        "name": name, "seconds": seconds,
        "rss_mb": int(usage["Maximum resident set size (kbytes)"]) / 1024,
        "cpu_s": float(usage["User time (seconds)"]) + float(usage["System time (seconds)"]),
        "requests": len(requests),
        "lag_s": exited - requests[-1]["flip"],
    })


def summary(values, digits):
    values = sorted(values)
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.median(values):.{digits}f} ({values[0]:.{digits}f}-{values[-1]:.{digits}f})"


def build_seconds():
    """`cargo build --release --locked` from an empty target directory."""
    with tempfile.TemporaryDirectory() as target:
        started = time.monotonic()
        subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True,
                       env={**os.environ, "CARGO_TARGET_DIR": target})
        return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs for the first-request time")
    parser.add_argument("--repeats", type=int, default=3, help="waits on each job length")
    parser.add_argument("--jobs", default="20,60,300", help="job lengths in seconds")
    parser.add_argument("--skip-build", action="store_true", help="do not time a clean build")
    args = parser.parse_args()
    lengths = [int(s) for s in args.jobs.split(",")]
    for tool in ["bash", "curl", "jq", "node", "cargo", "/usr/bin/time"]:
        if not shutil.which(tool):
            sys.exit(f"error: {tool} is not installed (apt-get install curl jq nodejs time)")

    with tempfile.TemporaryDirectory() as workdir:
        mock = Mock(workdir)
        try:
            first = {name: first_request_ms(mock, name, args.runs) for name in CONTENDERS}
            # The waits are idle most of the time, so every contender and job length runs at once.
            results = []
            phases = [(repeat + 0.5) * PERIOD / args.repeats for repeat in range(args.repeats)]
            threads = [threading.Thread(target=wait_run, args=(mock, name, seconds, phase, repeat, results))
                       for repeat, phase in enumerate(phases) for name in CONTENDERS for seconds in lengths]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            mock.stop()
    if len(results) != len(threads):
        sys.exit("error: some waits failed (see above)")

    def line(label, values_by_name, digits):
        """A table row, and whether the gate as shipped beats the best baseline's median."""
        medians = {name: statistics.median(values) for name, values in values_by_name.items()}
        best = min(medians[name] for name in BASELINES)
        verdict = "gate wins" if medians["gate"] < best else "gate loses" if medians["gate"] > best else "tie"
        cells = " | ".join(summary(values_by_name[name], digits) for name in CONTENDERS)
        return f"| {label} | {cells} | {verdict} |"

    def row(label, key, digits, seconds):
        values = {name: [r[key] for r in results if r["name"] == name and r["seconds"] == seconds]
                  for name in CONTENDERS}
        return line(label, values, digits)

    wait = 60 if 60 in lengths else lengths[0]
    lines = [
        f"Measured {datetime.date.today()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.platform()}, by `bench/run.sh` (runs={args.runs}, repeats={args.repeats}).",
        f"Each cell: median (min-max). Job lengths get a phase of {', '.join(f'{p:.2f}' for p in phases)} s, "
        "one per repeat, so that no contender's polls line up with the flip. CPU time is counted "
        "in steps of 0.01 s by /usr/bin/time.",
        "",
        "| figure | " + " | ".join(CONTENDERS) + " | verdict |",
        "| --- |" + " --- |" * (len(CONTENDERS) + 1),
    ]
    lines.append(line("start to first request (ms)", first, 1))
    lines.append(row(f"peak RSS over a {wait} s wait (MB)", "rss_mb", 1, wait))
    lines.append(row(f"CPU user+sys over a {wait} s wait (s)", "cpu_s", 2, wait))
    for seconds in lengths:
        lines.append(row(f"requests, {seconds} s job", "requests", 0, seconds))
    for seconds in lengths:
        lines.append(row(f"detection lag, {seconds} s job (s)", "lag_s", 2, seconds))
    size = os.path.getsize(BINARY) / 1e6
    lines.append(f"\nRelease binary (stripped): {size:.2f} MB.")
    if not args.skip_build:
        lines.append(f"`cargo build --release --locked` from an empty target directory: {build_seconds():.0f} s.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
