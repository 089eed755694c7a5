//! The offline store: a sled database on the device.
//!
//! Every change is an [`Operation`]: the store appends it to the device's
//! operation log, marks it pending for sync, and applies it to the
//! materialised state — all in one sled transaction — and then makes the
//! transaction durable (see [`crate::durable`]) before the call returns `Ok`.
//!
//! Promise: when a write method returns `Ok`, the operation and its effect
//! are on stable storage (fsynced) and survive a crash of the process, the OS
//! or the power; when it returns `Err`, nothing changed. One writer at a time
//! (a mutex); readers read sled directly and see only committed state.

mod blobs;
mod keys;
mod minutes;
mod photos;
mod remediation;
mod replica;
mod snapshot;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{NaiveDate, Utc};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::{Transactional, Tree};

use crate::admin_units::AdminUnits;
use crate::answer::{AnswerEntry, AnswerValue};
use crate::codec::{from_cbor, to_cbor};
use crate::durable::Durability;
use crate::error::{Error, LifecycleError, Result, TemplateError, ValidationError};
use crate::facility::{Facility, NewFacility};
use crate::geo::GeoPoint;
use crate::ids::{DelegationId, DeviceId, FacilityId, InspectionId, InspectorId, OpId};
use crate::inspection::{Inspection, InspectionKind, Status};
use crate::ops::{Operation, Payload};
use crate::people::{Delegation, DelegationMember, Inspector};
use crate::record::{Context, InspectionRecord};
use crate::template::{ChecklistTemplate, TemplateRef};
use crate::text;
use crate::violation::{Violation, ViolationEdit};
pub use blobs::is_sha256_hex;
use keys::Key;
pub use replica::{Enrolment, Refusal};
pub use snapshot::InspectionSnapshot;

/// The store format this build writes. Older formats are migrated at open.
pub const FORMAT_VERSION: u32 = 1;

/// The trees of the database, in the order of `Trees::all`.
#[derive(Clone, Copy)]
enum T {
    Meta = 0,
    Ops,
    Pending,
    Facilities,
    Inspectors,
    Delegations,
    Templates,
    Inspections,
    ByStatus,
    ByFacility,
    /// Every operation on an inspection, local or remote: `inspection id ++ op id` → op.
    ByInspection,
    /// Remote operations already applied: op id → server sequence number.
    Applied,
    /// Local operations the server refused: seq → `Refusal`.
    Refused,
    /// Certified device keys: device id → certificate.
    Certificates,
    /// Revoked devices: device id → ().
    Revoked,
    /// Blobs waiting for upload: sha256 hex → ().
    UploadQueue,
    /// Portal access codes this device drew: code hash → the code. Local
    /// only: never in an operation, never pushed except beside the draw-up
    /// that carries its hash, so that the server can judge it.
    AccessCodes,
}

const TREE_NAMES: [&str; 17] = [
    "meta",
    "ops",
    "pending",
    "facilities",
    "inspectors",
    "delegations",
    "templates",
    "inspections",
    "inspections_by_status",
    "inspections_by_facility",
    "ops_by_inspection",
    "applied_remote_ops",
    "refused_ops",
    "certificates",
    "revoked_devices",
    "upload_queue",
    "access_codes",
];

/// One write of a commit: put or delete `key` in a tree.
struct Write {
    tree: T,
    key: Vec<u8>,
    value: Option<Vec<u8>>,
}

impl Write {
    fn put(tree: T, key: impl Into<Vec<u8>>, value: Vec<u8>) -> Self {
        Self {
            tree,
            key: key.into(),
            value: Some(value),
        }
    }
    fn delete(tree: T, key: impl Into<Vec<u8>>) -> Self {
        Self {
            tree,
            key: key.into(),
            value: None,
        }
    }
}

struct Writer {
    durability: Durability,
    next_seq: u64,
}

/// What a new inspection needs.
#[derive(Debug, Clone)]
pub struct NewInspection {
    pub kind: InspectionKind,
    pub facility: FacilityId,
    pub template: TemplateRef,
    pub delegation: DelegationId,
    pub planned_date: NaiveDate,
    pub location: Option<GeoPoint>,
}

