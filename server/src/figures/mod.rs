//! The overview's figures, kept incrementally: every commit that writes an
//! inspection record, a facility or an accident also writes the change of
//! the figures it causes (`Table::Figures`), so that a page reads a few
//! aggregates instead of every record (the national scale: a
//! million inspections).
//!
//! What is kept, in `Table::Figures`:
//! - `f/<facility>`: a [`FacilityFigures`], a small summary of each of the
//!   facility's records (what the overview reads from a record: date, kind,
//!   status, the ratio answers of the targets, the violations). A change is
//!   a delta: the facility's contribution computed from the summaries before
//!   is subtracted, the one after added. Keeping the summaries, rather than
//!   reading the old record, also covers what is not additive per record
//!   (the latest sealed inspection of a facility and year, whether a
//!   high-risk facility was visited in a year).
//! - `a/<accident>`: the sealed investigations of an accident (target 8).
//! - `s/<shard>`: the counters, cells grouped in shards by what a page
//!   reads together (a month, a year, a deadline day). Cells are keyed by
//!   the administrative unit *code* recorded on the facility or accident,
//!   and the date: which unit that code stands for on the date is decided
//!   when reading (`read`), since the agency's units list can be published
//!   again at any time. Dated cells are kept per month, and per day in a
//!   small shard per unit and month, read only for a month in which one of
//!   the code's units begins or ends.
//! - `format`: the marker that the figures are complete; a store without it
//!   (made by an earlier version, or whose records were rebuilt from the log)
//!   gets them computed from everything once, at start-up ([`ensure`]).
//!
//! [`recompute`] computes all of it from the records, facilities and
//! accidents; the tests compare it with what the commits kept.

pub mod read;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use kiemtra_core::accident::Accident;
use kiemtra_core::answer::AnswerValue;
use kiemtra_core::codec::{from_cbor, to_cbor};
use kiemtra_core::facility::{Facility, FacilityKind};
use kiemtra_core::ids::{AccidentId, FacilityId, InspectionId};
use kiemtra_core::inspection::{InspectionKind, Status};
use kiemtra_core::record::{Context, InspectionRecord};
use kiemtra_core::template::{ChecklistTemplate, TemplateRef};
use kiemtra_core::violation::ViolationStatus;
use serde::{Deserialize, Serialize};

use crate::db::{Read, View};
use crate::error::ServerError;
use crate::storage::{Changeset, Storage, Table};

/// The marker key, with the layout's version: another layout is recomputed.
pub const FORMAT_KEY: &[u8] = b"format";
/// 2: the plan and its progress (`Family::Plan`).
const FORMAT: u64 = 2;

/// The answers the ratio targets sum, in the order of `targets::MEASURED`
/// (targets 4, 4b, 5 and 7).
pub const RATIO_ITEMS: [(&str, &str); 4] = [("4", "C3"), ("4b", "C2"), ("5", "C5"), ("7", "H5")];

/// A violation of sealed minutes, as the overview counts and lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationSummary {
    pub section: String,
    /// The section's title in the record's template version.
    pub title: String,
    pub legal: Vec<(String, String)>,
    pub item: String,
    pub text: String,
    pub deadline: NaiveDate,
    pub status: ViolationStatus,
}

/// What the overview reads from one inspection record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSummary {
    pub date: NaiveDate,
    /// The planned date (`date` is the day it started, once it has).
    pub planned: NaiveDate,
    pub kind: InspectionKind,
    pub status: Status,
    pub accident: Option<AccidentId>,
    pub template: TemplateRef,
    /// The ratio answers of [`RATIO_ITEMS`], of sealed minutes only.
    pub ratios: Vec<Option<(u64, u64)>>,
    /// Sealed minutes' violations, dismissed ones left out, in the record's order.
    pub violations: Vec<ViolationSummary>,
}

