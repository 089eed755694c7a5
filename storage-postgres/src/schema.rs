//! The tables and their versioned migrations, applied when a store opens.
//!
//! `schema_version` holds one row per migration applied. A database whose
//! version is newer than [`VERSION`] was migrated by a newer server: this one
//! refuses it rather than write rows it does not understand.

use postgres::Client;

use crate::PgError;

/// Migration `i + 1` is `MIGRATIONS[i]`; each runs once, in the same
/// transaction as its `schema_version` row. Never edit one that shipped:
/// add the next.
const MIGRATIONS: &[&str] = &[
    // 1: the tables of `Table` as one key-value table (keys in bytea order,
    // which is byte order, the order `scan` promises), the log, and the
    // counter row that numbers it (see `PgStorage::commit`). `delegation`
    // is the scope: NULL for everyone, else the delegation's 16-byte id.
    "CREATE TABLE kv (
         tbl text NOT NULL,
         key bytea NOT NULL,
         value bytea NOT NULL,
         PRIMARY KEY (tbl, key)
     );
     CREATE TABLE log (
         server_seq bigint PRIMARY KEY CHECK (server_seq > 0),
         op_id bytea NOT NULL UNIQUE CHECK (length(op_id) = 16),
         delegation bytea CHECK (length(delegation) = 16),
         bytes bytea NOT NULL
     );
     CREATE TABLE log_counter (
         only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
         head bigint NOT NULL CHECK (head >= 0)
     );
     INSERT INTO log_counter (head) VALUES (0);",
    // 2: every commit counts itself (not only those that append), so that
    // a writer of one server instance learns from the number that another
    // instance committed since it last looked (see `Storage::begin_turn`).
    "ALTER TABLE log_counter ADD COLUMN commits bigint NOT NULL DEFAULT 0 CHECK (commits >= 0);",
    // 3: the short-lived entries every instance shares (see `expiring`),
    // UNLOGGED, so they cost no WAL and a crash empties the table whole.
    // `kind` is `Kind::name`; `count` is a counter's (0 for other
    // entries); the index serves the purge of expired rows.
    "CREATE UNLOGGED TABLE expiring (
         kind text NOT NULL,
         key bytea NOT NULL,
         value bytea NOT NULL,
         count bigint NOT NULL DEFAULT 0,
         expires_at timestamptz NOT NULL,
         PRIMARY KEY (kind, key)
     );
     CREATE INDEX expiring_expires_at ON expiring (expires_at);",
];

/// The schema version this code reads and writes.
pub const VERSION: i32 = MIGRATIONS.len() as i32;

/// An arbitrary constant: the advisory lock that lets one process at a time
/// migrate a database (two servers starting together would otherwise both
/// create the same tables).
const MIGRATION_LOCK: i64 = 0x6b69_656d_7472_6131;

/// Brings the database to [`VERSION`], or refuses a newer one.
pub fn migrate(client: &mut Client) -> Result<i32, PgError> {
    let mut tx = client.transaction()?;
    // Released at commit or rollback, whatever happens below.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    // Not a notice at every start that the table below already exists.
    tx.batch_execute("SET LOCAL client_min_messages = warning")?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )?;
    let found: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])?
        .try_get(0)?;
    if found > VERSION {
        return Err(PgError::SchemaTooNew {
            found,
            supported: VERSION,
        });
    }
    for (version, sql) in (1..).zip(MIGRATIONS).skip(usize::try_from(found).unwrap_or(0)) {
        tx.batch_execute(sql)?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&version])?;
    }
    tx.commit()?;
    Ok(found)
}
