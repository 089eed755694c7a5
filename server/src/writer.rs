//! The server's single writer: every change to the log and the server's
//! state goes through one [`Writer`], so checking an operation and appending
//! it can never race with another push. The HTTP server runs it on the
//! committer thread (`crate::commit`); the admin CLI uses it directly.
//!
//! A writer method only adds to the writer's [`Changeset`] (and reads through
//! it, so later work sees earlier work of the same group); nothing reaches
//! the storage until [`Writer::commit`], which applies the changeset as one
//! atomic, durable unit. A job (one request) that fails is rolled back to its
//! savepoint, so the group's other jobs commit without any half of it.
//!
//! The writer caches reference data and records. Every write to them goes
//! through this writer, and the caches are dropped whenever a job or a
//! commit fails, so they never hold what the storage does not.

mod accounts;
mod audit;
mod sanctions;
mod second_factor;

pub use sanctions::{NewSanction, NewSanctionItem};

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use kiemtra_core::access_code::{AccessCode, AccessCodeHash};
use kiemtra_core::accident::{Accident, Declarant, NewAccident};
use kiemtra_core::admin_units::{AdminUnit, AdminUnits};
use kiemtra_core::codec::{from_cbor, to_cbor};
use kiemtra_core::evidence::PhotoRecord;
use kiemtra_core::facility::{Facility, FacilityKind, NewFacility};
use kiemtra_core::identity::{check_public_key, IdentityError};
use kiemtra_core::ids::{AccidentId, DelegationId, DeviceId, FacilityId, InspectionId, InspectorId, OpId};
use kiemtra_core::inspection::{Inspection, InspectionKind, Status};
use kiemtra_core::minutes::{check_conforms, MemberKeys, TrustedKeys};
use kiemtra_core::ops::{Operation, Payload};
use kiemtra_core::people::{Delegation, DelegationMember, Inspector, Role};
use kiemtra_core::record::{Context, InspectionRecord};
use kiemtra_core::store::InspectionSnapshot;
use kiemtra_core::sync::wire::{
    Certificate, CertificateBody, EnrolRequest, EnrolResponse, PushOutcome, PushResult, RefusalKind,
    SIGN_CERTIFICATE,
};
use kiemtra_core::template::{ChecklistTemplate, TemplateRef};
use sha2::{Digest, Sha256};

use crate::db::{
    AdminSession, AdminToken, DeviceRecord, EnrolCode, PortalGrant, PortalSession, Read, ServerDb,
    TypedWrites, View,
};
use crate::error::ServerError;
use crate::portal::session::token_key;
use crate::server_key::ServerKey;
use crate::storage::{
    Applied, Changeset, NewEntry, Receipt, Savepoint, Scope, SledStorage, Storage, Table, Turn,
};

const META_SERVER_DEVICE: &str = "server_device";
/// Inspection records the writer keeps decoded.
const RECORD_CACHE: usize = 4096;
const META_SERVER_SEQ: &str = "server_op_seq";
const META_CERT_SERIAL: &str = "certificate_serial";
/// The agency's administrative units as last published (CBOR list).
const META_AGENCY_UNITS: &str = "agency_units";

/// How long a certificate is valid. Devices never compare it with their own
/// clock to refuse syncing; it is printed information.
pub const CERTIFICATE_DAYS: i64 = 365;

/// The units addresses are checked against and reports grouped by: the
/// built-in ones plus the agency's list as last published.
pub fn current_units(db: &impl Read) -> Result<AdminUnits, ServerError> {
    Ok(AdminUnits::with_agency(agency_units(db)?)?)
}

/// The agency's administrative units as last published (none before the first).
fn agency_units(db: &impl Read) -> Result<Vec<AdminUnit>, ServerError> {
    match db.meta_bytes(META_AGENCY_UNITS)? {
        Some(bytes) => Ok(from_cbor("administrative units", &bytes)?),
        None => Ok(Vec::new()),
    }
}

/// The authenticated device a push comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub device: DeviceId,
    pub inspector: InspectorId,
}

type Refusal = (RefusalKind, String);

fn refuse(kind: RefusalKind, reason: impl Into<String>) -> Refusal {
    (kind, reason.into())
}

/// Why an operation was not accepted: it is wrong (a refusal the device
/// keeps), or the server could not check it (the request fails and the
/// device retries; nothing is said about the operation).
enum Rejection {
    Refused(Refusal),
    Failed(ServerError),
}

impl From<Refusal> for Rejection {
    fn from(r: Refusal) -> Self {
        Self::Refused(r)
    }
}

impl From<ServerError> for Rejection {
    fn from(e: ServerError) -> Self {
        Self::Failed(e)
    }
}

/// Where an operation is, or will be once the group commits.
#[derive(Debug, Clone, Copy)]
enum LogPlace {
    Committed(u64),
    /// Position among the log entries of the writer's changeset.
    Pending(usize),
}

/// A push's answers, before the commit numbers the accepted operations.
#[derive(Debug)]
pub struct PushDraft {
    results: Vec<PushResult>,
    /// Results whose number is a pending log position.
    pending: Vec<(usize, usize)>,
}

impl PushDraft {
    /// The answers, with the numbers the commit gave.
    pub fn resolve(mut self, receipt: &Receipt) -> Result<Vec<PushResult>, ServerError> {
        for (i, pos) in self.pending {
            let seq = *receipt.seqs.get(pos).ok_or_else(|| {
                ServerError::Storage("the commit numbered fewer entries than appended".into())
            })?;
            match &mut self.results[i].outcome {
                PushOutcome::Accepted { server_seq } | PushOutcome::Duplicate { server_seq } => {
                    *server_seq = seq
                }
                PushOutcome::Refused { .. } => {}
            }
        }
        Ok(self.results)
    }

    /// The answers so far; accepted and duplicate ones are numbered 0 until
    /// resolved (demo data checks only that everything was accepted).
    pub fn results(&self) -> &[PushResult] {
        &self.results
    }

    /// The refusals, which need no commit to be known.
    pub fn refusals(&self) -> impl Iterator<Item = &PushResult> {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, PushOutcome::Refused { .. }))
    }
}

/// Which refusal a core error is.
fn refusal_of(e: kiemtra_core::Error) -> Refusal {
    use kiemtra_core::Error as E;
    let kind = match &e {
        E::Minutes(kiemtra_core::minutes::MinutesError::ContradictsRecord { .. }) => {
            RefusalKind::ContradictsRecord
        }
        E::Lifecycle(_) => RefusalKind::Lifecycle,
        E::NotFound { .. } => RefusalKind::NotFound,
        _ => RefusalKind::Invalid,
    };
    (kind, e.to_string())
}

pub struct Writer {
    store: Arc<dyn Storage>,
    key: Arc<ServerKey>,
    /// Everything written since the last commit.
    changes: Changeset,
    /// The savepoint of the job under way.
    job: Option<Savepoint>,
    /// Set when a failure left the writer's state (counters, units, caches)
    /// possibly ahead of the storage: reloaded before the next job.
    stale: bool,
    /// The log's head as of this writer's last look: another writer's
    /// commit moves it, and then every cache is dropped before the next job.
    known_head: u64,
    /// The operations of the last commit applied, with their numbers: until
    /// it is durable the storage's `seq_of` does not show them, yet a
    /// re-push of one in the next group is a duplicate all the same.
    in_flight: HashMap<OpId, u64>,
    /// On an engine that several instances share: the turn this writer
    /// holds from the start of a group to its commit (see
    /// [`Writer::begin_group`]), and the store's commit count as of this
    /// writer's last commit or look.
    turn: Option<Box<dyn Turn>>,
    known_generation: Option<u64>,
    /// Why the group under way could not take its turn: every job of it
    /// fails with this, retryable, and nothing of it runs.
    turn_refused: Option<String>,
    server_device: DeviceId,
    next_server_seq: u64,
    units: AdminUnits,
    // Reference data: every put of this writer updates the cache, every
    // failure drops it, and so does a commit of another writer (every change
    // of these comes with a log entry, which moves the head).
    templates: HashMap<TemplateRef, Arc<ChecklistTemplate>>,
    delegations: HashMap<DelegationId, Arc<Delegation>>,
    facility_kinds: HashMap<FacilityId, FacilityKind>,
    /// Inspection records as last written, so that a push does not decode
    /// its record again (every record write goes through this writer).
    records: HashMap<InspectionId, InspectionRecord>,
}