pub struct Store {
    path: PathBuf,
    db: sled::Db,
    trees: Vec<Tree>,
    writer: Mutex<Writer>,
    device: DeviceId,
    /// Built-in units plus the agency's list last pulled; replaced whole when a
    /// newer list arrives, so readers keep a consistent set while they use it.
    units: std::sync::RwLock<std::sync::Arc<AdminUnits>>,
    blobs: blobs::BlobDir,
    photo_config: crate::photo::PhotoConfig,
}

impl Store {
    /// Opens (or creates) the store in the folder `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        std::fs::create_dir_all(&path)?;
        let db = crate::sled_open::open(
            &sled::Config::new()
                .path(&path)
                // The device's working set is small; sled's default 1 GB cache is for servers.
                .cache_capacity(16 * 1024 * 1024),
        )?;
        let trees = TREE_NAMES
            .iter()
            .map(|n| db.open_tree(n))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut durability = Durability::open(&path)?;
        let meta = &trees[T::Meta as usize];

        let device = match meta.get(keys::META_FORMAT)? {
            None => {
                // A new store: write its identity and format version durably.
                let device = DeviceId::new();
                meta.insert(keys::META_FORMAT, &FORMAT_VERSION.to_be_bytes())?;
                meta.insert(keys::META_DEVICE, device.as_bytes())?;
                durability.commit(&db)?;
                device
            }
            Some(v) => {
                let found = keys::u32_from(&v)
                    .ok_or_else(|| Error::Storage("format version is unreadable".into()))?;
                if found > FORMAT_VERSION {
                    return Err(Error::FormatTooNew {
                        found,
                        supported: FORMAT_VERSION,
                    });
                }
                // Format 1 is the first; migrations from older formats go here.
                let bytes = meta
                    .get(keys::META_DEVICE)?
                    .and_then(|b| <[u8; 16]>::try_from(b.as_ref()).ok())
                    .ok_or_else(|| Error::Storage("device id is missing".into()))?;
                DeviceId::from_bytes(bytes)
            }
        };
        let units = match meta.get(keys::META_AGENCY_UNITS)? {
            Some(bytes) => AdminUnits::with_agency(from_cbor("administrative units", &bytes)?)?,
            None => AdminUnits::builtin(),
        };
        let next_seq = trees[T::Ops as usize]
            .last()?
            .and_then(|(k, _)| keys::u64_from(&k))
            .map_or(1, |s| s + 1);
        Ok(Self {
            db,
            trees,
            writer: Mutex::new(Writer { durability, next_seq }),
            device,
            units: std::sync::RwLock::new(std::sync::Arc::new(units)),
            blobs: blobs::BlobDir::open(&path.join("photos"))?,
            photo_config: crate::photo::PhotoConfig::default(),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn device_id(&self) -> DeviceId {
        self.device
    }

    /// The administrative units this device knows: the built-in districts
    /// and the list the inspectorate last published.
    pub fn admin_units(&self) -> std::sync::Arc<AdminUnits> {
        match self.units.read() {
            Ok(units) => units.clone(),
            // A panic while swapping an Arc leaves a whole, valid value behind.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set_admin_units(&self, units: AdminUnits) {
        let units = std::sync::Arc::new(units);
        match self.units.write() {
            Ok(mut slot) => *slot = units,
            Err(poisoned) => *poisoned.into_inner() = units,
        }
    }

    fn lock_writer(&self) -> Result<std::sync::MutexGuard<'_, Writer>> {
        self.writer
            .lock()
            .map_err(|_| Error::Storage("a writer panicked".into()))
    }

    fn tree(&self, t: T) -> &Tree {
        &self.trees[t as usize]
    }

    fn get<V: serde::de::DeserializeOwned>(&self, t: T, what: &'static str, key: &[u8]) -> Result<Option<V>> {
        match self.tree(t).get(key)? {
            None => Ok(None),
            Some(bytes) => Ok(Some(from_cbor(what, &bytes)?)),
        }
    }

    fn values<V: serde::de::DeserializeOwned>(&self, t: T, what: &'static str) -> Result<Vec<V>> {
        self.tree(t)
            .iter()
            .values()
            .map(|v| Ok(from_cbor(what, &v?)?))
            .collect()
    }

    /// Writes all `writes` in one transaction and makes them durable.
    fn write_durably(&self, writer: &mut Writer, writes: &[Write]) -> Result<()> {
        let result: std::result::Result<(), TransactionError<()>> = self.trees.as_slice().transaction(|tx| {
            // The closure may run again on conflict: it only writes what was prepared.
            for w in writes {
                let tree = &tx[w.tree as usize];
                match &w.value {
                    Some(v) => tree.insert(w.key.as_slice(), v.as_slice())?,
                    None => tree.remove(w.key.as_slice())?,
                };
            }
            Ok::<(), ConflictableTransactionError<()>>(())
        });
        match result {
            Ok(()) => {}
            Err(TransactionError::Storage(e)) => return Err(e.into()),
            Err(TransactionError::Abort(())) => return Err(Error::Storage("transaction aborted".into())),
        }
        writer.durability.commit(&self.db)
    }

    /// The one path every change takes: builds the operation, lets `effect`
    /// compute the state writes, and commits both atomically and durably.
    fn commit(
        &self,
        payload: Payload,
        effect: impl FnOnce(&Operation) -> Result<Vec<Write>>,
    ) -> Result<Operation> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| Error::Storage("a writer panicked".into()))?;
        let op = Operation {
            id: OpId::new(),
            device: self.device,
            seq: writer.next_seq,
            author: self.identity()?,
            at: Utc::now(),
            payload,
        };
        let mut writes = effect(&op)?;
        let seq_key = op.seq.to_be_bytes();
        let bytes = to_cbor("operation", &op)?;
        if let Some(inspection) = op.payload.inspection() {
            writes.push(Write::put(
                T::ByInspection,
                Key::op_of(inspection, op.id),
                bytes.clone(),
            ));
        }
        writes.push(Write::put(T::Ops, seq_key, bytes));
        writes.push(Write::put(T::Pending, seq_key, Vec::new()));
        self.write_durably(&mut writer, &writes)?;
        writer.next_seq += 1;
        Ok(op)
    }

