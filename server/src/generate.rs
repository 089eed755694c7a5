//! `kiemtra-server generate`: a synthetic national data set for measuring
//! the overview at scale — establishments across Hai Phong's built-in
//! districts and a published list of districts of other provinces, routine
//! and formal inspections and outreach visits spread over the years, about
//! 5 % of sealed minutes with violations, accidents in proportion (a fifth
//! fatal, their investigations mostly sealed).
//!
//! Written through the [`Writer`] in large commits (thousands of records
//! per changeset), so that the log, the records and the overview's figures
//! are kept exactly as the server keeps them, and the start-up check finds
//! the records to be the merge of the log.
//!
//! What it simplifies, so that a million inspections load in minutes:
//! - Every operation is server-authored: an inspection is created already
//!   at its final status (sealed, delivered, findings closed, in progress),
//!   with its answers as `SetAnswer` operations; no device pushes the
//!   lifecycle step by step.
//! - Sealed inspections carry **no signed minutes**: the overview counts a
//!   record's status, date, answers and violations, never the signatures
//!   (an investigation's conclusion date falls back to its date), and
//!   sealing real minutes costs signatures and a PDF per inspection. Such
//!   records are not verifiable minutes and are for measuring only.
//! - Violations are all still open (no remediation reports), accidents have
//!   no victims' names, and everything is refused on a folder that already
//!   holds data, like the demo.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use kiemtra_core::accident::{Declarant, NewAccident};
use kiemtra_core::admin_units::{AdminUnit, UnitLevel};
use kiemtra_core::answer::{compliance, AnswerEntry, AnswerValue, Compliance, YesNoNa};
use kiemtra_core::facility::{Address, Facility, FacilityKind};
use kiemtra_core::ids::{DelegationId, FacilityId, InspectionId};
use kiemtra_core::inspection::{Inspection, InspectionKind, Status, VIETNAM};
use kiemtra_core::ops::Payload;
use kiemtra_core::record::InspectionRecord;
use kiemtra_core::template::{builtin_templates, osh_accident_investigation, osh_general, ChecklistTemplate};

use crate::error::ServerError;
use crate::storage::Scope;
use crate::writer::Writer;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub establishments: usize,
    pub inspections: usize,
    pub years: u32,
    /// The last year generated; the first is `last_year - years + 1`.
    pub last_year: i32,
    pub seed: u64,
    /// Inspections per commit.
    pub batch: usize,
}

/// What was written.
#[derive(Debug, Default)]
pub struct Generated {
    pub facilities: usize,
    pub inspections: usize,
    pub with_violations: usize,
    pub accidents: usize,
    pub investigations: usize,
    pub operations: usize,
    pub commits: usize,
}

/// Other provinces' districts, published as the agency's list.
const PROVINCES: usize = 62;
const DISTRICTS: usize = 11;

/// xorshift64*: the same seed gives the same data set.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `per_mille`/1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.next() % 1000 < per_mille
    }
}

/// An item's answers: one that complies and, where the item proposes a
/// violation, one that does not.
struct ItemAnswers {
    code: String,
    compliant: AnswerValue,
    violating: Option<AnswerValue>,
}

fn item_answers(t: &ChecklistTemplate) -> Vec<ItemAnswers> {
    let candidates = |n: u64| {
        [
            AnswerValue::YesNoNa(YesNoNa::Yes),
            AnswerValue::YesNoNa(YesNoNa::No),
            AnswerValue::Ratio {
                numerator: n,
                denominator: n,
            },
            AnswerValue::Ratio {
                numerator: 0,
                denominator: n,
            },
            AnswerValue::Count(0),
            AnswerValue::Count(n),
        ]
    };
    t.items()
        .filter_map(|(_, item)| {
            let judged = |c: Compliance| candidates(20).into_iter().find(|v| compliance(item, v) == c);
            let compliant = judged(Compliance::Compliant)?;
            let violating = item
                .violation
                .as_ref()
                .and_then(|_| judged(Compliance::NonCompliant));
            Some(ItemAnswers {
                code: item.code.clone(),
                compliant,
                violating,
            })
        })
        .collect()
}

fn vn_morning(date: NaiveDate) -> Result<chrono::DateTime<Utc>, ServerError> {
    date.and_hms_opt(8, 0, 0)
        .and_then(|t| VIETNAM.from_local_datetime(&t).single())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ServerError::Invalid(format!("date {date}")))
}

