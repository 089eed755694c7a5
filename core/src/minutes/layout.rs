//! The printed minutes described once: what the document says, in reading
//! order, as a list of [`Block`]s that the HTML page and the PDF both walk.
//!
//! Every word of the printed document (with the sentences of `wording`) and
//! the order of its parts live here, so the two renderings cannot drift; the
//! renderers only decide how a block looks (escaping and CSS in `html`, line
//! breaking, page breaks and footers in `pdf`). Nothing here touches what is
//! signed: the blocks are read from the frozen document, never written back.

use super::document::{Assessment, Statement};
use super::html::RenderOptions;
use super::sign::SignedMinutes;
use super::wording::*;
use crate::people::Role;

/// One line of the two-column national header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HeaderLine {
    pub text: String,
    pub bold: bool,
    pub underline: bool,
    pub italic: bool,
}

impl HeaderLine {
    fn plain(text: String) -> Self {
        Self {
            text,
            bold: false,
            underline: false,
            italic: false,
        }
    }
}

/// What a paragraph is in the document, which decides how it looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ParagraphKind {
    /// Under the title, before the sections, and the closing sentence.
    Lead,
    /// One entry of a section (a member, a violation, a requirement).
    Item,
    /// Stands out: the amendment notice.
    Emphasis,
    /// A remark such as a photo reference.
    Note,
    /// A violation the delegation decided not to pursue, kept for the record.
    Dismissed,
}

/// One line inside a table cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CellLine {
    pub text: String,
    /// A remark under the cell's main text (a note, a photo).
    pub note: bool,
}

impl CellLine {
    fn main(text: String) -> Self {
        Self { text, note: false }
    }
}

pub(super) type Cell = Vec<CellLine>;

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Column {
    pub title: &'static str,
    /// The column's share of the table's width, where the renderer sets widths.
    pub share: f32,
}

/// One signature block: who signs, and what the minutes say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SignatureBlock {
    pub title: String,
    /// In brackets under the title: what the signature must carry, or the witness's role.
    pub note: Option<String>,
    /// Whether and how it was signed.
    pub status: Option<String>,
    /// The signer's name, under the room left for the handwritten signature.
    pub name: Option<String>,
    pub detail: Option<String>,
}

impl SignatureBlock {
    fn texts(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.title.as_str()).chain(
            [&self.note, &self.status, &self.name, &self.detail]
                .into_iter()
                .flatten()
                .map(String::as_str),
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Block {
    /// Issuing body and number | national motto and dateline.
    Header {
        left: Vec<HeaderLine>,
        right: Vec<HeaderLine>,
    },
    Title {
        title: &'static str,
        subject: String,
    },
    /// A numbered section (I. … V.).
    Heading(String),
    /// A part of a section.
    Subheading(String),
    Paragraph {
        text: String,
        kind: ParagraphKind,
    },
    Table {
        columns: Vec<Column>,
        rows: Vec<Vec<Cell>>,
    },
    /// Kept together, two by two.
    Signatures(Vec<SignatureBlock>),
}

impl Block {
    fn texts(&self) -> Vec<&str> {
        match self {
            Block::Header { left, right } => left.iter().chain(right).map(|l| l.text.as_str()).collect(),
            Block::Title { title, subject } => vec![title, subject.as_str()],
            Block::Heading(t) | Block::Subheading(t) | Block::Paragraph { text: t, .. } => vec![t.as_str()],
            Block::Table { columns, rows } => columns
                .iter()
                .map(|c| c.title)
                .chain(rows.iter().flatten().flatten().map(|l| l.text.as_str()))
                .collect(),
            Block::Signatures(blocks) => blocks.iter().flat_map(SignatureBlock::texts).collect(),
        }
    }
}

/// How the printed copy can be checked: the same on every page of the PDF,
/// once (QR box and footer) on the HTML page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Verification {
    /// What the QR code carries: the verify URL (and the access code).
    pub url: String,
    /// The content hash, so a swapped page shows.
    pub footer: String,
    /// The establishment's access code, or where it is printed.
    pub access_code: Option<String>,
    /// Under the QR code where there is room for it.
    pub caption: &'static str,
}

/// The printed minutes: a title, the blocks in reading order, and the
/// verification furniture that the renderers place around them.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PrintedMinutes {
    /// The page's (or PDF's) title.
    pub title: String,
    pub blocks: Vec<Block>,
    pub verification: Verification,
}

impl PrintedMinutes {
    /// The blocks' texts in reading order (the verification furniture excluded).
    pub fn texts(&self) -> Vec<String> {
        self.blocks
            .iter()
            .flat_map(|b| b.texts().into_iter().map(str::to_string))
            .collect()
    }
}

