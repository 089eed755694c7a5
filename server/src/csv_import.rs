//! `admin import-facilities`: the inspectorate's establishment list from CSV.
//!
//! Columns `kind,name,tax_code,street,unit,sector,workforce,high_risk`, a
//! header row first. Good rows are imported and bad ones reported with their
//! line numbers, so one typo does not hold back a list of thousands. A row
//! whose tax code is already registered updates that facility (same id), so
//! importing a corrected list again does not duplicate establishments.

use std::collections::HashMap;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use kiemtra_core::facility::{FacilityKind, NewFacility};
use kiemtra_core::ids::FacilityId;

use crate::db::Read;
use crate::error::ServerError;
use crate::writer::Writer;

pub const COLUMNS: [&str; 8] = [
    "kind",
    "name",
    "tax_code",
    "street",
    "unit",
    "sector",
    "workforce",
    "high_risk",
];

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportReport {
    pub imported: usize,
    /// (line number in the file, reason)
    pub refused: Vec<(u64, String)>,
}

impl ImportReport {
    /// Each refused row as `line N: reason`, then `imported N, refused M`.
    pub fn print(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        for (line, reason) in &self.refused {
            writeln!(out, "line {line}: {reason}")?;
        }
        writeln!(out, "imported {}, refused {}", self.imported, self.refused.len())
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "true" | "1" | "yes" | "x" | "có" => Some(true),
        "false" | "0" | "no" | "" | "không" => Some(false),
        _ => None,
    }
}

/// One data row as the facility it registers (checked further when put).
pub fn parse_row(rec: &csv::StringRecord) -> Result<NewFacility, String> {
    if rec.len() != COLUMNS.len() {
        return Err(format!("expected {} columns, found {}", COLUMNS.len(), rec.len()));
    }
    let field = |i: usize| rec.get(i).unwrap_or("").to_string();
    let kind = FacilityKind::from_code(field(0).trim()).ok_or_else(|| {
        let known: Vec<_> = FacilityKind::ALL.iter().map(|k| k.code()).collect();
        format!("unknown kind {:?} (one of {})", field(0), known.join(", "))
    })?;
    let workforce = field(6)
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("workforce {:?} is not a whole number", field(6)))?;
    let high_risk =
        parse_bool(&field(7)).ok_or_else(|| format!("high_risk {:?} is not true or false", field(7)))?;
    Ok(NewFacility {
        kind,
        name: field(1),
        tax_code: Some(field(2)).filter(|t| !t.trim().is_empty()),
        street: field(3),
        unit: field(4),
        sector: field(5),
        workforce,
        high_risk,
    })
}

/// Imports the CSV file at `path`; `progress` shows a bar on stderr.
pub fn import_facilities(w: &mut Writer, path: &Path, progress: bool) -> Result<ImportReport, ServerError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ServerError::Invalid(format!("cannot read {}: {e}", path.display())))?;
    let rows = parse(&text)?;
    let bar = if progress {
        let bar = ProgressBar::new(rows.len() as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed_precise} {msg}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut report = ImportReport::default();
    for chunk in rows.chunks(500) {
        import_rows(w, chunk, &mut report)?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(report)
}

/// One data row of a list: its line in the file and what it says.
pub type Row = (u64, Result<NewFacility, String>);

/// Reads a whole list: the header row is checked (a wrong one refuses the
/// file), every data row is kept with its line, readable or not.
pub fn parse(text: &str) -> Result<Vec<Row>, ServerError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::Headers)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ServerError::Invalid(format!("cannot read the header row: {e}")))?;
    let found: Vec<&str> = headers.iter().collect();
    if found != COLUMNS {
        return Err(ServerError::Invalid(format!(
            "the header row must be {}; found {}",
            COLUMNS.join(","),
            found.join(",")
        )));
    }
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line());
                rows.push((line, parse_row(&record)));
            }
            Err(e) => rows.push((line, Err(format!("unreadable row: {e}")))),
        }
    }
    Ok(rows)
}

/// Registers the good rows of `rows` (a row whose tax code is registered
/// updates that establishment) and adds the refused ones to `report`. A
/// long list is imported a chunk per call, so that each commit stays short
/// and a page can show the progress.
pub fn import_rows(w: &mut Writer, rows: &[Row], report: &mut ImportReport) -> Result<(), ServerError> {
    let mut by_tax_code: HashMap<String, FacilityId> = w
        .db()
        .facilities()?
        .into_iter()
        .filter_map(|f| f.tax_code.map(|t| (t.as_str().to_string(), f.id)))
        .collect();
    for (line, row) in rows {
        let outcome = row.clone().and_then(|new| {
            let id = new
                .tax_code
                .as_deref()
                .and_then(|t| by_tax_code.get(t.trim()).copied())
                .unwrap_or_default();
            new.validate(id, w.admin_units()).map_err(|e| e.to_string())
        });
        match outcome {
            Ok(f) => {
                if let Some(t) = &f.tax_code {
                    by_tax_code.insert(t.as_str().to_string(), f.id);
                }
                if w.db().facility(f.id)?.as_ref() != Some(&f) {
                    w.put_facility(&f)?;
                }
                report.imported += 1;
            }
            Err(reason) => report.refused.push((*line, reason)),
        }
    }
    Ok(())
}
