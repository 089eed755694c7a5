//! The portal's pages, in Vietnamese with English beside the headings.

use std::fmt::Write;

use kiemtra_core::evidence::PhotoRecord;
use kiemtra_core::remediation::RemediationReport;
use kiemtra_core::violation::{Violation, ViolationStatus};

use super::view::{days_left, PortalView};
use crate::html::{date_vi, datetime_vi, escape as e, page};

const NAV: &[(&str, &str)] = &[
    ("/portal/inspection", "Kết quả kiểm tra"),
    ("/portal/minutes", "Biên bản"),
    ("/portal/accident", "Khai báo tai nạn lao động"),
];

/// The page that asks for the access code.
pub fn login(code: &str, message: Option<(&str, &str)>) -> String {
    let mut b = String::new();
    b.push_str(
        "<h1>Tra cứu kết quả kiểm tra <span class=\"en\">Inspection results for establishments</span></h1>\n",
    );
    b.push_str("<p>Nhập mã tra cứu in trên biên bản kiểm tra (hoặc quét mã QR trên biên bản).</p>\n");
    if let Some((class, text)) = message {
        let _ = writeln!(b, "<p class=\"{class}\" role=\"alert\">{}</p>", e(text));
    }
    let _ = writeln!(
        b,
        "<form class=\"stack\" method=\"post\" action=\"/portal\">\n<label for=\"code\">Mã tra cứu <span class=\"en\">Access code</span></label>\n<input type=\"text\" id=\"code\" name=\"code\" value=\"{}\" autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" placeholder=\"XXXXX-XXXXX-XXXXX-XXXXX\" required>\n<button type=\"submit\" id=\"open\">Xem kết quả</button>\n</form>",
        e(code)
    );
    page("Tra cứu kết quả kiểm tra", &[], &b)
}

fn status_badge(v: &Violation) -> String {
    let class = match v.status {
        ViolationStatus::Open => "bad",
        ViolationStatus::Remediated => "warn",
        ViolationStatus::Verified => "ok",
    };
    format!("<span class=\"badge {class}\">{}</span>", e(v.status.label_vi()))
}

fn days_text(v: &Violation, view: &PortalView) -> String {
    match days_left(v, view.today) {
        None => "—".into(),
        Some(d) if d < 0 => format!("<span class=\"bad\">Quá hạn {} ngày</span>", -d),
        Some(0) => "<span class=\"warn\">Hết hạn hôm nay</span>".into(),
        Some(d) => format!("Còn {d} ngày"),
    }
}

fn legal(v: &Violation) -> String {
    let mut s = v
        .legal_basis
        .iter()
        .map(|l| format!("{}, {}", e(&l.article), e(&l.instrument)))
        .collect::<Vec<_>>()
        .join("; ");
    if let Some(sanction) = &v.sanction {
        let _ = write!(
            s,
            "<br><span class=\"muted\">Chế tài: {}, {}</span>",
            e(&sanction.article),
            e(&sanction.instrument)
        );
    }
    s
}

fn verification(view: &PortalView) -> String {
    let Some(report) = &view.report else {
        return "<p class=\"notice\">Biên bản chưa được lập.</p>".into();
    };
    let mut b = String::new();
    if report.is_valid() {
        b.push_str("<p class=\"success\" id=\"verify-status\">✔ Biên bản xác thực: mọi chữ ký số hợp lệ, do khóa đã được cấp chứng thư ký, nội dung không bị sửa đổi. <span class=\"en\">Every signature verifies.</span></p>\n");
    } else if !view.is_sealed() {
        b.push_str("<p class=\"notice\" id=\"verify-status\">Biên bản đang chờ ký, chưa có chữ ký của trưởng đoàn. <span class=\"en\">Awaiting signatures.</span></p>\n");
    } else {
        b.push_str("<p class=\"error\" id=\"verify-status\">✘ Có chữ ký không xác thực được. <span class=\"en\">A signature does not verify.</span></p>\n");
    }
    b.push_str("<div class=\"scroll\"><table><tr><th>Người ký</th><th>Vai trò</th><th>Dấu vân tay khóa</th><th>Kết quả</th></tr>\n");
    for s in &report.signatures {
        let name = view
            .trusted
            .get(&s.signer)
            .map(|k| k.name.clone())
            .unwrap_or_else(|| s.signer.clone());
        let ok = if s.is_ok() {
            "<span class=\"ok\">Hợp lệ</span>"
        } else {
            "<span class=\"bad\">Không hợp lệ</span>"
        };
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{ok}</td></tr>",
            e(&name),
            e(role_vi(s.role)),
            e(&s.fingerprint)
        );
    }
    b.push_str("</table></div>\n");
    let _ = writeln!(
        b,
        "<p class=\"muted\">Mã băm nội dung (SHA-256): <code>{}</code></p>",
        report.content_hash
    );
    b
}

