//! The server's [`Storage`] on PostgreSQL: one transaction per changeset,
//! committed with `synchronous_commit = on` (the commit's WAL is flushed
//! before PostgreSQL acknowledges it, and before other sessions see it), the
//! log numbered from 1 in commit order without gaps.
//!
//! - `lib.rs`: [`PgStorage`], its connection pool, reads and the commit.
//! - `schema`: the tables and their versioned migrations, applied at open.
//! - `expiring`: [`PgExpiring`], the short-lived entries every instance
//!   shares (sessions, nonces, guessing limits), in an UNLOGGED table.
//! - `test_cluster`: [`test_cluster::TestCluster`], a throwaway PostgreSQL
//!   started through `scripts/postgres.sh`, for tests.
//!
//! Connections: the sync `postgres` client behind an `r2d2` pool
//! (`r2d2_postgres`, by the client's author). The trait is synchronous and
//! is called from the committer thread and from many `spawn_blocking`
//! readers at once; a pool lets the readers run side by side (one Mutex'd
//! client would queue every page behind every commit), and it replaces a
//! connection that broke, so a lost connection costs one failed call
//! ([`StorageError::Io`], retryable) and not the server.

mod expiring;
mod schema;
pub mod test_cluster;

use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use kiemtra_core::ids::{DelegationId, OpId};
use kiemtra_storage::{Changeset, Receipt, Rows, Scope, Storage, StorageError, StoredEntry, Table, Turn};
use postgres::{Config, GenericClient, IsolationLevel, NoTls, Row};
use r2d2_postgres::PostgresConnectionManager;

pub use expiring::PgExpiring;
pub use schema::VERSION as SCHEMA_VERSION;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;
type Conn = r2d2::PooledConnection<PostgresConnectionManager<NoTls>>;

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("invalid database address: {0}")]
    Address(#[source] postgres::Error),
    #[error("cannot reach the database: {0}")]
    Connect(#[from] r2d2::Error),
    #[error("database error: {0}")]
    Postgres(#[from] postgres::Error),
    #[error(
        "the database's schema is version {found}, newer than this server's {supported}: run a newer server"
    )]
    SchemaTooNew { found: i32, supported: i32 },
    /// Acknowledging a commit that a crash can take back would hand devices
    /// cursors and receipts for operations that may vanish.
    #[error("the database does not make commits durable before acknowledging them ({setting} = {value})")]
    NotDurable { setting: &'static str, value: String },
}

impl From<PgError> for StorageError {
    fn from(e: PgError) -> Self {
        StorageError::Io(e.to_string())
    }
}

/// Every failure of the engine or the connection is one to retry: none says
/// anything about the data (those are the `Corrupt` of the decoders below).
fn io(e: impl std::fmt::Display) -> StorageError {
    StorageError::Io(e.to_string())
}

/// How a store is opened.
#[derive(Debug, Clone)]
pub struct Options {
    /// Connections at most: the committer's one, and the readers'.
    pub max_connections: u32,
    /// How long a call waits for a free connection (or a new one) before it
    /// fails with [`StorageError::Io`]. Short: while the database is down a
    /// device should hear "503, retry" in seconds, not hang on its request.
    pub connection_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_connections: 8,
            connection_timeout: Duration::from_secs(3),
        }
    }
}

/// The store in one PostgreSQL database. Several handles, in one process or
/// in several, may share a database: their commits take turns (see
/// [`PgStorage::commit`] and [`Storage::begin_turn`]).
pub struct PgStorage {
    /// Always `Some` but in `drop`, which closes the connections off the runtime.
    pool: Option<Pool>,
}

impl PgStorage {
    /// Opens the database at `url` (`postgres://user@host:port/db`),
    /// migrating it to this code's schema.
    pub fn open(url: &str) -> Result<Self, PgError> {
        Self::open_with(url, &Options::default())
    }

    pub fn open_with(url: &str, options: &Options) -> Result<Self, PgError> {
        off_the_runtime(|| Self::open_now(url, options))
    }