/// The opened storage of a data folder.
pub struct Opened {
    pub store: Arc<dyn Storage>,
    pub key: Arc<ServerKey>,
}

/// Opens the storage (sled, the embedded default) and the server key of a data folder.
pub fn open_dir(dir: &Path, cache_bytes: u64) -> Result<Opened, ServerError> {
    let store: Arc<dyn Storage> = Arc::new(SledStorage::open(dir, cache_bytes)?);
    let key = Arc::new(ServerKey::open(dir)?);
    Ok(Opened { store, key })
}

impl Writer {
    pub fn new(store: Arc<dyn Storage>, key: Arc<ServerKey>) -> Result<Self, ServerError> {
        // Checks the format version (and writes it on a new store).
        ServerDb::on(store.clone())?;
        // Inside a turn: two instances starting at once on one database
        // must not both choose the server's device id.
        let turn = store.begin_turn()?;
        let known_generation = turn.as_ref().map(|t| t.generation());
        let db = ServerDb::on(store.clone())?;
        let mut changes = Changeset::new();
        // A store of an earlier version (or rebuilt from the log) gets its
        // figures once, in this turn's commit: computed while no other
        // instance can commit, so they count exactly what is stored.
        crate::figures::ensure(&*store, &mut changes)?;
        let server_device = match db.meta_bytes(META_SERVER_DEVICE)? {
            Some(b) => DeviceId::from_bytes(
                <[u8; 16]>::try_from(b.as_slice())
                    .map_err(|_| ServerError::Storage("the server's device id is unreadable".into()))?,
            ),
            None => {
                let id = DeviceId::new();
                changes.set_meta_bytes(META_SERVER_DEVICE, id.as_bytes());
                id
            }
        };
        let next_server_seq = db.meta_u64(META_SERVER_SEQ)?.unwrap_or(0) + 1;
        let units = AdminUnits::with_agency(agency_units(&db)?)?;
        let mut w = Self {
            store,
            key,
            changes,
            job: None,
            stale: false,
            known_head: 0,
            in_flight: HashMap::new(),
            turn,
            known_generation,
            turn_refused: None,
            server_device,
            next_server_seq,
            units,
            templates: HashMap::new(),
            delegations: HashMap::new(),
            facility_kinds: HashMap::new(),
            records: HashMap::new(),
        };
        w.commit()?;
        w.known_head = w.store.log_head()?;
        Ok(w)
    }

