//! The A4 PDF, rendered on the device with no network: Liberation Serif
//! (metric-compatible with Times New Roman) compiled in, shaped and subset by
//! krilla, the signed bundle attached as an embedded file, and the content
//! hash in the footer of every page. Also: finding the bundle again in a PDF.
//!
//! What is printed, and in which order, comes from `layout`'s blocks; this
//! file only sets them, deliberately simply: the two-column header, then
//! paragraphs wrapped to the text width, bordered tables, page breaks between
//! lines, and the signature blocks in two columns. Text is measured with
//! skrifa (advance widths) the same font krilla draws with, so lines fit.

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
use super::layout::{
    describe, Block, Cell, Column, HeaderLine, ParagraphKind, PrintedMinutes, SignatureBlock,
};
use super::{Bundle, MinutesError, RenderOptions, SignedMinutes};

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
    /// A straight line: an underline, a table border.
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
    },
}

/// One centred line of a column (header, signature block).
struct ColumnLine {
    text: String,
    bold: bool,
    underline: bool,
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
    fn columns(&mut self, left: &[ColumnLine], right: &[ColumnLine], split: f32) {
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
                    .flat_map(|l| {
                        self.wrap(&l.text, l.bold, BODY, *w - 6.0)
                            .into_iter()
                            .map(move |t| (t, l.bold, l.underline))
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
                // A blank line is room (for a handwritten signature), not text.
                if text.is_empty() {
                    continue;
                }
                let tw = self.face(*bold).width(text, BODY);
                let x = x0 + (w - tw) / 2.0;
                let y = top + i as f32 * lh + BODY;
                if *underline {
                    self.push(Draw::Line {
                        x1: x,
                        y1: y + 2.0,
                        x2: x + tw,
                        y2: y + 2.0,
                        width: 0.8,
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

    /// A bordered table: a bold header row, then the rows, each cell's lines
    /// wrapped to its column. Rows break between pages only when one is taller
    /// than what is left of the page (then between its lines).
    fn table(&mut self, columns: &[Column], rows: &[Vec<Cell>]) {
        const PAD: f32 = 3.0;
        let size = SMALL;
        let lh = size * 1.3;
        let total = PAGE_W - LEFT - RIGHT;
        let shares: f32 = columns.iter().map(|c| c.share).sum::<f32>().max(f32::EPSILON);
        let mut xs = vec![LEFT];
        for c in columns {
            let last = xs[xs.len() - 1];
            xs.push(last + total * c.share / shares);
        }
        let header: Vec<Vec<(String, bool)>> = columns
            .iter()
            .zip(xs.windows(2))
            .map(|(c, x)| {
                self.wrap(c.title, true, size, x[1] - x[0] - 2.0 * PAD)
                    .into_iter()
                    .map(|t| (t, true))
                    .collect()
            })
            .collect();
        let body: Vec<Vec<Vec<(String, bool)>>> = rows
            .iter()
            .map(|row| {
                row.iter()
                    .zip(xs.windows(2))
                    .map(|(cell, x)| {
                        cell.iter()
                            .flat_map(|line| {
                                self.wrap(&line.text, false, size, x[1] - x[0] - 2.0 * PAD)
                                    .into_iter()
                                    .map(|t| (t, false))
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        // The header row is not left alone at the foot of a page.
        let first = body
            .first()
            .map_or(0, |r| r.iter().map(Vec::len).max().unwrap_or(0));
        let header_lines = header.iter().map(Vec::len).max().unwrap_or(0);
        self.ensure((header_lines + first.min(3)) as f32 * lh + 4.0 * PAD);
        for row in std::iter::once(&header).chain(&body) {
            self.table_row(row, &xs, size, PAD);
        }
    }

    fn table_row(&mut self, cells: &[Vec<(String, bool)>], xs: &[f32], size: f32, pad: f32) {
        let lh = size * 1.3;
        let lines = cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut from = 0;
        while from < lines {
            let room = ((PAGE_H - BOTTOM - self.y - 2.0 * pad) / lh).floor().max(0.0) as usize;
            let rest = lines - from;
            // Whole rows move to the next page; only a row taller than a page is cut.
            if room < rest && self.y > TOP {
                let page_rows = ((PAGE_H - BOTTOM - TOP - 2.0 * pad) / lh).floor() as usize;
                if rest <= page_rows || room == 0 {
                    self.new_page();
                    continue;
                }
            }
            let take = rest.min(room.max(1));
            let top = self.y;
            let bottom = top + take as f32 * lh + 2.0 * pad;
            for (cell, x) in cells.iter().zip(xs) {
                for (i, (text, bold)) in cell.iter().skip(from).take(take).enumerate() {
                    if text.is_empty() {
                        continue;
                    }
                    self.push(Draw::Text {
                        x: x + pad,
                        y: top + pad + i as f32 * lh + size,
                        text: text.clone(),
                        bold: *bold,
                        size,
                    });
                }
            }
            for (y1, y2) in [(top, top), (bottom, bottom)] {
                self.push(Draw::Line {
                    x1: xs[0],
                    y1,
                    x2: xs[xs.len() - 1],
                    y2,
                    width: 0.5,
                });
            }
            for x in xs {
                self.push(Draw::Line {
                    x1: *x,
                    y1: top,
                    x2: *x,
                    y2: bottom,
                    width: 0.5,
                });
            }
            self.y = bottom;
            from += take;
        }
    }
}

/// Keeps a heading with the lines that follow it (no heading alone at the foot of a page).
fn heading(l: &mut Layout<'_>, text: &str, style: Style) {
    l.gap(4.0);
    l.ensure(BODY * 1.3 * 3.0);
    l.para(text, style);
}

/// Renders the minutes as an A4 PDF with `bundle` attached.
pub fn render_pdf(
    signed: &SignedMinutes,
    bundle: &Bundle,
    options: &RenderOptions,
) -> Result<Vec<u8>, MinutesError> {
    let regular = Face::load(REGULAR)?;
    let bold = Face::load(BOLD)?;
    let printed = describe(signed, options);
    let pages = lay_out(&printed, &regular, &bold);
    draw(pages, &regular, &bold, &printed, bundle)
}

/// The text lines of each page as the PDF draws them, footer included: for
/// tests and for checking a rendering without a PDF reader.
pub fn pdf_page_texts(
    signed: &SignedMinutes,
    options: &RenderOptions,
) -> Result<Vec<Vec<String>>, MinutesError> {
    let regular = Face::load(REGULAR)?;
    let bold = Face::load(BOLD)?;
    let printed = describe(signed, options);
    let pages = lay_out(&printed, &regular, &bold);
    let v = &printed.verification;
    let count = pages.len();
    Ok(pages
        .into_iter()
        .enumerate()
        .map(|(n, draws)| {
            let mut lines: Vec<String> = draws
                .into_iter()
                .filter_map(|d| match d {
                    Draw::Text { text, .. } => Some(text),
                    Draw::Line { .. } => None,
                })
                .collect();
            lines.push(page_footer(&v.footer, n, count));
            lines.push(v.url.clone());
            if let Some(line) = &v.access_code {
                lines.push(line.clone());
            }
            lines
        })
        .collect())
}

fn page_footer(footer: &str, n: usize, count: usize) -> String {
    format!("{footer} – Trang {}/{count}", n + 1)
}

/// Turns the blocks into pages of draws.
fn lay_out(printed: &PrintedMinutes, regular: &Face, bold: &Face) -> Vec<Vec<Draw>> {
    let mut l = Layout {
        regular,
        bold,
        pages: Vec::new(),
        y: TOP,
    };
    l.new_page();
    let ind = Style { indent: 14.0, ..P };
    let strong = Style { bold: true, ..P };
    for block in &printed.blocks {
        match block {
            Block::Header { left, right } => {
                // The PDF has no italic face: the dateline is set upright.
                let lines = |c: &[HeaderLine]| -> Vec<ColumnLine> {
                    c.iter()
                        .map(|h| ColumnLine {
                            text: h.text.clone(),
                            bold: h.bold,
                            underline: h.underline,
                        })
                        .collect()
                };
                l.columns(&lines(left), &lines(right), 0.45);
                l.gap(18.0);
            }
            Block::Title { title, subject } => {
                l.para(
                    title,
                    Style {
                        bold: true,
                        size: 14.0,
                        align: Align::Center,
                        indent: 0.0,
                    },
                );
                l.para(
                    subject,
                    Style {
                        align: Align::Center,
                        ..strong
                    },
                );
                l.gap(8.0);
            }
            Block::Heading(t) => heading(&mut l, t, strong),
            Block::Subheading(t) => heading(&mut l, t, strong),
            Block::Paragraph { text, kind } => {
                let style = match kind {
                    ParagraphKind::Lead => P,
                    ParagraphKind::Item | ParagraphKind::Note => ind,
                    ParagraphKind::Emphasis => strong,
                    ParagraphKind::Dismissed => Style { size: SMALL, ..ind },
                };
                l.para(text, style);
            }
            Block::Table { columns, rows } => {
                l.table(columns, rows);
                l.gap(4.0);
            }
            Block::Signatures(blocks) => {
                l.gap(14.0);
                let lines: Vec<Vec<ColumnLine>> = blocks.iter().map(signature_lines).collect();
                for pair in lines.chunks(2) {
                    let empty = Vec::new();
                    l.columns(&pair[0], pair.get(1).unwrap_or(&empty), 0.5);
                    l.gap(16.0);
                }
            }
        }
    }
    l.pages
}

/// A signature block as centred lines, with a blank line left for the
/// handwritten signature above the name.
fn signature_lines(b: &SignatureBlock) -> Vec<ColumnLine> {
    let line = |text: &str, bold: bool| ColumnLine {
        text: text.to_string(),
        bold,
        underline: false,
    };
    let mut v = vec![line(&b.title, true)];
    v.extend(b.note.as_deref().map(|n| line(n, false)));
    v.extend(b.status.as_deref().map(|s| line(s, false)));
    if let Some(n) = &b.name {
        v.push(line("", false));
        v.push(line(n, true));
    }
    v.extend(b.detail.as_deref().map(|d| line(d, false)));
    v
}

fn draw(
    pages: Vec<Vec<Draw>>,
    regular: &Face,
    bold: &Face,
    printed: &PrintedMinutes,
    bundle: &Bundle,
) -> Result<Vec<u8>, MinutesError> {
    let v = &printed.verification;
    let (footer, url, access_code) = (&v.footer, &v.url, &v.access_code);
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
                Draw::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(x1, y1);
                    pb.line_to(x2, y2);
                    if let Some(path) = pb.finish() {
                        surface.set_stroke(Some(Stroke {
                            paint: rgb::Color::black().into(),
                            width,
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
    document.set_metadata(Metadata::new().title(printed.title.clone()));
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
