//! The store's side of sync: what to push, what the server answered, and
//! applying what was pulled.
//!
//! A device's state is the merge of every operation it knows: its own and
//! the server's. Merging is commutative (see `record::merge`), so pulled
//! operations are merged on top of local ones in any order. An operation the
//! server refused is taken out of the state by rebuilding the inspection from
//! its remaining operations, and kept, with the reason, for the inspector to see.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::keys::{self, Key};
use super::{record_writes, Store, Write, T};
use crate::admin_units::AdminUnits;
use crate::codec::{from_cbor, to_cbor};
use crate::error::{Error, Result};
use crate::ids::{DeviceId, InspectionId, OpId};
use crate::ops::{Operation, Payload};
use crate::people::Inspector;
use crate::record::InspectionRecord;
use crate::sync::wire::{Certificate, CertificateBody, PullResponse, PushOutcome, PushResult, RefusalKind};

/// A local operation the server refused, kept so the inspector sees what
/// happened to their work and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub op: Operation,
    pub kind: RefusalKind,
    pub reason: String,
}

/// What enrolment gave this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub inspector: Inspector,
    pub certificate: Certificate,
    #[serde(with = "serde_bytes")]
    pub server_public_key: Vec<u8>,
    pub server_url: String,
    /// The certificate authority to trust for the server's TLS (PEM), when not a public one.
    pub ca_pem: Option<String>,
}

impl Store {
    /// The server sequence number up to which this device has pulled.
    pub fn sync_cursor(&self) -> Result<u64> {
        Ok(self
            .tree(T::Meta)
            .get(keys::META_CURSOR)?
            .and_then(|v| keys::u64_from(&v))
            .unwrap_or(0))
    }

    /// Up to `max` pending operations, oldest first.
    pub fn pending_batch(&self, max: usize) -> Result<Vec<Operation>> {
        self.tree(T::Pending)
            .iter()
            .keys()
            .take(max)
            .map(|k| {
                let k = k?;
                self.get::<Operation>(T::Ops, "operation", &k)?
                    .ok_or_else(|| Error::Storage("a pending operation is missing from the log".into()))
            })
            .collect()
    }

    pub fn pending_count(&self) -> usize {
        self.tree(T::Pending).len()
    }

    /// Local operations the server refused, with the reasons.
    pub fn refused_operations(&self) -> Result<Vec<Refusal>> {
        self.values(T::Refused, "refusal")
    }

    /// Records the server's answer to a push: accepted operations leave the
    /// pending queue; refused ones leave it too, are kept with their reason,
    /// and their inspection is rebuilt without them.
    pub fn record_push_results(&self, ops: &[Operation], results: &[PushResult]) -> Result<()> {
        if ops.len() != results.len() || ops.iter().zip(results).any(|(o, r)| o.id != r.op) {
            return Err(Error::Storage(
                "the server's answer does not match the pushed operations".into(),
            ));
        }
        let mut writer = self.lock_writer()?;
        let mut writes = Vec::new();
        let mut rebuild: BTreeSet<InspectionId> = BTreeSet::new();
        let mut newly_refused: BTreeSet<OpId> = BTreeSet::new();
        for (op, result) in ops.iter().zip(results) {
            let seq_key = op.seq.to_be_bytes();
            writes.push(Write::delete(T::Pending, seq_key));
            match &result.outcome {
                PushOutcome::Accepted { server_seq } | PushOutcome::Duplicate { server_seq } => {
                    writes.push(Write::put(
                        T::Applied,
                        op.id.as_bytes().to_vec(),
                        server_seq.to_be_bytes().to_vec(),
                    ));
                }
                PushOutcome::Refused { kind, reason } => {
                    let refusal = Refusal {
                        op: op.clone(),
                        kind: *kind,
                        reason: reason.clone(),
                    };
                    writes.push(Write::put(T::Refused, seq_key, to_cbor("refusal", &refusal)?));
                    newly_refused.insert(op.id);
                    if let Some(i) = op.payload.inspection() {
                        rebuild.insert(i);
                    }
                }
            }
        }
        if !rebuild.is_empty() {
            let mut excluded: BTreeSet<OpId> =
                self.refused_operations()?.into_iter().map(|r| r.op.id).collect();
            excluded.extend(newly_refused);
            for id in rebuild {
                writes.extend(self.rebuild_writes(id, &excluded)?);
            }
        }
        self.write_durably(&mut writer, &writes)
    }