/// Generates the data set into an empty store, committing as it goes.
pub fn generate(
    w: &mut Writer,
    o: &Options,
    mut progress: impl FnMut(&Generated),
) -> Result<Generated, ServerError> {
    if w.has_published() {
        return Err(ServerError::Conflict(
            "generate writes only into an empty data folder or database".into(),
        ));
    }
    let mut rng = Rng(o.seed.max(1) ^ 0x9e37_79b9_7f4a_7c15);
    let mut out = Generated::default();
    for t in builtin_templates() {
        w.publish_template(&t)?;
    }
    let general = osh_general();
    let investigation = osh_accident_investigation();
    w.publish_template(&investigation)?;
    let answers = item_answers(&general);
    let ratio_items: Vec<&ItemAnswers> = answers
        .iter()
        .filter(|a| crate::figures::RATIO_ITEMS.iter().any(|(_, i)| *i == a.code))
        .collect();
    let violating: Vec<&ItemAnswers> = answers.iter().filter(|a| a.violating.is_some()).collect();
    if violating.is_empty() {
        return Err(ServerError::Invalid(
            "the general template proposes no violation".into(),
        ));
    }

    // Units: Hai Phong's built-in districts, and other provinces' districts.
    let first_day = NaiveDate::from_ymd_opt(o.last_year + 1 - o.years.max(1) as i32, 1, 1)
        .ok_or_else(|| ServerError::Invalid("years".into()))?;
    let last_day =
        NaiveDate::from_ymd_opt(o.last_year, 12, 31).ok_or_else(|| ServerError::Invalid("years".into()))?;
    let hai_phong: Vec<String> = w
        .admin_units()
        .valid_on(first_day)
        .map(|u| u.code.clone())
        .collect();
    let national: Vec<AdminUnit> = (1..=PROVINCES)
        .flat_map(|p| {
            (1..=DISTRICTS).map(move |d| AdminUnit {
                code: format!("vn.p{p:02}.d{d:02}"),
                name_vi: format!("Huyện {d:02} – tỉnh {p:02}"),
                kind: "huyện".into(),
                level: UnitLevel::District,
                valid_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or(first_day),
                valid_to: None,
                predecessor: None,
                successor: None,
            })
        })
        .collect();
    let national_codes: Vec<String> = national.iter().map(|u| u.code.clone()).collect();
    w.publish_units(national)?;

    let inspector = w.create_inspector("Thanh tra viên tổng hợp", "Thanh tra viên", "Dữ liệu tổng hợp")?;
    let delegation: DelegationId = w
        .create_delegation(
            "Đoàn kiểm tra tổng hợp",
            "Dữ liệu tổng hợp",
            inspector.id,
            &[],
            None,
        )?
        .id;
    w.commit()?;
    out.commits += 1;

    // Establishments.
    let kinds = [
        (FacilityKind::Enterprise, 600),
        (FacilityKind::HouseholdBusiness, 150),
        (FacilityKind::Farm, 100),
        (FacilityKind::Cooperative, 100),
        (FacilityKind::CraftVillage, 50),
    ];
    let sectors = [
        "Xây dựng",
        "Cơ khí",
        "Dệt may",
        "Hóa chất",
        "Khai khoáng",
        "Chế biến thực phẩm",
        "Điện",
    ];
    let mut facilities: Vec<(FacilityId, String, FacilityKind, bool)> = Vec::with_capacity(o.establishments);
    for n in 0..o.establishments {
        let mut pick = rng.below(1000);
        let kind = kinds
            .iter()
            .find(|(_, share)| {
                let hit = pick < *share;
                pick = pick.saturating_sub(*share);
                hit
            })
            .map_or(FacilityKind::Enterprise, |(k, _)| *k);
        let unit = if rng.chance(150) || national_codes.is_empty() {
            hai_phong[rng.below(hai_phong.len())].clone()
        } else {
            national_codes[rng.below(national_codes.len())].clone()
        };
        let high_risk = rng.chance(
            if matches!(kind, FacilityKind::CraftVillage | FacilityKind::Cooperative) {
                400
            } else {
                80
            },
        );
        let f = Facility {
            id: FacilityId::new(),
            kind,
            name: format!("Cơ sở tổng hợp số {:06}", n + 1),
            tax_code: None,
            address: Address {
                street: format!("Số {}", 1 + rng.below(300)),
                unit: unit.clone(),
            },
            sector: sectors[rng.below(sectors.len())].to_string(),
            workforce: 5 + rng.below(500) as u32,
            high_risk,
        };
        w.put_facility(&f)?;
        out.operations += 1;
        facilities.push((f.id, unit, kind, f.workforce > 100));
        out.facilities += 1;
        if (n + 1) % o.batch.max(1) == 0 {
            w.commit()?;
            out.commits += 1;
            progress(&out);
        }
    }
    w.commit()?;
    out.commits += 1;
    if facilities.is_empty() {
        return Ok(out);
    }

    let days = (last_day - first_day).num_days().max(1) as usize;
    let scope = Scope::Delegation(delegation);
    // One accident per 200 inspections.
    let accidents_every = 200;
    for n in 0..o.inspections {
        let (facility, unit, fkind, large) = facilities[rng.below(facilities.len())].clone();
        let date = first_day + Duration::days(rng.below(days + 1) as i64);
        let kind =
            if matches!(fkind, FacilityKind::CraftVillage | FacilityKind::Cooperative) && rng.chance(500) {
                InspectionKind::Outreach
            } else if rng.chance(100) {
                InspectionKind::FormalInspection
            } else {
                InspectionKind::Inspection
            };
        let status = match rng.below(100) {
            0..=2 => Status::InProgress,
            3..=7 => Status::FindingsClosed,
            8..=59 => Status::Sealed,
            _ => Status::Delivered,
        };
        let with_violations = status >= Status::Sealed && kind != InspectionKind::Outreach && rng.chance(50);
        write_inspection(
            w,
            &mut rng,
            Planned {
                facility,
                delegation,
                template: &general,
                kind,
                status,
                date,
                accident: None,
            },
            |rng, set| {
                if status < Status::Sealed || kind == InspectionKind::Outreach {
                    return;
                }
                for a in &ratio_items {
                    if rng.chance(600) {
                        let denominator = 1 + rng.below(if large { 40 } else { 8 }) as u64;
                        let numerator = denominator - rng.below(denominator as usize / 3 + 1) as u64;
                        set(
                            &a.code,
                            AnswerValue::Ratio {
                                numerator,
                                denominator,
                            },
                        );
                    }
                }
                if with_violations {
                    for _ in 0..1 + rng.below(3) {
                        let a = violating[rng.below(violating.len())];
                        if let Some(v) = &a.violating {
                            set(&a.code, v.clone());
                        }
                    }
                } else if let Some(a) = answers.get(rng.below(answers.len())) {
                    set(&a.code, a.compliant.clone());
                }
            },
            scope,
            &mut out,
        )?;
        out.with_violations += usize::from(with_violations);
        out.inspections += 1;

        if rng.below(accidents_every) == 0 {
            let with_facility = rng.chance(850);
            let fatal = rng.chance(200);
            let unit = if with_facility {
                unit
            } else {
                national_codes[rng.below(national_codes.len())].clone()
            };
            let new = NewAccident {
                occurred_at: vn_morning(date)?,
                place: "Nơi làm việc".into(),
                unit,
                facility: with_facility.then_some(facility),
                without_contract: !with_facility,
                deaths: if fatal { 1 + rng.below(2) as u32 } else { 0 },
                seriously_injured: rng.below(3) as u32,
                lightly_injured: 1 + rng.below(3) as u32,
                victims: Vec::new(),
                account: "Dữ liệu tổng hợp".into(),
                needs_examination: false,
            };
            let by = Declarant::Inspectorate {
                person: "Dữ liệu tổng hợp".into(),
            };
            // A Hai Phong district after mid-2025 is no longer valid: such an
            // accident is left out, as the declaration form would refuse it.
            if let Ok(a) = w.declare_accident(new, by) {
                out.accidents += 1;
                if fatal && with_facility {
                    let status = if rng.chance(850) {
                        Status::Sealed
                    } else {
                        Status::InProgress
                    };
                    write_inspection(
                        w,
                        &mut rng,
                        Planned {
                            facility,
                            delegation,
                            template: &investigation,
                            kind: InspectionKind::AccidentInvestigation,
                            status,
                            date: (date + Duration::days(7)).min(last_day),
                            accident: Some(a.id),
                        },
                        |_, _| {},
                        scope,
                        &mut out,
                    )?;
                    out.investigations += 1;
                }
            }
        }
        if (n + 1) % o.batch.max(1) == 0 {
            w.commit()?;
            out.commits += 1;
            progress(&out);
        }
    }
    w.commit()?;
    out.commits += 1;
    progress(&out);
    Ok(out)
}

