//! The server's single writer: every change to the log and the server's
//! state goes through one [`Writer`], so checking an operation and appending
//! it can never race with another push. The HTTP server runs it on the
//! committer thread (`crate::commit`); the admin CLI uses it directly.
//!
//! Nothing a writer method does is durable until [`Writer::commit`] returns.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use kiemtra_core::accident::{Accident, Declarant, NewAccident};
use kiemtra_core::admin_units::{AdminUnit, AdminUnits};
use kiemtra_core::codec::{from_cbor, to_cbor};
use kiemtra_core::evidence::PhotoRecord;
use kiemtra_core::facility::{Facility, FacilityKind, NewFacility};
use kiemtra_core::identity::{check_public_key, IdentityError};
use kiemtra_core::ids::{AccidentId, DelegationId, DeviceId, FacilityId, InspectionId, InspectorId, OpId};
use kiemtra_core::inspection::{Inspection, InspectionKind, Status};
use kiemtra_core::ops::{Operation, Payload};
use kiemtra_core::people::{Delegation, DelegationMember, Inspector, Role};
use kiemtra_core::record::{Context, InspectionRecord};
use kiemtra_core::sync::wire::{
    Certificate, CertificateBody, EnrolRequest, EnrolResponse, PushOutcome, PushResult, RefusalKind,
    SIGN_CERTIFICATE,
};
use kiemtra_core::template::{ChecklistTemplate, TemplateRef};
use sha2::{Digest, Sha256};

use crate::db::{AdminToken, DeviceRecord, EnrolCode, PortalGrant, ServerDb};
use crate::error::ServerError;
use crate::server_key::ServerKey;
use crate::storage::{NewEntry, OpLog, Scope, SledOpLog};

const META_SERVER_DEVICE: &str = "server_device";
/// Inspection records the writer keeps decoded.
const RECORD_CACHE: usize = 4096;
const META_SERVER_SEQ: &str = "server_op_seq";
const META_CERT_SERIAL: &str = "certificate_serial";
/// The agency's administrative units as last published (CBOR list).
const META_AGENCY_UNITS: &str = "agency_units";

/// How long a certificate is valid. Devices never compare it with their own
/// clock to refuse syncing; it is printed information.
const CERTIFICATE_DAYS: i64 = 365;

