"""The release's "Commit the pins, tag that commit, keep it on the releases branch" step, run as
the runner runs it (bash -e, its env:) against a local bare repository standing in for GitHub:
the same binaries make the same commit and a re-run reuses the tag, other binaries are refused,
and every release commit stays reachable from the releases branch, which only fast-forwards."""

import os
import pathlib
import subprocess
import tempfile
import unittest

import yaml

WORKFLOW = pathlib.Path(__file__).resolve().parent.parent / "workflows" / "release.yml"
STEP = "Commit the pins, tag that commit, keep it on the releases branch"


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


class ReleaseTagTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = pathlib.Path(tmp.name)
        workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
        self.step = next(s for s in workflow["jobs"]["publish"]["steps"] if s.get("name") == STEP)
        self.server = self.tmp / "server"
        self.remote = self.server / "acme" / "gate.git"
        self.remote.mkdir(parents=True)
        git(self.remote, "init", "--quiet", "--bare", "--initial-branch=main")
        seed = self.tmp / "seed"
        git(self.tmp, "clone", "--quiet", str(self.remote), str(seed))
        self.identity = {"GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
                         "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}
        (seed / "README.md").write_text("gate\n")
        self.commit_on_main(seed, "first", "2026-01-01T00:00:00Z")
        self.seed = seed

    def commit_on_main(self, seed, message, date):
        git(seed, "add", "-A")
        subprocess.run(["git", "commit", "--quiet", "-m", message], cwd=seed, check=True,
                       env={**os.environ, **self.identity, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
        git(seed, "push", "--quiet", "origin", "HEAD:main")
        return git(seed, "rev-parse", "HEAD")

    def publish(self, sha, tag, pins):
        """The step in a fresh checkout of `sha`, as actions/checkout leaves it (detached)."""
        work = pathlib.Path(tempfile.mkdtemp(dir=self.tmp))
        git(self.tmp, "clone", "--quiet", str(self.remote), str(work))
        git(work, "checkout", "--quiet", "--detach", sha)
        (work / "release-pins.txt").write_text(pins)
        output = self.tmp / "output"
        output.write_text("")
        script = self.tmp / "step.sh"
        script.write_text(self.step["run"])
        env = {"PATH": os.environ["PATH"], "HOME": str(self.tmp), "GITHUB_OUTPUT": str(output),
               "GITHUB_SERVER_URL": f"file://{self.server}", "GITHUB_REPOSITORY": "acme/gate.git",
               "TAG": tag, "GH_TOKEN": "ghs_not_a_token", "GIT_CONFIG_NOSYSTEM": "1"}
        run = subprocess.run(["bash", "-e", str(script)], cwd=work, env=env, capture_output=True, text=True)
        commit = output.read_text().partition("commit=")[2].strip()
        return run, commit

    def test_a_re_run_makes_the_same_commit_and_reuses_the_tag(self):
        main = git(self.seed, "rev-parse", "HEAD")
        run, commit = self.publish(main, "v0.1.0", "pins A\n")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(git(self.remote, "rev-parse", "v0.1.0^{commit}"), commit)
        self.assertEqual(git(self.remote, "rev-parse", f"{commit}^"), main)
        self.assertEqual(git(self.remote, "rev-parse", "releases"), commit)

        again, same = self.publish(main, "v0.1.0", "pins A\n")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("reusing", again.stdout)
        self.assertEqual(same, commit)
        self.assertEqual(git(self.remote, "rev-parse", "releases"), commit)

        other, _ = self.publish(main, "v0.1.0", "pins B\n")
        self.assertNotEqual(other.returncode, 0)
        self.assertIn("whose pins differ from these binaries", other.stdout)
        self.assertEqual(git(self.remote, "rev-parse", "v0.1.0^{commit}"), commit)

    def test_every_release_commit_stays_on_the_releases_branch(self):
        first, one = self.publish(git(self.seed, "rev-parse", "HEAD"), "v0.1.0", "pins 1\n")
        self.assertEqual(first.returncode, 0, first.stderr)
        (self.seed / "README.md").write_text("gate 2\n")
        main = self.commit_on_main(self.seed, "second", "2026-02-01T00:00:00Z")
        second, two = self.publish(main, "v0.2.0", "pins 2\n")
        self.assertEqual(second.returncode, 0, second.stderr)
        head = git(self.remote, "rev-parse", "releases")
        for commit in (one, two):
            git(self.remote, "merge-base", "--is-ancestor", commit, head)  # raises if not
        self.assertEqual(git(self.remote, "rev-parse", f"{head}^{{tree}}"), git(self.remote, "rev-parse", f"{two}^{{tree}}"))
        # A re-run of the second changes nothing.
        again, _ = self.publish(main, "v0.2.0", "pins 2\n")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(git(self.remote, "rev-parse", "releases"), head)


if __name__ == "__main__":
    unittest.main()
