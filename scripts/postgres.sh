#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: Debian's binaries (package
# `postgresql`, installed by scripts/setup.sh) run a new cluster in a
# temporary folder, listening on a free loopback port only, with trust
# authentication for the superuser `kiemtra`. Nothing of it outlives the
# command: the folder is deleted when the server stops.
#
#   scripts/postgres.sh serve      start one, print `url postgres://…` on
#                                  stdout, and stop it when stdin closes
#                                  (the test harness holds the pipe: the
#                                  server goes when the test process does,
#                                  however it ends); the lines `stop` and
#                                  `start` on stdin stop and restart it
#   scripts/postgres.sh run CMD…   start one, run CMD with
#                                  KIEMTRA_DATABASE_URL set, stop it
#
# PostgreSQL refuses to run as root: as root (CI, these machines) the
# server runs as the `postgres` user that Debian's package creates.
set -euo pipefail

usage() {
  echo "usage: scripts/postgres.sh serve | run CMD..." >&2
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

# Debian puts the server's binaries outside PATH (/usr/lib/postgresql/N/bin):
# take the newest installed there, else the ones on PATH.
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$bindir" ] && command -v pg_ctl >/dev/null 2>&1; then
  bindir="$(dirname "$(readlink -f "$(command -v pg_ctl)")")"
fi
for tool in initdb pg_ctl pg_isready; do
  if [ -z "$bindir" ] || [ ! -x "$bindir/$tool" ]; then
    echo "postgres.sh: no PostgreSQL server binaries (scripts/setup.sh installs Debian's package postgresql)" >&2
    exit 1
  fi
done

dir="$(mktemp -d "${TMPDIR:-/tmp}/kiemtra-pg.XXXXXX")"
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    echo "postgres.sh: running as root and there is no postgres user to run the server as" >&2
    exit 1
  fi
  chown postgres: "$dir"
  as_owner=(runuser -u postgres --)
  if ! "${as_owner[@]}" test -w "$dir"; then
    echo "postgres.sh: the postgres user cannot reach $dir (set TMPDIR to a folder it can)" >&2
    rm -rf "$dir"
    exit 1
  fi
fi
data="$dir/data"
log="$dir/server.log"

started=false
reader=""
stop() {
  # A second signal (a whole process group is often signalled at once)
  # must not cut the clean-up short and leave the server running.
  trap '' INT TERM HUP
  if [ -n "$reader" ]; then kill "$reader" 2>/dev/null || true; fi
  if $started; then
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 1' INT TERM HUP

# --no-sync: the cluster's initial files need no fsync, it dies with the
# test; the server itself runs with fsync on, as PgStorage requires.
"${as_owner[@]}" "$bindir/initdb" -D "$data" -U kiemtra --auth=trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
  cat "$dir/initdb.log" >&2
  exit 1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The port is free when chosen but may be taken before the server binds it:
# try a few. pg_ctl -w returns once the server accepts connections.
port=""
for _ in 1 2 3 4 5; do
  candidate="$(free_port)"
  if "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$candidate -c unix_socket_directories=$dir -c fsync=on -c synchronous_commit=on -c max_connections=200" \
    start >/dev/null 2>&1; then
    port="$candidate"
    started=true
    break
  fi
done
if [ -z "$port" ]; then
  echo "postgres.sh: the server did not start; its log:" >&2
  cat "$log" >&2 || true
  exit 1
fi
"$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 30 || {
  echo "postgres.sh: the server does not accept connections" >&2
  exit 1
}
url="postgres://kiemtra@127.0.0.1:$port/postgres"

case "$mode" in
  serve)
    echo "url $url"
    # Until the reader closes stdin (or dies): then the EXIT trap stops the
    # server. In the background, because bash runs a signal's trap only
    # once the foreground command ends, and `wait` returns at once. Lines
    # on stdin are commands, for the fault tests: `stop` stops the server
    # (fast: connections are cut, as in a crash of the database host or a
    # failover) and `start` starts it again on the same port and data;
    # each is answered `stopped` / `started` on stdout when done.
    while IFS= read -r command; do
      case "$command" in
        stop)
          "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
          echo stopped
          ;;
        start)
          "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=on -c synchronous_commit=on -c max_connections=200" \
            start >/dev/null 2>&1 || cat "$log" >&2
          echo started
          ;;
        *) echo "postgres.sh: unknown command $command (stop, start)" >&2 ;;
      esac
    done <&0 &
    reader=$!
    wait "$reader" || true
    ;;
  run)
    KIEMTRA_DATABASE_URL="$url" "$@"
    ;;
esac
