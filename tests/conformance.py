#!/usr/bin/env python3
"""The gate against Mintlify's own OpenAPI documents: every request it sends must conform.

The gate's binary (built here with `cargo build --locked`) runs each kind of run against Prism
mocking `tests/conformance/deploy-openapi.json` and `admin-openapi.json` (Mintlify's published
documents, copied byte for byte), behind the front in tests/conformance_front.py. A test fails
when Prism finds any request in violation of its document, or when the verdict, the outputs or
the requests sent are not what the run should give. The first test sends known-bad requests
to prove that a violation is caught at all.

Prism comes from the npm registry at the version tests/conformance/package-lock.json pins;
.ci/run installs it with `npm ci` into target/ci-prism. By hand:
  mkdir -p target/ci-prism && cp tests/conformance/package*.json target/ci-prism/ &&
  npm ci --prefix target/ci-prism --ignore-scripts && python3 tests/conformance.py
Standard library only.
"""

import http.client
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import types
import unittest
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import conformance_front  # noqa: E402
from conformance_front import Script  # noqa: E402
from action_e2e import cargo_gate  # noqa: E402

KEY = "mint_conformance_0123456789abcdef"
PROJECT = "proj_conformance"
PRISM = os.environ.get("PRISM", str(conformance_front.DEFAULT_PRISM))


class Run:
    def __init__(self, code, stdout, stderr, outputs, exchanges):
        self.code, self.stdout, self.stderr, self.outputs = code, stdout, stderr, outputs
        self.exchanges = exchanges
        self.log = stdout + stderr

    def sent(self):
        """The requests, as `METHOD path`."""
        return [f"{e.method} {e.path}" for e in self.exchanges]


