//! The overview's pages: figures as tables (every number links to the
//! records behind it) with server-rendered SVG charts beside them. One
//! template struct per page (`templates/overview/`), filled here with text
//! and numbers; the templates escape every value but the charts' SVG.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use askama::Template;
use kiemtra_core::inspection::InspectionKind;
use kiemtra_core::violation::ViolationStatus;

use super::stats::{InspectionCount, LegalBasisCount, OverdueViolation, SectionCount, Uninspected};
use super::targets::{TargetFigure, MEASURED, NOT_MEASURED};
use crate::charts::{share_percent, target_chart, Bar, BarChart, Series, TargetRow};
use crate::html::{date_vi, datetime_vi, Chrome, Notice, Pager};

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

/// Units per page of the overview's tables and charts by unit: one city
/// has a dozen, the country hundreds, and a page of every unit's rows (a
/// row per unit, month and kind) grew to megabytes.
pub const UNITS_PER_PAGE: usize = 40;

/// High-risk establishments listed (the rest are counted).
pub const UNINSPECTED_LISTED: usize = 200;

/// The units one page of the overview shows, out of every unit with a
/// figure in the year, in the order of their names.
struct UnitPage {
    shown: HashSet<String>,
    /// 0-based page and the number of pages.
    page: usize,
    pages: usize,
    first: usize,
    last: usize,
    total: usize,
}

impl UnitPage {
    fn of(p: &OverviewFigures<'_>, year_prefix: &str) -> Self {
        let units: BTreeSet<(&str, &str)> = p
            .targets
            .iter()
            .filter(|f| f.year == p.year)
            .map(|f| (f.unit.name.as_str(), f.unit.code.as_str()))
            .chain(
                p.inspections
                    .iter()
                    .filter(|c| c.month.starts_with(year_prefix))
                    .map(|c| (c.unit.name.as_str(), c.unit.code.as_str())),
            )
            .chain(
                p.plan
                    .iter()
                    .map(|c| (c.unit.name.as_str(), c.unit.code.as_str())),
            )
            .collect();
        let total = units.len();
        let pages = total.div_ceil(UNITS_PER_PAGE).max(1);
        let page = p.units_page.min(pages - 1);
        let shown: HashSet<String> = units
            .iter()
            .skip(page * UNITS_PER_PAGE)
            .take(UNITS_PER_PAGE)
            .map(|(_, code)| code.to_string())
            .collect();
        Self {
            first: (page * UNITS_PER_PAGE + 1).min(total),
            last: (page * UNITS_PER_PAGE + shown.len()).min(total),
            shown,
            page,
            pages,
            total,
        }
    }

    fn shows(&self, code: &str) -> bool {
        self.shown.contains(code)
    }

