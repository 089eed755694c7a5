//! The typed view of the server's storage: what each table holds and how it
//! is encoded (CBOR), for reading ([`Read`], on the committed state
//! [`ServerDb`] or on the writer's [`View`] that includes its uncommitted
//! changes) and for writing (typed puts into a [`Changeset`]).
//!
//! Nothing here writes to the storage: only a commit does
//! ([`crate::writer::Writer::commit`]).

use std::path::Path;
use std::sync::Arc;

use kiemtra_core::accident::Accident;
use kiemtra_core::codec::{from_cbor, to_cbor};
use kiemtra_core::facility::Facility;
use kiemtra_core::ids::{
    AccidentId, DelegationId, DeviceId, FacilityId, InspectionId, InspectorId, SanctionId,
};
use kiemtra_core::people::{Delegation, Inspector};
use kiemtra_core::record::InspectionRecord;
use kiemtra_core::sync::wire::Certificate;
use kiemtra_core::template::{ChecklistTemplate, TemplateRef};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::accounts::{Account, SecondFactorPolicy};
use crate::audit::AuditEntry;
use crate::error::ServerError;
use crate::sanctions::SanctionDecision;
use crate::storage::{Changeset, Rows, SledStorage, Storage, StorageError, Table};

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
    /// The account the token acts for: it opens what the account's role
    /// opens, while the account is enabled. `None` for a console-made
    /// token, which opens every area.
    #[serde(default)]
    pub account: Option<String>,
}

/// An enterprise's portal session: the grant its code opened, until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalSession {
    pub grant: PortalGrant,
    /// Unix seconds, server clock: sessions outlive a restart, so not a monotonic instant.
    pub expires_at: i64,
}

/// An official's overview session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSession {
    pub name: String,
    /// Unix seconds, server clock.
    pub expires_at: i64,
    /// The account signed in, with its role at sign-in. `None`: opened with
    /// an admin token (`admin create-admin-token`), which has every area.
    #[serde(default)]
    pub account: Option<SessionAccount>,
}

/// Who an account session is, checked again on every request (a disabled
/// account or a changed role takes effect at once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAccount {
    pub login: String,
}

fn template_key(r: &TemplateRef) -> String {
    format!("{}\0{:010}", r.id, r.version)
}

const FORMAT_KEY: &[u8] = b"format_version";
/// The agency's second-factor rule, in `meta` (CBOR; absent: nobody must).
const META_SECOND_FACTOR_POLICY: &str = "second_factor_policy";

fn decode<T: DeserializeOwned>(what: &'static str, v: &[u8]) -> Result<T, ServerError> {
    Ok(from_cbor(what, v)?)
}

