//! The portal's pages, in Vietnamese with English beside the headings: one
//! template struct per page (`templates/portal/`), filled here from the
//! [`PortalView`] with text only; the templates escape every value.

use askama::Template;
use kiemtra_core::evidence::PhotoRecord;
use kiemtra_core::remediation::RemediationReport;
use kiemtra_core::violation::{Violation, ViolationStatus};

use super::view::{days_left, PortalView};
use crate::html::{date_vi, datetime_vi, Chrome, Notice};

const NAV: &[(&str, &str)] = &[
    ("/portal/inspection", "Kết quả kiểm tra"),
    ("/portal/minutes", "Biên bản"),
    ("/portal/accident", "Khai báo tai nạn lao động"),
];

/// The page that asks for the access code.
#[derive(Template)]
#[template(path = "portal/login.html")]
pub struct LoginPage<'a> {
    chrome: Chrome,
    /// The code to fill in (from the QR code's link), as typed.
    code: &'a str,
    notice: Option<Notice>,
    csrf: String,
}

pub fn login<'a>(code: &'a str, notice: Option<Notice>, csrf: &str) -> LoginPage<'a> {
    LoginPage {
        chrome: Chrome::new("Tra cứu kết quả kiểm tra", &[]),
        code,
        notice,
        csrf: csrf.to_string(),
    }
}

/// A violation's status as its badge shows it.
pub struct Badge {
    pub class: &'static str,
    pub label: &'static str,
}

/// The days left to a deadline, as text, with the class that colours it.
pub struct Days {
    pub class: Option<&'static str>,
    pub text: String,
}

/// One violation as the portal shows it.
pub struct ViolationRow {
    pub item: String,
    pub text: String,
    /// Every citation, "article, instrument", joined with "; ".
    pub legal_basis: String,
    pub sanction: Option<String>,
    pub requirement: String,
    pub deadline: String,
    pub days: Days,
    pub status: Badge,
}

impl ViolationRow {
    pub fn new(v: &Violation, today: chrono::NaiveDate) -> Self {
        let days = match days_left(v, today) {
            None => Days {
                class: None,
                text: "—".into(),
            },
            Some(d) if d < 0 => Days {
                class: Some("bad"),
                text: format!("Quá hạn {} ngày", -d),
            },
            Some(0) => Days {
                class: Some("warn"),
                text: "Hết hạn hôm nay".into(),
            },
            Some(d) => Days {
                class: None,
                text: format!("Còn {d} ngày"),
            },
        };
        let class = match v.status {
            ViolationStatus::Open => "bad",
            ViolationStatus::Remediated => "warn",
            ViolationStatus::Verified => "ok",
        };
        Self {
            item: v.item.clone(),
            text: v.text_vi.clone(),
            legal_basis: v
                .legal_basis
                .iter()
                .map(|l| format!("{}, {}", l.article, l.instrument))
                .collect::<Vec<_>>()
                .join("; "),
            sanction: v
                .sanction
                .as_ref()
                .map(|s| format!("{}, {}", s.article, s.instrument)),
            requirement: v.requirement.clone(),
            deadline: date_vi(v.deadline),
            days,
            status: Badge {
                class,
                label: v.status.label_vi(),
            },
        }
    }
}

/// A photo's thumbnail and image (by hash), shown once both have arrived
/// as the images the operation declares; until then a note in its place.
pub struct PhotoLink {
    pub image: String,
    pub thumbnail: String,
    pub alt: String,
    pub received: bool,
}

impl PhotoLink {
    fn new(view: &PortalView, p: &PhotoRecord, alt: &str) -> Self {
        Self {
            image: p.image.sha256.clone(),
            thumbnail: p.thumbnail.sha256.clone(),
            alt: alt.to_string(),
            received: view.received.contains(&p.image.sha256),
        }
    }
}

/// What the verification of the minutes' signatures found.
pub enum Outcome {
    Valid,
    AwaitingSignatures,
    Invalid,
}

pub struct SignatureRow {
    pub name: String,
    pub role: &'static str,
    pub fingerprint: String,
    pub ok: bool,
}

pub struct Verification {
    pub outcome: Outcome,
    pub signatures: Vec<SignatureRow>,
    pub content_hash: String,
}

fn verification(view: &PortalView) -> Option<Verification> {
    let report = view.report.as_ref()?;
    let outcome = if report.is_valid() {
        Outcome::Valid
    } else if !view.is_sealed() {
        Outcome::AwaitingSignatures
    } else {
        Outcome::Invalid
    };
    let signatures = report
        .signatures
        .iter()
        .map(|s| SignatureRow {
            name: view
                .trusted
                .get(&s.signer)
                .map(|k| k.name.clone())
                .unwrap_or_else(|| s.signer.clone()),
            role: role_vi(s.role),
            fingerprint: s.fingerprint.clone(),
            ok: s.is_ok(),
        })
        .collect();
    Some(Verification {
        outcome,
        signatures,
        content_hash: report.content_hash.to_string(),
    })
}