impl RecordSummary {
    pub fn of(
        r: &InspectionRecord,
        template: Option<&ChecklistTemplate>,
        kind: Option<FacilityKind>,
    ) -> Self {
        let sealed = r.inspection.status >= Status::Sealed;
        let ratios = if sealed {
            RATIO_ITEMS
                .iter()
                .map(
                    |(_, item)| match r.answers.get(*item).and_then(|reg| reg.value()).map(|e| &e.value) {
                        Some(AnswerValue::Ratio {
                            numerator,
                            denominator,
                        }) => Some((*numerator, *denominator)),
                        _ => None,
                    },
                )
                .collect()
        } else {
            Vec::new()
        };
        let violations = match (sealed, template, kind) {
            (true, Some(t), Some(facility_kind)) => {
                let ctx = Context {
                    template: t,
                    facility_kind,
                    trusted_keys: None,
                };
                r.violations(&ctx)
                    .into_iter()
                    .filter(|v| !v.is_dismissed())
                    .map(|v| ViolationSummary {
                        title: t
                            .sections
                            .iter()
                            .find(|s| s.code == v.section)
                            .map(|s| s.title_vi.clone())
                            .unwrap_or_default(),
                        section: v.section,
                        legal: v
                            .legal_basis
                            .into_iter()
                            .map(|l| (l.instrument, l.article))
                            .collect(),
                        item: v.item,
                        text: v.text_vi,
                        deadline: v.deadline,
                        status: v.status,
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        Self {
            date: r.inspection.date(),
            planned: r.inspection.planned_date,
            kind: r.inspection.kind,
            status: r.inspection.status,
            accident: r.inspection.accident,
            template: r.inspection.template.clone(),
            ratios,
            violations,
        }
    }

    fn started(&self) -> bool {
        self.status >= Status::InProgress
    }

    fn sealed(&self) -> bool {
        self.status >= Status::Sealed
    }

    /// Whether the record is one of the inspectorate's planned visits.
    fn planned(&self) -> bool {
        !matches!(
            self.kind,
            InspectionKind::SelfInspection | InspectionKind::AccidentInvestigation
        )
    }
}

/// The summaries of a facility's records (kept also before the facility
/// itself is known: its records then count only in the years offered).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityFigures {
    pub records: BTreeMap<InspectionId, RecordSummary>,
}

/// The records investigating an accident whose minutes are sealed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccidentFigures {
    pub sealed: BTreeSet<InspectionId>,
}

/// What a dated cell counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Family {
    /// Started inspections of a kind: `[count]`.
    Inspections(InspectionKind),
    /// A ratio target (index in [`RATIO_ITEMS`]) from the latest sealed
    /// inspection of a facility and year: `[numerator, denominator, records]`.
    Ratio(u8),
    /// The inspectorate's planned visits (every kind it assigns but an
    /// accident investigation, which follows an accident, not a plan), by
    /// planned date, so that a visit counts in its plan's month wherever it
    /// was done: `[planned, started, sealed]`.
    Plan,
}

/// A violation's status, ordered (the core's `ViolationStatus` is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Standing {
    Open,
    Remediated,
    Verified,
}

impl From<ViolationStatus> for Standing {
    fn from(s: ViolationStatus) -> Self {
        match s {
            ViolationStatus::Open => Standing::Open,
            ViolationStatus::Remediated => Standing::Remediated,
            ViolationStatus::Verified => Standing::Verified,
        }
    }
}

impl From<Standing> for ViolationStatus {
    fn from(s: Standing) -> Self {
        match s {
            Standing::Open => ViolationStatus::Open,
            Standing::Remediated => ViolationStatus::Remediated,
            Standing::Verified => ViolationStatus::Verified,
        }
    }
}

