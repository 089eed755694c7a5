//! The minutes in the store: drawn up from closed findings, signed by the
//! members and sealed by the leader, exported as a bundle that verifies
//! offline, rendered to HTML and PDF.

use super::{InspectionSnapshot, Store, Write, T};
use crate::access_code::{AccessCode, AccessCodeHash};
use crate::error::{Error, Result};
use crate::identity::KeyStore;
use crate::ids::{InspectionId, InspectorId};
use crate::minutes::{
    check_conforms, render_html, render_pdf, Blob, Bundle, MemberKeys, MinutesDocument, MinutesInfo,
    RenderOptions, SignedMinutes, TrustedKeys,
};
use crate::ops::{Operation, Payload};
use crate::people::{Delegation, Inspector};
use crate::sync::wire::CertificateBody;

impl Store {
    /// The delegation of an inspection and its members as inspectors.
    fn delegation_of(&self, snap: &InspectionSnapshot) -> Result<(Delegation, Vec<Inspector>)> {
        let delegation = self
            .delegation(snap.record.inspection.delegation)?
            .ok_or_else(|| Error::NotFound {
                kind: "delegation",
                id: snap.record.inspection.delegation.to_string(),
            })?;
        let mut inspectors = Vec::new();
        for m in &delegation.members {
            inspectors.push(self.inspector(m.inspector)?.ok_or_else(|| Error::NotFound {
                kind: "inspector",
                id: m.inspector.to_string(),
            })?);
        }
        Ok((delegation, inspectors))
    }

    /// Refuses minutes that are not what this device's record gives (the
    /// same check the server runs when they are drawn up).
    fn check_minutes_conform(&self, snap: &InspectionSnapshot, doc: &MinutesDocument) -> Result<()> {
        let (delegation, inspectors) = self.delegation_of(snap)?;
        let keys = self.trusted_keys()?;
        check_conforms(doc, snap, &delegation, &inspectors, MemberKeys::Known(&keys))?;
        Ok(())
    }

    /// Draws up the minutes of an inspection whose findings are closed (or
    /// an amendment of sealed minutes, when `info.previous` cites them).
    pub fn draw_up_minutes(&self, id: InspectionId, info: MinutesInfo) -> Result<SignedMinutes> {
        let snap = self.snapshot(id)?;
        let (delegation, inspectors) = self.delegation_of(&snap)?;
        let document = MinutesDocument::build(&snap, &delegation, &inspectors, info)?;
        self.check_minutes_conform(&snap, &document)?;
        // An amendment keeps the code already printed on the establishment's
        // copy (by its hash: this device may not be the one that drew it).
        let (access_code_hash, extra) = match snap.record.current_minutes().and_then(|m| m.access_code_hash) {
            Some(hash) => (hash, Vec::new()),
            None => {
                let code = AccessCode::generate()?;
                let keep = Write::put(
                    T::AccessCodes,
                    code.hash().to_vec(),
                    code.as_str().as_bytes().to_vec(),
                );
                (code.code_hash(), vec![keep])
            }
        };
        let signed = SignedMinutes::new(document)?;
        let canonical = signed.canonical_bytes().to_vec();
        self.change_inspection_with(
            id,
            Payload::DrawUpMinutes {
                inspection: id,
                canonical,
                access_code_hash: Some(access_code_hash),
            },
            extra,
        )?;
        Ok(signed)
    }

    /// Signs the current minutes as `signer` with `key` (the signer's own
    /// key store: this device's, or a key the signer carries). The leader's
    /// signature, last, seals the inspection. Refused when the minutes (drawn
    /// on any device) contradict this device's record.
    pub fn sign_minutes(
        &self,
        id: InspectionId,
        signer: InspectorId,
        key: &dyn KeyStore,
    ) -> Result<SignedMinutes> {
        let snap = self.snapshot(id)?;
        let mut signed = self.current_minutes(id)?;
        self.check_minutes_conform(&snap, signed.document())?;
        let signature = signed.sign(signer, key)?.clone();
        self.change_inspection(
            id,
            Payload::SignMinutes {
                inspection: id,
                content_hash: signed.content_hash(),
                signature,
            },
        )?;
        Ok(signed)
    }

    /// The clear access codes of the draw-ups among `ops` that this device
    /// holds, to send beside them in a push (the server checks and forgets them).
    pub fn access_codes_for(&self, ops: &[Operation]) -> Result<Vec<AccessCode>> {
        let mut codes = Vec::new();
        for op in ops {
            if let Payload::DrawUpMinutes {
                access_code_hash: Some(hash),
                ..
            } = &op.payload
            {
                let Some(inspection) = op.payload.inspection() else {
                    continue;
                };
                if let Some(code) = self.access_code(inspection, hash)? {
                    if !codes.contains(&code) {
                        codes.push(code);
                    }
                }
            }
        }
        Ok(codes)
    }

