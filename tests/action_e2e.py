#!/usr/bin/env python3
"""The composite action end to end, run here as a GitHub runner would run it, on loopback only.

A release is made from the gate built by cargo: the release's pin step
(.github/scripts/pin_release.py) pins a directory of assets into the action's files, a loopback
HTTP server stands in for $GITHUB_SERVER_URL and serves them, and the mock API
(tests/mock_api.py) stands in for Mintlify. Each step of action.yml's `runs.steps` is read with a
YAML parser and run as the runner runs it: its `shell` (bash, with the runner's arguments), its
`env:` evaluated (`${{ inputs.* }}` and `${{ steps.*.outputs.* }}`, nothing else is allowed), a
fresh $GITHUB_OUTPUT per step parsed as the runner parses it, and RUNNER_OS, RUNNER_ARCH,
RUNNER_TOOL_CACHE, RUNNER_TEMP, GITHUB_ACTION_PATH and GITHUB_SERVER_URL set. Every binary
served is the gate built for this machine, so whichever OS and arch the runner claims, the
asset it picks is one that runs here; the request it sends tells which one it picked.

Run by .ci/run with the CI tools' Python (PyYAML): python tests/action_e2e.py
"""

import hashlib
import http.server
import json
import os
import pathlib
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / ".github" / "scripts"))
import mock_api  # noqa: E402
from pin_release import ASSETS  # noqa: E402

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
REPOSITORY = "acme/mintlify-agent-gate"
TAG = "v1.2.3"
KEY = "mint_e2e_action_s3cr3t"
HOST_ARCH = {"x86_64": "X64", "amd64": "X64", "aarch64": "ARM64", "arm64": "ARM64"}[platform.machine().lower()]
SUPPORTED = {
    ("Linux", "X64"): "mintlify-agent-gate-linux-x64",
    ("Linux", "ARM64"): "mintlify-agent-gate-linux-arm64",
    ("macOS", "X64"): "mintlify-agent-gate-macos-x64",
    ("macOS", "ARM64"): "mintlify-agent-gate-macos-arm64",
    ("Windows", "X64"): "mintlify-agent-gate-windows-x64.exe",
    ("Windows", "ARM64"): "mintlify-agent-gate-windows-x64.exe",  # under Windows' x64 emulation
}
EXPRESSION = re.compile(r"^\$\{\{ (inputs\.([a-z_]+)|steps\.([a-z_]+)\.outputs\.([a-z_]+)|github\.token) \}\}$")
GITHUB_TOKEN = "ghs_e2e_job_token"  # the job's github.token, as the runner evaluates it


def cargo_gate():
    """The gate's debug binary, as `cargo build --locked` makes it (tests/conformance.py too)."""
    run = subprocess.run(
        ["cargo", "build", "--locked", "--bin", "mintlify-agent-gate", "--message-format=json-render-diagnostics"],
        cwd=ROOT, stdout=subprocess.PIPE, check=True, text=True)
    for line in run.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable"):
            return message["executable"]
    raise AssertionError("cargo built no executable")


def build_gate(directory):
    """The gate's binary, built by cargo, copied into `directory` and stripped as a release's is."""
    gate = os.path.join(directory, "mintlify-agent-gate")
    shutil.copy(cargo_gate(), gate)
    if shutil.which("strip"):
        subprocess.run(["strip", gate], check=True)
    return gate


# A port of src/runner.rs, the Rust model of the runner's reading that every Rust test and the
# fuzz targets use. It must stay separate: this harness plays the runner itself, in Python, for
# the composite action's bash steps, with no Rust test binary to call; keep the two in step.
def parse_github_output(text):
    """$GITHUB_OUTPUT as the Linux runner reads it: `name=value`, or `name<<DELIMITER` blocks."""
    outputs, lines = {}, iter(text.split("\n"))
    for line in lines:
        if not line:
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            outputs[line[:equals]] = line[equals + 1:]
        elif heredoc > 0:
            delimiter, value = line[heredoc + 2:], []
            for next_line in lines:
                if next_line == delimiter:
                    break
                value.append(next_line)
            else:
                raise AssertionError(f"delimiter {delimiter} not found")
            outputs[line[:heredoc]] = "\n".join(value)
        else:
            raise AssertionError(f"invalid line {line!r}")
    return outputs


SYSTEM_FOLDERS = re.compile(r"^(hasher_folders|system_folders)=.*$", re.M)


def with_system_folders(script, path, hashers=None):
    """The script of a step, with `path` as the system folders it trusts (for its checksum too,
    unless `hashers` names others), if it names them."""
    if path is None or not SYSTEM_FOLDERS.search(script):
        return script
    folders = {"hasher_folders": hashers or path, "system_folders": path}
    replaced, count = SYSTEM_FOLDERS.subn(lambda match: f"{match.group(1)}='{folders[match.group(1)]}'", script)
    assert count == 2, "the install step names its system folders on two lines"
    return replaced


MAX_SECONDS = re.compile(r"^max_seconds=300$", re.M)
NOBODY = 65534  # the user the steps run as where the tests run as root


def with_max_seconds(script, seconds):
    """The script of a step, with `seconds` as the install step's limit on one download attempt."""
    if seconds is None or not MAX_SECONDS.search(script):
        return script
    return MAX_SECONDS.sub(f"max_seconds={seconds}", script)


def evaluate(value, inputs, steps):
    """A step's env value as the runner evaluates it; any other expression is an error here."""
    value = str(value)
    if "${{" not in value:
        return value
    match = EXPRESSION.match(value)
    assert match, f"the simulated runner does not evaluate {value!r}"
    if match.group(1) == "github.token":
        return GITHUB_TOKEN
    if match.group(2):
        return inputs[match.group(2)]
    return steps.get(match.group(3), {}).get(match.group(4), "")


class Served:
    """A loopback HTTP server for files under a directory, recording each request's path and
    Authorization header. `answers` maps a path to a list of canned answers, used in turn
    before the file is served: (status, headers, body)."""

    def __init__(self, root):
        self.requests, self.authorizations, self.answers = [], [], {}
        served = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=root, **kwargs)

            def do_GET(self):
                served.requests.append(self.path)
                served.authorizations.append(self.headers.get("Authorization"))
                canned = served.answers.get(self.path)
                if canned:
                    status, headers, body = canned.pop(0)
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    if callable(body):
                        self.end_headers()
                        body(self.wfile)
                        return
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                try:
                    super().do_GET()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # a client that stopped reading: a full disk, a size limit

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class StepRun:
    def __init__(self, name, code, stdout, stderr, outputs, seconds):
        self.name, self.code, self.stdout, self.stderr = name, code, stdout, stderr
        self.outputs, self.seconds = outputs, seconds


class ActionRun:
    def __init__(self, steps, outputs):
        self.steps, self.outputs = steps, outputs
        self.code = steps[-1].code
        self.log = "".join(s.stdout + s.stderr for s in steps)

    def step(self, step_id):
        return next(s for s in self.steps if s.name == step_id)


class ActionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.built = tempfile.TemporaryDirectory()
        cls.gate = build_gate(cls.built.name)
        cls.api = mock_api.Server(("127.0.0.1", 0), mock_api.handler(mock_api.State(0.0, None)))
        cls.api_url = f"http://127.0.0.1:{cls.api.server_address[1]}"
        threading.Thread(target=cls.api.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.api.shutdown()
        cls.api.server_close()
        cls.built.cleanup()

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = pathlib.Path(tmp.name)
        # The action as the runner fetches it at a release tag: action.yml and the pins.
        self.action_path = self.tmp / "_actions" / REPOSITORY / TAG
        self.action_path.mkdir(parents=True)
        shutil.copy(ROOT / "action.yml", self.action_path)
        self.assets = self.tmp / "site" / REPOSITORY / "releases" / "download" / TAG
        self.assets.mkdir(parents=True)
        for name in ASSETS:
            shutil.copy(self.gate, self.assets / name)
        # $GITHUB_SERVER_URL (a GitHub Enterprise Server, or github.com) and the server the
        # release was published on, both serving the release unless a test says otherwise.
        self.site = Served(str(self.tmp / "site"))
        self.addCleanup(self.site.close)
        self.origin = Served(str(self.tmp / "site"))
        self.addCleanup(self.origin.close)
        pin = subprocess.run(
            [sys.executable, str(ROOT / ".github/scripts/pin_release.py"), str(self.assets), REPOSITORY, TAG,
             str(self.action_path / "release-pins.txt"), self.origin.url], capture_output=True, text=True)
        self.assertEqual(pin.returncode, 0, pin.stderr)
        self.tool_cache = self.tmp / "_tool"
        self.workspace = self.tmp / "workspace"
        self.workspace.mkdir()
        self.bin = self.tmp / "bin"  # tools put on PATH by a test
        self.bin.mkdir()

    # The shell that `shell: sh` finds; ActionOnBashTest below runs every test with bash as sh.
    SH = "sh"

    def run_action(self, with_=None, env=None, runner_os="Linux", runner_arch=HOST_ARCH, path=None, sh=None,
                   file_size_limit=None, hashers=None, unprivileged=False, max_seconds=None):
        """Every step of the composite action, in order, stopping at the first that fails.
        `sh` is the shell that `shell: sh` finds: dash here, bash in sh mode on macOS and in Git
        for Windows. `path`, if given, holds the only tools of the machine simulated: the job's
        PATH (after self.bin, the folder a test fills as an earlier step's $GITHUB_PATH would),
        and the system folders, the two lines of the install step that name them replaced
        (`hashers`, if given, for the folders of the checksum tool).
        `file_size_limit` (bytes) makes any longer write fail, as a full disk would.
        `unprivileged` runs the steps as a user other than root, as runners do: bash ignores a PS4
        from the environment as root only. `max_seconds` replaces the install step's limit on one
        download attempt."""
        with_ = {"api_key": KEY, "project_id": "proj_e2e", "job_id": "job_e2e", "api_url": self.api_url,
                 "poll_initial": "100ms", "timeout": "30s", **(with_ or {})}
        declared = ACTION["inputs"]
        unknown = set(with_) - set(declared)
        self.assertFalse(unknown, f"inputs not declared by action.yml: {unknown}")
        inputs = {name: evaluate(with_.get(name, spec.get("default", "")), {}, {}) if name not in with_ else
                  str(with_[name]) for name, spec in declared.items()}
        temp = self.tmp / "_temp"
        temp.mkdir(exist_ok=True)
        base = {
            "PATH": f"{self.bin}{os.pathsep}{path if path is not None else os.environ['PATH']}",
            "HOME": str(self.tmp),
            "GITHUB_ACTIONS": "true",
            "GITHUB_SERVER_URL": self.site.url,
            "GITHUB_API_URL": f"{self.site.url}/api/v3",  # as on a GitHub Enterprise Server
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_ACTION_PATH": str(self.action_path),
            "RUNNER_OS": runner_os,
            "RUNNER_ARCH": runner_arch,
            "RUNNER_TEMP": str(temp),
            "RUNNER_TOOL_CACHE": str(self.tool_cache),
            **(env or {}),  # the workflow's env:, which every step of the action sees
        }
        steps, results = {}, []
        for number, step in enumerate(ACTION["runs"]["steps"]):
            self.assertEqual(step.get("shell"), "sh", f"step {step.get('id')} must run on sh, as in any container")
            output = temp / f"set_output_{number}"
            output.write_text("")
            script = temp / f"step_{number}.sh"
            script.write_text(with_max_seconds(with_system_folders(step["run"], path, hashers), max_seconds))
            process_env = dict(base, GITHUB_OUTPUT=str(output))
            for key, value in (step.get("env") or {}).items():
                process_env[key] = evaluate(value, inputs, steps)
            user = None
            if unprivileged and os.getuid() == 0:
                user = NOBODY
                for entry in [self.tmp, *self.tmp.rglob("*")]:
                    os.chown(entry, NOBODY, NOBODY, follow_symlinks=False)

            def limits():
                if file_size_limit:
                    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))
                if user is not None:
                    os.setgroups([])
                    os.setgid(user)
                    os.setuid(user)
            started = time.monotonic()
            run = subprocess.run([sh or self.SH, "-e", str(script)],  # the runner's arguments for `shell: sh`
                                 cwd=self.workspace, env=process_env, capture_output=True, text=True, timeout=90,
                                 preexec_fn=limits)
            seconds = time.monotonic() - started
            outputs = parse_github_output(output.read_text())
            steps[step["id"]] = outputs
            results.append(StepRun(step["id"], run.returncode, run.stdout, run.stderr, outputs, seconds))
            if run.returncode != 0:
                break
        action_outputs = {name: evaluate(spec["value"], inputs, steps) for name, spec in ACTION["outputs"].items()}
        result = ActionRun(results, action_outputs)
        self.assertNotIn(KEY, result.log, "the API key was printed")
        return result

    def downloads(self, site=None):
        return [p for p in (site or self.site).requests if "/releases/download/" in p]

    def path_without(self, *names):
        """A PATH holding every program of this one but those named."""
        tools = pathlib.Path(tempfile.mkdtemp(prefix="tools-without-", dir=self.tmp))
        for directory in os.environ["PATH"].split(os.pathsep):
            if not os.path.isdir(directory):
                continue
            for entry in os.listdir(directory):
                link = tools / entry
                if entry in names or link.exists() or link.is_symlink():
                    continue
                link.symlink_to(os.path.join(directory, entry))
        return str(tools)

    def busybox_tools(self):
        """A folder of every BusyBox applet, the tools of an alpine container."""
        tools = pathlib.Path(tempfile.mkdtemp(prefix="busybox-", dir=self.tmp))
        busybox = shutil.which("busybox")
        for applet in subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split():
            (tools / applet).symlink_to(busybox)
        return tools

    def leftovers(self):
        """Files a run left behind in the tool cache besides the binary and its marker."""
        return [p for p in self.tool_cache.rglob("*") if p.name.startswith(".mintlify-agent-gate")]

    def test_a_release_runs_the_verified_binary_with_the_inputs_then_uses_the_cache(self):
        first = self.run_action(with_={"require_pr": "true", "job_id": "job_with"},
                                env={"MINTLIFY_JOB_ID": "job_from_env", "MINTLIFY_REQUIRE_PR": "false"})
        self.assertEqual(first.code, 0, first.log)
        self.assertEqual(first.outputs, {
            "status": "completed",
            "pr_link": "https://github.com/acme/docs/pull/1",
            "job_id": "job_with",  # with: wins over the workflow's env:
            "result": "completed",
            "repository": "https://github.com/acme/docs",
            "ref": "main",
            "deployment_id": "",  # the outputs of a deployment, empty for a job
            "deployment_status": "",
            "preview_url": "",
            "automation_run_id": "",
        })
        asset = SUPPORTED[("Linux", HOST_ARCH)]
        self.assertEqual(self.downloads(), [f"/{REPOSITORY}/releases/download/{TAG}/{asset}"])
        cached = self.tool_cache / "mintlify-agent-gate" / "1.2.3" / HOST_ARCH.lower()
        self.assertTrue((cached / "mintlify-agent-gate").is_file())
        self.assertTrue(cached.with_name(cached.name + ".complete").is_file())
        self.assertIn("::notice::", first.step("gate").stdout + first.step("gate").stderr)

        second = self.run_action(with_={"job_id": "job_again"})
        self.assertEqual(second.code, 0, second.log)
        self.assertEqual(second.outputs["job_id"], "job_again")
        self.assertEqual(len(self.downloads()), 1, "the second run downloaded again")
        self.assertIn("from the tool cache", second.step("install").stdout)
        install = second.step("install").seconds
        print(f"\n  install step: {first.step('install').seconds:.3f} s with the download, "
              f"{install:.3f} s from the cache", file=sys.stderr)
        self.assertLess(install, 1.0, "a cached install should take well under a second")

    def test_an_input_left_out_or_empty_leaves_the_workflow_env_in_force(self):
        for with_ in [{"job_id": ""}, {"job_id": "", "timeout": ""}]:
            run = self.run_action(with_=with_, env={"MINTLIFY_JOB_ID": "job_from_env"})
            self.assertEqual(run.code, 0, run.log)
            self.assertEqual(run.outputs["job_id"], "job_from_env")
        missing = self.run_action(with_={"job_id": ""})
        self.assertEqual(missing.code, 2, missing.log)
        self.assertIn("MINTLIFY_JOB_ID", missing.step("gate").stderr)

    def test_every_supported_runner_gets_its_own_asset(self):
        for (runner_os, runner_arch), asset in SUPPORTED.items():
            self.tool_cache = self.tmp / f"_tool_{runner_os}_{runner_arch}"  # one runner's own cache
            run = self.run_action(runner_os=runner_os, runner_arch=runner_arch)
            self.assertEqual(run.code, 0, run.log)
            self.assertEqual(self.downloads()[-1], f"/{REPOSITORY}/releases/download/{TAG}/{asset}")
            exe = ".exe" if runner_os == "Windows" else ""
            arch = "arm64" if "arm64" in asset else "x64"
            self.assertTrue((self.tool_cache / "mintlify-agent-gate" / "1.2.3" / arch / f"mintlify-agent-gate{exe}").is_file())
            # What runs is a private copy in RUNNER_TEMP, not the shared file.
            private = pathlib.Path(run.step("install").outputs["path"])
            self.assertEqual(private.parent.parent, self.tmp / "_temp")
            self.assertEqual(private.name, f"mintlify-agent-gate{exe}")
        self.assertEqual(len(self.downloads()), len(SUPPORTED))

    def test_a_tampered_asset_is_refused_before_it_runs(self):
        asset = self.assets / SUPPORTED[("Linux", HOST_ARCH)]
        ran = self.tmp / "tampered-binary-ran"
        asset.write_text(f"#!/bin/sh\ntouch '{ran}'\n")
        asset.chmod(0o755)
        run = self.run_action()
        self.assertEqual(run.code, 1, run.log)
        self.assertEqual([s.name for s in run.steps], ["install"], "the gate step ran after a bad download")
        self.assertRegex(run.step("install").stdout,
                         r"::error title=mintlify-agent-gate::Could not download .* refusing to run anything: .*"
                         r"SHA-256 [0-9a-f]{64}, but release v1\.2\.3 pins [0-9a-f]{64} for ")
        self.assertFalse(ran.exists(), "the tampered binary was run")
        self.assertEqual([p for p in self.tool_cache.rglob("*") if p.is_file()], [], "a bad binary was cached")
        self.assertEqual(list((self.tmp / "_temp").glob("mintlify-agent-gate*")), [], "a private copy stayed")

    def test_a_changed_binary_in_the_tool_cache_is_downloaded_again(self):
        self.assertEqual(self.run_action().code, 0)
        cached = self.tool_cache / "mintlify-agent-gate" / "1.2.3" / HOST_ARCH.lower() / "mintlify-agent-gate"
        ran = self.tmp / "cached-binary-ran"
        cached.write_text(f"#!/bin/sh\ntouch '{ran}'\n")
        run = self.run_action()
        self.assertEqual(run.code, 0, run.log)
        self.assertIn("does not match the SHA-256 of the release; downloading it again", run.step("install").stdout)
        self.assertFalse(ran.exists())
        self.assertEqual(len(self.downloads()), 2)

    def test_an_unsupported_os_or_arch_gets_a_clear_message(self):
        for runner_os, runner_arch in [("Linux", "ARM"), ("Linux", "X86"), ("Windows", "X86"), ("FreeBSD", "X64")]:
            run = self.run_action(runner_os=runner_os, runner_arch=runner_arch)
            self.assertEqual(run.code, 1, run.log)
            self.assertIn(
                f"::error title=mintlify-agent-gate::mintlify-agent-gate has no binary for a {runner_os} {runner_arch} "
                "runner. It runs on Linux X64 and ARM64, macOS X64 and ARM64, and Windows X64 and ARM64 runners",
                run.step("install").stdout)
        self.assertEqual(self.downloads(), [])

    def test_not_a_release_builds_from_source_with_cargo_or_says_cargo_is_missing(self):
        (self.action_path / "release-pins.txt").unlink()
        run = self.run_action(path=self.path_without("cargo"))
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("::error title=mintlify-agent-gate::This ref of mintlify-agent-gate is not a release, so the gate "
                      "has to be built from source, and there is no cargo on this runner.", run.step("install").stdout)

        # A cargo that records how it was called and "builds" by copying the gate built above.
        calls = self.tmp / "cargo-calls"
        cargo = self.bin / "cargo"
        cargo.write_text(
            "#!/bin/sh\n"
            f"echo \"$(pwd) $*\" >> '{calls}'\n"
            "while [ $# -gt 0 ]; do\n"
            "  [ \"$1\" = --target-dir ] && dir=$2; [ \"$1\" = --target ] && triple=$2; shift\n"
            "done\n"
            "mkdir -p \"$dir/$triple/release\"\n"
            f"cp '{self.gate}' \"$dir/$triple/release/mintlify-agent-gate\"\n")
        cargo.chmod(0o755)
        # The caller's cargo settings, which would put the binary elsewhere, do not apply.
        (self.workspace / ".cargo").mkdir()
        (self.workspace / ".cargo" / "config.toml").write_text('[build]\ntarget = "wasm32-unknown-unknown"\n')
        host = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
        host = re.search(r"^host: (\S+)$", host, re.M).group(1)
        rustup_home = os.environ.get("RUSTUP_HOME", os.path.expanduser("~/.rustup"))
        run = self.run_action(env={"CARGO_BUILD_TARGET": "wasm32-unknown-unknown", "RUSTUP_HOME": rustup_home})
        self.assertEqual(run.code, 0, run.log)
        self.assertIn("This ref of mintlify-agent-gate is not a release: building the gate from source with cargo",
                      run.step("install").stdout)
        self.assertEqual(calls.read_text().split(), [
            str(self.action_path), "build", "--release", "--locked", "--manifest-path", f"{self.action_path}/Cargo.toml",
            "--target", host, "--target-dir", str(self.tmp / "_temp" / "mintlify-agent-gate-build")])
        self.assertEqual(run.outputs["result"], "completed")
        self.assertEqual(self.downloads(), [])


    def asset_path(self):
        return f"/{REPOSITORY}/releases/download/{TAG}/{SUPPORTED[('Linux', HOST_ARCH)]}"

    def cached(self):
        return self.tool_cache / "mintlify-agent-gate" / "1.2.3" / HOST_ARCH.lower() / "mintlify-agent-gate"

    def test_a_server_without_the_release_falls_back_to_its_origin_and_the_token_goes_to_its_own_host_only(self):
        self.site.answers[self.asset_path()] = [(404, {}, b"Not Found")]
        run = self.run_action()
        self.assertEqual(run.code, 0, run.log)
        self.assertEqual(self.downloads(), [self.asset_path()])
        self.assertEqual(self.downloads(self.origin), [self.asset_path()])
        # The server answered 404 to the web download, and to the API's route for a token.
        self.assertEqual(self.site.requests, [self.asset_path(), f"/api/v3/repos/{REPOSITORY}/releases/tags/{TAG}"])
        self.assertEqual(self.site.authorizations, [f"token {GITHUB_TOKEN}"] * 2)
        self.assertEqual(self.origin.authorizations, [None], "the server's token went to another host")
        self.assertNotIn(GITHUB_TOKEN, run.log)
        self.assertEqual(list((self.tmp / "_temp").rglob("token")), [], "the token stayed on disk")
        # A token given as the input replaces the job's.
        self.cached().unlink()
        self.assertEqual(self.run_action(with_={"github_token": "ghp_given"}).code, 0)
        self.assertEqual(self.site.authorizations[-1], "token ghp_given")

    def test_a_sign_in_page_is_recognised_and_named(self):
        page = b"<!DOCTYPE html><html><body>Sign in to GitHub</body></html>"
        for home, origin in [
            ((302, {"Location": "/login?return_to=%2Facme"}, b""), (200, {"Content-Type": "text/html"}, page)),
            ((200, {"Content-Type": "application/octet-stream"}, page), (401, {}, b"")),
        ]:
            self.site.answers[self.asset_path()] = [home]
            self.origin.answers[self.asset_path()] = [origin]
            run = self.run_action()
            self.assertEqual(run.code, 1, run.log)
            out = run.step("install").stdout
            self.assertIn("Sign-in required: pass a token that can read acme/mintlify-agent-gate as github_token", out)
            self.assertNotIn("report it to the action's maintainers", out)
            self.assertEqual(self.leftovers(), [])
            self.assertFalse(self.cached().exists())

    def test_with_a_token_a_private_release_comes_through_the_api_and_storage_gets_no_token(self):
        # The web download asks for a sign-in (a private repository, or a server in private
        # mode); the API, with the token, names the asset and redirects to storage elsewhere.
        self.site.answers[self.asset_path()] = [(302, {"Location": "/login?return_to=x"}, b"")]
        release = f"/api/v3/repos/{REPOSITORY}/releases/tags/{TAG}"
        asset_api = f"/api/v3/repos/{REPOSITORY}/releases/assets/42"
        listing = json.dumps({"url": f"{self.site.url}/api/v3/repos/{REPOSITORY}/releases/1", "name": TAG, "assets": [
            {"url": f"{self.site.url}/api/v3/repos/{REPOSITORY}/releases/assets/41", "id": 41,
             "name": SUPPORTED[("Linux", HOST_ARCH)] + ".sig", "uploader": {"login": "bot", "url": "x"}},
            {"url": f"{self.site.url}{asset_api}", "id": 42, "name": SUPPORTED[("Linux", HOST_ARCH)],
             "uploader": {"login": "bot", "url": f"{self.site.url}/api/v3/users/bot"}},
        ]}, indent=2).encode()
        self.site.answers[release] = [(200, {"Content-Type": "application/json"}, listing)]
        self.site.answers[asset_api] = [(302, {"Location": f"{self.origin.url}/storage/blob"}, b"")]
        (self.tmp / "site" / "storage").mkdir()
        shutil.copy(self.gate, self.tmp / "site" / "storage" / "blob")
        run = self.run_action()
        self.assertEqual(run.code, 0, run.log)
        self.assertEqual(self.site.requests, [self.asset_path(), release, asset_api])
        self.assertEqual(self.site.authorizations, [f"token {GITHUB_TOKEN}"] * 3)
        self.assertEqual((self.origin.requests, self.origin.authorizations), (["/storage/blob"], [None]))
        # Without a token there is no API route: the sign-in is named.
        self.cached().unlink()
        self.site.answers[self.asset_path()] = [(302, {"Location": "/login?return_to=x"}, b"")]
        self.origin.answers[self.asset_path()] = [(404, {}, b"Not Found")]
        run = self.run_action(with_={"github_token": ""})
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("Sign-in required", run.step("install").stdout)
        self.assertNotIn(release, self.site.requests[3:])

    def test_redirects_are_followed_to_https_only_and_never_carry_the_token(self):
        target = f"/{REPOSITORY}/elsewhere"
        self.site.answers[self.asset_path()] = [(302, {"Location": f"{self.origin.url}{target}"}, b"")]
        shutil.copy(self.gate, self.tmp / "site" / REPOSITORY / "elsewhere")
        run = self.run_action()
        self.assertEqual(run.code, 0, run.log)  # http is allowed to a loopback host only
        self.assertEqual(self.site.authorizations, [f"token {GITHUB_TOKEN}"])
        self.assertEqual((self.origin.requests, self.origin.authorizations), ([target], [None]))
        for location in ["http://example.invalid/x", "ftp://example.invalid/x", "file:///etc/passwd"]:
            self.cached().unlink(missing_ok=True)
            self.site.answers[self.asset_path()] = [(302, {"Location": location}, b"")]
            self.origin.answers[self.asset_path()] = [(302, {"Location": location}, b"")]
            run = self.run_action()
            self.assertEqual(run.code, 1, run.log)
            self.assertIn(f"redirected to {location}, which is not https", run.step("install").stdout)

    def test_server_text_in_a_message_carries_no_control_bidirectional_or_invisible_character(self):
        # A Location with an escape sequence, a right-to-left override, a zero-width space, a
        # C1 control and a byte-order mark, as UTF-8 bytes on the wire, to curl, then to
        # BusyBox's wget (alpine), which follows it itself.
        hidden = "\x1b[2J\u202egnp.exe\u200b\u0085\ufeff"
        wire = hidden.encode().decode("latin-1")  # http.server writes header values as Latin-1
        runs = [(None, None)]
        if shutil.which("busybox"):
            tools = self.busybox_tools()
            runs.append((str(tools), str(tools / "sh")))
        for path, sh in runs:
            for site in (self.site, self.origin):
                site.answers[self.asset_path()] = [(302, {"Location": f"ftp://example.invalid/{wire}"}, b"")]
            run = self.run_action(path=path, sh=sh)
            self.assertEqual(run.code, 1, run.log)
            out = run.step("install").stdout
            # (BusyBox prints the header cut at the escape.)
            self.assertIn("redirected to ftp://example.invalid/[2J?gnp.exe???, which is not https" if path is None else
                          "redirected to ftp://example.invalid/", out)
            for character in ["\x1b", "\u202e", "\u200b", "\u0085", "\ufeff"]:
                self.assertNotIn(character, out)

    def test_a_url_with_a_user_name_is_refused_before_any_request(self):
        # http://localhost:1@HOST/ goes to HOST, not to loopback; HOST here is the release's
        # own server, which would serve the binary if asked.
        shutil.copy(self.gate, self.tmp / "site" / REPOSITORY / "elsewhere")
        host = self.origin.url.removeprefix("http://")
        for location in [f"http://localhost:1@{host}/{REPOSITORY}/elsewhere", "http://localhost@example.invalid/x",
                         f"https://user:password@{host}/{REPOSITORY}/elsewhere",
                         f"http://localhost\\@{host}/{REPOSITORY}/elsewhere"]:
            self.origin.requests.clear()
            for site in (self.site, self.origin):
                site.answers[self.asset_path()] = [(302, {"Location": location}, b"")]
            run = self.run_action()
            self.assertEqual(run.code, 1, run.log)
            out = run.step("install").stdout
            self.assertIn(f"redirected to {location}, which has a user name or password in it, refused", out)
            self.assertNotIn("trying again", out)
            self.assertEqual(self.origin.requests, [self.asset_path()], "a request went past the user name")

    def test_transient_failures_are_retried_and_a_refused_connection_moves_to_the_next_source(self):
        self.site.answers[self.asset_path()] = [(503, {}, b"busy"), (429, {}, b"slow down")]
        run = self.run_action()
        self.assertEqual(run.code, 0, run.log)
        self.assertEqual(self.downloads(), [self.asset_path()] * 3)
        self.assertIn("failed (HTTP 503", run.step("install").stdout)
        self.assertEqual(self.downloads(self.origin), [])
        # Nothing listens at $GITHUB_SERVER_URL: three tries, then the release's own server.
        self.cached().unlink()
        self.site.close()
        run = self.run_action()
        self.assertEqual(run.code, 0, run.log)
        self.assertEqual(run.step("install").stdout.count("trying again"), 2)
        self.assertEqual(len(self.downloads(self.origin)), 1)

    def test_a_download_cut_short_is_tried_again_and_named_as_such(self):
        body = self.gate_bytes()
        cut = (200, {"Content-Type": "application/octet-stream", "Content-Length": str(len(body))},
               lambda out: out.write(body[:len(body) // 2]))
        for downloader, path in [("curl", None), ("python3", self.path_without("curl", "wget")),
                                 ("wget", self.path_without("curl", "python3"))]:
            with self.subTest(downloader):
                self.cached().unlink(missing_ok=True)
                self.site.requests.clear()
                self.site.answers[self.asset_path()] = [cut]
                run = self.run_action(path=path)
                self.assertEqual(run.code, 0, run.log)
                self.assertIn(f"Download of {self.site.url}{self.asset_path()} was cut short (HTTP 200",
                              run.step("install").stdout)
                self.assertIn("trying again in 1 s", run.step("install").stdout)
                self.assertEqual(self.downloads(), [self.asset_path()] * 2)
        # Cut short every time, from both servers: said so, and not blamed on the release.
        self.cached().unlink()
        for site in (self.site, self.origin):
            site.answers[self.asset_path()] = [cut] * 3
        run = self.run_action()
        self.assertEqual(run.code, 1, run.log)
        out = run.step("install").stdout
        self.assertIn(f"{self.origin.url}{self.asset_path()}: the download was cut short (HTTP 200, then curl: (18) "
                      "transfer closed with", out)
        self.assertIn("The download was cut short: the network or a proxy", out)
        self.assertNotIn("SHA-256", out)
        self.assertNotIn("report it to the action's maintainers", out)
        self.assertEqual(self.leftovers(), [])

    def test_a_download_that_drips_is_cut_at_the_time_limit_and_tried_again(self):
        # A byte every 0.1 s: never a pause long enough for a read timeout, and 30 s for 300 bytes.
        body = self.gate_bytes()

        def drip(out):
            try:
                for byte in body[:300]:
                    out.write(bytes([byte]))
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass
        for downloader, path in [("curl", None), ("python3", self.path_without("curl", "wget")),
                                 ("wget", self.path_without("curl", "python3"))]:
            with self.subTest(downloader):
                self.cached().unlink(missing_ok=True)
                self.site.answers[self.asset_path()] = [(200, {"Content-Length": str(len(body))}, drip)]
                run = self.run_action(path=path, max_seconds=2)
                self.assertEqual(run.code, 0, run.log)
                self.assertIn(f"Download of {self.site.url}{self.asset_path()} was cut short (HTTP 200",
                              run.step("install").stdout)
                self.assertLess(run.step("install").seconds, 15, run.log)

    def test_a_download_over_the_size_limit_is_cut_off_and_nothing_is_left(self):
        def endless(out):
            chunk = b"\0" * (1 << 20)
            try:
                for _ in range(80):
                    out.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
        for site in (self.site, self.origin):
            site.answers[self.asset_path()] = [(200, {"Content-Type": "application/octet-stream"}, endless)]
        run = self.run_action()
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("larger than 67108864 bytes", run.step("install").stdout)
        self.assertEqual(self.leftovers(), [])
        self.assertEqual(list((self.tmp / "_temp").glob("mintlify-agent-gate*")), [])

    def test_python_downloads_when_there_is_no_curl_and_checks_each_redirect(self):
        without = self.path_without("curl", "wget")
        self.site.answers[self.asset_path()] = [(302, {"Location": f"{self.origin.url}/elsewhere"}, b"")]
        shutil.copy(self.gate, self.tmp / "site" / "elsewhere")
        run = self.run_action(path=without)
        self.assertEqual(run.code, 0, run.log)
        self.assertEqual(self.site.authorizations, [f"token {GITHUB_TOKEN}"])
        self.assertEqual((self.origin.requests, self.origin.authorizations), (["/elsewhere"], [None]))
        self.cached().unlink()
        for site in (self.site, self.origin):
            site.answers[self.asset_path()] = [(302, {"Location": "/login?return_to=x"}, b"")]
        run = self.run_action(path=without)
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("Sign-in required", run.step("install").stdout)
        for location in ["ftp://example.invalid/x", f"http://localhost:1@{self.origin.url.removeprefix('http://')}/elsewhere"]:
            for site in (self.site, self.origin):
                site.answers[self.asset_path()] = [(302, {"Location": location}, b"")]
            run = self.run_action(path=without)
            self.assertEqual(run.code, 1, run.log)
            self.assertIn(f"redirected to {location}, which", run.step("install").stdout)
        self.assertEqual(self.leftovers(), [])

    def test_python_never_imports_the_workspaces_modules(self):
        # Python imports first from the directory it runs in: the workspace, which a pull request
        # fills. A socket.py there would run inside the downloader, a hashlib.py approve any file.
        asset = self.assets / SUPPORTED[("Linux", HOST_ARCH)]
        want = hashlib.sha256(asset.read_bytes()).hexdigest()
        ran = self.tmp / "workspace-module-ran"
        (self.workspace / "socket.py").write_text(f"open({str(ran)!r}, 'a').write('socket ')\nfrom _socket import *\n")
        (self.workspace / "hashlib.py").write_text(
            f"open({str(ran)!r}, 'a').write('hashlib ')\n"
            f"class sha256:\n    def __init__(self, data=b''): pass\n    def hexdigest(self): return {want!r}\n")
        run = self.run_action(path=self.path_without("curl", "wget"))  # Python downloads
        self.assertEqual(run.code, 0, run.log)
        self.assertFalse(ran.exists(), ran.exists() and ran.read_text())
        # Python as the only hasher, and a tampered asset.
        self.cached().unlink()
        asset.write_text("#!/bin/sh\nexit 0\n")
        run = self.run_action(path=self.path_without("sha256sum", "shasum", "openssl"))
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("but release v1.2.3 pins", run.step("install").stdout)
        self.assertFalse(ran.exists(), ran.exists() and ran.read_text())

    def test_wget_downloads_when_there_is_no_curl_and_says_why_it_failed(self):
        run = self.run_action(path=self.path_without("curl", "python3"))
        self.assertEqual(run.code, 0, run.log)
        self.assertEqual(self.site.authorizations, [None], "the token is sent by curl only")
        self.cached().unlink()
        for site in (self.site, self.origin):
            site.answers[self.asset_path()] = [(404, {}, b"Not Found")]
        run = self.run_action(path=self.path_without("curl", "python3"))
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("404", run.step("install").stdout)
        # wget follows a redirect itself: one with a user name is refused after the fact.
        shutil.copy(self.gate, self.tmp / "site" / "elsewhere")
        location = f"http://localhost:1@{self.origin.url.removeprefix('http://')}/elsewhere"
        for site in (self.site, self.origin):
            site.answers[self.asset_path()] = [(302, {"Location": location}, b"")]
        run = self.run_action(path=self.path_without("curl", "python3"))
        self.assertEqual(run.code, 1, run.log)
        self.assertIn(f"redirected to {location}, which has a user name or password in it", run.step("install").stdout)
        self.assertFalse(self.cached().exists())
        # Redirects it may follow, as github.com's always does (to its storage): a relative one,
        # then one to another host. GNU wget prints "Location: URL [following]" beside the headers.
        # (This server speaks HTTP/1.0 and closes each connection: it says so, or wget may try to
        # reuse it.)
        self.site.requests.clear()
        self.site.answers[self.asset_path()] = [(302, {"Location": "/moved", "Connection": "close"}, b"")]
        self.site.answers["/moved"] = [(302, {"Location": f"{self.origin.url}/elsewhere", "Connection": "close"}, b"")]
        run = self.run_action(path=self.path_without("curl", "python3"))
        self.assertEqual(run.code, 0, run.log)
        self.assertEqual(self.site.requests, [self.asset_path(), "/moved"])
        self.assertEqual(self.origin.requests[-1], "/elsewhere")
        # A redirect loop ends where wget stops following it.
        self.cached().unlink()
        for site in (self.site, self.origin):
            site.answers[self.asset_path()] = [(302, {"Location": self.asset_path(), "Connection": "close"}, b"")] * 30
        run = self.run_action(path=self.path_without("curl", "python3"))
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("HTTP 302", run.step("install").stdout)
        self.assertIn("redirections exceeded", run.step("install").stdout)

    @unittest.skipUnless(shutil.which("busybox"), "BusyBox is not installed")
    def test_an_alpine_like_container_with_busybox_alone_works(self):
        # sh, wget, sha256sum and every other tool from BusyBox, as in an alpine container.
        tools = self.busybox_tools()
        self.assertFalse((tools / "curl").exists())
        # A download cut short after its 200 (BusyBox wget: "connection closed prematurely") is
        # tried again.
        body = self.gate_bytes()
        self.site.answers[self.asset_path()] = [
            (200, {"Content-Length": str(len(body))}, lambda out: out.write(body[:len(body) // 2]))]
        run = self.run_action(path=str(tools), sh=str(tools / "sh"))
        self.assertEqual(run.code, 0, run.log)
        self.assertEqual(run.outputs["result"], "completed")
        self.assertTrue(self.cached().is_file())
        self.assertIn("was cut short (HTTP 200", run.step("install").stdout)
        for site in (self.site, self.origin):
            site.answers[self.asset_path()] = [(302, {"Location": "/login?return_to=x"}, b"")]
        self.cached().unlink()
        run = self.run_action(path=str(tools), sh=str(tools / "sh"))
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("Sign-in required", run.step("install").stdout)

    def test_a_missing_downloader_or_hasher_is_named_in_one_line(self):
        run = self.run_action(path=self.path_without("curl", "wget", "python3"))
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("Neither curl, wget nor python3 is in this runner's system folders", run.step("install").stdout)
        self.assertIn("so the gate cannot be downloaded: install curl", run.step("install").stdout)
        hashers = ("sha256sum", "shasum", "openssl", "python3")
        no_hasher = self.path_without(*hashers)
        run = self.run_action(path=no_hasher)
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("::error title=mintlify-agent-gate::Nothing in this runner's system folders", run.step("install").stdout)
        # One on the job's PATH only (an earlier step's $GITHUB_PATH) is not used either.
        (self.bin / "sha256sum").symlink_to(shutil.which("sha256sum"))
        run = self.run_action(path=no_hasher)
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("one found only on the job's PATH is not trusted", run.step("install").stdout)
        (self.bin / "sha256sum").unlink()
        # Nor one in the system's other folders (/usr/local/bin, the user's on Intel Macs).
        run = self.run_action(path=os.environ["PATH"], hashers=no_hasher)
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("Nothing in this runner's system folders", run.step("install").stdout)
        for hasher in [("sha256sum",), ("sha256sum", "shasum"), ("sha256sum", "shasum", "openssl")]:
            self.tool_cache = self.tmp / ("_tool_" + "_".join(hasher))
            run = self.run_action(path=self.path_without(*hasher))
            self.assertEqual(run.code, 0, run.log)

    def test_windows_certutil_checks_the_download_where_nothing_else_can(self):
        # A Windows whose system folders have no other hasher: certutil's output (older versions
        # print the digest in pairs, with CRLF), made here from this machine's sha256sum.
        tools = pathlib.Path(self.path_without("sha256sum", "shasum", "openssl", "python3"))
        certutil = tools / "certutil"
        certutil.write_text(
            "#!/bin/sh\n"
            "[ \"$1 $3\" = '-hashfile SHA256' ] || exit 2\n"
            "printf 'SHA256 hash of %s:\\r\\n' \"$2\"\n"
            f"'{shutil.which('sha256sum')}' <\"$2\" | sed 's/ .*//; s/../& /g; s/ $/\\r/' | tr a-f A-F\n"
            "printf 'CertUtil: -hashfile command completed successfully.\\r\\n'\n")
        certutil.chmod(0o755)
        run = self.run_action(path=str(tools), runner_os="Windows", runner_arch="X64")
        self.assertEqual(run.code, 0, run.log)
        self.assertTrue((self.tool_cache / "mintlify-agent-gate" / "1.2.3" / "x64" / "mintlify-agent-gate.exe").is_file())
        # The same with a tampered asset: refused.
        asset = self.assets / SUPPORTED[("Windows", "X64")]
        asset.write_text("#!/bin/sh\nexit 0\n")
        self.tool_cache = self.tmp / "_tool_tampered"
        run = self.run_action(path=str(tools), runner_os="Windows", runner_arch="X64")
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("but release v1.2.3 pins", run.step("install").stdout)
        # certutil is Windows' own: elsewhere it is not a hasher.
        run = self.run_action(path=str(tools))
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("Nothing in this runner's system folders", run.step("install").stdout)

    def test_tools_put_first_on_path_by_an_earlier_step_never_run_in_the_install_step(self):
        # An earlier step's $GITHUB_PATH folder holding a hasher that approves anything, and
        # every other tool the step uses, each leaving a mark if it runs.
        asset = self.assets / SUPPORTED[("Linux", HOST_ARCH)]
        want = hashlib.sha256(asset.read_bytes()).hexdigest()
        ran = self.tmp / "tampered-binary-ran"
        asset.write_text(f"#!/bin/sh\ntouch '{ran}'\n")
        marks = self.tmp / "marks"
        marks.mkdir()
        for hasher in ["sha256sum", "shasum", "openssl", "python3", "certutil"]:
            fake = self.bin / hasher
            fake.write_text(f"#!/bin/sh\ntouch '{marks}/{hasher}'\necho '{want}  -'\n")
            fake.chmod(0o755)
        for tool in ["curl", "wget", "cp", "mv", "rm", "mkdir", "mktemp", "chmod", "cat", "head", "tail", "tr",
                     "sed", "grep", "wc", "sleep"]:
            fake = self.bin / tool
            fake.write_text(f"#!/bin/sh\ntouch '{marks}/{tool}'\nexec '{shutil.which(tool)}' \"$@\"\n")
            fake.chmod(0o755)
        run = self.run_action()
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("but release v1.2.3 pins", run.step("install").stdout)
        self.assertFalse(ran.exists(), "the tampered binary was run")
        self.assertEqual(sorted(p.name for p in marks.iterdir()), [], "a tool of the job's PATH ran")

    def test_parallel_jobs_sharing_a_tool_cache_and_a_temp_on_another_filesystem_all_pass(self):
        # Twelve install steps at once, one tool cache on this disk, one RUNNER_TEMP for all on
        # a tmpfs where there is one (as self-hosted runners sharing a cache may have).
        shm = pathlib.Path("/dev/shm")
        temp = pathlib.Path(tempfile.mkdtemp(dir=shm if shm.is_dir() else self.tmp))
        self.addCleanup(shutil.rmtree, temp, True)
        step = next(s for s in ACTION["runs"]["steps"] if s["id"] == "install")
        script = self.tmp / "install.sh"
        script.write_text(step["run"])
        runs = []
        for number in range(12):
            output = self.tmp / f"output_{number}"
            output.write_text("")
            env = {"PATH": os.environ["PATH"], "HOME": str(self.tmp), "GITHUB_OUTPUT": str(output),
                   "GITHUB_SERVER_URL": self.site.url, "GITHUB_ACTION_PATH": str(self.action_path),
                   "RUNNER_OS": "Linux", "RUNNER_ARCH": HOST_ARCH, "RUNNER_TEMP": str(temp),
                   "RUNNER_TOOL_CACHE": str(self.tool_cache), "GATE_GITHUB_TOKEN": ""}
            runs.append((output, subprocess.Popen([self.SH, "-e", str(script)], env=env, stdout=subprocess.PIPE,
                                                  stderr=subprocess.STDOUT, text=True)))
        want = hashlib.sha256(self.gate_bytes()).hexdigest()
        paths = set()
        for output, process in runs:
            log = process.communicate(timeout=120)[0]
            self.assertEqual(process.returncode, 0, log)
            path = parse_github_output(output.read_text())["path"]
            self.assertEqual(hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest(), want)
            self.assertTrue(os.access(path, os.X_OK))
            paths.add(path)
        self.assertEqual(len(paths), 12, "two jobs were given the same private copy")
        self.assertEqual(hashlib.sha256(self.cached().read_bytes()).hexdigest(), want)
        self.assertEqual(self.leftovers(), [])

    def gate_bytes(self):
        return pathlib.Path(self.gate).read_bytes()

    def test_a_cache_without_execute_bit_or_with_a_directory_in_place_is_repaired(self):
        self.assertEqual(self.run_action().code, 0)
        self.cached().chmod(0o644)
        run = self.run_action()
        self.assertEqual(run.code, 0, run.log)
        self.assertIn("from the tool cache", run.step("install").stdout)
        self.cached().unlink()
        self.cached().mkdir()
        (self.cached() / "inside").write_text("x")
        run = self.run_action()
        self.assertEqual(run.code, 0, run.log)
        self.assertTrue(self.cached().is_file())
        self.assertEqual(self.leftovers(), [])

    def test_an_odd_tool_cache_a_newline_or_one_that_cannot_be_written(self):
        self.tool_cache = self.tmp / "tool\ncache"
        run = self.run_action()
        self.assertEqual(run.code, 0, run.log)
        self.assertTrue(self.cached().is_file())
        self.assertEqual(run.outputs["result"], "completed")
        blocker = self.tmp / "not-a-directory"
        blocker.write_text("")
        self.tool_cache = blocker / "cache"
        run = self.run_action()
        self.assertEqual(run.code, 0, run.log)
        self.assertIn("cannot be written to: keeping the gate in RUNNER_TEMP", run.step("install").stdout)

    def test_a_runner_temp_that_cannot_be_written_or_is_full_is_named_in_one_line(self):
        blocker = self.tmp / "not-a-directory"
        blocker.write_text("")
        run = self.run_action(env={"RUNNER_TEMP": str(blocker / "temp")})
        self.assertEqual(run.code, 1, run.log)
        out = run.step("install").stdout
        self.assertEqual(len(out.splitlines()), 1, out)
        self.assertRegex(out, rf"^::error title=mintlify-agent-gate::RUNNER_TEMP \({re.escape(str(blocker))}/temp\) cannot "
                              r"be written to \(mktemp: .*Not a directory\), and the gate runs from a private folder "
                              r"there: free space on the runner's disk, .* leave RUNNER_TEMP as the runner sets it\.$")
        # A full RUNNER_TEMP (a file-size limit the binary is over): the cached binary is not
        # downloaded again, nor called changed.
        self.assertEqual(self.run_action().code, 0)
        private_copies = set((self.tmp / "_temp").glob("mintlify-agent-gate*"))  # the run's, kept
        run = self.run_action(file_size_limit=1 << 20)
        self.assertEqual(run.code, 1, run.log)
        out = run.step("install").stdout
        self.assertIn("::error title=mintlify-agent-gate::Could not write in RUNNER_TEMP (", out)
        self.assertIn("is its disk full?", out)
        self.assertNotIn("SHA-256", out)
        self.assertEqual(len(self.downloads()), 1)
        # A full disk under the download: said so, not blamed on the release, nothing left.
        self.cached().unlink()
        run = self.run_action(file_size_limit=1 << 20)
        self.assertEqual(run.code, 1, run.log)
        out = run.step("install").stdout
        self.assertIn("::error title=mintlify-agent-gate::Could not write the download to ", out)
        self.assertNotIn("SHA-256", out)
        self.assertNotIn("cut short", out)
        self.assertEqual(self.leftovers(), [])
        self.assertEqual(set((self.tmp / "_temp").glob("mintlify-agent-gate*")), private_copies)

    def test_a_runner_temp_with_spaces_quotes_substitutions_or_a_line_break_is_only_data(self):
        for name in ["a b'c\"d", "$(touch PWNED)`touch PWNED`\n-x"]:
            temp = self.tmp / "runner temp" / name
            temp.mkdir(parents=True)
            for downloader, path in [("curl", None), ("python3", self.path_without("curl", "wget")),
                                     ("wget", self.path_without("curl", "python3"))]:
                with self.subTest(name=name, downloader=downloader):
                    self.tool_cache = temp / f"tool cache {downloader}"  # with the same characters
                    run = self.run_action(env={"RUNNER_TEMP": str(temp)}, path=path)
                    self.assertEqual(run.code, 0, run.log)
                    self.assertEqual(pathlib.Path(run.step("install").outputs["path"]).parent.parent, temp)
                    self.assertEqual(run.outputs["result"], "completed")
        self.assertEqual(list(self.tmp.rglob("PWNED")), [])

    def test_release_pins_two_hashes_for_one_asset_are_refused_and_case_is_ignored(self):
        pins = self.action_path / "release-pins.txt"
        text = pins.read_text()
        asset = SUPPORTED[("Linux", HOST_ARCH)]
        line = next(l for l in text.splitlines() if l.endswith(" " + asset))
        digest = line.split()[1]
        pins.write_text(text.replace(digest, digest.upper()))
        run = self.run_action()
        self.assertEqual(run.code, 0, run.log)
        pins.write_text(text + f"sha256 {'0' * 64} {asset}\n")
        run = self.run_action()
        self.assertEqual(run.code, 1, run.log)
        self.assertIn(f"gives {asset} two different SHA-256", run.step("install").stdout)

    def test_the_jobs_environment_cannot_trace_the_key_or_fake_the_checksum(self):
        asset = self.assets / SUPPORTED[("Linux", HOST_ARCH)]
        want = hashlib.sha256(asset.read_bytes()).hexdigest()
        ran = self.tmp / "tampered-binary-ran"
        asset.write_text(f"#!/bin/sh\ntouch '{ran}'\n")
        bash_env = self.tmp / "bash_env"
        bash_env.write_text("set -x\nGATE_INPUT_API_URL=http://127.0.0.1:9/\n")
        fake = f"() {{ echo '{want}  -'; }}"
        # umask is a builtin any function replaces: it is called before the download.
        umask_ran = self.tmp / "umask-function-ran"
        hostile = {"BASH_ENV": str(bash_env), "SHELLOPTS": "xtrace", "ENV": str(bash_env),
                   "BASH_FUNC_sha256sum%%": fake, "BASH_FUNC_command%%": "() { \"$@\"; }",
                   "BASH_FUNC_umask%%": f"() {{ touch '{umask_ran}'; }}"}
        bash_as_sh = self.tmp / "bash-as-sh"
        bash_as_sh.mkdir()
        (bash_as_sh / "sh").symlink_to(shutil.which("bash"))
        for sh in ["sh", str(bash_as_sh / "sh")]:
            run = self.run_action(env=hostile, sh=sh)
            self.assertEqual(run.code, 1, run.log)
            self.assertIn("but release v1.2.3 pins", run.step("install").stdout)
            self.assertFalse(ran.exists())
            self.assertFalse(umask_ran.exists(), "a function from the job's environment ran")
        # With a good asset, the gate step runs with tracing off (run_action checks the key).
        shutil.copy(self.gate, asset)
        for sh in ["sh", str(bash_as_sh / "sh")]:
            run = self.run_action(env=hostile, sh=sh)
            self.assertEqual(run.code, 0, run.log)

    @unittest.skipUnless(shutil.which("shasum"), "no shasum (Perl) here")
    def test_perl_options_from_the_jobs_environment_cannot_fake_shasum(self):
        # shasum, macOS's hasher, is a Perl script: PERL5OPT=-MFake loads Fake.pm from PERL5LIB
        # before it runs, and Fake.pm can print any digest.
        asset = self.assets / SUPPORTED[("Linux", HOST_ARCH)]
        want = hashlib.sha256(asset.read_bytes()).hexdigest()
        asset.write_text("#!/bin/sh\nexit 0\n")
        modules = self.tmp / "perl"
        modules.mkdir()
        (modules / "Fake.pm").write_text(f'package Fake;\nBEGIN {{ print "{want}  -\\n"; exit 0 }}\n1;\n')
        for variable in ["PERL5LIB", "PERLLIB"]:
            run = self.run_action(env={variable: str(modules), "PERL5OPT": "-MFake"}, path=self.path_without("sha256sum"))
            self.assertEqual(run.code, 1, run.log)
            self.assertIn("but release v1.2.3 pins", run.step("install").stdout)

    def test_a_ps4_from_the_jobs_environment_cannot_print_the_key_or_the_token(self):
        # bash (sh on macOS and Windows) takes SHELLOPTS, PS4 and BASH_XTRACEFD from the job's
        # environment: the trace of the very line that turns tracing off expands PS4.
        bash_as_sh = self.tmp / "bash-as-sh"
        bash_as_sh.mkdir()
        (bash_as_sh / "sh").symlink_to(shutil.which("bash"))
        for xtracefd in ["1", "2"]:
            hostile = {"SHELLOPTS": "xtrace", "BASH_XTRACEFD": xtracefd,
                       "PS4": "+${GATE_INPUT_API_KEY}${GATE_GITHUB_TOKEN} "}
            run = self.run_action(env=hostile, sh=str(bash_as_sh / "sh"), unprivileged=True)  # checks the key
            self.assertEqual(run.code, 0, run.log)
            self.assertNotIn(GITHUB_TOKEN, run.log)

    def test_only_the_actions_own_inputs_are_passed_on_and_a_long_prompt_is_refused(self):
        dotenv = self.tmp / "stray.env"
        run = self.run_action(env={"GATE_INPUT_DOTENV": str(dotenv)})
        self.assertEqual(run.code, 0, run.log)
        self.assertFalse(dotenv.exists(), "a GATE_INPUT_* of the job's env reached the gate")
        run = self.run_action(with_={"prompt": "x" * 32001})
        self.assertEqual(run.code, 2, run.log)
        self.assertIn("The prompt input is 32001 bytes long, over the 32000 that an input can carry on every runner: "
                      "write the prompt to a file in an earlier step and pass its path as prompt_file instead.",
                      run.step("gate").stdout)


class ActionOnBashTest(ActionTest):
    """Every test again with bash started as sh, the `sh` of macOS and of Git for Windows (dash
    is Ubuntu's), which reads SHELLOPTS and imports exported functions."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.SH = os.path.join(cls.built.name, "sh")
        os.symlink(shutil.which("bash"), cls.SH)


if __name__ == "__main__":
    unittest.main(verbosity=2)
