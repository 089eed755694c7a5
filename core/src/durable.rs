//! Making sled's writes (device store and server alike) reach stable storage before we acknowledge them.
//!
//! sled's `flush()` writes its buffers with `sync_file_range` on Linux, which
//! neither flushes the drive's write cache nor the file's metadata (its
//! length, after an append), and it writes large values to separate blob files
//! with no sync at all. So after `flush()` we `fsync` the log file, any blob
//! file not yet synced, and the directories whose entries changed.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::Result;

pub struct Durability {
    dir: PathBuf,
    log: File,
    synced_blobs: HashSet<std::ffi::OsString>,
}

impl Durability {
    /// Opens the handles and syncs what sled created at open (config, directories).
    pub fn open(dir: &Path) -> Result<Self> {
        let log = File::open(dir.join("db"))?;
        for name in ["conf", "db"] {
            let path = dir.join(name);
            if path.exists() {
                File::open(path)?.sync_all()?;
            }
        }
        sync_dir(dir)?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        let mut d = Self {
            dir: dir.to_path_buf(),
            log,
            synced_blobs: HashSet::new(),
        };
        d.sync_blobs()?;
        Ok(d)
    }

    /// Flushes sled and syncs its files. Returns once everything written so far is on stable storage.
    pub fn commit(&mut self, db: &sled::Db) -> Result<()> {
        db.flush()?;
        self.log.sync_all()?;
        self.sync_blobs()
    }

    fn sync_blobs(&mut self) -> Result<()> {
        let blobs = self.dir.join("blobs");
        let Ok(entries) = std::fs::read_dir(&blobs) else {
            return Ok(());
        };
        let mut new = false;
        for entry in entries {
            let entry = entry?;
            if self.synced_blobs.insert(entry.file_name()) {
                File::open(entry.path())?.sync_all()?;
                new = true;
            }
        }
        if new {
            sync_dir(&blobs)?;
        }
        Ok(())
    }
}

/// fsync on a directory makes the names of files created in it durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)?.sync_all()?;
    Ok(())
}