/// One counter cell. The counters of a cell are `i64`s, summed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Cell {
    /// `[records, accidents]` of a year (the years the overview offers).
    Years { year: i32 },
    /// `[count]` of started inspections of a kind, in any year (the chart's series).
    Kind { kind: InspectionKind },
    /// A dated family's cell of a unit code and month.
    Month {
        family: Family,
        unit: String,
        year: i32,
        month: u32,
    },
    /// The same, per day: read only where the code's unit changes inside the month.
    Day {
        family: Family,
        unit: String,
        date: NaiveDate,
    },
    /// `[count]` of violations by template, section and section title.
    Section {
        template: String,
        section: String,
        title: String,
    },
    /// `[count]` of legal references of violations.
    Legal { instrument: String, article: String },
    /// `[1]`: a violation not verified as remedied, by deadline, then in
    /// the order the overview lists them (record date, record, position).
    Overdue {
        deadline: NaiveDate,
        date: NaiveDate,
        inspection: InspectionId,
        index: u32,
        facility: FacilityId,
        /// The facility's name and unit code, so that listing needs no facility read.
        name: String,
        unit: String,
        item: String,
        text: String,
        status: Standing,
    },
    /// `[count]` of such violations by deadline and status.
    OverdueDay { deadline: NaiveDate, status: Standing },
    /// `[1]`: a high-risk facility.
    HighRisk {
        facility: FacilityId,
        name: String,
        kind: FacilityKind,
        unit: String,
    },
    /// `[1]`: a high-risk facility with a started inspection or visit in `year`.
    Visited { year: i32, facility: FacilityId },
    /// `[count]` of high-risk craft villages and cooperatives by unit code (target 6).
    Listed { unit: String },
    /// `[count]` of those with a started inspection or visit in `year`.
    ListedVisited { year: i32, unit: String },
    /// Accidents by unit code and date: `[fatal, fatal with sealed
    /// investigation, without contract, of those fatal, victims, deaths,
    /// seriously injured, lightly injured]`.
    Accidents { unit: String, date: NaiveDate },
}

impl Cell {
    /// The shard the cell is kept in (key `s/<shard>`).
    pub fn shard(&self) -> String {
        match self {
            Cell::Years { .. } | Cell::Kind { .. } => "years".into(),
            Cell::Month { year, month, .. } => month_shard(*year, *month),
            Cell::Day { unit, date, .. } => day_shard(unit, date.year(), date.month()),
            Cell::Section { .. } | Cell::Legal { .. } => "violations".into(),
            Cell::Overdue { deadline, .. } => overdue_shard(*deadline),
            Cell::OverdueDay { .. } => "overdue-days".into(),
            Cell::HighRisk { .. } => "high-risk".into(),
            Cell::Visited { year, .. } => visited_shard(*year),
            Cell::Listed { .. } | Cell::ListedVisited { .. } => "target-6".into(),
            Cell::Accidents { date, .. } => accidents_shard(date.year()),
        }
    }
}

pub fn month_shard(year: i32, month: u32) -> String {
    format!("m/{year:04}-{month:02}")
}
pub fn day_shard(unit: &str, year: i32, month: u32) -> String {
    format!("d/{year:04}-{month:02}/{unit}")
}
pub fn overdue_shard(deadline: NaiveDate) -> String {
    format!("o/{deadline}")
}
pub fn visited_shard(year: i32) -> String {
    format!("visited/{year:04}")
}
pub fn accidents_shard(year: i32) -> String {
    format!("accidents/{year:04}")
}

/// Cells and their counters.
pub type Cells = BTreeMap<Cell, Vec<i64>>;

/// A change of cells, summed into the shards at the end.
#[derive(Debug, Default)]
pub struct Delta(pub Cells);

impl Delta {
    fn add(&mut self, cell: Cell, sign: i64, values: &[i64]) {
        let e = self.0.entry(cell).or_insert_with(|| vec![0; values.len()]);
        if e.len() < values.len() {
            e.resize(values.len(), 0);
        }
        for (a, v) in e.iter_mut().zip(values) {
            *a += sign * v;
        }
    }

    fn dated(&mut self, family: Family, unit: &str, date: NaiveDate, sign: i64, values: &[i64]) {
        self.add(
            Cell::Month {
                family,
                unit: unit.to_string(),
                year: date.year(),
                month: date.month(),
            },
            sign,
            values,
        );
        self.add(
            Cell::Day {
                family,
                unit: unit.to_string(),
                date,
            },
            sign,
            values,
        );
    }
}

fn is_listed(f: &Facility) -> bool {
    f.high_risk && matches!(f.kind, FacilityKind::CraftVillage | FacilityKind::Cooperative)
}