fn role_vi(r: kiemtra_core::people::Role) -> &'static str {
    match r {
        kiemtra_core::people::Role::Leader => "Trưởng đoàn",
        kiemtra_core::people::Role::Member => "Thành viên",
        kiemtra_core::people::Role::Secretary => "Thư ký",
    }
}

pub struct FacilityLine {
    pub name: String,
    pub tax_code: Option<String>,
    pub street: String,
    pub kind: &'static str,
}

pub struct InspectionLine {
    pub kind: &'static str,
    pub date: String,
    pub status: &'static str,
    /// The minutes' number (empty before they are drawn up).
    pub number: String,
}

/// The establishment's main page: minutes, verification, violations, photos.
#[derive(Template)]
#[template(path = "portal/inspection.html")]
pub struct InspectionPage {
    chrome: Chrome,
    facility: FacilityLine,
    inspection: InspectionLine,
    verification: Option<Verification>,
    violations: Vec<ViolationRow>,
    photos: Vec<PhotoLink>,
    sanctions: Vec<SanctionLine>,
    csrf: String,
}

/// A sanction decision as the establishment sees it.
pub struct SanctionLine {
    pub number: String,
    pub signed_on: String,
    pub signed_by: String,
    /// "Điều 21 Nghị định 12/2022/NĐ-CP: 60.000.000 đ" per violation.
    pub items: Vec<String>,
    pub total: String,
    pub owed: String,
    pub paid: String,
    pub pay_by: String,
    pub state: &'static str,
}

/// 60000000 → "60.000.000 đ", as amounts are written in Vietnamese.
fn dong(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("{out} đ")
}

impl SanctionLine {
    fn new(d: &crate::sanctions::SanctionDecision, today: chrono::NaiveDate) -> Self {
        use crate::sanctions::AppealOutcome;
        let state = match d.appeal.as_ref().map(|a| &a.outcome) {
            Some(AppealOutcome::Pending) => "Đang khiếu nại",
            Some(AppealOutcome::Annulled { .. }) => "Đã hủy sau khiếu nại",
            _ if d.paid_vnd() >= d.owed_vnd() => "Đã nộp đủ",
            _ if d.is_overdue(today) => "Quá hạn nộp phạt",
            _ => "Chưa nộp đủ",
        };
        Self {
            number: d.number.clone(),
            signed_on: date_vi(d.signed_on),
            signed_by: d.signed_by.clone(),
            items: d
                .items
                .iter()
                .map(|i| {
                    format!(
                        "Mục {}: {} {}: {}",
                        i.item,
                        i.article,
                        i.instrument,
                        dong(i.fine_vnd)
                    )
                })
                .collect(),
            total: dong(d.total_vnd()),
            owed: dong(d.owed_vnd()),
            paid: dong(d.paid_vnd()),
            pay_by: date_vi(d.pay_by),
            state,
        }
    }
}

pub fn inspection(view: &PortalView, csrf: &str) -> InspectionPage {
    let f = &view.facility;
    let i = &view.record.inspection;
    InspectionPage {
        chrome: Chrome::new(&f.name, NAV),
        facility: FacilityLine {
            name: f.name.clone(),
            tax_code: f.tax_code.as_ref().map(|t| t.as_str().to_string()),
            street: f.address.street.clone(),
            kind: f.kind.label_vi(),
        },
        inspection: InspectionLine {
            kind: i.kind.label_vi(),
            date: date_vi(i.date()),
            status: i.status.label_vi(),
            number: view
                .signed
                .as_ref()
                .map(|s| s.document().number.clone())
                .unwrap_or_default(),
        },
        verification: verification(view),
        violations: view
            .violations
            .iter()
            .map(|v| ViolationRow::new(v, view.today))
            .collect(),
        photos: view
            .record
            .photos
            .values()
            .map(|p| PhotoLink::new(view, p, p.caption.as_deref().unwrap_or("Ảnh")))
            .collect(),
        sanctions: view
            .sanctions
            .iter()
            .map(|d| SanctionLine::new(d, view.today))
            .collect(),
        csrf: csrf.to_string(),
    }
}

/// A remediation report the establishment sent.
pub struct ReportView {
    pub sent_by: String,
    pub received_at: String,
    pub text: String,
    pub photos: Vec<PhotoLink>,
}

