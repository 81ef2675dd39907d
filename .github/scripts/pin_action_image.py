#!/usr/bin/env python3
"""Point action.yml at a pushed image by digest, for a release's own commit.

On main, action.yml builds its Dockerfile in every job that uses it; a release tag instead
pulls the image that release.yml pushed, which takes seconds. Usage:

    pin_action_image.py action.yml ghcr.io/owner/repo@sha256:<64 hex>
"""

import os
import re
import sys
import tempfile

IMAGE_REF = re.compile(r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}$")
IMAGE_LINE = re.compile(r"^  image: Dockerfile$", re.MULTILINE)


def pin(text, image_ref):
    """The action.yml text with its one `image: Dockerfile` line pointing at image_ref."""
    if not IMAGE_REF.match(image_ref):
        raise ValueError(f"{image_ref!r} is not registry/name@sha256:<digest>: pin by digest, not by tag")
    found = len(IMAGE_LINE.findall(text))
    if found != 1:
        raise ValueError(f"expected one '  image: Dockerfile' line under runs:, found {found}")
    return IMAGE_LINE.sub(f"  image: docker://{image_ref}", text)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    path, image_ref = argv[1], argv[2]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        pinned = pin(text, image_ref)
    except ValueError as error:
        print(f"error: {path}: {error}", file=sys.stderr)
        return 1
    # Written whole or not at all.
    directory = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, delete=False) as f:
        f.write(pinned)
    os.replace(f.name, path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
