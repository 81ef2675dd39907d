#!/usr/bin/env python3
"""Every YAML block of the README, as a reader would paste it: each parses with a YAML parser
and is a whole file of its kind, valid against check-jsonschema's vendored schema (GitHub
workflows: vendor.github-workflows; GitLab pipelines: vendor.gitlab-ci). The workflows also pass
zizmor's default persona. The Tekton task has no vendored schema and is checked for its shape.

Run by .ci/run with the CI tools' Python, whose bin/ holds check-jsonschema and zizmor.
"""

import pathlib
import re
import subprocess
import sys
import tempfile
import unittest

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
TOOLS = pathlib.Path(sys.executable).parent
BLOCK = re.compile(r"^```yaml\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def kind(doc):
    """What a README block is meant to be pasted as."""
    if not isinstance(doc, dict):
        return None
    # PyYAML reads YAML 1.1, where a bare `on` key is the boolean true.
    if "jobs" in doc and ("on" in doc or True in doc):
        return "github-workflow"
    if str(doc.get("apiVersion", "")).startswith("tekton.dev/") and doc.get("kind") == "Task":
        return "tekton-task"
    if any(isinstance(job, dict) and "script" in job for job in doc.values()):
        return "gitlab-ci"
    return None


class ReadmeYamlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.blocks = BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = pathlib.Path(cls.tmp.name)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def by_kind(self):
        found = {}
        for number, text in enumerate(self.blocks):
            try:
                doc = yaml.safe_load(text)
            except yaml.YAMLError as error:
                self.fail(f"README YAML block {number + 1} does not parse: {error}\n{text}")
            what = kind(doc)
            self.assertIsNotNone(what, f"README YAML block {number + 1} is not a whole workflow, pipeline or task:\n{text}")
            found.setdefault(what, []).append(text)
        return found

    def write(self, subdir, texts, suffix=".yml"):
        directory = self.dir / subdir
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for number, text in enumerate(texts):
            path = directory / f"readme-{number + 1}{suffix}"
            path.write_text(text, encoding="utf-8")
            paths.append(str(path))
        return paths

    def check(self, command):
        run = subprocess.run(command, capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, f"{' '.join(command)}\n{run.stdout}{run.stderr}")

    def test_every_block_parses_and_is_a_whole_file(self):
        found = self.by_kind()
        self.assertGreaterEqual(len(found.get("github-workflow", [])), 3)
        self.assertEqual(len(found.get("gitlab-ci", [])), 1)
        self.assertEqual(len(found.get("tekton-task", [])), 1)
        self.assertEqual(sum(map(len, found.values())), len(self.blocks))

    def test_workflows_match_the_github_workflow_schema_and_pass_zizmor(self):
        paths = self.write("wf/.github/workflows", self.by_kind()["github-workflow"])
        self.check([str(TOOLS / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *paths])
        self.check([str(TOOLS / "zizmor"), "--offline", "--no-progress", str(self.dir / "wf")])

    def test_workflows_name_only_jobs_outputs_and_steps_they_define(self):
        # What the schema cannot see and actionlint would (actionlint cannot be installed from a
        # registry here): a `needs` naming a job that does not exist, or an output no job declares.
        for text in self.by_kind()["github-workflow"]:
            jobs = yaml.safe_load(text)["jobs"]
            for name, job in jobs.items():
                needs = job.get("needs", [])
                needs = [needs] if isinstance(needs, str) else needs
                for need in needs:
                    self.assertIn(need, jobs, f"job {name} needs {need}, which the example does not define")
                job_text = yaml.safe_dump(job)
                for other, output in re.findall(r"needs\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_]+)", job_text):
                    self.assertIn(other, needs, f"job {name} reads needs.{other} without needing it")
                    self.assertIn(output, jobs[other].get("outputs", {}),
                                  f"job {name} reads needs.{other}.outputs.{output}, which job {other} does not declare")
                ids = {step.get("id") for step in job.get("steps", [])}
                for step_id in re.findall(r"steps\.([A-Za-z0-9_-]+)\.outputs\.", job_text):
                    self.assertIn(step_id, ids, f"job {name} reads steps.{step_id}, which it does not have")

    def test_the_gitlab_pipeline_matches_the_gitlab_ci_schema(self):
        paths = self.write("gitlab", self.by_kind()["gitlab-ci"])
        self.check([str(TOOLS / "check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", *paths])

    def test_the_tekton_task_has_a_task_s_shape(self):
        for text in self.by_kind()["tekton-task"]:
            task = yaml.safe_load(text)
            self.assertEqual(task["apiVersion"], "tekton.dev/v1")
            self.assertTrue(task["metadata"]["name"])
            params = {p["name"] for p in task["spec"].get("params", [])}
            workspaces = {w["name"] for w in task["spec"].get("workspaces", [])}
            for step in task["spec"]["steps"]:
                self.assertTrue(step["name"] and step["image"])
                for ref in re.findall(r"\$\(params\.([a-z-]+)\)", text):
                    self.assertIn(ref, params, "the task uses a param it does not declare")
                for ref in re.findall(r"\$\(workspaces\.([a-z-]+)\.", text):
                    self.assertIn(ref, workspaces, "the task uses a workspace it does not declare")


if __name__ == "__main__":
    unittest.main(verbosity=2)