/// Adds (`sign` 1) or subtracts (-1) what a facility and its records' summaries count.
pub fn facility_contribution(
    id: FacilityId,
    facility: Option<&Facility>,
    ff: &FacilityFigures,
    sign: i64,
    d: &mut Delta,
) {
    for s in ff.records.values() {
        d.add(Cell::Years { year: s.date.year() }, sign, &[1, 0]);
    }
    let Some(f) = facility else {
        return;
    };
    let unit = f.address.unit.as_str();
    let mut latest: BTreeMap<i32, (NaiveDate, std::cmp::Reverse<InspectionId>, &RecordSummary)> =
        BTreeMap::new();
    let mut started_years = BTreeSet::new();
    for (id, s) in &ff.records {
        if s.planned() {
            d.dated(
                Family::Plan,
                unit,
                s.planned,
                sign,
                &[1, i64::from(s.started()), i64::from(s.sealed())],
            );
        }
        if s.started() {
            d.dated(Family::Inspections(s.kind), unit, s.date, sign, &[1]);
            d.add(Cell::Kind { kind: s.kind }, sign, &[1]);
            started_years.insert(s.date.year());
        }
        if s.sealed() {
            // The latest per year; of the same day, the first in id order (as `targets`).
            let candidate = (s.date, std::cmp::Reverse(*id), s);
            let e = latest.entry(s.date.year()).or_insert(candidate);
            if (candidate.0, candidate.1) > (e.0, e.1) {
                *e = candidate;
            }
        }
        for (index, v) in s.violations.iter().enumerate() {
            d.add(
                Cell::Section {
                    template: s.template.id.clone(),
                    section: v.section.clone(),
                    title: v.title.clone(),
                },
                sign,
                &[1],
            );
            for (instrument, article) in &v.legal {
                d.add(
                    Cell::Legal {
                        instrument: instrument.clone(),
                        article: article.clone(),
                    },
                    sign,
                    &[1],
                );
            }
            if v.status != ViolationStatus::Verified {
                d.add(
                    Cell::Overdue {
                        deadline: v.deadline,
                        date: s.date,
                        inspection: *id,
                        index: index as u32,
                        facility: f.id,
                        name: f.name.clone(),
                        unit: unit.to_string(),
                        item: v.item.clone(),
                        text: v.text.clone(),
                        status: v.status.into(),
                    },
                    sign,
                    &[1],
                );
                d.add(
                    Cell::OverdueDay {
                        deadline: v.deadline,
                        status: v.status.into(),
                    },
                    sign,
                    &[1],
                );
            }
        }
    }
    for (date, _, s) in latest.values() {
        for (i, ratio) in s.ratios.iter().enumerate() {
            if let Some((n, den)) = ratio {
                let values = [(*n).min(*den) as i64, *den as i64, 1];
                d.dated(Family::Ratio(i as u8), unit, *date, sign, &values);
            }
        }
    }
    if f.high_risk {
        d.add(
            Cell::HighRisk {
                facility: id,
                name: f.name.clone(),
                kind: f.kind,
                unit: unit.to_string(),
            },
            sign,
            &[1],
        );
        for year in &started_years {
            d.add(
                Cell::Visited {
                    year: *year,
                    facility: id,
                },
                sign,
                &[1],
            );
        }
    }
    if is_listed(f) {
        d.add(
            Cell::Listed {
                unit: unit.to_string(),
            },
            sign,
            &[1],
        );
        for year in &started_years {
            d.add(
                Cell::ListedVisited {
                    year: *year,
                    unit: unit.to_string(),
                },
                sign,
                &[1],
            );
        }
    }
}

/// Adds or subtracts what an accident counts.
pub fn accident_contribution(a: &Accident, sealed: bool, sign: i64, d: &mut Delta) {
    let date = a.date();
    d.add(Cell::Years { year: date.year() }, sign, &[0, 1]);
    let fatal = a.deaths > 0;
    let mut values = [0i64; 8];
    if fatal {
        values[0] = 1;
        values[1] = i64::from(sealed);
    }
    if a.without_contract {
        values[2] = 1;
        values[3] = i64::from(fatal);
        values[4] = i64::from(a.victim_count());
        values[5] = i64::from(a.deaths);
        values[6] = i64::from(a.seriously_injured);
        values[7] = i64::from(a.lightly_injured);
    }
    if values.iter().any(|v| *v != 0) {
        d.add(
            Cell::Accidents {
                unit: a.unit.clone(),
                date,
            },
            sign,
            &values,
        );
    }
}

