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

pub fn inspections(rows: &[InspectionCount]) -> Result<Vec<u8>, ServerError> {
    let mut w = writer();
    w.write_record(["ma_don_vi", "don_vi", "thang", "loai", "so_cuoc"])
        .map_err(err)?;
    for r in rows {
        w.write_record([
            r.unit.code.as_str(),
            r.unit.name.as_str(),
            r.month.as_str(),
            r.kind.label_vi(),
            &r.count.to_string(),
        ])
        .map_err(err)?;
    }
    done(w)
}

pub fn targets(rows: &[TargetFigure]) -> Result<Vec<u8>, ServerError> {
    let mut w = writer();
    w.write_record([
        "muc_tieu",
        "nam",
        "ma_don_vi",
        "don_vi",
        "tu_so",
        "mau_so",
        "ty_le_phan_nghin",
        "chi_tieu_phan_nghin",
        "dat",
    ])
    .map_err(err)?;
    for f in rows {
        w.write_record([
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
        ])
        .map_err(err)?;
    }
    done(w)
}

pub fn decree39(year: i32, half: u8, rows: &[Decree39Row]) -> Result<Vec<u8>, ServerError> {
    let mut w = writer();
    w.write_record([
        "ky_bao_cao",
        "ma_don_vi",
        "don_vi",
        "so_vu",
        "so_vu_chet_nguoi",
        "so_nguoi_bi_nan",
        "so_nguoi_chet",
        "so_nguoi_bi_thuong_nang",
        "so_nguoi_bi_thuong_nhe",
    ])
    .map_err(err)?;
    let period = format!(
        "{}/{year}",
        if half == 1 {
            "6 tháng đầu năm"
        } else {
            "6 tháng cuối năm"
        }
    );
    for r in rows {
        w.write_record([
            period.as_str(),
            &r.unit.code,
            &r.unit.name,
            &r.accidents.to_string(),
            &r.fatal_accidents.to_string(),
            &r.victims.to_string(),
            &r.deaths.to_string(),
            &r.seriously_injured.to_string(),
            &r.lightly_injured.to_string(),
        ])
        .map_err(err)?;
    }
    done(w)
}
