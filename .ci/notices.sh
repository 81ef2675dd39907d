#!/usr/bin/env bash
# Third-party notices: every crate compiled into the gate, with the text of its license, as an
# HTML page. The release ships it beside the binaries; .ci/run makes it too, so that a new
# dependency whose license cannot be listed fails CI, not the release. Usage:
#
#   bash .ci/notices.sh [OUTPUT]        (default: target/notices/THIRD-PARTY-NOTICES.html)
#
# cargo-about, pinned, is built from crates.io into target/ci-cargo the first time.
set -euo pipefail
out=${1:-target/notices/THIRD-PARTY-NOTICES.html}
cd "$(dirname "$0")/.."
version=0.9.3
about=target/ci-cargo/bin/cargo-about
if [ "$("$about" --version 2>/dev/null)" != "cargo-about $version" ]; then
  cargo install cargo-about --version "$version" --features cli --locked --quiet --root target/ci-cargo
fi
mkdir -p "$(dirname "$out")"
# Every crate of the graph, for every platform, from crates.io; then --frozen: Cargo.lock as it
# is, and the license files in each crate's own package, without asking any other server.
cargo fetch --locked --quiet
"$about" generate --fail --frozen --config .ci/about.toml --output-file "$out" .ci/about.hbs
# Every crate compiled into the binary, on any target, is named in it (proc macros, which run
# only in the compiler, need not be).
missing=0
while read -r name version; do
  if ! grep -qF "<li>$name ${version#v}</li>" "$out"; then
    echo "notices: $name $version is not in $out" >&2
    missing=1
  fi
done < <(cargo tree --locked --edges normal,no-proc-macro --target all --prefix none --format '{p}' |
  grep -v '^mintlify-agent-gate ' | sed 's/ (.*//' | sort -u)
[ "$missing" -eq 0 ]
echo "notices: $(grep -c '^<li>[^<]' "$out") crates in $out"
