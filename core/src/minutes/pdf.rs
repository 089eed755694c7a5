//! The A4 PDF, rendered on the device with no network: Liberation Serif
//! (metric-compatible with Times New Roman) compiled in, shaped and subset by
//! krilla, the signed bundle attached as an embedded file, and the content
//! hash in the footer of every page. Also: finding the bundle again in a PDF.
//!
//! Layout is deliberately simple: the two-column header, then paragraphs
//! wrapped to the text width, page breaks between lines, and the signature
//! blocks in two columns. Text is measured with skrifa (advance widths) the
//! same font krilla draws with, so lines fit.

use std::io::Read;

use krilla::color::rgb;
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::Document;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

use super::bundle::MAX_BUNDLE_BYTES;
use super::document::{Assessment, Statement};
use super::wording::*;
use super::{Bundle, MinutesError, RenderOptions, SignedMinutes};
use crate::people::Role;

static REGULAR: &[u8] = include_bytes!("../../fonts/LiberationSerif-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../../fonts/LiberationSerif-Bold.ttf");

const PAGE_W: f32 = 595.276;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 70.87; // 25 mm: the binding margin of administrative documents
const RIGHT: f32 = 42.52; // 15 mm
const TOP: f32 = 56.69; // 20 mm
const BOTTOM: f32 = 70.0; // leaves room for the hash footer
const BODY: f32 = 13.0;
const SMALL: f32 = 11.0;

/// One font with what measuring needs.
struct Face {
    pdf: Font,
    skrifa: FontRef<'static>,
    metrics: GlyphMetrics<'static>,
    upem: f32,
}

impl Face {
    fn load(bytes: &'static [u8]) -> Result<Self, MinutesError> {
        let bad = || MinutesError::Render("the built-in font cannot be read".into());
        let pdf = Font::new(bytes.into(), 0).ok_or_else(bad)?;
        let skrifa = FontRef::new(bytes).map_err(|_| bad())?;
        let metrics = skrifa.glyph_metrics(Size::unscaled(), LocationRef::default());
        let upem = f32::from(
            skrifa
                .metrics(Size::unscaled(), LocationRef::default())
                .units_per_em
                .max(1),
        );
        Ok(Self {
            pdf,
            skrifa,
            metrics,
            upem,
        })
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        let charmap = self.skrifa.charmap();
        let units: f32 = text
            .chars()
            .map(|c| {
                let gid = charmap.map(c).unwrap_or_default();
                self.metrics.advance_width(gid).unwrap_or(0.0)
            })
            .sum();
        units * size / self.upem
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Center,
}

#[derive(Clone, Copy)]
struct Style {
    bold: bool,
    size: f32,
    align: Align,
    indent: f32,
}

const P: Style = Style {
    bold: false,
    size: BODY,
    align: Align::Left,
    indent: 0.0,
};

enum Draw {
    Text {
        x: f32,
        y: f32,
        text: String,
        bold: bool,
        size: f32,
    },
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
    },
}

struct Layout<'a> {
    regular: &'a Face,
    bold: &'a Face,
    pages: Vec<Vec<Draw>>,
    /// Baseline of the next line's top, from the page's top.
    y: f32,
}

