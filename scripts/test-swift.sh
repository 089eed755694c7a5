#!/usr/bin/env bash
# The Swift binding tests (tests/swift): generates the Swift bindings from
# the debug library, compiles them with the tests using swiftc (Swift 6 from
# Debian trixie, in the root scripts/swift-root.sh builds) and runs them
# under XCTest against the library and the real server. The server and its
# inspectorate run on this machine (tests/python/inspectorate.py); only the
# compiler and the test binary run in the root, which sees build/swift at the
# same path through a bind mount. Expects scripts/test.sh to have built the
# library, the generator and the server.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
out="$PWD/build/swift"
lib="$target/debug/libkiemtra_mobile.so"
root="$(scripts/swift-root.sh | tail -n 1)"
# -E: the test binary needs the launcher's environment.
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo -E"; fi

# Regenerated every run: stale bindings mis-call silently.
rm -rf "$out"
mkdir -p "$out/gen" "$out/src"
"$target/debug/uniffi-bindgen" generate --library "$lib" --language swift --out-dir "$out/gen" >/dev/null
cp "$lib" "$out/"
cp tests/swift/*.swift "$out/src/"

$SUDO mkdir -p "$root$out"
$SUDO mount --bind "$out" "$root$out"
$SUDO mount -t proc proc "$root/proc"
cleanup() {
  $SUDO umount "$root/proc" 2>/dev/null || true
  $SUDO umount "$root$out" 2>/dev/null || true
}
trap cleanup EXIT

# One module: the generated file and the tests (what an app target holds).
# Swift 5 language mode: Swift 6's strict concurrency checking is not what
# this generated code targets.
start=$(date +%s)
$SUDO chroot "$root" /usr/bin/nice -n 10 swiftc -swift-version 5 -module-name KiemtraAppTests \
  -Xcc -fmodule-map-file="$out/gen/kiemtra_mobileFFI.modulemap" -I "$out/gen" \
  -L "$out" -lkiemtra_mobile -Xlinker -rpath -Xlinker "$out" \
  "$out/gen/kiemtra_mobile.swift" "$out"/src/*.swift -o "$out/kiemtra-app-tests"
echo "swift: compiled in $(($(date +%s) - start)) s"

.venv/bin/python tests/python/inspectorate.py --workdir "$out/run" --worlds walk,cancel,errors -- \
  $SUDO chroot "$root" "$out/kiemtra-app-tests"
