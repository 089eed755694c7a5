//! The agency's table of sector hazard classes: which sectors carry more
//! risk of accidents and occupational disease. It is agency data, dated
//! (a sector's class may change from a day on), and each entry says
//! whether the agency verified it against the Ministry's list. The table
//! the server ships (`server/data/sector-hazards.json`) is a proposal, all
//! of it unverified.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::administration::fold;

pub const FORMAT: &str = "kiemtra-sector-hazards/1";

/// The table the server starts with until the agency publishes its own.
const SHIPPED: &str = include_str!("../../data/sector-hazards.json");

/// A hazard class, 1 (low) to 4 (very high).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct HazardClass(u8);

impl HazardClass {
    pub const LOWEST: u8 = 1;
    pub const HIGHEST: u8 = 4;
    /// The class of a sector the table does not list: the middle one, said so in the explanation.
    pub const UNLISTED: HazardClass = HazardClass(2);

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for HazardClass {
    type Error = HazardError;
    fn try_from(n: u8) -> Result<Self, HazardError> {
        if (Self::LOWEST..=Self::HIGHEST).contains(&n) {
            Ok(Self(n))
        } else {
            Err(HazardError::Class(n))
        }
    }
}

impl From<HazardClass> for u8 {
    fn from(c: HazardClass) -> u8 {
        c.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HazardError {
    #[error("the sector hazard table is not valid JSON of {FORMAT}: {0}")]
    Json(String),
    #[error("the table's format is {0:?}, not {FORMAT}")]
    Format(String),
    #[error("hazard class {0} is outside 1 to 4")]
    Class(u8),
    #[error("sector {0:?} has two entries from the same day")]
    Duplicate(String),
    #[error("a sector entry has no name")]
    EmptySector,
}

/// One entry: from `valid_from` on, `sector` is of `class`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectorHazard {
    pub sector: String,
    pub class: HazardClass,
    pub valid_from: NaiveDate,
    /// Checked by the agency against the Ministry's list.
    pub verified: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Document {
    format: String,
    #[serde(default)]
    note_vi: String,
    #[serde(default)]
    note_en: String,
    sectors: Vec<SectorHazard>,
}

/// The table, looked up by sector name with accents and case ignored (an
/// establishment's sector is typed by people: "co khi" is "Cơ khí").
#[derive(Debug, Clone)]
pub struct HazardTable {
    /// Folded sector name → its entries, oldest first.
    by_sector: BTreeMap<String, Vec<SectorHazard>>,
    pub note_vi: String,
    pub note_en: String,
}

impl HazardTable {
    pub fn shipped() -> Result<Self, HazardError> {
        Self::from_json(SHIPPED)
    }

    pub fn from_json(json: &str) -> Result<Self, HazardError> {
        let doc: Document = serde_json::from_str(json).map_err(|e| HazardError::Json(e.to_string()))?;
        if doc.format != FORMAT {
            return Err(HazardError::Format(doc.format));
        }
        let mut by_sector: BTreeMap<String, Vec<SectorHazard>> = BTreeMap::new();
        for entry in doc.sectors {
            let key = fold(entry.sector.trim());
            if key.is_empty() {
                return Err(HazardError::EmptySector);
            }
            let entries = by_sector.entry(key).or_default();
            if entries.iter().any(|e| e.valid_from == entry.valid_from) {
                return Err(HazardError::Duplicate(entry.sector));
            }
            entries.push(entry);
            entries.sort_by_key(|e| e.valid_from);
        }
        Ok(Self {
            by_sector,
            note_vi: doc.note_vi,
            note_en: doc.note_en,
        })
    }

    /// The entry in force for `sector` on `day`, if the table lists it then.
    pub fn on(&self, sector: &str, day: NaiveDate) -> Option<&SectorHazard> {
        self.by_sector
            .get(&fold(sector.trim()))?
            .iter()
            .rev()
            .find(|e| e.valid_from <= day)
    }

    pub fn len(&self) -> usize {
        self.by_sector.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_sector.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_shipped_table_reads_and_is_all_unverified() {
        let t = HazardTable::shipped().unwrap();
        assert!(t.len() >= 20);
        let e = t.on("Đóng tàu", day("2025-01-01")).unwrap();
        assert_eq!(e.class.get(), 4);
        assert!(t.by_sector.values().flatten().all(|e| !e.verified));
        assert!(t.note_en.contains("NOT checked"));
    }

    #[test]
    fn sectors_match_without_accents_or_case_and_by_date() {
        let t = HazardTable::from_json(
            r#"{"format":"kiemtra-sector-hazards/1","sectors":[
                {"sector":"Cơ khí","class":2,"valid_from":"2023-01-01","verified":true},
                {"sector":"co khi","class":3,"valid_from":"2025-07-01","verified":true}]}"#,
        )
        .unwrap();
        assert_eq!(t.on("CƠ KHÍ", day("2024-05-05")).unwrap().class.get(), 2);
        assert_eq!(t.on(" Co Khi ", day("2025-07-01")).unwrap().class.get(), 3);
        assert!(
            t.on("Cơ khí", day("2022-12-31")).is_none(),
            "before the first entry"
        );
        assert!(t.on("Dệt may", day("2025-01-01")).is_none());
    }

    #[test]
    fn a_bad_table_is_refused_with_the_reason() {
        let bad = |json: &str| HazardTable::from_json(json).unwrap_err();
        assert!(matches!(bad("{"), HazardError::Json(_)));
        assert!(matches!(
            bad(r#"{"format":"other/1","sectors":[]}"#),
            HazardError::Format(_)
        ));
        assert!(matches!(
            bad(r#"{"format":"kiemtra-sector-hazards/1","sectors":[{"sector":"A","class":5,"valid_from":"2023-01-01","verified":false}]}"#),
            HazardError::Json(m) if m.contains("outside 1 to 4")
        ));
        assert!(matches!(
            bad(r#"{"format":"kiemtra-sector-hazards/1","sectors":[
                {"sector":"A","class":1,"valid_from":"2023-01-01","verified":false},
                {"sector":"a","class":2,"valid_from":"2023-01-01","verified":false}]}"#),
            HazardError::Duplicate(_)
        ));
        assert!(matches!(
            bad(
                r#"{"format":"kiemtra-sector-hazards/1","sectors":[{"sector":" ","class":1,"valid_from":"2023-01-01","verified":false}]}"#
            ),
            HazardError::EmptySector
        ));
    }
}