    /// The writes that replace an inspection's record by the merge of its
    /// operations minus `excluded`. Without its creation, the inspection goes.
    fn rebuild_writes(&self, id: InspectionId, excluded: &BTreeSet<OpId>) -> Result<Vec<Write>> {
        let ops = self
            .tree(T::ByInspection)
            .scan_prefix(id.as_bytes())
            .values()
            .map(|v| Ok(from_cbor::<Operation>("operation", &v?)?))
            .collect::<Result<Vec<_>>>()?;
        let before: Option<InspectionRecord> = self.get(T::Inspections, "inspection", id.as_bytes())?;
        let create = ops.iter().find_map(|o| match &o.payload {
            Payload::CreateInspection(i) if !excluded.contains(&o.id) => Some(i.clone()),
            _ => None,
        });
        let Some(inspection) = create else {
            let mut writes = vec![Write::delete(T::Inspections, id.as_bytes().to_vec())];
            if let Some(b) = before {
                writes.push(Write::delete(T::ByStatus, Key::status(b.inspection.status, id)));
                writes.push(Write::delete(
                    T::ByFacility,
                    Key::facility(b.inspection.facility, id),
                ));
            }
            return Ok(writes);
        };
        let mut record = InspectionRecord::new(inspection);
        for op in ops.iter().filter(|o| !excluded.contains(&o.id)) {
            record.merge(op);
        }
        record_writes(before.as_ref(), &record)
    }

