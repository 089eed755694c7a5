//! The blob store conformance suite (kiemtra-storage's) on S3BlobStore, each
//! check against a SeaweedFS of its own.

mod common;

use std::sync::Arc;

use common::Seaweed;
use kiemtra_storage::blob_conformance::BlobHarness;
use kiemtra_storage::BlobStore;

struct S3(Seaweed);

impl BlobHarness for S3 {
    fn open(&self) -> Arc<dyn BlobStore> {
        // A new client each time: "reopening" is another server instance.
        Arc::new(self.0.open())
    }
}

kiemtra_storage::blob_store_conformance!(S3(Seaweed::start()));