    fn open_now(url: &str, options: &Options) -> Result<Self, PgError> {
        let mut config = Config::from_str(url).map_err(PgError::Address)?;
        // Set by the session itself, so that a server or role default of
        // `off` cannot make a commit return before its WAL is on disk.
        let session = match config.get_options() {
            Some(o) => format!("{o} -c synchronous_commit=on"),
            None => "-c synchronous_commit=on".to_owned(),
        };
        config.options(&session);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connection_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("kiemtra-server");
        }
        let pool = r2d2::Pool::builder()
            .max_size(options.max_connections.max(1))
            .min_idle(Some(1))
            .connection_timeout(options.connection_timeout)
            // No round trip before every call: a connection that broke fails
            // its call (Io, retried by the caller) and is then dropped by the
            // pool, which sees it closed.
            .test_on_check_out(false)
            .build(PostgresConnectionManager::new(config, NoTls))?;
        let mut conn = pool.get()?;
        check_durability(&mut conn)?;
        schema::migrate(&mut conn)?;
        Ok(Self { pool: Some(pool) })
    }

    fn conn(&self) -> Result<Conn, StorageError> {
        match &self.pool {
            Some(pool) => pool.get().map_err(io),
            None => Err(StorageError::Io("the store is closed".into())),
        }
    }
}

impl Drop for PgStorage {
    fn drop(&mut self) {
        // A connection's runtime may not be dropped on an async worker
        // either (the server's state may go inside its runtime).
        if let Some(pool) = self.pool.take() {
            off_the_runtime(move || drop(pool));
        }
    }
}

/// Refuses a server that would acknowledge commits it has not made durable.
fn check_durability(conn: &mut Conn) -> Result<(), PgError> {
    for setting in ["fsync", "synchronous_commit"] {
        let value: String = conn.query_one(&format!("SHOW {setting}"), &[])?.try_get(0)?;
        // Every value of synchronous_commit but `off` waits for the local flush.
        if value == "off" {
            return Err(PgError::NotDurable { setting, value });
        }
    }
    Ok(())
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("{what}: {e}"))
}

fn column<'a, T: postgres::types::FromSql<'a>>(row: &'a Row, i: usize) -> Result<T, StorageError> {
    row.try_get(i)
        .map_err(|e| corrupt("a column of an unexpected type", e))
}

fn seq_from(v: i64) -> Result<u64, StorageError> {
    u64::try_from(v).map_err(|e| corrupt("a negative sequence number", e))
}

fn id_bytes(b: &[u8], what: &str) -> Result<[u8; 16], StorageError> {
    <[u8; 16]>::try_from(b).map_err(|_| StorageError::Corrupt(format!("{what} of {} bytes", b.len())))
}

fn entry_from(row: &Row) -> Result<StoredEntry, StorageError> {
    let scope = match column::<Option<&[u8]>>(row, 1)? {
        None => Scope::Everyone,
        Some(d) => Scope::Delegation(DelegationId::from_bytes(id_bytes(d, "a delegation id")?)),
    };
    Ok(StoredEntry {
        server_seq: seq_from(column(row, 0)?)?,
        scope,
        bytes: column(row, 2)?,
    })
}

