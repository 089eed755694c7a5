//! The server's sled database: reference data the inspectorate publishes,
//! enrolled devices, one-time enrolment codes, and the server's materialised
//! inspection records.
//!
//! This module only reads and writes trees; durability comes from the
//! operation log's `sync` (the log lives in the same sled database), which
//! the single writer ([`crate::writer::Writer`]) calls before anything is
//! acknowledged.

use std::path::Path;

use kiemtra_core::accident::Accident;
use kiemtra_core::codec::{from_cbor, to_cbor};
use kiemtra_core::facility::Facility;
use kiemtra_core::ids::{AccidentId, DelegationId, DeviceId, FacilityId, InspectionId, InspectorId};
use kiemtra_core::people::{Delegation, Inspector};
use kiemtra_core::record::InspectionRecord;
use kiemtra_core::sync::wire::Certificate;
use kiemtra_core::template::{ChecklistTemplate, TemplateRef};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::error::ServerError;

/// Format of the server's data folder; migrations go in `open`.
pub const FORMAT_VERSION: u32 = 1;

/// An enrolled device: its key, whose it is, and whether it was revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub device: DeviceId,
    pub inspector: InspectorId,
    #[serde(with = "serde_bytes")]
    pub public_key: Vec<u8>,
    pub name: String,
    pub certificate: Certificate,
    pub revoked: bool,
}

/// A one-time enrolment code, stored under the SHA-256 of the code so that a
/// copy of the database does not hand out usable codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolCode {
    pub inspector: InspectorId,
    /// Unix seconds, server clock (the device's clock is never consulted).
    pub expires_at: i64,
    pub used: bool,
}

pub struct ServerDb {
    db: sled::Db,
    meta: sled::Tree,
    templates: sled::Tree,
    facilities: sled::Tree,
    inspectors: sled::Tree,
    delegations: sled::Tree,
    devices: sled::Tree,
    codes: sled::Tree,
    records: sled::Tree,
    accidents: sled::Tree,
    portal_codes: sled::Tree,
    admin_tokens: sled::Tree,
}

/// What a portal access code opens: one inspection of one establishment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalGrant {
    pub inspection: InspectionId,
    pub facility: FacilityId,
}

/// An official allowed on the overview pages (`admin create-admin-token`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminToken {
    pub name: String,
    pub created_at: i64,
}

fn template_key(r: &TemplateRef) -> String {
    format!("{}\0{:010}", r.id, r.version)
}

impl ServerDb {
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, ServerError> {
        std::fs::create_dir_all(dir)?;
        let db = kiemtra_core::sled_open::open(&sled::Config::new().path(dir).cache_capacity(cache_bytes))?;
        let meta = db.open_tree("meta")?;
        match meta.get("format_version")? {
            None => {
                meta.insert("format_version", &FORMAT_VERSION.to_be_bytes())?;
            }
            Some(v) => {
                let found = <[u8; 4]>::try_from(v.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| ServerError::Storage("format version is unreadable".into()))?;
                if found > FORMAT_VERSION {
                    return Err(ServerError::Storage(format!(
                        "the data folder was written by a newer server (format {found}, this build reads {FORMAT_VERSION})"
                    )));
                }
            }
        }
        Ok(Self {
            templates: db.open_tree("templates")?,
            facilities: db.open_tree("facilities")?,
            inspectors: db.open_tree("inspectors")?,
            delegations: db.open_tree("delegations")?,
            devices: db.open_tree("devices")?,
            codes: db.open_tree("enrol_codes")?,
            records: db.open_tree("records")?,
            accidents: db.open_tree("accidents")?,
            portal_codes: db.open_tree("portal_codes")?,
            admin_tokens: db.open_tree("admin_tokens")?,
            meta,
            db,
        })
    }

    /// The sled database, for the operation log that shares it.
    pub fn sled(&self) -> &sled::Db {
        &self.db
    }

    fn get<T: DeserializeOwned>(
        tree: &sled::Tree,
        what: &'static str,
        key: &[u8],
    ) -> Result<Option<T>, ServerError> {
        match tree.get(key)? {
            None => Ok(None),
            Some(v) => Ok(Some(from_cbor(what, &v)?)),
        }
    }

    fn put<T: Serialize>(
        tree: &sled::Tree,
        what: &'static str,
        key: &[u8],
        value: &T,
    ) -> Result<(), ServerError> {
        tree.insert(key, to_cbor(what, value)?)?;
        Ok(())
    }

    fn all<T: DeserializeOwned>(tree: &sled::Tree, what: &'static str) -> Result<Vec<T>, ServerError> {
        tree.iter().values().map(|v| Ok(from_cbor(what, &v?)?)).collect()
    }

    pub fn template(&self, r: &TemplateRef) -> Result<Option<ChecklistTemplate>, ServerError> {
        Self::get(&self.templates, "template", template_key(r).as_bytes())
    }

    /// The stored bytes of a template, to tell a re-publication from a change.
    pub fn template_bytes(&self, r: &TemplateRef) -> Result<Option<Vec<u8>>, ServerError> {
        Ok(self.templates.get(template_key(r))?.map(|v| v.to_vec()))
    }

    pub fn put_template(&self, t: &ChecklistTemplate) -> Result<(), ServerError> {
        Self::put(&self.templates, "template", template_key(&t.key()).as_bytes(), t)
    }

    pub fn templates(&self) -> Result<Vec<ChecklistTemplate>, ServerError> {
        Self::all(&self.templates, "template")
    }

    pub fn facility(&self, id: FacilityId) -> Result<Option<Facility>, ServerError> {
        Self::get(&self.facilities, "facility", id.as_bytes())
    }

