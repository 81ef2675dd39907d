#!/usr/bin/env python3
"""Prism, run on Mintlify's own OpenAPI documents, behind a front that makes it usable as an API.

Prism (@stoplight/prism-cli, pinned in tests/conformance/package-lock.json) checks every request
against the document it mocks: a request that breaks it (a path or method the document does not
have, a missing or wrong body, a body where none is defined, no bearer token) gets the
document's 400 or one of Prism's own `application/problem+json` errors, and the violations in
an `sl-violations` header. Prism alone is not an API a client can finish a run against: it
serves the deployment document's paths without the `/v1` of that document's server URL, and it
answers every status read with an `_id` of its own making (`"string"`, or a new random one per
answer in its dynamic mode) and the same status. The front fixes both:

- `/v1/...` goes to the Prism of `deploy-openapi.json` with the `/v1` taken off; every other
  path to the Prism of `admin-openapi.json` (whose paths carry their `/v2`) unchanged, so a
  deployment call without `/v1`, or an agent call under `/v1`, is a path no document has.
- A 2xx answer is Prism's, with what a script decides written over it: a fresh statusId per
  trigger, the asked-for statusId as `_id`, the status sequence (`queued`, `in_progress`, then
  `success` or `failure`, the last repeated), the same for agent jobs. An error answer is
  Prism's unchanged; `Script.prefer` asks Prism for one through its `Prefer` header.
- Every request is recorded with Prism's verdict on it (`Exchange.violations`).

Standard library only. Run alone, it starts both Prisms and serves until interrupted, so curl
can try it: python3 tests/conformance_front.py --prism target/ci-prism/node_modules/.bin/prism
"""

import argparse
import ctypes
import http.client
import http.server
import json
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCUMENTS = ROOT / "tests" / "conformance"  # Mintlify's published documents, byte for byte
DEFAULT_PRISM = ROOT / "target" / "ci-prism" / "node_modules" / ".bin" / "prism"
LISTENING = re.compile(r"Prism is listening on (http://127\.0\.0\.1:(\d+))")
# Hop-by-hop and framing headers are the front's own business on each side.
NOT_FORWARDED = {"host", "connection", "keep-alive", "transfer-encoding", "content-length", "prefer"}

UPDATE = re.compile(r"^/v1/project/update/([^/]+)$")
PREVIEW = re.compile(r"^/v1/project/preview/([^/]+)$")
STATUS = re.compile(r"^/v1/project/update-status/([^/]+)$")
AUTOMATION = re.compile(r"^/v1/workflow/([^/]+)/([^/]+)/trigger$")
CREATE = re.compile(r"^/v2/agent/([^/]+)/job$")
JOB = re.compile(r"^/v2/agent/([^/]+)/job/([^/]+)$")
MESSAGE = re.compile(r"^/v2/agent/([^/]+)/job/([^/]+)/message$")


def die_with_parent():
    """On Linux, Prism is sent SIGTERM when the thread that started it ends, however the run
    ends (a test runner killed, Ctrl-C), so no Prism outlives it. Elsewhere stop() does it."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Prism:
    """One `prism mock` process on a port the system picks, its log kept in memory. Started
    from the main thread (see die_with_parent); wait() for it to listen."""

    def __init__(self, prism, document):
        self.document = pathlib.Path(document).name
        self.lines = []
        self.url = self.port = None
        self.process = subprocess.Popen(
            [str(prism), "mock", "--host", "127.0.0.1", "--port", "0", "--errors", str(document)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            encoding="utf-8", errors="replace", preexec_fn=die_with_parent)
        self.listening = threading.Event()
        threading.Thread(target=self.drain, daemon=True).start()

    def drain(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            match = LISTENING.search(line)
            if match and not self.listening.is_set():
                self.url, self.port = match.group(1), int(match.group(2))
                self.listening.set()
        self.listening.set()  # Prism ended: wake the waiter, which sees no URL

    def wait(self, timeout=60):
        if not self.listening.wait(timeout) or self.url is None:
            self.stop()
            raise RuntimeError(f"Prism did not start on {self.document}:\n" + "\n".join(self.lines[-30:]))

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Script:
    """What the API answers, set by a test before it runs the gate."""

    def __init__(self):
        self.statuses = ["queued", "in_progress", "success"]
        self.failure = {"summary": "Build failed: mint.json is invalid",
                        "logs": ["Installing dependencies", "Error: navigation references missing page intro"]}
        self.preview_url = "https://acme-docs-preview.mintlify.app"
        self.status_id_override = None  # a status answer about another deployment
        self.job_statuses = ["active", "completed"]
        self.job_ref = "mintlify/docs-update-7"
        self.pr_link = "https://github.com/acme/docs/pull/7"
        self.prefer = {}  # route name (update, preview, status, automation, create, job, message) -> Prefer


class Exchange:
    """One request from the client and what happened to it."""

    def __init__(self, method, path, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body
        self.route = None
        self.upstream = None  # the document the request went to
        self.prism_status = None
        self.sl_violations = []
        self.problem = None  # a Prism-made application/problem+json error
        self.status = None  # what the client got
        self.answer = None

    def json(self):
        return json.loads(self.body) if self.body else None

    @property
    def violations(self):
        """Prism's verdict: empty when the request conforms to the document."""
        found = [f"{'.'.join(map(str, v.get('location', [])))}: {v.get('message')}" for v in self.sl_violations]
        if self.problem:
            found.append(f"{self.problem.get('title')}: {self.problem.get('detail')}")
        return found

    def __repr__(self):
        return f"{self.method} {self.path} -> {self.status}" + (f" {self.violations}" if self.violations else "")


