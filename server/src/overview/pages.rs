//! The overview's pages: figures as tables (every number links to the
//! records behind it) with server-rendered SVG charts beside them.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::Datelike;
use kiemtra_core::inspection::InspectionKind;
use kiemtra_core::violation::ViolationStatus;

use super::data::Data;
use super::stats::{InspectionCount, LegalBasisCount, OverdueViolation, SectionCount, Uninspected};
use super::targets::{TargetFigure, MEASURED, NOT_MEASURED};
use crate::charts::{share_percent, target_chart, Bar, BarChart, Series, TargetRow};
use crate::html::{date_vi, datetime_vi, escape as e, page};

pub const NAV: &[(&str, &str)] = &[
    ("/admin", "Tổng quan"),
    ("/admin/accidents", "Sổ tai nạn lao động"),
    ("/admin/account", "Tài khoản"),
    ("/admin/logout", "Thoát"),
];

/// The sign-in page; `csrf` is the forms' hidden token field (`crate::csrf::field`).
pub fn login(message: Option<&str>, csrf: &str) -> String {
    let mut b =
        String::from("<h1>Đăng nhập trang tổng quan <span class=\"en\">Inspectorate overview</span></h1>\n");
    if let Some(m) = message {
        let _ = writeln!(b, "<p class=\"error\" role=\"alert\">{}</p>", e(m));
    }
    let _ = writeln!(b, "<form class=\"stack\" method=\"post\" action=\"/admin/login\" id=\"account-form\">{csrf}<label for=\"account-login\">Tên đăng nhập <span class=\"en\">Login</span></label><input type=\"text\" id=\"account-login\" name=\"login\" required autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\"><label for=\"password\">Mật khẩu <span class=\"en\">Password</span></label><input type=\"password\" id=\"password\" name=\"password\" required autocomplete=\"current-password\"><button type=\"submit\" id=\"account-submit\">Đăng nhập</button></form>");
    let _ = writeln!(b, "<h2>Hoặc bằng mã truy cập <span class=\"en\">Or with an admin token</span></h2><form class=\"stack\" method=\"post\" action=\"/admin/login\">{csrf}<label for=\"token\">Mã truy cập của cán bộ (do quản trị cấp bằng lệnh <code>admin create-admin-token</code>)</label><input type=\"password\" id=\"token\" name=\"token\" required autocomplete=\"off\"><button type=\"submit\" id=\"login\">Đăng nhập</button></form>");
    page("Đăng nhập", &[], &b)
}

/// The page an official gets for a page their role does not open.
pub fn refused(who: &crate::overview::auth::Official) -> String {
    let role = who.role.map_or("mã truy cập", |r| r.label_vi());
    let b = format!(
        "<h1>Không có quyền truy cập <span class=\"en\">Not allowed</span></h1>\n<p class=\"error\" role=\"alert\">Tài khoản {} (vai trò {}) không được mở trang này. Nếu cần, hãy đề nghị quản trị cấp quyền phù hợp.</p>\n<form method=\"get\" action=\"/admin/logout\"><button type=\"submit\">Đăng xuất</button></form>\n",
        e(&who.name),
        e(role)
    );
    page("Không có quyền truy cập", &[], &b)
}

fn target_link(t: &str, unit: &str, year: i32) -> String {
    format!("/admin/records?target={t}&unit={unit}&year={year}")
}

pub struct OverviewPage<'a> {
    pub data: &'a Data,
    pub year: i32,
    pub years: Vec<i32>,
    pub official: &'a str,
    pub targets: &'a [TargetFigure],
    pub inspections: &'a [InspectionCount],
    pub sections: &'a [SectionCount],
    pub legal: &'a [LegalBasisCount],
    pub overdue: &'a [OverdueViolation],
    pub uninspected: &'a [Uninspected],
    /// The forms' hidden token field (`crate::csrf::field`).
    pub csrf: &'a str,
}

