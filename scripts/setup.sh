#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine:
# cmake and nasm (turbojpeg builds its bundled libjpeg-turbo), headless
# Chromium and its driver for the browser tests, and a Python venv with
# pytest and selenium for the Python tests. Safe to run again: it only
# installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v nasm >/dev/null 2>&1 || missing+=(nasm)
# The browser tests drive Debian's Chromium through its matching driver (no download at test time).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then missing+=(chromium chromium-driver); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import pytest, PIL, cryptography, selenium' 2>/dev/null; then
  echo "setup: creating the Python venv (.venv)"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r tests/python/requirements.txt
fi