/// The engine's calls, each blocking its thread; [`Storage`] wraps them.
impl PgStorage {
    fn get_now(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT value FROM kv WHERE tbl = $1 AND key = $2",
                &[&table.name(), &key],
            )
            .map_err(io)?;
        row.map(|r| column(&r, 0)).transpose()
    }

    fn scan_now(&self, table: Table) -> Result<Rows, StorageError> {
        let rows = self
            .conn()?
            .query(
                "SELECT key, value FROM kv WHERE tbl = $1 ORDER BY key",
                &[&table.name()],
            )
            .map_err(io)?;
        rows.iter().map(|r| Ok((column(r, 0)?, column(r, 1)?))).collect()
    }

    fn log_since_now(&self, since: u64, max: usize) -> Result<Vec<StoredEntry>, StorageError> {
        // Past the largest bigint there is nothing; a page of "everything" is capped at it.
        let Ok(since) = i64::try_from(since) else {
            return Ok(Vec::new());
        };
        if max == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        let rows = self
            .conn()?
            .query(
                "SELECT server_seq, delegation, bytes FROM log
                 WHERE server_seq > $1 ORDER BY server_seq LIMIT $2",
                &[&since, &limit],
            )
            .map_err(io)?;
        rows.iter().map(entry_from).collect()
    }

    fn log_head_now(&self) -> Result<u64, StorageError> {
        let row = self
            .conn()?
            .query_one("SELECT head FROM log_counter", &[])
            .map_err(io)?;
        seq_from(column(&row, 0)?)
    }

    fn seq_of_now(&self, op: OpId) -> Result<Option<u64>, StorageError> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT server_seq FROM log WHERE op_id = $1",
                &[&&op.as_bytes()[..]],
            )
            .map_err(io)?;
        row.map(|r| seq_from(column(&r, 0)?)).transpose()
    }

    /// One READ COMMITTED transaction: the log entries, the counter, the
    /// table writes, then COMMIT, which with `synchronous_commit = on`
    /// returns once the WAL is flushed.
    ///
    /// Numbering. A PostgreSQL sequence would be wrong here: it hands out
    /// numbers when they are asked for, not when the transactions commit,
    /// so commit A could take 11, commit B 12, and B commit first; a device
    /// pulling then gets cursor 12 and never sees 11 when A commits after.
    /// Instead each commit that appends takes the next number from the one
    /// row of `log_counter`, locked `FOR UPDATE` until the transaction ends.
    /// Appending commits therefore run one after the other: the next one
    /// reads the counter only once the last has committed (READ COMMITTED
    /// re-reads the row's committed version after the wait), so numbers
    /// follow commit order, have no gaps (a rolled-back commit leaves the
    /// counter as it was), and every snapshot sees a prefix of the log.
    /// Commits of table writes only take no number but wait all the same,
    /// and count in `commits`: a writer holding a turn
    /// ([`Storage::begin_turn`]) must see every commit as it waits.
    ///
    /// The duplicate check runs after the lock is held, so no other commit
    /// can add an operation between the check and the insert. If the
    /// connection fails during COMMIT the outcome is unknown: the error is
    /// `Io`, and a retry finds the operations (`DuplicateOp`) if it landed.
    fn commit_now(&self, changes: Changeset) -> Result<Receipt, StorageError> {
        if changes.is_empty() {
            return Ok(Receipt::default());
        }
        let mut conn = self.conn()?;
        // Explicit, whatever the database's default: the counter's locking
        // relies on READ COMMITTED's re-read (REPEATABLE READ would fail the
        // waiting commit instead).
        let mut tx = conn
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()
            .map_err(io)?;
        let (head, _) = lock_counter(&mut tx)?;
        let receipt = write_changes(&mut tx, head, changes)?;
        tx.commit().map_err(io)?;
        Ok(receipt)
    }

    fn begin_turn_now(&self) -> Result<PgTurn, StorageError> {
        let mut conn = self.conn()?;
        // A session-level transaction, not a `Transaction<'_>`: the turn
        // outlives this call, and the transaction must live in the one
        // connection the turn owns (a commit on any other connection could
        // land after the lock was lost with this one).
        conn.batch_execute(
            "BEGIN ISOLATION LEVEL READ COMMITTED;
             SET LOCAL idle_in_transaction_session_timeout = '60s'",
        )
        .map_err(io)?;
        let mut turn = PgTurn {
            conn: Some(conn),
            head: 0,
            generation: 0,
        };
        let client = turn.client()?;
        let (head, generation) = lock_counter(client)?;
        turn.head = head;
        turn.generation = generation;
        Ok(turn)
    }
}

/// Locks the counter row until the transaction ends and reads it: the log's
/// head and the number of commits so far. Every commit takes this lock
/// first, so commits run one after the other and each sees all before it.
fn lock_counter(client: &mut impl GenericClient) -> Result<(i64, u64), StorageError> {
    let row = client
        .query_one("SELECT head, commits FROM log_counter FOR UPDATE", &[])
        .map_err(io)?;
    let commits: i64 = column(&row, 1)?;
    Ok((column(&row, 0)?, u64::try_from(commits).map_err(io)?))
}

