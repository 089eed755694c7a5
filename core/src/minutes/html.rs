//! The printable page: the blocks of `layout` as escaped HTML with A4 print
//! CSS, the content hash in a footer repeated on every printed page, and a QR
//! code carrying the verify URL (which contains the hash).

use std::fmt::Write;

use qrcode::render::svg;
use qrcode::QrCode;

use super::layout::{describe, Block, Cell, Column, HeaderLine, ParagraphKind, SignatureBlock};
use super::sign::SignedMinutes;
use super::wording::verify_url;
use super::MinutesError;
use crate::access_code::AccessCode;

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
    let printed = describe(signed, options);
    let v = &printed.verification;
    let qr = QrCode::new(v.url.as_bytes()).map_err(|e| MinutesError::Render(e.to_string()))?;
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
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        e(&printed.title)
    );
    for block in &printed.blocks {
        match block {
            Block::Header { left, right } => {
                h.push_str("<div class=\"header\">\n");
                for column in [left, right] {
                    h.push_str("<div>\n");
                    for line in column {
                        let _ = writeln!(h, "{}", header_line(line));
                    }
                    h.push_str("</div>\n");
                }
                h.push_str("</div>\n");
            }
            Block::Title { title, subject } => {
                // The QR box floats beside the title, on the first printed page.
                let code = v
                    .access_code
                    .as_deref()
                    .map(|c| format!("<div class=\"code\">{}</div>", e(c)))
                    .unwrap_or_default();
                let _ = writeln!(
                    h,
                    "<div class=\"qr\">{svg}<div>{}</div>{code}</div>\n<h1>{}</h1>\n<p class=\"subject\">{}</p>",
                    e(v.caption),
                    e(title),
                    e(subject)
                );
            }
            Block::Heading(t) => {
                let _ = writeln!(h, "<h2>{}</h2>", e(t));
            }
            Block::Subheading(t) => {
                let _ = writeln!(h, "<h3>{}</h3>", e(t));
            }
            Block::Paragraph { text, kind } => {
                let _ = writeln!(h, "{}", paragraph(text, *kind));
            }
            Block::Table { columns, rows } => table(&mut h, columns, rows),
            Block::Signatures(blocks) => {
                h.push_str("<div class=\"signatures\">\n");
                for b in blocks {
                    let _ = writeln!(h, "{}", signature_block(b));
                }
                h.push_str("</div>\n");
            }
        }
    }
    let _ = writeln!(
        h,
        "<div class=\"footer\">{} · {}</div>\n</body>\n</html>",
        e(&v.footer),
        e(&v.url)
    );
    Ok(h)
}

fn header_line(line: &HeaderLine) -> String {
    let mut classes = Vec::new();
    if line.bold {
        classes.push("b");
    }
    if line.underline {
        classes.push("u");
    }
    if line.italic {
        classes.push("dateline");
    }
    if classes.is_empty() {
        format!("<p>{}</p>", escape(&line.text))
    } else {
        format!("<p class=\"{}\">{}</p>", classes.join(" "), escape(&line.text))
    }
}

fn paragraph(text: &str, kind: ParagraphKind) -> String {
    let t = escape(text);
    match kind {
        ParagraphKind::Lead | ParagraphKind::Item => format!("<p>{t}</p>"),
        ParagraphKind::Emphasis => format!("<p class=\"b\">{t}</p>"),
        ParagraphKind::Note => format!("<p><i>{t}</i></p>"),
        ParagraphKind::Dismissed => format!("<p class=\"dismissed\">{t}</p>"),
    }
}

fn table(h: &mut String, columns: &[Column], rows: &[Vec<Cell>]) {
    h.push_str("<table>\n<tr>");
    for c in columns {
        let _ = write!(h, "<th>{}</th>", escape(c.title));
    }
    h.push_str("</tr>\n");
    for row in rows {
        h.push_str("<tr>");
        for cell in row {
            h.push_str("<td>");
            for (i, line) in cell.iter().enumerate() {
                if i > 0 {
                    h.push_str("<br>");
                }
                if line.note {
                    let _ = write!(h, "<i>{}</i>", escape(&line.text));
                } else {
                    h.push_str(&escape(&line.text));
                }
            }
            h.push_str("</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

fn signature_block(b: &SignatureBlock) -> String {
    let mut s = format!("<div class=\"block\"><p class=\"b\">{}</p>", escape(&b.title));
    if let Some(n) = &b.note {
        let _ = write!(s, "<p><i>{}</i></p>", escape(n));
    }
    if let Some(st) = &b.status {
        let _ = write!(s, "<p class=\"sigstatus\">{}</p>", escape(st));
    }
    if let Some(n) = &b.name {
        let _ = write!(s, "<p class=\"b\">{}</p>", escape(n));
    }
    if let Some(d) = &b.detail {
        let _ = write!(s, "<p>{}</p>", escape(d));
    }
    s.push_str("</div>");
    s
}
