//! Checking a bundle: content against its hash, each signature, each cited
//! blob, and each key against the certified keys; one bundle or many.
//!
//! The report names what broke: a changed document shows as a hash mismatch
//! (signatures are checked against the hash the signers signed), a changed
//! signature as that one signature invalid, a changed photo as that photo
//! mismatched, a missing photo as missing.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::bytes::Hash32;
use super::canonical::{content_hash, decode_canonical};
use super::sign::signing_message;
use super::{Bundle, MinutesDocument, MinutesError, BUNDLE_FORMAT};
use crate::identity::{check_public_key, fingerprint};
use crate::people::Role;

/// A certified key: the inspector it was enrolled for and their name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedKey {
    pub inspector_id: String,
    pub public_key: Hash32,
    pub name: String,
}

/// The inspectorate's certified public keys, sorted by inspector id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedKeys {
    pub keys: Vec<TrustedKey>,
}

impl TrustedKeys {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a certified key of `inspector_id`. An inspector may have several
    /// (a phone and a tablet); weak and invalid keys are refused.
    pub fn insert(
        &mut self,
        inspector_id: &str,
        public_key: [u8; 32],
        name: &str,
    ) -> Result<(), MinutesError> {
        check_public_key(&public_key)?;
        let key = TrustedKey {
            inspector_id: inspector_id.to_string(),
            public_key: Hash32(public_key),
            name: name.to_string(),
        };
        match self.keys.binary_search_by(|k| {
            (k.inspector_id.as_str(), &k.public_key.0).cmp(&(inspector_id, &public_key))
        }) {
            Ok(i) => self.keys[i] = key,
            Err(i) => self.keys.insert(i, key),
        }
        Ok(())
    }