class Conformance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(PRISM, os.X_OK):
            raise RuntimeError(f"no Prism at {PRISM}: install the pinned one as this file's docstring says, or set PRISM")
        cls.gate = cargo_gate()
        cls.front = conformance_front.start(PRISM)

    @classmethod
    def tearDownClass(cls):
        conformance_front.stop(cls.front)

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = pathlib.Path(tmp.name)

    def call(self, method, path, body=None, auth=True, content_type="application/json"):
        """One request to the front, as a client other than the gate would send it."""
        headers = {"Authorization": f"Bearer {KEY}"} if auth else {}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.front.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def run_gate(self, env, script=None):
        """The gate with these settings against the front; asserts that every request conformed."""
        self.front.reset(script)
        dotenv = self.tmp / "gate.env"
        dotenv.unlink(missing_ok=True)  # each run's outputs, not an earlier run's of the same test
        base = {k: v for k, v in os.environ.items() if not k.startswith(("MINTLIFY_", "GITHUB_", "RUNNER_"))}
        base.update({
            "MINTLIFY_API_KEY": KEY,
            "MINTLIFY_PROJECT_ID": PROJECT,
            "MINTLIFY_API_URL": self.front.url,
            "MINTLIFY_POLL_INITIAL": "50ms",
            "MINTLIFY_POLL_MAX": "200ms",
            "MINTLIFY_TIMEOUT": "30s",
            "MINTLIFY_DOTENV": str(dotenv),
            **env,
        })
        run = subprocess.run([self.gate], env=base, capture_output=True, text=True, timeout=90)
        outputs = {}
        if dotenv.exists():
            for line in dotenv.read_text(encoding="utf-8").splitlines():
                name, _, value = line.partition("=")
                outputs[name.lower()] = value
        result = Run(run.returncode, run.stdout, run.stderr, outputs, self.front.requests())
        violating = [e for e in result.exchanges if e.violations]
        self.assertEqual(violating, [], f"requests that break the document:\n{self.describe(violating)}\n{result.log}")
        self.assertNotIn(KEY, result.log, "the API key was printed")
        for exchange in result.exchanges:
            self.assertEqual(exchange.headers.get("authorization"), f"Bearer {KEY}", exchange)
        return result

    @staticmethod
    def describe(exchanges):
        return "\n".join(f"  {e.method} {e.path} (to {e.upstream}) body={e.body!r} -> Prism {e.prism_status}: "
                         f"{'; '.join(e.violations)}" for e in exchanges)

    # The harness itself: a check that could not fail would prove nothing.

    def test_the_front_reports_requests_that_break_the_documents(self):
        self.front.reset()
        bad = [
            ("POST", f"/v1/project/preview/{PROJECT}", {"branch": ""}, True),  # minLength 1
            ("POST", f"/v1/project/preview/{PROJECT}", {"ref": "main"}, True),  # branch is required
            ("POST", f"/v1/project/preview/{PROJECT}", None, True),  # the body is required
            ("POST", f"/v1/project/update/{PROJECT}", {"branch": "main"}, True),  # no body is defined
            ("POST", f"/v1/project/update/{PROJECT}", None, False),  # no bearer token
            ("GET", f"/v1/project/update/{PROJECT}", None, True),  # no such method
            ("POST", f"/project/update/{PROJECT}", None, True),  # Prism's path, not the document's
            ("GET", f"/v1/agent/{PROJECT}/job/job-1", None, True),  # an agent path under /v1
            ("POST", f"/v2/agent/{PROJECT}/job", {"prompt": ""}, True),  # minLength 1
            ("POST", f"/v2/agent/{PROJECT}/job/job-1/message", {"message": "x"}, True),  # prompt required
        ]
        for method, path, body, auth in bad:
            status, _ = self.call(method, path, body, auth)
            self.assertGreaterEqual(status, 400, f"{method} {path} {body}")
        exchanges = self.front.requests()
        self.assertEqual(len(exchanges), len(bad))
        missed = [e for e in exchanges if not e.violations]
        self.assertEqual(missed, [], f"bad requests Prism let through:\n{self.describe(missed)}")
        # Plain-text bodies are no JSON body for a JSON operation.
        self.front.reset()
        self.call("POST", f"/v1/project/preview/{PROJECT}", b"branch=main", content_type="text/plain")
        self.assertTrue(self.front.violations(), "a text/plain preview body went through")

    def test_a_chunked_body_reaches_prism_whole(self):
        self.front.reset()
        connection = http.client.HTTPConnection("127.0.0.1", int(self.front.url.rsplit(":", 1)[1]), timeout=30)
        self.addCleanup(connection.close)
        connection.request("POST", f"/v1/project/preview/{PROJECT}", body=iter([b'{"bra', b'nch": "main"}']),
                           headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
                           encode_chunked=True)
        self.assertEqual(connection.getresponse().status, 202)
        (exchange,) = self.front.requests()
        self.assertEqual((exchange.json(), exchange.violations), ({"branch": "main"}, []))

    def test_no_answer_from_prism_is_a_violation_not_a_pass(self):
        hang_up = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(hang_up.close)

        def close_each_connection():
            while True:
                try:
                    connection, _ = hang_up.accept()
                except OSError:
                    return
                connection.close()

        threading.Thread(target=close_each_connection, daemon=True).start()
        dead = types.SimpleNamespace(port=hang_up.getsockname()[1], document="deploy-openapi.json")
        front = conformance_front.Front(dead, dead)
        self.addCleanup(front.close)
        request = urllib.request.Request(f"{front.url}/v1/project/update/{PROJECT}", method="POST",
                                         headers={"Authorization": f"Bearer {KEY}"})
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        self.assertEqual(refused.exception.code, 502)
        (exchange,) = front.violations()
        self.assertIn("did not answer", exchange.violations[0])

    @unittest.skipUnless(sys.platform == "linux", "PR_SET_PDEATHSIG is Linux's")
    def test_no_prism_outlives_a_front_killed_with_sigkill(self):
        front = subprocess.Popen([sys.executable, str(ROOT / "tests" / "conformance_front.py"), "--prism", PRISM],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(front.wait)
        self.addCleanup(front.stdout.close)
        banner = front.stdout.readline()
        pids = [int(pid) for pid in re.findall(r"pid (\d+)", banner)]
        self.assertEqual(len(pids), 2, banner)
        front.kill()
        deadline = time.monotonic() + 20
        while any(pathlib.Path(f"/proc/{pid}").exists() and "zombie" not in self.state(pid) for pid in pids):
            self.assertLess(time.monotonic(), deadline, f"Prism {pids} still running 20 s after its parent died")
            time.sleep(0.05)

    @staticmethod
    def state(pid):
        try:
            return pathlib.Path(f"/proc/{pid}/status").read_text().lower()
        except OSError:
            return "zombie"  # gone between the two reads

    def test_the_front_answers_good_requests_with_the_scripted_sequence(self):
        self.front.reset(Script())
        status, trigger = self.call("POST", f"/v1/project/preview/{PROJECT}", {"branch": "docs/new-page"})
        self.assertEqual(status, 202)
        self.assertEqual(trigger["previewUrl"], Script().preview_url)
        status_id = trigger["statusId"]
        read = [self.call("GET", f"/v1/project/update-status/{status_id}")[1] for _ in range(4)]
        self.assertEqual([r["status"] for r in read], ["queued", "in_progress", "success", "success"])
        self.assertEqual({r["_id"] for r in read}, {status_id}, "the front must keep the asked-for id")
        status, update = self.call("POST", f"/v1/project/update/{PROJECT}")
        self.assertEqual(status, 202)
        self.assertNotEqual(update["statusId"], status_id, "each trigger gets a fresh statusId")
        status, automation = self.call("POST", f"/v1/workflow/{PROJECT}/auto_1/trigger")
        self.assertEqual((status, automation["schemaId"]), (202, "auto_1"))
        self.assertEqual(self.front.violations(), [])

        failing = Script()
        failing.statuses = ["in_progress", "failure"]
        failing.prefer = {"preview": "code=403"}
        self.front.reset(failing)
        self.assertEqual(self.call("POST", f"/v1/project/preview/{PROJECT}", {"branch": "x"})[0], 403)
        self.call("GET", "/v1/project/update-status/abc")
        failed = self.call("GET", "/v1/project/update-status/abc")[1]
        self.assertEqual((failed["_id"], failed["status"], failed["logs"]), ("abc", "failure", failing.failure["logs"]))
        self.assertEqual(self.front.violations(), [], "an error asked for with Prefer is not a violation")

    # The agent job: admin-openapi.json.

    def test_waiting_on_an_agent_job_conforms(self):
        run = self.run_gate({"MINTLIFY_JOB_ID": "job-abc"})
        self.assertEqual(run.code, 0, run.log)
        self.assertEqual(set(run.sent()), {f"GET /v2/agent/{PROJECT}/job/job-abc"})
        self.assertEqual(len(run.sent()), 2)  # active, then completed
        self.assertEqual((run.outputs["status"], run.outputs["pr_link"], run.outputs["ref"]),
                         ("completed", Script().pr_link, Script().job_ref))

    def test_creating_an_agent_job_conforms(self):
        prompt = "Document the new --deploy flag.\n\nKeep the tone: «short», ✓ exact.\n"
        run = self.run_gate({"MINTLIFY_PROMPT": prompt})
        self.assertEqual(run.code, 0, run.log)
        create, *reads = run.exchanges
        self.assertEqual((create.method, create.path), ("POST", f"/v2/agent/{PROJECT}/job"))
        self.assertEqual(create.json(), {"prompt": prompt})
        job_id = run.outputs["job_id"]
        self.assertTrue(job_id.startswith("job-"), run.outputs)
        self.assertEqual({f"{e.method} {e.path}" for e in reads}, {f"GET /v2/agent/{PROJECT}/job/{job_id}"})

    def test_a_follow_up_from_a_file_conforms(self):
        prompt_file = self.tmp / "prompt.md"
        prompt_file.write_text("Also cover the preview.\n", encoding="utf-8")
        run = self.run_gate({"MINTLIFY_JOB_ID": "job-abc", "MINTLIFY_PROMPT_FILE": str(prompt_file)})
        self.assertEqual(run.code, 0, run.log)
        follow_up, *reads = run.exchanges
        self.assertEqual((follow_up.method, follow_up.path), ("POST", f"/v2/agent/{PROJECT}/job/job-abc/message"))
        self.assertEqual(follow_up.json(), {"prompt": "Also cover the preview.\n"})
        self.assertTrue(reads)
        self.assertEqual({f"{e.method} {e.path}" for e in reads}, {f"GET /v2/agent/{PROJECT}/job/job-abc"})

    def test_a_failed_job_and_a_missing_job_conform(self):
        failed = Script()
        failed.job_statuses = ["active", "failed"]
        run = self.run_gate({"MINTLIFY_JOB_ID": "job-abc"}, failed)
        self.assertEqual((run.code, run.outputs["result"]), (1, "failed"), run.log)

        missing = Script()
        missing.prefer = {"job": "code=404"}
        run = self.run_gate({"MINTLIFY_JOB_ID": "job-gone"}, missing)
        self.assertEqual((run.code, run.outputs["result"]), (5, "api_error"), run.log)
        self.assertEqual(run.sent(), [f"GET /v2/agent/{PROJECT}/job/job-gone"], "a 404 is not retried")

    # Deployments, previews and automations: deploy-openapi.json.

    def assert_trigger(self, exchange, path, body=None):
        """A trigger as the document defines it: a JSON body only where it takes one."""
        self.assertEqual((exchange.method, exchange.path), ("POST", path))
        if body is None:
            self.assertEqual(exchange.body, "", "this call takes no body")
        else:
            self.assertEqual(exchange.json(), body)
            self.assertEqual(exchange.headers.get("content-type"), "application/json")
        return json.loads(exchange.answer)

    def assert_reads(self, exchanges, status_id, count):
        self.assertEqual([f"{e.method} {e.path}" for e in exchanges],
                         [f"GET /v1/project/update-status/{status_id}"] * count)

    def test_a_production_deployment_conforms(self):
        run = self.run_gate({"MINTLIFY_DEPLOY": "true"})
        self.assertEqual(run.code, 0, run.log)
        trigger, *reads = run.exchanges
        status_id = self.assert_trigger(trigger, f"/v1/project/update/{PROJECT}")["statusId"]
        self.assert_reads(reads, status_id, 3)  # queued, in_progress, success
        self.assertEqual((run.outputs["deployment_id"], run.outputs["deployment_status"], run.outputs["result"]),
                         (status_id, "success", "deployed"))
        self.assertEqual((run.outputs["preview_url"], run.outputs["status"]), ("", ""))

    def test_a_failed_deployment_conforms_and_exits_8_with_its_reason(self):
        failing = Script()
        failing.statuses = ["queued", "failure"]
        run = self.run_gate({"MINTLIFY_DEPLOY": "true"}, failing)
        self.assertEqual((run.code, run.outputs["result"], run.outputs["deployment_status"]),
                         (8, "deployment_failed", "failure"), run.log)
        self.assertIn(failing.failure["summary"], run.log)
        self.assertIn(failing.failure["logs"][-1], run.log)
        self.assertEqual(len(run.exchanges), 3)

    def test_a_preview_of_a_branch_conforms(self):
        run = self.run_gate({"MINTLIFY_PREVIEW_BRANCH": "docs/new-page"})
        self.assertEqual(run.code, 0, run.log)
        trigger, *reads = run.exchanges
        answer = self.assert_trigger(trigger, f"/v1/project/preview/{PROJECT}", {"branch": "docs/new-page"})
        self.assert_reads(reads, answer["statusId"], 3)
        self.assertEqual((run.outputs["preview_url"], run.outputs["deployment_id"], run.outputs["result"]),
                         (Script().preview_url, answer["statusId"], "deployed"))

    def test_odd_ids_stay_one_path_segment_and_odd_branches_valid_json(self):
        run = self.run_gate({"MINTLIFY_DEPLOYMENT_ID": "a/b ü?#"})
        self.assertEqual(run.code, 0, run.log)
        self.assert_reads(run.exchanges, "a%2Fb%20%C3%BC%3F%23", 3)
        run = self.run_gate({"MINTLIFY_AUTOMATION_ID": "../x", "MINTLIFY_PROJECT_ID": "p/q"})
        self.assertEqual(run.code, 0, run.log)
        self.assertEqual(run.sent(), ["POST /v1/workflow/p%2Fq/..%2Fx/trigger"])
        run = self.run_gate({"MINTLIFY_PREVIEW_BRANCH": "docs/ünï-\"quoted\""})
        self.assertEqual(run.code, 0, run.log)
        self.assertEqual(run.exchanges[0].json(), {"branch": 'docs/ünï-"quoted"'})

    def test_a_plan_without_previews_conforms_and_names_the_plan(self):
        no_previews = Script()
        no_previews.prefer = {"preview": "code=403"}
        run = self.run_gate({"MINTLIFY_PREVIEW_BRANCH": "docs/new-page"}, no_previews)
        self.assertEqual((run.code, run.outputs["result"]), (5, "api_error"), run.log)
        self.assertEqual(len(run.exchanges), 1, "a 403 is not retried")
        self.assertIn("plan", run.log)

    def test_waiting_on_a_deployment_id_conforms(self):
        run = self.run_gate({"MINTLIFY_DEPLOYMENT_ID": "665f0000000000000000abcd"})
        self.assertEqual(run.code, 0, run.log)
        self.assert_reads(run.exchanges, "665f0000000000000000abcd", 3)
        self.assertEqual((run.outputs["deployment_id"], run.outputs["deployment_status"]),
                         ("665f0000000000000000abcd", "success"))

    def test_a_status_about_another_deployment_is_not_trusted(self):
        mixed_up = Script()
        mixed_up.statuses = ["success"]
        mixed_up.status_id_override = "665f0000000000000000ffff"
        run = self.run_gate({"MINTLIFY_DEPLOYMENT_ID": "665f0000000000000000abcd"}, mixed_up)
        self.assertEqual((run.code, run.outputs["result"]), (5, "api_error"), run.log)
        self.assertNotEqual(run.outputs["deployment_status"], "success")

    def test_an_automation_trigger_conforms_and_does_not_wait(self):
        run = self.run_gate({"MINTLIFY_AUTOMATION_ID": "auto_nightly"})
        self.assertEqual(run.code, 0, run.log)
        (trigger,) = run.exchanges
        answer = self.assert_trigger(trigger, f"/v1/workflow/{PROJECT}/auto_nightly/trigger")
        self.assertEqual((run.outputs["automation_run_id"], run.outputs["job_id"], run.outputs["result"]),
                         (answer["instanceId"], answer["jobId"], "started"))
        self.assertRegex(run.log, r"not wait", "the log should say that the run is not waited on")

    def test_an_automation_that_cannot_run_conforms(self):
        for code in (400, 404):
            refused = Script()
            refused.prefer = {"automation": f"code={code}"}
            run = self.run_gate({"MINTLIFY_AUTOMATION_ID": "auto_nightly"}, refused)
            self.assertEqual((run.code, run.outputs["result"], len(run.exchanges)), (5, "api_error", 1), run.log)

    def test_the_agent_then_a_preview_of_its_branch_conforms(self):
        run = self.run_gate({"MINTLIFY_JOB_ID": "job-abc", "MINTLIFY_PREVIEW": "true"})
        self.assertEqual(run.code, 0, run.log)
        sent = run.sent()
        self.assertEqual(sent[:2], [f"GET /v2/agent/{PROJECT}/job/job-abc"] * 2)
        answer = self.assert_trigger(run.exchanges[2], f"/v1/project/preview/{PROJECT}", {"branch": Script().job_ref})
        self.assert_reads(run.exchanges[3:], answer["statusId"], 3)
        self.assertEqual((run.outputs["pr_link"], run.outputs["preview_url"], run.outputs["result"]),
                         (Script().pr_link, Script().preview_url, "deployed"))

    def test_an_agent_job_without_a_pr_skips_the_preview(self):
        nothing_changed = Script()
        nothing_changed.pr_link = None
        run = self.run_gate({"MINTLIFY_JOB_ID": "job-abc", "MINTLIFY_PREVIEW": "true"}, nothing_changed)
        self.assertEqual((run.code, run.outputs["result"]), (0, "completed"), run.log)
        self.assertEqual(set(run.sent()), {f"GET /v2/agent/{PROJECT}/job/job-abc"})

    def test_triggers_without_waiting_conform(self):
        for env, path in [({"MINTLIFY_DEPLOY": "true"}, f"/v1/project/update/{PROJECT}"),
                          ({"MINTLIFY_PREVIEW_BRANCH": "main"}, f"/v1/project/preview/{PROJECT}")]:
            run = self.run_gate({**env, "MINTLIFY_WAIT": "false"})
            self.assertEqual((run.code, run.outputs["result"]), (0, "started"), run.log)
            (trigger,) = run.exchanges
            self.assertEqual(trigger.path, path)
            self.assertEqual(run.outputs["deployment_id"], json.loads(trigger.answer)["statusId"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
