//! The overview's pages: figures as tables (every number links to the
//! records behind it) with server-rendered SVG charts beside them. One
//! template struct per page (`templates/overview/`), filled here with text
//! and numbers; the templates escape every value but the charts' SVG.

use std::collections::BTreeMap;

use askama::Template;
use kiemtra_core::inspection::InspectionKind;
use kiemtra_core::violation::ViolationStatus;

use super::stats::{InspectionCount, LegalBasisCount, OverdueViolation, SectionCount, Uninspected};
use super::targets::{TargetFigure, MEASURED, NOT_MEASURED};
use crate::charts::{share_percent, target_chart, Bar, BarChart, Series, TargetRow};
use crate::html::{date_vi, datetime_vi, Chrome, Notice};

pub const NAV: &[(&str, &str)] = &[
    ("/admin", "Tổng quan"),
    ("/admin/accidents", "Sổ tai nạn lao động"),
    ("/admin/account", "Tài khoản"),
    ("/admin/logout", "Thoát"),
];

/// The sign-in page.
#[derive(Template)]
#[template(path = "overview/login.html")]
pub struct LoginPage {
    chrome: Chrome,
    notice: Option<Notice>,
    csrf: String,
}

/// The sign-in page with `message` as an error; `csrf` is this browser's form token.
pub fn login(message: Option<&str>, csrf: &str) -> LoginPage {
    LoginPage {
        chrome: Chrome::new("Đăng nhập", &[]),
        notice: message.map(Notice::error),
        csrf: csrf.to_string(),
    }
}

/// The page an official gets for a page their role does not open.
#[derive(Template)]
#[template(path = "overview/refused.html")]
pub struct RefusedPage {
    chrome: Chrome,
    name: String,
    role: &'static str,
}

pub fn refused(who: &crate::overview::auth::Official) -> RefusedPage {
    RefusedPage {
        chrome: Chrome::new("Không có quyền truy cập", &[]),
        name: who.name.clone(),
        role: who.role.map_or("mã truy cập", |r| r.label_vi()),
    }
}

fn target_link(t: &str, unit: &str, year: i32) -> String {
    format!("/admin/records?target={t}&unit={unit}&year={year}")
}

/// What the overview shows, as the handler computed it.
pub struct OverviewFigures<'a> {
    /// Fatal accidents declared in the year.
    pub fatal: usize,
    /// The kinds of started inspections in any year (the chart's series).
    pub kinds: Vec<InspectionKind>,
    /// The templates, for their titles.
    pub templates: &'a [kiemtra_core::template::ChecklistTemplate],
    pub year: i32,
    pub years: Vec<i32>,
    pub official: &'a str,
    pub targets: &'a [TargetFigure],
    pub inspections: &'a [InspectionCount],
    pub sections: &'a [SectionCount],
    pub legal: &'a [LegalBasisCount],
    /// The overdue violations listed (the oldest first, possibly not all).
    pub overdue: &'a [OverdueViolation],
    /// All overdue violations: open, reported remedied, in all.
    pub overdue_open: usize,
    pub overdue_reported: usize,
    pub overdue_total: usize,
    pub uninspected: &'a [Uninspected],
    /// This browser's form token (`crate::csrf`).
    pub csrf: &'a str,
}

/// One unit's figure for a target.
pub struct TargetUnitRow {
    pub unit: String,
    pub unit_code: String,
    pub numerator: u64,
    pub denominator: u64,
    pub share: String,
    pub href: String,
    pub records: usize,
}

/// A target of the plan: its definition, chart, and figures by unit and in total.
pub struct TargetCard {
    pub id: &'static str,
    pub title: &'static str,
    pub numerator_text: &'static str,
    pub denominator_text: &'static str,
    /// SVG from [`target_chart`] (escaped there).
    pub chart: String,
    pub rows: Vec<TargetUnitRow>,
    pub numerator: u64,
    pub denominator: u64,
    pub share: String,
}

pub struct InspectionRow {
    pub unit: String,
    pub unit_code: String,
    pub month: String,
    pub kind: &'static str,
    pub count: u64,
}

pub struct SectionRow {
    /// The checklist template's title.
    pub template: String,
    pub section: String,
    pub title: String,
    pub count: u64,
}

