//! `KiemtraStore`: the device's offline store, as the apps see it.

use std::sync::Arc;

use kiemtra_core as core;
use kiemtra_core::ids::{DelegationId, FacilityId, InspectionId, InspectorId};

use crate::error::{parse, KiemtraError, Result};
use crate::records::*;

/// The offline store on the device. Every write returns only once it is on
/// stable storage; a failed write changes nothing.
#[derive(uniffi::Object)]
pub struct KiemtraStore {
    inner: core::store::Store,
    key: Arc<dyn core::identity::KeyStore>,
    net: crate::net::NetLock,
}

impl KiemtraStore {
    /// The core store, for the other exported impl blocks of this crate.
    pub(crate) fn inner(&self) -> &core::store::Store {
        &self.inner
    }

    pub(crate) fn key(&self) -> &Arc<dyn core::identity::KeyStore> {
        &self.key
    }

    pub(crate) fn net(&self) -> &crate::net::NetLock {
        &self.net
    }
}

pub(crate) fn inspection_id(s: &str) -> Result<InspectionId> {
    parse("inspection id", s)
}

#[uniffi::export]
impl KiemtraStore {
    /// Opens (or creates) the store in the folder `path`, with the device
    /// key in a file beside the data (created on first use).
    #[uniffi::constructor]
    pub fn open(path: String) -> Result<Arc<Self>> {
        let inner = core::store::Store::open(&path)?;
        let key = core::identity::FileKeyStore::open_or_create(inner.path().join("device-key"))?;
        Ok(Arc::new(Self {
            inner,
            key: Arc::new(key),
            net: Default::default(),
        }))
    }

    /// Opens the store with the device key held by the platform (Android
    /// Keystore, iOS Keychain) through `key_store`.
    #[uniffi::constructor]
    pub fn open_with_key_store(
        path: String,
        key_store: Arc<dyn crate::keys::DeviceKeyStore>,
    ) -> Result<Arc<Self>> {
        Ok(Arc::new(Self {
            inner: core::store::Store::open(&path)?,
            key: Arc::new(crate::keys::ForeignKeyStore(key_store)),
            net: Default::default(),
        }))
    }

    /// The device's public key, 32 bytes.
    pub fn device_public_key(&self) -> Result<Vec<u8>> {
        Ok(self.key.public_key()?.to_vec())
    }

