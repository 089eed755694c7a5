#!/usr/bin/env bash
# The README's first command: builds and runs the server, with the arguments
# of `kiemtra-server serve` (for example `--data kiemtra-data --addr
# 127.0.0.1:8080 --demo`). On a fresh machine the build needs cmake and nasm
# (turbojpeg builds its bundled libjpeg-turbo with them): setup.sh installs
# them first if they are missing, and nothing else (no browser, no venv).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build
exec cargo run --release -p kiemtra-server -- serve "$@"
