//! Opening a sled folder that another handle in this process has just closed.
//!
//! sled 0.34 takes an exclusive `flock` on its `db` file when it opens and
//! releases it only when its last internal thread lets go of the file, which
//! can be a few milliseconds *after* `Db` is dropped (spacejam/sled#1234,
//! #1289). Opening the same folder again at once then fails with "could not
//! acquire lock", although nobody is using it any more: the admin commands,
//! the server started after them and every reopen in tests hit this. We wait
//! for the lock a bounded time; a folder that stays locked (a running server)
//! still fails, with sled's own error.

use std::time::{Duration, Instant};

/// How long [`open`] waits for a lock held by a handle that is closing.
pub const LOCK_WAIT: Duration = Duration::from_secs(2);

const RETRY_EVERY: Duration = Duration::from_millis(10);

/// Opens `config`, retrying for up to [`LOCK_WAIT`] while the folder's lock is held.
pub fn open(config: &sled::Config) -> sled::Result<sled::Db> {
    open_within(config, LOCK_WAIT)
}

fn open_within(config: &sled::Config, wait: Duration) -> sled::Result<sled::Db> {
    let deadline = Instant::now() + wait;
    loop {
        match config.open() {
            Err(e) if is_lock_held(&e) && Instant::now() < deadline => std::thread::sleep(RETRY_EVERY),
            other => return other,
        }
    }
}

/// Whether sled refused to open because another handle holds the folder's lock.
///
/// sled reports it as an `io::ErrorKind::Other` with this text (config.rs),
/// so the text is all there is to recognise it by.
pub fn is_lock_held(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &std::path::Path) -> sled::Config {
        sled::Config::new().path(dir)
    }

    #[test]
    fn waits_for_a_lock_that_is_released_soon() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let held = open(&config(dir.path()))?;
        // A second plain open fails while the first handle lives: the situation we wait out.
        let refused = config(dir.path()).open().err().ok_or("a second open succeeded")?;
        assert!(is_lock_held(&refused), "{refused}");

        let closer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(held);
        });
        let reopened = open(&config(dir.path()));
        closer.join().map_err(|_| "closer panicked")?;
        reopened?;
        Ok(())
    }

    #[test]
    fn a_folder_that_stays_locked_is_refused_after_the_wait() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let _held = open(&config(dir.path()))?;
        let started = Instant::now();
        let refused = open_within(&config(dir.path()), Duration::from_millis(100))
            .err()
            .ok_or("opened a locked folder")?;
        assert!(is_lock_held(&refused), "{refused}");
        assert!(started.elapsed() >= Duration::from_millis(100));
        Ok(())
    }

    #[test]
    fn other_errors_are_not_retried() {
        let e = sled::Error::Io(std::io::Error::other("disk on fire"));
        assert!(!is_lock_held(&e));
        assert!(!is_lock_held(&sled::Error::Unsupported("x".into())));
    }
}
