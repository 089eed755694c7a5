#!/usr/bin/env bash
# Backup and restore of a deployment on PostgreSQL and an object store
# (docs/backup.md: what must be kept, and why the database goes first).
#
#   scripts/backup.sh backup OUT    writes the folder OUT (new or empty):
#                                     database.pgdump  pg_dump --format=custom, taken FIRST
#                                     blobs/           every blob, copied AFTER the dump
#                                     server.key       the server's key, if it is a file
#                                     SHA256SUMS       of all of the above
#   scripts/backup.sh restore IN    puts a backup back: into an EMPTY database,
#                                   a blob store (a new bucket, or a folder) and
#                                   a data folder (new or without a key)
#
# Where the deployment is, in the environment (as `kiemtra-server serve` takes it):
#   KIEMTRA_DATABASE_URL  postgres://user[:password]@host[:port]/name
#   KIEMTRA_BLOB_STORE    s3://BUCKET[/PREFIX]?endpoint=URL (the key pair in
#                         AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY); unset: the
#                         folder store KIEMTRA_DATA/blob-store
#   KIEMTRA_DATA          the server's data folder (its key: server.key)
#   KIEMTRA_SERVER_BIN    the kiemtra-server binary (default: the one on PATH)
#   PG_BINDIR             pg_dump/pg_restore/psql (default: the newest
#                         /usr/lib/postgresql/*/bin, else PATH); as new as the
#                         database server
set -euo pipefail

usage() {
  echo "usage: scripts/backup.sh backup OUT | restore IN" >&2
  exit 2
}
[ $# -eq 2 ] || usage
mode="$1"
dir="$2"

fail() {
  echo "backup.sh: $*" >&2
  exit 1
}

: "${KIEMTRA_DATABASE_URL:?backup.sh: KIEMTRA_DATABASE_URL is the database}"
: "${KIEMTRA_DATA:?backup.sh: KIEMTRA_DATA is the server data folder}"
blobs="${KIEMTRA_BLOB_STORE:-$KIEMTRA_DATA/blob-store}"
server="${KIEMTRA_SERVER_BIN:-kiemtra-server}"
command -v "$server" >/dev/null 2>&1 || fail "no $server (set KIEMTRA_SERVER_BIN)"
bindir="${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
pg() {
  local tool="$1"
  shift
  if [ -n "$bindir" ] && [ -x "$bindir/$tool" ]; then
    "$bindir/$tool" "$@"
  else
    command -v "$tool" >/dev/null 2>&1 || fail "no $tool (set PG_BINDIR)"
    "$tool" "$@"
  fi
}

case "$mode" in
  backup)
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || fail "$dir is not empty"
    # 1. The database, first: one consistent snapshot (pg_dump reads in a
    # single repeatable-read transaction while the server goes on).
    pg pg_dump --format=custom --no-owner --file="$dir/database.pgdump" "$KIEMTRA_DATABASE_URL"
    echo "backup.sh: database dumped" >&2
    # 2. The blobs, after: the server accepts an operation only once every
    # blob it refers to is stored, and never deletes a blob, so every blob
    # the dump refers to is in the store by now. (Copying them first would
    # miss the photos of operations accepted between the copy and the dump.)
    "$server" blobs copy --from "$blobs" --to "$dir/blobs" >&2
    # 3. The server's key (its identity: the devices' certificates are
    # signed by it) is in the database, so in the dump. A data folder an
    # earlier version left may still hold the file it was taken over from:
    # kept too, since the server refuses a folder whose key differs.
    if [ -f "$KIEMTRA_DATA/server.key" ]; then
      install -m 600 "$KIEMTRA_DATA/server.key" "$dir/server.key"
    fi
    (cd "$dir" && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum >SHA256SUMS)
    echo "backup.sh: backup complete in $dir" >&2
    ;;
  restore)
    [ -f "$dir/database.pgdump" ] && [ -f "$dir/SHA256SUMS" ] || fail "$dir is not a backup"
    (cd "$dir" && sha256sum --quiet --check SHA256SUMS) || fail "$dir does not match its SHA256SUMS"
    # Into an empty database only: a restore never merges into live data.
    tables="$(pg psql --no-psqlrc -At -d "$KIEMTRA_DATABASE_URL" -c \
      "select count(*) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')")"
    [ "$tables" = 0 ] || fail "the database has $tables table(s); restore into an empty one"
    if [ -f "$dir/server.key" ] && [ -f "$KIEMTRA_DATA/server.key" ] &&
      ! cmp -s "$dir/server.key" "$KIEMTRA_DATA/server.key"; then
      fail "$KIEMTRA_DATA/server.key is another server's key"
    fi
    pg pg_restore --exit-on-error --single-transaction --no-owner --no-privileges \
      --dbname="$KIEMTRA_DATABASE_URL" "$dir/database.pgdump"
    echo "backup.sh: database restored" >&2
    "$server" blobs copy --from "$dir/blobs" --to "$blobs" >&2
    if [ -f "$dir/server.key" ]; then
      mkdir -p "$KIEMTRA_DATA"
      install -m 600 "$dir/server.key" "$KIEMTRA_DATA/server.key"
    fi
    echo "backup.sh: restore complete; start the server on it" >&2
    ;;
  *) usage ;;
esac
