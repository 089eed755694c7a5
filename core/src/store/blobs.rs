//! The device's content-addressed blob folder (`<store>/photos/<sha256>`).
//!
//! A blob is written to a temporary file, fsynced, renamed into place and
//! the folder fsynced, so a blob named in the store is always whole. The
//! same bytes are stored once.

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::durable::sync_dir;
use crate::error::{Error, Result};

pub(super) struct BlobDir {
    dir: PathBuf,
}

/// A blob name is exactly 64 lower-case hex digits: nothing else reaches the file system.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl BlobDir {
    pub(super) fn open(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, sha: &str) -> Result<PathBuf> {
        if !is_sha256_hex(sha) {
            return Err(Error::Validation(crate::error::ValidationError::Invalid {
                field: "blob hash",
                reason: "not 64 lower-case hex digits".into(),
            }));
        }
        Ok(self.dir.join(sha))
    }

    pub(super) fn contains(&self, sha: &str) -> Result<bool> {
        Ok(self.path(sha)?.exists())
    }

    /// Stores `bytes` durably under their SHA-256, which it returns.
    pub(super) fn put(&self, bytes: &[u8]) -> Result<String> {
        let sha = hex::encode(Sha256::digest(bytes));
        let path = self.path(&sha)?;
        if path.exists() {
            return Ok(sha);
        }
        let tmp = self.dir.join(format!(".{sha}.tmp"));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        sync_dir(&self.dir)?;
        Ok(sha)
    }

    /// Stores bytes that must hash to `sha` (a download); refuses them otherwise.
    pub(super) fn put_expected(&self, sha: &str, bytes: &[u8]) -> Result<()> {
        let actual = hex::encode(Sha256::digest(bytes));
        if actual != sha {
            return Err(Error::Validation(crate::error::ValidationError::Invalid {
                field: "blob",
                reason: format!("the bytes hash to {actual}, not {sha}"),
            }));
        }
        self.put(bytes).map(|_| ())
    }

    pub(super) fn get(&self, sha: &str) -> Result<Vec<u8>> {
        let path = self.path(sha)?;
        fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound {
                kind: "photo",
                id: sha.to_string(),
            },
            _ => e.into(),
        })
    }
}
