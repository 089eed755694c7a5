//! What the portal shows an establishment, loaded for one grant: its
//! inspection, the minutes as signed and whether they verify, the
//! violations with their deadlines, the photos. Everything here is read for
//! the grant's inspection only; there is no other way in.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use kiemtra_core::evidence::{BlobRef, PhotoRecord};
use kiemtra_core::facility::Facility;
use kiemtra_core::minutes::{
    verify_bundle_with, Blob, Bundle, SignedMinutes, TrustedKeys, VerificationReport,
};
use kiemtra_core::record::{Context, InspectionRecord, MinutesVersion};
use kiemtra_core::sync::wire::CertificateBody;
use kiemtra_core::template::ChecklistTemplate;
use kiemtra_core::violation::{Violation, ViolationStatus};

use crate::app::AppState;
use crate::db::{PortalGrant, Read, ServerDb};
use crate::error::ServerError;
use crate::storage::BlobStore;

pub struct PortalView {
    pub record: InspectionRecord,
    pub template: ChecklistTemplate,
    pub facility: Facility,
    /// The current minutes version and its access code.
    pub minutes: Option<MinutesVersion>,
    pub signed: Option<SignedMinutes>,
    pub report: Option<VerificationReport>,
    pub trusted: TrustedKeys,
    /// The violations the minutes list (dismissed proposals are not shown).
    pub violations: Vec<Violation>,
    pub today: NaiveDate,
    /// Photos (by image hash) that can be shown: both blobs received as declared.
    pub received: BTreeSet<String>,
    /// The sanction decisions that cover violations of this inspection.
    pub sanctions: Vec<crate::sanctions::SanctionDecision>,
}

/// Days until the deadline (negative: overdue), for an unresolved violation.
pub fn days_left(v: &Violation, today: NaiveDate) -> Option<i64> {
    (v.status != ViolationStatus::Verified).then(|| (v.deadline - today).num_days())
}

/// The certified keys of every enrolled device: a signature made before a
/// device was revoked still verifies against the key certified then.
pub fn trusted_keys(db: &ServerDb) -> Result<TrustedKeys, ServerError> {
    let mut keys = TrustedKeys::new();
    for d in db.devices()? {
        let body: CertificateBody = kiemtra_core::codec::from_cbor("certificate", &d.certificate.body)?;
        let Ok(pk) = <[u8; 32]>::try_from(body.public_key.as_slice()) else {
            continue;
        };
        keys.insert(&body.inspector.to_string(), pk, &body.inspector_name)
            .map_err(kiemtra_core::Error::from)?;
    }
    Ok(keys)
}

/// The record a grant opens. A grant names its facility; a record of
/// another one is never shown.
pub fn granted_record(db: &ServerDb, grant: PortalGrant) -> Result<InspectionRecord, ServerError> {
    db.record(grant.inspection)?
        .filter(|r| r.inspection.facility == grant.facility)
        .ok_or_else(|| ServerError::NotFound("inspection".into()))
}

/// Every photo the record shows: the inspectors', then the establishment's.
fn shown_photos(record: &InspectionRecord) -> impl Iterator<Item = &PhotoRecord> {
    let sent = record
        .remediations
        .values()
        .flatten()
        .flat_map(|r| r.photos.iter());
    record.photos.values().chain(sent)
}

/// What the record declares about `sha256`, if it is a blob the record
/// shows: an inspector's photo or thumbnail, or one the establishment sent.
/// Photos are served on this check alone, without building the whole
/// page's view.
pub fn declared_blob(record: &InspectionRecord, sha256: &str) -> Option<BlobRef> {
    shown_photos(record)
        .flat_map(|p| [&p.image, &p.thumbnail])
        .find(|b| b.sha256 == sha256)
        .cloned()
}

/// The blob's bytes if the server holds them and they are the image `declared`
/// says (size, hash, a whole JPEG of its sides); `None` while they have not
/// arrived, and for bytes that are anything else (a device may upload any
/// bytes under a name its operation declares an image): those are never
/// served as a photo.
pub fn received_image(blobs: &dyn BlobStore, declared: &BlobRef) -> Result<Option<Vec<u8>>, ServerError> {
    let Some(bytes) = blobs.get(&declared.sha256)? else {
        return Ok(None);
    };
    match declared.check_bytes(&bytes) {
        Ok(()) => Ok(Some(bytes)),
        Err(e) => {
            tracing::warn!(blob = %declared.sha256, error = %e, "a photo's blob is not the image its operation declares");
            Ok(None)
        }
    }
}

/// The photos (by image hash) whose image and thumbnail have both arrived
/// as the images declared. Reads each blob once per page: a portal page is
/// opened rarely and an inspection has tens of photos, not thousands.
fn received_photos(
    blobs: &dyn BlobStore,
    record: &InspectionRecord,
) -> Result<BTreeSet<String>, ServerError> {
    let mut received = BTreeSet::new();
    for p in shown_photos(record) {
        if received.contains(&p.image.sha256) {
            continue;
        }
        if received_image(blobs, &p.thumbnail)?.is_some() && received_image(blobs, &p.image)?.is_some() {
            received.insert(p.image.sha256.clone());
        }
    }
    Ok(received)
}

impl PortalView {
    pub fn load(state: &AppState, grant: PortalGrant) -> Result<Self, ServerError> {
        let db = &state.db;
        let record = granted_record(db, grant)?;
        let template = db
            .template(&record.inspection.template)?
            .ok_or_else(|| ServerError::NotFound("template".into()))?;
        let facility = db
            .facility(grant.facility)?
            .ok_or_else(|| ServerError::NotFound("facility".into()))?;
        let minutes = record.current_minutes().cloned();
        let signed = match &minutes {
            Some(m) => Some(m.signed().map_err(kiemtra_core::Error::from)?),
            None => None,
        };
        let trusted = trusted_keys(db)?;
        let report = signed.as_ref().map(|s| {
            let bundle = Bundle::new(s, Vec::new(), trusted.clone());
            verify_bundle_with(&bundle, &trusted)
        });
        let ctx = Context {
            template: &template,
            facility_kind: facility.kind,
            trusted_keys: None,
        };
        let violations = record
            .violations(&ctx)
            .into_iter()
            .filter(|v| !v.is_dismissed())
            .collect();
        let received = received_photos(state.blobs.as_ref(), &record)?;
        // Only what concerns the inspection the access code opened.
        let id = record.inspection.id;
        let sanctions = db
            .sanctions()?
            .into_iter()
            .filter(|d| d.facility == grant.facility && d.items.iter().any(|i| i.inspection == id))
            .collect();
        Ok(Self {
            received,
            sanctions,
            today: chrono::Utc::now()
                .with_timezone(&kiemtra_core::inspection::vietnam_offset())
                .date_naive(),
            record,
            template,
            facility,
            minutes,
            signed,
            report,
            trusted,
            violations,
        })
    }

    pub fn is_sealed(&self) -> bool {
        self.signed.as_ref().is_some_and(SignedMinutes::is_sealed)
    }

    /// The bundle of the current minutes with the photos the server holds.
    pub fn bundle(&self, state: &AppState) -> Result<Option<Bundle>, ServerError> {
        let Some(signed) = &self.signed else {
            return Ok(None);
        };
        let mut blobs = Vec::new();
        for p in &signed.document().photos {
            if let Some(bytes) = state.blobs.get(&p.sha256.to_hex())? {
                blobs.push(Blob::new(bytes));
            }
        }
        Ok(Some(Bundle::new(signed, blobs, self.trusted.clone())))
    }
}
