//! [`Expiring`] on PostgreSQL: the short-lived entries every server
//! instance on one database shares, in the `expiring` table (migration in
//! `schema`), through the store's connection pool.
//!
//! One clock: every expiry is computed and compared by the database's
//! `now()` in the statement itself, never by an instance's clock, so
//! instances whose clocks disagree still agree on what has expired. Each
//! method is one statement (its own transaction), atomic on its own:
//! `take` is a `DELETE … RETURNING`, so of two instances taking one
//! challenge only one gets a row; `insert_new` and `count` are an
//! `INSERT … ON CONFLICT`, which serialises racing writers on the key.
//!
//! The table is UNLOGGED: its writes skip the WAL (and, writing no WAL,
//! their commits do not wait for a flush even with `synchronous_commit =
//! on`), which suits entries written on every signed request. After a
//! PostgreSQL crash an unlogged table comes back empty; that is safe here
//! because its entries vanish *together*: every device session goes with
//! its nonces, so no request can be replayed into a session that forgot
//! it (the devices simply open new sessions, as after a restart today);
//! a lost challenge or pending sign-in costs one more try; a lost guessing
//! count gives a guesser at most one window more. (A standby has no copy
//! of an unlogged table either: a failover forgets the same way.)
//!
//! Expired rows are invisible at once and deleted now and then: every
//! [`PURGE_EVERY`] writes through a handle, one statement deletes at most
//! [`PURGE_MAX`] of them, so the table stays bounded by what is live.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kiemtra_storage::{Expiring, Kind, StorageError, Window};
use postgres::Row;

use crate::{column, io, off_the_runtime, Conn, PgStorage, Pool};

/// Writes through one handle between purges of expired rows.
const PURGE_EVERY: u64 = 1000;
/// Expired rows deleted at most per purge: more than `PURGE_EVERY` writes
/// can add, so purging keeps up, and bounded, so it never stalls a request.
const PURGE_MAX: i64 = 5000;
/// Longer lives are cut to this (a timestamp cannot reach every duration).
const MAX_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The short-lived entries of one database, sharing its store's pool.
pub struct PgExpiring {
    /// Always `Some` but in `drop` (see `PgStorage`'s).
    pool: Option<Pool>,
    writes: AtomicU64,
}

impl PgStorage {
    /// The short-lived entries of this store's database, through its pool.
    pub fn expiring(&self) -> PgExpiring {
        PgExpiring {
            pool: self.pool.clone(),
            writes: AtomicU64::new(0),
        }
    }
}

impl Drop for PgExpiring {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            off_the_runtime(move || drop(pool));
        }
    }
}

fn secs(ttl: Duration) -> f64 {
    ttl.min(MAX_TTL).as_secs_f64()
}

fn window_from(row: &Row) -> Result<Window, StorageError> {
    let count: i64 = column(row, 0)?;
    let ends_in: f64 = column(row, 1)?;
    Ok(Window {
        count: u64::try_from(count).map_err(io)?,
        // A window that ends within the statement is "ending now", not negative.
        ends_in: Duration::try_from_secs_f64(ends_in.max(0.0)).unwrap_or(MAX_TTL),
    })
}

impl PgExpiring {
    fn conn(&self) -> Result<Conn, StorageError> {
        match &self.pool {
            Some(pool) => pool.get().map_err(io),
            None => Err(StorageError::Io("the store is closed".into())),
        }
    }

