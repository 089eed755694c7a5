//! The overview's figures as CSV (UTF-8 with a byte-order mark, so that
//! spreadsheet programs open Vietnamese text correctly; Vietnamese headers).

use super::decree39::Decree39Row;
use super::stats::InspectionCount;
use super::targets::TargetFigure;
use crate::error::ServerError;

fn writer() -> csv::Writer<Vec<u8>> {
    let mut buf = Vec::new();
    buf.extend_from_slice("\u{feff}".as_bytes());
    csv::Writer::from_writer(buf)
}

fn done(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, ServerError> {
    w.into_inner().map_err(|e| ServerError::Storage(e.to_string()))
}

fn err(e: csv::Error) -> ServerError {
    ServerError::Storage(e.to_string())
}

/// A spreadsheet program runs a cell that starts with `=`, `+`, `-` or `@`
/// (also after a leading tab or carriage return) as a formula, and names in
/// these exports come from outside (the agency's units file, devices'
/// facility registrations): such a cell is written behind a single quote,
/// which the spreadsheet shows as text and a reader sees as a mark.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Writes one record with every cell neutralised.
fn row<I, T>(w: &mut csv::Writer<Vec<u8>>, cells: I) -> Result<(), ServerError>
where
    I: IntoIterator<Item = T>,
    T: AsRef<str>,
{
    let cells: Vec<String> = cells
        .into_iter()
        .map(|c| neutralise(c.as_ref()).into_owned())
        .collect();
    w.write_record(&cells).map_err(err)
}

/// A table of text cells under `header`, each cell neutralised: for lists
/// built elsewhere (the plan of a year).
pub fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Result<Vec<u8>, ServerError> {
    let mut w = writer();
    row(&mut w, header)?;
    for r in rows {
        row(&mut w, r)?;
    }
    done(w)
}

/// The audit log, as shown (newest first); times in UTC, RFC 3339.
pub fn audit(entries: &[crate::audit::AuditEntry]) -> Result<Vec<u8>, ServerError> {
    let mut w = writer();
    row(
        &mut w,
        [
            "so",
            "thoi_gian_utc",
            "loai_nguoi",
            "nguoi",
            "dang_nhap",
            "viec",
            "doi_tuong",
            "truoc",
            "sau",
        ],
    )?;
    for a in entries {
        let at =
            chrono::DateTime::from_timestamp(a.at, 0).map_or_else(|| a.at.to_string(), |t| t.to_rfc3339());
        let kind = match a.actor.kind {
            crate::audit::ActorKind::Account => "account",
            crate::audit::ActorKind::Token => "token",
            crate::audit::ActorKind::Console => "console",
        };
        row(
            &mut w,
            [
                a.seq.to_string().as_str(),
                &at,
                kind,
                &a.actor.name,
                a.actor.login.as_deref().unwrap_or(""),
                &a.action,
                &a.subject,
                a.before.as_deref().unwrap_or(""),
                a.after.as_deref().unwrap_or(""),
            ],
        )?;
    }
    done(w)
}

pub fn inspections(rows: &[InspectionCount]) -> Result<Vec<u8>, ServerError> {
    let mut w = writer();
    row(&mut w, ["ma_don_vi", "don_vi", "thang", "loai", "so_cuoc"])?;
    for r in rows {
        row(
            &mut w,
            [
                r.unit.code.as_str(),
                r.unit.name.as_str(),
                r.month.as_str(),
                r.kind.label_vi(),
                &r.count.to_string(),
            ],
        )?;
    }
    done(w)
}

pub fn targets(rows: &[TargetFigure]) -> Result<Vec<u8>, ServerError> {
    let mut w = writer();
    row(
        &mut w,
        [
            "muc_tieu",
            "nam",
            "ma_don_vi",
            "don_vi",
            "tu_so",
            "mau_so",
            "ty_le_phan_nghin",
            "chi_tieu_phan_nghin",
            "dat",
        ],
    )?;
    for f in rows {
        row(
            &mut w,
            [
                f.target,
                &f.year.to_string(),
                &f.unit.code,
                &f.unit.name,
                &f.numerator.to_string(),
                &f.denominator.to_string(),
                &f.per_mille().map(|p| p.to_string()).unwrap_or_default(),
                &f.goal_per_mille.to_string(),
                match f.met() {
                    Some(true) => "dat",
                    Some(false) => "chua_dat",
                    None => "khong_co_du_lieu",
                },
            ],
        )?;
    }
    done(w)
}

pub fn decree39(year: i32, half: u8, rows: &[Decree39Row]) -> Result<Vec<u8>, ServerError> {
    let mut w = writer();
    row(
        &mut w,
        [
            "ky_bao_cao",
            "ma_don_vi",
            "don_vi",
            "so_vu",
            "so_vu_chet_nguoi",
            "so_nguoi_bi_nan",
            "so_nguoi_chet",
            "so_nguoi_bi_thuong_nang",
            "so_nguoi_bi_thuong_nhe",
        ],
    )?;
    let period = format!(
        "{}/{year}",
        if half == 1 {
            "6 tháng đầu năm"
        } else {
            "6 tháng cuối năm"
        }
    );
    for r in rows {
        row(
            &mut w,
            [
                period.as_str(),
                &r.unit.code,
                &r.unit.name,
                &r.accidents.to_string(),
                &r.fatal_accidents.to_string(),
                &r.victims.to_string(),
                &r.deaths.to_string(),
                &r.seriously_injured.to_string(),
                &r.lightly_injured.to_string(),
            ],
        )?;
    }
    done(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overview::units::UnitKey;
    use kiemtra_core::inspection::InspectionKind;

    fn cells(csv: &[u8]) -> Vec<Vec<String>> {
        let text = std::str::from_utf8(csv).unwrap().trim_start_matches('\u{feff}');
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn cells_a_spreadsheet_would_run_as_formulas_are_neutralised() {
        let hostile = [
            "=HYPERLINK(\"http://x.example\",\"Xã An Lư\")",
            "+1+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1:A9)",
            "\tPhường Lê Chân",
            "\rPhường Hồng Bàng",
        ];
        let rows: Vec<InspectionCount> = hostile
            .iter()
            .map(|name| InspectionCount {
                unit: UnitKey {
                    code: format!("={name}"),
                    name: name.to_string(),
                },
                month: "2025-03".into(),
                kind: InspectionKind::Inspection,
                count: 3,
                inspections: Vec::new(),
            })
            .collect();
        let out = cells(&inspections(&rows).unwrap());
        for (row, name) in out[1..].iter().zip(hostile) {
            assert_eq!(row[1], format!("'{name}"), "the text is kept, behind a quote");
            assert_eq!(row[0], format!("'={name}"));
            // Ordinary cells are untouched.
            assert_eq!(row[2], "2025-03");
            assert_eq!(row[4], "3");
        }
        // Vietnamese names that merely contain those characters are as they are.
        let plain = InspectionCount {
            unit: UnitKey {
                code: "hp.le-chan".into(),
                name: "Phường Lê Chân (cũ: quận Lê Chân) = 2025".into(),
            },
            month: "2025-03".into(),
            kind: InspectionKind::Inspection,
            count: 1,
            inspections: Vec::new(),
        };
        let out = cells(&inspections(&[plain]).unwrap());
        assert_eq!(out[1][0], "hp.le-chan");
        assert_eq!(out[1][1], "Phường Lê Chân (cũ: quận Lê Chân) = 2025");
    }
}