/// Typed reads, for the committed state and for the writer's view alike.
pub trait Read {
    fn raw(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
    fn raw_all(&self, table: Table) -> Result<Rows, StorageError>;

    fn get<T: DeserializeOwned>(
        &self,
        table: Table,
        what: &'static str,
        key: &[u8],
    ) -> Result<Option<T>, ServerError> {
        match self.raw(table, key)? {
            None => Ok(None),
            Some(v) => Ok(Some(decode(what, &v)?)),
        }
    }

    fn all<T: DeserializeOwned>(&self, table: Table, what: &'static str) -> Result<Vec<T>, ServerError> {
        self.raw_all(table)?
            .iter()
            .map(|(_, v)| decode(what, v))
            .collect()
    }

    fn template(&self, r: &TemplateRef) -> Result<Option<ChecklistTemplate>, ServerError> {
        self.get(Table::Templates, "template", template_key(r).as_bytes())
    }

    /// The stored bytes of a template, to tell a re-publication from a change.
    fn template_bytes(&self, r: &TemplateRef) -> Result<Option<Vec<u8>>, ServerError> {
        Ok(self.raw(Table::Templates, template_key(r).as_bytes())?)
    }

    fn templates(&self) -> Result<Vec<ChecklistTemplate>, ServerError> {
        self.all(Table::Templates, "template")
    }

    fn facility(&self, id: FacilityId) -> Result<Option<Facility>, ServerError> {
        self.get(Table::Facilities, "facility", id.as_bytes())
    }

    fn facilities(&self) -> Result<Vec<Facility>, ServerError> {
        self.all(Table::Facilities, "facility")
    }

    fn inspector(&self, id: InspectorId) -> Result<Option<Inspector>, ServerError> {
        self.get(Table::Inspectors, "inspector", id.as_bytes())
    }

    fn inspectors(&self) -> Result<Vec<Inspector>, ServerError> {
        self.all(Table::Inspectors, "inspector")
    }

    fn delegation(&self, id: DelegationId) -> Result<Option<Delegation>, ServerError> {
        self.get(Table::Delegations, "delegation", id.as_bytes())
    }

    fn delegations(&self) -> Result<Vec<Delegation>, ServerError> {
        self.all(Table::Delegations, "delegation")
    }

    /// The delegations `inspector` is a member of.
    fn delegations_of(&self, inspector: InspectorId) -> Result<Vec<DelegationId>, ServerError> {
        Ok(self
            .delegations()?
            .into_iter()
            .filter(|d| d.role_of(inspector).is_some())
            .map(|d| d.id)
            .collect())
    }

    fn device(&self, id: DeviceId) -> Result<Option<DeviceRecord>, ServerError> {
        self.get(Table::Devices, "device", id.as_bytes())
    }

    fn devices(&self) -> Result<Vec<DeviceRecord>, ServerError> {
        self.all(Table::Devices, "device")
    }

    fn enrol_code(&self, code_hash: &[u8; 32]) -> Result<Option<EnrolCode>, ServerError> {
        self.get(Table::EnrolCodes, "enrolment code", code_hash)
    }

    fn record(&self, id: InspectionId) -> Result<Option<InspectionRecord>, ServerError> {
        self.get(Table::Records, "inspection record", id.as_bytes())
    }

    fn records(&self) -> Result<Vec<InspectionRecord>, ServerError> {
        self.all(Table::Records, "inspection record")
    }

    fn accident(&self, id: AccidentId) -> Result<Option<Accident>, ServerError> {
        self.get(Table::Accidents, "accident", id.as_bytes())
    }

    fn accidents(&self) -> Result<Vec<Accident>, ServerError> {
        self.all(Table::Accidents, "accident")
    }

    fn sanction(&self, id: SanctionId) -> Result<Option<SanctionDecision>, ServerError> {
        self.get(Table::Sanctions, "sanction decision", id.as_bytes())
    }

    fn sanctions(&self) -> Result<Vec<SanctionDecision>, ServerError> {
        self.all(Table::Sanctions, "sanction decision")
    }

    /// The grant of an access code, by the code's SHA-256.
    fn portal_grant(&self, code_hash: &[u8; 32]) -> Result<Option<PortalGrant>, ServerError> {
        self.get(Table::PortalGrants, "portal grant", code_hash)
    }

    fn admin_token(&self, token_hash: &[u8; 32]) -> Result<Option<AdminToken>, ServerError> {
        self.get(Table::AdminTokens, "admin token", token_hash)
    }

    /// A staff account by its login (in its stored form, `accounts::login`).
    fn account(&self, login: &str) -> Result<Option<Account>, ServerError> {
        self.get(Table::Accounts, "account", login.as_bytes())
    }

    fn accounts(&self) -> Result<Vec<Account>, ServerError> {
        self.all(Table::Accounts, "account")
    }

    /// Which roles must use a second factor (none until an administrator says).
    fn second_factor_policy(&self) -> Result<SecondFactorPolicy, ServerError> {
        Ok(self
            .get(
                Table::Meta,
                "second-factor policy",
                META_SECOND_FACTOR_POLICY.as_bytes(),
            )?
            .unwrap_or_default())
    }

    /// The whole audit log, oldest first.
    fn audit_log(&self) -> Result<Vec<AuditEntry>, ServerError> {
        self.all(Table::Audit, "audit entry")
    }

    fn portal_session(&self, key: &[u8; 32]) -> Result<Option<PortalSession>, ServerError> {
        self.get(Table::PortalSessions, "portal session", key)
    }

    fn admin_session(&self, key: &[u8; 32]) -> Result<Option<AdminSession>, ServerError> {
        self.get(Table::AdminSessions, "admin session", key)
    }

    fn meta_u64(&self, name: &str) -> Result<Option<u64>, ServerError> {
        match self.raw(Table::Meta, name.as_bytes())? {
            None => Ok(None),
            Some(v) => <[u8; 8]>::try_from(v.as_slice())
                .map(|b| Some(u64::from_be_bytes(b)))
                .map_err(|_| ServerError::Storage(format!("meta {name} is unreadable"))),
        }
    }

    fn meta_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, ServerError> {
        Ok(self.raw(Table::Meta, name.as_bytes())?)
    }

    /// A marker in `meta`, for idempotent one-time set-up such as demo data.
    fn flag(&self, name: &str) -> Result<bool, ServerError> {
        Ok(self.raw(Table::Meta, name.as_bytes())?.is_some())
    }
}

/// The committed state: what every handler but the writer reads.
#[derive(Clone)]
pub struct ServerDb {
    store: Arc<dyn Storage>,
}

impl ServerDb {
    /// Opens the embedded default, sled in the folder `dir`.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, ServerError> {
        Self::on(Arc::new(SledStorage::open(dir, cache_bytes)?))
    }