    fn pager(&self, year: i32) -> Pager {
        let link = |page: usize| format!("/admin?year={year}&units={page}#units");
        Pager {
            newer: (self.page > 0).then(|| link(self.page - 1)),
            older: (self.page + 1 < self.pages).then(|| link(self.page + 1)),
        }
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
    /// The plan of the year and its progress, by unit and month.
    pub plan: &'a [crate::figures::read::PlanCount],
    /// Which page of units the tables by unit show (0-based, [`UNITS_PER_PAGE`]).
    pub units_page: usize,
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

/// A unit's plan of the year: per month `sealed/planned` (empty when
/// nothing was planned), and the year's.
pub struct PlanRow {
    pub unit: String,
    pub unit_code: String,
    pub months: Vec<String>,
    pub planned: u64,
    pub started: u64,
    pub sealed: u64,
}

/// The plan by unit (this page's units) and the total over every unit.
fn plan_rows(p: &OverviewFigures<'_>, units: &UnitPage) -> (Vec<PlanRow>, PlanRow) {
    let mut by_unit: BTreeMap<(&str, &str), [[u64; 3]; 12]> = BTreeMap::new();
    let mut total = [[0u64; 3]; 12];
    for c in p.plan {
        let i = (c.month as usize).clamp(1, 12) - 1;
        for (t, v) in total[i].iter_mut().zip([c.planned, c.started, c.sealed]) {
            *t += v;
        }
        if units.shows(&c.unit.code) {
            let m = &mut by_unit
                .entry((c.unit.name.as_str(), c.unit.code.as_str()))
                .or_insert([[0; 3]; 12])[i];
            for (t, v) in m.iter_mut().zip([c.planned, c.started, c.sealed]) {
                *t += v;
            }
        }
    }
    let row = |unit: &str, code: &str, months: &[[u64; 3]; 12]| PlanRow {
        unit: unit.to_string(),
        unit_code: code.to_string(),
        months: months
            .iter()
            .map(|[planned, _, sealed]| {
                if *planned == 0 {
                    String::new()
                } else {
                    format!("{sealed}/{planned}")
                }
            })
            .collect(),
        planned: months.iter().map(|m| m[0]).sum(),
        started: months.iter().map(|m| m[1]).sum(),
        sealed: months.iter().map(|m| m[2]).sum(),
    };
    (
        by_unit
            .iter()
            .map(|((name, code), months)| row(name, code, months))
            .collect(),
        row("Toàn thành phố", "total", &total),
    )
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
    uninspected_total: usize,
    plan: Vec<PlanRow>,
    plan_total: PlanRow,
    /// "1–40 / 682": the units the tables by unit show, of all.
    units_shown: String,
    units_pager: Pager,
}

fn target_card(p: &OverviewFigures<'_>, def: &super::targets::TargetDef, units: &UnitPage) -> TargetCard {
    let all: Vec<&TargetFigure> = p
        .targets
        .iter()
        .filter(|f| f.target == def.id && f.year == p.year)
        .collect();
    // The totals are of every unit; the rows and bars of this page's units.
    let (n, d) = all
        .iter()
        .fold((0, 0), |(n, d), f| (n + f.numerator, d + f.denominator));
    let figures: Vec<&TargetFigure> = all.into_iter().filter(|f| units.shows(&f.unit.code)).collect();
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
fn inspections_chart(p: &OverviewFigures<'_>, year_prefix: &str, units: &UnitPage) -> String {
    let kinds: Vec<InspectionKind> = {
        let mut k = p.kinds.clone();
        k.sort();
        k.dedup();
        k
    };
    let mut by_unit: BTreeMap<&str, (String, Vec<u64>)> = BTreeMap::new();
    for c in p
        .inspections
        .iter()
        .filter(|c| c.month.starts_with(year_prefix) && units.shows(&c.unit.code))
    {
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
    let units = UnitPage::of(p, &year_prefix);
    let (plan, plan_total) = plan_rows(p, &units);
    OverviewPage {
        plan,
        plan_total,
        chrome: Chrome::new("Tổng quan", NAV),
        year: p.year,
        years: p.years.clone(),
        official: p.official.to_string(),
        generated_at: datetime_vi(chrono::Utc::now()),
        csrf: p.csrf.to_string(),
        targets: MEASURED.iter().map(|def| target_card(p, def, &units)).collect(),
        not_measured: &NOT_MEASURED,
        fatal: p.fatal,
        inspections_chart: inspections_chart(p, &year_prefix, &units),
        inspections: p
            .inspections
            .iter()
            .filter(|c| c.month.starts_with(&year_prefix) && units.shows(&c.unit.code))
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
            .take(UNINSPECTED_LISTED)
            .map(|u| UninspectedRow {
                name: u.name.clone(),
                kind: u.kind.label_vi(),
                unit: u.unit.name.clone(),
            })
            .collect(),
        uninspected_total: p.uninspected.len(),
        units_shown: format!("{}–{} / {}", units.first, units.last, units.total),
        units_pager: units.pager(p.year),
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
