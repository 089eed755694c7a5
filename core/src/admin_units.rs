//! Administrative units as dated data.
//!
//! Hai Phong's units changed twice in 2025: two districts were renamed on
//! 2025-01-01 and the district level was abolished on 2025-07-01. A record
//! keeps the unit that was valid on its date, and reports group by the unit
//! valid on the record's date, so a unit is never edited in place: a change is
//! a new unit with its own validity, linked to its predecessor.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

const BUILTIN_HAIPHONG: &str = include_str!("../data/admin-units-haiphong.json");

/// District level (*quận, huyện, thành phố thuộc tỉnh*) until 2025-06-30,
/// commune level (*xã, phường, đặc khu*) after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    District,
    Commune,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUnit {
    /// Stable code of this unit in this validity period.
    pub code: String,
    pub name_vi: String,
    /// The Vietnamese kind as written in names: quận, huyện, thành phố, xã, phường, đặc khu.
    pub kind: String,
    pub level: UnitLevel,
    pub valid_from: NaiveDate,
    /// Last day of validity, inclusive; `None` while still valid.
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    #[serde(default)]
    pub predecessor: Option<String>,
    #[serde(default)]
    pub successor: Option<String>,
}

impl AdminUnit {
    pub fn valid_on(&self, date: NaiveDate) -> bool {
        date >= self.valid_from && self.valid_to.is_none_or(|to| date <= to)
    }
}

#[derive(Debug, Clone, Deserialize)]
struct UnitsFile {
    format: String,
    units: Vec<AdminUnit>,
}

/// A set of dated units, loaded from the built-in file and agency files.
#[derive(Debug, Clone, Default)]
pub struct AdminUnits {
    units: Vec<AdminUnit>,
}

impl AdminUnits {
    /// Hai Phong's district-level units of the 2023–2025 plan, with the 2025 renames.
    pub fn builtin() -> Self {
        // The built-in file is part of the crate and covered by tests; failing
        // to parse it is a build defect, not an input error.
        Self::from_json(BUILTIN_HAIPHONG).unwrap_or_default()
    }

    /// Loads a units file (`format: "kiemtra-admin-units/1"`, see `docs/formats.md`).
    pub fn from_json(json: &str) -> Result<Self, ValidationError> {
        let file: UnitsFile = serde_json::from_str(json).map_err(|e| ValidationError::Invalid {
            field: "administrative units file",
            reason: e.to_string(),
        })?;
        if file.format != "kiemtra-admin-units/1" {
            return Err(ValidationError::Invalid {
                field: "administrative units file",
                reason: format!("unknown format {:?}", file.format),
            });
        }
        let mut set = Self::default();
        set.extend(file.units)?;
        Ok(set)
    }

    /// Adds units (an agency's commune list, say), refusing duplicate codes and empty validity.
    pub fn extend(&mut self, units: Vec<AdminUnit>) -> Result<(), ValidationError> {
        for mut unit in units {
            unit.name_vi = crate::text::UNIT_NAME.required(&unit.name_vi)?;
            if unit.code.trim().is_empty() {
                return Err(ValidationError::Empty { field: "unit code" });
            }
            if self.get(&unit.code).is_some() {
                return Err(ValidationError::Invalid {
                    field: "unit code",
                    reason: format!("{} is listed twice", unit.code),
                });
            }
            if unit.valid_to.is_some_and(|to| to < unit.valid_from) {
                return Err(ValidationError::Invalid {
                    field: "unit validity",
                    reason: format!("{} ends before it starts", unit.code),
                });
            }
            self.units.push(unit);
        }
        Ok(())
    }

    /// The built-in units plus an agency's file (`kiemtra-admin-units/1`),
    /// e.g. the commune-level units in force from 2025-07-01.
    pub fn builtin_and(json: &str) -> Result<Self, ValidationError> {
        Self::with_agency(Self::from_json(json)?.units)
    }

    /// The built-in units plus the agency's published list, checking that
    /// every predecessor and successor named is a known unit. A unit of the
    /// agency's list replaces a built-in one of the same code: the
    /// inspectorate may correct a name, and a later build that ships units
    /// the agency had published must not make its stored list unusable.
    pub fn with_agency(agency: Vec<AdminUnit>) -> Result<Self, ValidationError> {
        let mut units = Self::builtin();
        units.units.retain(|b| !agency.iter().any(|a| a.code == b.code));
        units.extend(agency)?;
        for u in &units.units {
            for link in [&u.predecessor, &u.successor].into_iter().flatten() {
                if units.get(link).is_none() {
                    return Err(ValidationError::Invalid {
                        field: "unit link",
                        reason: format!("{} names {link}, which is not a known unit", u.code),
                    });
                }
            }
        }
        Ok(units)
    }

