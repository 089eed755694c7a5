//! The overview's figures from the kept aggregates: what `overview::stats`,
//! `targets` and `decree39` compute from every record, read from a few
//! shards (a year's months, the violations, the high-risk list) and, for the
//! listed overdue violations, their facilities. The unit a code stands for on
//! a date is decided here, with the units as published now.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use kiemtra_core::admin_units::AdminUnits;
use kiemtra_core::ids::FacilityId;
use kiemtra_core::inspection::InspectionKind;

use super::{
    accidents_shard, day_shard, month_shard, overdue_shard, read_shard, visited_shard, Cell, Cells, Family,
    Standing,
};
use crate::db::Read;
use crate::error::ServerError;
use crate::overview::decree39::{period, Decree39Row};
use crate::overview::stats::{InspectionCount, LegalBasisCount, OverdueViolation, SectionCount, Uninspected};
use crate::overview::targets::{TargetFigure, MEASURED};
use crate::overview::units::{unit_on, UnitKey};

/// Overdue violations listed at most on the overview page (all are counted):
/// nationally they are tens of thousands, and a page of them helps nobody.
pub const OVERDUE_LISTED: usize = 500;

/// Counters by family, unit, year and month.
type ByUnitMonth = BTreeMap<(Family, UnitKey, i32, u32), Vec<i64>>;

/// A unit's planned visits of a month, and how many were started and sealed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlanCount {
    pub unit: UnitKey,
    pub month: u32,
    pub planned: u64,
    pub started: u64,
    pub sealed: u64,
}

/// Reads figures, remembering shards and units already looked up.
pub struct Reader<'a, R: Read> {
    db: &'a R,
    units: &'a AdminUnits,
    shards: HashMap<String, Cells>,
    unit_cache: HashMap<(String, NaiveDate), UnitKey>,
    uniform: HashMap<(String, i32, u32), bool>,
}

fn first_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1)
}

fn last_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.and_then(|d| d.pred_opt())
}

impl<'a, R: Read> Reader<'a, R> {
    pub fn new(db: &'a R, units: &'a AdminUnits) -> Self {
        Self {
            db,
            units,
            shards: HashMap::new(),
            unit_cache: HashMap::new(),
            uniform: HashMap::new(),
        }
    }

    fn shard(&mut self, name: &str) -> Result<&Cells, ServerError> {
        if !self.shards.contains_key(name) {
            let cells = read_shard(self.db, name)?;
            self.shards.insert(name.to_string(), cells);
        }
        Ok(&self.shards[name])
    }

    fn unit(&mut self, code: &str, date: NaiveDate) -> UnitKey {
        if let Some(u) = self.unit_cache.get(&(code.to_string(), date)) {
            return u.clone();
        }
        let u = unit_on(self.units, code, date);
        self.unit_cache.insert((code.to_string(), date), u.clone());
        u
    }

    /// Whether `code` stands for the same unit on every day of the month:
    /// no unit of its chain begins or ends inside it (`AdminUnits::as_of`
    /// compares dates with nothing else).
    fn uniform(&mut self, code: &str, year: i32, month: u32) -> bool {
        let key = (code.to_string(), year, month);
        if let Some(u) = self.uniform.get(&key) {
            return *u;
        }
        let (Some(first), Some(last)) = (first_of_month(year, month), last_of_month(year, month)) else {
            return false;
        };
        let mut seen = HashSet::new();
        let mut stack = vec![code.to_string()];
        let mut uniform = true;
        while let Some(c) = stack.pop() {
            if seen.len() > 64 || !seen.insert(c.clone()) {
                continue;
            }
            let Some(u) = self.units.get(&c) else { continue };
            let mut bounds = vec![u.valid_from];
            bounds.extend(u.valid_to.and_then(|t| t.succ_opt()));
            if bounds.iter().any(|b| *b > first && *b <= last) {
                uniform = false;
                break;
            }
            stack.extend(u.predecessor.clone());
            stack.extend(u.successor.clone());
        }
        self.uniform.insert(key, uniform);
        uniform
    }