impl ReportView {
    fn new(view: &PortalView, r: &RemediationReport) -> Self {
        Self {
            sent_by: r.sent_by.clone(),
            received_at: datetime_vi(r.received_at),
            text: r.text.clone(),
            photos: r
                .photos
                .iter()
                .map(|p| PhotoLink::new(view, p, "Ảnh khắc phục"))
                .collect(),
        }
    }
}

/// The inspectors' verdict on the reports.
pub struct ReviewView {
    pub at: String,
    pub verdict: &'static str,
    pub note: Option<String>,
}

/// One violation: what it is, what was reported, and the form to report remediation.
#[derive(Template)]
#[template(path = "portal/violation.html")]
pub struct ViolationPage {
    chrome: Chrome,
    facility_name: String,
    v: ViolationRow,
    notice: Option<Notice>,
    reports: Vec<ReportView>,
    reviews: Vec<ReviewView>,
    /// Whether the form is shown: the minutes are sealed and the violation is not yet verified.
    takes_reports: bool,
    /// Past the deadline (reports are still taken, dated).
    late: bool,
    csrf: String,
}

pub fn violation(view: &PortalView, v: &Violation, notice: Option<Notice>, csrf: &str) -> ViolationPage {
    ViolationPage {
        chrome: Chrome::new(&format!("Vi phạm {}", v.item), NAV),
        facility_name: view.facility.name.clone(),
        v: ViolationRow::new(v, view.today),
        notice,
        reports: view
            .record
            .remediation_reports(&v.item)
            .iter()
            .map(|r| ReportView::new(view, r))
            .collect(),
        reviews: view
            .record
            .remediation_reviews(&v.item)
            .iter()
            .map(|r| ReviewView {
                at: datetime_vi(r.at),
                verdict: r.review.verdict.label_vi(),
                note: r.review.note.clone(),
            })
            .collect(),
        takes_reports: view.is_sealed() && v.status != ViolationStatus::Verified,
        late: v.deadline < view.today,
        csrf: csrf.to_string(),
    }
}

/// The online accident declaration (plan §IV.1.d).
#[derive(Template)]
#[template(path = "portal/accident.html")]
pub struct AccidentPage {
    chrome: Chrome,
    facility_name: String,
    notice: Option<Notice>,
    csrf: String,
}

pub fn accident_form(view: &PortalView, notice: Option<Notice>, csrf: &str) -> AccidentPage {
    AccidentPage {
        chrome: Chrome::new("Khai báo tai nạn lao động", NAV),
        facility_name: view.facility.name.clone(),
        notice,
        csrf: csrf.to_string(),
    }
}

/// An error page that says no more than it must.
#[derive(Template)]
#[template(path = "portal/problem.html")]
pub struct ProblemPage {
    chrome: Chrome,
    text: String,
}

pub fn problem(title: &str, text: &str) -> ProblemPage {
    ProblemPage {
        chrome: Chrome::new(title, &[("/portal", "Nhập mã tra cứu")]),
        text: text.to_string(),
    }
}

/// An error page within a session: the portal's links stay in the top bar.
pub fn problem_in_session(title: &str, text: &str) -> ProblemPage {
    ProblemPage {
        chrome: Chrome::new(title, NAV),
        text: text.to_string(),
    }
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

    /// The partials of a violation, on their own.
    #[derive(Template)]
    #[template(
        source = r#"{% include "portal/legal.html" %}|{% include "portal/days.html" %}|{% include "portal/status.html" %}"#,
        ext = "html"
    )]
    struct Cells {
        v: ViolationRow,
    }

    /// A template is outside input: its citations are text, never markup,
    /// and the templates escape them (they are never escaped by hand).
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
        let today = NaiveDate::from_ymd_opt(2026, 1, 3).unwrap();
        let row = ViolationRow::new(&v, today);
        // The view holds plain text: escaped once, by the template.
        assert_eq!(
            row.legal_basis,
            "Điều 14 <script>alert(1)</script>, Luật ATVSLĐ & \"2015\""
        );
        let html = Cells { v: row }.render().unwrap();
        assert!(!html.contains("<script>") && !html.contains("<b>"), "{html}");
        assert!(
            html.contains("Điều 14 &#60;script&#62;alert(1)&#60;/script&#62;"),
            "{html}"
        );
        assert!(html.contains("Luật ATVSLĐ &#38; &#34;2015&#34;"), "{html}");
        assert!(
            html.contains("<br><span class=\"muted\">Chế tài: Điều 21 &#60;b&#62;, Nghị định 12/2022</span>"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"bad\">Quá hạn 2 ngày</span>|<span class=\"badge bad\">"),
            "{html}"
        );
    }
}