    /// Checks that `next` may replace `previous` as the agency's list:
    /// records keep the code of the unit they were made in, so a unit once
    /// published is never withdrawn (it may be corrected, or closed with a
    /// `valid_to` and a successor).
    pub fn check_replaces(previous: &[AdminUnit], next: &[AdminUnit]) -> Result<(), ValidationError> {
        match previous
            .iter()
            .find(|p| !next.iter().any(|n| n.code == p.code))
        {
            Some(gone) => Err(ValidationError::Invalid {
                field: "administrative units",
                reason: format!(
                    "{} ({}) was published before and records may refer to it: close it with valid_to instead of removing it",
                    gone.code, gone.name_vi
                ),
            }),
            None => Ok(()),
        }
    }

    /// The units, consumed (an agency file's list, normalised, to publish).
    pub fn into_units(self) -> Vec<AdminUnit> {
        self.units
    }

    pub fn get(&self, code: &str) -> Option<&AdminUnit> {
        self.units.iter().find(|u| u.code == code)
    }

    pub fn all(&self) -> &[AdminUnit] {
        &self.units
    }

    /// The units valid on `date`.
    pub fn valid_on(&self, date: NaiveDate) -> impl Iterator<Item = &AdminUnit> {
        self.units.iter().filter(move |u| u.valid_on(date))
    }

    /// The unit that `code` stood for on `date`: itself if valid then, otherwise
    /// the predecessor or successor that was (a facility registered under
    /// "Huyện Thủy Nguyên" is in "Thành phố Thủy Nguyên" for a 2025 report).
    pub fn as_of(&self, code: &str, date: NaiveDate) -> Option<&AdminUnit> {
        let mut unit = self.get(code)?;
        // Follow the chain in the direction of `date`; the chain is finite and
        // acyclic in well-formed data, but a bound keeps bad data from looping.
        for _ in 0..16 {
            if unit.valid_on(date) {
                return Some(unit);
            }
            let next = if date < unit.valid_from {
                unit.predecessor.as_deref()
            } else {
                unit.successor.as_deref()
            };
            unit = self.get(next?)?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn builtin_has_the_2023_districts_and_the_2025_renames() {
        let units = AdminUnits::builtin();
        assert_eq!(units.valid_on(d("2023-06-01")).count(), 15);
        assert_eq!(units.valid_on(d("2025-03-01")).count(), 15);
        assert_eq!(units.valid_on(d("2025-08-01")).count(), 0);
        let tn = units.as_of("hp.thuy-nguyen", d("2025-02-01")).unwrap();
        assert_eq!(tn.name_vi, "Thành phố Thủy Nguyên");
        let old = units.as_of("hp.thuy-nguyen.2025", d("2024-02-01")).unwrap();
        assert_eq!(old.name_vi, "Huyện Thủy Nguyên");
    }

    #[test]
    fn refuses_bad_files() {
        assert!(AdminUnits::from_json("{").is_err());
        assert!(AdminUnits::from_json(r#"{"format":"other","units":[]}"#).is_err());
        let dup = r#"{"format":"kiemtra-admin-units/1","units":[
            {"code":"x","name_vi":"Xã A","kind":"xã","level":"commune","valid_from":"2025-07-01"},
            {"code":"x","name_vi":"Xã B","kind":"xã","level":"commune","valid_from":"2025-07-01"}]}"#;
        assert!(AdminUnits::from_json(dup).is_err());
        let dangling = r#"{"format":"kiemtra-admin-units/1","units":[
            {"code":"x","name_vi":"Xã A","kind":"xã","level":"commune","valid_from":"2025-07-01","predecessor":"nowhere"}]}"#;
        assert!(AdminUnits::builtin_and(dangling).is_err());
    }

    #[test]
    fn the_agency_list_corrects_a_builtin_unit() {
        let mut le_chan = AdminUnits::builtin().get("hp.le-chan").unwrap().clone();
        le_chan.name_vi = "Quận Lê Chân (đã sửa)".into();
        let units = AdminUnits::with_agency(vec![le_chan]).unwrap();
        assert_eq!(units.all().len(), AdminUnits::builtin().all().len());
        assert_eq!(units.get("hp.le-chan").unwrap().name_vi, "Quận Lê Chân (đã sửa)");
    }

    #[test]
    fn a_published_unit_is_never_withdrawn() {
        let unit = |code: &str, name: &str| AdminUnit {
            code: code.into(),
            name_vi: name.into(),
            kind: "xã".into(),
            level: UnitLevel::Commune,
            valid_from: d("2025-07-01"),
            valid_to: None,
            predecessor: None,
            successor: None,
        };
        let before = [unit("a", "Xã A"), unit("b", "Xã B")];
        let corrected = [unit("a", "Xã An"), unit("b", "Xã B"), unit("c", "Xã C")];
        assert!(AdminUnits::check_replaces(&before, &corrected).is_ok());
        let err = AdminUnits::check_replaces(&before, &[unit("a", "Xã A")]).unwrap_err();
        assert!(err.to_string().contains("b (Xã B)"), "{err}");
    }
}
