//! The export file: one CBOR file holding everything needed to verify the
//! minutes offline.
//!
//! Layout (`kiemtra-minutes-bundle/1`), a CBOR map in this order:
//! `format` (text, the magic), `content_hash` (32-byte bstr, what the signers
//! signed), `document` (bstr, the canonical document bytes), `signatures`,
//! `blobs` (cited photos and drawn signature: `{sha256, data}`), and
//! `trusted_keys` (the inspectorate's certified keys known to the exporter).
//! The hash is stored beside the bytes so that a verifier can tell a changed
//! document (bytes no longer match the hash) from a broken signature.

use serde::{Deserialize, Serialize};

use super::bytes::{ByteBuf, Hash32};
use super::verify::TrustedKeys;
use super::{MinutesError, MinutesSignature, SignedMinutes};
use crate::codec::{from_cbor, to_cbor};

pub const BUNDLE_FORMAT: &str = "kiemtra-minutes-bundle/1";

/// Files larger than this are refused before decoding (photos are ~0.5 MB each).
pub const MAX_BUNDLE_BYTES: usize = 512 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blob {
    /// The hash this blob claims to have (the one the document cites).
    pub sha256: Hash32,
    pub data: ByteBuf,
}

impl Blob {
    pub fn new(data: Vec<u8>) -> Self {
        Self {
            sha256: Hash32::sha256(&data),
            data: ByteBuf(data),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub format: String,
    pub content_hash: Hash32,
    pub document: ByteBuf,
    pub signatures: Vec<MinutesSignature>,
    pub blobs: Vec<Blob>,
    pub trusted_keys: TrustedKeys,
}

/// Reads only the format field, to give "wrong format" rather than a decode error.
#[derive(Deserialize)]
struct Probe {
    format: String,
}

impl Bundle {
    pub fn new(signed: &SignedMinutes, blobs: Vec<Blob>, trusted_keys: TrustedKeys) -> Self {
        Self {
            format: BUNDLE_FORMAT.to_string(),
            content_hash: signed.content_hash(),
            document: ByteBuf(signed.canonical_bytes().to_vec()),
            signatures: signed.signatures().to_vec(),
            blobs,
            trusted_keys,
        }
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, MinutesError> {
        Ok(to_cbor("minutes bundle", self)?)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MinutesError> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(MinutesError::NotABundle(format!(
                "{} bytes is too large",
                bytes.len()
            )));
        }
        let probe: Probe =
            from_cbor("minutes bundle", bytes).map_err(|e| MinutesError::NotABundle(e.to_string()))?;
        if probe.format != BUNDLE_FORMAT {
            return Err(MinutesError::UnsupportedFormat {
                found: probe.format.chars().take(64).collect(),
                supported: BUNDLE_FORMAT,
            });
        }
        from_cbor("minutes bundle", bytes).map_err(|e| MinutesError::NotABundle(e.to_string()))
    }

    /// The blob claiming `hash`, if supplied.
    pub fn blob(&self, hash: &Hash32) -> Option<&Blob> {
        self.blobs.iter().find(|b| &b.sha256 == hash)
    }

    /// A suggested file name: `bienban-<hash prefix>.ktbb`.
    pub fn file_name(&self) -> String {
        format!("bienban-{}.ktbb", &self.content_hash.to_hex()[..16])
    }
}
