//! An establishment's risk score: a sum of whole points, one term per
//! factor, each with the sentence that explains it (Vietnamese, and
//! English beside it), so the score on a page can be redone by hand.

use chrono::{Months, NaiveDate};
use serde::Serialize;

use super::hazard::{HazardClass, HazardTable};
use super::weights::RiskWeights;

/// What the score is computed from, as the server's records give it.
#[derive(Debug, Clone, Default)]
pub struct RiskInputs {
    pub sector: String,
    pub workforce: u32,
    pub high_risk: bool,
    /// Violations of sealed minutes, open, whose deadline has not passed.
    pub open_violations: u32,
    /// Open violations past their deadline without verified remediation.
    pub overdue_violations: u32,
    pub accidents: Vec<AccidentFacts>,
    /// The latest inspection whose minutes are sealed.
    pub last_inspection: Option<LastInspection>,
}

#[derive(Debug, Clone, Copy)]
pub struct AccidentFacts {
    pub on: NaiveDate,
    pub deaths: u32,
    pub seriously_injured: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct LastInspection {
    pub on: NaiveDate,
    pub violations: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    Hazard,
    Workforce,
    HighRisk,
    OpenViolations,
    OverdueViolations,
    Accidents,
    TimeSinceInspection,
    LastOutcome,
}

impl FactorKind {
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Hazard => "Hạng nguy cơ của ngành",
            Self::Workforce => "Số lao động",
            Self::HighRisk => "Cơ sở có nguy cơ cao",
            Self::OpenViolations => "Vi phạm chưa khắc phục, còn hạn",
            Self::OverdueViolations => "Vi phạm quá hạn khắc phục",
            Self::Accidents => "Tai nạn lao động trong 3 năm",
            Self::TimeSinceInspection => "Thời gian từ lần kiểm tra trước",
            Self::LastOutcome => "Kết quả lần kiểm tra trước",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Hazard => "Sector hazard class",
            Self::Workforce => "Workforce",
            Self::HighRisk => "High-risk establishment",
            Self::OpenViolations => "Open violations within their deadline",
            Self::OverdueViolations => "Violations past their deadline",
            Self::Accidents => "Occupational accidents in three years",
            Self::TimeSinceInspection => "Time since the last inspection",
            Self::LastOutcome => "Outcome of the last inspection",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Factor {
    pub kind: FactorKind,
    pub points: u32,
    /// How the points came about, e.g. "3 × 6 điểm".
    pub detail_vi: String,
    pub detail_en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskScore {
    pub total: u32,
    /// Every factor, in a fixed order, those that add nothing included (a
    /// planner sees that it was looked at).
    pub factors: Vec<Factor>,
    /// The date of the last sealed inspection; `None`: never inspected.
    pub last_inspected: Option<NaiveDate>,
}

/// Full years from `from` to `to` (0 if `to` is earlier).
fn full_years(from: NaiveDate, to: NaiveDate) -> u32 {
    let mut years = 0;
    while from
        .checked_add_months(Months::new(12 * (years + 1)))
        .is_some_and(|d| d <= to)
    {
        years += 1;
    }
    years
}

pub fn score(
    inputs: &RiskInputs,
    weights: &RiskWeights,
    hazards: &HazardTable,
    today: NaiveDate,
) -> RiskScore {
    let mut factors = Vec::with_capacity(8);
    let mut add = |kind, points: u32, detail_vi: String, detail_en: String| {
        factors.push(Factor {
            kind,
            points,
            detail_vi,
            detail_en,
        })
    };

    let (class, listed) = match hazards.on(&inputs.sector, today) {
        Some(e) => (e.class, Some(e.verified)),
        None => (HazardClass::UNLISTED, None),
    };
    let points = weights.hazard_class[usize::from(class.get() - 1)];
    let (note_vi, note_en) = match listed {
        Some(true) => (String::new(), String::new()),
        Some(false) => (
            " (hạng chưa được xác minh)".into(),
            " (class not verified)".into(),
        ),
        None => (
            " (ngành không có trong bảng: tính hạng 2)".into(),
            " (sector not in the table: counted as class 2)".into(),
        ),
    };
    add(
        FactorKind::Hazard,
        points,
        format!(
            "Ngành «{}», hạng {}{note_vi}: {points} điểm",
            inputs.sector,
            class.get()
        ),
        format!(
            "Sector “{}”, class {}{note_en}: {points} points",
            inputs.sector,
            class.get()
        ),
    );

    let counted = inputs.workforce.min(weights.workforce_cap);
    let hundreds = counted / 100;
    let points = hundreds * weights.per_100_workers;
    add(
        FactorKind::Workforce,
        points,
        format!(
            "{} lao động (tính tối đa {}): {hundreds} × {} điểm",
            inputs.workforce, weights.workforce_cap, weights.per_100_workers
        ),
        format!(
            "{} workers (at most {} counted): {hundreds} × {} points",
            inputs.workforce, weights.workforce_cap, weights.per_100_workers
        ),
    );

    let points = if inputs.high_risk { weights.high_risk } else { 0 };
    add(
        FactorKind::HighRisk,
        points,
        if inputs.high_risk {
            "Có".into()
        } else {
            "Không".into()
        },
        if inputs.high_risk {
            "Yes".into()
        } else {
            "No".into()
        },
    );

    for (kind, n, each) in [
        (
            FactorKind::OpenViolations,
            inputs.open_violations,
            weights.open_violation,
        ),
        (
            FactorKind::OverdueViolations,
            inputs.overdue_violations,
            weights.overdue_violation,
        ),
    ] {
        let counted = n.min(weights.violations_cap);
        add(
            kind,
            counted * each,
            format!(
                "{n} vi phạm (tính tối đa {}): {counted} × {each} điểm",
                weights.violations_cap
            ),
            format!(
                "{n} violations (at most {} counted): {counted} × {each} points",
                weights.violations_cap
            ),
        );
    }

    let since = today
        .checked_sub_months(Months::new(36))
        .unwrap_or(NaiveDate::MIN);
    let recent = inputs.accidents.iter().filter(|a| a.on > since && a.on <= today);
    let (mut fatal, mut serious, mut light) = (0u32, 0u32, 0u32);
    for a in recent {
        if a.deaths > 0 {
            fatal += 1;
        } else if a.seriously_injured > 0 {
            serious += 1;
        } else {
            light += 1;
        }
    }
    let points =
        fatal * weights.fatal_accident + serious * weights.serious_accident + light * weights.light_accident;
    add(
        FactorKind::Accidents,
        points,
        format!(
            "Từ {since}: {fatal} vụ chết người × {}, {serious} vụ bị thương nặng × {}, {light} vụ bị thương nhẹ × {} điểm",
            weights.fatal_accident, weights.serious_accident, weights.light_accident
        ),
        format!(
            "Since {since}: {fatal} fatal × {}, {serious} serious × {}, {light} light × {} points",
            weights.fatal_accident, weights.serious_accident, weights.light_accident
        ),
    );

    match inputs.last_inspection {
        None => {
            add(
                FactorKind::TimeSinceInspection,
                weights.never_inspected,
                format!("Chưa từng được kiểm tra: {} điểm", weights.never_inspected),
                format!("Never inspected: {} points", weights.never_inspected),
            );
            add(
                FactorKind::LastOutcome,
                0,
                "Không có lần kiểm tra trước".into(),
                "No earlier inspection".into(),
            );
        }
        Some(last) => {
            let years = full_years(last.on, today);
            let counted = years.min(weights.years_cap);
            add(
                FactorKind::TimeSinceInspection,
                counted * weights.per_year_uninspected,
                format!(
                    "Kiểm tra lần cuối {}: {years} năm tròn (tính tối đa {}): {counted} × {} điểm",
                    last.on, weights.years_cap, weights.per_year_uninspected
                ),
                format!(
                    "Last inspected {}: {years} full years (at most {} counted): {counted} × {} points",
                    last.on, weights.years_cap, weights.per_year_uninspected
                ),
            );
            let counted = last.violations.min(weights.violations_cap);
            add(
                FactorKind::LastOutcome,
                counted * weights.last_outcome_violation,
                format!(
                    "Lần trước phát hiện {} vi phạm: {counted} × {} điểm",
                    last.violations, weights.last_outcome_violation
                ),
                format!(
                    "The last inspection found {} violations: {counted} × {} points",
                    last.violations, weights.last_outcome_violation
                ),
            );
        }
    }

    RiskScore {
        total: factors.iter().map(|f| f.points).sum(),
        factors,
        last_inspected: inputs.last_inspection.map(|l| l.on),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn points(s: &RiskScore, kind: FactorKind) -> u32 {
        s.factors.iter().find(|f| f.kind == kind).unwrap().points
    }

    /// A shipyard, 350 workers, flagged high-risk, two open violations and
    /// one overdue, a fatal accident in 2024 and a light one in 2021 (out of
    /// the three years), last inspected on 2023-03-05 with 4 violations.
    /// By hand, with the default weights, on 2025-06-01:
    /// hazard class 4 → 30; 350 workers → 3 × 2 = 6; high risk → 15;
    /// open 2 × 3 = 6; overdue 1 × 6 = 6; accidents 1 × 25 = 25;
    /// 2 full years × 4 = 8; last outcome 4 × 2 = 8. Total 104.
    #[test]
    fn a_shipyard_scores_as_computed_by_hand() {
        let inputs = RiskInputs {
            sector: "Đóng tàu".into(),
            workforce: 350,
            high_risk: true,
            open_violations: 2,
            overdue_violations: 1,
            accidents: vec![
                AccidentFacts {
                    on: day("2024-02-10"),
                    deaths: 1,
                    seriously_injured: 0,
                },
                AccidentFacts {
                    on: day("2021-09-01"),
                    deaths: 0,
                    seriously_injured: 0,
                },
            ],
            last_inspection: Some(LastInspection {
                on: day("2023-03-05"),
                violations: 4,
            }),
        };
        let s = score(
            &inputs,
            &RiskWeights::default(),
            &HazardTable::shipped().unwrap(),
            day("2025-06-01"),
        );
        let expected = [
            (FactorKind::Hazard, 30),
            (FactorKind::Workforce, 6),
            (FactorKind::HighRisk, 15),
            (FactorKind::OpenViolations, 6),
            (FactorKind::OverdueViolations, 6),
            (FactorKind::Accidents, 25),
            (FactorKind::TimeSinceInspection, 8),
            (FactorKind::LastOutcome, 8),
        ];
        for (kind, p) in expected {
            assert_eq!(points(&s, kind), p, "{kind:?}: {:?}", s.factors);
        }
        assert_eq!(s.total, 104);
        let hazard = &s.factors[0];
        assert!(hazard.detail_vi.contains("hạng 4") && hazard.detail_vi.contains("chưa được xác minh"));
        assert!(
            s.factors[5].detail_en.contains("1 fatal × 25"),
            "{}",
            s.factors[5].detail_en
        );
    }

    /// A shop never inspected, sector unknown to the table, 40 workers:
    /// class 2 (unlisted) → 10; 0 × 2 = 0; not high risk; no violations,
    /// no accidents; never inspected → 20. Total 30. Caps hold for a huge one.
    #[test]
    fn an_unlisted_never_inspected_shop_and_the_caps() {
        let shop = RiskInputs {
            sector: "Bán lẻ đồ chơi".into(),
            workforce: 40,
            ..Default::default()
        };
        let hazards = HazardTable::shipped().unwrap();
        let w = RiskWeights::default();
        let s = score(&shop, &w, &hazards, day("2025-06-01"));
        assert_eq!(s.total, 30, "{:?}", s.factors);
        assert_eq!(points(&s, FactorKind::Hazard), 10);
        assert!(s.factors[0].detail_en.contains("not in the table"));
        assert_eq!(points(&s, FactorKind::TimeSinceInspection), 20);
        assert_eq!(s.factors.len(), 8, "every factor is shown, zero or not");

        let huge = RiskInputs {
            sector: "Dịch vụ".into(),
            workforce: 25_000,
            open_violations: 40,
            overdue_violations: 40,
            last_inspection: Some(LastInspection {
                on: day("2010-01-01"),
                violations: 99,
            }),
            ..Default::default()
        };
        let s = score(&huge, &w, &hazards, day("2025-06-01"));
        assert_eq!(points(&s, FactorKind::Workforce), 20);
        assert_eq!(points(&s, FactorKind::OpenViolations), 30);
        assert_eq!(points(&s, FactorKind::OverdueViolations), 60);
        assert_eq!(points(&s, FactorKind::TimeSinceInspection), 20);
        assert_eq!(points(&s, FactorKind::LastOutcome), 20);
        assert_eq!(s.total, 150);
    }

    #[test]
    fn full_years_count_anniversaries() {
        assert_eq!(full_years(day("2023-03-05"), day("2025-03-04")), 1);
        assert_eq!(full_years(day("2023-03-05"), day("2025-03-05")), 2);
        // A year after 29 February is 28 February (chrono clamps to the month's end).
        assert_eq!(full_years(day("2024-02-29"), day("2025-02-27")), 0);
        assert_eq!(full_years(day("2024-02-29"), day("2025-02-28")), 1);
        assert_eq!(full_years(day("2025-06-01"), day("2024-01-01")), 0);
    }
}
