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
        let names = entries
            .map(|e| e.map(|e| e.file_name()))
            .collect::<std::io::Result<Vec<_>>>()?;
        self.sync_listed(&blobs, names)
    }

    /// Syncs the files of `names` not synced before. sled deletes blob files
    /// of replaced values concurrently (its own flusher), so a listed file
    /// may be gone by the time it is opened: a deleted file needs no sync
    /// (the directory sync records its removal), and failing the commit for
    /// it would refuse writes that are in fact durable.
    fn sync_listed(&mut self, dir: &Path, names: Vec<std::ffi::OsString>) -> Result<()> {
        let mut new = false;
        for name in &names {
            if self.synced_blobs.contains(name) {
                continue;
            }
            match File::open(dir.join(name)) {
                Ok(f) => f.sync_all()?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
            self.synced_blobs.insert(name.clone());
            new = true;
        }
        // Forget files sled has deleted, so the set does not grow forever.
        let listed: HashSet<&std::ffi::OsString> = names.iter().collect();
        self.synced_blobs.retain(|n| listed.contains(n));
        if new {
            sync_dir(dir)?;
        }
        Ok(())
    }
}

/// fsync on a directory makes the names of files created in it durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_file_deleted_between_listing_and_syncing_is_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        db.insert("k", "v").unwrap();
        let mut d = Durability::open(dir.path()).unwrap();
        d.commit(&db).unwrap();
        let blobs = dir.path().join("blobs");
        std::fs::create_dir_all(&blobs).unwrap();
        std::fs::write(blobs.join("7"), b"kept").unwrap();
        // "9" was listed, then deleted by sled before it could be opened.
        d.sync_listed(&blobs, vec!["7".into(), "9".into()]).unwrap();
        assert!(d.synced_blobs.contains(std::ffi::OsStr::new("7")));
        // Names no longer listed are forgotten.
        d.sync_listed(&blobs, vec!["7".into()]).unwrap();
        assert_eq!(d.synced_blobs.len(), 1);
    }
}