/// Writes a changeset inside a transaction that holds the counter (read as
/// `head`): the log entries numbered from `head + 1`, the counter, then the
/// table writes. The caller commits.
fn write_changes(
    client: &mut impl GenericClient,
    head: i64,
    changes: Changeset,
) -> Result<Receipt, StorageError> {
    let (mut writes, log) = changes.into_parts();
    let mut seen = HashSet::with_capacity(log.len());
    if let Some(e) = log.iter().find(|e| !seen.insert(e.op)) {
        return Err(StorageError::DuplicateOp(e.op));
    }
    // Rows written in key order, a habit that keeps any two writers of the
    // same keys queueing rather than deadlocking (they already queue on the
    // counter; should a deadlock happen, PostgreSQL aborts one commit
    // whole: Io, to retry).
    writes.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));

    let mut seqs = Vec::with_capacity(log.len());
    let n = i64::try_from(log.len()).map_err(io)?;
    if !log.is_empty() {
        // The duplicate check runs with the counter held, so no other
        // commit can add an operation between the check and the insert.
        let ops: Vec<&[u8]> = log.iter().map(|e| &e.op.as_bytes()[..]).collect();
        let held = client
            .query("SELECT op_id FROM log WHERE op_id = ANY($1)", &[&ops])
            .map_err(io)?;
        if !held.is_empty() {
            let held = held
                .iter()
                .map(|r| id_bytes(column(r, 0)?, "an operation id"))
                .collect::<Result<HashSet<_>, _>>()?;
            // The first of the changeset's that the log holds; the caller's
            // rollback undoes everything.
            if let Some(e) = log.iter().find(|e| held.contains(e.op.as_bytes())) {
                return Err(StorageError::DuplicateOp(e.op));
            }
        }
        let numbers: Vec<i64> = (head + 1..=head + n).collect();
        let scopes: Vec<Option<&[u8]>> = log
            .iter()
            .map(|e| match &e.scope {
                Scope::Everyone => None,
                Scope::Delegation(d) => Some(&d.as_bytes()[..]),
            })
            .collect();
        let bytes: Vec<&[u8]> = log.iter().map(|e| e.bytes.as_slice()).collect();
        // A unique violation here would mean a writer that skipped the
        // lock: it fails as Io, and the retry reports the duplicate.
        client
            .execute(
                "INSERT INTO log (server_seq, op_id, delegation, bytes)
                 SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[])",
                &[&numbers, &ops, &scopes, &bytes],
            )
            .map_err(io)?;
        seqs = numbers.into_iter().map(seq_from).collect::<Result<_, _>>()?;
    }
    client
        .execute(
            "UPDATE log_counter SET head = $1, commits = commits + 1",
            &[&(head + n)],
        )
        .map_err(io)?;

    let (mut put_tables, mut put_keys, mut put_values) = (Vec::new(), Vec::new(), Vec::new());
    let (mut del_tables, mut del_keys) = (Vec::new(), Vec::new());
    for (table, key, value) in &writes {
        match value {
            Some(v) => {
                put_tables.push(table.name());
                put_keys.push(key.as_slice());
                put_values.push(v.as_slice());
            }
            None => {
                del_tables.push(table.name());
                del_keys.push(key.as_slice());
            }
        }
    }
    // A changeset holds each key once, so one upsert statement never
    // touches a row twice.
    if !put_keys.is_empty() {
        client
            .execute(
                "INSERT INTO kv (tbl, key, value)
                 SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[])
                 ON CONFLICT (tbl, key) DO UPDATE SET value = EXCLUDED.value",
                &[&put_tables, &put_keys, &put_values],
            )
            .map_err(io)?;
    }
    if !del_keys.is_empty() {
        client
            .execute(
                "DELETE FROM kv USING unnest($1::text[], $2::bytea[]) AS d(tbl, key)
                 WHERE kv.tbl = d.tbl AND kv.key = d.key",
                &[&del_tables, &del_keys],
            )
            .map_err(io)?;
    }
    Ok(Receipt { seqs })
}