    // ---- identity ---------------------------------------------------------

    /// The inspector who uses this device: the author of its operations.
    pub fn identity(&self) -> Result<Option<InspectorId>> {
        Ok(self
            .tree(T::Meta)
            .get(keys::META_IDENTITY)?
            .and_then(|b| <[u8; 16]>::try_from(b.as_ref()).ok())
            .map(InspectorId::from_bytes))
    }

    pub fn set_identity(&self, inspector: InspectorId) -> Result<()> {
        if self.inspector(inspector)?.is_none() {
            return Err(Error::NotFound {
                kind: "inspector",
                id: inspector.to_string(),
            });
        }
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| Error::Storage("a writer panicked".into()))?;
        let writes = [Write::put(
            T::Meta,
            keys::META_IDENTITY,
            inspector.as_bytes().to_vec(),
        )];
        self.write_durably(&mut writer, &writes)
    }

    // ---- templates --------------------------------------------------------

    /// Installs a published template. Templates are immutable: the same id
    /// and version with other content is refused.
    pub fn install_template(&self, template: &ChecklistTemplate) -> Result<()> {
        let key = keys::template(&template.key());
        let bytes = to_cbor("template", template)?;
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| Error::Storage("a writer panicked".into()))?;
        match self.tree(T::Templates).get(&key)? {
            Some(existing) if existing.as_ref() == bytes.as_slice() => Ok(()),
            Some(_) => Err(TemplateError::AlreadyPublished {
                id: template.id.clone(),
                version: template.version,
            }
            .into()),
            None => self.write_durably(&mut writer, &[Write::put(T::Templates, key, bytes)]),
        }
    }

    /// Parses, validates and installs a template file (`kiemtra-template/1`).
    pub fn import_template_json(&self, json: &str) -> Result<ChecklistTemplate> {
        let template = crate::template::parse(json)?;
        self.install_template(&template)?;
        Ok(template)
    }

    pub fn template(&self, r: &TemplateRef) -> Result<ChecklistTemplate> {
        self.get(T::Templates, "template", &keys::template(r))?
            .ok_or_else(|| {
                TemplateError::Unknown {
                    id: r.id.clone(),
                    version: r.version,
                }
                .into()
            })
    }

    pub fn templates(&self) -> Result<Vec<ChecklistTemplate>> {
        self.values(T::Templates, "template")
    }

    // ---- reference data ---------------------------------------------------

    pub fn add_facility(&self, new: NewFacility) -> Result<Facility> {
        let facility = new.validate(FacilityId::new(), &self.admin_units())?;
        self.put_facility(facility)
    }

    /// Records a facility (new, or a correction of an existing one).
    pub fn put_facility(&self, facility: Facility) -> Result<Facility> {
        let bytes = to_cbor("facility", &facility)?;
        let key = facility.id.as_bytes().to_vec();
        self.commit(Payload::PutFacility(facility.clone()), |_| {
            Ok(vec![Write::put(T::Facilities, key, bytes)])
        })?;
        Ok(facility)
    }

    pub fn facility(&self, id: FacilityId) -> Result<Option<Facility>> {
        self.get(T::Facilities, "facility", id.as_bytes())
    }

    pub fn facilities(&self) -> Result<Vec<Facility>> {
        self.values(T::Facilities, "facility")
    }

    pub fn add_inspector(&self, name: &str, title: &str, agency: &str) -> Result<Inspector> {
        let inspector = Inspector::new(InspectorId::new(), name, title, agency)?;
        self.put_inspector(inspector)
    }

    pub fn put_inspector(&self, inspector: Inspector) -> Result<Inspector> {
        let bytes = to_cbor("inspector", &inspector)?;
        let key = inspector.id.as_bytes().to_vec();
        self.commit(Payload::PutInspector(inspector.clone()), |_| {
            Ok(vec![Write::put(T::Inspectors, key, bytes)])
        })?;
        Ok(inspector)
    }

    pub fn inspector(&self, id: InspectorId) -> Result<Option<Inspector>> {
        self.get(T::Inspectors, "inspector", id.as_bytes())
    }

    pub fn inspectors(&self) -> Result<Vec<Inspector>> {
        self.values(T::Inspectors, "inspector")
    }

    pub fn add_delegation(
        &self,
        name: &str,
        decision: &str,
        leader: InspectorId,
        members: Vec<DelegationMember>,
    ) -> Result<Delegation> {
        let delegation = Delegation::new(DelegationId::new(), name, decision, leader, members)?;
        for m in &delegation.members {
            if self.inspector(m.inspector)?.is_none() {
                return Err(Error::NotFound {
                    kind: "inspector",
                    id: m.inspector.to_string(),
                });
            }
        }
        let bytes = to_cbor("delegation", &delegation)?;
        let key = delegation.id.as_bytes().to_vec();
        self.commit(Payload::PutDelegation(delegation.clone()), |_| {
            Ok(vec![Write::put(T::Delegations, key, bytes)])
        })?;
        Ok(delegation)
    }

    pub fn delegation(&self, id: DelegationId) -> Result<Option<Delegation>> {
        self.get(T::Delegations, "delegation", id.as_bytes())
    }

    // ---- inspections ------------------------------------------------------

    pub fn create_inspection(&self, new: NewInspection) -> Result<Inspection> {
        let facility = self.facility(new.facility)?.ok_or_else(|| Error::NotFound {
            kind: "facility",
            id: new.facility.to_string(),
        })?;
        self.template(&new.template)?;
        self.delegation(new.delegation)?.ok_or_else(|| Error::NotFound {
            kind: "delegation",
            id: new.delegation.to_string(),
        })?;
        let created_by = self.identity()?;
        let inspection = Inspection {
            id: InspectionId::new(),
            kind: new.kind,
            facility: facility.id,
            template: new.template,
            delegation: new.delegation,
            planned_date: new.planned_date,
            location: new.location,
            status: Status::Draft,
            created_by,
            created_at: Utc::now(),
            started_at: None,
            accident: None,
        };
        let record = InspectionRecord::new(inspection.clone());
        self.commit(Payload::CreateInspection(inspection.clone()), |_| {
            record_writes(None, &record)
        })?;
        Ok(inspection)
    }

    /// Loads an inspection with its template and facility, to read its checklist and violations.
    pub fn snapshot(&self, id: InspectionId) -> Result<InspectionSnapshot> {
        let record: InspectionRecord = self
            .get(T::Inspections, "inspection", id.as_bytes())?
            .ok_or_else(|| Error::NotFound {
                kind: "inspection",
                id: id.to_string(),
            })?;
        let template = self.template(&record.inspection.template)?;
        let facility = self
            .facility(record.inspection.facility)?
            .ok_or_else(|| Error::NotFound {
                kind: "facility",
                id: record.inspection.facility.to_string(),
            })?;
        Ok(InspectionSnapshot {
            record,
            template,
            facility,
        })
    }

    pub fn inspection(&self, id: InspectionId) -> Result<Inspection> {
        Ok(self.snapshot(id)?.record.inspection)
    }

    /// Applies an operation on one inspection: check, apply, commit; on error
    /// nothing changed. The record is read under the writer lock, so two
    /// concurrent changes never overwrite each other.
    fn change_inspection(&self, id: InspectionId, payload: Payload) -> Result<InspectionSnapshot> {
        self.change_inspection_with(id, payload, Vec::new())
    }

    /// Like `change_inspection`, committing `extra` writes in the same transaction.
    fn change_inspection_with(
        &self,
        id: InspectionId,
        payload: Payload,
        extra: Vec<Write>,
    ) -> Result<InspectionSnapshot> {
        let mut after = None;
        self.commit(payload, |op| {
            let mut snap = self.snapshot(id)?;
            let before = snap.record.clone();
            let ctx = Context {
                template: &snap.template,
                facility_kind: snap.facility.kind,
                trusted_keys: None,
            };
            snap.record.apply(op, &ctx)?;
            let mut writes = record_writes(Some(&before), &snap.record)?;
            writes.extend(extra);
            after = Some(snap);
            Ok(writes)
        })?;
        after.ok_or_else(|| Error::Storage("the change produced no record".into()))
    }

    /// Moves the inspection one step along its lifecycle.
    pub fn transition(&self, id: InspectionId, to: Status) -> Result<Inspection> {
        let current = self.inspection(id)?.status;
        // The rule every replica applies to a received transition first
        // (after the seal only delivery), then this device's stricter one:
        // its own transitions go one step at a time.
        current.check_transition_op(to)?;
        current.check_transition(to)?;
        Ok(self
            .change_inspection(id, Payload::Transition { inspection: id, to })?
            .record
            .inspection)
    }

    /// Draft → InProgress: the inspection starts on site today.
    pub fn start_inspection(&self, id: InspectionId) -> Result<Inspection> {
        self.transition(id, Status::InProgress)
    }

    /// InProgress → FindingsClosed; refused while an asked item is unanswered or in conflict.
    pub fn close_findings(&self, id: InspectionId) -> Result<Inspection> {
        self.transition(id, Status::FindingsClosed)
    }

    /// Answers an item, replacing the answer this device sees (and resolving a conflict).
    pub fn set_answer(
        &self,
        id: InspectionId,
        item: &str,
        value: AnswerValue,
        note: Option<&str>,
    ) -> Result<()> {
        let snap = self.snapshot(id)?;
        let supersedes = snap
            .record
            .answers
            .get(item)
            .map(|r| r.heads())
            .unwrap_or_default();
        let note = text::NOTE.optional(note)?;
        // Normalise text answers here so the operation carries the stored form.
        let value = match snap.template.item(item) {
            Some((_, it)) => value.validate_for(it)?,
            None => value,
        };
        self.change_inspection(
            id,
            Payload::SetAnswer {
                inspection: id,
                item: item.to_string(),
                entry: AnswerEntry { value, note },
                supersedes,
            },
        )?;
        Ok(())
    }

    /// Changes a proposed violation's requirement, deadline or severity.
    pub fn edit_violation(&self, id: InspectionId, item: &str, mut edit: ViolationEdit) -> Result<Violation> {
        let snap = self.snapshot(id)?;
        let current = snap
            .violations()
            .into_iter()
            .find(|v| v.item == item)
            .ok_or_else(|| Error::NotFound {
                kind: "violation",
                id: item.to_string(),
            })?;
        edit.requirement = text::REQUIREMENT.optional(edit.requirement.as_deref())?;
        edit.dismissed = match edit.dismissed.as_deref() {
            None => None,
            Some(r) => Some(text::DISMISSAL_REASON.required(r)?),
        };
        if let Some(deadline) = edit.deadline {
            if deadline < snap.record.inspection.date() {
                return Err(ValidationError::OutOfRange {
                    field: "deadline",
                    reason: "before the inspection date".into(),
                }
                .into());
            }
        }
        let snap = self.change_inspection(
            id,
            Payload::EditViolation {
                inspection: id,
                item: item.to_string(),
                edit,
                supersedes: current.edit_heads,
            },
        )?;
        snap.violations()
            .into_iter()
            .find(|v| v.item == item)
            .ok_or_else(|| Error::NotFound {
                kind: "violation",
                id: item.to_string(),
            })
    }

    /// Dismisses a proposed violation with a reason. It stays listed, marked dismissed.
    pub fn dismiss_violation(&self, id: InspectionId, item: &str, reason: &str) -> Result<Violation> {
        let reason = text::DISMISSAL_REASON.required(reason)?;
        let current = self
            .snapshot(id)?
            .violations()
            .into_iter()
            .find(|v| v.item == item)
            .ok_or_else(|| Error::NotFound {
                kind: "violation",
                id: item.to_string(),
            })?;
        if current.dismissal.is_some() {
            return Err(LifecycleError::NotAllowed {
                status: Status::InProgress,
                action: "dismissing an already dismissed violation",
            }
            .into());
        }
        // Keep the inspector's other edits; a dismissal is one more edit.
        let edit = ViolationEdit {
            requirement: current.edited.then(|| current.requirement.clone()),
            deadline: current.edited.then_some(current.deadline),
            severity: current.edited.then_some(current.severity),
            dismissed: Some(reason),
        };
        self.edit_violation(id, item, edit)
    }

    pub fn violations(&self, id: InspectionId) -> Result<Vec<Violation>> {
        Ok(self.snapshot(id)?.violations())
    }

    pub fn inspections_by_status(&self, status: Status) -> Result<Vec<Inspection>> {
        self.tree(T::ByStatus)
            .scan_prefix([status.code()])
            .keys()
            .map(|k| {
                let k = k?;
                let id = keys::id_at(&k, 1).ok_or_else(|| Error::Storage("bad status index key".into()))?;
                self.inspection(InspectionId::from_bytes(id))
            })
            .collect()
    }

    pub fn inspections_of_facility(&self, facility: FacilityId) -> Result<Vec<Inspection>> {
        self.tree(T::ByFacility)
            .scan_prefix(facility.as_bytes())
            .keys()
            .map(|k| {
                let k = k?;
                let id =
                    keys::id_at(&k, 16).ok_or_else(|| Error::Storage("bad facility index key".into()))?;
                self.inspection(InspectionId::from_bytes(id))
            })
            .collect()
    }

    pub fn inspections(&self) -> Result<Vec<Inspection>> {
        Ok(self
            .values::<InspectionRecord>(T::Inspections, "inspection")?
            .into_iter()
            .map(|r| r.inspection)
            .collect())
    }

    // ---- the operation log ------------------------------------------------

    /// Operations not yet accepted by the server, oldest first.
    pub fn pending_operations(&self) -> Result<Vec<Operation>> {
        self.tree(T::Pending)
            .iter()
            .keys()
            .map(|k| {
                let k = k?;
                self.get::<Operation>(T::Ops, "operation", &k)?
                    .ok_or_else(|| Error::Storage("a pending operation is missing from the log".into()))
            })
            .collect()
    }

    /// The device's whole log, oldest first.
    pub fn operations(&self) -> Result<Vec<Operation>> {
        self.values(T::Ops, "operation")
    }
}

/// The writes that store `record` and keep the indexes right.
fn record_writes(before: Option<&InspectionRecord>, record: &InspectionRecord) -> Result<Vec<Write>> {
    let i = &record.inspection;
    let mut writes = vec![Write::put(
        T::Inspections,
        i.id.as_bytes().to_vec(),
        to_cbor("inspection", record)?,
    )];
    if let Some(b) = before {
        if b.inspection.status != i.status {
            writes.push(Write::delete(T::ByStatus, Key::status(b.inspection.status, i.id)));
        }
    }
    writes.push(Write::put(T::ByStatus, Key::status(i.status, i.id), Vec::new()));
    writes.push(Write::put(
        T::ByFacility,
        Key::facility(i.facility, i.id),
        Vec::new(),
    ));
    Ok(writes)
}
