#!/usr/bin/env bash
# The ingest benchmark of issue 15, in one run so that machine load affects
# every configuration alike: kiemtra-load against the server on sled, on
# PostgreSQL with one instance, and on PostgreSQL with two instances (each
# device talks to one of the two), in saturation and field mode. PostgreSQL
# is a throwaway one from scripts/postgres.sh, a fresh database per run.
#
#   scripts/bench-load.sh                DEVICES=100 SECONDS_EACH=20 by default
#
# Prints kiemtra-load's report for each run, then one table: ops/s, push
# latency p50/p99 and each server's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${DEVICES:-100}
seconds=${SECONDS_EACH:-20}

if [ -z "${KIEMTRA_DATABASE_URL:-}" ]; then
  exec scripts/postgres.sh run "$0" "$@"
fi

cargo build --release --locked -p kiemtra-server --bins >&2
load=target/release/kiemtra-load
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

n=0
fresh_db() {
  n=$((n + 1))
  psql -q "$KIEMTRA_DATABASE_URL" -c "CREATE DATABASE bench_$n" >&2
  echo "${KIEMTRA_DATABASE_URL%/*}/bench_$n"
}

run() { # name mode [args…]
  local name=$1 mode=$2
  shift 2
  echo "== $name, $mode" >&2
  "$load" --devices "$devices" --seconds "$seconds" --mode "$mode" "$@" | tee "$out/$name-$mode" >&2
}

for mode in saturation field; do
  run sled "$mode"
  run postgres-1 "$mode" --database "$(fresh_db)"
  run postgres-2 "$mode" --database "$(fresh_db)" --instances 2
done

printf '\n| storage | mode | ops/s | p50 ms | p99 ms | peak RSS MiB (per instance) |\n|---|---|---|---|---|---|\n'
for mode in saturation field; do
  for name in sled postgres-1 postgres-2; do
    f="$out/$name-$mode"
    ops=$(sed -n 's/^throughput: \([0-9]*\) ops\/s/\1/p' "$f")
    p50=$(sed -n 's/^push latency: p50 \([0-9.]*\) ms.*/\1/p' "$f")
    p99=$(sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p' "$f")
    rss=$(sed -n 's/^server [0-9]* peak RSS (VmHWM): \([0-9.]*\) MiB/\1/p' "$f" | paste -sd/ -)
    echo "| $name | $mode | $ops | $p50 | $p99 | $rss |"
  done
done