/// The texts of the printed minutes in reading order, as both the HTML page
/// and the PDF print them (without the QR code, URL and hash footer): for
/// tests, and for checking a rendering against what the minutes say.
pub fn minutes_texts(signed: &SignedMinutes, options: &RenderOptions) -> Vec<String> {
    describe(signed, options).texts()
}

/// Describes the printed minutes of `signed`.
pub(super) fn describe(signed: &SignedMinutes, options: &RenderOptions) -> PrintedMinutes {
    let doc = signed.document();
    let hash = signed.content_hash();
    let mut b = Vec::new();
    let para = |text: String, kind: ParagraphKind| Block::Paragraph { text, kind };
    let lead = |text: String| para(text, ParagraphKind::Lead);
    let item = |text: String| para(text, ParagraphKind::Item);

    // The issuing body is printed in capitals whatever case the data has.
    let mut left: Vec<HeaderLine> = doc
        .issuing_body
        .iter()
        .enumerate()
        .map(|(i, s)| HeaderLine {
            bold: i + 1 == doc.issuing_body.len(),
            ..HeaderLine::plain(s.to_uppercase())
        })
        .collect();
    left.push(HeaderLine::plain(format!("Số: {}", doc.number)));
    let right = vec![
        HeaderLine {
            bold: true,
            ..HeaderLine::plain("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into())
        },
        HeaderLine {
            bold: true,
            underline: true,
            ..HeaderLine::plain("Độc lập - Tự do - Hạnh phúc".into())
        },
        HeaderLine {
            italic: true,
            ..HeaderLine::plain(dateline(doc))
        },
    ];
    b.push(Block::Header { left, right });
    b.push(Block::Title {
        title: "BIÊN BẢN KIỂM TRA",
        subject: doc.subject.clone(),
    });
    if let Some(a) = amendment_line(doc) {
        b.push(para(a, ParagraphKind::Emphasis));
    }
    for g in &doc.grounds {
        b.push(lead(format!("Căn cứ {g}")));
    }
    b.push(lead(opening(doc)));
    if let Some(l) = location_line(doc) {
        b.push(lead(l));
    }
    if let Some(r) = &doc.place.made_elsewhere_reason {
        b.push(lead(format!("Lý do lập biên bản tại nơi khác: {r}")));
    }

    // I. Composition.
    b.push(Block::Heading("I. Thành phần".into()));
    b.push(Block::Subheading(format!(
        "1. Đoàn kiểm tra ({})",
        doc.delegation_name
    )));
    for (i, m) in doc.members.iter().enumerate() {
        b.push(item(format!(
            "{}. Ông/Bà {} – {}, {} – {}",
            i + 1,
            m.name,
            m.title,
            m.agency,
            m.role.label_vi()
        )));
    }
    let est = &doc.establishment;
    b.push(Block::Subheading(format!(
        "2. Đơn vị được kiểm tra: {}",
        est.name
    )));
    b.push(item(format!(
        "Loại hình: {}; ngành nghề: {}; số lao động: {}",
        est.kind.label_vi(),
        est.sector,
        est.workforce
    )));
    b.push(item(format!("Địa chỉ: {}", est.address)));
    if let Some(t) = &est.tax_code {
        b.push(item(format!("Mã số thuế: {t}")));
    }
    b.push(item(match &doc.representative {
        Some(r) => format!("Đại diện: Ông/Bà {} – {}", r.name, r.title),
        None => "Đại diện: vắng mặt".into(),
    }));
    for p in &doc.others_present {
        b.push(item(format!("Cùng có mặt: Ông/Bà {} – {}", p.name, p.title)));
    }

    // II. Findings, a table per section.
    b.push(Block::Heading("II. Kết quả kiểm tra".into()));
    for s in &doc.findings {
        b.push(Block::Subheading(format!("{}. {}", s.code, s.title)));
        let rows = s
            .items
            .iter()
            .map(|f| {
                let mut content = vec![CellLine::main(f.question.clone())];
                if let Some(n) = &f.note {
                    content.push(CellLine {
                        text: format!("Ghi chú: {n}"),
                        note: true,
                    });
                }
                for p in doc
                    .photos
                    .iter()
                    .filter(|p| p.item.as_deref() == Some(f.item.as_str()))
                {
                    content.push(CellLine {
                        text: format!("Ảnh: {} ({})", p.caption, &p.sha256.to_hex()[..12]),
                        note: true,
                    });
                }
                // A plain fact has no assessment: its cell stays empty.
                let assessment = match f.assessment {
                    Assessment::Fact => Vec::new(),
                    a => vec![CellLine::main(assessment_vi(a).into())],
                };
                vec![
                    vec![CellLine::main(f.item.clone())],
                    content,
                    vec![CellLine::main(f.answer.clone())],
                    assessment,
                ]
            })
            .collect();
        b.push(Block::Table {
            columns: vec![
                Column {
                    title: "Mục",
                    share: 0.12,
                },
                Column {
                    title: "Nội dung",
                    share: 0.48,
                },
                Column {
                    title: "Kết quả",
                    share: 0.24,
                },
                Column {
                    title: "Đánh giá",
                    share: 0.16,
                },
            ],
            rows,
        });
    }
    for p in doc.photos.iter().filter(|p| p.item.is_none()) {
        b.push(para(
            format!("Ảnh: {} (SHA-256 {})", p.caption, p.sha256),
            ParagraphKind::Note,
        ));
    }

    // III. Violations, with their legal basis and sanction.
    b.push(Block::Heading("III. Tồn tại, vi phạm".into()));
    if doc.standing_violations().next().is_none() {
        b.push(item("Không phát hiện vi phạm.".into()));
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
        b.push(item(line));
    }
    for v in doc.violations.iter().filter(|v| v.dismissed.is_some()) {
        b.push(para(
            format!(
                "(Không xử lý: {} – mục {}; lý do: {})",
                v.text,
                v.item,
                v.dismissed.as_deref().unwrap_or_default()
            ),
            ParagraphKind::Dismissed,
        ));
    }

    // IV. Requirements and their deadlines.
    b.push(Block::Heading("IV. Kiến nghị, yêu cầu".into()));
    for v in doc.standing_violations() {
        b.push(item(format!(
            "{}. {} – thời hạn: trước ngày {}.",
            v.number,
            v.requirement,
            date_vi(&v.deadline)
        )));
    }
    if let Some(r) = &doc.report_back {
        b.push(item(format!(
            "Đơn vị báo cáo kết quả khắc phục về {} trước ngày {}.",
            r.to,
            date_vi(&r.by)
        )));
    }

    // V. Statement or refusal, then the closing sentence.
    b.push(Block::Heading("V. Ý kiến của đơn vị được kiểm tra".into()));
    for l in statement_lines(doc) {
        b.push(item(l));
    }
    b.push(lead(closing(doc)));

    b.push(Block::Signatures(signature_blocks(signed)));

    PrintedMinutes {
        title: format!("Biên bản kiểm tra {}", doc.number),
        blocks: b,
        verification: Verification {
            url: options.qr_url(&hash),
            footer: hash_footer(&hash),
            access_code: options.access_code_text(),
            caption: "Xác minh / Verify",
        },
    }
}

/// Establishment | leader, then the witness, the members, the secretary.
fn signature_blocks(signed: &SignedMinutes) -> Vec<SignatureBlock> {
    let doc = signed.document();
    let mut blocks = Vec::new();
    let (status, name) = match (&doc.statement, &doc.representative) {
        (Statement::Refused { .. }, _) => (Some("Không ký – xem mục V".to_string()), None),
        (_, Some(r)) => {
            let status = match &doc.representative_signature {
                Some(s) => format!("Đã ký trên thiết bị (ảnh chữ ký SHA-256 {})", &s.to_hex()[..16]),
                None => "Ký trên bản giấy".to_string(),
            };
            (Some(status), Some(r.name.clone()))
        }
        (_, None) => (None, None),
    };
    blocks.push(SignatureBlock {
        title: "ĐẠI DIỆN ĐƠN VỊ ĐƯỢC KIỂM TRA".into(),
        note: Some("(Ký, ghi rõ họ tên, đóng dấu)".into()),
        status,
        name,
        detail: None,
    });
    let member = |role: Role, name: &str, id: &str| SignatureBlock {
        title: role_heading(role).into(),
        note: None,
        status: Some(signature_status(signed, id)),
        name: Some(name.into()),
        detail: None,
    };
    for m in doc.members.iter().filter(|m| m.role == Role::Leader) {
        blocks.push(member(m.role, &m.name, &m.inspector_id));
    }
    if let Statement::Refused { witness: Some(w), .. } = &doc.statement {
        blocks.push(SignatureBlock {
            title: "NGƯỜI CHỨNG KIẾN".into(),
            note: Some(format!("({})", w.role)),
            status: None,
            name: Some(w.name.clone()),
            detail: Some(w.title.clone()),
        });
    }
    for role in [Role::Member, Role::Secretary] {
        for m in doc.members.iter().filter(|m| m.role == role) {
            blocks.push(member(m.role, &m.name, &m.inspector_id));
        }
    }
    blocks
}