fn facility_key(id: FacilityId) -> Vec<u8> {
    [b"f/".as_slice(), id.as_bytes()].concat()
}
fn accident_key(id: AccidentId) -> Vec<u8> {
    [b"a/".as_slice(), id.as_bytes()].concat()
}
fn shard_key(shard: &str) -> Vec<u8> {
    format!("s/{shard}").into_bytes()
}

/// A shard as stored: its cells in order (a list, so that any key encodes).
type ShardRows = Vec<(Cell, Vec<i64>)>;

pub fn read_shard(db: &impl Read, shard: &str) -> Result<Cells, ServerError> {
    match db.raw(Table::Figures, &shard_key(shard))? {
        Some(bytes) => Ok(from_cbor::<ShardRows>("figures shard", &bytes)?
            .into_iter()
            .collect()),
        None => Ok(Cells::new()),
    }
}

fn get_typed<T: serde::de::DeserializeOwned + Default>(
    db: &impl Read,
    key: &[u8],
    what: &'static str,
) -> Result<T, ServerError> {
    match db.raw(Table::Figures, key)? {
        Some(bytes) => Ok(from_cbor(what, &bytes)?),
        None => Ok(T::default()),
    }
}

/// Sums `delta` into the stored shards, writing the shards it changes.
fn write_delta(store: &dyn Storage, changes: &mut Changeset, delta: Delta) -> Result<(), ServerError> {
    let mut by_shard: BTreeMap<String, Vec<(Cell, Vec<i64>)>> = BTreeMap::new();
    for (cell, values) in delta.0 {
        if values.iter().all(|v| *v == 0) {
            continue;
        }
        by_shard.entry(cell.shard()).or_default().push((cell, values));
    }
    for (shard, cells) in by_shard {
        let mut current = read_shard(
            &View {
                store,
                changes: &*changes,
            },
            &shard,
        )?;
        for (cell, values) in cells {
            let e = current.entry(cell).or_insert_with(|| vec![0; values.len()]);
            if e.len() < values.len() {
                e.resize(values.len(), 0);
            }
            for (a, v) in e.iter_mut().zip(&values) {
                *a += v;
            }
        }
        current.retain(|_, v| v.iter().any(|x| *x != 0));
        put_shard(changes, &shard, current)?;
    }
    Ok(())
}

fn put_shard(changes: &mut Changeset, shard: &str, cells: Cells) -> Result<(), ServerError> {
    if cells.is_empty() {
        changes.delete(Table::Figures, shard_key(shard));
    } else {
        let rows: ShardRows = cells.into_iter().collect();
        changes.put(Table::Figures, shard_key(shard), to_cbor("figures shard", &rows)?);
    }
    Ok(())
}

/// Reads templates once per update.
struct Templates<'a> {
    view: View<'a>,
    cache: HashMap<TemplateRef, Option<ChecklistTemplate>>,
}

impl Templates<'_> {
    fn get(&mut self, r: &TemplateRef) -> Result<Option<&ChecklistTemplate>, ServerError> {
        if !self.cache.contains_key(r) {
            let t = self.view.template(r)?;
            self.cache.insert(r.clone(), t);
        }
        Ok(self.cache.get(r).and_then(|t| t.as_ref()))
    }
}

fn decode_writes<T: serde::de::DeserializeOwned>(
    changes: &Changeset,
    table: Table,
    what: &'static str,
) -> Result<Vec<T>, ServerError> {
    changes
        .writes_to(table)
        .filter_map(|(_, v)| v)
        .map(|v| from_cbor(what, v).map_err(ServerError::from))
        .collect()
}

