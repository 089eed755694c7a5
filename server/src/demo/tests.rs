use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, Utc};
use kiemtra_core::access_code::AccessCode;
use kiemtra_core::accident::Severity;
use kiemtra_core::admin_units::AdminUnits;
use kiemtra_core::answer::AnswerValue;
use kiemtra_core::codec::from_cbor;
use kiemtra_core::facility::{Facility, FacilityKind};
use kiemtra_core::identity::fingerprint;
use kiemtra_core::ids::{DeviceId, FacilityId};
use kiemtra_core::inspection::{InspectionKind, Status};
use kiemtra_core::ops::Operation;
use kiemtra_core::record::{Context, InspectionRecord};
use kiemtra_core::sync::wire::CertificateBody;
use kiemtra_core::violation::ViolationStatus;

use super::{seed, CODES_FILE};
use crate::db::{Read, ServerDb, TypedWrites};
use crate::storage::Storage;
use crate::writer::{open_dir, Writer};

struct Seeded {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    db: Arc<ServerDb>,
    log: Arc<dyn Storage>,
    writer: Writer,
}

fn seeded() -> Seeded {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let opened = open_dir(&path, 16 * 1024 * 1024).unwrap();
    let log = opened.store.clone();
    let mut writer = Writer::new(opened.store.clone(), opened.key).unwrap();
    assert!(seed(&mut writer, &path).unwrap());
    writer.commit().unwrap();
    Seeded {
        _dir: dir,
        path,
        db: Arc::new(ServerDb::on(log.clone()).unwrap()),
        log,
        writer,
    }
}

fn facilities(db: &ServerDb) -> HashMap<FacilityId, Facility> {
    db.facilities().unwrap().into_iter().map(|f| (f.id, f)).collect()
}

fn violations(db: &ServerDb, r: &InspectionRecord, f: &Facility) -> Vec<kiemtra_core::violation::Violation> {
    let t = db.template(&r.inspection.template).unwrap().unwrap();
    let ctx = Context {
        template: &t,
        facility_kind: f.kind,
        trusted_keys: None,
    };
    r.violations(&ctx)
}

fn district(f: &Facility, date: NaiveDate) -> String {
    AdminUnits::builtin()
        .as_of(&f.address.unit, date)
        .unwrap()
        .code
        .clone()
}

fn ratio(r: &InspectionRecord, item: &str) -> Option<(u64, u64)> {
    match r.answers.get(item).and_then(|a| a.value()).map(|e| &e.value) {
        Some(AnswerValue::Ratio {
            numerator,
            denominator,
        }) => Some((*numerator, *denominator)),
        _ => None,
    }
}

