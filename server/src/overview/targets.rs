//! The plan's targets that inspection and accident records can measure, by
//! administrative unit and year, each as numerator / denominator with the
//! records behind both, so that a person can check every figure.
//!
//! Figures from inspections count only sealed minutes: the legal record,
//! signed by the delegation. A facility inspected twice in a year is counted
//! once, from its latest sealed inspection: the same workers are not added twice.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use kiemtra_core::answer::AnswerValue;
use kiemtra_core::facility::FacilityKind;
use kiemtra_core::ids::FacilityId;
use kiemtra_core::inspection::Status;
use kiemtra_core::record::InspectionRecord;
use serde::Serialize;

use super::data::Data;
use super::units::{unit_on, UnitKey};

/// One target's definition.
#[derive(Debug, Clone, Serialize)]
pub struct TargetDef {
    /// The plan's number (§II.2), with a letter for its second half.
    pub id: &'static str,
    pub title_vi: &'static str,
    pub numerator_vi: &'static str,
    pub denominator_vi: &'static str,
    pub goal_per_mille: u32,
}

pub const MEASURED: [TargetDef; 6] = [
    TargetDef {
        id: "4",
        title_vi:
            "Người lao động làm công việc có yêu cầu nghiêm ngặt về ATVSLĐ được huấn luyện (mục tiêu > 80%)",
        numerator_vi: "số người đã được huấn luyện nhóm 3 (mục C3)",
        denominator_vi: "số người làm công việc có yêu cầu nghiêm ngặt tại các cơ sở được kiểm tra (mục C3)",
        goal_per_mille: 800,
    },
    TargetDef {
        id: "4b",
        title_vi: "Người làm công tác ATVSLĐ được huấn luyện (mục tiêu 80%)",
        numerator_vi: "số người làm công tác ATVSLĐ đã được huấn luyện nhóm 2 (mục C2)",
        denominator_vi: "số người làm công tác ATVSLĐ tại các cơ sở được kiểm tra (mục C2)",
        goal_per_mille: 800,
    },
    TargetDef {
        id: "5",
        title_vi: "Người làm công tác y tế tại cơ sở được huấn luyện ATVSLĐ, sơ cứu (mục tiêu > 80%)",
        numerator_vi: "số người làm công tác y tế đã được huấn luyện nhóm 5 (mục C5)",
        denominator_vi: "số người làm công tác y tế tại các cơ sở được kiểm tra (mục C5)",
        goal_per_mille: 800,
    },
    TargetDef {
        id: "6",
        title_vi: "Làng nghề, hợp tác xã có nguy cơ cao được tiếp cận thông tin ATVSLĐ (mục tiêu > 90%)",
        numerator_vi:
            "số làng nghề, HTX nguy cơ cao có ít nhất một cuộc kiểm tra hoặc thăm, tuyên truyền trong năm",
        denominator_vi: "số làng nghề, HTX trong danh sách nguy cơ cao",
        goal_per_mille: 900,
    },
    TargetDef {
        id: "7",
        title_vi: "Người bị TNLĐ, BNN được bồi thường, trợ cấp (mục tiêu > 80%)",
        numerator_vi: "số người được bồi thường, trợ cấp (mục H5)",
        denominator_vi: "số người bị TNLĐ, BNN tại các cơ sở được kiểm tra (mục H5)",
        goal_per_mille: 800,
    },
    TargetDef {
        id: "8",
        title_vi: "Tai nạn lao động chết người được điều tra, có biên bản điều tra đã ký (mục tiêu 100%)",
        numerator_vi: "số vụ TNLĐ chết người có biên bản điều tra đã ký",
        denominator_vi: "số vụ TNLĐ chết người đã khai báo",
        goal_per_mille: 1000,
    },
];

/// Targets the records cannot measure, and why; the page says so.
pub const NOT_MEASURED: [(&str, &str); 3] = [
    (
        "1",
        "Tần suất TNLĐ chết người cần tổng số lao động của địa bàn (thống kê lao động), không có trong dữ liệu kiểm tra; trang này chỉ đếm số vụ chết người đã khai báo.",
    ),
    (
        "2",
        "Mức tăng 5%/năm số người được khám BNN và số cơ sở quan trắc môi trường lao động cần số liệu của toàn bộ cơ sở (Sở Y tế báo cáo); dữ liệu kiểm tra chỉ là mẫu các cơ sở được kiểm tra.",
    ),
    (
        "3",
        "Việc huấn luyện cán bộ quản lý ATVSLĐ cấp huyện và Ban quản lý KKT không được ghi nhận trong các cuộc kiểm tra cơ sở.",
    ),
];

/// A record behind a figure, with what it contributes.
#[derive(Debug, Clone, Serialize)]
pub struct RecordRef {
    /// `inspection`, `facility` or `accident`.
    pub kind: &'static str,
    pub id: String,
    pub label: String,
    pub date: Option<NaiveDate>,
    pub numerator: u64,
    pub denominator: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetFigure {
    pub target: &'static str,
    pub unit: UnitKey,
    pub year: i32,
    pub numerator: u64,
    pub denominator: u64,
    pub goal_per_mille: u32,
    pub records: Vec<RecordRef>,
    /// How many records are behind the figure (`records` may be left empty
    /// when the figure is read from the kept aggregates).
    #[serde(skip)]
    pub record_count: usize,
}

impl TargetFigure {
    /// The share in per mille, when there is a denominator.
    pub fn per_mille(&self) -> Option<u64> {
        (self.denominator > 0).then(|| self.numerator * 1000 / self.denominator)
    }