    /// The years with records and with accidents.
    fn year_cells(&mut self) -> Result<(BTreeSet<i32>, BTreeSet<i32>), ServerError> {
        let mut records = BTreeSet::new();
        let mut accidents = BTreeSet::new();
        for (cell, v) in self.shard("years")? {
            if let Cell::Years { year } = cell {
                if v.first().is_some_and(|n| *n > 0) {
                    records.insert(*year);
                }
                if v.get(1).is_some_and(|n| *n > 0) {
                    accidents.insert(*year);
                }
            }
        }
        Ok((records, accidents))
    }

    /// The years to offer: the plan's, and any with records or accidents.
    pub fn years(&mut self) -> Result<Vec<i32>, ServerError> {
        let (records, accidents) = self.year_cells()?;
        let mut y: BTreeSet<i32> = (2023..=2025).collect();
        y.extend(records);
        y.extend(accidents);
        Ok(y.into_iter().collect())
    }

    /// The year shown by default: the latest year of the plan with records.
    pub fn default_year(&mut self) -> Result<i32, ServerError> {
        let (records, _) = self.year_cells()?;
        Ok(records.into_iter().filter(|y| *y <= 2025).max().unwrap_or(2025))
    }

    /// A dated family's counters by the unit valid on their date, and the
    /// month, over `months`.
    fn dated(
        &mut self,
        months: &[(i32, u32)],
        wanted: impl Fn(&Family) -> bool,
    ) -> Result<ByUnitMonth, ServerError> {
        let mut out = ByUnitMonth::new();
        fn add(e: &mut Vec<i64>, v: &[i64]) {
            if e.len() < v.len() {
                e.resize(v.len(), 0);
            }
            for (a, b) in e.iter_mut().zip(v) {
                *a += b;
            }
        }
        for &(year, month) in months {
            let cells: Vec<(Family, String, Vec<i64>)> = self
                .shard(&month_shard(year, month))?
                .iter()
                .filter_map(|(c, v)| match c {
                    Cell::Month { family, unit, .. } if wanted(family) => {
                        Some((*family, unit.clone(), v.clone()))
                    }
                    _ => None,
                })
                .collect();
            let Some(first) = first_of_month(year, month) else {
                continue;
            };
            for (family, code, values) in cells {
                if self.uniform(&code, year, month) {
                    let unit = self.unit(&code, first);
                    add(out.entry((family, unit, year, month)).or_default(), &values);
                    continue;
                }
                // A unit begins or ends this month: day by day.
                let days: Vec<(NaiveDate, Vec<i64>)> = self
                    .shard(&day_shard(&code, year, month))?
                    .iter()
                    .filter_map(|(c, v)| match c {
                        Cell::Day { family: f, date, .. } if *f == family => Some((*date, v.clone())),
                        _ => None,
                    })
                    .collect();
                for (date, v) in days {
                    let unit = self.unit(&code, date);
                    add(out.entry((family, unit, year, month)).or_default(), &v);
                }
            }
        }
        Ok(out)
    }