    /// Counts a write, and every `PURGE_EVERY`th deletes expired rows.
    fn wrote(&self, conn: &mut Conn) {
        if self.writes.fetch_add(1, Ordering::Relaxed) % PURGE_EVERY != PURGE_EVERY - 1 {
            return;
        }
        // A failed purge is not the caller's failure: its write is done,
        // and the next purge deletes what this one left.
        let _ = conn.execute(
            "DELETE FROM expiring WHERE ctid = ANY(ARRAY(
                 SELECT ctid FROM expiring WHERE expires_at <= now() LIMIT $1))",
            &[&PURGE_MAX],
        );
    }

    fn put_now(&self, kind: Kind, key: &[u8], value: &[u8], ttl: Duration) -> Result<(), StorageError> {
        let mut conn = self.conn()?;
        conn.execute(
            "INSERT INTO expiring (kind, key, value, count, expires_at)
             VALUES ($1, $2, $3, 0, now() + make_interval(secs => $4))
             ON CONFLICT (kind, key) DO UPDATE
             SET value = EXCLUDED.value, count = 0, expires_at = EXCLUDED.expires_at",
            &[&kind.name(), &key, &value, &secs(ttl)],
        )
        .map_err(io)?;
        self.wrote(&mut conn);
        Ok(())
    }

    fn insert_new_now(
        &self,
        kind: Kind,
        key: &[u8],
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StorageError> {
        let mut conn = self.conn()?;
        // A live row makes the update's WHERE false: no row comes back. An
        // expired one is replaced, as if it had been purged.
        let row = conn
            .query_opt(
                "INSERT INTO expiring AS e (kind, key, value, count, expires_at)
                 VALUES ($1, $2, $3, 0, now() + make_interval(secs => $4))
                 ON CONFLICT (kind, key) DO UPDATE
                 SET value = EXCLUDED.value, count = 0, expires_at = EXCLUDED.expires_at
                 WHERE e.expires_at <= now()
                 RETURNING true",
                &[&kind.name(), &key, &value, &secs(ttl)],
            )
            .map_err(io)?;
        self.wrote(&mut conn);
        Ok(row.is_some())
    }

    fn take_now(&self, kind: Kind, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let row = self
            .conn()?
            .query_opt(
                "DELETE FROM expiring WHERE kind = $1 AND key = $2
                 RETURNING value, expires_at > now()",
                &[&kind.name(), &key],
            )
            .map_err(io)?;
        match row {
            Some(r) if column::<bool>(&r, 1)? => Ok(Some(column(&r, 0)?)),
            _ => Ok(None),
        }
    }

    fn get_now(&self, kind: Kind, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT value FROM expiring
                 WHERE kind = $1 AND key = $2 AND expires_at > now()",
                &[&kind.name(), &key],
            )
            .map_err(io)?;
        row.map(|r| column(&r, 0)).transpose()
    }

    fn delete_now(&self, kind: Kind, key: &[u8]) -> Result<(), StorageError> {
        self.conn()?
            .execute(
                "DELETE FROM expiring WHERE kind = $1 AND key = $2",
                &[&kind.name(), &key],
            )
            .map_err(io)?;
        Ok(())
    }

    fn count_now(&self, kind: Kind, key: &[u8], window: Duration) -> Result<Window, StorageError> {
        let mut conn = self.conn()?;
        // SET reads the old row (`e`): a live window counts on and keeps its
        // end; an ended one starts again at 1 with the new end.
        let row = conn
            .query_one(
                "INSERT INTO expiring AS e (kind, key, value, count, expires_at)
                 VALUES ($1, $2, '', 1, now() + make_interval(secs => $3))
                 ON CONFLICT (kind, key) DO UPDATE SET
                     count = CASE WHEN e.expires_at > now() THEN e.count + 1 ELSE 1 END,
                     expires_at = CASE WHEN e.expires_at > now() THEN e.expires_at
                                       ELSE EXCLUDED.expires_at END
                 RETURNING count, extract(epoch FROM expires_at - now())::float8",
                &[&kind.name(), &key, &secs(window)],
            )
            .map_err(io)?;
        self.wrote(&mut conn);
        window_from(&row)
    }

    fn counted_now(&self, kind: Kind, key: &[u8]) -> Result<Option<Window>, StorageError> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT count, extract(epoch FROM expires_at - now())::float8 FROM expiring
                 WHERE kind = $1 AND key = $2 AND expires_at > now()",
                &[&kind.name(), &key],
            )
            .map_err(io)?;
        row.map(|r| window_from(&r)).transpose()
    }
}

impl Expiring for PgExpiring {
    fn put(&self, kind: Kind, key: &[u8], value: &[u8], ttl: Duration) -> Result<(), StorageError> {
        off_the_runtime(|| self.put_now(kind, key, value, ttl))
    }

    fn insert_new(&self, kind: Kind, key: &[u8], value: &[u8], ttl: Duration) -> Result<bool, StorageError> {
        off_the_runtime(|| self.insert_new_now(kind, key, value, ttl))
    }

    fn take(&self, kind: Kind, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        off_the_runtime(|| self.take_now(kind, key))
    }

    fn get(&self, kind: Kind, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        off_the_runtime(|| self.get_now(kind, key))
    }

    fn delete(&self, kind: Kind, key: &[u8]) -> Result<(), StorageError> {
        off_the_runtime(|| self.delete_now(kind, key))
    }

    fn count(&self, kind: Kind, key: &[u8], window: Duration) -> Result<Window, StorageError> {
        off_the_runtime(|| self.count_now(kind, key, window))
    }

    fn counted(&self, kind: Kind, key: &[u8]) -> Result<Option<Window>, StorageError> {
        off_the_runtime(|| self.counted_now(kind, key))
    }
}