    /// The committed state with this writer's uncommitted changes on top.
    pub fn db(&self) -> View<'_> {
        View {
            store: &*self.store,
            changes: &self.changes,
        }
    }

    /// The uncommitted changes, for set-up code that writes a table directly
    /// (demo data); everything else goes through the writer's methods.
    pub fn changes(&mut self) -> &mut Changeset {
        &mut self.changes
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.store
    }

    /// Starts a group of jobs to be committed together: on an engine that
    /// several server instances share, waits for this writer's turn (every
    /// other instance's commits wait until this group's commit), and drops
    /// every cache if another instance committed since this writer last
    /// looked. So each job reads what is stored, decides, and writes,
    /// without another instance's commit landing in between. If the turn
    /// cannot be had (the database is unreachable) every job of the group
    /// fails with a storage error to retry. A no-op on a store one process
    /// owns, and when the writer already holds its turn.
    pub fn begin_group(&mut self) {
        if self.turn.is_some() {
            return;
        }
        self.turn_refused = None;
        let turn = match self.store.begin_turn() {
            Ok(Some(turn)) => turn,
            Ok(None) => return,
            Err(e) => {
                self.turn_refused = Some(e.to_string());
                return;
            }
        };
        let generation = turn.generation();
        if self.known_generation != Some(generation) {
            self.stale = true;
        }
        self.turn = Some(turn);
    }

    /// Starts a job: what it writes can be rolled back alone.
    pub fn begin_job(&mut self) -> Result<(), ServerError> {
        if let Some(why) = &self.turn_refused {
            return Err(ServerError::StorageUnavailable(why.clone()));
        }
        if self.turn.is_some() {
            // The turn began with the store's latest commit in view.
            if self.stale {
                self.reload()?;
                self.known_head = self.store.log_head()?;
            }
            self.job = Some(self.changes.savepoint());
            return Ok(());
        }
        let head = self.store.log_head()?;
        // Beyond what this writer applied: another writer committed. (Below
        // it while this writer's last commit is still being made durable.)
        if self.stale || head > self.known_head {
            self.reload()?;
            self.known_head = head;
        }
        self.job = Some(self.changes.savepoint());
        Ok(())
    }

    /// Ends the job: kept if it succeeded, rolled back (with the writer's
    /// state and caches) if it failed.
    pub fn end_job(&mut self, succeeded: bool) {
        let Some(sp) = self.job.take() else {
            return;
        };
        if succeeded {
            self.changes.release();
        } else {
            self.changes.rollback(sp);
            if self.reload().is_err() {
                self.stale = true;
            }
        }
    }

    /// Reads the writer's state again from the storage and its changeset,
    /// and drops the caches.
    fn reload(&mut self) -> Result<(), ServerError> {
        self.templates.clear();
        self.delegations.clear();
        self.facility_kinds.clear();
        self.records.clear();
        let db = self.db();
        let next_server_seq = db.meta_u64(META_SERVER_SEQ)?.unwrap_or(0) + 1;
        let units = AdminUnits::with_agency(agency_units(&db)?)?;
        self.next_server_seq = next_server_seq;
        self.units = units;
        self.stale = false;
        Ok(())
    }

    /// Whether the inspectorate has published anything yet (templates,
    /// people, facilities: every device's work depends on some of it).
    pub fn has_published(&self) -> bool {
        self.next_server_seq > 1
    }

    /// An inspection record, from the cache or the database.
    fn record(&mut self, id: InspectionId) -> Result<Option<InspectionRecord>, ServerError> {
        if let Some(r) = self.records.get(&id) {
            return Ok(Some(r.clone()));
        }
        let r = self.db().record(id)?;
        if let Some(r) = &r {
            self.cache_record(r.clone());
        }
        Ok(r)
    }

    /// Like `record`, moving it out of the cache rather than copying it: a
    /// push works on its own copy and writes it back (`put_record`).
    fn take_record(&mut self, id: InspectionId) -> Result<Option<InspectionRecord>, ServerError> {
        match self.records.remove(&id) {
            Some(r) => Ok(Some(r)),
            None => self.db().record(id),
        }
    }

    /// Writes a record (durable at the next commit) and keeps it cached.
    pub(crate) fn put_record(&mut self, r: InspectionRecord) -> Result<(), ServerError> {
        self.changes.put_record(&r)?;
        self.cache_record(r);
        Ok(())
    }

    fn cache_record(&mut self, r: InspectionRecord) {
        // Bounded: a busy day's open inspections fit; beyond that start afresh.
        if self.records.len() >= RECORD_CACHE && !self.records.contains_key(&r.inspection.id) {
            self.records.clear();
        }
        self.records.insert(r.inspection.id, r);
    }

    pub fn server_device(&self) -> DeviceId {
        self.server_device
    }

    pub fn server_public_key(&self) -> [u8; 32] {
        self.key.public_key()
    }

    /// Applies every change so far to the storage, atomically and durably.
    /// On failure nothing was applied (or, if the engine cannot tell, the
    /// devices' retries find out), and the writer starts again from the storage.
    pub fn commit(&mut self) -> Result<Receipt, ServerError> {
        let applied = self.apply()?;
        if let Err(e) = self.store.make_durable(&applied) {
            self.durability_failed();
            return Err(e.into());
        }
        Ok(applied.receipt)
    }

    /// The first half of [`Writer::commit`] (see `commit.rs`): applies every
    /// change so far, numbered, atomically, without waiting for it to be
    /// durable. The next jobs build on it; nobody may be told it is
    /// committed before `make_durable` returns for it.
    pub fn apply(&mut self) -> Result<Applied, ServerError> {
        let mut changes = std::mem::take(&mut self.changes);
        self.job = None;
        self.turn_refused = None;
        // The figures change in the same commit as what they count.
        if let Err(e) = crate::figures::update(&*self.store, &mut changes) {
            // Nothing was committed: the turn ends unused (its transaction
            // rolls back), and the generation this writer knows still holds.
            self.turn = None;
            if self.reload().is_err() {
                self.stale = true;
            }
            return Err(e);
        }
        let ops: Vec<OpId> = changes.log().iter().map(|e| e.op).collect();
        let applied = match self.turn.take() {
            Some(turn) => {
                let generation = turn.generation();
                let empty = changes.is_empty();
                let committed = turn.commit(changes).map(|receipt| Applied { receipt, ticket: 0 });
                // Only a commit this writer saw succeed is one it knows of.
                self.known_generation = match (&committed, empty) {
                    (Ok(_), true) => Some(generation),
                    (Ok(_), false) => Some(generation + 1),
                    (Err(_), _) => None,
                };
                committed
            }
            None => self.store.apply(changes),
        };
        match applied {
            Ok(applied) => {
                let seqs = &applied.receipt.seqs;
                if let (Some(&first), Some(&last)) = (seqs.first(), seqs.last()) {
                    // Numbered after entries this writer never saw: another
                    // writer committed in between, its changes are not cached.
                    if first != self.known_head + 1 {
                        self.stale = true;
                    }
                    self.known_head = last;
                    self.in_flight = ops.into_iter().zip(seqs.iter().copied()).collect();
                }
                Ok(applied)
            }
            Err(e) => {
                if self.reload().is_err() {
                    self.stale = true;
                }
                Err(e.into())
            }
        }
    }

    /// Making an applied commit durable failed: what the writer built on it
    /// may not exist after a restart. Drops the changes since and every cache.
    pub fn durability_failed(&mut self) {
        self.changes = Changeset::new();
        self.job = None;
        self.in_flight.clear();
        self.turn = None;
        self.known_generation = None;
        if self.reload().is_err() {
            self.stale = true;
        }
    }

    /// Where an operation is in the log, committed or in this changeset.
    fn place_of(&self, op: OpId) -> Result<Option<LogPlace>, ServerError> {
        if let Some(pos) = self.changes.position_of(op) {
            return Ok(Some(LogPlace::Pending(pos)));
        }
        if let Some(&seq) = self.in_flight.get(&op) {
            return Ok(Some(LogPlace::Committed(seq)));
        }
        Ok(self.store.seq_of(op)?.map(LogPlace::Committed))
    }

    /// Appends a server-authored operation to the log, for the devices to
    /// pull; returns it, for a caller that merges it into a record.
    pub(crate) fn server_op(&mut self, payload: Payload, scope: Scope) -> Result<Operation, ServerError> {
        let op = Operation {
            id: OpId::new(),
            device: self.server_device,
            seq: self.next_server_seq,
            author: None,
            at: Utc::now(),
            payload,
        };
        let bytes = to_cbor("operation", &op)?;
        self.changes.append(NewEntry {
            op: op.id,
            scope,
            bytes,
        });
        self.changes.set_meta_u64(META_SERVER_SEQ, self.next_server_seq);
        self.next_server_seq += 1;
        Ok(op)
    }

    /// Publishes a template. Republishing the same content is a no-op
    /// (returns false); the same id and version with other content is refused.
    pub fn publish_template(&mut self, t: &ChecklistTemplate) -> Result<bool, ServerError> {
        let bytes = to_cbor("template", t)?;
        match self.db().template_bytes(&t.key())? {
            Some(existing) if existing == bytes => Ok(false),
            Some(_) => Err(ServerError::Conflict(format!(
                "template {} v{} is already published with other content; publish a new version instead",
                t.id, t.version
            ))),
            None => {
                // The operation and the stored template commit together.
                self.server_op(Payload::PublishTemplate(t.clone()), Scope::Everyone)?;
                self.changes.put_template(t)?;
                Ok(true)
            }
        }
    }

    pub fn create_inspector(
        &mut self,
        name: &str,
        title: &str,
        agency: &str,
    ) -> Result<Inspector, ServerError> {
        let i = Inspector::new(InspectorId::new(), name, title, agency)?;
        self.put_inspector(&i)?;
        Ok(i)
    }

    pub fn put_inspector(&mut self, i: &Inspector) -> Result<(), ServerError> {
        self.changes.put_inspector(i)?;
        self.server_op(Payload::PutInspector(i.clone()), Scope::Everyone)?;
        Ok(())
    }

    /// Registers or updates a facility (the inspectorate's list).
    pub fn put_facility(&mut self, f: &Facility) -> Result<(), ServerError> {
        self.changes.put_facility(f)?;
        self.facility_kinds.insert(f.id, f.kind);
        self.server_op(Payload::PutFacility(f.clone()), Scope::Everyone)?;
        Ok(())
    }

    /// Publishes the agency's administrative units, replacing its previous
    /// list: stored, used at once for checking addresses, and sent to every
    /// device. The same list again is a no-op (returns false); a list that
    /// leaves out a unit published before is refused, since records refer to
    /// units by code.
    pub fn publish_units(&mut self, units: Vec<AdminUnit>) -> Result<bool, ServerError> {
        let previous = self.agency_units()?;
        if previous == units {
            return Ok(false);
        }
        AdminUnits::check_replaces(&previous, &units)?;
        let checked = AdminUnits::with_agency(units.clone())?;
        let bytes = to_cbor("administrative units", &units)?;
        // The operation and the stored list commit together.
        self.server_op(Payload::PublishAdminUnits { units }, Scope::Everyone)?;
        self.changes.set_meta_bytes(META_AGENCY_UNITS, &bytes);
        self.units = checked;
        Ok(true)
    }

    /// The agency's list as last published (empty before the first).
    pub fn agency_units(&self) -> Result<Vec<AdminUnit>, ServerError> {
        agency_units(&self.db())
    }

    pub fn admin_units(&self) -> &AdminUnits {
        &self.units
    }

    pub fn create_delegation(
        &mut self,
        name: &str,
        decision: &str,
        leader: InspectorId,
        members: &[InspectorId],
        secretary: Option<InspectorId>,
    ) -> Result<Delegation, ServerError> {
        for id in std::iter::once(&leader).chain(members).chain(secretary.iter()) {
            if self.db().inspector(*id)?.is_none() {
                return Err(ServerError::NotFound(format!("inspector {id}")));
            }
        }
        let mut list: Vec<DelegationMember> = members
            .iter()
            .map(|&inspector| DelegationMember {
                inspector,
                role: Role::Member,
            })
            .collect();
        if let Some(inspector) = secretary {
            list.push(DelegationMember {
                inspector,
                role: Role::Secretary,
            });
        }
        let d = Delegation::new(DelegationId::new(), name, decision, leader, list)?;
        self.put_delegation(&d)?;
        Ok(d)
    }

    pub fn put_delegation(&mut self, d: &Delegation) -> Result<(), ServerError> {
        self.changes.put_delegation(d)?;
        self.delegations.insert(d.id, Arc::new(d.clone()));
        self.server_op(Payload::PutDelegation(d.clone()), Scope::Everyone)?;
        Ok(())
    }

    /// Assigns an inspection to a delegation: a server-authored `CreateInspection`.
    pub fn assign(
        &mut self,
        delegation: DelegationId,
        facility: FacilityId,
        template: TemplateRef,
        date: NaiveDate,
        kind: InspectionKind,
    ) -> Result<Inspection, ServerError> {
        if kind == InspectionKind::AccidentInvestigation {
            return Err(ServerError::Invalid(
                "an accident investigation is assigned for a declared accident (assign-investigation)".into(),
            ));
        }
        self.create_assigned(delegation, facility, template, date, kind, None)
    }

    /// Assigns the investigation of a declared accident to a delegation, at
    /// the accident's establishment, with the built-in investigation template
    /// unless another is given.
    pub fn assign_investigation(
        &mut self,
        delegation: DelegationId,
        accident: AccidentId,
        template: Option<TemplateRef>,
        date: NaiveDate,
    ) -> Result<Inspection, ServerError> {
        let a = self
            .db()
            .accident(accident)?
            .ok_or_else(|| ServerError::NotFound(format!("accident {accident}")))?;
        let facility = a.facility.ok_or_else(|| {
            ServerError::Invalid(
                "the accident has no establishment (a worker without a labour contract): the commune reports it; no inspection of an establishment to assign".into(),
            )
        })?;
        let template = match template {
            Some(t) => t,
            None => {
                // The built-in investigation template, published on first use.
                let builtin = kiemtra_core::template::osh_accident_investigation();
                self.publish_template(&builtin)?;
                builtin.key()
            }
        };
        self.create_assigned(
            delegation,
            facility,
            template,
            date,
            InspectionKind::AccidentInvestigation,
            Some(accident),
        )
    }

    fn create_assigned(
        &mut self,
        delegation: DelegationId,
        facility: FacilityId,
        template: TemplateRef,
        date: NaiveDate,
        kind: InspectionKind,
        accident: Option<AccidentId>,
    ) -> Result<Inspection, ServerError> {
        if self.delegation(delegation)?.is_none() {
            return Err(ServerError::NotFound(format!("delegation {delegation}")));
        }
        if self.facility_kind(facility)?.is_none() {
            return Err(ServerError::NotFound(format!("facility {facility}")));
        }
        if self.template(&template)?.is_none() {
            return Err(ServerError::NotFound(format!("template {template}")));
        }
        let inspection = Inspection {
            id: InspectionId::new(),
            kind,
            facility,
            template,
            delegation,
            planned_date: date,
            location: None,
            status: Status::Draft,
            created_by: None,
            created_at: Utc::now(),
            started_at: None,
            accident,
        };
        self.put_record(InspectionRecord::new(inspection.clone()))?;
        self.server_op(
            Payload::CreateInspection(inspection.clone()),
            Scope::Delegation(delegation),
        )?;
        Ok(inspection)
    }

    /// Records a declared accident.
    pub fn declare_accident(&mut self, new: NewAccident, by: Declarant) -> Result<Accident, ServerError> {
        if let Some(f) = new.facility {
            if self.db().facility(f)?.is_none() {
                return Err(ServerError::NotFound(format!("facility {f}")));
            }
        }
        let a = new.validate(AccidentId::new(), by, Utc::now(), &self.units)?;
        self.changes.put_accident(&a)?;
        Ok(a)
    }

    /// Records the establishment's remediation report of a violation, sent
    /// through the portal, as a server-authored operation that the
    /// delegation's devices pull. Checked like any operation: only on sealed
    /// minutes, only for a violation they list.
    pub fn report_remediation(
        &mut self,
        inspection: InspectionId,
        item: &str,
        sent_by: &str,
        text: &str,
        photos: Vec<PhotoRecord>,
    ) -> Result<OpId, ServerError> {
        let mut record = self
            .record(inspection)?
            .ok_or_else(|| ServerError::NotFound(format!("inspection {inspection}")))?;
        let template = self
            .template(&record.inspection.template)?
            .ok_or_else(|| ServerError::NotFound(format!("template {}", record.inspection.template)))?;
        let facility = record.inspection.facility;
        let facility_kind = self
            .facility_kind(facility)?
            .ok_or_else(|| ServerError::NotFound(format!("facility {facility}")))?;
        let op = Operation {
            id: OpId::new(),
            device: self.server_device,
            seq: self.next_server_seq,
            author: None,
            at: Utc::now(),
            payload: Payload::ReportRemediation {
                inspection,
                item: item.to_string(),
                facility,
                sent_by: kiemtra_core::text::normalise(sent_by),
                text: kiemtra_core::text::normalise(text),
                photos,
            },
        };
        let ctx = Context {
            template: &template,
            facility_kind,
            trusted_keys: None,
        };
        record.check(&op, &ctx)?;
        record.merge(&op);
        let bytes = to_cbor("operation", &op)?;
        let scope = Scope::Delegation(record.inspection.delegation);
        self.put_record(record)?;
        self.changes.append(NewEntry {
            op: op.id,
            scope,
            bytes,
        });
        self.changes.set_meta_u64(META_SERVER_SEQ, self.next_server_seq);
        self.next_server_seq += 1;
        Ok(op.id)
    }

    /// Issues a token for an official or a script, bound to `account` if
    /// given; only its hash is kept.
    pub fn create_admin_token(&mut self, name: &str, account: Option<String>) -> Result<String, ServerError> {
        let name = kiemtra_core::text::required("name", name, 200)?;
        let mut bytes = [0u8; 24];
        getrandom::fill(&mut bytes).map_err(|e| ServerError::Storage(format!("random source: {e}")))?;
        let token = hex::encode(bytes);
        self.changes.put_admin_token(
            &token_hash(&token),
            &AdminToken {
                name,
                created_at: Utc::now().timestamp(),
                account,
            },
        )?;
        Ok(token)
    }

    /// Opens an enterprise's portal session on `grant`, for `ttl`; returns
    /// the cookie's token (only its hash is stored).
    pub fn open_portal_session(&mut self, grant: PortalGrant, ttl: Duration) -> Result<String, ServerError> {
        let token = session_token()?;
        let session = PortalSession {
            grant,
            expires_at: expiry(ttl),
        };
        self.changes.put_portal_session(&token_key(&token), &session)?;
        Ok(token)
    }

    pub fn close_portal_session(&mut self, token: &str) {
        self.changes
            .delete(Table::PortalSessions, token_key(token).to_vec());
    }

    /// Opens an overview session for the holder of an admin token, for
    /// `ttl`; returns the cookie's token.
    pub fn open_admin_session(&mut self, name: &str, ttl: Duration) -> Result<String, ServerError> {
        let token = session_token()?;
        let session = AdminSession {
            name: name.to_string(),
            expires_at: expiry(ttl),
            account: None,
        };
        self.changes.put_admin_session(&token_key(&token), &session)?;
        Ok(token)
    }

    pub fn close_admin_session(&mut self, token: &str) {
        self.changes
            .delete(Table::AdminSessions, token_key(token).to_vec());
    }

    /// Deletes the sessions that expired before `now` (Unix seconds); returns how many.
    pub fn purge_sessions(&mut self, now: i64) -> Result<usize, ServerError> {
        let portal =
            self.expired::<PortalSession>(Table::PortalSessions, "portal session", now, |s| s.expires_at)?;
        let admin =
            self.expired::<AdminSession>(Table::AdminSessions, "admin session", now, |s| s.expires_at)?;
        let n = portal.len() + admin.len();
        for k in portal {
            self.changes.delete(Table::PortalSessions, k);
        }
        for k in admin {
            self.changes.delete(Table::AdminSessions, k);
        }
        Ok(n)
    }

    /// The keys of the sessions in `table` that expired before `now`.
    fn expired<T: serde::de::DeserializeOwned>(
        &self,
        table: Table,
        what: &'static str,
        now: i64,
        expires_at: fn(&T) -> i64,
    ) -> Result<Vec<Vec<u8>>, ServerError> {
        let mut keys = Vec::new();
        for (k, v) in self.db().raw_all(table)? {
            if expires_at(&from_cbor::<T>(what, &v)?) <= now {
                keys.push(k);
            }
        }
        Ok(keys)
    }

    /// Issues a one-time enrolment code for `inspector`, valid `valid_hours`
    /// (0 gives a code that has already expired, for tests).
    pub fn enrol_code(&mut self, inspector: InspectorId, valid_hours: u32) -> Result<String, ServerError> {
        if self.db().inspector(inspector)?.is_none() {
            return Err(ServerError::NotFound(format!("inspector {inspector}")));
        }
        let mut raw = [0u8; 20];
        getrandom::fill(&mut raw)
            .map_err(|e| ServerError::Storage(format!("the random source failed: {e}")))?;
        // 160 bits, grouped for reading aloud over the phone.
        let hex = hex::encode(raw);
        let code = hex
            .as_bytes()
            .chunks(8)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-");
        let expires_at = Utc::now().timestamp() + i64::from(valid_hours) * 3600;
        self.changes.put_enrol_code(
            &code_hash(&code),
            &EnrolCode {
                inspector,
                expires_at,
                used: false,
            },
        )?;
        Ok(code)
    }

    /// Binds a device's key to the code's inspector and certifies it.
    pub fn enrol(&mut self, req: &EnrolRequest) -> Result<EnrolResponse, ServerError> {
        let hash = code_hash(&req.code);
        let bad_code = || ServerError::forbidden("code_invalid", "the enrolment code is not valid");
        let mut code = self.db().enrol_code(&hash)?.ok_or_else(bad_code)?;
        if code.used {
            return Err(ServerError::forbidden(
                "code_used",
                "the enrolment code was already used; ask for a new one",
            ));
        }
        if code.expires_at <= Utc::now().timestamp() {
            return Err(ServerError::forbidden(
                "code_expired",
                "the enrolment code has expired; ask for a new one",
            ));
        }
        let pk = <[u8; 32]>::try_from(req.public_key.as_slice())
            .map_err(|_| ServerError::Invalid("the public key must be 32 bytes".into()))?;
        check_public_key(&pk).map_err(|e| match e {
            IdentityError::WeakKey => {
                ServerError::Invalid("the public key is weak (small order) and is refused".into())
            }
            _ => ServerError::Invalid("the public key is not a valid ed25519 point".into()),
        })?;
        if self.db().device(req.device)?.is_some() {
            return Err(ServerError::Conflict(format!(
                "device {} is already enrolled; a reinstalled app has a new device id",
                req.device
            )));
        }
        let device_name = kiemtra_core::text::DEVICE_NAME.required(&req.device_name)?;
        let inspector = self
            .db()
            .inspector(code.inspector)?
            .ok_or_else(|| ServerError::NotFound(format!("inspector {}", code.inspector)))?;
        let serial = self.db().meta_u64(META_CERT_SERIAL)?.unwrap_or(0) + 1;
        let now = Utc::now();
        let body = CertificateBody {
            serial,
            inspector: inspector.id,
            inspector_name: inspector.name.clone(),
            device: req.device,
            public_key: pk.to_vec(),
            valid_from: now,
            valid_to: now + chrono::Duration::days(CERTIFICATE_DAYS),
        };
        let body = to_cbor("certificate", &body)?;
        let signature = self.key.sign(SIGN_CERTIFICATE, &body).to_vec();
        let certificate = Certificate { body, signature };
        code.used = true;
        self.changes.put_enrol_code(&hash, &code)?;
        self.changes.set_meta_u64(META_CERT_SERIAL, serial);
        self.changes.put_device(&DeviceRecord {
            device: req.device,
            inspector: inspector.id,
            public_key: pk.to_vec(),
            name: device_name,
            certificate: certificate.clone(),
            revoked: false,
        })?;
        self.server_op(Payload::CertifyDevice(certificate.clone()), Scope::Everyone)?;
        Ok(EnrolResponse {
            certificate,
            server_public_key: self.key.public_key().to_vec(),
            inspector,
        })
    }

    /// Revokes a device: its key no longer authenticates, from the next request on.
    /// Revokes `device`; returns the device as it was, or `None` when it
    /// was already revoked (nothing changes then).
    pub fn revoke_device(&mut self, device: DeviceId) -> Result<Option<DeviceRecord>, ServerError> {
        let was = self
            .db()
            .device(device)?
            .ok_or_else(|| ServerError::NotFound(format!("device {device}")))?;
        if was.revoked {
            return Ok(None);
        }
        let mut d = was.clone();
        d.revoked = true;
        self.changes.put_device(&d)?;
        self.server_op(Payload::RevokeDevice { device }, Scope::Everyone)?;
        Ok(Some(was))
    }

    fn template(&mut self, r: &TemplateRef) -> Result<Option<Arc<ChecklistTemplate>>, ServerError> {
        if let Some(t) = self.templates.get(r) {
            return Ok(Some(t.clone()));
        }
        let Some(t) = self.db().template(r)? else {
            return Ok(None);
        };
        let t = Arc::new(t);
        self.templates.insert(r.clone(), t.clone());
        Ok(Some(t))
    }

    fn delegation(&mut self, id: DelegationId) -> Result<Option<Arc<Delegation>>, ServerError> {
        if let Some(d) = self.delegations.get(&id) {
            return Ok(Some(d.clone()));
        }
        let Some(d) = self.db().delegation(id)? else {
            return Ok(None);
        };
        let d = Arc::new(d);
        self.delegations.insert(id, d.clone());
        Ok(Some(d))
    }

    fn facility_kind(&mut self, id: FacilityId) -> Result<Option<FacilityKind>, ServerError> {
        if let Some(k) = self.facility_kinds.get(&id) {
            return Ok(Some(*k));
        }
        let Some(f) = self.db().facility(id)? else {
            return Ok(None);
        };
        self.facility_kinds.insert(id, f.kind);
        Ok(Some(f.kind))
    }

    /// Judges and appends a device's operations, in order. Accepted ones are
    /// appended to the changeset (numbered and durable at the next commit:
    /// [`PushDraft::resolve`]); refused ones change nothing. A storage failure
    /// while judging fails the whole push, which the caller rolls back: the
    /// device keeps its operations and retries.
    ///
    /// `access_codes` are the clear portal codes sent beside the operations
    /// (`PushRequest::access_codes`): used to judge the draw-ups, then dropped.
    pub fn push(
        &mut self,
        who: Principal,
        ops: Vec<Operation>,
        access_codes: &[AccessCode],
    ) -> Result<PushDraft, ServerError> {
        let mut results: Vec<PushResult> = Vec::with_capacity(ops.len());
        let mut pending = Vec::new();
        // Records touched by this push, written back once at the end.
        let mut records: HashMap<InspectionId, InspectionRecord> = HashMap::new();
        let mut dirty: HashSet<InspectionId> = HashSet::new();
        for op in ops {
            // Already in the log, or appended earlier in this push or group.
            if let Some(place) = self.place_of(op.id)? {
                let server_seq = match place {
                    LogPlace::Committed(seq) => seq,
                    LogPlace::Pending(pos) => {
                        pending.push((results.len(), pos));
                        0
                    }
                };
                results.push(PushResult {
                    op: op.id,
                    outcome: PushOutcome::Duplicate { server_seq },
                });
                continue;
            }
            let outcome = match self.judge(who, &op, access_codes, &mut records, &mut dirty) {
                Ok(scope) => {
                    let pos = self.changes.append(NewEntry {
                        op: op.id,
                        scope,
                        bytes: to_cbor("operation", &op)?,
                    });
                    pending.push((results.len(), pos));
                    PushOutcome::Accepted { server_seq: 0 }
                }
                Err(Rejection::Refused((kind, reason))) => PushOutcome::Refused { kind, reason },
                Err(Rejection::Failed(e)) => return Err(e),
            };
            results.push(PushResult { op: op.id, outcome });
        }
        for id in &dirty {
            if let Some(r) = records.remove(id) {
                self.put_record(r)?;
            }
        }
        Ok(PushDraft { results, pending })
    }

    /// Whether `who` may push `op`, and whether it fits; on success the
    /// record in `records` has merged it and the scope of its log entry is returned.
    fn judge(
        &mut self,
        who: Principal,
        op: &Operation,
        access_codes: &[AccessCode],
        records: &mut HashMap<InspectionId, InspectionRecord>,
        dirty: &mut HashSet<InspectionId>,
    ) -> Result<Scope, Rejection> {
        if op.device != who.device {
            return Err(Rejection::Refused(refuse(
                RefusalKind::Forbidden,
                "a device pushes only its own operations",
            )));
        }
        if op.author != Some(who.inspector) {
            return Err(Rejection::Refused(refuse(
                RefusalKind::Forbidden,
                "the operation's author is not the inspector this device is enrolled for",
            )));
        }
        match &op.payload {
            Payload::PutInspector(_)
            | Payload::PutDelegation(_)
            | Payload::ReportRemediation { .. }
            | Payload::PublishTemplate(_)
            | Payload::PublishAdminUnits { .. }
            | Payload::CertifyDevice(_)
            | Payload::RevokeDevice { .. } => Err(Rejection::Refused(refuse(
                RefusalKind::Forbidden,
                format!(
                    "{} is published by the inspectorate, not by devices",
                    op.payload.kind()
                ),
            ))),
            Payload::PutFacility(f) => self.judge_new_facility(f),
            Payload::CreateInspection(i) => self.judge_new_inspection(who, op, i, records, dirty),
            payload => {
                let Some(id) = payload.inspection() else {
                    return Err(Rejection::Refused(refuse(
                        RefusalKind::Forbidden,
                        format!("{} cannot be pushed by a device", payload.kind()),
                    )));
                };
                let record = match records.entry(id) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        let r = self.take_record(id)?.ok_or_else(|| {
                            refuse(RefusalKind::NotFound, format!("inspection {id} not found"))
                        })?;
                        e.insert(r)
                    }
                };
                let delegation = record.inspection.delegation;
                let template_ref = record.inspection.template.clone();
                let facility = record.inspection.facility;
                self.check_member(who, delegation)?;
                let template = self.template(&template_ref)?.ok_or_else(|| {
                    refuse(
                        RefusalKind::NotFound,
                        format!("template {template_ref} not found"),
                    )
                })?;
                let facility_kind = self
                    .facility_kind(facility)?
                    .ok_or_else(|| refuse(RefusalKind::NotFound, format!("facility {facility} not found")))?;
                let ctx = Context {
                    template: &template,
                    facility_kind,
                    trusted_keys: None,
                };
                let record = records
                    .get_mut(&id)
                    .ok_or_else(|| refuse(RefusalKind::NotFound, format!("inspection {id} not found")))?;
                record.check(op, &ctx).map_err(refusal_of)?;
                // Everything is judged before the record changes: a refusal changes nothing.
                let grant = match &op.payload {
                    Payload::DrawUpMinutes {
                        canonical,
                        access_code_hash,
                        ..
                    } => {
                        self.judge_minutes(record, &template, canonical)?;
                        self.judge_access_code(id, *access_code_hash, access_codes)?
                    }
                    _ => None,
                };
                record.merge(op);
                dirty.insert(id);
                if let Some(hash) = grant {
                    // The establishment's key to the portal; only its hash is kept.
                    let grant = PortalGrant {
                        inspection: id,
                        facility,
                    };
                    self.changes.put_portal_grant(&hash.0, &grant)?;
                }
                Ok(Scope::Delegation(delegation))
            }
        }
    }

    /// Minutes are the record: rebuilt from the server's record, delegation,
    /// inspectors and certified keys, and refused where they say otherwise.
    /// Signatures then only ever go on minutes that passed (a signature names
    /// a version the record holds, and only accepted draw-ups enter it).
    fn judge_minutes(
        &mut self,
        record: &InspectionRecord,
        template: &ChecklistTemplate,
        canonical: &[u8],
    ) -> Result<(), Rejection> {
        let doc = kiemtra_core::minutes::decode_canonical(canonical).map_err(|e| refusal_of(e.into()))?;
        let inspection = &record.inspection;
        let facility = self.db().facility(inspection.facility)?.ok_or_else(|| {
            refuse(
                RefusalKind::NotFound,
                format!("facility {} not found", inspection.facility),
            )
        })?;
        let delegation = self.delegation(inspection.delegation)?.ok_or_else(|| {
            refuse(
                RefusalKind::NotFound,
                format!("delegation {} not found", inspection.delegation),
            )
        })?;
        let mut inspectors = Vec::with_capacity(delegation.members.len());
        for m in &delegation.members {
            inspectors.push(self.db().inspector(m.inspector)?.ok_or_else(|| {
                refuse(
                    RefusalKind::NotFound,
                    format!("inspector {} not found", m.inspector),
                )
            })?);
        }
        // The keys minutes may name: the members' devices that are not revoked.
        let mut keys = TrustedKeys::new();
        for d in self.db().devices()? {
            if d.revoked || delegation.role_of(d.inspector).is_none() {
                continue;
            }
            let Ok(pk) = <[u8; 32]>::try_from(d.public_key.as_slice()) else {
                continue;
            };
            keys.insert(&d.inspector.to_string(), pk, "")
                .map_err(|e| ServerError::Storage(format!("a certified key is unusable: {e}")))?;
        }
        let snapshot = InspectionSnapshot {
            record: record.clone(),
            template: template.clone(),
            facility,
        };
        check_conforms(
            &doc,
            &snapshot,
            &delegation,
            &inspectors,
            MemberKeys::Certified(&keys),
        )
        .map_err(|e| Rejection::Refused(refusal_of(e.into())))
    }

    /// The portal code of minutes drawn up: the hash to grant, if new. A new
    /// hash needs its clear code beside the operation, a code that passes the
    /// randomness rule, and no grant for another inspection (which it would
    /// then open). An amendment keeps the code, and its grant, of the minutes
    /// it amends.
    fn judge_access_code(
        &mut self,
        inspection: InspectionId,
        hash: Option<AccessCodeHash>,
        codes: &[AccessCode],
    ) -> Result<Option<AccessCodeHash>, Rejection> {
        let Some(hash) = hash else {
            return Ok(None);
        };
        match self.db().portal_grant(&hash.0)? {
            Some(g) if g.inspection == inspection => return Ok(None),
            Some(_) => {
                return Err(Rejection::Refused(refuse(
                    RefusalKind::AccessCode,
                    "the access code is already in use for another inspection; draw up the minutes again",
                )))
            }
            None => {}
        }
        let code = codes.iter().find(|c| c.code_hash() == hash).ok_or_else(|| {
            refuse(
                RefusalKind::AccessCode,
                "the access code of the minutes was not sent beside them",
            )
        })?;
        code.check_strength()
            .map_err(|e| refuse(RefusalKind::AccessCode, e.to_string()))?;
        Ok(Some(hash))
    }

    fn check_member(&mut self, who: Principal, delegation: DelegationId) -> Result<(), Rejection> {
        let d = self.delegation(delegation)?.ok_or_else(|| {
            refuse(
                RefusalKind::NotFound,
                format!("delegation {delegation} not found"),
            )
        })?;
        if d.role_of(who.inspector).is_none() {
            return Err(Rejection::Refused(refuse(
                RefusalKind::Forbidden,
                "the inspector is not a member of the inspection's delegation",
            )));
        }
        Ok(())
    }

    /// A facility registered in the field: new ones only, in normal form.
    fn judge_new_facility(&mut self, f: &Facility) -> Result<Scope, Rejection> {
        if let Some(existing) = self.db().facility(f.id)? {
            if &existing == f {
                return Ok(Scope::Everyone);
            }
            return Err(Rejection::Refused(refuse(
                RefusalKind::Forbidden,
                "registered facilities are changed by the inspectorate, not by devices",
            )));
        }
        let checked = NewFacility {
            kind: f.kind,
            name: f.name.clone(),
            tax_code: f.tax_code.as_ref().map(|t| t.as_str().to_string()),
            street: f.address.street.clone(),
            unit: f.address.unit.clone(),
            sector: f.sector.clone(),
            workforce: f.workforce,
            high_risk: f.high_risk,
        }
        .validate(f.id, &self.units)
        .map_err(|e| refuse(RefusalKind::Invalid, e.to_string()))?;
        if &checked != f {
            return Err(Rejection::Refused(refuse(
                RefusalKind::Invalid,
                "the facility's text is not in normal form",
            )));
        }
        self.changes.put_facility(f)?;
        self.facility_kinds.insert(f.id, f.kind);
        Ok(Scope::Everyone)
    }

    fn judge_new_inspection(
        &mut self,
        who: Principal,
        op: &Operation,
        i: &Inspection,
        records: &mut HashMap<InspectionId, InspectionRecord>,
        dirty: &mut HashSet<InspectionId>,
    ) -> Result<Scope, Rejection> {
        self.check_member(who, i.delegation)?;
        if records.contains_key(&i.id) || self.record(i.id)?.is_some() {
            return Err(Rejection::Refused(refuse(
                RefusalKind::Invalid,
                format!("inspection {} already exists", i.id),
            )));
        }
        if i.status != Status::Draft || i.started_at.is_some() {
            return Err(Rejection::Refused(refuse(
                RefusalKind::Lifecycle,
                "an inspection is created as a draft and then started",
            )));
        }
        if self.facility_kind(i.facility)?.is_none() {
            return Err(Rejection::Refused(refuse(
                RefusalKind::NotFound,
                format!("facility {} not found", i.facility),
            )));
        }
        if self.template(&i.template)?.is_none() {
            return Err(Rejection::Refused(refuse(
                RefusalKind::NotFound,
                format!("template {} not found", i.template),
            )));
        }
        if i.created_by.is_some() && i.created_by != op.author {
            return Err(Rejection::Refused(refuse(
                RefusalKind::Invalid,
                "created_by is not the operation's author",
            )));
        }
        records.insert(i.id, InspectionRecord::new(i.clone()));
        dirty.insert(i.id);
        Ok(Scope::Delegation(i.delegation))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.changes.is_empty() {
            // Only a commit writes: changes dropped here were never stored.
            tracing::warn!("a writer was dropped with uncommitted changes; they are not stored");
        }
    }
}