/// The writer's hook, called on a changeset just before it is applied: adds
/// to it the change of the figures its records, facilities and accidents
/// cause, computed against the stored state (which the changeset replaces),
/// so that the figures and what they count commit together.
///
/// Records, facilities and accidents are only ever put, never deleted, by
/// the writer; the rebuild from the log (`replay`) drops the figures'
/// marker instead, and they are computed afresh at the next start.
pub fn update(store: &dyn Storage, changes: &mut Changeset) -> Result<(), ServerError> {
    if store.get(Table::Figures, FORMAT_KEY)?.is_none() && changes.get(Table::Figures, FORMAT_KEY).is_none() {
        // Not computed yet (an older store being opened): `ensure` does it whole.
        return Ok(());
    }
    let records: Vec<InspectionRecord> = decode_writes(changes, Table::Records, "inspection record")?;
    let facilities: Vec<Facility> = decode_writes(changes, Table::Facilities, "facility")?;
    let accidents: Vec<Accident> = decode_writes(changes, Table::Accidents, "accident")?;
    if records.is_empty() && facilities.is_empty() && accidents.is_empty() {
        return Ok(());
    }
    let committed = &StoreRead(store);
    let mut by_facility: BTreeMap<FacilityId, Vec<&InspectionRecord>> = BTreeMap::new();
    for r in &records {
        by_facility.entry(r.inspection.facility).or_default().push(r);
    }
    let mut new_facilities: BTreeMap<FacilityId, &Facility> = BTreeMap::new();
    for f in &facilities {
        new_facilities.insert(f.id, f);
        by_facility.entry(f.id).or_default();
    }
    let mut delta = Delta::default();
    // Accidents whose sealed investigations change: (accident, record, sealed now).
    let mut investigations: Vec<(AccidentId, InspectionId, bool)> = Vec::new();
    let mut writes: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
    {
        let mut templates = Templates {
            view: View {
                store,
                changes: &*changes,
            },
            cache: HashMap::new(),
        };
        for (fid, recs) in &by_facility {
            let old_facility = committed.facility(*fid)?;
            let old: FacilityFigures = get_typed(committed, &facility_key(*fid), "facility figures")?;
            let facility = new_facilities.get(fid).copied().or(old_facility.as_ref());
            let mut new = old.clone();
            let kind = facility.map(|f| f.kind);
            if old_facility.as_ref().map(|f| f.kind) != kind {
                // The facility's kind decides which items are asked: every
                // record's violations again, from the record as it is.
                for id in old.records.keys() {
                    if recs.iter().any(|r| r.inspection.id == *id) {
                        continue;
                    }
                    if let Some(r) = committed.record(*id)? {
                        let t = templates.get(&r.inspection.template)?;
                        new.records.insert(*id, RecordSummary::of(&r, t, kind));
                    }
                }
            }
            for r in recs {
                let t = templates.get(&r.inspection.template)?;
                new.records.insert(r.inspection.id, RecordSummary::of(r, t, kind));
            }
            if new.records == old.records && !new_facilities.contains_key(fid) {
                // Nothing the figures read changed (an answer's note, a photo).
                continue;
            }
            facility_contribution(*fid, old_facility.as_ref(), &old, -1, &mut delta);
            facility_contribution(*fid, facility, &new, 1, &mut delta);
            for (id, s) in &new.records {
                let before = old.records.get(id);
                let was = before.and_then(|b| b.accident.filter(|_| b.sealed()));
                let is = s.accident.filter(|_| s.sealed());
                if was != is {
                    if let Some(a) = was {
                        investigations.push((a, *id, false));
                    }
                    if let Some(a) = is {
                        investigations.push((a, *id, true));
                    }
                }
            }
            writes.push((facility_key(*fid), Some(to_cbor("facility figures", &new)?)));
        }
    }
    // Accidents: declared or changed in this changeset, or whose investigation was sealed.
    let mut touched: BTreeMap<AccidentId, Option<&Accident>> = BTreeMap::new();
    for a in &accidents {
        touched.insert(a.id, Some(a));
    }
    for (a, _, _) in &investigations {
        touched.entry(*a).or_insert(None);
    }
    for (aid, new_accident) in touched {
        let old_accident = committed.accident(aid)?;
        let old: AccidentFigures = get_typed(committed, &accident_key(aid), "accident figures")?;
        let mut new = old.clone();
        for (a, record, sealed) in &investigations {
            if *a == aid {
                if *sealed {
                    new.sealed.insert(*record);
                } else {
                    new.sealed.remove(record);
                }
            }
        }
        if let Some(a) = &old_accident {
            accident_contribution(a, !old.sealed.is_empty(), -1, &mut delta);
        }
        if let Some(a) = new_accident.or(old_accident.as_ref()) {
            accident_contribution(a, !new.sealed.is_empty(), 1, &mut delta);
        }
        if new != old {
            let v = (!new.sealed.is_empty())
                .then(|| to_cbor("accident figures", &new))
                .transpose()?;
            writes.push((accident_key(aid), v));
        }
    }
    for (k, v) in writes {
        match v {
            Some(v) => changes.put(Table::Figures, k, v),
            None => changes.delete(Table::Figures, k),
        }
    }
    write_delta(store, changes, delta)
}

