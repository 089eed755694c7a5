//! Signing the minutes: each member signs the content hash, the leader last.
//!
//! The signed message is `b"kiemtra-minutes-v1\0" ++ content_hash` (51 bytes):
//! the domain prefix makes a minutes signature useless as a signature of
//! anything else the same key might sign (sync requests, enrolment).
//!
//! Order: members (and the secretary) sign in any order; the leader signs
//! last, and the leader's signature seals the minutes. The leader cannot sign
//! while a member has not, and nobody can sign after the seal: a change after
//! that is a new version citing this one (`MinutesInfo::previous`).

use serde::{Deserialize, Serialize};

use super::bytes::{Hash32, Sig64};
use super::canonical::{canonical_bytes, content_hash, decode_canonical};
use super::{MinutesDocument, MinutesError};
use crate::identity::{check_public_key, fingerprint, verify_strict, KeyStore};
use crate::ids::InspectorId;
use crate::people::Role;

pub const SIGNATURE_DOMAIN: &[u8] = b"kiemtra-minutes-v1\0";

/// The bytes a minutes signature signs.
pub fn signing_message(hash: &Hash32) -> [u8; 51] {
    let mut m = [0u8; 51];
    m[..SIGNATURE_DOMAIN.len()].copy_from_slice(SIGNATURE_DOMAIN);
    m[SIGNATURE_DOMAIN.len()..].copy_from_slice(&hash.0);
    m
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesSignature {
    /// The signer's inspector id (hyphenated UUID).
    pub signer: String,
    pub role: Role,
    pub public_key: Hash32,
    pub signature: Sig64,
}

/// A document's canonical bytes with the signatures gathered so far.
#[derive(Debug, Clone)]
pub struct SignedMinutes {
    document: MinutesDocument,
    canonical: Vec<u8>,
    hash: Hash32,
    signatures: Vec<MinutesSignature>,
}

impl SignedMinutes {
    /// Freezes `document`: from now on its bytes are the canonical bytes.
    pub fn new(document: MinutesDocument) -> Result<Self, MinutesError> {
        let canonical = canonical_bytes(&document)?;
        let hash = content_hash(&canonical);
        Ok(Self {
            document,
            canonical,
            hash,
            signatures: Vec::new(),
        })
    }

    /// Reassembles signed minutes from stored canonical bytes and signatures,
    /// checking every signature (strictly) against the bytes.
    pub fn from_parts(canonical: Vec<u8>, signatures: Vec<MinutesSignature>) -> Result<Self, MinutesError> {
        let document = decode_canonical(&canonical)?;
        let hash = content_hash(&canonical);
        let message = signing_message(&hash);
        for s in &signatures {
            verify_strict(&s.public_key.0, &message, &s.signature.0)?;
        }
        Ok(Self {
            document,
            canonical,
            hash,
            signatures,
        })
    }

    pub fn document(&self) -> &MinutesDocument {
        &self.document
    }

    pub fn canonical_bytes(&self) -> &[u8] {
        &self.canonical
    }

    pub fn content_hash(&self) -> Hash32 {
        self.hash
    }

    pub fn signatures(&self) -> &[MinutesSignature] {
        &self.signatures
    }

    pub fn signature_of(&self, inspector_id: &str) -> Option<&MinutesSignature> {
        self.signatures.iter().find(|s| s.signer == inspector_id)
    }

    /// True once the leader signed.
    pub fn is_sealed(&self) -> bool {
        self.signatures.iter().any(|s| s.role == Role::Leader)
    }

    /// Members (other than the leader) who have not signed yet, by name.
    pub fn unsigned_members(&self) -> Vec<String> {
        self.document
            .members
            .iter()
            .filter(|m| m.role != Role::Leader && self.signature_of(&m.inspector_id).is_none())
            .map(|m| m.name.clone())
            .collect()
    }

    /// Signs as `signer` with `key`. The key must be the one whose fingerprint
    /// the minutes list for that member.
    pub fn sign(
        &mut self,
        signer: InspectorId,
        key: &dyn KeyStore,
    ) -> Result<&MinutesSignature, MinutesError> {
        let id = signer.to_string();
        let member = self
            .document
            .member(&id)
            .ok_or_else(|| MinutesError::NotAMember { signer: id.clone() })?;
        if self.is_sealed() {
            return Err(MinutesError::Sealed);
        }
        if self.signature_of(&id).is_some() {
            return Err(MinutesError::AlreadySigned { signer: id });
        }
        let role = member.role;
        let public_key = key.public_key()?;
        check_public_key(&public_key)?;
        if member.key_fingerprint.as_deref() != Some(fingerprint(&public_key).as_str()) {
            return Err(MinutesError::KeyMismatch { signer: id });
        }
        if role == Role::Leader {
            let missing = self.unsigned_members();
            if !missing.is_empty() {
                return Err(MinutesError::MembersUnsigned {
                    count: missing.len(),
                    missing,
                });
            }
        }
        let message = signing_message(&self.hash);
        let signature = key.sign(&message)?;
        // A faulty key store (hardware, FFI) must not produce minutes that later fail to verify.
        verify_strict(&public_key, &message, &signature)?;
        self.signatures.push(MinutesSignature {
            signer: id,
            role,
            public_key: Hash32(public_key),
            signature: Sig64(signature),
        });
        Ok(&self.signatures[self.signatures.len() - 1])
    }
}