class Front:
    def __init__(self, deploy, admin):
        self.deploy, self.admin = deploy, admin
        self.lock = threading.Lock()
        self.reset()
        front = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_any(self):
                body = self.read_body()
                exchange = Exchange(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                    body.decode("utf-8", "replace"))
                status, headers, data = front.forward(exchange, body)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def read_body(self):
                if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                    length = int(self.headers.get("Content-Length") or 0)
                    return self.rfile.read(length) if length else b""
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0], 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()  # the CRLF after the chunk
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers, up to the blank line that ends the request
                return b"".join(chunks)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self, script=None):
        with self.lock:
            self.script = script or Script()
            self.exchanges = []
            self.reads = {}  # statusId or job id -> reads answered so far
            self.issued = 0

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def fresh_id(self, prefix):
        with self.lock:
            self.issued += 1
            return f"{prefix}{self.issued:06d}"

    def next_in(self, sequence, key):
        with self.lock:
            count = self.reads.get(key, 0)
            self.reads[key] = count + 1
        return sequence[min(count, len(sequence) - 1)]

    def forward(self, exchange, body):
        with self.lock:
            self.exchanges.append(exchange)
            script = self.script
        path = urllib.parse.urlsplit(exchange.path).path
        for name, pattern in [("update", UPDATE), ("preview", PREVIEW), ("status", STATUS),
                              ("automation", AUTOMATION), ("create", CREATE), ("job", JOB), ("message", MESSAGE)]:
            match = pattern.match(path)
            if match:
                exchange.route, groups = name, [urllib.parse.unquote(g) for g in match.groups()]
                break
        else:
            groups = []
        prism, upstream_path = (self.deploy, exchange.path[3:]) if exchange.path.startswith("/v1/") else (self.admin, exchange.path)
        exchange.upstream = prism.document
        headers = {k: v for k, v in exchange.headers.items() if k.lower() not in NOT_FORWARDED}
        if exchange.route in script.prefer:
            headers["Prefer"] = script.prefer[exchange.route]
        connection = http.client.HTTPConnection("127.0.0.1", prism.port, timeout=30)
        try:
            connection.request(exchange.method, upstream_path, body=body or None, headers=headers)
            response = connection.getresponse()
            data = response.read()
            exchange.prism_status = response.status
            violations = response.getheader("sl-violations")
            exchange.sl_violations = json.loads(violations) if violations else []
            content_type = response.getheader("Content-Type", "")
        except (OSError, http.client.HTTPException) as error:
            # No verdict is no pass: the run fails and says why.
            exchange.problem = {"title": f"Prism ({prism.document}) did not answer", "detail": repr(error)}
            exchange.status, exchange.answer = 502, ""
            return 502, [("Content-Type", "text/plain")], b"Prism did not answer"
        finally:
            connection.close()
        if content_type.startswith("application/problem+json"):
            exchange.problem = json.loads(data)
        status = response.status
        if 200 <= status < 300 and not exchange.violations:
            answer = self.rewrite(exchange.route, groups, json.loads(data), script)
            data = json.dumps(answer).encode()
        exchange.status, exchange.answer = status, data.decode("utf-8", "replace")
        return status, [("Content-Type", content_type or "application/json")], data

    def rewrite(self, route, groups, answer, script):
        """Prism's made-up 2xx answer, with what the script decides written over it."""
        if route == "update":
            answer["statusId"] = self.fresh_id("665f00000000000000")
        elif route == "preview":
            answer["statusId"] = self.fresh_id("665f00000000000000")
            answer["previewUrl"] = script.preview_url
        elif route == "status":
            status_id = groups[0]
            status = self.next_in(script.statuses, status_id)
            answer.update(_id=script.status_id_override or status_id, status=status, subdomain="acme-docs",
                          summary=script.failure["summary"] if status == "failure" else f"Deployment {status}",
                          logs=script.failure["logs"] if status == "failure" else [])
        elif route == "automation":
            answer.update(schemaId=groups[1], instanceId=self.fresh_id("run-"), jobId=self.fresh_id("bg-"))
        elif route in ("create", "job", "message"):
            job_id = groups[1] if route != "create" else self.fresh_id("job-")
            # A create and a follow-up answer with the job still at work; a read follows the script.
            status = "active" if route != "job" else self.next_in(script.job_statuses, job_id)
            answer.update(id=job_id, status=status, source={"repository": "https://github.com/acme/docs",
                                                            "ref": script.job_ref},
                          prLink=script.pr_link if status == "completed" else None, archivedAt=None)
        return answer

    def violations(self):
        with self.lock:
            return [e for e in self.exchanges if e.violations]

    def requests(self):
        with self.lock:
            return list(self.exchanges)


def start(prism=DEFAULT_PRISM):
    """Both Prisms, started side by side, and the front before them."""
    deploy = Prism(prism, DOCUMENTS / "deploy-openapi.json")
    admin = Prism(prism, DOCUMENTS / "admin-openapi.json")
    try:
        deploy.wait()
        admin.wait()
    except BaseException:
        deploy.stop()
        admin.stop()
        raise
    return Front(deploy, admin)


def stop(front):
    front.close()
    front.deploy.stop()
    front.admin.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prism", default=str(DEFAULT_PRISM), help="path of the prism executable")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop both Prisms on the way out
    front = start(args.prism)
    print(f"front on {front.url} (deploy document: Prism {front.deploy.url}, pid {front.deploy.process.pid}; "
          f"admin: Prism {front.admin.url}, pid {front.admin.process.pid})", flush=True)
    try:
        seen = 0
        while True:
            time.sleep(0.2)
            exchanges = front.requests()
            for exchange in exchanges[seen:]:
                print(("VIOLATION " if exchange.violations else "ok ") + repr(exchange), flush=True)
            seen = len(exchanges)
    except KeyboardInterrupt:
        pass
    finally:
        stop(front)


if __name__ == "__main__":
    main()
