//! The kept figures against a full recomputation, and the pages' figures
//! read from them against the overview's computation from every record.

use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use kiemtra_core::accident::{Declarant, NewAccident};
use kiemtra_core::facility::FacilityKind;
use kiemtra_core::inspection::{vietnam_offset, Status};

use super::read::Reader;
use super::*;
use crate::db::{Read, ServerDb, TypedWrites};
use crate::overview::data::Data;
use crate::overview::{decree39, stats, targets};
use crate::server_key::ServerKey;
use crate::storage::MemoryStorage;
use crate::writer::{current_units, Writer};

/// A small deterministic generator (xorshift64*), so that a failure repeats.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeded() -> (Arc<dyn Storage>, Writer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    let mut w = Writer::new(store.clone(), Arc::new(ServerKey::generate().unwrap())).unwrap();
    assert!(crate::demo::seed(&mut w, dir.path()).unwrap());
    w.commit().unwrap();
    (store, w, dir)
}

/// What the commits kept is what computing from everything gives, field by field.
fn assert_kept_equal_recomputed(store: &Arc<dyn Storage>, when: &str) {
    let db = ServerDb::on(store.clone()).unwrap();
    let kept = stored(&**store).unwrap();
    let computed = recompute(&db).unwrap();
    assert_eq!(
        kept.facilities.len(),
        computed.facilities.len(),
        "{when}: facilities"
    );
    for (id, f) in &computed.facilities {
        assert_eq!(kept.facilities.get(id), Some(f), "{when}: facility {id}");
    }
    assert_eq!(kept.accidents, computed.accidents, "{when}: accidents");
    let names: Vec<_> = computed.shards.keys().collect();
    assert_eq!(kept.shards.keys().collect::<Vec<_>>(), names, "{when}: shards");
    for (name, cells) in &computed.shards {
        assert_eq!(kept.shards.get(name), Some(cells), "{when}: shard {name}");
    }
    assert!(!computed.shards.is_empty());
    assert_eq!(verify(&**store), Ok(()), "{when}");
}