    /// The typed view of `store`, checking (and on a new store writing) its format version.
    pub fn on(store: Arc<dyn Storage>) -> Result<Self, ServerError> {
        match store.get(Table::Meta, FORMAT_KEY)? {
            None => {
                let mut c = Changeset::new();
                c.put(
                    Table::Meta,
                    FORMAT_KEY.to_vec(),
                    FORMAT_VERSION.to_be_bytes().to_vec(),
                );
                store.commit(c)?;
            }
            Some(v) => {
                let found = <[u8; 4]>::try_from(v.as_slice())
                    .map(u32::from_be_bytes)
                    .map_err(|_| ServerError::Storage("format version is unreadable".into()))?;
                if found > FORMAT_VERSION {
                    return Err(ServerError::Storage(format!(
                        "the data folder was written by a newer server (format {found}, this build reads {FORMAT_VERSION})"
                    )));
                }
            }
        }
        Ok(Self { store })
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.store
    }
}

impl Read for ServerDb {
    fn raw(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.store.get(table, key)
    }

    fn raw_all(&self, table: Table) -> Result<Rows, StorageError> {
        self.store.scan(table)
    }
}

/// The committed state with a changeset's writes on top: what the writer reads.
pub struct View<'a> {
    pub store: &'a dyn Storage,
    pub changes: &'a Changeset,
}

impl Read for View<'_> {
    fn raw(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        match self.changes.get(table, key) {
            Some(v) => Ok(v.map(<[u8]>::to_vec)),
            None => self.store.get(table, key),
        }
    }

    fn raw_all(&self, table: Table) -> Result<Rows, StorageError> {
        let mut all: std::collections::BTreeMap<Vec<u8>, Vec<u8>> =
            self.store.scan(table)?.into_iter().collect();
        for (k, v) in self.changes.writes_to(table) {
            match v {
                Some(v) => all.insert(k.to_vec(), v.to_vec()),
                None => all.remove(k),
            };
        }
        Ok(all.into_iter().collect())
    }
}

fn encoded<T: Serialize>(what: &'static str, value: &T) -> Result<Vec<u8>, ServerError> {
    Ok(to_cbor(what, value)?)
}

/// Typed writes: what each table holds, encoded as [`Read`] decodes it.
/// A trait, because [`Changeset`] belongs to the storage crate: bring it
/// into scope (`use crate::db::TypedWrites`) where these are written.
pub trait TypedWrites {
    /// The untyped write every typed one comes down to.
    fn put_raw(&mut self, table: Table, key: impl Into<Vec<u8>>, value: Vec<u8>);

    fn put_template(&mut self, t: &ChecklistTemplate) -> Result<(), ServerError> {
        let v = encoded("template", t)?;
        self.put_raw(Table::Templates, template_key(&t.key()).into_bytes(), v);
        Ok(())
    }

    fn put_facility(&mut self, f: &Facility) -> Result<(), ServerError> {
        let v = encoded("facility", f)?;
        self.put_raw(Table::Facilities, f.id.as_bytes().to_vec(), v);
        Ok(())
    }

    fn put_inspector(&mut self, i: &Inspector) -> Result<(), ServerError> {
        let v = encoded("inspector", i)?;
        self.put_raw(Table::Inspectors, i.id.as_bytes().to_vec(), v);
        Ok(())
    }