    /// Applies a page pulled from the server and moves the cursor, in one
    /// durable step. Already applied operations are skipped, so a repeated
    /// or overlapping pull changes nothing. Returns how many were new.
    pub fn apply_pulled(&self, page: &PullResponse) -> Result<usize> {
        let mut writer = self.lock_writer()?;
        let mut writes = Vec::new();
        // Records touched in this page, with their state before it.
        let mut records: BTreeMap<InspectionId, (Option<InspectionRecord>, InspectionRecord)> =
            BTreeMap::new();
        let mut seen: BTreeSet<OpId> = BTreeSet::new();
        let mut applied = 0;
        let identity = self.identity()?;
        let mut rewind = false;
        let mut new_units = None;
        for entry in &page.entries {
            let op = &entry.op;
            if self.tree(T::Applied).contains_key(op.id.as_bytes())? || !seen.insert(op.id) {
                continue;
            }
            writes.push(Write::put(
                T::Applied,
                op.id.as_bytes().to_vec(),
                entry.server_seq.to_be_bytes().to_vec(),
            ));
            if op.device == self.device {
                // Our own operation, already in our state: it is no longer pending.
                writes.push(Write::delete(T::Pending, op.seq.to_be_bytes()));
                continue;
            }
            applied += 1;
            let bytes = to_cbor("operation", op)?;
            match &op.payload {
                Payload::PutFacility(f) => writes.push(Write::put(
                    T::Facilities,
                    f.id.as_bytes().to_vec(),
                    to_cbor("facility", f)?,
                )),
                Payload::PutInspector(i) => writes.push(Write::put(
                    T::Inspectors,
                    i.id.as_bytes().to_vec(),
                    to_cbor("inspector", i)?,
                )),
                Payload::PutDelegation(d) => {
                    // Joining a delegation late: the server sent its earlier
                    // operations to members only, and this device's cursor is
                    // past them. Pull again from the start (what was applied
                    // is skipped) so that nothing of the delegation is missing.
                    if let Some(me) = identity {
                        let before: Option<crate::people::Delegation> =
                            self.get(T::Delegations, "delegation", d.id.as_bytes())?;
                        let was_member = before.is_some_and(|b| b.role_of(me).is_some());
                        if d.role_of(me).is_some() && !was_member {
                            rewind = true;
                        }
                    }
                    writes.push(Write::put(
                        T::Delegations,
                        d.id.as_bytes().to_vec(),
                        to_cbor("delegation", d)?,
                    ))
                }
                Payload::PublishTemplate(t) => {
                    let key = keys::template(&t.key());
                    if self.tree(T::Templates).get(&key)?.is_none() {
                        writes.push(Write::put(T::Templates, key, to_cbor("template", t)?));
                    }
                }
                Payload::PublishAdminUnits { units } => {
                    // Checked here too: a list this device cannot use would
                    // otherwise surface later as refused addresses.
                    new_units = Some(AdminUnits::with_agency(units.clone())?);
                    writes.push(Write::put(
                        T::Meta,
                        keys::META_AGENCY_UNITS,
                        to_cbor("administrative units", units)?,
                    ));
                }
                Payload::CertifyDevice(cert) => {
                    let body: CertificateBody = from_cbor("certificate", &cert.body)?;
                    writes.push(Write::put(
                        T::Certificates,
                        body.device.as_bytes().to_vec(),
                        to_cbor("certificate", cert)?,
                    ));
                }
                Payload::RevokeDevice { device } => {
                    writes.push(Write::put(T::Revoked, device.as_bytes().to_vec(), Vec::new()))
                }
                Payload::CreateInspection(i) => {
                    writes.push(Write::put(T::ByInspection, Key::op_of(i.id, op.id), bytes));
                    if let std::collections::btree_map::Entry::Vacant(slot) = records.entry(i.id) {
                        let before: Option<InspectionRecord> =
                            self.get(T::Inspections, "inspection", i.id.as_bytes())?;
                        let record = before.clone().unwrap_or_else(|| InspectionRecord::new(i.clone()));
                        slot.insert((before, record));
                    }
                }
                p => {
                    let Some(id) = p.inspection() else { continue };
                    writes.push(Write::put(T::ByInspection, Key::op_of(id, op.id), bytes));
                    let (_, record) = match records.entry(id) {
                        std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::btree_map::Entry::Vacant(slot) => {
                            let before: InspectionRecord = self
                                .get(T::Inspections, "inspection", id.as_bytes())?
                                .ok_or_else(|| Error::NotFound {
                                    kind: "inspection",
                                    id: id.to_string(),
                                })?;
                            slot.insert((Some(before.clone()), before))
                        }
                    };
                    record.merge(op);
                }
            }
        }
        for (before, record) in records.values() {
            writes.extend(record_writes(before.as_ref(), record)?);
        }
        let cursor = if rewind { 0 } else { page.next };
        writes.push(Write::put(
            T::Meta,
            keys::META_CURSOR,
            cursor.to_be_bytes().to_vec(),
        ));
        self.write_durably(&mut writer, &writes)?;
        if let Some(units) = new_units {
            self.set_admin_units(units);
        }
        Ok(applied)
    }

    /// Keeps what enrolment returned; the enrolled inspector becomes the device's identity.
    pub fn save_enrolment(&self, enrolment: &Enrolment) -> Result<()> {
        let mut writer = self.lock_writer()?;
        let i = &enrolment.inspector;
        let writes = [
            Write::put(T::Meta, keys::META_ENROLMENT, to_cbor("enrolment", enrolment)?),
            Write::put(T::Inspectors, i.id.as_bytes().to_vec(), to_cbor("inspector", i)?),
            Write::put(T::Meta, keys::META_IDENTITY, i.id.as_bytes().to_vec()),
        ];
        self.write_durably(&mut writer, &writes)
    }

    pub fn enrolment(&self) -> Result<Option<Enrolment>> {
        self.get(T::Meta, "enrolment", keys::META_ENROLMENT)
    }

    /// Certified device keys known to this device, for verifying signatures offline.
    pub fn certificates(&self) -> Result<Vec<Certificate>> {
        self.values(T::Certificates, "certificate")
    }

    pub fn is_revoked(&self, device: DeviceId) -> Result<bool> {
        Ok(self.tree(T::Revoked).contains_key(device.as_bytes())?)
    }
}
