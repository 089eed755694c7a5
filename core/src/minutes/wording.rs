//! The sentences and labels the printed minutes share between HTML and PDF.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike};

use super::bytes::Hash32;
use super::document::{Assessment, MinutesDocument, Statement};
use super::sign::SignedMinutes;
use crate::people::Role;

fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

/// "Hải Phòng, ngày 05 tháng 3 năm 2025", dated the day the minutes ended.
pub fn dateline(doc: &MinutesDocument) -> String {
    match parse_time(&doc.ended_at) {
        Some(t) => format!(
            "{}, ngày {:02} tháng {} năm {}",
            doc.place.city,
            t.day(),
            t.month(),
            t.year()
        ),
        None => format!("{}, {}", doc.place.city, doc.ended_at),
    }
}

/// "08 giờ 30 phút, ngày 05/3/2025"
pub fn time_vi(s: &str) -> String {
    match parse_time(s) {
        Some(t) => format!(
            "{:02} giờ {:02} phút, ngày {:02}/{:02}/{}",
            t.hour(),
            t.minute(),
            t.day(),
            t.month(),
            t.year()
        ),
        None => s.to_string(),
    }
}

/// "2025-04-04" → "04/04/2025"
pub fn date_vi(s: &str) -> String {
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => d.format("%d/%m/%Y").to_string(),
        Err(_) => s.to_string(),
    }
}

pub fn opening(doc: &MinutesDocument) -> String {
    format!(
        "Hôm nay, vào hồi {}, tại {}, Đoàn kiểm tra tiến hành kiểm tra và lập biên bản với các nội dung sau:",
        time_vi(&doc.started_at),
        doc.place.address
    )
}

pub fn location_line(doc: &MinutesDocument) -> Option<String> {
    doc.place.location.map(|p| {
        // Integer arithmetic: the document holds 1e-7 degrees, printed as is (7 decimals).
        format!("Tọa độ GPS: {}, {}", e7(p.lat_e7), e7(p.lon_e7))
    })
}

fn e7(v: i32) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = i64::from(v).unsigned_abs();
    format!("{sign}{}.{:07}", a / 10_000_000, a % 10_000_000)
}

pub fn assessment_vi(a: Assessment) -> &'static str {
    match a {
        Assessment::Fact => "",
        Assessment::Compliant => "Đạt",
        Assessment::NonCompliant => "Không đạt",
        Assessment::NotApplicable => "Không áp dụng",
    }
}

pub fn statement_lines(doc: &MinutesDocument) -> Vec<String> {
    match &doc.statement {
        Statement::Statement { text } => text.lines().map(str::to_string).collect(),
        Statement::Refused { reason, witness } => {
            let mut v = vec![format!(
                "Đại diện đơn vị được kiểm tra không ký biên bản. Lý do: {reason}"
            )];
            match witness {
                Some(w) => v.push(format!(
                    "Người chứng kiến: Ông/Bà {}, {}, {}, ký xác nhận việc không ký biên bản.",
                    w.name, w.title, w.role
                )),
                None => v.push("Không có người chứng kiến; lý do được ghi vào biên bản.".to_string()),
            }
            v
        }
    }
}

pub fn closing(doc: &MinutesDocument) -> String {
    let end = match parse_time(&doc.ended_at) {
        Some(t) => format!(
            "{:02} giờ {:02} phút, ngày {:02}/{:02}/{}",
            t.hour(),
            t.minute(),
            t.day(),
            t.month(),
            t.year()
        ),
        None => doc.ended_at.clone(),
    };
    let agreed = match doc.statement {
        Statement::Statement { .. } => "cùng nghe, nhất trí và ký tên dưới đây",
        Statement::Refused { .. } => "cùng nghe; đại diện đơn vị được kiểm tra không ký như đã ghi tại mục V",
    };
    format!(
        "Biên bản kết thúc vào hồi {end}, đã được đọc lại cho những người có tên trên {agreed}. \
         Biên bản được lập thành {:02} bản có giá trị như nhau, đơn vị được kiểm tra giữ 01 bản.",
        doc.copies
    )
}

pub fn amendment_line(doc: &MinutesDocument) -> Option<String> {
    doc.previous
        .map(|h| format!("Biên bản này đính chính biên bản có mã băm {h}; cả hai bản vẫn được lưu."))
}

/// The digital-signature status of an inspector, printed under their block.
pub fn signature_status(signed: &SignedMinutes, inspector_id: &str) -> String {
    match signed.signature_of(inspector_id) {
        Some(s) => format!(
            "Đã ký số – khóa {}",
            crate::identity::fingerprint(&s.public_key.0)
        ),
        None => "Chưa ký số".to_string(),
    }
}

/// The footer every printed page carries, so a swapped page shows.
pub fn hash_footer(hash: &Hash32) -> String {
    format!("Mã băm nội dung (SHA-256): {hash}")
}

pub fn verify_url(base: &str, hash: &Hash32) -> String {
    format!("{}/{}", base.trim_end_matches('/'), hash)
}

/// The signature blocks below the leader: members, then the secretary.
pub fn role_heading(role: Role) -> &'static str {
    match role {
        Role::Leader => "TRƯỞNG ĐOÀN KIỂM TRA",
        Role::Member => "CÁC THÀNH VIÊN ĐOÀN",
        Role::Secretary => "NGƯỜI LẬP BIÊN BẢN",
    }
}