impl<'a> Layout<'a> {
    fn face(&self, bold: bool) -> &'a Face {
        if bold {
            self.bold
        } else {
            self.regular
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    fn ensure(&mut self, height: f32) {
        if self.y + height > PAGE_H - BOTTOM {
            self.new_page();
        }
    }

    fn push(&mut self, d: Draw) {
        if let Some(p) = self.pages.last_mut() {
            p.push(d);
        }
    }

    fn gap(&mut self, h: f32) {
        self.y += h;
    }

    /// Splits `text` into lines no wider than `width`, breaking at spaces and
    /// inside words only when one word is wider than the line.
    fn wrap(&self, text: &str, bold: bool, size: f32, width: f32) -> Vec<String> {
        let face = self.face(bold);
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split(' ').filter(|w| !w.is_empty()) {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if face.width(&candidate, size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // A word wider than the line (a hash, a URL) is cut by characters.
                for c in word.chars() {
                    line.push(c);
                    if face.width(&line, size) > width {
                        line.pop();
                        lines.push(std::mem::take(&mut line));
                        line.push(c);
                    }
                }
            }
            lines.push(line);
        }
        lines
    }

    fn para(&mut self, text: &str, style: Style) {
        let width = PAGE_W - LEFT - RIGHT - style.indent;
        let lh = style.size * 1.3;
        for line in self.wrap(text, style.bold, style.size, width) {
            self.ensure(lh);
            let w = self.face(style.bold).width(&line, style.size);
            let x = match style.align {
                Align::Left => LEFT + style.indent,
                Align::Center => LEFT + (PAGE_W - LEFT - RIGHT - w) / 2.0,
            };
            self.push(Draw::Text {
                x,
                y: self.y + style.size,
                text: line,
                bold: style.bold,
                size: style.size,
            });
            self.y += lh;
        }
    }

    /// Two columns of centred lines, side by side; `split` is the left column's share.
    fn columns(&mut self, left: &[(String, bool, bool)], right: &[(String, bool, bool)], split: f32) {
        let total = PAGE_W - LEFT - RIGHT;
        let cols = [
            (LEFT, total * split, left),
            (LEFT + total * split, total * (1.0 - split), right),
        ];
        let lh = BODY * 1.3;
        let wrapped: Vec<Vec<(String, bool, bool)>> = cols
            .iter()
            .map(|(_, w, lines)| {
                lines
                    .iter()
                    .flat_map(|(t, b, u)| {
                        self.wrap(t, *b, BODY, *w - 6.0)
                            .into_iter()
                            .map(move |l| (l, *b, *u))
                    })
                    .collect()
            })
            .collect();
        let rows = wrapped.iter().map(Vec::len).max().unwrap_or(0);
        // A block is kept on one page (a signature block split over pages would be unclear).
        self.ensure(rows as f32 * lh);
        let top = self.y;
        for ((x0, w, _), lines) in cols.iter().zip(&wrapped) {
            for (i, (text, bold, underline)) in lines.iter().enumerate() {
                let tw = self.face(*bold).width(text, BODY);
                let x = x0 + (w - tw) / 2.0;
                let y = top + i as f32 * lh + BODY;
                if *underline {
                    self.push(Draw::Rule {
                        x1: x,
                        x2: x + tw,
                        y: y + 2.0,
                    });
                }
                self.push(Draw::Text {
                    x,
                    y,
                    text: text.clone(),
                    bold: *bold,
                    size: BODY,
                });
            }
        }
        self.y = top + rows as f32 * lh;
    }
}

fn heading(l: &mut Layout<'_>, text: &str) {
    l.gap(4.0);
    l.ensure(BODY * 1.3 * 3.0); // no heading alone at the foot of a page
    l.para(text, Style { bold: true, ..P });
}

/// Renders the minutes as an A4 PDF with `bundle` attached.
pub fn render_pdf(
    signed: &SignedMinutes,
    bundle: &Bundle,
    options: &RenderOptions,
) -> Result<Vec<u8>, MinutesError> {
    let regular = Face::load(REGULAR)?;
    let bold = Face::load(BOLD)?;
    let pages = lay_out(signed, &regular, &bold);
    let hash = signed.content_hash();
    draw(
        pages,
        &regular,
        &bold,
        &hash_footer(&hash),
        options,
        signed,
        bundle,
    )
}

/// The text lines of each page as the PDF draws them, footer included: for
/// tests and for checking a rendering without a PDF reader.
pub fn pdf_page_texts(
    signed: &SignedMinutes,
    options: &RenderOptions,
) -> Result<Vec<Vec<String>>, MinutesError> {
    let regular = Face::load(REGULAR)?;
    let bold = Face::load(BOLD)?;
    let pages = lay_out(signed, &regular, &bold);
    let hash = signed.content_hash();
    let count = pages.len();
    Ok(pages
        .into_iter()
        .enumerate()
        .map(|(n, draws)| {
            let mut lines: Vec<String> = draws
                .into_iter()
                .filter_map(|d| match d {
                    Draw::Text { text, .. } => Some(text),
                    Draw::Rule { .. } => None,
                })
                .collect();
            lines.push(page_footer(&hash_footer(&hash), n, count));
            lines.push(options.qr_url(&hash));
            if let Some(line) = options.access_code_text() {
                lines.push(line);
            }
            lines
        })
        .collect())
}

fn page_footer(footer: &str, n: usize, count: usize) -> String {
    format!("{footer} – Trang {}/{count}", n + 1)
}

fn lay_out(signed: &SignedMinutes, regular: &Face, bold: &Face) -> Vec<Vec<Draw>> {
    let mut l = Layout {
        regular,
        bold,
        pages: Vec::new(),
        y: TOP,
    };
    l.new_page();
    let doc = signed.document();

    // Header.
    let mut left: Vec<(String, bool, bool)> = doc
        .issuing_body
        .iter()
        .enumerate()
        .map(|(i, s)| (s.to_uppercase(), i + 1 == doc.issuing_body.len(), false))
        .collect();
    left.push((format!("Số: {}", doc.number), false, false));
    let right = vec![
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".to_string(), true, false),
        ("Độc lập - Tự do - Hạnh phúc".to_string(), true, true),
        (dateline(doc), false, false),
    ];
    l.columns(&left, &right, 0.45);
    l.gap(18.0);
    l.para(
        "BIÊN BẢN KIỂM TRA",
        Style {
            bold: true,
            size: 14.0,
            align: Align::Center,
            indent: 0.0,
        },
    );
    l.para(
        &doc.subject,
        Style {
            bold: true,
            align: Align::Center,
            ..P
        },
    );
    l.gap(8.0);
    if let Some(a) = amendment_line(doc) {
        l.para(&a, Style { bold: true, ..P });
    }
    for g in &doc.grounds {
        l.para(&format!("Căn cứ {g}"), P);
    }
    l.para(&opening(doc), P);
    if let Some(loc) = location_line(doc) {
        l.para(&loc, P);
    }
    if let Some(r) = &doc.place.made_elsewhere_reason {
        l.para(&format!("Lý do lập biên bản tại nơi khác: {r}"), P);
    }

    heading(&mut l, "I. Thành phần");
    l.para(&format!("1. Đoàn kiểm tra ({})", doc.delegation_name), P);
    let ind = Style { indent: 14.0, ..P };
    for (i, m) in doc.members.iter().enumerate() {
        l.para(
            &format!(
                "{}. Ông/Bà {} – {}, {} – {}",
                i + 1,
                m.name,
                m.title,
                m.agency,
                m.role.label_vi()
            ),
            ind,
        );
    }
    let est = &doc.establishment;
    l.para(&format!("2. Đơn vị được kiểm tra: {}", est.name), P);
    l.para(
        &format!(
            "Loại hình: {}; ngành nghề: {}; số lao động: {}",
            est.kind.label_vi(),
            est.sector,
            est.workforce
        ),
        ind,
    );
    l.para(&format!("Địa chỉ: {}", est.address), ind);
    if let Some(t) = &est.tax_code {
        l.para(&format!("Mã số thuế: {t}"), ind);
    }
    match &doc.representative {
        Some(r) => l.para(&format!("Đại diện: Ông/Bà {} – {}", r.name, r.title), ind),
        None => l.para("Đại diện: vắng mặt", ind),
    }
    for p in &doc.others_present {
        l.para(&format!("Cùng có mặt: Ông/Bà {} – {}", p.name, p.title), ind);
    }

    heading(&mut l, "II. Kết quả kiểm tra");
    for s in &doc.findings {
        l.para(&format!("{}. {}", s.code, s.title), Style { bold: true, ..P });
        for f in &s.items {
            let mut line = format!("{}. {}: {}", f.item, f.question, f.answer);
            if f.assessment != Assessment::Fact {
                line.push_str(&format!(" ({})", assessment_vi(f.assessment)));
            }
            if let Some(n) = &f.note {
                line.push_str(&format!(". Ghi chú: {n}"));
            }
            for p in doc
                .photos
                .iter()
                .filter(|p| p.item.as_deref() == Some(f.item.as_str()))
            {
                line.push_str(&format!(". Ảnh: {} ({})", p.caption, &p.sha256.to_hex()[..12]));
            }
            l.para(&line, ind);
        }
    }
    for p in doc.photos.iter().filter(|p| p.item.is_none()) {
        l.para(&format!("Ảnh: {} (SHA-256 {})", p.caption, p.sha256), ind);
    }

    heading(&mut l, "III. Tồn tại, vi phạm");
    if doc.standing_violations().next().is_none() {
        l.para("Không phát hiện vi phạm.", ind);
    }
    for v in doc.standing_violations() {
        let basis: Vec<String> = v.legal_basis.iter().map(|c| c.cite_vi()).collect();
        let mut line = format!(
            "{}. {} (mục {}; mức độ: {}). Căn cứ: {}.",
            v.number,
            v.text,
            v.item,
            v.severity.label_vi(),
            basis.join("; ")
        );
        if let Some(s) = &v.sanction {
            line.push_str(&format!(" Chế tài: {}.", s.cite_vi()));
        }
        l.para(&line, ind);
    }
    for v in doc.violations.iter().filter(|v| v.dismissed.is_some()) {
        l.para(
            &format!(
                "(Không xử lý: {} – mục {}; lý do: {})",
                v.text,
                v.item,
                v.dismissed.as_deref().unwrap_or_default()
            ),
            Style { size: SMALL, ..ind },
        );
    }

    heading(&mut l, "IV. Kiến nghị, yêu cầu");
    for v in doc.standing_violations() {
        l.para(
            &format!(
                "{}. {} – thời hạn: trước ngày {}.",
                v.number,
                v.requirement,
                date_vi(&v.deadline)
            ),
            ind,
        );
    }
    if let Some(r) = &doc.report_back {
        l.para(
            &format!(
                "Đơn vị báo cáo kết quả khắc phục về {} trước ngày {}.",
                r.to,
                date_vi(&r.by)
            ),
            ind,
        );
    }

    heading(&mut l, "V. Ý kiến của đơn vị được kiểm tra");
    for s in statement_lines(doc) {
        l.para(&s, ind);
    }
    l.gap(4.0);
    l.para(&closing(doc), P);
    l.gap(14.0);

    // Signature blocks, two by two: establishment | leader, then witness, members, secretary.
    let rep_block = {
        let mut b = vec![
            ("ĐẠI DIỆN ĐƠN VỊ ĐƯỢC KIỂM TRA".to_string(), true, false),
            ("(Ký, ghi rõ họ tên, đóng dấu)".to_string(), false, false),
        ];
        match (&doc.statement, &doc.representative) {
            (Statement::Refused { .. }, _) => b.push(("Không ký – xem mục V".to_string(), false, false)),
            (_, Some(r)) => {
                let status = match &doc.representative_signature {
                    Some(_) => "Đã ký trên thiết bị",
                    None => "Ký trên bản giấy",
                };
                b.push((status.to_string(), false, false));
                b.push((String::new(), false, false));
                b.push((r.name.clone(), true, false));
            }
            (_, None) => {}
        }
        b
    };
    let mut blocks: Vec<Vec<(String, bool, bool)>> = vec![rep_block];
    let member_block = |role: Role, name: &str, id: &str| {
        vec![
            (role_heading(role).to_string(), true, false),
            (signature_status(signed, id), false, false),
            (String::new(), false, false),
            (name.to_string(), true, false),
        ]
    };
    for m in doc.members.iter().filter(|m| m.role == Role::Leader) {
        blocks.push(member_block(m.role, &m.name, &m.inspector_id));
    }
    if let Statement::Refused { witness: Some(w), .. } = &doc.statement {
        blocks.push(vec![
            ("NGƯỜI CHỨNG KIẾN".to_string(), true, false),
            (format!("({})", w.role), false, false),
            (String::new(), false, false),
            (w.name.clone(), true, false),
            (w.title.clone(), false, false),
        ]);
    }
    for role in [Role::Member, Role::Secretary] {
        for m in doc.members.iter().filter(|m| m.role == role) {
            blocks.push(member_block(m.role, &m.name, &m.inspector_id));
        }
    }
    for pair in blocks.chunks(2) {
        let empty = Vec::new();
        l.columns(&pair[0], pair.get(1).unwrap_or(&empty), 0.5);
        l.gap(16.0);
    }

    l.pages
}

fn draw(
    pages: Vec<Vec<Draw>>,
    regular: &Face,
    bold: &Face,
    footer: &str,
    options: &RenderOptions,
    signed: &SignedMinutes,
    bundle: &Bundle,
) -> Result<Vec<u8>, MinutesError> {
    let url = &options.qr_url(&signed.content_hash());
    let access_code = options.access_code_text();
    let mut document = Document::new();
    let settings =
        PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| MinutesError::Render("page size".into()))?;
    let count = pages.len();
    for (n, draws) in pages.into_iter().enumerate() {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        surface.set_fill(Some(Fill {
            paint: rgb::Color::black().into(),
            ..Fill::default()
        }));
        for d in draws {
            match d {
                Draw::Text {
                    x,
                    y,
                    text,
                    bold: b,
                    size,
                } => {
                    let face = if b { bold } else { regular };
                    surface.draw_text(
                        Point::from_xy(x, y),
                        face.pdf.clone(),
                        size,
                        &text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Draw::Rule { x1, x2, y } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(x1, y);
                    pb.line_to(x2, y);
                    if let Some(path) = pb.finish() {
                        surface.set_stroke(Some(Stroke {
                            paint: rgb::Color::black().into(),
                            width: 0.8,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                    }
                }
            }
        }
        // Every page: the content hash and the page number, so a swapped page shows.
        let foot = page_footer(footer, n, count);
        let w = regular.width(&foot, 8.0);
        surface.draw_text(
            Point::from_xy((PAGE_W - w) / 2.0, PAGE_H - 36.0),
            regular.pdf.clone(),
            8.0,
            &foot,
            false,
            TextDirection::Auto,
        );
        let w = regular.width(url, 8.0);
        surface.draw_text(
            Point::from_xy((PAGE_W - w) / 2.0, PAGE_H - 26.0),
            regular.pdf.clone(),
            8.0,
            url,
            false,
            TextDirection::Auto,
        );
        if let Some(line) = &access_code {
            let w = regular.width(line, 8.0);
            surface.draw_text(
                Point::from_xy((PAGE_W - w) / 2.0, PAGE_H - 16.0),
                regular.pdf.clone(),
                8.0,
                line,
                false,
                TextDirection::Auto,
            );
        }
        draw_qr(&mut surface, url)?;
        surface.finish();
        page.finish();
    }
    let doc = signed.document();
    document.set_metadata(Metadata::new().title(format!("Biên bản kiểm tra {}", doc.number)));
    let data = bundle.to_bytes()?;
    document
        .embed_file(EmbeddedFile {
            path: bundle.file_name(),
            mime_type: MimeType::new("application/cbor"),
            description: Some("Kiemtra signed minutes bundle (kiemtra-minutes-bundle/1)".into()),
            association_kind: AssociationKind::Data,
            data: data.into(),
            modification_date: None,
            // Photos are already compressed; the document part compresses well.
            compress: Some(true),
            location: None,
        })
        .ok_or_else(|| MinutesError::Render("the bundle could not be attached".into()))?;
    document
        .finish()
        .map_err(|e| MinutesError::Render(format!("{e:?}")))
}

/// The verify QR code in the bottom-right corner of every page, beside the footer.
fn draw_qr(surface: &mut krilla::surface::Surface<'_>, url: &str) -> Result<(), MinutesError> {
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| MinutesError::Render(e.to_string()))?;
    let width = code.width();
    let colors = code.to_colors();
    let size = 46.0;
    let module = size / width as f32;
    let (x0, y0) = (PAGE_W - RIGHT - size, PAGE_H - BOTTOM + 4.0);
    let mut pb = PathBuilder::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (cx, cy) = ((i % width) as f32, (i / width) as f32);
            if let Some(r) = Rect::from_xywh(x0 + cx * module, y0 + cy * module, module, module) {
                pb.push_rect(r);
            }
        }
    }
    if let Some(path) = pb.finish() {
        surface.draw_path(&path);
    }
    Ok(())
}

/// Finds the Kiemtra bundle attached to a PDF made by [`render_pdf`].
///
/// A targeted reader rather than a PDF parser: it looks at each embedded-file
/// stream (`/Type /EmbeddedFile`), takes its direct `/Length`, inflates it
/// when `/FlateDecode`, and returns the first that parses as a bundle.
pub fn extract_bundle_from_pdf(pdf: &[u8]) -> Result<Bundle, MinutesError> {
    let needle = b"/EmbeddedFile";
    let mut from = 0;
    let mut last_error = None;
    while let Some(pos) = find(&pdf[from..], needle).map(|p| p + from) {
        from = pos + needle.len();
        // Skip `/EmbeddedFiles` (the name tree) and other longer names.
        if pdf.get(from).is_some_and(|b| b.is_ascii_alphanumeric()) {
            continue;
        }
        let Some(dict_start) = rfind(&pdf[..pos], b"obj") else {
            continue;
        };
        let Some(stream_kw) = find(&pdf[pos..], b"stream").map(|p| p + pos) else {
            continue;
        };
        let dict = &pdf[dict_start..stream_kw];
        let Some(len) = direct_length(dict) else { continue };
        let mut start = stream_kw + b"stream".len();
        if pdf.get(start) == Some(&b'\r') {
            start += 1;
        }
        if pdf.get(start) == Some(&b'\n') {
            start += 1;
        }
        let Some(raw) = start.checked_add(len).and_then(|end| pdf.get(start..end)) else {
            continue;
        };
        let data = if find(dict, b"/FlateDecode").is_some() {
            let mut out = Vec::new();
            let limit = MAX_BUNDLE_BYTES as u64 + 1;
            if flate2::read::ZlibDecoder::new(raw)
                .take(limit)
                .read_to_end(&mut out)
                .is_err()
            {
                continue;
            }
            out
        } else {
            raw.to_vec()
        };
        match Bundle::from_bytes(&data) {
            Ok(b) => return Ok(b),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or(MinutesError::NoBundleInPdf))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// The integer after `/Length` in a dictionary, if it is a direct number.
fn direct_length(dict: &[u8]) -> Option<usize> {
    let at = find(dict, b"/Length")? + b"/Length".len();
    let rest = &dict[at..];
    let digits: Vec<u8> = rest
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    let after = rest
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .skip(digits.len())
        .find(|b| !b.is_ascii_whitespace());
    // "/Length 12 0 R" is an indirect reference: not ours to follow.
    if after.is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    std::str::from_utf8(&digits).ok()?.parse().ok()
}