/// The committed state alone, for the state before a changeset.
struct StoreRead<'a>(&'a dyn Storage);

impl Read for StoreRead<'_> {
    fn raw(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, crate::storage::StorageError> {
        self.0.get(table, key)
    }
    fn raw_all(&self, table: Table) -> Result<crate::storage::Rows, crate::storage::StorageError> {
        self.0.scan(table)
    }
}

/// Everything the figures keep, as computed from all records, facilities and accidents.
#[derive(Debug, PartialEq, Eq)]
pub struct Computed {
    pub facilities: BTreeMap<FacilityId, FacilityFigures>,
    pub accidents: BTreeMap<AccidentId, AccidentFigures>,
    pub shards: BTreeMap<String, Cells>,
}

/// Computes every figure from everything stored: once for a store that has
/// none, and in the tests as the reference the kept figures must equal.
pub fn recompute(db: &impl Read) -> Result<Computed, ServerError> {
    let templates: HashMap<TemplateRef, ChecklistTemplate> =
        db.templates()?.into_iter().map(|t| (t.key(), t)).collect();
    let facilities: HashMap<FacilityId, Facility> = db.facilities()?.into_iter().map(|f| (f.id, f)).collect();
    let mut figures: BTreeMap<FacilityId, FacilityFigures> = BTreeMap::new();
    let mut sealed: BTreeMap<AccidentId, AccidentFigures> = BTreeMap::new();
    for (_, bytes) in db.raw_all(Table::Records)? {
        let r: InspectionRecord = from_cbor("inspection record", &bytes)?;
        let kind = facilities.get(&r.inspection.facility).map(|f| f.kind);
        let s = RecordSummary::of(&r, templates.get(&r.inspection.template), kind);
        if let Some(a) = s.accident.filter(|_| s.sealed()) {
            sealed.entry(a).or_default().sealed.insert(r.inspection.id);
        }
        figures
            .entry(r.inspection.facility)
            .or_default()
            .records
            .insert(r.inspection.id, s);
    }
    for id in facilities.keys() {
        figures.entry(*id).or_default();
    }
    let mut delta = Delta::default();
    for (id, ff) in &figures {
        facility_contribution(*id, facilities.get(id), ff, 1, &mut delta);
    }
    let mut accidents: BTreeMap<AccidentId, AccidentFigures> = BTreeMap::new();
    for a in db.accidents()? {
        let s = sealed.remove(&a.id).unwrap_or_default();
        accident_contribution(&a, !s.sealed.is_empty(), 1, &mut delta);
        if !s.sealed.is_empty() {
            accidents.insert(a.id, s);
        }
    }
    // Investigations of accidents not (yet) stored are kept all the same.
    accidents.extend(sealed);
    let mut shards: BTreeMap<String, Cells> = BTreeMap::new();
    for (cell, values) in delta.0 {
        if values.iter().any(|v| *v != 0) {
            shards.entry(cell.shard()).or_default().insert(cell, values);
        }
    }
    Ok(Computed {
        facilities: figures,
        accidents,
        shards,
    })
}

