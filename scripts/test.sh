#!/usr/bin/env bash
# Runs every test: formatting and lints, the Rust tests of the whole
# workspace (end-to-end tests start the real server binary on loopback; the
# S3 blob store's tests start SeaweedFS through scripts/seaweedfs.sh), the
# Python, Kotlin (JUnit on the JVM) and Swift (XCTest, in a Debian trixie
# root) tests of freshly generated uniffi bindings, and a `cargo check` of
# the library for the Android and iOS device targets. KIEMTRA_SKIP_SWIFT=1
# leaves out the Swift tests (and the ~3 GB root they need).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"

scripts/setup.sh

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# One build of every target: separate builds of single packages resolve
# features differently and rebuild much of the dependency tree (minutes
# each on two cores). Incremental caches are of no use to a clean clone.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
echo "== build"
cargo build --workspace --locked --lib --bins --tests --examples

echo "== Rust tests"
# The end-to-end tests run the server binary that this same command builds.
export KIEMTRA_SERVER_BIN="$PWD/$target/debug/kiemtra-server"
case "$target" in /*) KIEMTRA_SERVER_BIN="$target/debug/kiemtra-server" ;; esac
cargo test --workspace --locked

echo "== Python bindings"
# The cdylib and the generator come out of the workspace build above (with
# the workspace's unified features the library also carries the generator's
# code; it is a test build, so only its size pays for that).
# Regenerated on every run: a stale .py beside a newer library mis-calls silently.
rm -rf build/python
mkdir -p build/python
"$target/debug/uniffi-bindgen" generate --library "$target/debug/libkiemtra_mobile.so" \
  --language python --out-dir build/python >/dev/null
cp "$target/debug/libkiemtra_mobile.so" build/python/
KIEMTRA_PY_BINDINGS="$PWD/build/python" .venv/bin/python -m pytest -q tests/python

echo "== Kotlin bindings (JUnit)"
scripts/test-kotlin.sh

if [ "${KIEMTRA_SKIP_SWIFT:-0}" = 1 ]; then
  echo "== Swift bindings: SKIPPED (KIEMTRA_SKIP_SWIFT=1)"
else
  echo "== Swift bindings (XCTest)"
  scripts/test-swift.sh
fi

echo "== device targets (cargo check)"
scripts/check-targets.sh