/// A new session's random token, for a cookie.
fn session_token() -> Result<String, ServerError> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| ServerError::Storage(format!("the random source failed: {e}")))?;
    Ok(hex::encode(raw))
}

/// When a session opened now for `ttl` ends, in Unix seconds.
fn expiry(ttl: Duration) -> i64 {
    Utc::now().timestamp() + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2)
}

/// The key an enrolment code is stored under.
pub fn code_hash(code: &str) -> [u8; 32] {
    Sha256::digest(code.trim().to_ascii_lowercase().as_bytes()).into()
}

/// The key an admin token is stored under.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.trim().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use kiemtra_core::answer::{AnswerEntry, AnswerValue, YesNoNa};
    use kiemtra_core::facility::{FacilityKind, NewFacility};
    use kiemtra_core::template::osh_general;

    use super::*;
    use crate::storage::{Faulty, MemoryStorage};

    struct Set {
        w: Writer,
        faults: Arc<Faulty>,
        store: Arc<dyn Storage>,
        who: Principal,
        inspection: InspectionId,
    }

    /// A writer on memory behind a fault injector, with one inspection assigned.
    fn set_up() -> Set {
        set_up_on(Arc::new(MemoryStorage::new()))
    }

    fn set_up_on(store: Arc<dyn Storage>) -> Set {
        let faults = Arc::new(Faulty::new(store.clone()));
        let dynamic: Arc<dyn Storage> = faults.clone();
        let mut w = Writer::new(dynamic, Arc::new(ServerKey::generate().unwrap())).unwrap();
        w.publish_template(&osh_general()).unwrap();
        let lan = w
            .create_inspector("Nguyễn Thị Lan", "Thanh tra viên", "Sở Nội vụ")
            .unwrap();
        let d = w.create_delegation("Đoàn 1", "QĐ 1", lan.id, &[], None).unwrap();
        let f = NewFacility {
            kind: FacilityKind::Enterprise,
            name: "Công ty CP Cơ khí Lạch Tray".into(),
            tax_code: Some("0200123456".into()),
            street: "Số 5 Lạch Tray".into(),
            unit: "hp.ngo-quyen".into(),
            sector: "Cơ khí".into(),
            workforce: 320,
            high_risk: true,
        }
        .validate(Default::default(), w.admin_units())
        .unwrap();
        w.put_facility(&f).unwrap();
        let inspection = w
            .assign(
                d.id,
                f.id,
                osh_general().key(),
                "2025-03-04".parse().unwrap(),
                InspectionKind::Inspection,
            )
            .unwrap()
            .id;
        w.commit().unwrap();
        Set {
            w,
            faults,
            store,
            who: Principal {
                device: DeviceId::new(),
                inspector: lan.id,
            },
            inspection,
        }
    }

    fn op(s: &Set, seq: u64, payload: Payload) -> Operation {
        Operation {
            id: OpId::new(),
            device: s.who.device,
            seq,
            author: Some(s.who.inspector),
            at: Utc::now(),
            payload,
        }
    }

    fn start(s: &Set) -> Payload {
        Payload::Transition {
            inspection: s.inspection,
            to: Status::InProgress,
        }
    }

    fn answer(s: &Set, item: &str) -> Payload {
        Payload::SetAnswer {
            inspection: s.inspection,
            item: item.into(),
            entry: AnswerEntry {
                value: AnswerValue::YesNoNa(YesNoNa::Yes),
                note: None,
            },
            supersedes: vec![],
        }
    }

    /// A job the way the committer runs it.
    fn job(s: &mut Set, ops: Vec<Operation>) -> Result<PushDraft, ServerError> {
        s.w.begin_job().unwrap();
        let out = s.w.push(s.who, ops, &[]);
        s.w.end_job(out.is_ok());
        out
    }

    fn accepted(results: &[PushResult]) -> Vec<u64> {
        results
            .iter()
            .map(|r| match r.outcome {
                PushOutcome::Accepted { server_seq } => server_seq,
                ref other => panic!("expected accepted, got {other:?}"),
            })
            .collect()
    }

    /// The bug the issue traced, at the interface: a commit that dies leaves
    /// nothing, so the re-push is accepted and logged, never answered
    /// "duplicate" for an operation the log lacks.
    #[test]
    fn a_commit_that_fails_leaves_nothing_and_the_repush_is_accepted() {
        let mut s = set_up();
        let head = s.store.log_head().unwrap();
        let ops = vec![op(&s, 1, start(&s)), op(&s, 2, answer(&s, "B1"))];
        job(&mut s, ops.clone()).unwrap();
        s.faults.fail_commits(1);
        assert!(s.w.commit().is_err());
        assert_eq!(s.store.log_head().unwrap(), head);
        assert_eq!(s.store.seq_of(ops[0].id).unwrap(), None);
        let record = s.w.db().record(s.inspection).unwrap().unwrap();
        assert_eq!(
            record.inspection.status,
            Status::Draft,
            "the writer kept the failed push's record"
        );

        let draft = job(&mut s, ops.clone()).unwrap();
        let receipt = s.w.commit().unwrap();
        let seqs = accepted(&draft.resolve(&receipt).unwrap());
        assert_eq!(seqs, vec![head + 1, head + 2]);
        assert_eq!(s.store.seq_of(ops[1].id).unwrap(), Some(head + 2));
        // And once more: now a duplicate, with the same numbers.
        let draft = job(&mut s, ops).unwrap();
        let receipt = s.w.commit().unwrap();
        for (r, seq) in draft.resolve(&receipt).unwrap().iter().zip(seqs) {
            assert_eq!(r.outcome, PushOutcome::Duplicate { server_seq: seq });
        }
    }

    /// The committer applies the next group while the last one is being
    /// made durable (`commit.rs`). An operation of the group in flight is
    /// not yet in the storage's index, yet pushed again it is a duplicate
    /// with the number it got, and the next group commits (not the whole
    /// group failing as a duplicate commit).
    #[test]
    fn a_repush_while_the_last_group_is_made_durable_is_a_duplicate() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = set_up_on(Arc::new(SledStorage::open(dir.path(), 8 << 20).unwrap()));
        let head = s.store.log_head().unwrap();
        let ops = vec![op(&s, 1, start(&s)), op(&s, 2, answer(&s, "B1"))];
        let first = job(&mut s, ops.clone()).unwrap();
        let in_flight = s.w.apply().unwrap();
        assert_eq!(
            s.store.seq_of(ops[0].id).unwrap(),
            None,
            "visible before it is durable"
        );
        assert_eq!(s.store.log_head().unwrap(), head);

        let again = job(&mut s, ops.clone()).unwrap();
        let next =
            s.w.apply()
                .expect("the next group was refused as a duplicate commit");
        s.store.make_durable(&in_flight).unwrap();
        s.store.make_durable(&next).unwrap();
        let seqs = accepted(&first.resolve(&in_flight.receipt).unwrap());
        assert_eq!(seqs, vec![head + 1, head + 2]);
        for (r, seq) in again.resolve(&next.receipt).unwrap().iter().zip(&seqs) {
            assert_eq!(r.outcome, PushOutcome::Duplicate { server_seq: *seq });
        }
        assert_eq!(s.store.log_head().unwrap(), head + 2, "an operation logged twice");
        assert_eq!(s.store.seq_of(ops[1].id).unwrap(), Some(head + 2));
    }

    /// A storage failure while judging is the request's failure, not a
    /// refusal of the operation: nothing of that push stays in the group,
    /// the other pushes of the group commit.
    #[test]
    fn a_read_failure_fails_only_its_own_job_and_is_no_refusal() {
        let mut s = set_up();
        let first = vec![op(&s, 1, start(&s))];
        job(&mut s, first.clone()).unwrap();
        s.w.commit().unwrap();
        // A new writer has nothing cached: it reads the record from storage.
        let mut s = Set {
            w: Writer::new(s.faults.clone(), Arc::new(ServerKey::generate().unwrap())).unwrap(),
            ..s
        };
        let kept = vec![op(&s, 2, answer(&s, "B2"))];
        job(&mut s, kept.clone()).unwrap();
        // Nothing cached: the next push reads reference data from storage.
        s.w.reload().unwrap();
        let failing = vec![op(&s, 3, answer(&s, "B1"))];
        s.faults.fail_reads(1);
        let err = job(&mut s, failing.clone()).unwrap_err();
        assert!(matches!(err, ServerError::StorageUnavailable(_)), "{err}");
        let receipt = s.w.commit().unwrap();
        assert_eq!(receipt.seqs.len(), 1, "the group's other push commits");
        assert!(s.store.seq_of(kept[0].id).unwrap().is_some());
        assert_eq!(s.store.seq_of(failing[0].id).unwrap(), None);
        // The retry is judged on its merits: accepted.
        let draft = job(&mut s, failing).unwrap();
        let receipt = s.w.commit().unwrap();
        accepted(&draft.resolve(&receipt).unwrap());
    }

    /// Duplicates found inside one group: an operation pushed twice before
    /// the commit is numbered once, and both answers carry that number.
    #[test]
    fn a_duplicate_within_one_group_is_numbered_once() {
        let mut s = set_up();
        let ops = vec![op(&s, 1, start(&s)), op(&s, 2, answer(&s, "B1"))];
        let d1 = job(&mut s, ops.clone()).unwrap();
        let d2 = job(&mut s, ops.clone()).unwrap();
        let receipt = s.w.commit().unwrap();
        assert_eq!(receipt.seqs.len(), 2);
        let first = accepted(&d1.resolve(&receipt).unwrap());
        let again = d2.resolve(&receipt).unwrap();
        for (r, seq) in again.iter().zip(&first) {
            assert_eq!(r.outcome, PushOutcome::Duplicate { server_seq: *seq });
        }
        // The same id twice in one push, too.
        let twice = [op(&s, 3, answer(&s, "B2"))];
        let d = job(&mut s, vec![twice[0].clone(), twice[0].clone()]).unwrap();
        let receipt = s.w.commit().unwrap();
        let r = d.resolve(&receipt).unwrap();
        assert_eq!(receipt.seqs.len(), 1);
        assert_eq!(
            r[0].outcome,
            PushOutcome::Accepted {
                server_seq: receipt.seqs[0]
            }
        );
        assert_eq!(
            r[1].outcome,
            PushOutcome::Duplicate {
                server_seq: receipt.seqs[0]
            }
        );
    }

    /// Another writer's commit on the same storage (another instance, an
    /// administration path) drops this writer's caches before its next job:
    /// a delegation changed there is seen here at once.
    #[test]
    fn another_writers_commit_invalidates_the_caches() {
        let mut s = set_up();
        let first = vec![op(&s, 1, start(&s))];
        job(&mut s, first).unwrap();
        s.w.commit().unwrap();
        // A newcomer, not yet a member: refused, and the delegation is cached.
        let hung =
            s.w.create_inspector("Trần Văn Hùng", "Thanh tra viên", "Sở Nội vụ")
                .unwrap();
        s.w.commit().unwrap();
        let newcomer = Principal {
            device: DeviceId::new(),
            inspector: hung.id,
        };
        let by_newcomer = |s: &Set, seq: u64| Operation {
            device: newcomer.device,
            author: Some(newcomer.inspector),
            ..op(s, seq, answer(s, "B4"))
        };
        let refused = by_newcomer(&s, 1);
        s.w.begin_job().unwrap();
        let d = s.w.push(newcomer, vec![refused], &[]).unwrap();
        s.w.end_job(true);
        assert_eq!(d.refusals().count(), 1);
        s.w.commit().unwrap();

        // Another writer adds the newcomer to the delegation.
        let mut other = Writer::new(s.faults.clone(), Arc::new(ServerKey::generate().unwrap())).unwrap();
        let record = other.db().record(s.inspection).unwrap().unwrap();
        let mut d = other
            .db()
            .delegation(record.inspection.delegation)
            .unwrap()
            .unwrap();
        d.members.push(DelegationMember {
            inspector: hung.id,
            role: Role::Member,
        });
        other.put_delegation(&d).unwrap();
        other.commit().unwrap();

        let accepted_op = by_newcomer(&s, 2);
        s.w.begin_job().unwrap();
        let d = s.w.push(newcomer, vec![accepted_op], &[]).unwrap();
        s.w.end_job(true);
        let refusals: Vec<_> = d.refusals().collect();
        assert!(
            refusals.is_empty(),
            "the writer judged with a stale delegation: {refusals:?}"
        );
        s.w.commit().unwrap();
    }

    /// Jobs of one group see each other's uncommitted work; a failed one
    /// rolls back its reference-data changes and the caches with them.
    #[test]
    fn a_failed_job_rolls_back_its_writes_and_the_caches() {
        let mut s = set_up();
        s.w.begin_job().unwrap();
        let d =
            s.w.create_delegation("Đoàn tạm", "QĐ 2", s.who.inspector, &[], None)
                .unwrap();
        assert!(s.w.db().delegation(d.id).unwrap().is_some());
        s.w.end_job(false);
        assert!(s.w.db().delegation(d.id).unwrap().is_none());
        assert!(
            s.w.delegation(d.id).unwrap().is_none(),
            "the cache kept a rolled-back delegation"
        );
        let seq_before = s.w.next_server_seq;
        s.w.begin_job().unwrap();
        s.w.create_inspector("Trần Văn Hùng", "Thanh tra viên", "Sở Nội vụ")
            .unwrap();
        s.w.end_job(true);
        assert_eq!(s.w.next_server_seq, seq_before + 1);
        let receipt = s.w.commit().unwrap();
        assert_eq!(receipt.seqs.len(), 1, "only the kept job's operation");
    }
}
