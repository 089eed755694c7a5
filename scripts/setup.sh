#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine:
# cmake and nasm (turbojpeg builds its bundled libjpeg-turbo), headless
# Chromium and its driver for the browser tests, and a Python venv with
# pytest and selenium for the Python tests. Safe to run again: it only
# installs what is missing.
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
# The browser tests drive Debian's Chromium through its matching driver (no download at test time).
if ! $only_build && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
  missing+=(chromium chromium-driver)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if $only_build; then exit 0; fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import pytest, PIL, cryptography, selenium' 2>/dev/null; then
  echo "setup: creating the Python venv (.venv)"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r tests/python/requirements.txt
fi
