//! The accident register page: every declared accident, who declared it and
//! when, whether on time, its investigation's legal deadline and whether the
//! investigation is concluded, pending or overdue.

use std::fmt::Write;

use kiemtra_core::accident::{deadlines, Accident};
use serde::Serialize;

use super::data::Data;
use super::pages::NAV;
use super::units::unit_on;
use crate::html::{date_vi, datetime_vi, escape as e, page};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvestigationState {
    /// Investigated by the employer's own delegation (not tracked here).
    ByEmployer,
    Concluded,
    Pending,
    Overdue,
    ConcludedLate,
}

impl InvestigationState {
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::ByEmployer => "Cơ sở tự điều tra",
            Self::Concluded => "Đã có biên bản điều tra",
            Self::Pending => "Đang trong thời hạn điều tra",
            Self::Overdue => "Quá hạn điều tra",
            Self::ConcludedLate => "Có biên bản, nhưng quá hạn",
        }
    }
}

pub fn state_of(d: &Data, a: &Accident) -> InvestigationState {
    if !a.investigated_by_inspectorate() {
        return InvestigationState::ByEmployer;
    }
    let concluded = d.investigation_sealed_on(a.id);
    match (concluded, a.investigation_overdue(concluded, d.today)) {
        (Some(_), false) => InvestigationState::Concluded,
        (Some(_), true) => InvestigationState::ConcludedLate,
        (None, false) => InvestigationState::Pending,
        (None, true) => InvestigationState::Overdue,
    }
}

/// The register; with the entry form when `entry_csrf` (its hidden token
/// field) is given, for the roles that may enter accidents.
pub fn register(d: &Data, message: Option<(&str, &str)>, entry_csrf: Option<&str>) -> String {
    let mut b =
        String::from("<h1>Sổ theo dõi tai nạn lao động <span class=\"en\">Accident register</span></h1>\n");
    let _ = writeln!(
        b,
        "<p class=\"muted\">Thời hạn điều tra theo {}: 4 ngày (thương nhẹ), 7 ngày (một người bị thương nặng), 20 ngày (từ hai người bị thương nặng), 30 ngày (chết người), 60 ngày (cần giám định); tính từ ngày khai báo. Đoàn điều tra cấp tỉnh điều tra vụ chết người hoặc từ hai người bị thương nặng ({}). Khai báo được coi là kịp thời nếu trong {} giờ.</p>",
        deadlines::CITATION,
        deadlines::PROVINCIAL,
        deadlines::DECLARE_WITHIN_HOURS
    );
    if let Some((class, text)) = message {
        let _ = writeln!(b, "<p class=\"{class}\" role=\"alert\">{}</p>", e(text));
    }
    let overdue = d
        .accidents
        .iter()
        .filter(|a| state_of(d, a) == InvestigationState::Overdue)
        .count();
    let _ = writeln!(
        b,
        "<p>Số vụ quá hạn điều tra: <b id=\"overdue-count\">{overdue}</b></p>"
    );
    b.push_str("<div class=\"scroll\"><table id=\"accidents\"><tr><th>Thời gian</th><th>Nơi xảy ra, đơn vị</th><th>Cơ sở</th><th>Mức độ</th><th class=\"num\">Chết / nặng / nhẹ</th><th>Khai báo</th><th>Hạn điều tra</th><th>Tình trạng</th></tr>\n");
    for a in d.accidents.iter().rev() {
        let state = state_of(d, a);
        let class = match state {
            InvestigationState::Overdue | InvestigationState::ConcludedLate => "bad",
            InvestigationState::Pending => "warn",
            _ => "ok",
        };
        let _ = writeln!(
            b,
            "<tr data-accident=\"{}\" data-state=\"{}\"><td>{}</td><td>{}<br><span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td class=\"num\">{} / {} / {}</td><td>{}<br>{} {}</td><td>{}</td><td class=\"{class}\">{}</td></tr>",
            a.id,
            serde_json::to_value(state).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
            datetime_vi(a.occurred_at),
            e(&a.place),
            e(&unit_on(&d.units, &a.unit, a.date()).name),
            a.facility.map_or_else(|| "Lao động không có hợp đồng lao động".to_string(), |f| e(&d.facility_name(f))),
            e(a.severity().label_vi()),
            a.deaths,
            a.seriously_injured,
            a.lightly_injured,
            e(&a.declared_by.label_vi()),
            datetime_vi(a.declared_at),
            if a.declared_on_time() { "(kịp thời)".to_string() } else { format!("<span class=\"bad\">(chậm {} giờ)</span>", a.declaration_delay_hours()) },
            if a.investigated_by_inspectorate() { date_vi(a.investigation_deadline()) } else { "—".into() },
            e(state.label_vi())
        );
    }
    b.push_str("</table></div>\n");
    if let Some(csrf) = entry_csrf {
        entry_form(&mut b, d, csrf);
    }
    page("Sổ tai nạn lao động", NAV, &b)
}

/// The form that types an accident declared on paper into the register.
fn entry_form(b: &mut String, d: &Data, csrf: &str) {
    let _ = writeln!(b, "<h2>Nhập vụ tai nạn <span class=\"en\">Enter an accident</span></h2>\n<form class=\"stack\" method=\"post\" action=\"/admin/accidents\">{csrf}");
    b.push_str("<label for=\"occurred_at\">Thời gian xảy ra (giờ Việt Nam)</label><input type=\"datetime-local\" id=\"occurred_at\" name=\"occurred_at\" required>\n<label for=\"place\">Nơi xảy ra</label><input type=\"text\" id=\"place\" name=\"place\" required>\n<label for=\"unit\">Đơn vị hành chính</label><select id=\"unit\" name=\"unit\">");
    for u in d.units.all() {
        let _ = write!(
            b,
            "<option value=\"{}\">{} ({}–{})</option>",
            e(&u.code),
            e(&u.name_vi),
            u.valid_from,
            u.valid_to.map(|t| t.to_string()).unwrap_or_default()
        );
    }
    b.push_str("</select>\n<label for=\"facility\">Cơ sở (để trống nếu người lao động không có hợp đồng lao động)</label><select id=\"facility\" name=\"facility\"><option value=\"\">—</option>");
    let mut facilities: Vec<_> = d.facilities.values().collect();
    facilities.sort_by(|a, b| a.name.cmp(&b.name));
    for f in facilities {
        let _ = write!(b, "<option value=\"{}\">{}</option>", f.id, e(&f.name));
    }
    b.push_str("</select>\n<label for=\"deaths\">Số người chết</label><input type=\"number\" id=\"deaths\" name=\"deaths\" min=\"0\" value=\"0\">\n<label for=\"seriously_injured\">Số người bị thương nặng</label><input type=\"number\" id=\"seriously_injured\" name=\"seriously_injured\" min=\"0\" value=\"0\">\n<label for=\"lightly_injured\">Số người bị thương nhẹ</label><input type=\"number\" id=\"lightly_injured\" name=\"lightly_injured\" min=\"0\" value=\"0\">\n<label for=\"account\">Tóm tắt</label><textarea id=\"account\" name=\"account\" required></textarea>\n<button type=\"submit\">Ghi vào sổ</button>\n</form>\n");
}
