//! Copying every blob of one store into another (`kiemtra-server blobs
//! copy`): how the bucket goes into a backup, and back into a new bucket on
//! a restore (docs/backup.md). Blobs are content addressed, so a blob the
//! destination already holds is the same bytes and is skipped, and a copy
//! cut short resumes where it stopped (an unfinished upload at the
//! destination goes on from its offset). The destination hashes every blob
//! again before it becomes visible there: a copied blob is a whole, checked
//! one, and a copy that reports success holds every blob it listed.

use std::sync::Arc;

use crate::error::ServerError;
use crate::storage::{BlobError, BlobStore, FsBlobStore};

/// Bytes per chunk written to the destination: few requests per photo for
/// an object store, little memory (one chunk) whatever the blob's size.
pub const COPY_CHUNK: usize = 4 * 1024 * 1024;

/// Names asked about at once when looking for what the destination lacks.
const BATCH: usize = 256;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Complete blobs in the source.
    pub listed: u64,
    /// Copied now.
    pub copied: u64,
    /// Bytes written to the destination.
    pub bytes: u64,
}

impl std::fmt::Display for CopyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} blob(s) in the source, {} copied ({} bytes), {} already at the destination",
            self.listed,
            self.copied,
            self.bytes,
            self.listed - self.copied
        )
    }
}

/// Copies every complete blob of `from` that `to` lacks.
pub fn copy_all(from: &dyn BlobStore, to: &dyn BlobStore) -> Result<CopyReport, BlobError> {
    let mut names = from.names()?;
    names.sort();
    let mut report = CopyReport {
        listed: names.len() as u64,
        ..Default::default()
    };
    for batch in names.chunks(BATCH) {
        for hash in to.missing(batch)? {
            report.bytes += copy_one(from, to, &hash)?;
            report.copied += 1;
        }
    }
    Ok(report)
}

/// Copies one blob, from where the destination's upload of it stands;
/// the bytes written.
pub fn copy_one(from: &dyn BlobStore, to: &dyn BlobStore, hash: &str) -> Result<u64, BlobError> {
    let (received, complete) = to.status(hash)?;
    if complete {
        return Ok(0);
    }
    let reader = from
        .open(hash, received, None)?
        .ok_or_else(|| BlobError::Invalid(format!("blob {hash} went from the source while it was copied")))?;
    let total = reader.len;
    if total == 0 {
        to.put_chunk(hash, 0, 0, b"")?;
        return Ok(0);
    }
    let mut offset = reader.start;
    let mut buf = Vec::with_capacity(COPY_CHUNK.min(usize::try_from(total).unwrap_or(COPY_CHUNK)));
    let mut written = 0;
    for chunk in reader.chunks {
        buf.extend_from_slice(&chunk?);
        if buf.len() >= COPY_CHUNK {
            to.put_chunk(hash, offset, total, &buf)?;
            offset += buf.len() as u64;
            written += buf.len() as u64;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        to.put_chunk(hash, offset, total, &buf)?;
        written += buf.len() as u64;
    }
    Ok(written)
}

/// A blob store by address: `s3://BUCKET[/PREFIX]?endpoint=URL` (the key
/// pair in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) or a folder laid out
/// as `DATA/blob-store/` is (created if missing). An object store is asked
/// once here, so that a wrong address fails before any work.
pub fn open_address(address: &str) -> Result<Arc<dyn BlobStore>, ServerError> {
    if address.starts_with("s3://") {
        let config =
            kiemtra_blobs_s3::S3Config::from_url(address).map_err(|e| ServerError::Invalid(e.to_string()))?;
        let store =
            kiemtra_blobs_s3::S3BlobStore::open(&config).map_err(|e| ServerError::Invalid(e.to_string()))?;
        // The empty blob's name: any well-formed name would do.
        const PROBE: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        store
            .status(PROBE)
            .map_err(|e| ServerError::Invalid(format!("the blob store {address} does not answer: {e}")))?;
        return Ok(Arc::new(store));
    }
    Ok(Arc::new(FsBlobStore::open(std::path::Path::new(address))?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::blob_conformance::{sha256_hex, test_bytes, upload};

    #[test]
    fn copies_what_the_destination_lacks_and_resumes_a_cut_copy() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let from = FsBlobStore::open(a.path()).unwrap();
        let to = FsBlobStore::open(b.path()).unwrap();
        let blobs: Vec<Vec<u8>> = vec![
            test_bytes(9 * 1024 * 1024 + 17, 1),
            test_bytes(1000, 2),
            Vec::new(),
        ];
        for data in &blobs {
            upload(&from, &sha256_hex(data), data, 0, data.len(), 1 << 20);
        }
        // The empty blob is one empty chunk.
        from.put_chunk(&sha256_hex(b""), 0, 0, b"").unwrap();
        // An unfinished upload in the source is not copied.
        let unfinished = test_bytes(5000, 3);
        upload(&from, &sha256_hex(&unfinished), &unfinished, 0, 2000, 2000);
        // A copy cut after 4 MiB of the large blob: the next goes on from
        // there. The small one is at the destination already.
        let large = &blobs[0];
        upload(&to, &sha256_hex(large), large, 0, COPY_CHUNK, COPY_CHUNK);
        upload(&to, &sha256_hex(&blobs[1]), &blobs[1], 0, 1000, 1000);

        let report = copy_all(&from, &to).unwrap();
        assert_eq!(
            report,
            CopyReport {
                listed: 3,
                copied: 2,
                bytes: (large.len() - COPY_CHUNK) as u64,
            }
        );
        for data in &blobs {
            assert_eq!(to.get(&sha256_hex(data)).unwrap().as_deref(), Some(&data[..]));
        }
        assert!(!to.exists(&sha256_hex(&unfinished)).unwrap());
        // Again: nothing to do.
        assert_eq!(copy_all(&from, &to).unwrap().copied, 0);
    }
}
