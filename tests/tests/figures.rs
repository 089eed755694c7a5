//! The overview's kept figures at scale, on sled and on PostgreSQL: a
//! generated data set (`kiemtra-server generate`'s code), then random
//! writes through the writer (facilities edited and moved, accidents
//! declared, records moved through the lifecycle and given other answers),
//! each commit compared with a full recomputation field by field; then the
//! real server on the store: its start-up finds the records edited outside
//! the log, rebuilds them and the figures, and its `targets.csv` (read from
//! the kept figures) equals the targets of `overview.json` (computed from
//! every record).

use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, Utc};
use kiemtra_core::accident::{Declarant, NewAccident};
use kiemtra_core::facility::FacilityKind;
use kiemtra_core::inspection::Status;
use kiemtra_server::db::{Read, ServerDb, TypedWrites};
use kiemtra_server::figures::verify;
use kiemtra_server::generate::{generate, Options};
use kiemtra_server::server_key::ServerKey;
use kiemtra_server::storage::{SledStorage, Storage};
use kiemtra_server::writer::Writer;
use kiemtra_storage_postgres::test_cluster::TestCluster;
use kiemtra_storage_postgres::PgStorage;
use kiemtra_tests::Server;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1) as u64) as usize
    }
}

/// Generates, writes at random, checks each commit; returns an admin token.
fn generate_and_write(store: Arc<dyn Storage>, dir: &Path) -> String {
    let key = Arc::new(ServerKey::open(dir).unwrap());
    let mut w = Writer::new(store.clone(), key).unwrap();
    let options = Options {
        establishments: 400,
        inspections: 4000,
        years: 3,
        last_year: 2025,
        seed: 7,
        batch: 700,
    };
    let done = generate(&mut w, &options, |_| {}).unwrap();
    assert_eq!(done.inspections, 4000);
    assert!(done.with_violations > 100 && done.accidents > 5, "{done:?}");
    assert_eq!(verify(&*store), Ok(()), "after generating");

    let mut rng = Rng(0x5eed);
    let kinds = [
        FacilityKind::Enterprise,
        FacilityKind::Cooperative,
        FacilityKind::CraftVillage,
        FacilityKind::Farm,
    ];
    let db = ServerDb::on(store.clone()).unwrap();
    let records = db.records().unwrap();
    let facilities = db.facilities().unwrap();
    let units: Vec<String> = facilities
        .iter()
        .map(|f| f.address.unit.clone())
        .take(50)
        .collect();
    for round in 0..12 {
        for _ in 0..1 + rng.below(8) {
            match rng.below(4) {
                0 => {
                    let mut f = facilities[rng.below(facilities.len())].clone();
                    f.kind = kinds[rng.below(kinds.len())];
                    f.address.unit = units[rng.below(units.len())].clone();
                    f.high_risk = rng.below(2) == 0;
                    w.put_facility(&f).unwrap();
                }
                1 => {
                    let facility = facilities[rng.below(facilities.len())].clone();
                    let new = NewAccident {
                        occurred_at: Utc::now() - Duration::days(rng.below(500) as i64),
                        place: "Kho".into(),
                        unit: facility.address.unit.clone(),
                        facility: Some(facility.id),
                        without_contract: false,
                        deaths: rng.below(2) as u32,
                        seriously_injured: 1,
                        lightly_injured: 0,
                        victims: Vec::new(),
                        account: "Vật rơi".into(),
                        needs_examination: false,
                    };
                    let _ = w.declare_accident(
                        new,
                        Declarant::Inspectorate {
                            person: "Thanh tra".into(),
                        },
                    );
                }
                _ => {
                    let mut r = records[rng.below(records.len())].clone();
                    let other = &records[rng.below(records.len())];
                    r.answers = other.answers.clone();
                    r.inspection.status =
                        [Status::InProgress, Status::Sealed, Status::Delivered][rng.below(3)];
                    r.inspection.started_at = Some(Utc::now() - Duration::days(rng.below(1000) as i64));
                    w.changes().put_record(&r).unwrap();
                }
            }
        }
        w.commit().unwrap();
        assert_eq!(verify(&*store), Ok(()), "round {round}");
    }
    let token = w.create_admin_token("Kiểm tra số liệu", None).unwrap();
    w.commit().unwrap();
    drop(w);
    // A restart of the writer finds them complete.
    let w = Writer::new(store.clone(), Arc::new(ServerKey::open(dir).unwrap())).unwrap();
    drop(w);
    assert_eq!(verify(&*store), Ok(()), "after a restart");
    token
}

fn get(server: &Server, token: &str, path: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    agent
        .get(&server.url(path))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

/// targets.csv (kept figures) against overview.json's targets (every record).
fn assert_targets_agree(server: &Server, token: &str) {
    let json: serde_json::Value = serde_json::from_str(&get(server, token, "/admin/overview.json")).unwrap();
    let from_records: Vec<Vec<String>> = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            vec![
                t["target"].as_str().unwrap().to_string(),
                t["year"].to_string(),
                t["unit"]["code"].as_str().unwrap().to_string(),
                t["numerator"].to_string(),
                t["denominator"].to_string(),
            ]
        })
        .collect();
    let csv = get(server, token, "/admin/targets.csv");
    let kept: Vec<Vec<String>> = csv
        .trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            [c[0], c[1], c[2], c[4], c[5]]
                .iter()
                .map(|s| s.to_string())
                .collect()
        })
        .collect();
    assert!(from_records.len() > 100, "{}", from_records.len());
    assert_eq!(kept, from_records);
}