/// The figures the pages read from the aggregates are those the overview
/// computes from every record (`overview::stats`, `targets`, `decree39`).
fn assert_pages_agree(store: &Arc<dyn Storage>, when: &str) {
    let db = ServerDb::on(store.clone()).unwrap();
    let units = current_units(&db).unwrap();
    let mut d = Data::load(&db, units.clone()).unwrap();
    let today = d.today;
    let mut r = Reader::new(&db, &units);

    let years = r.years().unwrap();
    assert_eq!(years, crate::overview::years(&d), "{when}: years");
    let default = d
        .records
        .iter()
        .map(|r| r.inspection.date().year())
        .filter(|y| *y <= 2025)
        .max()
        .unwrap_or(2025);
    assert_eq!(r.default_year().unwrap(), default, "{when}: default year");

    let t = |f: &targets::TargetFigure| {
        (
            f.target,
            f.unit.clone(),
            f.year,
            f.numerator,
            f.denominator,
            f.goal_per_mille,
            f.record_count,
        )
    };
    let expected: Vec<_> = targets::compute(&d).iter().map(t).collect();
    assert!(expected.iter().all(|e| e.6 > 0));
    assert_eq!(
        r.targets().unwrap().iter().map(t).collect::<Vec<_>>(),
        expected,
        "{when}: targets"
    );

    let all = stats::inspections_by_unit_month_kind(&d);
    let mut kinds: Vec<_> = all.iter().map(|c| c.kind).collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(r.kinds().unwrap(), kinds, "{when}: kinds");
    let fatal = |y: i32| {
        d.accidents
            .iter()
            .filter(|a| a.deaths > 0 && a.date().year() == y)
            .count() as u64
    };
    for year in years.iter().copied().chain([2031]) {
        let c = |c: &stats::InspectionCount| (c.unit.clone(), c.month.clone(), c.kind, c.count);
        let prefix = format!("{year}-");
        let expected: Vec<_> = all
            .iter()
            .filter(|x| x.month.starts_with(&prefix))
            .map(c)
            .collect();
        assert_eq!(
            r.inspections(year).unwrap().iter().map(c).collect::<Vec<_>>(),
            expected,
            "{when}: inspections {year}"
        );
        let u = |u: &stats::Uninspected| (u.unit.clone(), u.name.clone(), u.facility, u.kind);
        let mut expected: Vec<_> = stats::high_risk_not_inspected(&d, year).iter().map(u).collect();
        expected.sort();
        let got: Vec<_> = r.uninspected(year, today).unwrap().iter().map(u).collect();
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(sorted, expected, "{when}: uninspected {year}");
        assert!(got.windows(2).all(|w| (&w[0].0, &w[0].1) <= (&w[1].0, &w[1].1)));
        assert_eq!(r.fatal(year).unwrap(), fatal(year), "{when}: fatal {year}");
        for half in [1, 2] {
            let row = |x: &decree39::Decree39Row| {
                (
                    x.unit.clone(),
                    x.accidents,
                    x.fatal_accidents,
                    x.victims,
                    x.deaths,
                    x.seriously_injured,
                    x.lightly_injured,
                )
            };
            let expected: Vec<_> = decree39::report(&d, year, half).iter().map(row).collect();
            assert_eq!(
                r.decree39(year, half)
                    .unwrap()
                    .iter()
                    .map(row)
                    .collect::<Vec<_>>(),
                expected,
                "{when}: decree 39 {year}/{half}"
            );
        }
    }

    let s = |s: &stats::SectionCount| (s.template.clone(), s.section.clone(), s.title.clone(), s.count);
    let expected: Vec<_> = stats::violations_by_section(&d).iter().map(s).collect();
    assert!(!expected.is_empty());
    assert_eq!(
        r.sections().unwrap().iter().map(s).collect::<Vec<_>>(),
        expected,
        "{when}: sections"
    );
    let l = |l: &stats::LegalBasisCount| (l.instrument.clone(), l.article.clone(), l.count);
    let expected: Vec<_> = stats::violations_by_legal_basis(&d).iter().map(l).collect();
    assert_eq!(
        r.legal().unwrap().iter().map(l).collect::<Vec<_>>(),
        expected,
        "{when}: legal"
    );

    // Overdue as of today and as of a later day (more are past their deadline then).
    for day in [today, today + Duration::days(400)] {
        d.today = day;
        let o = |o: &stats::OverdueViolation| {
            (
                o.inspection,
                o.facility.clone(),
                o.unit.clone(),
                o.item.clone(),
                o.text.clone(),
                o.deadline,
                o.days_overdue,
                o.status,
            )
        };
        let expected: Vec<_> = stats::overdue_violations(&d).iter().map(o).collect();
        let got = r.overdue(day, usize::MAX).unwrap();
        assert_eq!(
            got.rows.iter().map(o).collect::<Vec<_>>(),
            expected,
            "{when}: overdue on {day}"
        );
        assert_eq!(got.total, expected.len());
        let open = expected.iter().filter(|x| x.7 == ViolationStatus::Open).count();
        let remediated = expected
            .iter()
            .filter(|x| x.7 == ViolationStatus::Remediated)
            .count();
        assert_eq!(
            (got.open, got.remediated),
            (open, remediated),
            "{when}: overdue counts on {day}"
        );
        let first = r.overdue(day, 3).unwrap();
        assert_eq!(first.rows.len(), expected.len().min(3));
        assert_eq!(first.total, expected.len());
    }
}

#[test]
fn the_demo_data_set_figures_equal_a_full_recomputation_and_the_pages_figures() {
    let (store, _w, _dir) = seeded();
    assert_kept_equal_recomputed(&store, "after the demo");
    assert_pages_agree(&store, "after the demo");
}

