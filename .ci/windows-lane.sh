#!/usr/bin/env bash
# The Windows lane: lints the crate for x86_64-pc-windows-gnu with clippy, then builds it and runs
# its whole `cargo test` suite under wine, on this Linux machine. Run from .ci/run; by hand:
#
#   bash .ci/windows-lane.sh [clippy|test|all] [extra cargo args...]
#
# Everything comes from Debian's packages, installed here the first time (about 3 minutes):
# - rustup cannot add a Windows target without its own download server, so the lane uses Debian's
#   rustc-web (with its cargo and clippy) and builds std for the target from rust-web-src
#   (-Zbuild-std, allowed by RUSTC_BOOTSTRAP=1);
# - gcc-mingw-w64 compiles ring's C code and links for the target;
# - wine runs the test binaries. Wine 8 lacks bcryptprimitives.dll (ProcessPrng, which Rust's std
#   calls since 1.78), so a stand-in that calls RtlGenRandom is compiled into the wine prefix;
# - cargo's runner runs each test binary under wine with stdin from /dev/null, gives it the gate's
#   path in Windows form, and drops CARGO_TARGET_*_RUNNER, which assert_cmd would otherwise wrap
#   around the gate as well.
set -euo pipefail
mode=${1:-all}
shift || true
cd "$(dirname "$0")/.."
triple=x86_64-pc-windows-gnu
target_dir=$PWD/target/windows-lane
prefix=$PWD/target/windows-lane/wine

rustc_ok() { /usr/bin/rustc --version 2>/dev/null | grep -q '^rustc 1\.9[6-9]'; }
need=()
rustc_ok || need+=(rustc-web cargo-web rust-web-src)
[ -x /usr/bin/clippy-driver ] || need+=(rust-web-clippy)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
command -v wine >/dev/null || need+=(wine wine64)
if [ "${#need[@]}" -gt 0 ]; then
  echo "windows-lane: installing ${need[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
rustc_ok || { echo "windows-lane: Debian's rustc-web 1.96 or later is needed" >&2; exit 1; }

# Debian's tools first, so that `cargo clippy` finds Debian's cargo-clippy and clippy-driver, not
# rustup's, whose std has no Windows target.
export PATH=/usr/bin:$PATH
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 WINEPREFIX=$prefix WINEDEBUG=-all
unset RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER CARGO_BUILD_TARGET
mkdir -p "$prefix"
if [ ! -f "$prefix/drive_c/windows/system32/bcryptprimitives.dll" ]; then
  wineboot -i >/dev/null 2>&1 || true
  shim=$(mktemp -d)
  cat >"$shim/bcryptprimitives.c" <<'C'
#include <windows.h>
#include <ntsecapi.h>
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len) { ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len; if (!RtlGenRandom(data, n)) return FALSE; data += n; len -= n; }
  return TRUE;
}
C
  x86_64-w64-mingw32-gcc -shared -O2 -o "$prefix/drive_c/windows/system32/bcryptprimitives.dll" \
    "$shim/bcryptprimitives.c" -ladvapi32
  rm -rf "$shim"
fi

name=mintlify-agent-gate
runner=$target_dir/wine-runner.sh
winexe=$(winepath -w "$target_dir/$triple/debug/$name.exe" 2>/dev/null)
cat >"$runner" <<R
#!/bin/bash
exec env -u CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER 'CARGO_BIN_EXE_$name=$winexe' wine "\$@" </dev/null
R
chmod +x "$runner"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$runner
cargo=(/usr/bin/cargo)
common=(--locked "-Zbuild-std=std,panic_abort,panic_unwind,test" --target "$triple" --target-dir "$target_dir")

start=$SECONDS
case "$mode" in
  clippy | all) "${cargo[@]}" clippy --all-targets "${common[@]}" "$@" -- -D warnings ;;
  test) ;;
  *) echo "usage: .ci/windows-lane.sh [clippy|test|all] [cargo args...]" >&2; exit 2 ;;
esac
case "$mode" in
  test | all) "${cargo[@]}" test --no-fail-fast "${common[@]}" "$@" ;;
esac
echo "windows-lane: $mode in $((SECONDS - start)) s after the packages"
