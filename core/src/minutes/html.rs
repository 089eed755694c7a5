//! The printable page: the standard administrative layout in Vietnamese,
//! A4 print CSS, the content hash in a footer repeated on every printed page,
//! and a QR code carrying the verify URL (which contains the hash).

use std::fmt::Write;

use qrcode::render::svg;
use qrcode::QrCode;

use super::document::Statement;
use super::sign::SignedMinutes;
use super::wording::*;
use super::MinutesError;
use crate::access_code::AccessCode;
use crate::people::Role;

#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// E.g. `https://kiemtra.example.vn/verify`; the hash is appended as a path segment.
    pub verify_base_url: String,
    /// The establishment's portal access code, printed as text and carried
    /// in the QR code's URL (`?code=`), so that scanning opens its page.
    pub access_code: Option<AccessCode>,
    /// The minutes have an access code that this renderer does not hold
    /// (only the drawing device and the paper do): a line says where it is.
    pub code_elsewhere: bool,
}

impl RenderOptions {
    pub fn new(verify_base_url: &str) -> Self {
        Self {
            verify_base_url: verify_base_url.to_string(),
            access_code: None,
            code_elsewhere: false,
        }
    }

    pub fn with_access_code(mut self, code: Option<AccessCode>) -> Self {
        self.access_code = code;
        self
    }

    /// Prints, instead of the code, that it is on the establishment's copy.
    pub fn with_code_elsewhere(mut self) -> Self {
        self.code_elsewhere = true;
        self
    }

    /// The line printed about the access code, if any.
    pub fn access_code_text(&self) -> Option<String> {
        match &self.access_code {
            Some(code) => Some(format!("Mã tra cứu của cơ sở (access code): {}", code.grouped())),
            None if self.code_elsewhere => Some(CODE_ELSEWHERE.to_string()),
            None => None,
        }
    }

    /// What the QR code carries: the verify URL, plus the access code.
    pub fn qr_url(&self, hash: &crate::minutes::Hash32) -> String {
        let url = verify_url(&self.verify_base_url, hash);
        match &self.access_code {
            Some(code) => format!("{url}?code={}", code.as_str()),
            None => url,
        }
    }
}

