#!/usr/bin/env bash
# Measures the overview at scale (issue 15): for each size, generates a
# synthetic data set (`kiemtra-server generate`: SIZE inspections over three
# years, SIZE/10 establishments, accidents to match) on sled and on a
# throwaway PostgreSQL (scripts/postgres.sh), starts the server on it, and
# times GET of the overview page, targets.csv and decree39.csv — the median
# of REQUESTS requests after two warm-up ones — and, for comparison, of
# overview.json, which still computes from every record.
#
#   scripts/overview-bench.sh [SIZE...]      default: 10000 100000
#   ENGINES="sled postgres" REQUESTS=7 KIEMTRA_SERVER_BIN=target/release/kiemtra-server
#   JSON_REQUESTS=0 skips timing overview.json (the old full path: minutes at 1M)
#
# The national set of the issue is `scripts/overview-bench.sh 1000000`
# (100,000 establishments, 1,000,000 inspections). Build first:
#   cargo build --release -p kiemtra-server
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${KIEMTRA_SERVER_BIN:-${CARGO_TARGET_DIR:-target}/release/kiemtra-server}"
engines="${ENGINES:-sled postgres}"
requests="${REQUESTS:-7}"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000)
[ -x "$bin" ] || { echo "no server binary at $bin (cargo build --release -p kiemtra-server)" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/overview-bench.XXXXXX")"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  if [ -n "${PG_PID:-}" ]; then
    exec {PG[1]}>&- 2>/dev/null || true
    wait "$PG_PID" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

pg_url=""
if [[ " $engines " == *" postgres "* ]]; then
  coproc PG { scripts/postgres.sh serve; }
  PG_PID=$!
  while read -r -u "${PG[0]}" word rest; do
    [ "$word" = url ] && { pg_url="$rest"; break; }
  done
  [ -n "$pg_url" ] || { echo "PostgreSQL did not start" >&2; exit 1; }
  psql="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql"
fi

# The median, in milliseconds, of $2 (default REQUESTS) timed GETs of $1, after two warm-ups.
median_ms() {
  local url="$1" n="${2:-$requests}" times=()
  for _ in 1 2; do
    curl -sf -o /dev/null -H "Authorization: Bearer $token" -H "Accept: text/html" "$url"
  done
  for _ in $(seq "$n"); do
    times+=("$(curl -sf -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" -H "Accept: text/html" "$url")")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.0f", a[int((NR+1)/2)]*1000}'
}

size_of() {
  curl -sf -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $token" -H "Accept: text/html" "$1"
}

printf '%-9s %9s %8s %8s %12s %10s %12s %14s %12s\n' engine inspections gen_s start_s overview_ms page_kB targets_ms decree39_ms json_ms
port=18900
for size in "${sizes[@]}"; do
  for engine in $engines; do
    port=$((port + 1))
    dir="$work/$engine-$size"
    db=()
    if [ "$engine" = postgres ]; then
      name="bench_$size"
      "$psql" "$pg_url" -q -c "CREATE DATABASE $name" >/dev/null
      db=(--database "${pg_url%/*}/$name")
    fi
    t0=$(date +%s.%N)
    "$bin" generate --data "$dir" "${db[@]}" --establishments $((size / 10)) --inspections "$size" \
      --years 3 --seed 1 --admin-token-file "$dir/token" >"$dir.gen.log" 2>&1
    t1=$(date +%s.%N)
    token="$(cat "$dir/token")"
    "$bin" serve --data "$dir" "${db[@]}" --addr "127.0.0.1:$port" >"$dir.serve.log" 2>&1 &
    server_pid=$!
    until curl -sf -o /dev/null "http://127.0.0.1:$port/admin/login"; do
      kill -0 "$server_pid" 2>/dev/null || { echo "the server stopped: $(tail -3 "$dir.serve.log")" >&2; exit 1; }
      sleep 0.5
    done
    t2=$(date +%s.%N)
    base="http://127.0.0.1:$port"
    overview=$(median_ms "$base/admin")
    kb=$(( $(size_of "$base/admin") / 1024 ))
    targets=$(median_ms "$base/admin/targets.csv")
    decree=$(median_ms "$base/admin/decree39.csv?year=2024&half=1")
    # The old path reads every record: minutes a request at 1M.
    if [ "${JSON_REQUESTS:-3}" -gt 0 ]; then
      json=$(median_ms "$base/admin/overview.json" "${JSON_REQUESTS:-3}")
    else
      json=-
    fi
    printf '%-9s %9s %8.1f %8.1f %12s %10s %12s %14s %12s\n' "$engine" "$size" \
      "$(awk "BEGIN {print $t1 - $t0}")" "$(awk "BEGIN {print $t2 - $t1}")" "$overview" "$kb" "$targets" "$decree" "$json"
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    rm -rf "$dir"
    if [ "$engine" = postgres ]; then
      "$psql" "$pg_url" -q -c "DROP DATABASE $name" >/dev/null
    fi
  done
done