fn role_vi(r: kiemtra_core::people::Role) -> &'static str {
    match r {
        kiemtra_core::people::Role::Leader => "Trưởng đoàn",
        kiemtra_core::people::Role::Member => "Thành viên",
        kiemtra_core::people::Role::Secretary => "Thư ký",
    }
}

/// The establishment's main page: minutes, verification, violations, photos.
pub fn inspection(view: &PortalView) -> String {
    let f = &view.facility;
    let i = &view.record.inspection;
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<h1 id=\"facility\">{}</h1>\n<p>{}{} · {}</p>",
        e(&f.name),
        f.tax_code
            .as_ref()
            .map(|t| format!("Mã số thuế {} · ", e(t.as_str())))
            .unwrap_or_default(),
        e(&f.address.street),
        e(f.kind.label_vi())
    );
    let number = view
        .signed
        .as_ref()
        .map(|s| s.document().number.clone())
        .unwrap_or_default();
    let _ = writeln!(
        b,
        "<div class=\"card\"><b>{} ngày {}</b> – {}<br>Biên bản số {} · <a href=\"/portal/minutes\">Xem biên bản</a> · <a href=\"/portal/minutes.pdf\">Tải PDF (có tệp ký số đính kèm)</a></div>",
        e(i.kind.label_vi()),
        date_vi(i.date()),
        e(i.status.label_vi()),
        e(&number)
    );
    b.push_str("<h2>Xác thực chữ ký <span class=\"en\">Signature verification</span></h2>\n");
    b.push_str(&verification(view));
    let _ = writeln!(
        b,
        "<h2>Các vi phạm và yêu cầu khắc phục <span class=\"en\">Violations ({})</span></h2>",
        view.violations.len()
    );
    if view.violations.is_empty() {
        b.push_str("<p>Không có vi phạm.</p>\n");
    } else {
        b.push_str("<div class=\"scroll\"><table id=\"violations\" class=\"cards\"><tr><th>Mục</th><th>Vi phạm</th><th>Căn cứ pháp lý</th><th>Yêu cầu khắc phục</th><th>Thời hạn</th><th>Trạng thái</th><th></th></tr>\n");
        for v in &view.violations {
            let _ = writeln!(
                b,
                "<tr data-item=\"{item}\"><td data-label=\"Mục\">{item}</td><td>{}</td><td data-label=\"Căn cứ\">{}</td><td data-label=\"Yêu cầu\">{}</td><td data-label=\"Thời hạn\">{}<br>{}</td><td>{}</td><td class=\"noprint action\"><a href=\"/portal/violations/{item}\">Báo cáo khắc phục</a></td></tr>",
                e(&v.text_vi),
                legal(v),
                e(&v.requirement),
                date_vi(v.deadline),
                days_text(v, view),
                status_badge(v),
                item = e(&v.item)
            );
        }
        b.push_str("</table></div>\n");
    }
    let photos: Vec<_> = view.record.photos.values().collect();
    if !photos.is_empty() {
        let _ = writeln!(
            b,
            "<h2>Ảnh hiện trường <span class=\"en\">Photos ({})</span></h2>\n<div class=\"thumbs\">",
            photos.len()
        );
        for p in photos {
            let caption = p.caption.as_deref().unwrap_or("Ảnh");
            b.push_str(&photo_link(view, p, caption));
            b.push('\n');
        }
        b.push_str("</div>\n");
    }
    b.push_str(
        "<form method=\"post\" action=\"/portal/logout\"><button type=\"submit\">Thoát</button></form>\n",
    );
    page(&f.name, NAV, &b)
}