    /// The clear code of `hash`, if this device drew it (this device's own
    /// operations of `inspection` are searched for a code drawn before the
    /// local tree existed).
    fn access_code(&self, inspection: InspectionId, hash: &AccessCodeHash) -> Result<Option<AccessCode>> {
        if let Some(bytes) = self.tree(T::AccessCodes).get(hash.0)? {
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| Error::Storage("a kept access code is not text".into()))?;
            return Ok(Some(AccessCode::parse(text)?));
        }
        for bytes in self
            .tree(T::ByInspection)
            .scan_prefix(inspection.as_bytes())
            .values()
        {
            let bytes = bytes?;
            let op: Operation = crate::codec::from_cbor("operation", &bytes)?;
            if op.device != self.device || !matches!(op.payload, Payload::DrawUpMinutes { .. }) {
                continue;
            }
            if let Some(code) = legacy_access_code(&bytes) {
                if code.code_hash() == *hash {
                    return Ok(Some(code));
                }
            }
        }
        Ok(None)
    }

    /// The newest version of an inspection's minutes with its signatures.
    pub fn current_minutes(&self, id: InspectionId) -> Result<SignedMinutes> {
        let snap = self.snapshot(id)?;
        let version = snap.record.current_minutes().ok_or_else(|| Error::NotFound {
            kind: "minutes",
            id: id.to_string(),
        })?;
        Ok(version.signed()?)
    }

    /// Every version of the minutes (amendments keep the earlier ones readable).
    pub fn minutes_versions(&self, id: InspectionId) -> Result<Vec<SignedMinutes>> {
        self.snapshot(id)?
            .record
            .minutes
            .values()
            .map(|v| Ok(v.signed()?))
            .collect()
    }

    /// Keeps the establishment representative's drawn signature (a PNG) and
    /// returns its SHA-256, to cite in the minutes.
    pub fn add_signature_drawing(&self, png: &[u8]) -> Result<crate::minutes::Hash32> {
        if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Err(crate::photo::PhotoError::UnsupportedFormat.into());
        }
        let sha = self.blobs.put(png)?;
        crate::minutes::Hash32::from_hex(&sha).ok_or_else(|| Error::Storage("bad blob hash".into()))
    }

    /// The certified keys this device knows (from the server's certificates).
    pub fn trusted_keys(&self) -> Result<TrustedKeys> {
        let mut keys = TrustedKeys::default();
        for cert in self.certificates()? {
            let body: CertificateBody = crate::codec::from_cbor("certificate", &cert.body)?;
            if self.is_revoked(body.device)? {
                continue;
            }
            if let Ok(key) = <[u8; 32]>::try_from(body.public_key.as_slice()) {
                keys.insert(&body.inspector.to_string(), key, &body.inspector_name)?;
            }
        }
        Ok(keys)
    }

    /// The current minutes as a one-file bundle: canonical bytes,
    /// signatures, every cited blob this device holds, and the certified keys
    /// (plus `extra_keys`, for keys certified elsewhere).
    pub fn minutes_bundle(&self, id: InspectionId, extra_keys: Option<&TrustedKeys>) -> Result<Bundle> {
        let signed = self.current_minutes(id)?;
        let doc = signed.document();
        let mut blobs = Vec::new();
        let cited = doc
            .photos
            .iter()
            .map(|p| p.sha256)
            .chain(doc.representative_signature);
        for hash in cited {
            if let Ok(bytes) = self.blob(&hash.to_hex()) {
                blobs.push(Blob::new(bytes));
            }
        }
        let mut keys = self.trusted_keys()?;
        if let Some(extra) = extra_keys {
            for k in &extra.keys {
                keys.insert(&k.inspector_id, k.public_key.0, &k.name)?;
            }
        }
        Ok(Bundle::new(&signed, blobs, keys))
    }

    /// The portal access code printed on the current minutes, when this
    /// device drew them: other devices know only its hash.
    pub fn minutes_access_code(&self, id: InspectionId) -> Result<Option<AccessCode>> {
        let snap = self.snapshot(id)?;
        match snap.record.current_minutes().and_then(|m| m.access_code_hash) {
            Some(hash) => self.access_code(id, &hash),
            None => Ok(None),
        }
    }

    /// How this device prints the access code of the current minutes: the
    /// code where it drew them, a note that it is on the establishment's
    /// copy where another device did.
    fn render_options(&self, id: InspectionId, verify_base_url: &str) -> Result<RenderOptions> {
        let snap = self.snapshot(id)?;
        let has_code = snap
            .record
            .current_minutes()
            .is_some_and(|m| m.access_code_hash.is_some());
        let options = RenderOptions::new(verify_base_url);
        Ok(match self.minutes_access_code(id)? {
            Some(code) => options.with_access_code(Some(code)),
            None if has_code => options.with_code_elsewhere(),
            None => options,
        })
    }

    pub fn minutes_html(&self, id: InspectionId, verify_base_url: &str) -> Result<String> {
        let signed = self.current_minutes(id)?;
        let options = self.render_options(id, verify_base_url)?;
        Ok(render_html(&signed, &options)?)
    }

    /// The A4 PDF of the current minutes, with the signed bundle attached.
    pub fn minutes_pdf(
        &self,
        id: InspectionId,
        verify_base_url: &str,
        extra_keys: Option<&TrustedKeys>,
    ) -> Result<Vec<u8>> {
        let signed = self.current_minutes(id)?;
        let bundle = self.minutes_bundle(id, extra_keys)?;
        let options = self.render_options(id, verify_base_url)?;
        Ok(render_pdf(&signed, &bundle, &options)?)
    }
}

/// The clear code an operation stored before codes were kept apart carries
/// (`payload.draw_up_minutes.access_code` as text). Those operations are
/// left as they were written; the typed decoding reads the field as the
/// code's hash, so only this raw look finds the code again, on the device
/// that holds it anyway.
fn legacy_access_code(op_bytes: &[u8]) -> Option<AccessCode> {
    use serde_cbor::Value;
    let field = |v: &Value, name: &str| match v {
        Value::Map(m) => m.get(&Value::Text(name.into())).cloned(),
        _ => None,
    };
    let op: Value = serde_cbor::from_slice(op_bytes).ok()?;
    let payload = field(&op, "payload")?;
    let draw_up = field(&payload, "draw_up_minutes")?;
    match field(&draw_up, "access_code")? {
        Value::Text(t) => AccessCode::parse(&t).ok(),
        _ => None,
    }
}
