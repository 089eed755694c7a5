//! The minutes through the bindings: draw up, sign (with the device key or a
//! key store of the app's), export, render, verify.

use std::collections::BTreeMap;
use std::sync::Arc;

use kiemtra_core as core;
use kiemtra_core::minutes::{Hash32, MinutesInfo, Person, SignedMinutes, Statement, TrustedKeys, Witness};

use crate::error::{parse, KiemtraError, Result};

/// A signer's public key, to name in the minutes or to trust when verifying.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SignerKey {
    pub inspector_id: String,
    pub public_key: Vec<u8>,
    pub name: String,
}

/// What the minutes need beyond the recorded inspection.
#[derive(Debug, Clone, uniffi::Record)]
pub struct MinutesInput {
    /// "15/BB-ĐKT"
    pub number: String,
    /// The issuing body's lines, in capitals: agency names are data.
    pub issuing_body: Vec<String>,
    pub city: String,
    pub place: String,
    /// RFC 3339, e.g. "2025-03-05T08:30:00+07:00".
    pub started_at: String,
    pub ended_at: String,
    pub representative_name: Option<String>,
    pub representative_title: Option<String>,
    /// The establishment's statement; `None` with a `refusal_reason` when it refused to sign.
    pub statement: Option<String>,
    pub refusal_reason: Option<String>,
    pub witness_name: Option<String>,
    pub witness_title: Option<String>,
    pub witness_role: Option<String>,
    pub copies: u32,
    /// Each member's signing key (a member without one cannot sign digitally).
    pub signer_keys: Vec<SignerKey>,
    /// The representative's drawn signature (PNG), when they signed.
    pub representative_signature_png: Option<Vec<u8>>,
    /// The content hash (hex) of the sealed minutes this version corrects.
    pub previous_hash: Option<String>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct MinutesSummary {
    pub content_hash: String,
    pub sealed: bool,
    pub signers: Vec<String>,
    pub unsigned_members: Vec<String>,
    pub previous_hash: Option<String>,
}

impl From<&SignedMinutes> for MinutesSummary {
    fn from(s: &SignedMinutes) -> Self {
        Self {
            content_hash: s.content_hash().to_hex(),
            sealed: s.is_sealed(),
            signers: s.signatures().iter().map(|x| x.signer.clone()).collect(),
            unsigned_members: s.unsigned_members(),
            previous_hash: s.document().previous.map(|h| h.to_hex()),
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct VerificationSummary {
    /// Content, signatures and cited blobs check out, and the leader sealed it.
    pub valid: bool,
    /// Valid, and every cited photo was in the file.
    pub complete: bool,
    /// The report, line by line, in Vietnamese and English.
    pub report: String,
}

fn key32(bytes: &[u8]) -> Result<[u8; 32]> {
    bytes.try_into().map_err(|_| KiemtraError::InvalidInput {
        reason: "a public key is 32 bytes".into(),
    })
}

pub(crate) fn trusted(keys: &[SignerKey]) -> Result<TrustedKeys> {
    let mut t = TrustedKeys::default();
    for k in keys {
        t.insert(&k.inspector_id, key32(&k.public_key)?, &k.name)
            .map_err(|e| KiemtraError::InvalidInput {
                reason: e.to_string(),
            })?;
    }
    Ok(t)
}

pub(crate) fn info(store: &core::store::Store, input: MinutesInput) -> Result<MinutesInfo> {
    let time = |what: &str, s: &str| {
        chrono::DateTime::parse_from_rfc3339(s.trim()).map_err(|_| KiemtraError::InvalidInput {
            reason: format!("{what} {s:?} is not an RFC 3339 time"),
        })
    };
    let statement = match (input.statement, input.refusal_reason) {
        (Some(text), None) => Statement::Statement { text },
        (None, Some(reason)) => Statement::Refused {
            reason,
            witness: match (input.witness_name, input.witness_title, input.witness_role) {
                (Some(name), Some(title), Some(role)) => Some(Witness { name, title, role }),
                (None, None, None) => None,
                _ => {
                    return Err(KiemtraError::InvalidInput {
                        reason: "a witness needs a name, a title and a role".into(),
                    })
                }
            },
        },
        _ => {
            return Err(KiemtraError::InvalidInput {
                reason: "give either the establishment's statement or the reason it refused to sign".into(),
            })
        }
    };
    let representative = match (input.representative_name, input.representative_title) {
        (Some(name), Some(title)) => Some(Person { name, title }),
        (None, None) => None,
        _ => {
            return Err(KiemtraError::InvalidInput {
                reason: "the representative needs a name and a title".into(),
            })
        }
    };
    let mut member_keys = BTreeMap::new();
    for k in &input.signer_keys {
        member_keys.insert(parse("inspector id", &k.inspector_id)?, key32(&k.public_key)?);
    }
    let representative_signature_png_sha256 = match input.representative_signature_png {
        Some(png) => Some(store.add_signature_drawing(&png)?),
        None => None,
    };
    let previous = match input.previous_hash {
        Some(h) => Some(Hash32::from_hex(&h).ok_or_else(|| KiemtraError::InvalidInput {
            reason: "previous hash is not 64 hex digits".into(),
        })?),
        None => None,
    };
    Ok(MinutesInfo {
        number: input.number,
        issuing_body: input.issuing_body,
        subject: MinutesInfo::OSH_SUBJECT.into(),
        extra_grounds: vec![],
        city: input.city,
        place: input.place,
        location: None,
        made_elsewhere_reason: None,
        started_at: time("start time", &input.started_at)?,
        ended_at: time("end time", &input.ended_at)?,
        representative,
        others_present: vec![],
        statement,
        copies: input.copies,
        photos: vec![],
        member_keys,
        representative_signature_png_sha256,
        report_to: None,
        previous,
    })
}

/// Verifies a minutes file (a bundle, or a PDF with the bundle attached)
/// offline, against the keys it carries plus `trusted_keys`.
#[uniffi::export]
pub fn verify_minutes(file: Vec<u8>, trusted_keys: Vec<SignerKey>) -> Result<VerificationSummary> {
    let bundle = if file.starts_with(b"%PDF-") {
        core::minutes::extract_bundle_from_pdf(&file)
    } else {
        core::minutes::Bundle::from_bytes(&file)
    }
    .map_err(|e| KiemtraError::InvalidInput {
        reason: e.to_string(),
    })?;
    let mut keys = bundle.trusted_keys.clone();
    for k in trusted(&trusted_keys)?.keys {
        keys.insert(&k.inspector_id, k.public_key.0, &k.name)
            .map_err(|e| KiemtraError::InvalidInput {
                reason: e.to_string(),
            })?;
    }
    let report = core::minutes::verify_bundle_with(&bundle, &keys);
    Ok(VerificationSummary {
        valid: report.is_valid(),
        complete: report.is_complete(),
        report: report.to_string(),
    })
}

pub(crate) fn key_store(
    default: &Arc<dyn core::identity::KeyStore>,
    given: Option<Arc<dyn crate::keys::DeviceKeyStore>>,
) -> Arc<dyn core::identity::KeyStore> {
    match given {
        Some(k) => Arc::new(crate::keys::ForeignKeyStore(k)),
        None => default.clone(),
    }
}