/// The agency's administrative units as last published (none before the first).
fn agency_units(db: &ServerDb) -> Result<Vec<AdminUnit>, ServerError> {
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

/// Which refusal a core error is.
fn refusal_of(e: kiemtra_core::Error) -> Refusal {
    use kiemtra_core::Error as E;
    let kind = match &e {
        E::Lifecycle(_) => RefusalKind::Lifecycle,
        E::NotFound { .. } => RefusalKind::NotFound,
        _ => RefusalKind::Invalid,
    };
    (kind, e.to_string())
}

fn storage_refusal(e: ServerError) -> Refusal {
    // A storage failure is not the operation's fault; the device retries it later.
    (
        RefusalKind::NotFound,
        format!("the server could not check it: {e}"),
    )
}

pub struct Writer {
    db: Arc<ServerDb>,
    log: Arc<dyn OpLog>,
    key: Arc<ServerKey>,
    server_device: DeviceId,
    next_server_seq: u64,
    units: AdminUnits,
    // Reference data only the admin CLI changes (with the server stopped) or
    // this writer itself: safe to cache for the writer's lifetime.
    templates: HashMap<TemplateRef, Arc<ChecklistTemplate>>,
    delegations: HashMap<DelegationId, Arc<Delegation>>,
    facility_kinds: HashMap<FacilityId, FacilityKind>,
    /// Inspection records as last written, so that a push does not decode
    /// its record again (every record write goes through this writer).
    records: HashMap<InspectionId, InspectionRecord>,
}

/// The opened storage of a data folder.
pub struct Opened {
    pub db: Arc<ServerDb>,
    pub log: Arc<SledOpLog>,
    pub key: Arc<ServerKey>,
}

/// Opens the database, the log and the server key of a data folder.
pub fn open_dir(dir: &Path, cache_bytes: u64) -> Result<Opened, ServerError> {
    let db = Arc::new(ServerDb::open(dir, cache_bytes)?);
    let log = Arc::new(SledOpLog::open(db.sled(), dir)?);
    let key = Arc::new(ServerKey::open(dir)?);
    Ok(Opened { db, log, key })
}

impl Writer {
    pub fn new(db: Arc<ServerDb>, log: Arc<dyn OpLog>, key: Arc<ServerKey>) -> Result<Self, ServerError> {
        let server_device = match db.meta_bytes(META_SERVER_DEVICE)? {
            Some(b) => DeviceId::from_bytes(
                <[u8; 16]>::try_from(b.as_slice())
                    .map_err(|_| ServerError::Storage("the server's device id is unreadable".into()))?,
            ),
            None => {
                let id = DeviceId::new();
                db.set_meta_bytes(META_SERVER_DEVICE, id.as_bytes())?;
                id
            }
        };
        let next_server_seq = db.meta_u64(META_SERVER_SEQ)?.unwrap_or(0) + 1;
        let units = AdminUnits::with_agency(agency_units(&db)?)?;
        let w = Self {
            db,
            log,
            key,
            server_device,
            next_server_seq,
            units,
            templates: HashMap::new(),
            delegations: HashMap::new(),
            facility_kinds: HashMap::new(),
            records: HashMap::new(),
        };
        w.commit()?;
        Ok(w)
    }

    /// Whether the inspectorate has published anything yet (templates,
    /// people, facilities: every device's work depends on some of it).
    pub fn has_published(&self) -> bool {
        self.next_server_seq > 1
    }

    pub fn db(&self) -> &ServerDb {
        &self.db
    }

    /// An inspection record, from the cache or the database.
    fn record(&mut self, id: InspectionId) -> Result<Option<InspectionRecord>, ServerError> {
        if let Some(r) = self.records.get(&id) {
            return Ok(Some(r.clone()));
        }
        let r = self.db.record(id)?;
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
            None => self.db.record(id),
        }
    }

    /// Writes a record (durable at the next commit) and keeps it cached.
    fn put_record(&mut self, r: InspectionRecord) -> Result<(), ServerError> {
        self.db.put_record(&r)?;
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

    /// Makes every change so far durable.
    pub fn commit(&self) -> Result<(), ServerError> {
        Ok(self.log.sync()?)
    }

    /// Appends a server-authored operation to the log, for the devices to pull.
    fn server_op(&mut self, payload: Payload, scope: Scope) -> Result<u64, ServerError> {
        let op = Operation {
            id: OpId::new(),
            device: self.server_device,
            seq: self.next_server_seq,
            author: None,
            at: Utc::now(),
            payload,
        };
        let bytes = to_cbor("operation", &op)?;
        let seqs = self.log.append(vec![NewEntry {
            op: op.id,
            scope,
            bytes,
        }])?;
        self.db.set_meta_u64(META_SERVER_SEQ, self.next_server_seq)?;
        self.next_server_seq += 1;
        seqs.first()
            .copied()
            .ok_or_else(|| ServerError::Storage("the log appended nothing".into()))
    }

    /// Publishes a template. Republishing the same content is a no-op
    /// (returns false); the same id and version with other content is refused.
    pub fn publish_template(&mut self, t: &ChecklistTemplate) -> Result<bool, ServerError> {
        let bytes = to_cbor("template", t)?;
        match self.db.template_bytes(&t.key())? {
            Some(existing) if existing == bytes => Ok(false),
            Some(_) => Err(ServerError::Conflict(format!(
                "template {} v{} is already published with other content; publish a new version instead",
                t.id, t.version
            ))),
            None => {
                // Operation first, as in `publish_units`: a crash in between
                // leaves the template unstored, to be published again.
                self.server_op(Payload::PublishTemplate(t.clone()), Scope::Everyone)?;
                self.db.put_template(t)?;
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
        self.db.put_inspector(i)?;
        self.server_op(Payload::PutInspector(i.clone()), Scope::Everyone)?;
        Ok(())
    }

    /// Registers or updates a facility (the inspectorate's list).
    pub fn put_facility(&mut self, f: &Facility) -> Result<(), ServerError> {
        self.db.put_facility(f)?;
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
        // The operation before the stored list: sled recovers a prefix of its
        // writes, so a crash in between leaves the list unstored and a second
        // publication sends it again, rather than a stored list no device gets.
        self.server_op(Payload::PublishAdminUnits { units }, Scope::Everyone)?;
        self.db.set_meta_bytes(META_AGENCY_UNITS, &bytes)?;
        self.units = checked;
        Ok(true)
    }

    /// The agency's list as last published (empty before the first).
    pub fn agency_units(&self) -> Result<Vec<AdminUnit>, ServerError> {
        agency_units(&self.db)
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
            if self.db.inspector(*id)?.is_none() {
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
        self.db.put_delegation(d)?;
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
            .db
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
            if self.db.facility(f)?.is_none() {
                return Err(ServerError::NotFound(format!("facility {f}")));
            }
        }
        let a = new.validate(AccidentId::new(), by, Utc::now(), &self.units)?;
        self.db.put_accident(&a)?;
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
        self.put_record(record.clone())?;
        self.log.append(vec![NewEntry {
            op: op.id,
            scope: Scope::Delegation(record.inspection.delegation),
            bytes,
        }])?;
        self.db.set_meta_u64(META_SERVER_SEQ, self.next_server_seq)?;
        self.next_server_seq += 1;
        Ok(op.id)
    }

    /// Issues a token for an official to open the overview pages; only its hash is kept.
    pub fn create_admin_token(&mut self, name: &str) -> Result<String, ServerError> {
        let name = kiemtra_core::text::required("name", name, 200)?;
        let mut bytes = [0u8; 24];
        getrandom::fill(&mut bytes).map_err(|e| ServerError::Storage(format!("random source: {e}")))?;
        let token = hex::encode(bytes);
        self.db.put_admin_token(
            &token_hash(&token),
            &AdminToken {
                name,
                created_at: Utc::now().timestamp(),
            },
        )?;
        Ok(token)
    }

    /// Issues a one-time enrolment code for `inspector`, valid `valid_hours`
    /// (0 gives a code that has already expired, for tests).
    pub fn enrol_code(&mut self, inspector: InspectorId, valid_hours: u32) -> Result<String, ServerError> {
        if self.db.inspector(inspector)?.is_none() {
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
        self.db.put_enrol_code(
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
        let mut code = self.db.enrol_code(&hash)?.ok_or_else(bad_code)?;
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
        if self.db.device(req.device)?.is_some() {
            return Err(ServerError::Conflict(format!(
                "device {} is already enrolled; a reinstalled app has a new device id",
                req.device
            )));
        }
        let device_name = kiemtra_core::text::required("device name", &req.device_name, 200)?;
        let inspector = self
            .db
            .inspector(code.inspector)?
            .ok_or_else(|| ServerError::NotFound(format!("inspector {}", code.inspector)))?;
        let serial = self.db.meta_u64(META_CERT_SERIAL)?.unwrap_or(0) + 1;
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
        self.db.put_enrol_code(&hash, &code)?;
        self.db.set_meta_u64(META_CERT_SERIAL, serial)?;
        self.db.put_device(&DeviceRecord {
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
    pub fn revoke_device(&mut self, device: DeviceId) -> Result<(), ServerError> {
        let mut d = self
            .db
            .device(device)?
            .ok_or_else(|| ServerError::NotFound(format!("device {device}")))?;
        if d.revoked {
            return Ok(());
        }
        d.revoked = true;
        self.db.put_device(&d)?;
        self.server_op(Payload::RevokeDevice { device }, Scope::Everyone)?;
        Ok(())
    }

    fn template(&mut self, r: &TemplateRef) -> Result<Option<Arc<ChecklistTemplate>>, ServerError> {
        if let Some(t) = self.templates.get(r) {
            return Ok(Some(t.clone()));
        }
        let Some(t) = self.db.template(r)? else {
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
        let Some(d) = self.db.delegation(id)? else {
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
        let Some(f) = self.db.facility(id)? else {
            return Ok(None);
        };
        self.facility_kinds.insert(id, f.kind);
        Ok(Some(f.kind))
    }

    /// Judges and appends a device's operations, in order. Accepted ones are
    /// appended (durable at the next commit); refused ones change nothing.
    pub fn push(&mut self, who: Principal, ops: Vec<Operation>) -> Result<Vec<PushResult>, ServerError> {
        let mut results: Vec<PushResult> = Vec::with_capacity(ops.len());
        // Records touched by this push, written back once at the end.
        let mut records: HashMap<InspectionId, InspectionRecord> = HashMap::new();
        let mut dirty: HashSet<InspectionId> = HashSet::new();
        let mut seen: HashMap<OpId, usize> = HashMap::new();
        let mut entries = Vec::new();
        let mut accepted_at = Vec::new();
        for op in ops {
            if let Some(seq) = self.log.seq_of(op.id)? {
                results.push(PushResult {
                    op: op.id,
                    outcome: PushOutcome::Duplicate { server_seq: seq },
                });
                continue;
            }
            if let Some(&first) = seen.get(&op.id) {
                // The same id twice in one push: answered like the first, once numbered.
                results.push(PushResult {
                    op: op.id,
                    outcome: results[first].outcome.clone(),
                });
                continue;
            }
            let outcome = match self.judge(who, &op, &mut records, &mut dirty) {
                Ok(scope) => {
                    seen.insert(op.id, results.len());
                    accepted_at.push(results.len());
                    entries.push(NewEntry {
                        op: op.id,
                        scope,
                        bytes: to_cbor("operation", &op)?,
                    });
                    // Filled in once the log numbers the entries.
                    PushOutcome::Accepted { server_seq: 0 }
                }
                Err((kind, reason)) => PushOutcome::Refused { kind, reason },
            };
            results.push(PushResult { op: op.id, outcome });
        }
        for id in &dirty {
            if let Some(r) = records.remove(id) {
                self.put_record(r)?;
            }
        }
        if !entries.is_empty() {
            let seqs = self.log.append(entries)?;
            for (i, seq) in accepted_at.into_iter().zip(seqs) {
                results[i].outcome = PushOutcome::Accepted { server_seq: seq };
            }
            // Same-id repeats copied the placeholder: give them the number too.
            for i in 0..results.len() {
                if let PushOutcome::Accepted { server_seq: 0 } = results[i].outcome {
                    if let Some(&first) = seen.get(&results[i].op) {
                        results[i].outcome = results[first].outcome.clone();
                    }
                }
            }
        }
        Ok(results)
    }

    /// Whether `who` may push `op`, and whether it fits; on success the
    /// record in `records` has merged it and the scope of its log entry is returned.
    fn judge(
        &mut self,
        who: Principal,
        op: &Operation,
        records: &mut HashMap<InspectionId, InspectionRecord>,
        dirty: &mut HashSet<InspectionId>,
    ) -> Result<Scope, Refusal> {
        if op.device != who.device {
            return Err(refuse(
                RefusalKind::Forbidden,
                "a device pushes only its own operations",
            ));
        }
        if op.author != Some(who.inspector) {
            return Err(refuse(
                RefusalKind::Forbidden,
                "the operation's author is not the inspector this device is enrolled for",
            ));
        }
        match &op.payload {
            Payload::PutInspector(_)
            | Payload::PutDelegation(_)
            | Payload::ReportRemediation { .. }
            | Payload::PublishTemplate(_)
            | Payload::PublishAdminUnits { .. }
            | Payload::CertifyDevice(_)
            | Payload::RevokeDevice { .. } => Err(refuse(
                RefusalKind::Forbidden,
                format!(
                    "{} is published by the inspectorate, not by devices",
                    op.payload.kind()
                ),
            )),
            Payload::PutFacility(f) => self.judge_new_facility(f),
            Payload::CreateInspection(i) => self.judge_new_inspection(who, op, i, records, dirty),
            payload => {
                let Some(id) = payload.inspection() else {
                    return Err(refuse(
                        RefusalKind::Forbidden,
                        format!("{} cannot be pushed by a device", payload.kind()),
                    ));
                };
                let record = match records.entry(id) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        let r = self.take_record(id).map_err(storage_refusal)?.ok_or_else(|| {
                            refuse(RefusalKind::NotFound, format!("inspection {id} not found"))
                        })?;
                        e.insert(r)
                    }
                };
                let delegation = record.inspection.delegation;
                let template_ref = record.inspection.template.clone();
                let facility = record.inspection.facility;
                self.check_member(who, delegation)?;
                let template = self
                    .template(&template_ref)
                    .map_err(storage_refusal)?
                    .ok_or_else(|| {
                        refuse(
                            RefusalKind::NotFound,
                            format!("template {template_ref} not found"),
                        )
                    })?;
                let facility_kind = self
                    .facility_kind(facility)
                    .map_err(storage_refusal)?
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
                record.merge(op);
                dirty.insert(id);
                if let Payload::DrawUpMinutes {
                    access_code: Some(code),
                    ..
                } = &op.payload
                {
                    // The establishment's key to the portal; only its hash is kept.
                    let grant = PortalGrant {
                        inspection: id,
                        facility,
                    };
                    self.db
                        .put_portal_grant(&code.hash(), &grant)
                        .map_err(storage_refusal)?;
                }
                Ok(Scope::Delegation(delegation))
            }
        }
    }

    fn check_member(&mut self, who: Principal, delegation: DelegationId) -> Result<(), Refusal> {
        let d = self
            .delegation(delegation)
            .map_err(storage_refusal)?
            .ok_or_else(|| {
                refuse(
                    RefusalKind::NotFound,
                    format!("delegation {delegation} not found"),
                )
            })?;
        if d.role_of(who.inspector).is_none() {
            return Err(refuse(
                RefusalKind::Forbidden,
                "the inspector is not a member of the inspection's delegation",
            ));
        }
        Ok(())
    }

    /// A facility registered in the field: new ones only, in normal form.
    fn judge_new_facility(&mut self, f: &Facility) -> Result<Scope, Refusal> {
        if let Some(existing) = self.db.facility(f.id).map_err(storage_refusal)? {
            if &existing == f {
                return Ok(Scope::Everyone);
            }
            return Err(refuse(
                RefusalKind::Forbidden,
                "registered facilities are changed by the inspectorate, not by devices",
            ));
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
            return Err(refuse(
                RefusalKind::Invalid,
                "the facility's text is not in normal form",
            ));
        }
        self.db.put_facility(f).map_err(storage_refusal)?;
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
    ) -> Result<Scope, Refusal> {
        self.check_member(who, i.delegation)?;
        if records.contains_key(&i.id) || self.record(i.id).map_err(storage_refusal)?.is_some() {
            return Err(refuse(
                RefusalKind::Invalid,
                format!("inspection {} already exists", i.id),
            ));
        }
        if i.status != Status::Draft || i.started_at.is_some() {
            return Err(refuse(
                RefusalKind::Lifecycle,
                "an inspection is created as a draft and then started",
            ));
        }
        if self.facility_kind(i.facility).map_err(storage_refusal)?.is_none() {
            return Err(refuse(
                RefusalKind::NotFound,
                format!("facility {} not found", i.facility),
            ));
        }
        if self.template(&i.template).map_err(storage_refusal)?.is_none() {
            return Err(refuse(
                RefusalKind::NotFound,
                format!("template {} not found", i.template),
            ));
        }
        if i.created_by.is_some() && i.created_by != op.author {
            return Err(refuse(
                RefusalKind::Invalid,
                "created_by is not the operation's author",
            ));
        }
        records.insert(i.id, InspectionRecord::new(i.clone()));
        dirty.insert(i.id);
        Ok(Scope::Delegation(i.delegation))
    }
}

/// The key an enrolment code is stored under.
pub fn code_hash(code: &str) -> [u8; 32] {
    Sha256::digest(code.trim().to_ascii_lowercase().as_bytes()).into()
}

/// The key an admin token is stored under.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.trim().as_bytes()).into()
}
