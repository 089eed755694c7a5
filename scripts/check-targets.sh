#!/usr/bin/env bash
# `cargo check -p kiemtra-mobile` for the phones' targets, so that breakage
# specific to Android or iOS shows on this machine, not on a developer's.
# A check compiles but never links. Build scripts still compile the bundled
# C code (libjpeg-turbo, ring) for the target, which needs a C compiler for
# it: the NDK's clang when ANDROID_NDK_HOME is set; without the NDK (not
# installable here), Debian's aarch64 GCC stands in for Android's C parts
# (same architecture, glibc headers instead of bionic's: good enough for a
# check, never for a build). iOS needs Xcode's SDK for its C parts, so
# without a Mac its check says so and is skipped. A target this machine
# cannot add is reported, not failed.
set -euo pipefail
cd "$(dirname "$0")/.."

installed="$(rustup target list --installed 2>/dev/null || true)"
has_target() { grep -qx "$1" <<<"$installed"; }

# turbojpeg-sys would build the bundled libjpeg-turbo with CMake, whose
# Android and iOS platform files insist on the NDK or Xcode. A check links
# nothing, so it takes the crate's pregenerated bindings and an empty
# library folder instead: the Rust code is checked all the same.
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
# Absolute: the build script resolves it from its own folder.
empty_lib="$target/check-targets-no-lib"
mkdir -p "$empty_lib"

check() {
  echo "check: cargo check --target $1 -p kiemtra-mobile${2:+ ($2)}"
  TURBOJPEG_SOURCE=explicit TURBOJPEG_LIB_DIR="$empty_lib" \
    CARGO_INCREMENTAL=0 nice -n 10 cargo check --locked --target "$1" -p kiemtra-mobile
}

t=aarch64-linux-android
if ! has_target "$t"; then
  echo "check: SKIPPED $t: the Rust target is not installed and could not be added on this machine (rustup target add $t)"
elif [ -n "${ANDROID_NDK_HOME:-}" ]; then
  clang="$ANDROID_NDK_HOME/toolchains/llvm/prebuilt/linux-x86_64/bin"
  CC_aarch64_linux_android="$clang/aarch64-linux-android24-clang" AR_aarch64_linux_android="$clang/llvm-ar" \
    check "$t" "C parts with the NDK's clang"
elif command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
  CC_aarch64_linux_android=aarch64-linux-gnu-gcc AR_aarch64_linux_android=aarch64-linux-gnu-ar \
    check "$t" "no NDK here: C parts with Debian's aarch64 GCC as a stand-in"
else
  echo "check: SKIPPED $t: no C compiler for it (no NDK, no gcc-aarch64-linux-gnu)"
fi

t=aarch64-apple-ios
if ! has_target "$t"; then
  echo "check: SKIPPED $t: the Rust target is not installed and could not be added on this machine (rustup target add $t)"
elif command -v xcrun >/dev/null 2>&1; then
  check "$t"
else
  # Tried: clang can target iOS, but ring's C needs the SDK's own headers
  # (TargetConditionals.h, Apple's libc); glibc's do not parse as Apple's.
  echo "check: SKIPPED $t: ring's C parts need the iOS SDK's headers (Xcode; no xcrun on this machine)"
fi