/// Printed where the code is not known: it is on the establishment's copy.
pub const CODE_ELSEWHERE: &str =
    "Mã tra cứu của cơ sở: in trên bản giao cho cơ sở (access code: on the establishment's copy)";

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
@page { size: A4; margin: 20mm 15mm 22mm 25mm; }
body { font-family: "Times New Roman", "Liberation Serif", Times, serif; font-size: 13pt; line-height: 1.35; color: #000; max-width: 170mm; margin: 0 auto; }
.header { display: grid; grid-template-columns: 42% 58%; column-gap: 8pt; text-align: center; }
.header p { margin: 0; }
.caps { text-transform: uppercase; }
.b { font-weight: bold; }
.u { text-decoration: underline; }
.dateline { font-style: italic; margin-top: 6pt !important; }
h1 { text-align: center; font-size: 14pt; margin: 18pt 0 0; }
.subject { text-align: center; font-weight: bold; margin: 0 0 12pt; }
h2 { font-size: 13pt; margin: 10pt 0 4pt; }
h3 { font-size: 13pt; font-style: italic; font-weight: normal; margin: 6pt 0 2pt; }
p { margin: 3pt 0; text-align: justify; }
.header p, .signatures p { text-align: center; }
@media screen and (max-width: 640px) { body { font-size: 11pt; padding: 0 8px; } .header { grid-template-columns: 1fr; } .qr { float: none; margin: 0 auto 6pt; } }
table { border-collapse: collapse; width: 100%; font-size: 12pt; }
td, th { border: 1px solid #000; padding: 2pt 4pt; vertical-align: top; }
.dismissed { color: #555; font-style: italic; }
.signatures { display: grid; grid-template-columns: 1fr 1fr; gap: 12pt 24pt; margin-top: 18pt; text-align: center; page-break-inside: avoid; }
.signatures .block { min-height: 90pt; }
.sigstatus { font-size: 11pt; font-style: italic; }
.qr { float: right; width: 30mm; margin: 0 0 6pt 6pt; text-align: center; font-size: 8pt; }
.qr svg { width: 30mm; height: 30mm; }
.qr .code { font-family: monospace; font-size: 8pt; margin-top: 2pt; }
.footer { position: fixed; bottom: 0; left: 0; right: 0; font-size: 8pt; text-align: center; font-family: monospace; }
@media screen { .footer { position: static; margin-top: 24pt; } }
"#;

/// Renders the signed minutes as one HTML page.
pub fn render_html(signed: &SignedMinutes, options: &RenderOptions) -> Result<String, MinutesError> {
    let doc = signed.document();
    let hash = signed.content_hash();
    let url = options.qr_url(&hash);
    let qr = QrCode::new(url.as_bytes()).map_err(|e| MinutesError::Render(e.to_string()))?;
    let svg = qr.render::<svg::Color>().min_dimensions(120, 120).build();
    // Inline SVG must not carry an XML declaration.
    let svg = match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg.as_str(),
    };
    let e = escape;
    let mut h = String::with_capacity(32 * 1024);
    // `write!` into a String cannot fail; results are ignored on purpose below.
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Biên bản kiểm tra {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        e(&doc.number)
    );
    // Header: issuing body and number | national motto and dateline.
    h.push_str("<div class=\"header\">\n<div>\n");
    for (i, line) in doc.issuing_body.iter().enumerate() {
        let bold = if i + 1 == doc.issuing_body.len() { " b" } else { "" };
        let _ = writeln!(h, "<p class=\"caps{bold}\">{}</p>", e(line));
    }
    let _ = writeln!(h, "<p>Số: {}</p>\n</div>\n<div>", e(&doc.number));
    h.push_str("<p class=\"b\">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</p>\n<p class=\"b u\">Độc lập - Tự do - Hạnh phúc</p>\n");
    let _ = writeln!(
        h,
        "<p class=\"dateline\">{}</p>\n</div>\n</div>",
        e(&dateline(doc))
    );

    let _ = writeln!(
        h,
        "<div class=\"qr\">{svg}<div>Xác minh / Verify</div>{}</div>\n<h1>BIÊN BẢN KIỂM TRA</h1>\n<p class=\"subject\">{}</p>",
        match (&options.access_code, options.code_elsewhere) {
            (Some(c), _) => format!("<div class=\"code\">Mã tra cứu của cơ sở:<br><b>{}</b></div>", e(&c.grouped())),
            (None, true) => format!("<div class=\"code\">{}</div>", e(CODE_ELSEWHERE)),
            (None, false) => String::new(),
        },
        e(&doc.subject)
    );
    if let Some(a) = amendment_line(doc) {
        let _ = writeln!(h, "<p class=\"b\">{}</p>", e(&a));
    }
    for g in &doc.grounds {
        let _ = writeln!(h, "<p>Căn cứ {}</p>", e(g));
    }
    let _ = writeln!(h, "<p>{}</p>", e(&opening(doc)));
    if let Some(l) = location_line(doc) {
        let _ = writeln!(h, "<p>{}</p>", e(&l));
    }
    if let Some(r) = &doc.place.made_elsewhere_reason {
        let _ = writeln!(h, "<p>Lý do lập biên bản tại nơi khác: {}</p>", e(r));
    }

    // I. Composition.
    let _ = writeln!(
        h,
        "<h2>I. Thành phần</h2>\n<h3>1. Đoàn kiểm tra ({})</h3>",
        e(&doc.delegation_name)
    );
    for (i, m) in doc.members.iter().enumerate() {
        let _ = writeln!(
            h,
            "<p>{}. Ông/Bà {} – {}, {} – {}</p>",
            i + 1,
            e(&m.name),
            e(&m.title),
            e(&m.agency),
            e(m.role.label_vi())
        );
    }
    let est = &doc.establishment;
    let _ = writeln!(h, "<h3>2. Đơn vị được kiểm tra: {}</h3>", e(&est.name));
    let _ = writeln!(
        h,
        "<p>Loại hình: {}; ngành nghề: {}; số lao động: {}</p>",
        e(est.kind.label_vi()),
        e(&est.sector),
        est.workforce
    );
    let _ = writeln!(h, "<p>Địa chỉ: {}</p>", e(&est.address));
    if let Some(t) = &est.tax_code {
        let _ = writeln!(h, "<p>Mã số thuế: {}</p>", e(t));
    }
    match &doc.representative {
        Some(r) => {
            let _ = writeln!(h, "<p>Đại diện: Ông/Bà {} – {}</p>", e(&r.name), e(&r.title));
        }
        None => h.push_str("<p>Đại diện: vắng mặt</p>\n"),
    }
    for p in &doc.others_present {
        let _ = writeln!(h, "<p>Cùng có mặt: Ông/Bà {} – {}</p>", e(&p.name), e(&p.title));
    }

    // II. Findings, by section.
    h.push_str("<h2>II. Kết quả kiểm tra</h2>\n");
    for s in &doc.findings {
        let _ = writeln!(h, "<h3>{}. {}</h3>\n<table>\n<tr><th>Mục</th><th>Nội dung</th><th>Kết quả</th><th>Đánh giá</th></tr>", e(&s.code), e(&s.title));
        for f in &s.items {
            let note = f
                .note
                .as_deref()
                .map(|n| format!("<br><i>Ghi chú: {}</i>", e(n)))
                .unwrap_or_default();
            let photos: Vec<String> = doc
                .photos
                .iter()
                .filter(|p| p.item.as_deref() == Some(f.item.as_str()))
                .map(|p| format!("<br><i>Ảnh: {} ({})</i>", e(&p.caption), &p.sha256.to_hex()[..12]))
                .collect();
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
                e(&f.item),
                e(&f.question),
                note + &photos.concat(),
                e(&f.answer),
                e(assessment_vi(f.assessment))
            );
        }
        h.push_str("</table>\n");
    }
    let general: Vec<_> = doc.photos.iter().filter(|p| p.item.is_none()).collect();
    for p in general {
        let _ = writeln!(h, "<p><i>Ảnh: {} (SHA-256 {})</i></p>", e(&p.caption), p.sha256);
    }

    // III. Violations.
    h.push_str("<h2>III. Tồn tại, vi phạm</h2>\n");
    if doc.standing_violations().next().is_none() {
        h.push_str("<p>Không phát hiện vi phạm.</p>\n");
    }
    for v in doc.standing_violations() {
        let basis: Vec<String> = v.legal_basis.iter().map(|c| c.cite_vi()).collect();
        let _ = writeln!(
            h,
            "<p>{}. {} (mục {}; mức độ: {}). Căn cứ: {}.{}</p>",
            v.number,
            e(&v.text),
            e(&v.item),
            e(v.severity.label_vi()),
            e(&basis.join("; ")),
            v.sanction
                .as_ref()
                .map(|s| format!(" Chế tài: {}.", e(&s.cite_vi())))
                .unwrap_or_default()
        );
    }
    for v in doc.violations.iter().filter(|v| v.dismissed.is_some()) {
        let _ = writeln!(
            h,
            "<p class=\"dismissed\">(Không xử lý: {} – mục {}; lý do: {})</p>",
            e(&v.text),
            e(&v.item),
            e(v.dismissed.as_deref().unwrap_or_default())
        );
    }

    // IV. Requirements.
    h.push_str("<h2>IV. Kiến nghị, yêu cầu</h2>\n");
    for v in doc.standing_violations() {
        let _ = writeln!(
            h,
            "<p>{}. {} – thời hạn: trước ngày {}.</p>",
            v.number,
            e(&v.requirement),
            e(&date_vi(&v.deadline))
        );
    }
    if let Some(r) = &doc.report_back {
        let _ = writeln!(
            h,
            "<p>Đơn vị báo cáo kết quả khắc phục về {} trước ngày {}.</p>",
            e(&r.to),
            e(&date_vi(&r.by))
        );
    }

    // V. Statement or refusal.
    h.push_str("<h2>V. Ý kiến của đơn vị được kiểm tra</h2>\n");
    for l in statement_lines(doc) {
        let _ = writeln!(h, "<p>{}</p>", e(&l));
    }
    let _ = writeln!(h, "<p>{}</p>", e(&closing(doc)));

    // Signature blocks.
    h.push_str("<div class=\"signatures\">\n<div class=\"block\"><p class=\"b\">ĐẠI DIỆN ĐƠN VỊ ĐƯỢC KIỂM TRA</p><p><i>(Ký, ghi rõ họ tên, đóng dấu)</i></p>\n");
    match (&doc.statement, &doc.representative) {
        (Statement::Refused { .. }, _) => h.push_str("<p class=\"sigstatus\">Không ký – xem mục V</p>\n"),
        (_, Some(r)) => {
            let status = match &doc.representative_signature {
                Some(s) => format!("Đã ký trên thiết bị (ảnh chữ ký SHA-256 {})", &s.to_hex()[..16]),
                None => "Ký trên bản giấy".to_string(),
            };
            let _ = writeln!(
                h,
                "<p class=\"sigstatus\">{}</p><p class=\"b\">{}</p>",
                e(&status),
                e(&r.name)
            );
        }
        (_, None) => {}
    }
    h.push_str("</div>\n");
    for m in doc.members.iter().filter(|m| m.role == Role::Leader) {
        sig_block(&mut h, signed, m.role, &m.name, &m.inspector_id);
    }
    if let Statement::Refused { witness: Some(w), .. } = &doc.statement {
        let _ = writeln!(
            h,
            "<div class=\"block\"><p class=\"b\">NGƯỜI CHỨNG KIẾN</p><p><i>({})</i></p><p class=\"b\">{}</p><p>{}</p></div>",
            e(&w.role),
            e(&w.name),
            e(&w.title)
        );
    }
    for role in [Role::Member, Role::Secretary] {
        for m in doc.members.iter().filter(|m| m.role == role) {
            sig_block(&mut h, signed, m.role, &m.name, &m.inspector_id);
        }
    }
    h.push_str("</div>\n");
    let _ = writeln!(
        h,
        "<div class=\"footer\">{} · {}</div>\n</body>\n</html>",
        e(&hash_footer(&hash)),
        e(&url)
    );
    Ok(h)
}

fn sig_block(h: &mut String, signed: &SignedMinutes, role: Role, name: &str, id: &str) {
    let _ = writeln!(
        h,
        "<div class=\"block\"><p class=\"b\">{}</p><p class=\"sigstatus\">{}</p><p class=\"b\">{}</p></div>",
        escape(role_heading(role)),
        escape(&signature_status(signed, id)),
        escape(name)
    );
}
