#!/usr/bin/env bash
# Photo pipeline against libvips on the reference phone photo (issue 4 targets:
# time <= 0.5x vipsthumbnail, peak RSS < 40 MB, output <= 1.05x vips's bytes,
# PSNR vs vips's output >= 40 dB). Both tools run alternately in one session so
# that machine load affects them alike.
#
#   scripts/bench-photo.sh [PHOTO]        RUNS=9 by default
#
# Needs: cargo, vipsthumbnail (Debian: libvips-tools), GNU time (Debian: time),
# and to build libjpeg-turbo: cmake, nasm, a C compiler.
# PHOTO_NORMALISE_BIN=path skips the build and uses that binary.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-9}

photo=${1:-}
if [[ -z $photo ]]; then
    for candidate in "$root/../shared/photos/phone-12mp.jpg" /work/shared/photos/phone-12mp.jpg; do
        if [[ -f $candidate ]]; then photo=$candidate; break; fi
    done
fi
if [[ -z $photo || ! -f $photo ]]; then
    echo "bench-photo: reference photo not found (expected ../shared/photos/phone-12mp.jpg beside the repo); pass a path" >&2
    exit 2
fi

missing=0
need() {
    if ! command -v "$1" >/dev/null 2>&1 && [[ ! -x $1 ]]; then
        echo "bench-photo: '$1' not found; install it with: $2" >&2
        missing=1
    fi
}
need vipsthumbnail "apt-get install -y libvips-tools"
need /usr/bin/time "apt-get install -y time"
need date "apt-get install -y coreutils"
if [[ -z ${PHOTO_NORMALISE_BIN:-} ]]; then
    need cargo "rustup (https://rustup.rs)"
    need cmake "apt-get install -y cmake"
    need nasm "apt-get install -y nasm"
fi
((missing == 0)) || exit 2
if ! /usr/bin/time -f %M true >/dev/null 2>&1; then
    echo "bench-photo: /usr/bin/time is not GNU time; install it with: apt-get install -y time" >&2
    exit 2
fi

if [[ -n ${PHOTO_NORMALISE_BIN:-} ]]; then
    bin=$PHOTO_NORMALISE_BIN
else
    target=${CARGO_TARGET_DIR:-$root/target}
    echo "building photo_normalise (release) in $target ..." >&2
    (cd "$root" && CARGO_TARGET_DIR=$target cargo build --quiet --release -p kiemtra-core --example photo_normalise)
    bin=$target/release/examples/photo_normalise
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ours_out=$work/ours.jpg
vips_out=$work/vips.jpg

# Prints "<milliseconds> <peak RSS KB>" for one run of the command.
measure() {
    local start end
    start=$(date +%s%N)
    /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>"$work/err" || {
        cat "$work/err" >&2
        echo "bench-photo: failed: $*" >&2
        exit 1
    }
    end=$(date +%s%N)
    echo "$(( (end - start) / 1000 )) $(tail -n 1 "$work/rss")"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# One untimed run each warms the page cache and the dynamic loader.
"$bin" "$photo" "$ours_out" >/dev/null
vipsthumbnail "$photo" -s 1600 -o "$vips_out[Q=80,strip]"

: >"$work/ours" ; : >"$work/vips"
for ((i = 1; i <= runs; i++)); do
    measure "$bin" "$photo" "$ours_out" >>"$work/ours"
    measure vipsthumbnail "$photo" -s 1600 -o "$vips_out[Q=80,strip]" >>"$work/vips"
done

ours_us=$(cut -d' ' -f1 "$work/ours" | median)
vips_us=$(cut -d' ' -f1 "$work/vips" | median)
ours_rss=$(cut -d' ' -f2 "$work/ours" | sort -n | tail -n 1)
vips_rss=$(cut -d' ' -f2 "$work/vips" | sort -n | tail -n 1)
ours_bytes=$(stat -c %s "$ours_out")
vips_bytes=$(stat -c %s "$vips_out")
psnr=$("$bin" --psnr "$vips_out" "$ours_out")

echo "photo:            $photo ($(stat -c %s "$photo") bytes), $runs runs each, alternating"
awk -v o="$ours_us" -v v="$vips_us" 'BEGIN {
    printf "median time:      ours %.1f ms, vipsthumbnail %.1f ms, ratio ours/vips %.3f (target <= 0.5)\n", o / 1000, v / 1000, o / v }'
awk -v o="$ours_rss" -v v="$vips_rss" 'BEGIN {
    printf "peak RSS:         ours %.1f MB, vipsthumbnail %.1f MB (target: ours < 40 MB)\n", o / 1024, v / 1024 }'
awk -v o="$ours_bytes" -v v="$vips_bytes" 'BEGIN {
    printf "1600px output:    ours %d bytes, vips %d bytes, ratio %.3f (target <= 1.05)\n", o, v, o / v }'
echo "PSNR ours vs vips: $psnr dB (target >= 40)"
