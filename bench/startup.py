#!/usr/bin/env python3
"""Measures the gate's start-up: time from exec to its first request on a loopback server.

One fresh process a run, against a server in this process (so both ends read the same
CLOCK_MONOTONIC and nothing is written to disk between them). Cases, interleaved run by run so
that a busy machine weighs on each alike:

- `/bin/true`: exec to exit, the floor any process pays.
- `http`: exec to the first request's bytes, over plain http.
- `https, SSL_CERT_FILE`: exec to the first request's bytes after the TLS handshake, trusting a
  private CA through `SSL_CERT_FILE`, a bundle of the system's roots and that CA (so the gate
  reads as many roots as it would from the system store).
- `https, system store`: exec to the TLS ClientHello's first bytes, with the system store (it
  cannot trust the private CA, so the handshake then fails; the roots are read before it).

Each binary given with --binary is measured in every case; pass the binary of main and yours
to compare. Prints a Markdown table: median (min-max) in milliseconds, and p90. Standard
library and the `openssl` command only.
"""

import argparse
import datetime
import json
import os
import platform
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
BODY = json.dumps({
    "id": "job_bench",
    "status": "completed",
    "source": {"repository": "https://github.com/acme/docs", "ref": "main"},
    "prLink": "https://github.com/acme/docs/pull/1",
}).encode()
ANSWER = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
          b"content-length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)


def private_ca(workdir):
    """A CA and a leaf for 127.0.0.1 signed by it, made with the openssl command."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=workdir, check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=bench CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign")
    run("req", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(workdir, "leaf.ext"), "w", encoding="utf-8") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext")
    bundle = os.path.join(workdir, "bundle.pem")
    with open(bundle, "wb") as out:
        if os.path.exists(SYSTEM_BUNDLE):
            with open(SYSTEM_BUNDLE, "rb") as system:
                out.write(system.read())
        with open(os.path.join(workdir, "ca.pem"), "rb") as ca:
            out.write(ca.read())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(workdir, "leaf.pem"), os.path.join(workdir, "leaf.key"))
    return context, bundle


class Server:
    """Accepts one connection at a time; notes when its first bytes arrive, then answers.

    `tls`: None for plain http; "request" to time the request after the handshake; "hello" to
    time the ClientHello (the handshake is then left to fail)."""

    def __init__(self, tls, context):
        self.tls, self.context = tls, context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.arrived = None
        self.event = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            conn, _ = self.listener.accept()
            try:
                self.handle(conn)
            except OSError:
                pass
            finally:
                conn.close()

    def note(self):
        if not self.event.is_set():
            self.arrived = time.monotonic()
            self.event.set()

    def handle(self, conn):
        if self.tls == "hello":
            if conn.recv(1, socket.MSG_PEEK):
                self.note()
            return
        if self.tls == "request":
            conn = self.context.wrap_socket(conn, server_side=True)
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                return
            if not request:
                self.note()
            request += chunk
        conn.sendall(ANSWER)


def environment(url, extra):
    return {
        "PATH": os.environ["PATH"],
        "MINTLIFY_API_KEY": "mint_bench_not_a_secret",
        "MINTLIFY_PROJECT_ID": "proj_bench",
        "MINTLIFY_JOB_ID": "job_bench",
        "MINTLIFY_API_URL": url,
        "MINTLIFY_TIMEOUT": "10s",
        **extra,
    }


def once(command, server, env):
    """Milliseconds from just before exec to the server's first bytes (or to exit, with no
    server)."""
    if server:
        server.event.clear()
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    if not server:
        process.wait()
        return (time.monotonic() - started) * 1000
    if not server.event.wait(10):
        process.kill()
        process.wait()
        raise RuntimeError(f"{command[0]} sent nothing in 10 s")
    if server.tls == "hello":
        process.kill()
    if process.wait(10) not in (0, -9):
        raise RuntimeError(f"{command[0]} exited {process.returncode}")
    return (server.arrived - started) * 1000


def summary(values):
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
    return f"{statistics.median(values):.2f} ({values[0]:.2f}-{values[-1]:.2f}), p90 {p90:.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs of each case")
    parser.add_argument("--binary", action="append", metavar="NAME=PATH",
                        help="a gate binary to measure (repeatable); default: the release build")
    args = parser.parse_args()
    binaries = [b.split("=", 1) for b in args.binary or
                [f"gate={os.path.join(ROOT, 'target', 'release', 'mintlify-agent-gate')}"]]

    with tempfile.TemporaryDirectory() as workdir:
        context, bundle = private_ca(workdir)
        http = Server(None, None)
        https = Server("request", context)
        hello = Server("hello", context)
        cases = {"/bin/true (exec to exit)": (["/bin/true"], None, {})}
        for name, path in binaries:
            cases[f"{name}: http"] = ([path], http, environment(f"http://127.0.0.1:{http.port}", {}))
            cases[f"{name}: https, SSL_CERT_FILE"] = (
                [path], https,
                environment(f"https://127.0.0.1:{https.port}", {"SSL_CERT_FILE": bundle}))
            cases[f"{name}: https, system store (to ClientHello)"] = (
                [path], hello, environment(f"https://127.0.0.1:{hello.port}", {}))
        times = {case: [] for case in cases}
        for _ in range(args.runs):
            for case, (command, server, env) in cases.items():
                times[case].append(once(command, server, env))

    print(f"Measured {datetime.date.today()} on {platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.platform()}, by `bench/startup.py` ({args.runs} runs of each case, "
          "interleaved). Milliseconds: median (min-max), p90.")
    print()
    print("| case | exec to first bytes at the server (ms) |")
    print("| --- | --- |")
    for case, values in times.items():
        print(f"| {case} | {summary(values)} |")
    for name, path in binaries:
        print(f"\n{name}: {os.path.getsize(path)} bytes ({path})")


if __name__ == "__main__":
    sys.exit(main())
