#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each on nightly with
# cargo-fuzz, growing fuzz/corpus/<target>/; a crash leaves its input in
# fuzz/artifacts/<target>/ (copy it to fuzz/regressions/<target>/ with the
# fix, so the test command replays it on stable). Prints the executions per
# target. Needs `cargo install cargo-fuzz` and a nightly toolchain.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then mapfile -t targets < <(cargo +nightly fuzz list); fi
# rayon's global thread pool (fast_image_resize starts it for large photos)
# lives as long as the process; LeakSanitizer reports its threads at exit,
# and libFuzzer then calls the empty input a crash. Nothing else is suppressed.
export LSAN_OPTIONS="suppressions=$PWD/lsan-suppressions.txt${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log="$(mktemp)"
  # -rss_limit_mb: an input that makes a decoder allocate without bound is a finding.
  if cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
  fi
  runs="$(grep -Eo 'Done [0-9]+ runs' "$log" | grep -Eo '[0-9]+' | tail -1 || true)"
  echo "$t: $status, ${runs:-?} executions in ${seconds}s, corpus $(ls "corpus/$t" | wc -l) inputs"
  if [ "$status" = FAILED ]; then tail -40 "$log"; fi
  rm -f "$log"
done
