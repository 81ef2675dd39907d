#!/usr/bin/env python3
"""Pin a release's binaries in the action's own files, for the release's own commit.

Checks that the assets directory holds exactly the binaries the action downloads, writes their
SHA256SUMS beside them (uploaded with the release), and writes release-pins.txt, which the
action's install step reads: the repository and tag to download from, the server the release
is published on (tried after $GITHUB_SERVER_URL, for a GitHub Enterprise Server that has no
copy of the release) and the SHA-256 each binary must have. On main there is no
release-pins.txt, and the action builds from source. Usage:

    pin_release.py ASSETS_DIR OWNER/REPO vX.Y.Z PINS_FILE [SERVER_URL]
"""

import hashlib
import os
import re
import sys
import tempfile

# The action's install step maps RUNNER_OS/RUNNER_ARCH to these names.
ASSETS = (
    "mintlify-agent-gate-linux-x64",
    "mintlify-agent-gate-linux-arm64",
    "mintlify-agent-gate-macos-x64",
    "mintlify-agent-gate-macos-arm64",
    "mintlify-agent-gate-windows-x64.exe",
)
SUMS = "SHA256SUMS"
REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# https, or http to a loopback host (a test's own server); no path, no trailing slash.
SERVER = re.compile(r"^(https://[A-Za-z0-9.-]+(:[0-9]+)?|http://(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?)$")
TAG = re.compile(r"^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$")


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def sums(assets_dir):
    """{asset name: SHA-256} for the directory, which must hold each asset and nothing else."""
    present = set(os.listdir(assets_dir)) - {SUMS}
    missing = sorted(set(ASSETS) - present)
    if missing:
        raise ValueError(f"{assets_dir} lacks {', '.join(missing)}: build every target before releasing")
    extra = sorted(present - set(ASSETS))
    if extra:
        raise ValueError(f"{assets_dir} also holds {', '.join(extra)}: only the binaries the action downloads are released")
    found = {}
    for name in ASSETS:
        path = os.path.join(assets_dir, name)
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            raise ValueError(f"{path} is not a non-empty file")
        found[name] = sha256(path)
    return found


def pins_text(repository, tag, found, server="https://github.com"):
    """The text of release-pins.txt."""
    if not SERVER.fullmatch(server):
        raise ValueError(f"{server!r} is not a server URL like https://github.com")
    if not REPOSITORY.fullmatch(repository):
        raise ValueError(f"{repository!r} is not OWNER/REPO")
    if not TAG.fullmatch(tag):
        raise ValueError(f"{tag!r} is not a version tag like v1.2.3")
    lines = [
        f"# Written by .github/scripts/pin_release.py for {tag}; the action's install step reads it.",
        f"repository {repository}",
        f"tag {tag}",
        f"server {server}",
    ]
    lines += [f"sha256 {found[name]} {name}" for name in ASSETS]
    return "\n".join(lines) + "\n"


def write_whole(path, text):
    """Written whole or not at all."""
    directory = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="\n", dir=directory, delete=False) as f:
        f.write(text)
    os.replace(f.name, path)


def main(argv):
    if len(argv) not in (5, 6):
        print("usage: " + __doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    assets_dir, repository, tag, pins_file = argv[1:5]
    server = argv[5] if len(argv) == 6 else "https://github.com"
    try:
        if os.path.exists(pins_file):
            raise ValueError(f"{pins_file} exists: this commit is already pinned to a release")
        found = sums(assets_dir)
        text = pins_text(repository, tag, found, server)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    write_whole(os.path.join(assets_dir, SUMS), "".join(f"{found[n]}  {n}\n" for n in ASSETS))
    write_whole(pins_file, text)
    print(f"{pins_file}: {tag} of {repository}, {len(found)} binaries pinned")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
