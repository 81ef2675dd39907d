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
}
EXPRESSION = re.compile(r"^\$\{\{ (inputs\.([a-z_]+)|steps\.([a-z_]+)\.outputs\.([a-z_]+)) \}\}$")


def build_gate(directory):
    """The gate's binary, built by cargo, copied into `directory` and stripped as a release's is."""
    run = subprocess.run(
        ["cargo", "build", "--locked", "--bin", "mintlify-agent-gate", "--message-format=json-render-diagnostics"],
        cwd=ROOT, stdout=subprocess.PIPE, check=True, text=True)
    for line in run.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable"):
            gate = os.path.join(directory, "mintlify-agent-gate")
            shutil.copy(message["executable"], gate)
            if shutil.which("strip"):
                subprocess.run(["strip", gate], check=True)
            return gate
    raise AssertionError("cargo built no executable")


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


def evaluate(value, inputs, steps):
    """A step's env value as the runner evaluates it; any other expression is an error here."""
    value = str(value)
    if "${{" not in value:
        return value
    match = EXPRESSION.match(value)
    assert match, f"the simulated runner does not evaluate {value!r}"
    if match.group(2):
        return inputs[match.group(2)]
    return steps.get(match.group(3), {}).get(match.group(4), "")


class Served:
    """A loopback HTTP server for files under a directory, counting the paths requested."""

    def __init__(self, root):
        self.requests = []
        served = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=root, **kwargs)

            def do_GET(self):
                served.requests.append(self.path)
                super().do_GET()

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
        pin = subprocess.run(
            [sys.executable, str(ROOT / ".github/scripts/pin_release.py"), str(self.assets), REPOSITORY, TAG,
             str(self.action_path / "release-pins.txt")], capture_output=True, text=True)
        self.assertEqual(pin.returncode, 0, pin.stderr)
        self.site = Served(str(self.tmp / "site"))
        self.addCleanup(self.site.close)
        self.tool_cache = self.tmp / "_tool"
        self.workspace = self.tmp / "workspace"
        self.workspace.mkdir()
        self.bin = self.tmp / "bin"  # tools put on PATH by a test
        self.bin.mkdir()

    def run_action(self, with_=None, env=None, runner_os="Linux", runner_arch=HOST_ARCH, path=None):
        """Every step of the composite action, in order, stopping at the first that fails."""
        with_ = {"api_key": KEY, "project_id": "proj_e2e", "job_id": "job_e2e", "api_url": self.api_url,
                 "poll_initial": "100ms", "timeout": "30s", **(with_ or {})}
        declared = ACTION["inputs"]
        unknown = set(with_) - set(declared)
        self.assertFalse(unknown, f"inputs not declared by action.yml: {unknown}")
        inputs = {name: str(with_.get(name, spec.get("default", ""))) for name, spec in declared.items()}
        temp = self.tmp / "_temp"
        temp.mkdir(exist_ok=True)
        base = {
            "PATH": f"{self.bin}{os.pathsep}{path if path is not None else os.environ['PATH']}",
            "HOME": str(self.tmp),
            "GITHUB_ACTIONS": "true",
            "GITHUB_SERVER_URL": self.site.url,
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
            self.assertEqual(step.get("shell"), "bash", f"step {step.get('id')} must run on bash on every OS")
            output = temp / f"set_output_{number}"
            output.write_text("")
            script = temp / f"step_{number}.sh"
            script.write_text(step["run"])
            process_env = dict(base, GITHUB_OUTPUT=str(output))
            for key, value in (step.get("env") or {}).items():
                process_env[key] = evaluate(value, inputs, steps)
            started = time.monotonic()
            run = subprocess.run(["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", str(script)],
                                 cwd=self.workspace, env=process_env, capture_output=True, text=True, timeout=60)
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

    def downloads(self):
        return [p for p in self.site.requests if "/releases/download/" in p]

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
            self.assertTrue(run.step("install").outputs["path"].endswith(
                f"/mintlify-agent-gate/1.2.3/{runner_arch.lower()}/mintlify-agent-gate{exe}"))
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
                         r"::error title=mintlify-agent-gate::.* has SHA-256 [0-9a-f]{64}, but release v1\.2\.3 "
                         r"pins [0-9a-f]{64} for .*: refusing to run it\.")
        self.assertFalse(ran.exists(), "the tampered binary was run")
        self.assertEqual([p for p in self.tool_cache.rglob("*") if p.is_file()], [], "a bad binary was cached")
        self.assertEqual(list((self.tmp / "_temp").glob("*.download")), [])

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
        for runner_os, runner_arch in [("Linux", "ARM"), ("Linux", "X86"), ("Windows", "ARM64"), ("FreeBSD", "X64")]:
            run = self.run_action(runner_os=runner_os, runner_arch=runner_arch)
            self.assertEqual(run.code, 1, run.log)
            self.assertIn(
                f"::error title=mintlify-agent-gate::mintlify-agent-gate has no binary for a {runner_os} {runner_arch} "
                "runner. It runs on Linux X64 and ARM64, macOS X64 and ARM64, and Windows X64 runners",
                run.step("install").stdout)
        self.assertEqual(self.downloads(), [])

    def test_not_a_release_builds_from_source_with_cargo_or_says_cargo_is_missing(self):
        (self.action_path / "release-pins.txt").unlink()
        # No cargo on PATH: only the directories of bash and the coreutils the step may use.
        tools = self.tmp / "tools"
        tools.mkdir()
        for tool in ["bash", "cut", "cat"]:
            (tools / tool).symlink_to(shutil.which(tool))
        run = self.run_action(path=str(tools))
        self.assertEqual(run.code, 1, run.log)
        self.assertIn("::error title=mintlify-agent-gate::This ref of mintlify-agent-gate is not a release, so the gate "
                      "has to be built from source, and there is no cargo on this runner.", run.step("install").stdout)

        # A cargo that records how it was called and "builds" by copying the gate built above.
        calls = self.tmp / "cargo-calls"
        cargo = self.bin / "cargo"
        cargo.write_text(
            "#!/bin/sh\n"
            f"echo \"$@\" >> '{calls}'\n"
            "while [ $# -gt 0 ]; do [ \"$1\" = --target-dir ] && target=$2; shift; done\n"
            "mkdir -p \"$target/release\"\n"
            f"cp '{self.gate}' \"$target/release/mintlify-agent-gate\"\n")
        cargo.chmod(0o755)
        run = self.run_action()
        self.assertEqual(run.code, 0, run.log)
        self.assertIn("This ref of mintlify-agent-gate is not a release: building the gate from source with cargo",
                      run.step("install").stdout)
        self.assertEqual(calls.read_text().split()[:5],
                         ["build", "--release", "--locked", "--manifest-path", f"{self.action_path}/Cargo.toml"])
        self.assertEqual(run.outputs["result"], "completed")
        self.assertEqual(self.downloads(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