    /// The first key certified for `inspector_id`.
    pub fn get(&self, inspector_id: &str) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| k.inspector_id == inspector_id)
    }

    /// The entry for exactly this inspector and key, if certified.
    pub fn find(&self, inspector_id: &str, public_key: &Hash32) -> Option<&TrustedKey> {
        self.keys
            .iter()
            .find(|k| k.inspector_id == inspector_id && &k.public_key == public_key)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentStatus {
    Ok,
    /// The bytes are not a minutes document of a known format.
    Undecodable(String),
    /// A document, but not in its canonical encoding.
    NotCanonical,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyTrust {
    /// The key is the certified key of the signer.
    Trusted { name: String },
    /// No certified key for this signer.
    UnknownSigner,
    /// The signer has a certified key, and it is another one.
    DifferentKey,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    pub signer: String,
    pub role: Role,
    pub fingerprint: String,
    /// The ed25519 signature verifies (strictly) over the signed hash.
    pub valid: bool,
    pub trust: KeyTrust,
    /// The document lists the signer with this role and this key's fingerprint.
    pub listed: bool,
}

impl SignatureCheck {
    pub fn is_ok(&self) -> bool {
        self.valid && self.listed && matches!(self.trust, KeyTrust::Trusted { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobKind {
    Photo { caption: String, item: Option<String> },
    DrawnSignature,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobStatus {
    Ok,
    Missing,
    Mismatched,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobCheck {
    pub sha256: Hash32,
    pub kind: BlobKind,
    pub status: BlobStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationReport {
    /// SHA-256 of the document bytes as found.
    pub content_hash: Hash32,
    /// The hash the bundle says was signed.
    pub signed_hash: Hash32,
    pub document: DocumentStatus,
    pub number: Option<String>,
    pub establishment: Option<String>,
    /// The version this one corrects.
    pub previous: Option<Hash32>,
    pub signatures: Vec<SignatureCheck>,
    pub blobs: Vec<BlobCheck>,
    /// A valid, listed leader signature is present.
    pub sealed: bool,
    /// Members the document lists who did not sign (or whose signature failed).
    pub unsigned_members: Vec<String>,
}

impl VerificationReport {
    pub fn hash_matches(&self) -> bool {
        self.content_hash == self.signed_hash
    }

    /// Content intact, every signature valid, listed and certified, sealed by
    /// the leader, no cited blob altered. A blob not supplied is reported but
    /// does not fail verification (bundles are often shared without photos).
    pub fn is_valid(&self) -> bool {
        self.hash_matches()
            && self.document == DocumentStatus::Ok
            && !self.signatures.is_empty()
            && self.signatures.iter().all(SignatureCheck::is_ok)
            && self.sealed
            && self.unsigned_members.is_empty()
            && !self.blobs.iter().any(|b| b.status == BlobStatus::Mismatched)
    }

    /// Valid, and every cited blob supplied.
    pub fn is_complete(&self) -> bool {
        self.is_valid() && self.blobs.iter().all(|b| b.status == BlobStatus::Ok)
    }
}

/// One signature waiting for its cryptographic check.
struct Pending {
    report: usize,
    signature: usize,
    message: [u8; 51],
    sig: Signature,
    key: VerifyingKey,
}

/// Verifies one bundle against the keys it carries.
pub fn verify_bundle(bundle: &Bundle) -> VerificationReport {
    verify_bundle_with(bundle, &bundle.trusted_keys)
}

/// Verifies one bundle against `trusted` (a verifier's own registry: keys
/// carried in the bundle only show what the exporter believed).
pub fn verify_bundle_with(bundle: &Bundle, trusted: &TrustedKeys) -> VerificationReport {
    let (mut report, pending, members) = prepare(0, bundle, trusted, &mut BTreeMap::new());
    for p in pending {
        report.signatures[p.signature].valid = p.key.verify_strict(&p.message, &p.sig).is_ok();
    }
    finish(&mut report, members);
    report
}

/// Verifies many bundles, each against the keys it carries.
pub fn verify_batch(bundles: &[Bundle]) -> Vec<VerificationReport> {
    let refs: Vec<(&Bundle, &TrustedKeys)> = bundles.iter().map(|b| (b, &b.trusted_keys)).collect();
    verify_batch_with(&refs)
}

/// Verifies many bundles with one ed25519 batch equation; when the batch
/// fails, every signature is checked on its own with `verify_strict` so the
/// report names the bad ones. Batch verification does not reject small-order
/// `R` the way `verify_strict` does, so that is checked before batching.
pub fn verify_batch_with(bundles: &[(&Bundle, &TrustedKeys)]) -> Vec<VerificationReport> {
    let mut reports = Vec::with_capacity(bundles.len());
    let mut all_members = Vec::with_capacity(bundles.len());
    let mut pending = Vec::new();
    // The same few inspectors sign many minutes: parse each key once.
    let mut keys = BTreeMap::new();
    for (i, (bundle, trusted)) in bundles.iter().enumerate() {
        let (report, p, members) = prepare(i, bundle, trusted, &mut keys);
        reports.push(report);
        all_members.push(members);
        pending.extend(p);
    }
    let batch_ok = !pending.is_empty() && {
        let messages: Vec<&[u8]> = pending.iter().map(|p| p.message.as_slice()).collect();
        let sigs: Vec<Signature> = pending.iter().map(|p| p.sig).collect();
        let keys: Vec<VerifyingKey> = pending.iter().map(|p| p.key).collect();
        ed25519_dalek::verify_batch(&messages, &sigs, &keys).is_ok()
    };
    for p in &pending {
        let valid = if batch_ok {
            !small_order_r(&p.sig)
        } else {
            p.key.verify_strict(&p.message, &p.sig).is_ok()
        };
        reports[p.report].signatures[p.signature].valid = valid;
    }
    for (report, members) in reports.iter_mut().zip(all_members) {
        finish(report, members);
    }
    reports
}

/// Whether the signature's `R` is a point of small order, which `verify_strict`
/// refuses and batch verification does not. Compared by encoding (sign bit
/// masked) against the y of the eight torsion points and the two
/// non-canonical encodings `p` and `p + 1`, like libsodium's blocklist,
/// because decompressing every `R` again would cost a field exponentiation.
fn small_order_r(sig: &Signature) -> bool {
    static YS: OnceLock<Vec<[u8; 32]>> = OnceLock::new();
    let ys = YS.get_or_init(|| {
        let mut ys: Vec<[u8; 32]> = curve25519_dalek::constants::EIGHT_TORSION
            .iter()
            .map(|t| t.compress().0)
            .collect();
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        let mut p1 = p;
        p1[0] = 0xee;
        ys.extend([p, p1]);
        for y in &mut ys {
            y[31] &= 0x7f;
        }
        ys.sort_unstable();
        ys.dedup();
        ys
    });
    let mut y = *sig.r_bytes();
    y[31] &= 0x7f;
    ys.contains(&y)
}

/// Everything but the signature arithmetic, and the signatures still to check.
/// Also returns the document's members as (inspector id, name), for `finish`.
fn prepare(
    index: usize,
    bundle: &Bundle,
    trusted: &TrustedKeys,
    keys: &mut BTreeMap<[u8; 32], Option<VerifyingKey>>,
) -> (VerificationReport, Vec<Pending>, Vec<(String, String)>) {
    let found = content_hash(&bundle.document.0);
    let decoded = if bundle.format != BUNDLE_FORMAT {
        Err(DocumentStatus::Undecodable(format!(
            "bundle format {}",
            bundle.format
        )))
    } else {
        match decode_canonical(&bundle.document.0) {
            Ok(doc) => Ok(doc),
            Err(MinutesError::NotCanonical) => Err(DocumentStatus::NotCanonical),
            Err(e) => Err(DocumentStatus::Undecodable(e.to_string())),
        }
    };
    let doc: Option<&MinutesDocument> = decoded.as_ref().ok();
    let message = signing_message(&bundle.content_hash);
    let mut pending = Vec::new();
    let signatures = bundle
        .signatures
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let fp = fingerprint(&s.public_key.0);
            let listed = doc
                .and_then(|d| d.member(&s.signer))
                .is_some_and(|m| m.role == s.role && m.key_fingerprint.as_deref() == Some(fp.as_str()));
            let trust = match (trusted.find(&s.signer, &s.public_key), trusted.get(&s.signer)) {
                (Some(k), _) => KeyTrust::Trusted { name: k.name.clone() },
                (None, Some(_)) => KeyTrust::DifferentKey,
                (None, None) => KeyTrust::UnknownSigner,
            };
            // Invalid or weak keys never reach the arithmetic: they are simply invalid.
            let key = *keys
                .entry(s.public_key.0)
                .or_insert_with(|| check_public_key(&s.public_key.0).ok());
            if let Some(key) = key {
                pending.push(Pending {
                    report: index,
                    signature: i,
                    message,
                    sig: Signature::from_bytes(&s.signature.0),
                    key,
                });
            }
            SignatureCheck {
                signer: s.signer.clone(),
                role: s.role,
                fingerprint: fp,
                valid: false,
                trust,
                listed,
            }
        })
        .collect();
    let mut blobs = Vec::new();
    if let Some(d) = doc {
        let cited = d
            .photos
            .iter()
            .map(|p| {
                (
                    p.sha256,
                    BlobKind::Photo {
                        caption: p.caption.clone(),
                        item: p.item.clone(),
                    },
                )
            })
            .chain(d.representative_signature.map(|h| (h, BlobKind::DrawnSignature)));
        for (sha256, kind) in cited {
            let status = match bundle.blob(&sha256) {
                None => BlobStatus::Missing,
                Some(b) if content_hash(&b.data.0) == sha256 => BlobStatus::Ok,
                Some(_) => BlobStatus::Mismatched,
            };
            blobs.push(BlobCheck { sha256, kind, status });
        }
    }
    let report = VerificationReport {
        content_hash: found,
        signed_hash: bundle.content_hash,
        number: doc.map(|d| d.number.clone()),
        establishment: doc.map(|d| d.establishment.name.clone()),
        previous: doc.and_then(|d| d.previous),
        document: match &decoded {
            Ok(_) => DocumentStatus::Ok,
            Err(s) => s.clone(),
        },
        signatures,
        blobs,
        sealed: false,
        unsigned_members: Vec::new(),
    };
    let members = doc
        .map(|d| {
            d.members
                .iter()
                .map(|m| (m.inspector_id.clone(), m.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    (report, pending, members)
}

/// Fills what depends on the signatures' validity.
fn finish(report: &mut VerificationReport, members: Vec<(String, String)>) {
    let good = |id: &str| {
        report
            .signatures
            .iter()
            .any(|s| s.valid && s.listed && s.signer == id)
    };
    let unsigned = members
        .into_iter()
        .filter(|(id, _)| !good(id))
        .map(|(_, name)| name)
        .collect();
    report.unsigned_members = unsigned;
    report.sealed = report
        .signatures
        .iter()
        .any(|s| s.valid && s.listed && s.role == Role::Leader);
}

impl fmt::Display for VerificationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.is_valid() {
            "HỢP LỆ / VALID"
        } else {
            "KHÔNG HỢP LỆ / NOT VALID"
        };
        writeln!(f, "Biên bản / Minutes: {}", self.number.as_deref().unwrap_or("?"))?;
        if let Some(e) = &self.establishment {
            writeln!(f, "Đơn vị được kiểm tra / Establishment: {e}")?;
        }
        writeln!(f, "Mã băm nội dung / Content hash: {}", self.content_hash)?;
        if self.hash_matches() {
            writeln!(
                f,
                "  [OK] Nội dung khớp mã băm đã ký / content matches the signed hash"
            )?;
        } else {
            writeln!(
                f,
                "  [LỖI] Nội dung đã bị thay đổi / content was altered (signed hash {})",
                self.signed_hash
            )?;
        }
        match &self.document {
            DocumentStatus::Ok => {}
            DocumentStatus::NotCanonical => writeln!(
                f,
                "  [LỖI] Nội dung không ở dạng chuẩn / document is not in canonical form"
            )?,
            DocumentStatus::Undecodable(r) => {
                writeln!(f, "  [LỖI] Không đọc được nội dung / document unreadable: {r}")?
            }
        }
        if let Some(p) = &self.previous {
            writeln!(f, "Đính chính biên bản / Corrects minutes: {p}")?;
        }
        writeln!(f, "Chữ ký số / Signatures: {}", self.signatures.len())?;
        for s in &self.signatures {
            let name = match &s.trust {
                KeyTrust::Trusted { name } => name.clone(),
                _ => s.signer.clone(),
            };
            let mark = if s.is_ok() { "[OK]" } else { "[LỖI]" };
            write!(
                f,
                "  {mark} {name} ({} / {:?}), khóa / key {}",
                s.role.label_vi(),
                s.role,
                s.fingerprint
            )?;
            if !s.valid {
                write!(f, "; chữ ký không hợp lệ / signature invalid")?;
            }
            match s.trust {
                KeyTrust::Trusted { .. } => {}
                KeyTrust::UnknownSigner => write!(f, "; khóa chưa được chứng nhận / key not certified")?,
                KeyTrust::DifferentKey => {
                    write!(f, "; khóa khác khóa đã chứng nhận / not the certified key")?
                }
            }
            if !s.listed {
                write!(f, "; không có trong thành phần đoàn / not listed in the minutes")?;
            }
            writeln!(f)?;
        }
        if self.sealed {
            writeln!(f, "  [OK] Trưởng đoàn đã ký / sealed by the leader")?;
        } else {
            writeln!(f, "  [LỖI] Trưởng đoàn chưa ký / not sealed by the leader")?;
        }
        for m in &self.unsigned_members {
            writeln!(f, "  [LỖI] Chưa ký / has not signed: {m}")?;
        }
        for b in &self.blobs {
            let what = match &b.kind {
                BlobKind::Photo { caption, item } => match item {
                    Some(i) => format!("Ảnh / photo {i} \"{caption}\""),
                    None => format!("Ảnh / photo \"{caption}\""),
                },
                BlobKind::DrawnSignature => {
                    "Chữ ký tay của đại diện / representative's drawn signature".to_string()
                }
            };
            let status = match b.status {
                BlobStatus::Ok => "[OK] khớp / matches",
                BlobStatus::Missing => "[THIẾU] không kèm theo / not supplied",
                BlobStatus::Mismatched => "[LỖI] đã bị thay đổi / altered",
            };
            writeln!(f, "  {status}: {what} {}", &b.sha256.to_hex()[..16])?;
        }
        write!(f, "Kết luận / Verdict: {verdict}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::edwards::CompressedEdwardsY;

    fn sig_with_r(r: [u8; 32]) -> Signature {
        let mut b = [0u8; 64];
        b[..32].copy_from_slice(&r);
        Signature::from_bytes(&b)
    }

    #[test]
    fn the_small_order_blocklist_agrees_with_decompression() {
        for t in curve25519_dalek::constants::EIGHT_TORSION {
            let mut r = t.compress().0;
            assert!(small_order_r(&sig_with_r(r)));
            r[31] ^= 0x80;
            assert!(small_order_r(&sig_with_r(r)));
        }
        // Ordinary points (hash outputs that decompress) are not on the list.
        let mut checked = 0;
        for i in 0u32..200 {
            let r = Hash32::sha256(&i.to_le_bytes()).0;
            if let Some(p) = CompressedEdwardsY(r).decompress() {
                assert_eq!(small_order_r(&sig_with_r(r)), p.is_small_order());
                checked += 1;
            }
        }
        assert!(checked > 50);
    }
}
