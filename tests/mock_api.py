#!/usr/bin/env python3
"""A mock of Mintlify's agent API on loopback, for the container checks in CI and for bench/.

GET /v2/agent/{project}/job/{id} answers by the job id: `failed...` is failed, `archived...`
is archived, anything else stays `active` for --active-for seconds after its first request
(or N seconds for an id ending in `-forN`, N may have decimals) and then completes with a PR. Each request is
appended to --events as a JSON line with its time and the time the job turned completed (both
from CLOCK_MONOTONIC, which every process on the machine shares), so a benchmark can count
requests and measure detection lag. Standard library only.
"""

import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JOB_PATH = re.compile(r"^/v2/agent/([^/]+)/job/([^/]+)$")
ACTIVE_FOR = re.compile(r"-for([0-9]+(?:\.[0-9]+)?)$")


class State:
    def __init__(self, active_for, events):
        self.active_for = active_for
        self.events = events
        self.first_seen = {}
        self.lock = threading.Lock()

    def status(self, job_id, now):
        if job_id.startswith("failed"):
            return "failed", None
        if job_id.startswith("archived"):
            return "archived", None
        with self.lock:
            first = self.first_seen.setdefault(job_id, now)
        match = ACTIVE_FOR.search(job_id)
        flip = first + (float(match.group(1)) if match else self.active_for)
        return ("completed", flip) if now >= flip else ("active", flip)

    def record(self, event):
        if self.events:
            with self.lock, open(self.events, "a", encoding="utf-8") as f:
                f.write(json.dumps(event) + "\n")


def handler(state):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            now = time.monotonic()
            match = JOB_PATH.match(self.path)
            if not self.headers.get("Authorization", "").startswith("Bearer mint_"):
                return self.answer(401, {"error": "Invalid API key"})
            if not match:
                return self.answer(404, {"error": "Not found"})
            job_id = match.group(2)
            status, flip = state.status(job_id, now)
            state.record({"t": now, "job": job_id, "status": status, "flip": flip})
            self.answer(200, {
                "id": job_id,
                "status": status,
                "source": {"repository": "https://github.com/acme/docs", "ref": "main"},
                "prLink": "https://github.com/acme/docs/pull/1" if status == "completed" else None,
            })

        def answer(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A benchmark ends clients mid-answer on purpose; a reset connection is not news.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--active-for", type=float, default=2.0, help="seconds a job stays active")
    parser.add_argument("--events", help="append one JSON line per request to this file")
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), handler(State(args.active_for, args.events)))
    server.serve_forever()


if __name__ == "__main__":
    main()
