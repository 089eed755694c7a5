#!/usr/bin/env bash
# Builds (once) a Debian trixie root with Swift 6 (`swiftlang`) for the Swift
# binding tests: Debian bookworm has no Swift, trixie does. The root lives
# outside the worktree (KIEMTRA_SWIFT_ROOT, default /var/cache/kiemtra-swift-root)
# so `rm -rf build` or a second checkout does not cost another ~3 GB and ~3
# minutes. Safe to run again: a finished root carries a stamp file and is reused.
# Prints the root's path on its last line.
set -euo pipefail
root="${KIEMTRA_SWIFT_ROOT:-/var/cache/kiemtra-swift-root}"
stamp="$root/.kiemtra-swift-ready"
mirror="${KIEMTRA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# swiftc needs the C library's headers (Glibc module) besides swiftlang.
packages="swiftlang libc6-dev"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$packages" ]; then echo "$root"; exit 0; fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
chroot_install() {
  # swiftc and the package scripts need /proc; unmounted again whatever happens.
  $SUDO mount -t proc proc "$root/proc"
  trap '$SUDO umount "$root/proc" 2>/dev/null || true' EXIT
  # shellcheck disable=SC2086 # the package list is meant to split
  $SUDO chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends $packages >&2
  $SUDO chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get clean
  echo "$packages" | $SUDO tee "$stamp" >/dev/null
}

# A finished root from an older package list only gets what it lacks.
if [ -f "$stamp" ]; then
  echo "swift-root: adding $packages to $root" >&2
  chroot_install
  echo "$root"
  exit 0
fi
command -v debootstrap >/dev/null 2>&1 || {
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq debootstrap >/dev/null
}

echo "swift-root: building a trixie root with swiftlang in $root (first time only)" >&2
# A half-built root from an interrupted run is started again, not patched;
# never through a mount left inside it (a bind-mounted workspace, /proc).
if grep -q " $root/" /proc/mounts; then
  echo "swift-root: something is still mounted under $root; unmount it first" >&2
  exit 1
fi
$SUDO rm -rf --one-file-system "$root"
$SUDO mkdir -p "$root"
$SUDO debootstrap --variant=minbase trixie "$root" "$mirror" >&2
chroot_install
echo "$root"
