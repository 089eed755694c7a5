//! The canonical bytes of a [`MinutesDocument`] and its content hash.
//!
//! Canonical = serde_cbor's encoding of the document's structs: maps with
//! text keys in declaration order, shortest integer forms, definite lengths,
//! no floats anywhere in the type. The content hash is SHA-256 of those bytes.
//! Signatures cover the hash of the exact bytes stored in the bundle, and a
//! reader re-encodes what it decoded to refuse any other encoding of the same
//! content (which would otherwise give two hashes for one minutes).

use super::bytes::Hash32;
use super::{MinutesDocument, MinutesError};
use crate::codec::{from_cbor, to_cbor};

pub fn canonical_bytes(doc: &MinutesDocument) -> Result<Vec<u8>, MinutesError> {
    Ok(to_cbor("minutes document", doc)?)
}

pub fn content_hash(canonical: &[u8]) -> Hash32 {
    Hash32::sha256(canonical)
}

/// Decodes canonical bytes, refusing bytes that are not the canonical encoding.
pub fn decode_canonical(bytes: &[u8]) -> Result<MinutesDocument, MinutesError> {
    let doc: MinutesDocument = from_cbor("minutes document", bytes)?;
    if canonical_bytes(&doc)? != bytes {
        return Err(MinutesError::NotCanonical);
    }
    Ok(doc)
}
