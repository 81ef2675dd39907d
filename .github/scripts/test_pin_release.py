"""Tests for pin_release.py. The action's side of the pins is tested in tests/action_e2e.py."""

import hashlib
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

from pin_release import ASSETS, pins_text, sums

SCRIPT = str(pathlib.Path(__file__).resolve().parent / "pin_release.py")


def make_assets(directory):
    for name in ASSETS:
        pathlib.Path(directory, name).write_bytes(f"binary {name}".encode())


class PinTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.assets = os.path.join(self.tmp.name, "dist")
        os.mkdir(self.assets)
        make_assets(self.assets)
        self.pins = os.path.join(self.tmp.name, "release-pins.txt")

    def pin(self, *args):
        argv = args or (self.assets, "acme/mintlify-agent-gate", "v1.2.3", self.pins)
        return subprocess.run([sys.executable, SCRIPT, *argv], capture_output=True, text=True)

    def test_pins_and_sums_name_every_asset_with_its_sha256(self):
        run = self.pin()
        self.assertEqual(run.returncode, 0, run.stderr)
        lines = pathlib.Path(self.pins).read_text(encoding="utf-8").splitlines()
        self.assertIn("repository acme/mintlify-agent-gate", lines)
        self.assertIn("tag v1.2.3", lines)
        self.assertIn("server https://github.com", lines)
        sums_file = pathlib.Path(self.assets, "SHA256SUMS").read_text(encoding="utf-8").splitlines()
        self.assertEqual(len(sums_file), len(ASSETS))
        for name in ASSETS:
            digest = hashlib.sha256(f"binary {name}".encode()).hexdigest()
            self.assertIn(f"sha256 {digest} {name}", lines)
            self.assertIn(f"{digest}  {name}", sums_file)

    def test_a_commit_already_pinned_is_refused(self):
        self.assertEqual(self.pin().returncode, 0)
        before = pathlib.Path(self.pins).read_text(encoding="utf-8")
        again = self.pin()
        self.assertEqual(again.returncode, 1)
        self.assertIn("already pinned", again.stderr)
        self.assertEqual(pathlib.Path(self.pins).read_text(encoding="utf-8"), before)

    def test_a_missing_empty_or_unexpected_asset_is_refused_and_nothing_is_written(self):
        os.remove(os.path.join(self.assets, ASSETS[2]))
        run = self.pin()
        self.assertEqual(run.returncode, 1)
        self.assertIn(f"lacks {ASSETS[2]}", run.stderr)
        make_assets(self.assets)
        pathlib.Path(self.assets, "notes.txt").write_text("x")
        run = self.pin()
        self.assertEqual(run.returncode, 1)
        self.assertIn("also holds notes.txt", run.stderr)
        os.remove(os.path.join(self.assets, "notes.txt"))
        pathlib.Path(self.assets, ASSETS[0]).write_bytes(b"")
        run = self.pin()
        self.assertEqual(run.returncode, 1)
        self.assertIn("not a non-empty file", run.stderr)
        self.assertFalse(os.path.exists(self.pins))
        self.assertFalse(os.path.exists(os.path.join(self.assets, "SHA256SUMS")))

    def test_malformed_repositories_and_tags_are_refused(self):
        found = sums(self.assets)
        for repository in ["acme", "acme/gate/x", "acme/gate\ntag v9.9.9", ""]:
            with self.assertRaises(ValueError, msg=repository):
                pins_text(repository, "v1.2.3", found)
        for tag in ["1.2.3", "v1.2.3\n", "v1", "v1.2", "v01.2.3", "v1.2.3 extra", "v1.2.3\nsha256 x y", ""]:
            with self.assertRaises(ValueError, msg=tag):
                pins_text("acme/gate", tag, found)
        self.assertIn("tag v1.2.3-rc.1\n", pins_text("acme/gate", "v1.2.3-rc.1", found))

    def test_the_server_is_https_or_a_loopback_http_and_nothing_else(self):
        found = sums(self.assets)
        for server in ["https://ghes.example.com", "https://github.com", "http://127.0.0.1:8080", "http://localhost"]:
            self.assertIn(f"\nserver {server}\n", pins_text("acme/gate", "v1.2.3", found, server))
        for server in ["http://github.com", "https://github.com\n", "https://github.com/", "https://x/y", "ftp://h", "https://h\ntag v9.9.9", ""]:
            with self.assertRaises(ValueError, msg=server):
                pins_text("acme/gate", "v1.2.3", found, server)
        run = self.pin(self.assets, "acme/gate", "v1.2.3", self.pins, "https://ghes.example.com")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("server https://ghes.example.com\n", pathlib.Path(self.pins).read_text(encoding="utf-8"))

    def test_usage(self):
        run = self.pin("only-one-argument")
        self.assertEqual(run.returncode, 2)
        self.assertIn("usage: pin_release.py ASSETS_DIR OWNER/REPO vX.Y.Z PINS_FILE [SERVER_URL]", run.stderr)


if __name__ == "__main__":
    unittest.main()