    pub fn put_facility(&self, f: &Facility) -> Result<(), ServerError> {
        Self::put(&self.facilities, "facility", f.id.as_bytes(), f)
    }

    pub fn facilities(&self) -> Result<Vec<Facility>, ServerError> {
        Self::all(&self.facilities, "facility")
    }

    pub fn inspector(&self, id: InspectorId) -> Result<Option<Inspector>, ServerError> {
        Self::get(&self.inspectors, "inspector", id.as_bytes())
    }

    pub fn put_inspector(&self, i: &Inspector) -> Result<(), ServerError> {
        Self::put(&self.inspectors, "inspector", i.id.as_bytes(), i)
    }

    pub fn inspectors(&self) -> Result<Vec<Inspector>, ServerError> {
        Self::all(&self.inspectors, "inspector")
    }

    pub fn delegation(&self, id: DelegationId) -> Result<Option<Delegation>, ServerError> {
        Self::get(&self.delegations, "delegation", id.as_bytes())
    }

    pub fn put_delegation(&self, d: &Delegation) -> Result<(), ServerError> {
        Self::put(&self.delegations, "delegation", d.id.as_bytes(), d)
    }

    pub fn delegations(&self) -> Result<Vec<Delegation>, ServerError> {
        Self::all(&self.delegations, "delegation")
    }

    /// The delegations `inspector` is a member of.
    pub fn delegations_of(&self, inspector: InspectorId) -> Result<Vec<DelegationId>, ServerError> {
        Ok(self
            .delegations()?
            .into_iter()
            .filter(|d| d.role_of(inspector).is_some())
            .map(|d| d.id)
            .collect())
    }

    pub fn device(&self, id: DeviceId) -> Result<Option<DeviceRecord>, ServerError> {
        Self::get(&self.devices, "device", id.as_bytes())
    }

    pub fn put_device(&self, d: &DeviceRecord) -> Result<(), ServerError> {
        Self::put(&self.devices, "device", d.device.as_bytes(), d)
    }

    pub fn devices(&self) -> Result<Vec<DeviceRecord>, ServerError> {
        Self::all(&self.devices, "device")
    }

    pub fn enrol_code(&self, code_hash: &[u8; 32]) -> Result<Option<EnrolCode>, ServerError> {
        Self::get(&self.codes, "enrolment code", code_hash)
    }

    pub fn put_enrol_code(&self, code_hash: &[u8; 32], c: &EnrolCode) -> Result<(), ServerError> {
        Self::put(&self.codes, "enrolment code", code_hash, c)
    }

    pub fn record(&self, id: InspectionId) -> Result<Option<InspectionRecord>, ServerError> {
        Self::get(&self.records, "inspection record", id.as_bytes())
    }

    pub fn put_record(&self, r: &InspectionRecord) -> Result<(), ServerError> {
        Self::put(&self.records, "inspection record", r.inspection.id.as_bytes(), r)
    }

    pub fn records(&self) -> Result<Vec<InspectionRecord>, ServerError> {
        Self::all(&self.records, "inspection record")
    }

    pub fn accident(&self, id: AccidentId) -> Result<Option<Accident>, ServerError> {
        Self::get(&self.accidents, "accident", id.as_bytes())
    }

    pub fn put_accident(&self, a: &Accident) -> Result<(), ServerError> {
        Self::put(&self.accidents, "accident", a.id.as_bytes(), a)
    }

    pub fn accidents(&self) -> Result<Vec<Accident>, ServerError> {
        Self::all(&self.accidents, "accident")
    }

    /// The grant of an access code, by the code's SHA-256.
    pub fn portal_grant(&self, code_hash: &[u8; 32]) -> Result<Option<PortalGrant>, ServerError> {
        Self::get(&self.portal_codes, "portal grant", code_hash)
    }

    pub fn put_portal_grant(&self, code_hash: &[u8; 32], g: &PortalGrant) -> Result<(), ServerError> {
        Self::put(&self.portal_codes, "portal grant", code_hash, g)
    }

    pub fn admin_token(&self, token_hash: &[u8; 32]) -> Result<Option<AdminToken>, ServerError> {
        Self::get(&self.admin_tokens, "admin token", token_hash)
    }

    pub fn put_admin_token(&self, token_hash: &[u8; 32], t: &AdminToken) -> Result<(), ServerError> {
        Self::put(&self.admin_tokens, "admin token", token_hash, t)
    }

    pub fn meta_u64(&self, name: &str) -> Result<Option<u64>, ServerError> {
        match self.meta.get(name)? {
            None => Ok(None),
            Some(v) => <[u8; 8]>::try_from(v.as_ref())
                .map(|b| Some(u64::from_be_bytes(b)))
                .map_err(|_| ServerError::Storage(format!("meta {name} is unreadable"))),
        }
    }

    pub fn set_meta_u64(&self, name: &str, v: u64) -> Result<(), ServerError> {
        self.meta.insert(name, &v.to_be_bytes())?;
        Ok(())
    }

    pub fn meta_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, ServerError> {
        Ok(self.meta.get(name)?.map(|v| v.to_vec()))
    }

    pub fn set_meta_bytes(&self, name: &str, v: &[u8]) -> Result<(), ServerError> {
        self.meta.insert(name, v)?;
        Ok(())
    }

    /// A marker in `meta`, for idempotent one-time set-up such as demo data.
    pub fn flag(&self, name: &str) -> Result<bool, ServerError> {
        Ok(self.meta.get(name)?.is_some())
    }

    pub fn set_flag(&self, name: &str) -> Result<(), ServerError> {
        self.meta.insert(name, &[1u8])?;
        Ok(())
    }
}
