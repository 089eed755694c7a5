//! The invariant "the server's records are the merge of its log": every
//! inspection record is what merging the log's operations for it gives, and
//! every portal grant, facility, inspector, delegation and template is what
//! the log last said of it. Commits keep it by construction (the operation
//! and its effects are one changeset); this check proves it after a crash
//! and at every start, and rebuilds the tables from the log where it fails.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use kiemtra_core::codec::from_cbor;
use kiemtra_core::ids::InspectionId;
use kiemtra_core::ops::{Operation, Payload};
use kiemtra_core::record::InspectionRecord;

use crate::db::{PortalGrant, TypedWrites};
use crate::error::ServerError;
use crate::storage::{Changeset, Storage, Table};

/// Log entries read per page.
const PAGE: usize = 10_000;

/// What the tables should hold, as the log says.
struct Expected {
    records: HashMap<InspectionId, InspectionRecord>,
    /// Raw table values the log determines, by table and key.
    values: BTreeMap<(Table, Vec<u8>), Vec<u8>>,
    ops: u64,
    /// Operations naming an inspection the log never created.
    orphans: u64,
}

/// What a check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub ops: u64,
    pub inspections: usize,
    /// Records that differ from the merge of their operations, or are missing.
    pub records_differ: Vec<InspectionId>,
    /// Records with no creation in the log.
    pub records_extra: Vec<InspectionId>,
    /// Other values (grants, facilities, people, templates) that differ from the log.
    pub values_differ: usize,
    pub orphans: u64,
    pub took: Duration,
}

impl Report {
    pub fn holds(&self) -> bool {
        self.records_differ.is_empty() && self.records_extra.is_empty() && self.values_differ == 0
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} operations, {} inspections checked in {} ms: ",
            self.ops,
            self.inspections,
            self.took.as_millis()
        )?;
        if self.holds() {
            write!(f, "the records are the merge of the log")
        } else {
            write!(
                f,
                "{} records differ from the log, {} records are not in it, {} other values differ",
                self.records_differ.len(),
                self.records_extra.len(),
                self.values_differ
            )
        }
    }
}

fn replay(store: &dyn Storage) -> Result<Expected, ServerError> {
    let mut e = Expected {
        records: HashMap::new(),
        values: BTreeMap::new(),
        ops: 0,
        orphans: 0,
    };
    let head = store.log_head()?;
    let mut since = 0;
    while since < head {
        let page = store.log_since(since, PAGE)?;
        let Some(last) = page.last() else { break };
        since = last.server_seq;
        for entry in page {
            let op: Operation = from_cbor("operation", &entry.bytes)?;
            e.ops += 1;
            apply(&mut e, &op)?;
        }
    }
    Ok(e)
}

fn apply(e: &mut Expected, op: &Operation) -> Result<(), ServerError> {
    let mut value = |table: Table, key: &[u8], v: Vec<u8>| {
        e.values.insert((table, key.to_vec()), v);
    };
    let mut c = Changeset::new();
    match &op.payload {
        Payload::CreateInspection(i) => {
            e.records.insert(i.id, InspectionRecord::new(i.clone()));
            return Ok(());
        }
        Payload::PutFacility(f) => c.put_facility(f)?,
        Payload::PutInspector(i) => c.put_inspector(i)?,
        Payload::PutDelegation(d) => c.put_delegation(d)?,
        Payload::PublishTemplate(t) => c.put_template(t)?,
        _ => {}
    }
    let (writes, _) = c.into_parts();
    for (table, key, v) in writes {
        if let Some(v) = v {
            value(table, &key, v);
        }
    }
    if let Some(id) = op.payload.inspection() {
        let Some(record) = e.records.get_mut(&id) else {
            e.orphans += 1;
            return Ok(());
        };
        record.merge(op);
        // Older logs carry the clear code: it decodes as its hash, the key
        // the grant was stored under then too.
        if let Payload::DrawUpMinutes {
            access_code_hash: Some(code),
            ..
        } = &op.payload
        {
            let mut c = Changeset::new();
            let grant = PortalGrant {
                inspection: id,
                facility: record.inspection.facility,
            };
            c.put_portal_grant(&code.0, &grant)?;
            for (table, key, v) in c.into_parts().0 {
                if let Some(v) = v {
                    e.values.insert((table, key), v);
                }
            }
        }
    }
    Ok(())
}

/// Compares the tables with the log; `repair` collects the writes that make them agree.
fn compare(
    store: &dyn Storage,
    expected: &Expected,
    mut repair: Option<&mut Changeset>,
) -> Result<Report, ServerError> {
    let mut report = Report {
        ops: expected.ops,
        inspections: expected.records.len(),
        orphans: expected.orphans,
        ..Report::default()
    };
    let mut stored_ids = std::collections::HashSet::new();
    for (key, bytes) in store.scan(Table::Records)? {
        let stored: InspectionRecord = from_cbor("inspection record", &bytes)?;
        let id = stored.inspection.id;
        stored_ids.insert(id);
        if id.as_bytes().as_slice() != key.as_slice() {
            return Err(ServerError::Storage(format!(
                "record {id} is stored under another key"
            )));
        }
        match expected.records.get(&id) {
            Some(r) if *r == stored => {}
            Some(r) => {
                report.records_differ.push(id);
                if let Some(c) = repair.as_deref_mut() {
                    c.put_record(r)?;
                }
            }
            None => {
                report.records_extra.push(id);
                if let Some(c) = repair.as_deref_mut() {
                    c.delete(Table::Records, key);
                }
            }
        }
    }
    for (id, r) in &expected.records {
        if !stored_ids.contains(id) {
            report.records_differ.push(*id);
            if let Some(c) = repair.as_deref_mut() {
                c.put_record(r)?;
            }
        }
    }
    for ((table, key), v) in &expected.values {
        if store.get(*table, key)?.as_deref() != Some(v.as_slice()) {
            report.values_differ += 1;
            if let Some(c) = repair.as_deref_mut() {
                c.put(*table, key.clone(), v.clone());
            }
        }
    }
    Ok(report)
}