#[test]
fn seeds_a_demo_data_set_once() {
    let mut s = seeded();
    let db = &s.db;
    let fac = facilities(db);
    assert_eq!(fac.len(), 14);
    let districts: BTreeSet<_> = fac.values().map(|f| f.address.unit.clone()).collect();
    assert_eq!(districts.len(), 13);
    let high_risk_reachable: Vec<_> = fac
        .values()
        .filter(|f| f.high_risk && matches!(f.kind, FacilityKind::CraftVillage | FacilityKind::Cooperative))
        .collect();
    assert_eq!(high_risk_reachable.len(), 6);
    assert!(fac
        .values()
        .filter(|f| f.kind == FacilityKind::Enterprise)
        .all(|f| f.tax_code.is_some()));
    assert_eq!(db.inspectors().unwrap().len(), 3);
    assert_eq!(db.delegations().unwrap().len(), 4);
    // One staff account per role but the inspector's, whose passwords (in
    // the accounts file only) open them.
    let listed: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(s.path.join(super::accounts::ACCOUNTS_FILE)).unwrap())
            .unwrap();
    assert_eq!(listed.len(), 3);
    for a in &listed {
        let account = db.account(a["login"].as_str().unwrap()).unwrap().unwrap();
        let password = a["password"].as_str().unwrap();
        assert!(crate::accounts::verify_password(
            Some(&account.password_hash),
            password
        ));
        assert_eq!(serde_json::to_value(account.role).unwrap(), a["role"]);
    }
    assert_eq!(db.templates().unwrap().len(), 2);
    assert_eq!(db.devices().unwrap().len(), 3);

    // Every device operation made it into the log, numbered 1, 2, 3… per device.
    let server_device = s.writer.server_device();
    let entries = s.log.log_since(0, usize::MAX).unwrap();
    let mut seqs: BTreeMap<DeviceId, Vec<u64>> = BTreeMap::new();
    for e in &entries {
        let op: Operation = from_cbor("operation", &e.bytes).unwrap();
        if op.device != server_device {
            assert!(op.author.is_some());
            assert!(op.at < "2025-07-01T00:00:00Z".parse::<chrono::DateTime<Utc>>().unwrap());
            seqs.entry(op.device).or_default().push(op.seq);
        }
    }
    assert_eq!(seqs.len(), 3);
    for list in seqs.values() {
        assert_eq!(*list, (1..=list.len() as u64).collect::<Vec<_>>());
    }

    // Inspections by status, kind and year.
    let records = db.records().unwrap();
    assert_eq!(records.len(), 21);
    let count = |f: &dyn Fn(&InspectionRecord) -> bool| records.iter().filter(|r| f(r)).count();
    assert_eq!(count(&|r| r.inspection.status == Status::Sealed), 18);
    assert_eq!(count(&|r| r.inspection.status == Status::FindingsClosed), 1);
    assert_eq!(count(&|r| r.inspection.status == Status::InProgress), 2);
    assert_eq!(count(&|r| r.inspection.kind == InspectionKind::Inspection), 13);
    assert_eq!(count(&|r| r.inspection.kind == InspectionKind::Outreach), 6);
    assert_eq!(
        count(&|r| r.inspection.kind == InspectionKind::AccidentInvestigation),
        2
    );
    for (year, n) in [(2023, 5), (2024, 9), (2025, 7)] {
        assert_eq!(count(&|r| r.inspection.date().year() == year), n, "{year}");
    }
    let awaiting = records
        .iter()
        .find(|r| r.inspection.status == Status::FindingsClosed)
        .unwrap();
    let minutes = awaiting.current_minutes().unwrap();
    assert!(minutes.signatures.is_empty() && minutes.access_code_hash.is_some());

    // Violations of sealed inspections: 35 in routine inspections, 5 in investigations.
    let mut per_kind: BTreeMap<InspectionKind, usize> = BTreeMap::new();
    let mut sections = BTreeSet::new();
    let mut heavy = BTreeSet::new();
    for r in records.iter().filter(|r| r.inspection.status == Status::Sealed) {
        let f = &fac[&r.inspection.facility];
        let v = violations(db, r, f);
        *per_kind.entry(r.inspection.kind).or_default() += v.len();
        if r.inspection.kind == InspectionKind::Inspection {
            sections.extend(v.iter().map(|v| v.section.clone()));
            if v.len() >= 3 && f.kind == FacilityKind::Enterprise {
                heavy.insert(f.id);
            }
        }
    }
    assert_eq!(per_kind.get(&InspectionKind::Inspection), Some(&35));
    assert_eq!(per_kind.get(&InspectionKind::AccidentInvestigation), Some(&5));
    assert_eq!(per_kind.get(&InspectionKind::Outreach), Some(&0));
    assert_eq!(
        sections.into_iter().collect::<Vec<_>>(),
        ["B", "C", "D", "E", "F", "G"]
    );
    assert!(heavy.len() >= 2);

    // One inspection with remediation reported, one violation still open past its deadline.
    let today = Utc::now().date_naive();
    let reported: Vec<_> = records.iter().filter(|r| !r.remediations.is_empty()).collect();
    assert_eq!(reported.len(), 1);
    let r = reported[0];
    let v = violations(db, r, &fac[&r.inspection.facility]);
    let statuses: BTreeMap<_, _> = v.iter().map(|v| (v.item.as_str(), v.status)).collect();
    assert_eq!(statuses["D1"], ViolationStatus::Remediated);
    assert_eq!(statuses["G3"], ViolationStatus::Remediated);
    assert_eq!(statuses["C3"], ViolationStatus::Open);
    assert!(v
        .iter()
        .any(|v| v.status == ViolationStatus::Open && v.deadline < today));

    // Target 4: trained / workers in strict jobs (C3), sealed routine
    // inspections, per year and district (the unit valid on the date).
    let mut c3: BTreeMap<(i32, String), (u64, u64)> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.inspection.status == Status::Sealed && r.inspection.template.id == "osh-general")
    {
        if let Some((n, d)) = ratio(r, "C3") {
            let date = r.inspection.date();
            let e = c3
                .entry((date.year(), district(&fac[&r.inspection.facility], date)))
                .or_default();
            e.0 += n;
            e.1 += d;
        }
    }
    let expected: BTreeMap<(i32, String), (u64, u64)> = [
        (2023, "hp.hong-bang", 84, 120),
        (2023, "hp.ngo-quyen", 36, 45),
        (2023, "hp.thuy-nguyen", 2, 3),
        (2023, "hp.hai-an", 50, 62),
        (2024, "hp.le-chan", 26, 28),
        (2024, "hp.thuy-nguyen", 27, 36),
        (2024, "hp.duong-kinh", 22, 22),
        (2024, "hp.vinh-bao", 9, 12),
        (2024, "hp.an-duong", 2, 3),
        (2025, "hp.ngo-quyen", 46, 48),
    ]
    .into_iter()
    .map(|(y, u, n, d)| ((y, u.to_string()), (n, d)))
    .collect();
    assert_eq!(c3, expected);
    let year_sum = |y: i32| {
        c3.iter()
            .filter(|((year, _), _)| *year == y)
            .fold((0, 0), |(n, d), (_, (a, b))| (n + a, d + b))
    };
    assert_eq!(year_sum(2023), (172, 230));
    assert_eq!(year_sum(2024), (86, 101));
    assert_eq!(year_sum(2025), (46, 48));

    // Target 6: high-risk craft villages and cooperatives reached, per year and district.
    let mut reached: BTreeMap<(i32, String), BTreeSet<FacilityId>> = BTreeMap::new();
    for r in records.iter().filter(|r| {
        r.inspection.status >= Status::Sealed
            && matches!(
                r.inspection.kind,
                InspectionKind::Inspection | InspectionKind::Outreach
            )
    }) {
        let f = &fac[&r.inspection.facility];
        if f.high_risk && matches!(f.kind, FacilityKind::CraftVillage | FacilityKind::Cooperative) {
            let date = r.inspection.date();
            reached
                .entry((date.year(), district(f, date)))
                .or_default()
                .insert(f.id);
        }
    }
    let per_year = |y: i32| -> usize {
        reached
            .iter()
            .filter(|((year, _), _)| *year == y)
            .map(|(_, s)| s.len())
            .sum()
    };
    assert_eq!((per_year(2023), per_year(2024), per_year(2025)), (2, 4, 3));
    let d = |y: i32, u: &str| reached.get(&(y, u.to_string())).map_or(0, |s| s.len());
    assert_eq!(d(2024, "hp.thuy-nguyen"), 1);
    assert_eq!(d(2024, "hp.vinh-bao"), 1);
    assert_eq!(d(2024, "hp.do-son"), 1);
    assert_eq!(d(2024, "hp.tien-lang"), 1);
    assert_eq!(d(2025, "hp.thuy-nguyen.2025"), 0);
    assert_eq!(d(2025, "hp.kien-an"), 1);

    // Accidents and target 8.
    let accidents = db.accidents().unwrap();
    assert_eq!(accidents.len(), 8);
    let sev = |s: Severity| accidents.iter().filter(|a| a.severity() == s).count();
    assert_eq!(
        (sev(Severity::Fatal), sev(Severity::Serious), sev(Severity::Light)),
        (3, 3, 2)
    );
    let without: Vec<_> = accidents.iter().filter(|a| a.without_contract).collect();
    assert_eq!(without.len(), 2);
    assert!(without.iter().all(|a| a.facility.is_none()));
    assert_ne!(without[0].unit, without[1].unit);
    assert!(accidents
        .iter()
        .all(|a| (a.declared_at - a.occurred_at).num_hours() < 24 && a.declared_at > a.occurred_at));
    for a in accidents.iter().filter(|a| a.severity() == Severity::Fatal) {
        let investigated = records.iter().any(|r| {
            r.inspection.accident == Some(a.id)
                && r.inspection.status == Status::Sealed
                && r.inspection.kind == InspectionKind::AccidentInvestigation
        });
        assert_eq!(investigated, a.date().year() == 2024, "{}", a.place);
    }

    // The codes file: every sealed inspection, each code granting its inspection.
    let file = std::fs::read(s.path.join(CODES_FILE)).unwrap();
    let codes: Vec<serde_json::Value> = serde_json::from_slice(&file).unwrap();
    assert_eq!(codes.len(), 18);
    let devices = db.devices().unwrap();
    for c in &codes {
        let code = AccessCode::parse(c["code"].as_str().unwrap()).unwrap();
        assert_eq!(code.grouped(), c["code"].as_str().unwrap());
        let grant = db.portal_grant(&code.hash()).unwrap().unwrap();
        assert_eq!(grant.inspection.to_string(), c["inspection"].as_str().unwrap());
        let r = db.record(grant.inspection).unwrap().unwrap();
        assert_eq!(r.inspection.status, Status::Sealed);
        let f = &fac[&grant.facility];
        assert_eq!(c["facility"].as_str().unwrap(), f.name);
        assert_eq!(c["tax_code"].as_str(), f.tax_code.as_ref().map(|t| t.as_str()));
        // Signed by every member with their certified demo key.
        let signed = r.current_minutes().unwrap().signed().unwrap();
        assert!(signed.is_sealed());
        for m in &signed.document().members {
            let sig = signed.signature_of(&m.inspector_id).unwrap();
            assert_eq!(
                m.key_fingerprint.as_deref(),
                Some(fingerprint(&sig.public_key.0).as_str())
            );
            assert!(devices.iter().any(|d| {
                let body: CertificateBody = from_cbor("certificate", &d.certificate.body).unwrap();
                body.inspector.to_string() == m.inspector_id && body.public_key == sig.public_key.0
            }));
        }
    }

    // Seeding again changes nothing.
    let head = s.log.log_head().unwrap();
    let devices_before = db.devices().unwrap().len();
    assert!(!seed(&mut s.writer, &s.path).unwrap());
    s.writer.commit().unwrap();
    assert_eq!(s.log.log_head().unwrap(), head);
    assert_eq!(db.records().unwrap(), records);
    assert_eq!(db.accidents().unwrap().len(), 8);
    assert_eq!(db.devices().unwrap().len(), devices_before);
    assert_eq!(std::fs::read(s.path.join(CODES_FILE)).unwrap(), file);
}

#[test]
fn demo_text_is_nfc() {
    let sources = [
        include_str!("reference.rs"),
        include_str!("accidents.rs"),
        include_str!("plan.rs"),
        include_str!("field.rs"),
    ];
    for s in sources {
        assert_eq!(kiemtra_core::text::normalise(s), s.trim());
    }
}

/// A seeding cut short (a crash, a kill) is not seeded again on top at the
/// next start: that start says what happened instead.
#[test]
fn an_interrupted_seeding_is_reported_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let opened = open_dir(dir.path(), 16 * 1024 * 1024).unwrap();
    let mut writer = Writer::new(opened.store.clone(), opened.key).unwrap();
    writer.changes().set_flag(super::STARTED);
    writer.commit().unwrap();
    let err = seed(&mut writer, dir.path()).unwrap_err();
    assert!(err.to_string().contains("interrupted"), "{err}");
    let db = ServerDb::on(opened.store).unwrap();
    assert!(db.facilities().unwrap().is_empty());
    assert!(db.templates().unwrap().is_empty());
}