    pub fn met(&self) -> Option<bool> {
        (self.denominator > 0)
            .then(|| self.numerator * 1000 >= u64::from(self.goal_per_mille) * self.denominator)
    }
}

type Acc = BTreeMap<(UnitKey, i32), (u64, u64, Vec<RecordRef>)>;

fn add(acc: &mut Acc, unit: UnitKey, year: i32, r: RecordRef) {
    let e = acc.entry((unit, year)).or_default();
    e.0 += r.numerator;
    e.1 += r.denominator;
    e.2.push(r);
}

fn finish(target: &'static TargetDef, acc: Acc) -> Vec<TargetFigure> {
    acc.into_iter()
        .map(|((unit, year), (numerator, denominator, records))| TargetFigure {
            target: target.id,
            unit,
            year,
            numerator,
            denominator,
            goal_per_mille: target.goal_per_mille,
            record_count: records.len(),
            records,
        })
        .collect()
}

/// The latest inspection with sealed minutes per facility and year.
fn latest_sealed(d: &Data) -> Vec<&InspectionRecord> {
    let mut latest: HashMap<(FacilityId, i32), &InspectionRecord> = HashMap::new();
    for r in d.records.iter().filter(|r| r.inspection.status >= Status::Sealed) {
        let key = (r.inspection.facility, r.inspection.date().year());
        match latest.get(&key) {
            Some(prev) if prev.inspection.date() >= r.inspection.date() => {}
            _ => {
                latest.insert(key, r);
            }
        }
    }
    let mut out: Vec<_> = latest.into_values().collect();
    out.sort_by_key(|r| (r.inspection.date(), r.inspection.id));
    out
}

/// A ratio item summed over the latest closed inspections.
fn ratio_target(d: &Data, target: &'static TargetDef, item: &str) -> Vec<TargetFigure> {
    let mut acc = Acc::new();
    for r in latest_sealed(d) {
        let Some(AnswerValue::Ratio {
            numerator,
            denominator,
        }) = r.answers.get(item).and_then(|reg| reg.value()).map(|e| &e.value)
        else {
            continue;
        };
        let Some(f) = d.facilities.get(&r.inspection.facility) else {
            continue;
        };
        let date = r.inspection.date();
        add(
            &mut acc,
            unit_on(&d.units, &f.address.unit, date),
            date.year(),
            RecordRef {
                kind: "inspection",
                id: r.inspection.id.to_string(),
                label: f.name.clone(),
                date: Some(date),
                numerator: (*numerator).min(*denominator),
                denominator: *denominator,
            },
        );
    }
    finish(target, acc)
}

/// Target 6: the high-risk craft villages and cooperatives, per year of the
/// plan (and any later year with records), reached by a started inspection
/// or visit of that year.
fn target_6(d: &Data, target: &'static TargetDef) -> Vec<TargetFigure> {
    let mut years: Vec<i32> = (2023..=2025).collect();
    years.extend(d.records.iter().map(|r| r.inspection.date().year()));
    years.sort_unstable();
    years.dedup();
    let listed: Vec<_> = d
        .facilities
        .values()
        .filter(|f| f.high_risk && matches!(f.kind, FacilityKind::CraftVillage | FacilityKind::Cooperative))
        .collect();
    let mut acc = Acc::new();
    for year in years {
        let reference = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(d.today);
        for f in &listed {
            let visit = d
                .records
                .iter()
                .filter(|r| {
                    r.inspection.facility == f.id
                        && r.inspection.status >= Status::InProgress
                        && r.inspection.date().year() == year
                })
                .min_by_key(|r| r.inspection.date());
            add(
                &mut acc,
                unit_on(&d.units, &f.address.unit, reference),
                year,
                RecordRef {
                    kind: visit.map_or("facility", |_| "inspection"),
                    id: visit.map_or_else(|| f.id.to_string(), |r| r.inspection.id.to_string()),
                    label: f.name.clone(),
                    date: visit.map(|r| r.inspection.date()),
                    numerator: u64::from(visit.is_some()),
                    denominator: 1,
                },
            );
        }
    }
    finish(target, acc)
}

/// Target 8: fatal accidents declared, and those whose investigation minutes are sealed.
fn target_8(d: &Data, target: &'static TargetDef) -> Vec<TargetFigure> {
    let mut acc = Acc::new();
    for a in d.accidents.iter().filter(|a| a.deaths > 0) {
        let date = a.date();
        let sealed = d.investigation_sealed_on(a.id);
        add(
            &mut acc,
            unit_on(&d.units, &a.unit, date),
            date.year(),
            RecordRef {
                kind: "accident",
                id: a.id.to_string(),
                label: format!(
                    "{} – {}",
                    a.place,
                    a.facility.map_or_else(
                        || "lao động không có hợp đồng".to_string(),
                        |f| d.facility_name(f)
                    )
                ),
                date: Some(date),
                numerator: u64::from(sealed.is_some()),
                denominator: 1,
            },
        );
    }
    finish(target, acc)
}

/// Every measured target's figures.
pub fn compute(d: &Data) -> Vec<TargetFigure> {
    let [t4, t4b, t5, t6, t7, t8] = &MEASURED;
    let mut out = Vec::new();
    out.extend(ratio_target(d, t4, "C3"));
    out.extend(ratio_target(d, t4b, "C2"));
    out.extend(ratio_target(d, t5, "C5"));
    out.extend(target_6(d, t6));
    out.extend(ratio_target(d, t7, "H5"));
    out.extend(target_8(d, t8));
    out
}

/// The city-wide figure of a target for a year: the sum over units.
pub fn city_total(figures: &[TargetFigure], target: &str, year: i32) -> (u64, u64) {
    figures
        .iter()
        .filter(|f| f.target == target && f.year == year)
        .fold((0, 0), |(n, d), f| (n + f.numerator, d + f.denominator))
}