/// The `(target, unit, numerator, denominator)` rows of an overview page's
/// target tables (`<tr data-target=… data-unit=…>`), the totals' `unit` being `total`.
fn target_rows(page: &str) -> Vec<(String, String, u64, u64)> {
    let attr = |s: &str, name: &str| -> String {
        let start = s.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        s[start..start + s[start..].find('"').unwrap()].to_string()
    };
    page.split("<tr data-target=")
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</tr>").unwrap()];
            let row = format!("data-target={row}");
            let cells: Vec<u64> = row
                .split("class=\"num\">")
                .skip(1)
                .take(2)
                .map(|c| c[..c.find('<').unwrap()].parse().unwrap())
                .collect();
            (
                attr(&row, "data-target"),
                attr(&row, "data-unit"),
                cells[0],
                cells[1],
            )
        })
        .collect()
}

/// An attribute's text: the page escapes `&` and may write characters as
/// numeric references (`&#61;`).
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').map(|e| at + e).unwrap();
        let entity = &rest[at + 1..end];
        out.push(match entity {
            "amp" => '&',
            "quot" => '"',
            "lt" => '<',
            "gt" => '>',
            _ => char::from_u32(entity.trim_start_matches('#').parse().unwrap()).unwrap(),
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The overview of 2025 page by page of units: each page shows at most
/// `UNITS_PER_PAGE` units, the pages together show every unit of
/// targets.csv's 2025 rows exactly once with the same figures, and each
/// page's total row is the sum over every unit.
fn assert_unit_pages_cover_every_unit(server: &Server, token: &str) {
    use kiemtra_server::overview::pages::UNITS_PER_PAGE;
    let csv = get(server, token, "/admin/targets.csv");
    let expected: std::collections::BTreeSet<(String, String, u64, u64)> = csv
        .trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c[1] == "2025")
        .map(|c| {
            (
                c[0].to_string(),
                c[2].to_string(),
                c[4].parse().unwrap(),
                c[5].parse().unwrap(),
            )
        })
        .collect();
    let mut totals: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for (target, _, n, d) in &expected {
        let t = totals.entry(target.clone()).or_default();
        t.0 += n;
        t.1 += d;
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut next = Some("/admin?year=2025".to_string());
    let mut pages = 0;
    while let Some(path) = next.take() {
        let page = get(server, token, &path);
        pages += 1;
        let mut units = std::collections::BTreeSet::new();
        for (target, unit, n, d) in target_rows(&page) {
            if unit == "total" {
                assert_eq!(
                    totals.get(&target).copied().unwrap_or_default(),
                    (n, d),
                    "target {target}'s total on {path}"
                );
            } else {
                units.insert(unit.clone());
                let row = (target, unit, n, d);
                assert!(seen.insert(row.clone()), "{row:?} again on {path}");
            }
        }
        assert!(units.len() <= UNITS_PER_PAGE, "{} units on {path}", units.len());
        next = page
            .split("rel=\"next\"")
            .next()
            .filter(|_| page.contains("rel=\"next\""))
            .and_then(|before| before.rsplit("href=\"").next())
            .map(|href| {
                let href = unescape(&href[..href.find('"').unwrap()]);
                href.split('#').next().unwrap_or(&href).to_string()
            });
        assert!(pages < 100, "the pages do not end");
    }
    assert!(pages > 1, "the generated units fill more than one page");
    assert_eq!(
        seen, expected,
        "the pages together show targets.csv's figures of 2025"
    );
}

fn on_the_server(dir: &Path, extra: &[&str], token: &str, store: impl Fn() -> Arc<dyn Storage>) {
    let server = Server::start(dir, extra);
    assert_targets_agree(&server, token);
    assert_unit_pages_cover_every_unit(&server, token);
    server.stop();
    assert_eq!(verify(&*store()), Ok(()), "after the server's start-up");
}

#[test]
fn kept_figures_equal_a_recomputation_on_sled() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Storage> = Arc::new(SledStorage::open(dir.path(), 64 << 20).unwrap());
    let token = generate_and_write(store.clone(), dir.path());
    drop(store);
    on_the_server(dir.path(), &[], &token, || {
        Arc::new(SledStorage::open(dir.path(), 64 << 20).unwrap())
    });
}

#[test]
fn kept_figures_equal_a_recomputation_on_postgres() {
    let url = TestCluster::shared().fresh_database().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Storage> = Arc::new(PgStorage::open(&url).unwrap());
    let token = generate_and_write(store.clone(), dir.path());
    drop(store);
    on_the_server(dir.path(), &["--database", url.as_str()], &token, || {
        Arc::new(PgStorage::open(&url).unwrap())
    });
}