/// A photo's thumbnail linking to the image, once both have arrived and are
/// the images the operation declares; until then a note in its place.
fn photo_link(view: &PortalView, p: &PhotoRecord, alt: &str) -> String {
    if view.received.contains(&p.image.sha256) {
        format!(
            "<a href=\"/portal/photos/{}\"><img src=\"/portal/photos/{}\" alt=\"{}\" loading=\"lazy\"></a>",
            e(&p.image.sha256),
            e(&p.thumbnail.sha256),
            e(alt)
        )
    } else {
        format!(
            "<span class=\"missing-photo\" title=\"{}\">{NOT_RECEIVED}</span>",
            e(alt)
        )
    }
}

/// What stands in for a photo the server does not (yet) hold as an image.
pub const NOT_RECEIVED: &str = "Ảnh chưa nhận được <span class=\"en\">Photo not yet received</span>";

fn report_block(view: &PortalView, r: &RemediationReport) -> String {
    let mut b = format!(
        "<div class=\"card report\"><b>{}</b> – gửi lúc {}<p>{}</p>",
        e(&r.sent_by),
        datetime_vi(r.received_at),
        e(&r.text)
    );
    if !r.photos.is_empty() {
        b.push_str("<div class=\"thumbs\">");
        for p in &r.photos {
            b.push_str(&photo_link(view, p, "Ảnh khắc phục"));
        }
        b.push_str("</div>");
    }
    b.push_str("</div>\n");
    b
}

/// One violation: what it is, what was reported, and the form to report remediation.
pub fn violation(view: &PortalView, v: &Violation, message: Option<(&str, &str)>) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<p><a href=\"/portal/inspection\">← {}</a></p>\n<h1>Vi phạm mục {}</h1>\n<p id=\"violation-text\">{}</p>\n<table><tr><th>Căn cứ pháp lý</th><td>{}</td></tr><tr><th>Yêu cầu khắc phục</th><td>{}</td></tr><tr><th>Thời hạn</th><td>{} ({})</td></tr><tr><th>Trạng thái</th><td id=\"status\">{}</td></tr></table>",
        e(&view.facility.name),
        e(&v.item),
        e(&v.text_vi),
        legal(v),
        e(&v.requirement),
        date_vi(v.deadline),
        days_text(v, view),
        status_badge(v)
    );
    if let Some((class, text)) = message {
        let _ = writeln!(b, "<p class=\"{class}\" role=\"alert\">{}</p>", e(text));
    }
    let reports = view.record.remediation_reports(&v.item);
    if !reports.is_empty() {
        b.push_str("<h2>Báo cáo đã gửi <span class=\"en\">Reports sent</span></h2>\n");
        for r in reports {
            b.push_str(&report_block(view, r));
        }
    }
    for r in view.record.remediation_reviews(&v.item) {
        let _ = writeln!(
            b,
            "<p class=\"card\">Kết quả xem xét của đoàn kiểm tra ({}): <b>{}</b>{}</p>",
            datetime_vi(r.at),
            e(r.review.verdict.label_vi()),
            r.review
                .note
                .as_ref()
                .map(|n| format!(" – {}", e(n)))
                .unwrap_or_default()
        );
    }
    if view.is_sealed() && v.status != ViolationStatus::Verified {
        let late = if v.deadline < view.today {
            "<p class=\"notice\">Đã quá thời hạn khắc phục: báo cáo vẫn được nhận và ghi rõ ngày gửi.</p>"
        } else {
            ""
        };
        let _ = writeln!(
            b,
            "<h2>Gửi báo cáo khắc phục <span class=\"en\">Report remediation</span></h2>{late}\n<form class=\"stack\" method=\"post\" action=\"/portal/violations/{}\" enctype=\"multipart/form-data\">\n<label for=\"sent_by\">Người gửi (họ tên, chức vụ)</label><input type=\"text\" id=\"sent_by\" name=\"sent_by\" required maxlength=\"200\">\n<label for=\"text\">Nội dung đã khắc phục</label><textarea id=\"text\" name=\"text\" rows=\"5\" required maxlength=\"4000\"></textarea>\n<label for=\"photos\">Ảnh minh chứng (JPEG, PNG, WebP; tối đa 10 ảnh)</label><input type=\"file\" id=\"photos\" name=\"photos\" accept=\"image/jpeg,image/png,image/webp\" multiple>\n<button type=\"submit\" id=\"send\">Gửi báo cáo</button>\n</form>",
            e(&v.item)
        );
    }
    page(&format!("Vi phạm {}", v.item), NAV, &b)
}