pub struct OverdueRow {
    /// `open` or `remediated`, for the row's `data-status`.
    pub state: &'static str,
    pub inspection: String,
    pub facility: String,
    pub unit: String,
    pub item: String,
    pub text: String,
    pub deadline: String,
    pub days_overdue: i64,
    pub status: &'static str,
}

pub struct UninspectedRow {
    pub name: String,
    pub kind: &'static str,
    pub unit: String,
}

/// The overview page.
#[derive(Template)]
#[template(path = "overview/overview.html")]
pub struct OverviewPage {
    chrome: Chrome,
    year: i32,
    years: Vec<i32>,
    official: String,
    generated_at: String,
    csrf: String,
    targets: Vec<TargetCard>,
    not_measured: &'static [(&'static str, &'static str)],
    fatal: usize,
    /// SVG from [`BarChart::to_svg`] (escaped there).
    inspections_chart: String,
    inspections: Vec<InspectionRow>,
    /// SVG from [`BarChart::to_svg`] (escaped there).
    sections_chart: String,
    sections: Vec<SectionRow>,
    legal: Vec<LegalBasisCount>,
    overdue: Vec<OverdueRow>,
    overdue_open: usize,
    overdue_reported: usize,
    overdue_total: usize,
    uninspected: Vec<UninspectedRow>,
}

fn target_card(p: &OverviewFigures<'_>, def: &super::targets::TargetDef) -> TargetCard {
    let figures: Vec<&TargetFigure> = p
        .targets
        .iter()
        .filter(|f| f.target == def.id && f.year == p.year)
        .collect();
    let (n, d) = figures
        .iter()
        .fold((0, 0), |(n, d), f| (n + f.numerator, d + f.denominator));
    let mut chart_rows: Vec<TargetRow> = figures
        .iter()
        .map(|f| TargetRow {
            label: f.unit.name.clone(),
            numerator: f.numerator,
            denominator: f.denominator,
            goal_per_mille: f.goal_per_mille,
            href: Some(target_link(def.id, &f.unit.code, f.year)),
        })
        .collect();
    chart_rows.push(TargetRow {
        label: "Toàn thành phố".into(),
        numerator: n,
        denominator: d,
        goal_per_mille: def.goal_per_mille,
        href: Some(target_link(def.id, "", p.year)),
    });
    TargetCard {
        id: def.id,
        title: def.title_vi,
        numerator_text: def.numerator_vi,
        denominator_text: def.denominator_vi,
        chart: target_chart(&format!("Chỉ tiêu {} – năm {}", def.id, p.year), &chart_rows),
        rows: figures
            .iter()
            .map(|f| TargetUnitRow {
                unit: f.unit.name.clone(),
                unit_code: f.unit.code.clone(),
                numerator: f.numerator,
                denominator: f.denominator,
                share: share_percent(f.numerator, f.denominator, f.goal_per_mille),
                href: target_link(def.id, &f.unit.code, f.year),
                records: f.record_count,
            })
            .collect(),
        numerator: n,
        denominator: d,
        share: share_percent(n, d, def.goal_per_mille),
    }
}

/// Inspections by unit for the year, kinds as series.
fn inspections_chart(p: &OverviewFigures<'_>, year_prefix: &str) -> String {
    let kinds: Vec<InspectionKind> = {
        let mut k = p.kinds.clone();
        k.sort();
        k.dedup();
        k
    };
    let mut by_unit: BTreeMap<&str, (String, Vec<u64>)> = BTreeMap::new();
    for c in p.inspections.iter().filter(|c| c.month.starts_with(year_prefix)) {
        let entry = by_unit
            .entry(c.unit.code.as_str())
            .or_insert_with(|| (c.unit.name.clone(), vec![0; kinds.len()]));
        if let Some(i) = kinds.iter().position(|k| *k == c.kind) {
            entry.1[i] += c.count;
        }
    }
    BarChart {
        title: format!("Số cuộc kiểm tra năm {} theo đơn vị", p.year),
        series: kinds
            .iter()
            .map(|k| Series {
                name: k.label_vi().to_string(),
            })
            .collect(),
        bars: by_unit
            .into_iter()
            .map(|(code, (name, values))| Bar {
                label: name,
                values,
                href: Some(format!("/admin/records?unit={code}&year={}", p.year)),
            })
            .collect(),
        unit: "cuộc".into(),
    }
    .to_svg()
}