    /// Started inspections by unit, month and kind in `year` (without the
    /// inspections' ids, which only the records page lists).
    pub fn inspections(&mut self, year: i32) -> Result<Vec<InspectionCount>, ServerError> {
        let months: Vec<(i32, u32)> = (1..=12).map(|m| (year, m)).collect();
        let cells = self.dated(&months, |f| matches!(f, Family::Inspections(_)))?;
        let mut map: BTreeMap<(UnitKey, String, InspectionKind), u64> = BTreeMap::new();
        for ((family, unit, y, m), v) in cells {
            if let Family::Inspections(kind) = family {
                *map.entry((unit, format!("{y:04}-{m:02}"), kind)).or_default() += count(&v, 0);
            }
        }
        Ok(map
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|((unit, month, kind), count)| InspectionCount {
                unit,
                month,
                kind,
                count,
                inspections: Vec::new(),
            })
            .collect())
    }

    /// The plan of `year` and how far it went, by unit and month
    /// (`[planned, started, sealed]` by planned date).
    pub fn plan(&mut self, year: i32) -> Result<Vec<PlanCount>, ServerError> {
        let months: Vec<(i32, u32)> = (1..=12).map(|m| (year, m)).collect();
        let cells = self.dated(&months, |f| matches!(f, Family::Plan))?;
        Ok(cells
            .into_iter()
            .filter(|(_, v)| count(v, 0) > 0)
            .map(|((_, unit, _, month), v)| PlanCount {
                unit,
                month,
                planned: count(&v, 0),
                started: count(&v, 1),
                sealed: count(&v, 2),
            })
            .collect())
    }

    /// The kinds of started inspections in any year (the chart's series).
    pub fn kinds(&mut self) -> Result<Vec<InspectionKind>, ServerError> {
        Ok(self
            .shard("years")?
            .iter()
            .filter_map(|(c, v)| match c {
                Cell::Kind { kind } if count(v, 0) > 0 => Some(*kind),
                _ => None,
            })
            .collect())
    }

    /// Every measured target's figures, as `targets::compute` (with the
    /// number of records behind each figure, not the records).
    pub fn targets(&mut self) -> Result<Vec<TargetFigure>, ServerError> {
        self.targets_in(None)
    }

    /// As [`Reader::targets`], of `year` only when given: the overview page
    /// shows one year, and each year read costs its twelve month shards.
    pub fn targets_in(&mut self, only: Option<i32>) -> Result<Vec<TargetFigure>, ServerError> {
        let wanted = |y: &i32| only.is_none_or(|o| o == *y);
        let (mut record_years, _) = self.year_cells()?;
        record_years.retain(wanted);
        let months: Vec<(i32, u32)> = record_years
            .iter()
            .flat_map(|y| (1..=12).map(move |m| (*y, m)))
            .collect();
        let ratios = self.dated(&months, |f| matches!(f, Family::Ratio(_)))?;
        type Acc = BTreeMap<(UnitKey, i32), [u64; 3]>;
        let mut by_ratio: Vec<Acc> = vec![Acc::new(); super::RATIO_ITEMS.len()];
        for ((family, unit, year, _), v) in ratios {
            if let Family::Ratio(i) = family {
                if let Some(acc) = by_ratio.get_mut(usize::from(i)) {
                    let e = acc.entry((unit, year)).or_default();
                    for (k, slot) in e.iter_mut().enumerate() {
                        *slot += count(&v, k);
                    }
                }
            }
        }
        // Target 6: per year of the plan and any with records.
        let mut years: BTreeSet<i32> = (2023..=2025).collect();
        years.extend(record_years.iter().copied());
        years.retain(wanted);
        let mut listed: Vec<(String, u64)> = Vec::new();
        let mut visited: HashMap<(i32, String), u64> = HashMap::new();
        for (c, v) in self.shard("target-6")? {
            match c {
                Cell::Listed { unit } => listed.push((unit.clone(), count(v, 0))),
                Cell::ListedVisited { year, unit } => {
                    visited.insert((*year, unit.clone()), count(v, 0));
                }
                _ => {}
            }
        }
        let mut t6 = Acc::new();
        for year in &years {
            let Some(reference) = NaiveDate::from_ymd_opt(*year, 1, 1) else {
                continue;
            };
            for (code, n) in &listed {
                let unit = self.unit(code, reference);
                let e = t6.entry((unit, *year)).or_default();
                e[0] += visited.get(&(*year, code.clone())).copied().unwrap_or(0);
                e[1] += n;
                e[2] += n;
            }
        }
        // Target 8: fatal accidents, and those with sealed investigation minutes.
        let (_, mut accident_years) = self.year_cells()?;
        accident_years.retain(wanted);
        let mut t8 = Acc::new();
        for year in accident_years {
            let cells: Vec<(String, NaiveDate, Vec<i64>)> = self
                .shard(&accidents_shard(year))?
                .iter()
                .filter_map(|(c, v)| match c {
                    Cell::Accidents { unit, date } if count(v, 0) > 0 => {
                        Some((unit.clone(), *date, v.clone()))
                    }
                    _ => None,
                })
                .collect();
            for (code, date, v) in cells {
                let unit = self.unit(&code, date);
                let e = t8.entry((unit, date.year())).or_default();
                e[0] += count(&v, 1);
                e[1] += count(&v, 0);
                e[2] += count(&v, 0);
            }
        }
        let [t4, t4b, t5, t6_def, t7, t8_def] = &MEASURED;
        let mut by_ratio = by_ratio.into_iter();
        let mut next = || by_ratio.next().unwrap_or_default();
        let (a4, a4b, a5, a7) = (next(), next(), next(), next());
        let mut out = Vec::new();
        for (def, acc) in [
            (t4, a4),
            (t4b, a4b),
            (t5, a5),
            (t6_def, t6),
            (t7, a7),
            (t8_def, t8),
        ] {
            out.extend(
                acc.into_iter()
                    .map(|((unit, year), [n, d, records])| TargetFigure {
                        target: def.id,
                        unit,
                        year,
                        numerator: n,
                        denominator: d,
                        goal_per_mille: def.goal_per_mille,
                        records: Vec::new(),
                        record_count: records as usize,
                    }),
            );
        }
        Ok(out)
    }

    /// Violations by template and section, as `stats::violations_by_section`.
    /// Should two versions of a template title a section differently, the
    /// first title in text order is shown.
    pub fn sections(&mut self) -> Result<Vec<SectionCount>, ServerError> {
        let mut map: BTreeMap<(String, String), (String, u64)> = BTreeMap::new();
        for (c, v) in self.shard("violations")? {
            if let Cell::Section {
                template,
                section,
                title,
            } = c
            {
                let e = map
                    .entry((template.clone(), section.clone()))
                    .or_insert((title.clone(), 0));
                e.1 += count(v, 0);
            }
        }
        Ok(map
            .into_iter()
            .map(|((template, section), (title, count))| SectionCount {
                template,
                section,
                title,
                count,
            })
            .collect())
    }

    /// As `stats::violations_by_legal_basis`.
    pub fn legal(&mut self) -> Result<Vec<LegalBasisCount>, ServerError> {
        let mut out: Vec<LegalBasisCount> = self
            .shard("violations")?
            .iter()
            .filter_map(|(c, v)| match c {
                Cell::Legal { instrument, article } => Some(LegalBasisCount {
                    instrument: instrument.clone(),
                    article: article.clone(),
                    count: count(v, 0),
                }),
                _ => None,
            })
            .collect();
        out.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.instrument.cmp(&b.instrument))
        });
        Ok(out)
    }

    /// Violations past their deadline on `today` and not verified as
    /// remedied, oldest deadline first: the first `limit`, and the counts of
    /// all of them (open, remediated, in all).
    pub fn overdue(&mut self, today: NaiveDate, limit: usize) -> Result<Overdue, ServerError> {
        let mut out = Overdue::default();
        let mut deadlines = BTreeSet::new();
        for (c, v) in self.shard("overdue-days")? {
            if let Cell::OverdueDay { deadline, status } = c {
                if *deadline >= today {
                    continue;
                }
                let n = count(v, 0) as usize;
                out.total += n;
                match status {
                    Standing::Open => out.open += n,
                    Standing::Remediated => out.remediated += n,
                    Standing::Verified => {}
                }
                deadlines.insert(*deadline);
            }
        }
        'days: for deadline in deadlines {
            let cells: Vec<Cell> = self.shard(&overdue_shard(deadline))?.keys().cloned().collect();
            for c in cells {
                if out.rows.len() >= limit {
                    break 'days;
                }
                let Cell::Overdue {
                    deadline,
                    date,
                    inspection,
                    name,
                    unit,
                    item,
                    text,
                    status,
                    ..
                } = c
                else {
                    continue;
                };
                out.rows.push(OverdueViolation {
                    inspection,
                    facility: name,
                    unit: self.unit(&unit, date),
                    item,
                    text,
                    deadline,
                    days_overdue: (today - deadline).num_days(),
                    status: status.into(),
                });
            }
        }
        Ok(out)
    }

    /// As `stats::high_risk_not_inspected`.
    pub fn uninspected(&mut self, year: i32, today: NaiveDate) -> Result<Vec<Uninspected>, ServerError> {
        let reference = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(today);
        let visited: HashSet<FacilityId> = self
            .shard(&visited_shard(year))?
            .keys()
            .filter_map(|c| match c {
                Cell::Visited { facility, .. } => Some(*facility),
                _ => None,
            })
            .collect();
        let listed: Vec<(FacilityId, String, kiemtra_core::facility::FacilityKind, String)> = self
            .shard("high-risk")?
            .keys()
            .filter_map(|c| match c {
                Cell::HighRisk {
                    facility,
                    name,
                    kind,
                    unit,
                } if !visited.contains(facility) => Some((*facility, name.clone(), *kind, unit.clone())),
                _ => None,
            })
            .collect();
        let mut out: Vec<Uninspected> = listed
            .into_iter()
            .map(|(facility, name, kind, code)| Uninspected {
                facility,
                name,
                kind,
                unit: self.unit(&code, reference),
            })
            .collect();
        out.sort_by(|a, b| (&a.unit, &a.name).cmp(&(&b.unit, &b.name)));
        Ok(out)
    }

    /// Fatal accidents declared in `year`.
    pub fn fatal(&mut self, year: i32) -> Result<u64, ServerError> {
        Ok(self
            .shard(&accidents_shard(year))?
            .values()
            .map(|v| count(v, 0))
            .sum())
    }

    /// As `decree39::report`.
    pub fn decree39(&mut self, year: i32, half: u8) -> Result<Vec<Decree39Row>, ServerError> {
        let Some((from, to)) = period(year, half) else {
            return Ok(Vec::new());
        };
        let cells: Vec<(String, NaiveDate, Vec<i64>)> = self
            .shard(&accidents_shard(year))?
            .iter()
            .filter_map(|(c, v)| match c {
                Cell::Accidents { unit, date } if count(v, 2) > 0 && *date >= from && *date <= to => {
                    Some((unit.clone(), *date, v.clone()))
                }
                _ => None,
            })
            .collect();
        let mut rows: BTreeMap<UnitKey, Decree39Row> = BTreeMap::new();
        for (code, date, v) in cells {
            let unit = self.unit(&code, date);
            let row = rows.entry(unit.clone()).or_insert(Decree39Row {
                unit,
                accidents: 0,
                fatal_accidents: 0,
                victims: 0,
                deaths: 0,
                seriously_injured: 0,
                lightly_injured: 0,
            });
            row.accidents += count(&v, 2);
            row.fatal_accidents += count(&v, 3);
            row.victims += count(&v, 4);
            row.deaths += count(&v, 5);
            row.seriously_injured += count(&v, 6);
            row.lightly_injured += count(&v, 7);
        }
        Ok(rows.into_values().collect())
    }
}

/// The overdue violations the overview lists and counts.
#[derive(Debug, Default)]
pub struct Overdue {
    pub rows: Vec<OverdueViolation>,
    pub open: usize,
    pub remediated: usize,
    pub total: usize,
}

fn count(v: &[i64], i: usize) -> u64 {
    v.get(i).copied().unwrap_or(0).max(0) as u64
}