    /// Local changes the server refused, with the reasons.
    pub fn refused_operations(&self) -> Result<Vec<crate::sync::RefusedOperation>> {
        Ok(self
            .inner
            .refused_operations()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Adds a photo (JPEG, PNG or WebP bytes as the camera wrote them) to an
    /// inspection or to one of its checklist items.
    pub fn add_photo(
        &self,
        inspection_id: String,
        item_code: Option<String>,
        bytes: Vec<u8>,
        caption: Option<String>,
    ) -> Result<Photo> {
        Ok(self
            .inner
            .add_photo(
                self::inspection_id(&inspection_id)?,
                item_code.as_deref(),
                &bytes,
                caption.as_deref(),
            )?
            .into())
    }

    pub fn photos(&self, inspection_id: String) -> Result<Vec<Photo>> {
        Ok(self
            .inner
            .photos(self::inspection_id(&inspection_id)?)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Draws up the minutes from closed findings (or an amendment of sealed
    /// minutes, with `previous_hash`).
    pub fn draw_up_minutes(
        &self,
        inspection_id: String,
        input: crate::minutes::MinutesInput,
    ) -> Result<crate::minutes::MinutesSummary> {
        let info = crate::minutes::info(&self.inner, input)?;
        let signed = self
            .inner
            .draw_up_minutes(self::inspection_id(&inspection_id)?, info)?;
        Ok((&signed).into())
    }

    /// Signs the current minutes as `signer_id`, with this device's key or
    /// with `key_store` (a member signing with their own key). The leader
    /// signs last, and that seals the inspection.
    pub fn sign_minutes(
        &self,
        inspection_id: String,
        signer_id: String,
        key_store: Option<Arc<dyn crate::keys::DeviceKeyStore>>,
    ) -> Result<crate::minutes::MinutesSummary> {
        let key = crate::minutes::key_store(&self.key, key_store);
        let signer: InspectorId = parse("inspector id", &signer_id)?;
        let signed = self
            .inner
            .sign_minutes(self::inspection_id(&inspection_id)?, signer, key.as_ref())?;
        Ok((&signed).into())
    }

    pub fn current_minutes(&self, inspection_id: String) -> Result<crate::minutes::MinutesSummary> {
        Ok((&self.inner.current_minutes(self::inspection_id(&inspection_id)?)?).into())
    }

    /// The minutes as one file that verifies offline (`kiemtra-server verify FILE`).
    pub fn export_minutes_bundle(
        &self,
        inspection_id: String,
        extra_trusted_keys: Vec<crate::minutes::SignerKey>,
    ) -> Result<Vec<u8>> {
        let extra = crate::minutes::trusted(&extra_trusted_keys)?;
        let bundle = self
            .inner
            .minutes_bundle(self::inspection_id(&inspection_id)?, Some(&extra))?;
        bundle.to_bytes().map_err(|e| KiemtraError::Storage {
            reason: e.to_string(),
        })
    }

    /// The printable Vietnamese HTML page of the current minutes.
    pub fn minutes_html(&self, inspection_id: String, verify_base_url: String) -> Result<String> {
        Ok(self
            .inner
            .minutes_html(self::inspection_id(&inspection_id)?, &verify_base_url)?)
    }

    /// The A4 PDF of the current minutes, with the signed bundle attached.
    pub fn minutes_pdf(
        &self,
        inspection_id: String,
        verify_base_url: String,
        extra_trusted_keys: Vec<crate::minutes::SignerKey>,
    ) -> Result<Vec<u8>> {
        let extra = crate::minutes::trusted(&extra_trusted_keys)?;
        Ok(self.inner.minutes_pdf(
            self::inspection_id(&inspection_id)?,
            &verify_base_url,
            Some(&extra),
        )?)
    }

    /// A stored image or thumbnail by its SHA-256 (hex).
    pub fn blob(&self, sha256: String) -> Result<Vec<u8>> {
        Ok(self.inner.blob(&sha256)?)
    }

    /// This installation's id, created when the store was.
    pub fn device_id(&self) -> String {
        self.inner.device_id().to_string()
    }

    /// Installs the built-in general OSH checklist and returns its summary.
    pub fn install_builtin_templates(&self) -> Result<Vec<TemplateSummary>> {
        let mut out = Vec::new();
        for t in core::template::builtin_templates() {
            self.inner.install_template(&t)?;
            out.push(TemplateSummary::from(&t));
        }
        Ok(out)
    }

    /// Validates and installs a template file (`kiemtra-template/1`, JSON).
    pub fn import_template(&self, json: String) -> Result<TemplateSummary> {
        Ok(TemplateSummary::from(&self.inner.import_template_json(&json)?))
    }

    pub fn templates(&self) -> Result<Vec<TemplateSummary>> {
        Ok(self
            .inner
            .templates()?
            .iter()
            .map(TemplateSummary::from)
            .collect())
    }

    pub fn add_inspector(&self, name: String, title: String, agency: String) -> Result<Inspector> {
        Ok(self.inner.add_inspector(&name, &title, &agency)?.into())
    }

    /// Sets who uses this device: the author of the operations it records.
    pub fn set_identity(&self, inspector_id: String) -> Result<()> {
        let id: InspectorId = parse("inspector id", &inspector_id)?;
        Ok(self.inner.set_identity(id)?)
    }

    pub fn add_delegation(
        &self,
        name: String,
        decision: String,
        leader_id: String,
        members: Vec<DelegationMember>,
    ) -> Result<Delegation> {
        let leader: InspectorId = parse("inspector id", &leader_id)?;
        let members = members
            .into_iter()
            .map(|m| {
                Ok(core::people::DelegationMember {
                    inspector: parse("inspector id", &m.inspector_id)?,
                    role: m.role.into(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(self
            .inner
            .add_delegation(&name, &decision, leader, members)?
            .into())
    }

    pub fn add_facility(&self, facility: NewFacility) -> Result<Facility> {
        let new = core::facility::NewFacility {
            kind: facility.kind.into(),
            name: facility.name,
            tax_code: facility.tax_code,
            street: facility.street,
            unit: facility.unit,
            sector: facility.sector,
            workforce: facility.workforce,
            high_risk: facility.high_risk,
        };
        Ok(self.inner.add_facility(new)?.into())
    }

    /// The administrative units valid on `date` (YYYY-MM-DD), for choosing an
    /// establishment's unit: the built-in districts until 2025-06-30, then the
    /// units the inspectorate published (received on sync).
    pub fn admin_units(&self, date: String) -> Result<Vec<AdminUnit>> {
        let date: chrono::NaiveDate = parse("date (YYYY-MM-DD)", &date)?;
        Ok(self
            .inner
            .admin_units()
            .valid_on(date)
            .cloned()
            .map(Into::into)
            .collect())
    }

    pub fn facilities(&self) -> Result<Vec<Facility>> {
        Ok(self.inner.facilities()?.into_iter().map(Into::into).collect())
    }

    pub fn create_inspection(&self, new: NewInspection) -> Result<Inspection> {
        let location = match (new.latitude, new.longitude) {
            (Some(lat), Some(lon)) => Some(core::geo::GeoPoint::from_degrees(lat, lon)?),
            (None, None) => None,
            _ => {
                return Err(KiemtraError::InvalidInput {
                    reason: "a location needs both latitude and longitude".into(),
                })
            }
        };
        let facility: FacilityId = parse("facility id", &new.facility_id)?;
        let delegation: DelegationId = parse("delegation id", &new.delegation_id)?;
        let inspection = self.inner.create_inspection(core::store::NewInspection {
            kind: new.kind.into(),
            facility,
            template: core::template::TemplateRef {
                id: new.template_id,
                version: new.template_version,
            },
            delegation,
            planned_date: parse("planned date (YYYY-MM-DD)", &new.planned_date)?,
            location,
        })?;
        Ok(inspection.into())
    }

    pub fn inspection(&self, inspection_id: String) -> Result<Inspection> {
        Ok(self
            .inner
            .inspection(self::inspection_id(&inspection_id)?)?
            .into())
    }

    pub fn inspections_by_status(&self, status: Status) -> Result<Vec<Inspection>> {
        Ok(self
            .inner
            .inspections_by_status(status.into())?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub fn inspections_of_facility(&self, facility_id: String) -> Result<Vec<Inspection>> {
        let id: FacilityId = parse("facility id", &facility_id)?;
        Ok(self
            .inner
            .inspections_of_facility(id)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Draft → InProgress.
    pub fn start_inspection(&self, inspection_id: String) -> Result<Inspection> {
        Ok(self
            .inner
            .start_inspection(self::inspection_id(&inspection_id)?)?
            .into())
    }

    /// InProgress → FindingsClosed; refused while asked items are unanswered or in conflict.
    pub fn close_findings(&self, inspection_id: String) -> Result<Inspection> {
        Ok(self
            .inner
            .close_findings(self::inspection_id(&inspection_id)?)?
            .into())
    }

    /// Any single step of the lifecycle; an out-of-order step is refused.
    pub fn transition(&self, inspection_id: String, to: Status) -> Result<Inspection> {
        Ok(self
            .inner
            .transition(self::inspection_id(&inspection_id)?, to.into())?
            .into())
    }

    /// The checklist in template order, with what is asked and what is answered.
    pub fn checklist(&self, inspection_id: String) -> Result<Vec<ChecklistLine>> {
        let snap = self.inner.snapshot(self::inspection_id(&inspection_id)?)?;
        Ok(snap.checklist().into_iter().map(Into::into).collect())
    }

    pub fn set_answer(
        &self,
        inspection_id: String,
        item_code: String,
        value: AnswerValue,
        note: Option<String>,
    ) -> Result<()> {
        Ok(self.inner.set_answer(
            self::inspection_id(&inspection_id)?,
            &item_code,
            value.into(),
            note.as_deref(),
        )?)
    }

    /// Violations proposed by non-compliant answers, with edits and dismissals.
    pub fn violations(&self, inspection_id: String) -> Result<Vec<Violation>> {
        Ok(self
            .inner
            .violations(self::inspection_id(&inspection_id)?)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub fn edit_violation(
        &self,
        inspection_id: String,
        item_code: String,
        edit: ViolationEdit,
    ) -> Result<Violation> {
        let edit = core::violation::ViolationEdit {
            requirement: edit.requirement,
            deadline: edit
                .deadline
                .map(|d| parse("deadline (YYYY-MM-DD)", &d))
                .transpose()?,
            severity: edit.severity.map(Into::into),
            dismissed: None,
        };
        Ok(self
            .inner
            .edit_violation(self::inspection_id(&inspection_id)?, &item_code, edit)?
            .into())
    }

    /// Dismisses a proposed violation; it stays on record as dismissed, with the reason.
    pub fn dismiss_violation(
        &self,
        inspection_id: String,
        item_code: String,
        reason: String,
    ) -> Result<Violation> {
        Ok(self
            .inner
            .dismiss_violation(self::inspection_id(&inspection_id)?, &item_code, &reason)?
            .into())
    }

    /// Operations recorded on this device and not yet accepted by the server.
    pub fn pending_operations(&self) -> Result<Vec<PendingOperation>> {
        Ok(self
            .inner
            .pending_operations()?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}
