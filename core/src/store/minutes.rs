//! The minutes in the store: drawn up from closed findings, signed by the
//! members and sealed by the leader, exported as a bundle that verifies
//! offline, rendered to HTML and PDF.

use super::Store;
use crate::access_code::AccessCode;
use crate::error::{Error, Result};
use crate::identity::KeyStore;
use crate::ids::{InspectionId, InspectorId};
use crate::minutes::{
    render_html, render_pdf, Blob, Bundle, MinutesDocument, MinutesInfo, RenderOptions, SignedMinutes,
    TrustedKeys,
};
use crate::ops::Payload;
use crate::sync::wire::CertificateBody;

impl Store {
    /// Draws up the minutes of an inspection whose findings are closed (or
    /// an amendment of sealed minutes, when `info.previous` cites them).
    pub fn draw_up_minutes(&self, id: InspectionId, info: MinutesInfo) -> Result<SignedMinutes> {
        let snap = self.snapshot(id)?;
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
        // An amendment keeps the code already printed on the establishment's copy.
        let access_code = match snap.record.current_minutes().and_then(|m| m.access_code.clone()) {
            Some(code) => code,
            None => AccessCode::generate()?,
        };
        let document = MinutesDocument::build(&snap, &delegation, &inspectors, info)?;
        let signed = SignedMinutes::new(document)?;
        let canonical = signed.canonical_bytes().to_vec();
        self.change_inspection(
            id,
            Payload::DrawUpMinutes {
                inspection: id,
                canonical,
                access_code: Some(access_code),
            },
        )?;
        Ok(signed)
    }

    /// Signs the current minutes as `signer` with `key` (the signer's own
    /// key store: this device's, or a key the signer carries). The leader's
    /// signature, last, seals the inspection.
    pub fn sign_minutes(
        &self,
        id: InspectionId,
        signer: InspectorId,
        key: &dyn KeyStore,
    ) -> Result<SignedMinutes> {
        let mut signed = self.current_minutes(id)?;
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

    /// The portal access code printed on the current minutes.
    pub fn minutes_access_code(&self, id: InspectionId) -> Result<Option<AccessCode>> {
        let snap = self.snapshot(id)?;
        Ok(snap.record.current_minutes().and_then(|m| m.access_code.clone()))
    }

    pub fn minutes_html(&self, id: InspectionId, verify_base_url: &str) -> Result<String> {
        let signed = self.current_minutes(id)?;
        let options = RenderOptions::new(verify_base_url).with_access_code(self.minutes_access_code(id)?);
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
        let options = RenderOptions::new(verify_base_url).with_access_code(self.minutes_access_code(id)?);
        Ok(render_pdf(&signed, &bundle, &options)?)
    }
}