/// The online accident declaration (plan §IV.1.d).
pub fn accident_form(view: &PortalView, message: Option<(&str, &str)>) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<h1>Khai báo tai nạn lao động <span class=\"en\">Declare a labour accident</span></h1>\n<p>{} – khai báo ngay khi xảy ra tai nạn lao động chết người hoặc làm bị thương nặng (Luật ATVSLĐ, Điều 34). Thời điểm khai báo được ghi lại.</p>",
        e(&view.facility.name)
    );
    if let Some((class, text)) = message {
        let _ = writeln!(b, "<p class=\"{class}\" role=\"alert\">{}</p>", e(text));
    }
    b.push_str(
        "<form class=\"stack\" method=\"post\" action=\"/portal/accident\">\n\
<label for=\"occurred_at\">Thời gian xảy ra (giờ Việt Nam)</label><input type=\"datetime-local\" id=\"occurred_at\" name=\"occurred_at\" required>\n\
<label for=\"place\">Nơi xảy ra</label><input type=\"text\" id=\"place\" name=\"place\" required maxlength=\"300\">\n\
<label for=\"deaths\">Số người chết</label><input type=\"number\" id=\"deaths\" name=\"deaths\" min=\"0\" value=\"0\">\n\
<label for=\"seriously_injured\">Số người bị thương nặng</label><input type=\"number\" id=\"seriously_injured\" name=\"seriously_injured\" min=\"0\" value=\"0\">\n\
<label for=\"lightly_injured\">Số người bị thương nhẹ</label><input type=\"number\" id=\"lightly_injured\" name=\"lightly_injured\" min=\"0\" value=\"0\">\n\
<label for=\"victims\">Họ tên người bị nạn (mỗi dòng một người)</label><textarea id=\"victims\" name=\"victims\" rows=\"3\"></textarea>\n\
<label for=\"account\">Tóm tắt diễn biến, thương tích</label><textarea id=\"account\" name=\"account\" rows=\"5\" required maxlength=\"4000\"></textarea>\n\
<label for=\"person\">Người khai báo (họ tên, chức vụ)</label><input type=\"text\" id=\"person\" name=\"person\" required maxlength=\"200\">\n\
<button type=\"submit\" id=\"declare\">Gửi khai báo</button>\n</form>\n",
    );
    page("Khai báo tai nạn lao động", NAV, &b)
}

/// An error page that says no more than it must.
pub fn problem(title: &str, text: &str) -> String {
    page(
        title,
        &[("/portal", "Nhập mã tra cứu")],
        &format!("<h1>{}</h1>\n<p class=\"error\">{}</p>", e(title), e(text)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use kiemtra_core::template::{LegalRef, Severity};

    fn cite(article: &str, instrument: &str) -> LegalRef {
        LegalRef {
            instrument: instrument.into(),
            article: article.into(),
            verified: true,
        }
    }

    /// A template is outside input: its citations are text, never markup.
    #[test]
    fn the_legal_basis_is_escaped() {
        let v = Violation {
            item: "1.1".into(),
            section: "1".into(),
            text_vi: "Chưa huấn luyện".into(),
            legal_basis: vec![cite(
                "Điều 14 <script>alert(1)</script>",
                "Luật ATVSLĐ & \"2015\"",
            )],
            sanction: Some(cite("Điều 21 <b>", "Nghị định 12/2022")),
            requirement: "Huấn luyện".into(),
            severity: Severity::Major,
            deadline: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            status: ViolationStatus::Open,
            dismissal: None,
            edited: false,
            conflict: false,
            edit_heads: Vec::new(),
        };
        let html = legal(&v);
        assert!(!html.contains("<script>") && !html.contains("<b>"), "{html}");
        assert!(
            html.contains("Điều 14 &lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("Luật ATVSLĐ &amp; &quot;2015&quot;"), "{html}");
        assert!(html.contains("Điều 21 &lt;b&gt;"), "{html}");
    }
}