/// What the store keeps, read back whole (tests).
pub fn stored(store: &dyn Storage) -> Result<Computed, ServerError> {
    let mut out = Computed {
        facilities: BTreeMap::new(),
        accidents: BTreeMap::new(),
        shards: BTreeMap::new(),
    };
    for (k, v) in store.scan(Table::Figures)? {
        if let Some(id) = k.strip_prefix(b"f/") {
            let id = FacilityId::from_bytes(id.try_into().map_err(|_| bad_key())?);
            out.facilities.insert(id, from_cbor("facility figures", &v)?);
        } else if let Some(id) = k.strip_prefix(b"a/") {
            let id = AccidentId::from_bytes(id.try_into().map_err(|_| bad_key())?);
            out.accidents.insert(id, from_cbor("accident figures", &v)?);
        } else if let Some(shard) = k.strip_prefix(b"s/") {
            let rows: ShardRows = from_cbor("figures shard", &v)?;
            out.shards.insert(
                String::from_utf8_lossy(shard).into_owned(),
                rows.into_iter().collect(),
            );
        }
    }
    Ok(out)
}

fn bad_key() -> ServerError {
    ServerError::Storage("a figures key is unreadable".into())
}

/// Computes the figures of a store that has none (or an older layout) and
/// adds them, with their marker, to `changes`, which the caller commits as
/// one; does nothing when they are there.
pub fn ensure(store: &dyn Storage, changes: &mut Changeset) -> Result<bool, ServerError> {
    let marker = store.get(Table::Figures, FORMAT_KEY)?;
    if marker.as_deref() == Some(FORMAT.to_be_bytes().as_slice()) {
        return Ok(false);
    }
    let started = std::time::Instant::now();
    let computed = recompute(&StoreRead(store))?;
    // What an earlier layout left goes.
    for (k, _) in store.scan(Table::Figures)? {
        changes.delete(Table::Figures, k);
    }
    for (id, ff) in &computed.facilities {
        changes.put(
            Table::Figures,
            facility_key(*id),
            to_cbor("facility figures", ff)?,
        );
    }
    for (id, af) in &computed.accidents {
        changes.put(
            Table::Figures,
            accident_key(*id),
            to_cbor("accident figures", af)?,
        );
    }
    for (shard, cells) in computed.shards {
        put_shard(changes, &shard, cells)?;
    }
    changes.put(Table::Figures, FORMAT_KEY.to_vec(), FORMAT.to_be_bytes().to_vec());
    tracing::info!(
        facilities = computed.facilities.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "overview figures computed from every record"
    );
    Ok(true)
}

/// Makes the next start compute the figures afresh (after records were
/// rebuilt outside the writer).
pub fn invalidate(changes: &mut Changeset) {
    changes.delete(Table::Figures, FORMAT_KEY.to_vec());
}

/// Compares what the commits kept with a full recomputation, field by
/// field: `Err` names the first facility, accident or shard (and cell) that
/// differs. For tests and checks; it reads everything.
pub fn verify(store: &dyn Storage) -> Result<(), String> {
    let kept = stored(store).map_err(|e| e.to_string())?;
    let computed = recompute(&StoreRead(store)).map_err(|e| e.to_string())?;
    for (id, f) in &computed.facilities {
        if kept.facilities.get(id) != Some(f) {
            return Err(format!(
                "facility {id}: kept {:?}, computed {f:?}",
                kept.facilities.get(id)
            ));
        }
    }
    if let Some(id) = kept
        .facilities
        .keys()
        .find(|id| !computed.facilities.contains_key(id))
    {
        return Err(format!("facility {id} kept, not computed"));
    }
    if kept.accidents != computed.accidents {
        return Err(format!(
            "accidents: kept {:?}, computed {:?}",
            kept.accidents, computed.accidents
        ));
    }
    let names: BTreeSet<&String> = kept.shards.keys().chain(computed.shards.keys()).collect();
    for name in names {
        let (k, c) = (kept.shards.get(name), computed.shards.get(name));
        if k != c {
            let empty = Cells::new();
            let (k, c) = (k.unwrap_or(&empty), c.unwrap_or(&empty));
            let cell = k
                .iter()
                .find(|(cell, v)| c.get(*cell) != Some(*v))
                .map(|(cell, _)| cell)
                .or_else(|| c.keys().find(|cell| !k.contains_key(*cell)));
            return Err(format!(
                "shard {name}, cell {cell:?}: kept {:?}, computed {:?}",
                cell.and_then(|x| k.get(x)),
                cell.and_then(|x| c.get(x))
            ));
        }
    }
    Ok(())
}