    fn put_delegation(&mut self, d: &Delegation) -> Result<(), ServerError> {
        let v = encoded("delegation", d)?;
        self.put_raw(Table::Delegations, d.id.as_bytes().to_vec(), v);
        Ok(())
    }

    fn put_device(&mut self, d: &DeviceRecord) -> Result<(), ServerError> {
        let v = encoded("device", d)?;
        self.put_raw(Table::Devices, d.device.as_bytes().to_vec(), v);
        Ok(())
    }

    fn put_enrol_code(&mut self, code_hash: &[u8; 32], c: &EnrolCode) -> Result<(), ServerError> {
        let v = encoded("enrolment code", c)?;
        self.put_raw(Table::EnrolCodes, code_hash.to_vec(), v);
        Ok(())
    }

    fn put_record(&mut self, r: &InspectionRecord) -> Result<(), ServerError> {
        let v = encoded("inspection record", r)?;
        self.put_raw(Table::Records, r.inspection.id.as_bytes().to_vec(), v);
        Ok(())
    }

    fn put_accident(&mut self, a: &Accident) -> Result<(), ServerError> {
        let v = encoded("accident", a)?;
        self.put_raw(Table::Accidents, a.id.as_bytes().to_vec(), v);
        Ok(())
    }

    fn put_sanction(&mut self, d: &SanctionDecision) -> Result<(), ServerError> {
        let v = encoded("sanction decision", d)?;
        self.put_raw(Table::Sanctions, d.id.as_bytes().to_vec(), v);
        Ok(())
    }

    fn put_portal_grant(&mut self, code_hash: &[u8; 32], g: &PortalGrant) -> Result<(), ServerError> {
        let v = encoded("portal grant", g)?;
        self.put_raw(Table::PortalGrants, code_hash.to_vec(), v);
        Ok(())
    }

    fn put_admin_token(&mut self, token_hash: &[u8; 32], t: &AdminToken) -> Result<(), ServerError> {
        let v = encoded("admin token", t)?;
        self.put_raw(Table::AdminTokens, token_hash.to_vec(), v);
        Ok(())
    }

    fn put_audit_entry(&mut self, e: &AuditEntry) -> Result<(), ServerError> {
        let v = encoded("audit entry", e)?;
        self.put_raw(Table::Audit, e.seq.to_be_bytes().to_vec(), v);
        Ok(())
    }

    fn put_account(&mut self, a: &Account) -> Result<(), ServerError> {
        let v = encoded("account", a)?;
        self.put_raw(Table::Accounts, a.login.as_bytes().to_vec(), v);
        Ok(())
    }

    fn put_portal_session(&mut self, key: &[u8; 32], s: &PortalSession) -> Result<(), ServerError> {
        let v = encoded("portal session", s)?;
        self.put_raw(Table::PortalSessions, key.to_vec(), v);
        Ok(())
    }

    fn put_admin_session(&mut self, key: &[u8; 32], s: &AdminSession) -> Result<(), ServerError> {
        let v = encoded("admin session", s)?;
        self.put_raw(Table::AdminSessions, key.to_vec(), v);
        Ok(())
    }

    fn put_second_factor_policy(&mut self, p: &SecondFactorPolicy) -> Result<(), ServerError> {
        let v = encoded("second-factor policy", p)?;
        self.put_raw(Table::Meta, META_SECOND_FACTOR_POLICY.as_bytes().to_vec(), v);
        Ok(())
    }

    fn set_meta_u64(&mut self, name: &str, v: u64) {
        self.put_raw(Table::Meta, name.as_bytes().to_vec(), v.to_be_bytes().to_vec());
    }

    fn set_meta_bytes(&mut self, name: &str, v: &[u8]) {
        self.put_raw(Table::Meta, name.as_bytes().to_vec(), v.to_vec());
    }

    fn set_flag(&mut self, name: &str) {
        self.put_raw(Table::Meta, name.as_bytes().to_vec(), vec![1u8]);
    }
}

impl TypedWrites for Changeset {
    fn put_raw(&mut self, table: Table, key: impl Into<Vec<u8>>, value: Vec<u8>) {
        self.put(table, key, value);
    }
}
