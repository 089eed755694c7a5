//! Demo data for a first look (`serve --demo`), seeded once: the built-in
//! templates, three inspectors with enrolled demo tablets, four delegations,
//! fourteen Hai Phong establishments, eight labour accidents, and the field
//! work of 2023 to mid-2025 (routine inspections, outreach visits to craft
//! villages and cooperatives, two accident investigations) from which the
//! overview computes the plan's targets.
//!
//! The field work is made of operations dated when it happened, pushed
//! through [`Writer::push`] as the enrolled tablets would have pushed them,
//! so it is checked exactly like real work. The access codes of the sealed
//! minutes are written to `DIR/demo-access-codes.json` (and logged), to try
//! the establishments' portal; an administrator's, a planner's and a
//! viewer's account, with random passwords, to `DIR/demo-accounts.json`.
//!
//! - `reference`: inspectors, delegations, establishments.
//! - `accidents`: the declared accidents.
//! - `plan`: the visits and their answers, and the remediation reports.
//! - `field`: demo devices, and how a visit becomes operations and minutes.

mod accidents;
pub mod accounts;
mod field;
mod plan;
mod reference;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use kiemtra_core::inspection::{InspectionKind, VIETNAM};
use kiemtra_core::template::builtin_templates;

use crate::db::{Read, TypedWrites};
use crate::error::ServerError;
use crate::writer::Writer;

pub use field::CodeEntry;

/// The file, in the data folder, listing the portal access codes of the demo's sealed minutes.
pub const CODES_FILE: &str = "demo-access-codes.json";
const FLAG: &str = "demo_seeded";
/// Set (durably) before the first demo record: seeding is many commits, and
/// one cut short must not be seeded again on top of what it left.
pub(crate) const STARTED: &str = "demo_seeding";

/// `date` at `h:m` in Vietnam, as a UTC instant.
fn vn_time(date: NaiveDate, h: u32, m: u32) -> Result<DateTime<Utc>, ServerError> {
    date.and_hms_opt(h, m, 0)
        .and_then(|t| t.and_local_timezone(VIETNAM).single())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ServerError::Invalid(format!("demo time {date} {h}:{m}")))
}

/// Seeds the demo data through the writer, so devices also receive it by
/// pull, and writes [`CODES_FILE`] into `data_dir`. Does nothing (returns
/// false) once seeded. Refuses a folder that holds other data (demo records
/// must never mix with an inspectorate's own) and one whose seeding was
/// interrupted. The caller commits.
pub fn seed(w: &mut Writer, data_dir: &Path) -> Result<bool, ServerError> {
    if w.db().flag(FLAG)? {
        return Ok(false);
    }
    if w.db().flag(STARTED)? {
        return Err(ServerError::Conflict(format!(
            "the demo data of {} was interrupted half-way at an earlier start and is incomplete: \
             start the demo on an empty data folder",
            data_dir.display()
        )));
    }
    if w.has_published() {
        return Err(ServerError::Conflict(format!(
            "--demo seeds only an empty data folder, and {} already holds an inspectorate's data: \
             start without --demo, or give another --data",
            data_dir.display()
        )));
    }
    w.changes().set_flag(STARTED);
    w.commit()?;
    for t in builtin_templates() {
        w.publish_template(&t)?;
    }
    let refs = reference::publish(w)?;
    let mut devices = field::Devices::enrol(w, &refs.inspectors)?;
    let accidents = accidents::declare(w, &refs)?;

    let mut inspections = HashMap::new();
    let mut codes = Vec::new();
    let mut numbers: HashMap<(i32, bool), u32> = HashMap::new();
    for visit in plan::VISITS {
        let investigation = visit.kind == InspectionKind::AccidentInvestigation;
        let year = visit
            .date
            .parse::<NaiveDate>()
            .map(|d| d.year())
            .map_err(|_| ServerError::Invalid(format!("demo date {}", visit.date)))?;
        // Minutes are numbered in each year's register; work still in
        // progress has no minutes yet.
        let n = numbers.entry((year, investigation)).or_insert(0);
        if visit.outcome != plan::Outcome::InProgress {
            *n += 1;
        }
        let number = if investigation {
            format!("{n:02}/BB-ĐĐT")
        } else {
            format!("{n:02}/BB-ĐKT")
        };
        let done = field::carry_out(w, &mut devices, &refs, &accidents, visit, &number)?;
        inspections.insert(visit.key, done.inspection);
        codes.extend(done.code);
    }
    for r in plan::REMEDIATIONS {
        let id = inspections
            .get(r.visit)
            .ok_or_else(|| ServerError::NotFound(format!("demo visit {}", r.visit)))?;
        w.report_remediation(*id, r.item, r.sent_by, r.text, Vec::new())?;
    }

    let staff = accounts::create(w)?;
    write_codes(data_dir, &codes)?;
    accounts::write(data_dir, &staff)?;
    for a in &staff {
        tracing::info!(login = a.login, role = ?a.role, "demo staff account (password in {})", accounts::ACCOUNTS_FILE);
    }
    for c in &codes {
        tracing::info!(
            facility = %c.facility,
            inspection = %c.inspection,
            date = %c.date,
            code = %c.code,
            "demo portal access code"
        );
    }
    w.changes().set_flag(FLAG);
    Ok(true)
}

/// Writes the codes file whole (a temporary file renamed over it).
fn write_codes(data_dir: &Path, codes: &[CodeEntry]) -> Result<(), ServerError> {
    let mut json = serde_json::to_string_pretty(codes)
        .map_err(|e| ServerError::Storage(format!("demo access codes: {e}")))?;
    json.push('\n');
    let path = data_dir.join(CODES_FILE);
    let tmp = data_dir.join(format!("{CODES_FILE}.tmp"));
    std::fs::write(&tmp, json)?;
    std::fs::rename(&tmp, &path)?;
    Ok(())
}