/// Checks the invariant without changing anything.
pub fn check(store: &dyn Storage) -> Result<Report, ServerError> {
    let started = Instant::now();
    let expected = replay(store)?;
    let mut report = compare(store, &expected, None)?;
    report.took = started.elapsed();
    Ok(report)
}

/// Checks the invariant and, where it fails, rewrites the tables from the
/// log in one commit. Returns what the check found (before the repair).
pub fn check_and_repair(store: &dyn Storage) -> Result<Report, ServerError> {
    let started = Instant::now();
    let expected = replay(store)?;
    let mut fix = Changeset::new();
    let mut report = compare(store, &expected, Some(&mut fix))?;
    if !report.holds() {
        match store.begin_turn()? {
            // Another instance may have committed since: check again with
            // every other commit waiting, and repair from that.
            Some(turn) => {
                let expected = replay(store)?;
                let mut fix = Changeset::new();
                report = compare(store, &expected, Some(&mut fix))?;
                // Rewritten outside the writer: the figures are computed afresh.
                crate::figures::invalidate(&mut fix);
                turn.commit(fix)?;
            }
            None => {
                crate::figures::invalidate(&mut fix);
                store.commit(fix)?;
            }
        }
    }
    report.took = started.elapsed();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kiemtra_core::codec::to_cbor;

    use super::*;
    use crate::db::{Read, ServerDb};
    use crate::server_key::ServerKey;
    use crate::storage::MemoryStorage;
    use crate::writer::Writer;

    /// The demo data set (enrolments, sealed minutes with access codes,
    /// remediation reports) written through the writer, in memory.
    fn seeded() -> (Arc<dyn Storage>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let mut w = Writer::new(store.clone(), Arc::new(ServerKey::generate().unwrap())).unwrap();
        assert!(crate::demo::seed(&mut w, dir.path()).unwrap());
        w.commit().unwrap();
        (store, dir)
    }

    #[test]
    fn the_demo_data_is_the_merge_of_its_log() {
        let (store, _dir) = seeded();
        let report = check(&*store).unwrap();
        assert!(report.holds(), "{report}");
        assert!(report.ops > 1000 && report.inspections >= 21, "{report}");
        assert_eq!(report.orphans, 0);
    }

    /// Tables that disagree with the log are found, and rebuilt from it in
    /// one commit: a record changed, a record deleted, a record the log never
    /// created, a grant and a facility changed.
    #[test]
    fn what_differs_from_the_log_is_found_and_rebuilt() {
        let (store, _dir) = seeded();
        let db = ServerDb::on(store.clone()).unwrap();
        let before: Vec<(Vec<u8>, Vec<u8>)> = store.scan(Table::Records).unwrap();
        let grants_before = store.scan(Table::PortalGrants).unwrap();
        let facilities_before = store.scan(Table::Facilities).unwrap();
        assert!(!grants_before.is_empty());

        let mut records = db.records().unwrap();
        let mut tamper = Changeset::new();
        let mut changed = records.remove(0);
        changed.answers.clear();
        tamper.put_record(&changed).unwrap();
        let deleted = records.remove(0);
        tamper.delete(Table::Records, deleted.inspection.id.as_bytes().to_vec());
        let mut stray = records.remove(0);
        stray.inspection.id = InspectionId::new();
        tamper.put_record(&stray).unwrap();
        let (grant_key, grant) = &grants_before[0];
        let mut g: PortalGrant = from_cbor("grant", grant).unwrap();
        g.inspection = stray.inspection.id;
        tamper.put(
            Table::PortalGrants,
            grant_key.clone(),
            to_cbor("grant", &g).unwrap(),
        );
        let mut f = db.facilities().unwrap().remove(0);
        f.name = "Công ty giả mạo".into();
        tamper.put_facility(&f).unwrap();
        store.commit(tamper).unwrap();

        let report = check(&*store).unwrap();
        assert!(!report.holds());
        let mut differ = report.records_differ.clone();
        differ.sort();
        let mut expected = vec![changed.inspection.id, deleted.inspection.id];
        expected.sort();
        assert_eq!(differ, expected, "{report}");
        assert_eq!(report.records_extra, vec![stray.inspection.id]);
        assert_eq!(report.values_differ, 2, "{report}");

        let repaired = check_and_repair(&*store).unwrap();
        assert_eq!(repaired.records_differ.len(), 2);
        assert!(check(&*store).unwrap().holds());
        assert_eq!(store.scan(Table::Records).unwrap(), before);
        assert_eq!(store.scan(Table::PortalGrants).unwrap(), grants_before);
        assert_eq!(store.scan(Table::Facilities).unwrap(), facilities_before);
    }
}