fn sections_chart(sections: &[SectionCount]) -> String {
    BarChart {
        title: "Số vi phạm theo nhóm nội dung (mọi năm)".into(),
        series: vec![Series {
            name: "Vi phạm".into(),
        }],
        bars: sections
            .iter()
            .map(|s| Bar {
                label: if s.template == "osh-general" {
                    format!("{} {}", s.section, s.title)
                } else {
                    format!("ĐT {} {}", s.section, s.title)
                },
                values: vec![s.count],
                href: None,
            })
            .collect(),
        unit: "vi phạm".into(),
    }
    .to_svg()
}

pub fn overview(p: &OverviewFigures<'_>) -> OverviewPage {
    let year_prefix = format!("{}-", p.year);
    OverviewPage {
        chrome: Chrome::new("Tổng quan", NAV),
        year: p.year,
        years: p.years.clone(),
        official: p.official.to_string(),
        generated_at: datetime_vi(chrono::Utc::now()),
        csrf: p.csrf.to_string(),
        targets: MEASURED.iter().map(|def| target_card(p, def)).collect(),
        not_measured: &NOT_MEASURED,
        fatal: p.fatal,
        inspections_chart: inspections_chart(p, &year_prefix),
        inspections: p
            .inspections
            .iter()
            .filter(|c| c.month.starts_with(&year_prefix))
            .map(|c| InspectionRow {
                unit: c.unit.name.clone(),
                unit_code: c.unit.code.clone(),
                month: c.month.clone(),
                kind: c.kind.label_vi(),
                count: c.count,
            })
            .collect(),
        sections_chart: sections_chart(p.sections),
        sections: p
            .sections
            .iter()
            .map(|s| SectionRow {
                template: p
                    .templates
                    .iter()
                    .find(|t| t.id == s.template)
                    .map_or(s.template.clone(), |t| t.title_vi.clone()),
                section: s.section.clone(),
                title: s.title.clone(),
                count: s.count,
            })
            .collect(),
        legal: p.legal.to_vec(),
        overdue: p
            .overdue
            .iter()
            .map(|o| OverdueRow {
                state: if o.status == ViolationStatus::Remediated {
                    "remediated"
                } else {
                    "open"
                },
                inspection: o.inspection.to_string(),
                facility: o.facility.clone(),
                unit: o.unit.name.clone(),
                item: o.item.clone(),
                text: o.text.clone(),
                deadline: date_vi(o.deadline),
                days_overdue: o.days_overdue,
                status: o.status.label_vi(),
            })
            .collect(),
        overdue_open: p.overdue_open,
        overdue_reported: p.overdue_reported,
        overdue_total: p.overdue_total,
        uninspected: p
            .uninspected
            .iter()
            .map(|u| UninspectedRow {
                name: u.name.clone(),
                kind: u.kind.label_vi(),
                unit: u.unit.name.clone(),
            })
            .collect(),
    }
}

/// One record behind a figure.
pub struct RecordRow {
    pub kind: &'static str,
    pub label: String,
    pub date: String,
    pub numerator: u64,
    pub denominator: u64,
    pub id: String,
}

/// The records behind a figure.
#[derive(Template)]
#[template(path = "overview/records.html")]
pub struct RecordsPage {
    chrome: Chrome,
    rows: Vec<RecordRow>,
    numerator: u64,
    denominator: u64,
}

pub fn records(title: &str, rows: &[super::targets::RecordRef]) -> RecordsPage {
    RecordsPage {
        chrome: Chrome::new(title, NAV),
        numerator: rows.iter().map(|r| r.numerator).sum(),
        denominator: rows.iter().map(|r| r.denominator).sum(),
        rows: rows
            .iter()
            .map(|r| RecordRow {
                kind: match r.kind {
                    "inspection" => "Cuộc kiểm tra",
                    "accident" => "Vụ tai nạn",
                    _ => "Cơ sở",
                },
                label: r.label.clone(),
                date: r.date.map(date_vi).unwrap_or_default(),
                numerator: r.numerator,
                denominator: r.denominator,
                id: r.id.clone(),
            })
            .collect(),
    }
}
