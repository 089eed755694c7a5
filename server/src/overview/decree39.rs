//! The six-monthly report of labour accidents among workers without a
//! labour contract (Decree 39/2016/NĐ-CP, Art. 24): per administrative unit
//! valid on the accident's date, for one half-year.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::data::Data;
use super::units::{unit_on, UnitKey};

#[derive(Debug, Clone, Serialize)]
pub struct Decree39Row {
    pub unit: UnitKey,
    pub accidents: u64,
    pub fatal_accidents: u64,
    pub victims: u64,
    pub deaths: u64,
    pub seriously_injured: u64,
    pub lightly_injured: u64,
}

/// The period a half-year covers: 1 = January–June, 2 = July–December.
pub fn period(year: i32, half: u8) -> Option<(NaiveDate, NaiveDate)> {
    match half {
        1 => Some((
            NaiveDate::from_ymd_opt(year, 1, 1)?,
            NaiveDate::from_ymd_opt(year, 6, 30)?,
        )),
        2 => Some((
            NaiveDate::from_ymd_opt(year, 7, 1)?,
            NaiveDate::from_ymd_opt(year, 12, 31)?,
        )),
        _ => None,
    }
}

pub fn report(d: &Data, year: i32, half: u8) -> Vec<Decree39Row> {
    let Some((from, to)) = period(year, half) else {
        return Vec::new();
    };
    let mut rows: std::collections::BTreeMap<UnitKey, Decree39Row> = Default::default();
    for a in d.accidents.iter().filter(|a| a.without_contract) {
        let date = a.date();
        if date < from || date > to || date.year() != year {
            continue;
        }
        let unit = unit_on(&d.units, &a.unit, date);
        let row = rows.entry(unit.clone()).or_insert(Decree39Row {
            unit,
            accidents: 0,
            fatal_accidents: 0,
            victims: 0,
            deaths: 0,
            seriously_injured: 0,
            lightly_injured: 0,
        });
        row.accidents += 1;
        row.fatal_accidents += u64::from(a.deaths > 0);
        row.victims += u64::from(a.victim_count());
        row.deaths += u64::from(a.deaths);
        row.seriously_injured += u64::from(a.seriously_injured);
        row.lightly_injured += u64::from(a.lightly_injured);
    }
    rows.into_values().collect()
}