/// Random writes, in random groups, of what changes figures: records moved
/// through the lifecycle (their date moving when started), answers replaced
/// (violations and ratios appear and go), remediation reported and
/// verified, investigations linked, records added; facilities edited (kind,
/// unit, high-risk flag, name); accidents declared. After every commit the
/// kept figures equal a full recomputation; at the end, and after a restart,
/// the pages' figures too.
#[test]
fn random_writes_keep_the_figures_equal_to_a_full_recomputation() {
    let (store, mut w, _dir) = seeded();
    let mut rng = Rng::new(0x006b_6965_6d74_7261);
    let db = ServerDb::on(store.clone()).unwrap();
    let units: Vec<String> = {
        let mut u: Vec<String> = db
            .facilities()
            .unwrap()
            .iter()
            .map(|f| f.address.unit.clone())
            .collect();
        u.sort();
        u.dedup();
        u
    };
    let kinds = [
        FacilityKind::Enterprise,
        FacilityKind::Cooperative,
        FacilityKind::CraftVillage,
        FacilityKind::HouseholdBusiness,
        FacilityKind::Farm,
    ];
    let statuses = [
        Status::Draft,
        Status::InProgress,
        Status::FindingsClosed,
        Status::Sealed,
        Status::Delivered,
    ];
    for round in 0..40 {
        let writes = 1 + rng.below(6);
        for _ in 0..writes {
            let view = w.db();
            let records = view.records().unwrap();
            let facilities = view.facilities().unwrap();
            let accidents = view.accidents().unwrap();
            let mut r = records[rng.below(records.len())].clone();
            match rng.below(9) {
                0 | 1 => {
                    r.inspection.status = statuses[rng.below(statuses.len())];
                    r.inspection.started_at = if r.inspection.status == Status::Draft {
                        None
                    } else {
                        Some(Utc::now() - Duration::days(rng.below(1200) as i64))
                    };
                    w.changes().put_record(&r).unwrap();
                }
                2 => {
                    let same: Vec<_> = records
                        .iter()
                        .filter(|o| o.inspection.template == r.inspection.template)
                        .collect();
                    let other = same[rng.below(same.len())];
                    r.answers = other.answers.clone();
                    r.remediations = other.remediations.clone();
                    r.reviews = other.reviews.clone();
                    w.changes().put_record(&r).unwrap();
                }
                3 => {
                    let other = &records[rng.below(records.len())];
                    r.remediations = other.remediations.clone();
                    r.reviews = other.reviews.clone();
                    r.violation_edits = other.violation_edits.clone();
                    w.changes().put_record(&r).unwrap();
                }
                4 => {
                    r.inspection.accident = (!accidents.is_empty() && rng.below(3) > 0)
                        .then(|| accidents[rng.below(accidents.len())].id);
                    w.changes().put_record(&r).unwrap();
                }
                5 => {
                    r.inspection.id = kiemtra_core::ids::InspectionId::new();
                    r.inspection.facility = facilities[rng.below(facilities.len())].id;
                    w.changes().put_record(&r).unwrap();
                }
                6 | 7 => {
                    let mut f = facilities[rng.below(facilities.len())].clone();
                    match rng.below(4) {
                        0 => f.kind = kinds[rng.below(kinds.len())],
                        1 => f.address.unit = units[rng.below(units.len())].clone(),
                        2 => f.high_risk = !f.high_risk,
                        _ => f.name = format!("{} ({round})", f.name),
                    }
                    w.put_facility(&f).unwrap();
                }
                _ => {
                    let facility = (rng.below(2) == 0).then(|| facilities[rng.below(facilities.len())].id);
                    let when = (Utc::now() - Duration::days(rng.below(1100) as i64))
                        .with_timezone(&vietnam_offset())
                        .with_timezone(&Utc);
                    let new = NewAccident {
                        occurred_at: when,
                        place: "Xưởng".into(),
                        unit: units[rng.below(units.len())].clone(),
                        facility,
                        without_contract: facility.is_none(),
                        deaths: rng.below(3) as u32,
                        seriously_injured: rng.below(3) as u32,
                        lightly_injured: rng.below(4) as u32,
                        victims: Vec::new(),
                        account: "Ngã từ giàn giáo".into(),
                        needs_examination: false,
                    };
                    // A unit not valid on the date is refused: that write is skipped.
                    let _ = w.declare_accident(
                        new,
                        Declarant::Inspectorate {
                            person: "Thanh tra".into(),
                        },
                    );
                }
            }
        }
        w.commit().unwrap();
        assert_kept_equal_recomputed(&store, &format!("round {round}"));
    }
    assert_pages_agree(&store, "after random writes");

    // A restart keeps them (nothing recomputed), and so does a store whose
    // figures are missing (an earlier version's): computed once at start.
    drop(w);
    let w = Writer::new(store.clone(), Arc::new(ServerKey::generate().unwrap())).unwrap();
    assert_kept_equal_recomputed(&store, "after a restart");
    drop(w);
    let mut wipe = Changeset::new();
    for (k, _) in store.scan(Table::Figures).unwrap() {
        wipe.delete(Table::Figures, k);
    }
    store.commit(wipe).unwrap();
    let mut computed = Changeset::new();
    assert!(ensure(&*store, &mut computed).unwrap(), "no figures: computed");
    // The writer's start commits them (in its first turn).
    let w = Writer::new(store.clone(), Arc::new(ServerKey::generate().unwrap())).unwrap();
    drop(w);
    assert!(!ensure(&*store, &mut Changeset::new()).unwrap(), "there by now");
    assert_kept_equal_recomputed(&store, "computed at start");
    assert_pages_agree(&store, "computed at start");
}