struct Planned<'a> {
    facility: FacilityId,
    delegation: DelegationId,
    template: &'a ChecklistTemplate,
    kind: InspectionKind,
    status: Status,
    date: NaiveDate,
    accident: Option<kiemtra_core::ids::AccidentId>,
}

/// Creates an inspection at its final status and its answers, as
/// server-authored operations merged into the record they make.
fn write_inspection(
    w: &mut Writer,
    rng: &mut Rng,
    p: Planned<'_>,
    answer: impl FnOnce(&mut Rng, &mut dyn FnMut(&str, AnswerValue)),
    scope: Scope,
    out: &mut Generated,
) -> Result<(), ServerError> {
    let started = vn_morning(p.date)?;
    let inspection = Inspection {
        id: InspectionId::new(),
        kind: p.kind,
        facility: p.facility,
        template: p.template.key(),
        delegation: p.delegation,
        planned_date: p.date,
        location: None,
        status: p.status,
        created_by: None,
        created_at: started,
        started_at: (p.status >= Status::InProgress).then_some(started),
        accident: p.accident,
    };
    w.server_op(Payload::CreateInspection(inspection.clone()), scope)?;
    let mut record = InspectionRecord::new(inspection);
    out.operations += 1;
    // One answer per item (a second would stand beside the first as a conflict).
    let mut set: std::collections::BTreeMap<String, AnswerValue> = Default::default();
    answer(rng, &mut |item, value| {
        set.insert(item.to_string(), value);
    });
    let id = record.inspection.id;
    for (item, value) in set {
        let op = w.server_op(
            Payload::SetAnswer {
                inspection: id,
                item,
                entry: AnswerEntry { value, note: None },
                supersedes: Vec::new(),
            },
            scope,
        )?;
        record.merge(&op);
        out.operations += 1;
    }
    w.put_record(record)?;
    Ok(())
}
