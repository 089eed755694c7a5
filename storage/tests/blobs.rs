//! The blob store conformance suite on the folder store.

use std::sync::Arc;

use kiemtra_storage::blob_conformance::BlobHarness;
use kiemtra_storage::{BlobStore, FsBlobStore};

struct Folder(tempfile::TempDir);

impl BlobHarness for Folder {
    fn open(&self) -> Arc<dyn BlobStore> {
        Arc::new(FsBlobStore::open(self.0.path()).unwrap())
    }
}

kiemtra_storage::blob_store_conformance!(Folder(tempfile::tempdir().unwrap()));