/// A unit that ends mid-month: the month's cells are split by day when read.
#[test]
fn a_unit_changing_inside_a_month_is_counted_day_by_day() {
    let (store, mut w, _dir) = seeded();
    let db = ServerDb::on(store.clone()).unwrap();
    let f = db.facilities().unwrap().remove(0);
    let old = w
        .admin_units()
        .get(&f.address.unit)
        .cloned()
        .expect("the demo's units are built in");
    // The agency's list: the facility's district replaced on 2024-03-15.
    let mut closed = old.clone();
    closed.code = format!("{}-a", old.code);
    closed.name_vi = format!("{} (trước 15/3)", old.name_vi);
    closed.valid_from = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    closed.valid_to = NaiveDate::from_ymd_opt(2024, 3, 14);
    closed.predecessor = None;
    closed.successor = Some(format!("{}-b", old.code));
    let mut next = old.clone();
    next.code = format!("{}-b", old.code);
    next.name_vi = format!("{} (từ 15/3)", old.name_vi);
    next.valid_from = NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
    next.valid_to = None;
    next.predecessor = Some(closed.code.clone());
    next.successor = None;
    w.publish_units(vec![closed.clone(), next]).unwrap();
    let mut moved = f.clone();
    moved.address.unit = closed.code.clone();
    w.put_facility(&moved).unwrap();
    let records: Vec<_> = db
        .records()
        .unwrap()
        .into_iter()
        .filter(|r| r.inspection.facility != f.id)
        .take(2)
        .collect();
    for (r, day) in records.into_iter().zip([3, 25]) {
        let mut r = r;
        r.inspection.facility = f.id;
        r.inspection.id = kiemtra_core::ids::InspectionId::new();
        r.inspection.status = Status::InProgress;
        r.inspection.started_at = Some(
            NaiveDate::from_ymd_opt(2024, 3, day)
                .unwrap()
                .and_hms_opt(3, 0, 0)
                .unwrap()
                .and_utc(),
        );
        w.changes().put_record(&r).unwrap();
    }
    w.commit().unwrap();
    assert_kept_equal_recomputed(&store, "split month");
    assert_pages_agree(&store, "split month");
    let units = current_units(&db).unwrap();
    let mut r = Reader::new(&db, &units);
    let march: Vec<_> = r
        .inspections(2024)
        .unwrap()
        .into_iter()
        .filter(|c| c.month == "2024-03" && c.unit.code.starts_with(&old.code))
        .map(|c| c.unit.code)
        .collect();
    assert!(
        march.contains(&closed.code) && march.contains(&format!("{}-b", old.code)),
        "{march:?}"
    );
}
