//! `admin import-accidents`: declared accidents from CSV (for example the
//! communes' lists of accidents among workers without a labour contract).
//!
//! Columns `occurred_at,place,unit,tax_code,deaths,seriously_injured,lightly_injured,account`
//! with a header row. `occurred_at` is Vietnam time, `YYYY-MM-DD HH:MM`;
//! an empty `tax_code` means workers without a labour contract. Good rows
//! are recorded, bad ones reported with their line numbers.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDateTime;
use kiemtra_core::accident::{Declarant, NewAccident};
use kiemtra_core::ids::FacilityId;

use crate::csv_import::ImportReport;
use crate::db::Read;
use crate::error::ServerError;
use crate::writer::Writer;

pub const COLUMNS: [&str; 8] = [
    "occurred_at",
    "place",
    "unit",
    "tax_code",
    "deaths",
    "seriously_injured",
    "lightly_injured",
    "account",
];

pub fn import_accidents(w: &mut Writer, file: &Path) -> Result<ImportReport, ServerError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| ServerError::Invalid(format!("cannot read {}: {e}", file.display())))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    import_accidents_text(w, &name, &text)
}

/// Imports the accidents of a CSV text; `name` is the file they came from,
/// which each accident keeps as its declarant with the line.
pub fn import_accidents_text(w: &mut Writer, name: &str, text: &str) -> Result<ImportReport, ServerError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ServerError::Invalid(format!("line 1: {e}")))?
        .clone();
    if headers.iter().collect::<Vec<_>>() != COLUMNS {
        return Err(ServerError::Invalid(format!(
            "line 1: expected the header {}",
            COLUMNS.join(",")
        )));
    }
    let by_tax: HashMap<String, _> = w
        .db()
        .facilities()?
        .into_iter()
        .filter_map(|f| f.tax_code.as_ref().map(|t| (t.as_str().to_string(), f.id)))
        .collect();
    let mut report = ImportReport::default();
    for row in reader.records() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                report.refused.push((line, e.to_string()));
                continue;
            }
        };
        let line = row.position().map_or(0, |p| p.line());
        let result = parse_row(&row, &by_tax).and_then(|new| {
            w.declare_accident(
                new,
                Declarant::Import {
                    file: name.to_string(),
                    line: u32::try_from(line).unwrap_or(u32::MAX),
                },
            )?;
            Ok(())
        });
        match result {
            Ok(()) => report.imported += 1,
            Err(e) => report.refused.push((line, e.to_string())),
        }
    }
    Ok(report)
}

/// One data row as the accident it declares (checked further when
/// declared); `by_tax` finds the establishment of a tax code. Pure, so it is
/// fuzzed on its own.
pub fn parse_row(
    row: &csv::StringRecord,
    by_tax: &HashMap<String, FacilityId>,
) -> Result<NewAccident, ServerError> {
    let field = |i: usize| row.get(i).unwrap_or("").to_string();
    let count = |i: usize| -> Result<u32, ServerError> {
        let s = field(i);
        if s.is_empty() {
            return Ok(0);
        }
        s.parse()
            .map_err(|_| ServerError::Invalid(format!("{}: not a number: {s:?}", COLUMNS[i])))
    };
    let local = NaiveDateTime::parse_from_str(&field(0), "%Y-%m-%d %H:%M")
        .map_err(|_| ServerError::Invalid("occurred_at: expected YYYY-MM-DD HH:MM".into()))?;
    let occurred_at = local
        .and_local_timezone(kiemtra_core::inspection::vietnam_offset())
        .single()
        .ok_or_else(|| ServerError::Invalid("occurred_at: not a valid time".into()))?
        .with_timezone(&chrono::Utc);
    let tax = field(3);
    let facility = if tax.is_empty() {
        None
    } else {
        Some(
            *by_tax
                .get(&tax)
                .ok_or_else(|| ServerError::Invalid(format!("no facility with tax code {tax}")))?,
        )
    };
    Ok(NewAccident {
        occurred_at,
        place: field(1),
        unit: field(2),
        facility,
        without_contract: facility.is_none(),
        deaths: count(4)?,
        seriously_injured: count(5)?,
        lightly_injured: count(6)?,
        victims: Vec::new(),
        account: field(7),
        needs_examination: false,
    })
}
