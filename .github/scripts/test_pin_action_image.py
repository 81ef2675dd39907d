"""Tests for pin_action_image.py, on the repository's real action.yml."""

import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

from pin_action_image import pin

HERE = pathlib.Path(__file__).resolve().parent
ACTION = (HERE.parent.parent / "action.yml").read_text(encoding="utf-8")
DIGEST = "sha256:" + "ab" * 32
IMAGE = f"ghcr.io/acme/mintlify-agent-gate@{DIGEST}"


class PinTest(unittest.TestCase):
    def test_the_image_line_and_nothing_else_changes(self):
        pinned = pin(ACTION, IMAGE)
        self.assertIn(f"  image: docker://{IMAGE}\n", pinned)
        self.assertNotIn("image: Dockerfile", pinned)
        before, after = ACTION.splitlines(), pinned.splitlines()
        self.assertEqual(len(before), len(after))
        self.assertEqual(sum(a != b for a, b in zip(before, after)), 1)

    def test_tags_and_malformed_references_are_refused(self):
        for ref in ["ghcr.io/acme/gate:1.0.0", "ghcr.io/acme/gate@sha256:abc", f"gate@{DIGEST}",
                    f"ghcr.io/acme/gate@{DIGEST}\nimage: evil", ""]:
            with self.assertRaises(ValueError, msg=ref):
                pin(ACTION, ref)

    def test_an_action_yml_already_pinned_or_ambiguous_is_refused(self):
        with self.assertRaises(ValueError):
            pin(pin(ACTION, IMAGE), IMAGE)
        with self.assertRaises(ValueError):
            pin(ACTION + "  image: Dockerfile\n", IMAGE)

    def test_the_script_rewrites_the_file_in_place_or_not_at_all(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "action.yml")
            pathlib.Path(path).write_text(ACTION, encoding="utf-8")
            script = str(HERE / "pin_action_image.py")
            bad = subprocess.run([sys.executable, script, path, "ghcr.io/acme/gate:latest"], capture_output=True, text=True)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("pin by digest", bad.stderr)
            self.assertEqual(pathlib.Path(path).read_text(encoding="utf-8"), ACTION)
            good = subprocess.run([sys.executable, script, path, IMAGE], capture_output=True, text=True)
            self.assertEqual(good.returncode, 0, good.stderr)
            self.assertEqual(pathlib.Path(path).read_text(encoding="utf-8"), pin(ACTION, IMAGE))
            self.assertEqual(os.listdir(tmp), ["action.yml"])


if __name__ == "__main__":
    unittest.main()
