//! Blobs in a local folder (`DATA/blob-store/`): `<sha256>` for complete ones, and
//! `partial/<sha256>` while an upload is under way. A partial file's
//! length is how far the upload got, so it resumes there, even after a crash.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use kiemtra_core::durable::sync_dir;
use sha2::{Digest, Sha256};

use super::{read_range, BlobError, BlobReader, BlobStore, StorageError};

/// Uploads of one blob are serialised; these stripes keep unrelated ones apart.
const STRIPES: usize = 32;

pub struct FsBlobStore {
    dir: PathBuf,
    partial: PathBuf,
    stripes: Vec<Mutex<()>>,
}

impl FsBlobStore {
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        let partial = dir.join("partial");
        std::fs::create_dir_all(&partial)?;
        sync_dir(dir)?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            partial,
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        })
    }

    fn lock(&self, hash: &str) -> Result<std::sync::MutexGuard<'_, ()>, BlobError> {
        let i = hash
            .bytes()
            .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize))
            % STRIPES;
        self.stripes[i]
            .lock()
            .map_err(|_| BlobError::Storage(StorageError::Io("a blob writer panicked".into())))
    }

    fn check_name(hash: &str) -> Result<(), BlobError> {
        if super::is_blob_name(hash) {
            Ok(())
        } else {
            Err(BlobError::Invalid(
                "a blob is named by 64 lowercase hex digits (its SHA-256)".into(),
            ))
        }
    }

    fn complete_len(&self, hash: &str) -> Result<Option<u64>, BlobError> {
        match std::fs::metadata(self.dir.join(hash)) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn partial_len(&self, hash: &str) -> Result<u64, BlobError> {
        match std::fs::metadata(self.partial.join(hash)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    fn hash_of(path: &Path) -> Result<String, BlobError> {
        let mut f = File::open(path)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(hex::encode(h.finalize()))
    }
}

impl BlobStore for FsBlobStore {
    fn status(&self, hash: &str) -> Result<(u64, bool), BlobError> {
        Self::check_name(hash)?;
        if let Some(len) = self.complete_len(hash)? {
            return Ok((len, true));
        }
        Ok((self.partial_len(hash)?, false))
    }

    fn put_chunk(&self, hash: &str, offset: u64, total: u64, chunk: &[u8]) -> Result<(u64, bool), BlobError> {
        Self::check_name(hash)?;
        let _guard = self.lock(hash)?;
        // Content addressed: a blob already here is the same bytes.
        if let Some(len) = self.complete_len(hash)? {
            return Ok((len, true));
        }
        let received = self.partial_len(hash)?;
        if offset != received {
            return Err(BlobError::Offset { received });
        }
        let end = offset
            .checked_add(chunk.len() as u64)
            .filter(|&e| e <= total)
            .ok_or_else(|| BlobError::Invalid(format!("the chunk ends past the blob's {total} bytes")))?;
        let path = self.partial.join(hash);
        let created = received == 0;
        let mut f = OpenOptions::new().create(true).append(true).open(&path)?;
        f.write_all(chunk)?;
        // Durable progress: a resumed upload after a crash starts from what is really on disk.
        f.sync_all()?;
        if created {
            sync_dir(&self.partial)?;
        }
        if end < total {
            return Ok((end, false));
        }
        drop(f);
        if Self::hash_of(&path)? != hash {
            std::fs::remove_file(&path)?;
            sync_dir(&self.partial)?;
            return Err(BlobError::HashMismatch);
        }
        let target = self.dir.join(hash);
        std::fs::rename(&path, &target)?;
        sync_dir(&self.dir)?;
        sync_dir(&self.partial)?;
        Ok((total, true))
    }

    fn names(&self) -> Result<Vec<String>, BlobError> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            // Complete blobs only: `partial/` is a folder, anything else
            // (an editor's leftovers) is not named by a hash.
            if let Some(name) = entry.file_name().to_str().filter(|n| super::is_blob_name(n)) {
                if entry.file_type()?.is_file() {
                    names.push(name.to_string());
                }
            }
        }
        Ok(names)
    }

    fn open(&self, hash: &str, start: u64, end: Option<u64>) -> Result<Option<BlobReader>, BlobError> {
        Self::check_name(hash)?;
        // A complete blob is never rewritten (only renamed into place
        // whole), so the open file holds its bytes for as long as it is read.
        let mut file = match File::open(self.dir.join(hash)) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let len = file.metadata()?.len();
        let (start, end) = read_range(len, start, end)?;
        file.seek(SeekFrom::Start(start))?;
        Ok(Some(BlobReader {
            len,
            start,
            end,
            chunks: Box::new(FileChunks {
                file,
                left: end - start,
            }),
        }))
    }
}

/// Bytes read per chunk of a download.
const READ_CHUNK: u64 = 64 * 1024;

/// What is `left` of a read, in chunks of [`READ_CHUNK`].
struct FileChunks {
    file: File,
    left: u64,
}

impl Iterator for FileChunks {
    type Item = Result<Vec<u8>, BlobError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let mut buf = vec![0u8; READ_CHUNK.min(self.left) as usize];
        match self.file.read_exact(&mut buf) {
            Ok(()) => {
                self.left -= buf.len() as u64;
                Some(Ok(buf))
            }
            Err(e) => {
                // One error ends the read: nothing after it could be trusted.
                self.left = 0;
                Some(Err(e.into()))
            }
        }
    }
}