/// A turn on PostgreSQL: an open transaction on its own connection that
/// holds the counter row (`FOR UPDATE`), so every other handle's commit,
/// in this process or another, waits at [`lock_counter`]. If the instance
/// dies, PostgreSQL ends the transaction with the connection and the lock
/// is free; if it hangs, `idle_in_transaction_session_timeout` ends it.
struct PgTurn {
    /// `None` once committed or given up.
    conn: Option<Conn>,
    head: i64,
    generation: u64,
}

impl PgTurn {
    fn client(&mut self) -> Result<&mut postgres::Client, StorageError> {
        self.conn
            .as_deref_mut()
            .ok_or_else(|| StorageError::Io("the turn has ended".into()))
    }

    fn commit_now(&mut self, changes: Changeset) -> Result<Receipt, StorageError> {
        if changes.is_empty() {
            self.give_up();
            return Ok(Receipt::default());
        }
        let head = self.head;
        let client = self.client()?;
        let written = write_changes(client, head, changes);
        let outcome = written.and_then(|receipt| {
            client.batch_execute("COMMIT").map_err(io)?;
            Ok(receipt)
        });
        match outcome {
            Ok(receipt) => {
                // Back to the pool, outside any transaction.
                self.conn = None;
                Ok(receipt)
            }
            Err(e) => {
                self.give_up();
                Err(e)
            }
        }
    }

    /// Rolls back and returns the connection to the pool.
    fn give_up(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            // ROLLBACK fails only on a broken connection (in an aborted
            // transaction it still succeeds), and r2d2 drops a connection
            // whose client is closed instead of handing it out again.
            let _ = conn.batch_execute("ROLLBACK");
        }
    }
}

impl Turn for PgTurn {
    fn generation(&self) -> u64 {
        self.generation
    }

    fn commit(mut self: Box<Self>, changes: Changeset) -> Result<Receipt, StorageError> {
        off_the_runtime(move || self.commit_now(changes))
    }
}

impl Drop for PgTurn {
    fn drop(&mut self) {
        if self.conn.is_some() {
            off_the_runtime(|| self.give_up());
        }
    }
}

/// The sync client drives each connection with a runtime of its own, which
/// may not be blocked on from an async runtime's worker thread (tokio
/// panics): the server's handlers read the store from async code too. On a
/// multi-threaded runtime the worker hands its other tasks off for the call
/// (`block_in_place`); on a current-thread runtime, which cannot, the call
/// runs on a thread of its own; elsewhere (the committer, `spawn_blocking`)
/// it runs where it is.
fn off_the_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => f(),
        Ok(RuntimeFlavor::CurrentThread) => std::thread::scope(|scope| {
            scope
                .spawn(f)
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }),
        Ok(_) => tokio::task::block_in_place(f),
    }
}

impl Storage for PgStorage {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        off_the_runtime(|| self.get_now(table, key))
    }

    fn scan(&self, table: Table) -> Result<Rows, StorageError> {
        off_the_runtime(|| self.scan_now(table))
    }

    fn log_since(&self, since: u64, max: usize) -> Result<Vec<StoredEntry>, StorageError> {
        off_the_runtime(|| self.log_since_now(since, max))
    }

    fn log_head(&self) -> Result<u64, StorageError> {
        off_the_runtime(|| self.log_head_now())
    }

    fn seq_of(&self, op: OpId) -> Result<Option<u64>, StorageError> {
        off_the_runtime(|| self.seq_of_now(op))
    }

    fn commit(&self, changes: Changeset) -> Result<Receipt, StorageError> {
        off_the_runtime(|| self.commit_now(changes))
    }

    fn begin_turn(&self) -> Result<Option<Box<dyn Turn>>, StorageError> {
        Ok(Some(Box::new(off_the_runtime(|| self.begin_turn_now())?)))
    }
}