pub fn overview(p: &OverviewPage<'_>) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<h1>Tổng quan công tác kiểm tra ATVSLĐ năm {} <span class=\"en\">Overview</span></h1>\n<p class=\"muted\">Cán bộ: {} · Số liệu lập lúc {} · Đơn vị hành chính theo đơn vị có hiệu lực vào ngày của từng hồ sơ (cấp huyện đến 30/6/2025, cấp xã từ 1/7/2025).</p>",
        p.year,
        e(p.official),
        datetime_vi(chrono::Utc::now())
    );
    let _ = writeln!(
        b,
        "<form method=\"post\" action=\"/admin/logout-everywhere\" class=\"noprint\">{}<button type=\"submit\" id=\"logout-everywhere\">Đăng xuất trên mọi thiết bị <span class=\"en\">Sign out everywhere</span></button></form>",
        p.csrf
    );
    b.push_str("<nav class=\"links noprint\">Năm: ");
    for y in &p.years {
        if *y == p.year {
            let _ = write!(b, "<b>{y}</b> ");
        } else {
            let _ = write!(b, "<a href=\"/admin?year={y}\">{y}</a> ");
        }
    }
    let _ = writeln!(
        b,
        "</nav>\n<p class=\"noprint\">Tải về: <a href=\"/admin/overview.json?year={y}\">JSON</a> · <a href=\"/admin/targets.csv\">Chỉ tiêu (CSV)</a> · <a href=\"/admin/inspections.csv\">Cuộc kiểm tra (CSV)</a> · <a href=\"/admin/decree39.csv?year={y}&amp;half=1\">Báo cáo NĐ 39 – 6 tháng đầu năm (CSV)</a> · <a href=\"/admin/decree39.csv?year={y}&amp;half=2\">6 tháng cuối năm (CSV)</a></p>",
        y = p.year
    );

    b.push_str("<h2>Các chỉ tiêu của Kế hoạch <span class=\"en\">The plan's targets</span></h2>\n");
    for def in &MEASURED {
        let figures: Vec<&TargetFigure> = p
            .targets
            .iter()
            .filter(|f| f.target == def.id && f.year == p.year)
            .collect();
        let (n, d) = figures
            .iter()
            .fold((0, 0), |(n, d), f| (n + f.numerator, d + f.denominator));
        let _ = writeln!(
            b,
            "<div class=\"card target\" id=\"target-{}\"><h3>Chỉ tiêu {}: {}</h3>\n<p>Tử số: {}. Mẫu số: {}.</p>",
            e(def.id),
            e(def.id),
            e(def.title_vi),
            e(def.numerator_vi),
            e(def.denominator_vi)
        );
        let mut rows: Vec<TargetRow> = figures
            .iter()
            .map(|f| TargetRow {
                label: f.unit.name.clone(),
                numerator: f.numerator,
                denominator: f.denominator,
                goal_per_mille: f.goal_per_mille,
                href: Some(target_link(def.id, &f.unit.code, f.year)),
            })
            .collect();
        rows.push(TargetRow {
            label: "Toàn thành phố".into(),
            numerator: n,
            denominator: d,
            goal_per_mille: def.goal_per_mille,
            href: Some(target_link(def.id, "", p.year)),
        });
        b.push_str(&target_chart(
            &format!("Chỉ tiêu {} – năm {}", def.id, p.year),
            &rows,
        ));
        b.push_str("<div class=\"scroll\"><table class=\"figures\"><tr><th>Đơn vị</th><th class=\"num\">Tử số</th><th class=\"num\">Mẫu số</th><th class=\"num\">Tỷ lệ</th><th>Hồ sơ</th></tr>\n");
        for f in &figures {
            let _ = writeln!(
                b,
                "<tr data-target=\"{t}\" data-unit=\"{u}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td><a href=\"{}\">{} hồ sơ</a></td></tr>",
                e(&f.unit.name),
                f.numerator,
                f.denominator,
                share_percent(f.numerator, f.denominator, f.goal_per_mille),
                e(&target_link(def.id, &f.unit.code, f.year)),
                f.records.len(),
                t = e(def.id),
                u = e(&f.unit.code)
            );
        }
        let _ = writeln!(
            b,
            "<tr data-target=\"{t}\" data-unit=\"total\"><th>Toàn thành phố</th><th class=\"num\">{n}</th><th class=\"num\">{d}</th><th class=\"num\">{}</th><th></th></tr></table></div></div>",
            share_percent(n, d, def.goal_per_mille),
            t = e(def.id)
        );
    }
    b.push_str("<h3>Chỉ tiêu chưa đo được từ dữ liệu kiểm tra</h3>\n<ul>\n");
    for (id, why) in NOT_MEASURED {
        let _ = writeln!(b, "<li><b>Chỉ tiêu {id}</b>: {}</li>", e(why));
    }
    let fatal: u64 = p
        .data
        .accidents
        .iter()
        .filter(|a| a.deaths > 0 && a.date().year() == p.year)
        .count() as u64;
    let _ = writeln!(
        b,
        "</ul>\n<p>Số vụ TNLĐ chết người đã khai báo năm {}: <b id=\"fatal-count\">{fatal}</b>.</p>",
        p.year
    );

    // Inspections by unit (chart for the year, kinds as series) and the full table.
    let year_prefix = format!("{}-", p.year);
    let kinds: Vec<InspectionKind> = {
        let mut k: Vec<_> = p.inspections.iter().map(|c| c.kind).collect();
        k.sort();
        k.dedup();
        k
    };
    let mut by_unit: BTreeMap<&str, (String, Vec<u64>)> = BTreeMap::new();
    for c in p.inspections.iter().filter(|c| c.month.starts_with(&year_prefix)) {
        let entry = by_unit
            .entry(c.unit.code.as_str())
            .or_insert_with(|| (c.unit.name.clone(), vec![0; kinds.len()]));
        if let Some(i) = kinds.iter().position(|k| *k == c.kind) {
            entry.1[i] += c.count;
        }
    }
    b.push_str("<h2>Cuộc kiểm tra theo đơn vị hành chính, tháng và loại <span class=\"en\">Inspections</span></h2>\n");
    let chart = BarChart {
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
    };
    b.push_str(&chart.to_svg());
    b.push_str("<div class=\"scroll\"><table id=\"inspections\"><tr><th>Đơn vị</th><th>Tháng</th><th>Loại</th><th class=\"num\">Số cuộc</th></tr>\n");
    for c in p.inspections.iter().filter(|c| c.month.starts_with(&year_prefix)) {
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\"><a href=\"/admin/records?unit={}&amp;month={}\">{}</a></td></tr>",
            e(&c.unit.name),
            e(&c.month),
            e(c.kind.label_vi()),
            e(&c.unit.code),
            e(&c.month),
            c.count
        );
    }
    b.push_str("</table></div>\n");

    b.push_str(
        "<h2>Vi phạm theo nhóm nội dung <span class=\"en\">Violations by checklist section</span></h2>\n",
    );
    let chart = BarChart {
        title: "Số vi phạm theo nhóm nội dung (mọi năm)".into(),
        series: vec![Series {
            name: "Vi phạm".into(),
        }],
        bars: p
            .sections
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
    };
    b.push_str(&chart.to_svg());
    b.push_str("<div class=\"scroll\"><table id=\"sections\"><tr><th>Mẫu phiếu</th><th>Nhóm</th><th class=\"num\">Số vi phạm</th></tr>\n");
    for s in p.sections {
        let template = p
            .data
            .templates
            .values()
            .find(|t| t.id == s.template)
            .map_or(s.template.as_str(), |t| t.title_vi.as_str());
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td>{} – {}</td><td class=\"num\">{}</td></tr>",
            e(template),
            e(&s.section),
            e(&s.title),
            s.count
        );
    }
    b.push_str("</table></div>\n<h3>Theo căn cứ pháp lý</h3>\n<div class=\"scroll\"><table id=\"legal\"><tr><th>Văn bản</th><th>Điều khoản</th><th class=\"num\">Số vi phạm</th></tr>\n");
    for l in p.legal {
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            e(&l.instrument),
            e(&l.article),
            l.count
        );
    }
    b.push_str("</table></div>\n");

    let _ = writeln!(
        b,
        "<h2>Vi phạm quá hạn khắc phục <span class=\"en\">Violations open past their deadline ({})</span></h2>\n<p>Chưa khắc phục: <b id=\"overdue-open\">{}</b>; cơ sở đã báo cáo, chờ đoàn kiểm tra xác nhận: <b id=\"overdue-reported\">{}</b>.</p>",
        p.overdue.len(),
        p.overdue.iter().filter(|o| o.status == ViolationStatus::Open).count(),
        p.overdue.iter().filter(|o| o.status == ViolationStatus::Remediated).count()
    );
    b.push_str("<div class=\"scroll\"><table id=\"overdue\"><tr><th>Cơ sở</th><th>Đơn vị</th><th>Mục</th><th>Vi phạm</th><th>Thời hạn</th><th class=\"num\">Quá hạn (ngày)</th><th>Trạng thái</th></tr>\n");
    for o in p.overdue {
        let _ = writeln!(
            b,
            "<tr data-status=\"{}\"><td><a href=\"/admin/records?inspection={}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            if o.status == ViolationStatus::Remediated { "remediated" } else { "open" },
            o.inspection,
            e(&o.facility),
            e(&o.unit.name),
            e(&o.item),
            e(&o.text),
            date_vi(o.deadline),
            o.days_overdue,
            e(o.status.label_vi())
        );
    }
    b.push_str("</table></div>\n");

    let _ = writeln!(
        b,
        "<h2>Cơ sở nguy cơ cao chưa được kiểm tra năm {} <span class=\"en\">High-risk establishments not inspected ({})</span></h2>",
        p.year,
        p.uninspected.len()
    );
    b.push_str("<div class=\"scroll\"><table id=\"uninspected\"><tr><th>Cơ sở</th><th>Loại</th><th>Đơn vị</th></tr>\n");
    for u in p.uninspected {
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&u.name),
            e(u.kind.label_vi()),
            e(&u.unit.name)
        );
    }
    b.push_str("</table></div>\n");
    page("Tổng quan", NAV, &b)
}

/// The records behind a figure.
pub fn records(title: &str, rows: &[super::targets::RecordRef]) -> String {
    let mut b = format!(
        "<p><a href=\"/admin\">← Tổng quan</a></p><h1>{}</h1>\n<div class=\"scroll\"><table id=\"records\"><tr><th>Loại</th><th>Hồ sơ</th><th>Ngày</th><th class=\"num\">Tử số</th><th class=\"num\">Mẫu số</th><th>Mã</th></tr>\n",
        e(title)
    );
    let (mut n, mut d) = (0, 0);
    for r in rows {
        n += r.numerator;
        d += r.denominator;
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
            match r.kind {
                "inspection" => "Cuộc kiểm tra",
                "accident" => "Vụ tai nạn",
                _ => "Cơ sở",
            },
            e(&r.label),
            r.date.map(date_vi).unwrap_or_default(),
            r.numerator,
            r.denominator,
            e(&r.id)
        );
    }
    let _ = writeln!(
        b,
        "<tr><th colspan=\"3\">Cộng ({} hồ sơ)</th><th class=\"num\">{n}</th><th class=\"num\">{d}</th><th></th></tr></table></div>",
        rows.len()
    );
    page(title, NAV, &b)
}
