//! Server-rendered SVG charts for the inspectorate's overview pages.
//!
//! The overview pages are served on the inspectorate's own network, which may
//! have no internet at all: no chart library from a CDN, no JavaScript. So the
//! server writes the charts itself as inline SVG, which every browser draws
//! natively, and everything interactive is plain SVG:
//!
//! - hover text is a `<title>` child, which browsers show as a tooltip;
//! - a number links to the records behind it with an ordinary `<a href>`;
//! - `viewBox` plus `max-width:100%;height:auto` lets a chart shrink on a phone;
//! - `role="img"` and an `aria-label` that spells out every number, so a screen
//!   reader gets the data and not a picture.
//!
//! Two kinds: [`BarChart`] (vertical bars, grouped side by side when a bar has
//! several values, e.g. compliant / non-compliant per district) and
//! [`target_chart`] (horizontal progress bars against a goal).
//!
//! Every piece of text goes through [`escape_xml`]; no input makes these
//! functions panic: empty input draws a small "Không có dữ liệu" chart.
//! Numbers shown to people use the Vietnamese convention (`1.234`, `87,5%`);
//! coordinates are written with at most one decimal to keep the markup small.

use std::fmt::Write as _;

/// One bar (or group of bars) of a chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// Category shown under the bar, e.g. "Quận Hồng Bàng".
    pub label: String,
    /// One value per series, in the order of [`BarChart::series`].
    pub values: Vec<u64>,
    /// Link to the records behind this bar. Only relative links and `http(s)`
    /// are kept, so a link can never carry a `javascript:` URL into the page.
    pub href: Option<String>,
}

/// Legend entries, one per value index; colours from a fixed, colour-blind-safe
/// palette (Okabe–Ito), so the same series has the same colour on every page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub name: String,
}

/// A vertical bar chart; bars with several values are drawn grouped side by
/// side (not stacked), so every value can be read against the same axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarChart {
    pub title: String,
    pub series: Vec<Series>,
    pub bars: Vec<Bar>,
    /// What is counted ("cơ sở", "lượt kiểm tra"): shown above the y axis and in hover text.
    pub unit: String,
}

/// One row of [`target_chart`]: a share `numerator / denominator` against a goal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRow {
    pub label: String,
    pub numerator: u64,
    pub denominator: u64,
    /// The goal as a share in per-mille (900 = 90%).
    pub goal_per_mille: u32,
    pub href: Option<String>,
}

/// Okabe–Ito: distinguishable with the common colour-vision deficiencies and in
/// greyscale print. Yellow and black last: yellow is faint on white.
const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];
/// Target met: Okabe–Ito's bluish green.
const MET_COLOUR: &str = "#009E73";
/// Target not met: Okabe–Ito's orange (amber). The row text also says so (✓),
/// so colour is never the only signal.
const UNMET_COLOUR: &str = "#E69F00";
const TEXT_COLOUR: &str = "#222222";
const MUTED_COLOUR: &str = "#666666";
const GRID_COLOUR: &str = "#dddddd";
const AXIS_COLOUR: &str = "#888888";
const TRACK_COLOUR: &str = "#eeeeee";

const NO_DATA: &str = "Không có dữ liệu";
const NO_DATA_ROW: &str = "không có dữ liệu";

const TITLE_PX: f64 = 15.0;
const LABEL_PX: f64 = 12.0;
const SMALL_PX: f64 = 11.0;
/// Average advance of one character as a share of the font size. There is no
/// font metrics on the server, so widths are estimated, on the generous side:
/// a label a little too far apart is better than two labels on top of each other.
const CHAR_EM: f64 = 0.58;

/// Plot height of a bar chart.
const PLOT_H: f64 = 200.0;
/// The width the bars of a bar chart spread over when there are few of them,
/// so a chart of three districts is not three slivers.
const PREFERRED_PLOT_W: f64 = 480.0;
const MAX_GROUP_W: f64 = 120.0;
const GROUP_GAP: f64 = 16.0;
const MIN_BAR_W: f64 = 16.0;
const MAX_BAR_W: f64 = 40.0;
/// Widest value label a bar widens for: past this (numbers in the millions of
/// millions) the labels may touch rather than the chart growing without bound.
const MAX_VALUE_BAR_W: f64 = 64.0;
/// Category labels that do not fit in their slot on at most this many lines are rotated.
const MAX_LABEL_LINES: usize = 3;
const LINE_H: f64 = 14.0;
/// Angle of rotated category labels.
const ROTATE_DEG: f64 = 40.0;
/// Rotated labels longer than this are cut with "…" (the full label stays in
/// the hover text and the `aria-label`).
const MAX_ROTATED_LABEL_W: f64 = 180.0;

/// Target chart: width of the progress track, height of a bar.
const TRACK_W: f64 = 240.0;
const TRACK_H: f64 = 14.0;
const MAX_LABEL_COL_W: f64 = 200.0;

/// Escapes text for XML content and attribute values (`& < > " '`), and drops
/// the characters XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF): a stray
/// control character in an establishment's name must not make the whole page
/// unparsable.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

impl BarChart {
    /// Renders the chart as one `<svg>` element, ready to be put inline in a page.
    pub fn to_svg(&self) -> String {
        let slots = self.bars.iter().map(|b| b.values.len()).max().unwrap_or(0);
        if slots == 0 {
            return empty_chart(&self.title);
        }
        let max = self
            .bars
            .iter()
            .flat_map(|b| b.values.iter().copied())
            .max()
            .unwrap_or(0);
        let ticks = nice_ticks(max);
        let top = ticks.last().copied().unwrap_or(1).max(1);

        // Horizontal layout: a bar is at least as wide as its value label, so
        // the labels above neighbouring bars do not run into each other.
        let value_w = self
            .bars
            .iter()
            .flat_map(|b| b.values.iter())
            .map(|&v| text_width(&fmt_count(u128::from(v)), SMALL_PX))
            .fold(0.0, f64::max);
        let min_bar_w = (value_w + 4.0).clamp(MIN_BAR_W, MAX_VALUE_BAR_W);
        let n_bars = self.bars.len() as f64;
        let group_w =
            (min_bar_w * slots as f64 + GROUP_GAP).max((PREFERRED_PLOT_W / n_bars).min(MAX_GROUP_W));
        let bar_w = ((group_w - GROUP_GAP) / slots as f64).min(MAX_BAR_W.max(min_bar_w));
        let plot_w = group_w * n_bars;

        let tick_w = ticks
            .iter()
            .map(|&t| text_width(&fmt_count(t), SMALL_PX))
            .fold(0.0, f64::max);
        let labels = CategoryLabels::layout(&self.bars, group_w);
        let mut margin_left = (tick_w + 12.0).max(36.0);
        if let CategoryLabels::Rotated(lines) = &labels {
            // A rotated label hangs down to the left of its bar: the first one
            // must not run over the y axis numbers or off the chart.
            let w = lines.first().map(|l| text_width(l, LABEL_PX)).unwrap_or(0.0);
            let overhang = w * ROTATE_DEG.to_radians().cos() - group_w / 2.0 + 8.0;
            margin_left = margin_left.max(overhang);
        }
        let unit_text = if self.unit.trim().is_empty() {
            String::new()
        } else {
            format!("Đơn vị: {}", self.unit)
        };

        let mut width = margin_left + plot_w + 12.0;
        width = width
            .max(text_width(&self.title, TITLE_PX) + 16.0)
            .max(text_width(&unit_text, SMALL_PX) + 16.0)
            .max(240.0);
        let legend = legend_layout(&self.series, width - 16.0);
        width = width.max(legend.min_width + 16.0);

        // Vertical layout.
        let title_y = 8.0 + TITLE_PX;
        let mut y = title_y + 10.0;
        let legend_y = y;
        y += legend.rows as f64 * 18.0;
        let unit_y = y + SMALL_PX;
        if !unit_text.is_empty() {
            y += SMALL_PX + 6.0;
        }
        let plot_top = y + 16.0; // room for the value label of the tallest bar
        let plot_bottom = plot_top + PLOT_H;
        let height = plot_bottom + 6.0 + labels.band_height() + 8.0;
        let y_of = |v: u128| plot_bottom - (v as f64 / top as f64) * PLOT_H;

        let mut out = String::new();
        svg_open(&mut out, width, height, &self.aria_label());
        text(
            &mut out,
            8.0,
            title_y,
            TITLE_PX,
            "start",
            &self.title,
            " font-weight=\"bold\"",
        );
        for item in &legend.items {
            let ly = legend_y + item.row as f64 * 18.0;
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>",
                n(8.0 + item.x),
                n(ly + 2.0),
                colour(item.index)
            );
            text(
                &mut out,
                8.0 + item.x + 14.0,
                ly + 11.0,
                SMALL_PX,
                "start",
                &item.name,
                "",
            );
        }
        if !unit_text.is_empty() {
            text(
                &mut out,
                8.0,
                unit_y,
                SMALL_PX,
                "start",
                &unit_text,
                &format!(" fill=\"{MUTED_COLOUR}\""),
            );
        }

        // Grid and y axis.
        for &t in &ticks {
            let ty = y_of(t);
            let stroke = if t == 0 { AXIS_COLOUR } else { GRID_COLOUR };
            let _ = write!(
                out,
                "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{stroke}\"/>",
                n(margin_left),
                n(margin_left + plot_w),
                y = n(ty)
            );
            text(
                &mut out,
                margin_left - 6.0,
                ty + 4.0,
                SMALL_PX,
                "end",
                &fmt_count(t),
                &format!(" fill=\"{MUTED_COLOUR}\""),
            );
        }

        // Bars, each group wrapped in its link when it has one.
        for (i, bar) in self.bars.iter().enumerate() {
            let gx = margin_left + i as f64 * group_w;
            let cx = gx + group_w / 2.0;
            let x0 = cx - bar_w * slots as f64 / 2.0;
            match bar.href.as_deref().and_then(safe_href) {
                Some(h) => {
                    let _ = write!(out, "<a href=\"{}\">", escape_xml(h));
                }
                None => out.push_str("<g>"),
            }
            for (j, &v) in bar.values.iter().enumerate() {
                let top_y = y_of(u128::from(v));
                let x = x0 + j as f64 * bar_w;
                let _ = write!(
                    out,
                    "<rect class=\"kt-bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect>",
                    n(x + 1.0),
                    n(top_y),
                    n((bar_w - 2.0).max(1.0)),
                    n(plot_bottom - top_y),
                    colour(j),
                    escape_xml(&self.hover_text(bar, j, v))
                );
                text(
                    &mut out,
                    x + bar_w / 2.0,
                    top_y - 3.0,
                    SMALL_PX,
                    "middle",
                    &fmt_count(u128::from(v)),
                    "",
                );
            }
            labels.draw(&mut out, i, cx, plot_bottom, &bar.label);
            out.push_str(if bar.href.as_deref().and_then(safe_href).is_some() {
                "</a>"
            } else {
                "</g>"
            });
        }
        out.push_str("</svg>");
        out
    }

    /// "Quận Hồng Bàng — Đạt: 12 cơ sở": what a tooltip says about one value.
    fn hover_text(&self, bar: &Bar, index: usize, value: u64) -> String {
        let mut s = bar.label.clone();
        match self.series.get(index) {
            Some(series) => {
                let _ = write!(s, " — {}: {}", series.name, fmt_count(u128::from(value)));
            }
            None => {
                let _ = write!(s, ": {}", fmt_count(u128::from(value)));
            }
        }
        if !self.unit.trim().is_empty() {
            let _ = write!(s, " {}", self.unit);
        }
        s
    }

    /// The whole chart as a sentence, for screen readers (`role="img"` hides
    /// the chart's parts from them, so the label must carry every number).
    fn aria_label(&self) -> String {
        let mut s = self.title.clone();
        if !self.unit.trim().is_empty() {
            let _ = write!(s, " ({})", self.unit);
        }
        s.push('.');
        for (i, bar) in self.bars.iter().enumerate() {
            s.push_str(if i == 0 { " " } else { "; " });
            let _ = write!(s, "{}:", bar.label);
            for (j, &v) in bar.values.iter().enumerate() {
                if j > 0 {
                    s.push(',');
                }
                match self.series.get(j) {
                    Some(series) => {
                        let _ = write!(s, " {} {}", series.name, fmt_count(u128::from(v)));
                    }
                    None => {
                        let _ = write!(s, " {}", fmt_count(u128::from(v)));
                    }
                }
            }
        }
        s
    }
}

/// A horizontal progress bar chart for targets: each row label, numerator,
/// denominator and a goal share in per-mille; shows the percentage with one
/// decimal, the goal as a tick mark, green when met, amber otherwise; rows
/// with denominator 0 show "không có dữ liệu".
///
/// "Met" is decided on the exact fraction (`numerator × 1000 ≥ goal × denominator`),
/// and the shown percentage is rounded but never rounded up onto a goal that
/// was missed (89,96% against 90% shows 89,9%, not 90,0% in amber).
pub fn target_chart(title: &str, rows: &[TargetRow]) -> String {
    if rows.is_empty() {
        return empty_chart(title);
    }
    let label_col = rows
        .iter()
        .map(|r| text_width(&r.label, LABEL_PX))
        .fold(60.0, f64::max)
        .min(MAX_LABEL_COL_W);
    let stats: Vec<RowStats> = rows.iter().map(RowStats::of).collect();
    let text_col = stats
        .iter()
        .map(|s| text_width(&s.status, LABEL_PX))
        .fold(0.0, f64::max);
    let track_x = 8.0 + label_col + 10.0;
    let text_x = track_x + TRACK_W + 10.0;
    let caption = "Vạch đứng: mục tiêu";
    let width = (text_x + text_col + 12.0)
        .max(text_width(title, TITLE_PX) + 16.0)
        .max(text_width(caption, SMALL_PX) + 16.0);

    let title_y = 8.0 + TITLE_PX;
    let caption_y = title_y + 16.0;
    let mut y = caption_y + 10.0;
    let wrapped: Vec<Vec<String>> = rows
        .iter()
        .map(|r| wrap(&r.label, label_col, LABEL_PX, 2).0)
        .collect();
    let row_heights: Vec<f64> = wrapped
        .iter()
        .map(|l| (l.len() as f64 * LINE_H + 12.0).max(28.0))
        .collect();
    let height = y + row_heights.iter().sum::<f64>() + 8.0;

    let mut out = String::new();
    svg_open(&mut out, width, height, &target_aria_label(title, rows, &stats));
    text(
        &mut out,
        8.0,
        title_y,
        TITLE_PX,
        "start",
        title,
        " font-weight=\"bold\"",
    );
    text(
        &mut out,
        8.0,
        caption_y,
        SMALL_PX,
        "start",
        caption,
        &format!(" fill=\"{MUTED_COLOUR}\""),
    );
    for (((row, st), lines), row_h) in rows.iter().zip(&stats).zip(&wrapped).zip(&row_heights) {
        let cy = y + row_h / 2.0;
        let href = row.href.as_deref().and_then(safe_href);
        match href {
            Some(h) => {
                let _ = write!(out, "<a href=\"{}\">", escape_xml(h));
            }
            None => out.push_str("<g>"),
        }
        let _ = write!(out, "<title>{}</title>", escape_xml(&st.hover(&row.label)));
        let first_baseline = cy - (lines.len().saturating_sub(1)) as f64 * LINE_H / 2.0 + 4.0;
        for (k, line) in lines.iter().enumerate() {
            text(
                &mut out,
                8.0,
                first_baseline + k as f64 * LINE_H,
                LABEL_PX,
                "start",
                line,
                "",
            );
        }
        let bar_y = cy - TRACK_H / 2.0;
        let _ = write!(
            out,
            "<rect class=\"kt-track\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{TRACK_COLOUR}\"/>",
            n(track_x),
            n(bar_y),
            n(TRACK_W),
            n(TRACK_H)
        );
        if let Some(share) = st.share {
            let (class, fill) = if st.met {
                ("kt-met", MET_COLOUR)
            } else {
                ("kt-unmet", UNMET_COLOUR)
            };
            let _ = write!(
                out,
                "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"/>",
                n(track_x),
                n(bar_y),
                n(share * TRACK_W),
                n(TRACK_H)
            );
        }
        let goal_x = track_x + f64::from(row.goal_per_mille.min(1000)) / 1000.0 * TRACK_W;
        let _ = write!(
            out,
            "<line class=\"kt-goal\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{TEXT_COLOUR}\" stroke-width=\"2\"/>",
            n(bar_y - 3.0),
            n(bar_y + TRACK_H + 3.0),
            x = n(goal_x)
        );
        let extra = if st.share.is_none() {
            format!(" fill=\"{MUTED_COLOUR}\"")
        } else {
            String::new()
        };
        text(&mut out, text_x, cy + 4.0, LABEL_PX, "start", &st.status, &extra);
        out.push_str(if href.is_some() { "</a>" } else { "</g>" });
        y += row_h;
    }
    out.push_str("</svg>");
    out
}

/// What one target row shows, computed once with integer arithmetic.
struct RowStats {
    /// Filled share of the track, 0..=1; `None` when the denominator is 0.
    share: Option<f64>,
    met: bool,
    /// "87,5% (35/40)", "92,0% (46/50) ✓" or "không có dữ liệu".
    status: String,
    percent: String,
    goal: String,
}

/// A share as the target charts print it — one decimal, rounded, never
/// rounded up onto a goal that was missed — for tables beside the charts;
/// "—" without a denominator.
pub fn share_percent(numerator: u64, denominator: u64, goal_per_mille: u32) -> String {
    let row = TargetRow {
        label: String::new(),
        numerator,
        denominator,
        goal_per_mille,
        href: None,
    };
    match RowStats::of(&row) {
        s if s.share.is_some() => s.percent,
        _ => "—".to_string(),
    }
}

impl RowStats {
    fn of(row: &TargetRow) -> RowStats {
        let goal = fmt_per_mille(u128::from(row.goal_per_mille), false);
        if row.denominator == 0 {
            return RowStats {
                share: None,
                met: false,
                status: NO_DATA_ROW.to_string(),
                percent: String::new(),
                goal,
            };
        }
        let num = u128::from(row.numerator);
        let den = u128::from(row.denominator);
        let goal_pm = u128::from(row.goal_per_mille);
        let met = num * 1000 >= goal_pm * den;
        let mut shown = (num * 1000 + den / 2) / den;
        if !met && shown >= goal_pm {
            // Never show a missed goal as reached by rounding.
            shown = goal_pm.saturating_sub(1);
        }
        let percent = fmt_per_mille(shown, true);
        let mut status = format!("{percent} ({}/{})", fmt_count(num), fmt_count(den));
        if met {
            status.push_str(" ✓");
        }
        let share = (row.numerator as f64 / row.denominator as f64).clamp(0.0, 1.0);
        RowStats {
            share: Some(share),
            met,
            status,
            percent,
            goal,
        }
    }

    fn hover(&self, label: &str) -> String {
        if self.share.is_none() {
            return format!("{label}: {NO_DATA_ROW} (mục tiêu {})", self.goal);
        }
        let verdict = if self.met { "đạt" } else { "chưa đạt" };
        format!(
            "{label}: {} — mục tiêu {}: {verdict}",
            self.status.trim_end_matches(" ✓"),
            self.goal
        )
    }
}

fn target_aria_label(title: &str, rows: &[TargetRow], stats: &[RowStats]) -> String {
    let mut s = format!("{title}.");
    for (i, (row, st)) in rows.iter().zip(stats).enumerate() {
        s.push_str(if i == 0 { " " } else { "; " });
        if st.share.is_none() {
            let _ = write!(s, "{}: {NO_DATA_ROW}", row.label);
        } else {
            let verdict = if st.met { "đạt" } else { "chưa đạt" };
            let _ = write!(
                s,
                "{}: {}, mục tiêu {}, {verdict}",
                row.label, st.percent, st.goal
            );
        }
    }
    s
}

/// The small chart drawn instead of an empty one: a title and "Không có dữ
/// liệu", so the page says there is nothing rather than showing a blank box.
fn empty_chart(title: &str) -> String {
    let width = (text_width(title, TITLE_PX) + 16.0).max(320.0);
    let height = 90.0;
    let mut out = String::new();
    svg_open(&mut out, width, height, &format!("{title}: {NO_DATA}"));
    text(
        &mut out,
        8.0,
        8.0 + TITLE_PX,
        TITLE_PX,
        "start",
        title,
        " font-weight=\"bold\"",
    );
    let _ = write!(
        out,
        "<rect x=\"8\" y=\"34\" width=\"{}\" height=\"48\" fill=\"none\" stroke=\"{GRID_COLOUR}\" stroke-dasharray=\"4 3\"/>",
        n(width - 16.0)
    );
    text(
        &mut out,
        width / 2.0,
        62.0,
        LABEL_PX,
        "middle",
        NO_DATA,
        &format!(" fill=\"{MUTED_COLOUR}\""),
    );
    out.push_str("</svg>");
    out
}

/// Writes the root element. The width and height attributes give the natural
/// size on a desktop; the style lets the chart shrink (never grow) to the
/// screen, keeping its proportions through the `viewBox`.
fn svg_open(out: &mut String, width: f64, height: f64, aria_label: &str) {
    let (w, h) = (n(width.ceil()), n(height.ceil()));
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"kt-chart\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" \
         height=\"{h}\" style=\"max-width:100%;height:auto\" role=\"img\" aria-label=\"{}\" \
         font-family=\"sans-serif\" fill=\"{TEXT_COLOUR}\">",
        escape_xml(aria_label)
    );
}

/// Writes one `<text>` element; `extra` is raw attributes (never input).
fn text(out: &mut String, x: f64, y: f64, px: f64, anchor: &str, content: &str, extra: &str) {
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{anchor}\"{extra}>{}</text>",
        n(x),
        n(y),
        n(px),
        escape_xml(content)
    );
}

/// How the category labels under a bar chart are drawn: all horizontal
/// (wrapped on up to [`MAX_LABEL_LINES`] lines) when every label fits its slot
/// that way, otherwise all rotated. One mode for the whole chart, so the
/// labels line up.
enum CategoryLabels {
    Lines(Vec<Vec<String>>),
    /// Each label, shortened with "…" when very long.
    Rotated(Vec<String>),
}

impl CategoryLabels {
    fn layout(bars: &[Bar], group_w: f64) -> CategoryLabels {
        let max_w = group_w - 6.0;
        let mut wrapped = Vec::with_capacity(bars.len());
        for bar in bars {
            let (lines, cut) = wrap(&bar.label, max_w, LABEL_PX, MAX_LABEL_LINES);
            if cut {
                return CategoryLabels::Rotated(
                    bars.iter()
                        .map(|b| truncate_to(&b.label, MAX_ROTATED_LABEL_W, LABEL_PX))
                        .collect(),
                );
            }
            wrapped.push(lines);
        }
        CategoryLabels::Lines(wrapped)
    }

    /// Height of the band under the plot that the labels need.
    fn band_height(&self) -> f64 {
        match self {
            CategoryLabels::Lines(all) => all.iter().map(Vec::len).max().unwrap_or(0) as f64 * LINE_H + 4.0,
            CategoryLabels::Rotated(all) => {
                let w = all.iter().map(|l| text_width(l, LABEL_PX)).fold(0.0, f64::max);
                let a = ROTATE_DEG.to_radians();
                w * a.sin() + LABEL_PX * a.cos() + 8.0
            }
        }
    }

    fn draw(&self, out: &mut String, index: usize, cx: f64, plot_bottom: f64, full: &str) {
        match self {
            CategoryLabels::Lines(all) => {
                let Some(lines) = all.get(index) else { return };
                if lines.is_empty() {
                    return;
                }
                let _ = write!(
                    out,
                    "<text x=\"{x}\" y=\"{}\" font-size=\"{}\" text-anchor=\"middle\">",
                    n(plot_bottom + 6.0 + LABEL_PX),
                    n(LABEL_PX),
                    x = n(cx)
                );
                for (k, line) in lines.iter().enumerate() {
                    let dy = if k == 0 { 0.0 } else { LINE_H };
                    let _ = write!(
                        out,
                        "<tspan x=\"{}\" dy=\"{}\">{}</tspan>",
                        n(cx),
                        n(dy),
                        escape_xml(line)
                    );
                }
                out.push_str("</text>");
            }
            CategoryLabels::Rotated(all) => {
                let Some(label) = all.get(index) else { return };
                let (x, y) = (n(cx + 4.0), n(plot_bottom + 14.0));
                let _ = write!(
                    out,
                    "<text x=\"{x}\" y=\"{y}\" font-size=\"{}\" text-anchor=\"end\" transform=\"rotate(-{} {x} {y})\">{}",
                    n(LABEL_PX),
                    n(ROTATE_DEG),
                    escape_xml(label)
                );
                if label != full {
                    let _ = write!(out, "<title>{}</title>", escape_xml(full));
                }
                out.push_str("</text>");
            }
        }
    }
}

struct LegendItem {
    index: usize,
    name: String,
    row: usize,
    x: f64,
}

struct Legend {
    items: Vec<LegendItem>,
    rows: usize,
    /// Width of the widest single entry: the chart is at least this wide.
    min_width: f64,
}

/// Lays the legend entries left to right, starting a new row when the next
/// one would not fit in `avail`.
fn legend_layout(series: &[Series], avail: f64) -> Legend {
    let mut items = Vec::with_capacity(series.len());
    let (mut row, mut x, mut min_width) = (0, 0.0, 0.0_f64);
    for (index, s) in series.iter().enumerate() {
        let w = 14.0 + text_width(&s.name, SMALL_PX);
        min_width = min_width.max(w);
        if x > 0.0 && x + w > avail {
            row += 1;
            x = 0.0;
        }
        items.push(LegendItem {
            index,
            name: s.name.clone(),
            row,
            x,
        });
        x += w + 16.0;
    }
    let rows = if items.is_empty() { 0 } else { row + 1 };
    Legend {
        items,
        rows,
        min_width,
    }
}

/// Ticks of the y axis: from 0 in steps of 1, 2 or 5 × 10ⁿ, about five of
/// them, up to the first step at or above `max` (37 → 0, 10, 20, 30, 40).
/// Counts are whole numbers, so the step is never below 1. In `u128` so the
/// top tick above `u64::MAX` cannot overflow.
fn nice_ticks(max: u64) -> Vec<u128> {
    let max = u128::from(max);
    let mut step = 1;
    'search: for exp in 0..=20 {
        let pow = 10u128.pow(exp);
        for m in [1, 2, 5] {
            if m * pow * 5 >= max {
                step = m * pow;
                break 'search;
            }
        }
    }
    let top = max.div_ceil(step).max(1) * step;
    (0..=top / step).map(|i| i * step).collect()
}

/// Greedy word wrap to `max_w` on at most `max_lines` lines. Words wider than a
/// line and lines past the last are cut with "…"; the flag says whether
/// anything was cut.
fn wrap(text: &str, max_w: f64, px: f64, max_lines: usize) -> (Vec<String>, bool) {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut cut = false;
    for word in text.split_whitespace() {
        let candidate = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if text_width(&candidate, px) <= max_w {
            cur = candidate;
            continue;
        }
        if !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        if text_width(word, px) <= max_w {
            cur = word.to_string();
        } else {
            cur = truncate_to(word, max_w, px);
            cut = true;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            *last = ellipsize(last, max_w, px);
        }
        cut = true;
    }
    (lines, cut)
}

/// `s` itself when it fits in `max_w`, otherwise [`ellipsize`]d.
fn truncate_to(s: &str, max_w: f64, px: f64) -> String {
    if text_width(s, px) <= max_w {
        s.to_string()
    } else {
        ellipsize(s, max_w, px)
    }
}

/// The longest prefix of `s` that fits in `max_w` with "…" after it.
fn ellipsize(s: &str, max_w: f64, px: f64) -> String {
    let mut out = String::new();
    for c in s.chars() {
        out.push(c);
        if text_width(&out, px) + px * CHAR_EM > max_w {
            out.pop();
            break;
        }
    }
    let trimmed = out.trim_end().trim_end_matches('…');
    format!("{trimmed}…")
}

/// Estimated width of `s` at `px`. Combining marks (Vietnamese typed in
/// decomposed form) take no room of their own.
fn text_width(s: &str, px: f64) -> f64 {
    let visible = s
        .chars()
        .filter(|&c| {
            !matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
        })
        .count();
    visible as f64 * px * CHAR_EM
}

/// A coordinate with at most one decimal ("12", "12.5", never "12.50" or "-0").
fn n(x: f64) -> String {
    if !x.is_finite() {
        return "0".to_string();
    }
    let s = format!("{x:.1}");
    let s = s.strip_suffix(".0").unwrap_or(&s);
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// A count the Vietnamese way: `1.234.567`.
fn fmt_count(v: u128) -> String {
    let digits = v.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// A per-mille value as a percentage the Vietnamese way: `87,5%`; with
/// `always_decimal` false, `90%` rather than `90,0%` (goals are usually round).
fn fmt_per_mille(pm: u128, always_decimal: bool) -> String {
    let (whole, tenth) = (pm / 10, pm % 10);
    if tenth == 0 && !always_decimal {
        format!("{}%", fmt_count(whole))
    } else {
        format!("{},{tenth}%", fmt_count(whole))
    }
}

/// The colour of series `i`, cycling through the palette.
fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// Keeps relative links and `http`/`https`; drops anything with another
/// scheme (`javascript:`, `data:`), and empty links. The overview builds these
/// links itself, but they may carry names typed by users, and a link in an
/// inspectorate page must never run script.
fn safe_href(href: &str) -> Option<&str> {
    let h = href.trim();
    if h.is_empty() {
        return None;
    }
    let scheme_end = h.find(':');
    let path_start = h.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        (Some(c), Some(p)) if p < c => Some(h),
        (Some(c), _) => {
            let scheme = &h[..c];
            (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")).then_some(h)
        }
        (None, _) => Some(h),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(svg: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"))
    }

    fn districts() -> BarChart {
        BarChart {
            title: "Kết quả kiểm tra theo quận, huyện".into(),
            series: vec![
                Series {
                    name: "Đạt".into()
                },
                Series {
                    name: "Chưa đạt".into(),
                },
            ],
            bars: vec![
                Bar {
                    label: "Quận Hồng Bàng".into(),
                    values: vec![12, 3],
                    href: Some("/ho-so?quan=hb&kq=1".into()),
                },
                Bar {
                    label: "Thành phố Thủy Nguyên".into(),
                    values: vec![37, 0],
                    href: None,
                },
                Bar {
                    label: "Quận Lê Chân".into(),
                    values: vec![5, 9],
                    href: Some("/ho-so?quan=lc".into()),
                },
            ],
            unit: "cơ sở".into(),
        }
    }

    fn elements<'a>(doc: &'a roxmltree::Document<'a>, name: &str) -> Vec<roxmltree::Node<'a, 'a>> {
        doc.descendants()
            .filter(|n| n.tag_name().name() == name)
            .collect()
    }

    fn texts(doc: &roxmltree::Document<'_>) -> Vec<String> {
        elements(doc, "text")
            .iter()
            .map(|t| {
                t.descendants()
                    .filter(|n| n.is_text())
                    .filter_map(|n| n.text())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn bar_chart_is_accessible_scalable_xml() {
        let svg = districts().to_svg();
        let doc = parse(&svg);
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("role"), Some("img"));
        assert!(root.attribute("viewBox").is_some_and(|v| v.starts_with("0 0 ")));
        let aria = root.attribute("aria-label").unwrap_or_default();
        assert!(aria.contains("Quận Hồng Bàng: Đạt 12, Chưa đạt 3"), "{aria}");
        assert!(texts(&doc).iter().any(|t| t == "Đơn vị: cơ sở"));
        // Every bar has hover text.
        for rect in elements(&doc, "rect")
            .iter()
            .filter(|r| r.attribute("class") == Some("kt-bar"))
        {
            assert!(rect.children().any(|c| c.tag_name().name() == "title"));
        }
        let titles: Vec<_> = elements(&doc, "title")
            .iter()
            .filter_map(|t| t.text())
            .map(str::to_string)
            .collect();
        assert!(
            titles.contains(&"Quận Hồng Bàng — Chưa đạt: 3 cơ sở".to_string()),
            "{titles:?}"
        );
    }

    #[test]
    fn text_is_escaped() {
        let nasty = "a<b & \"c\" 'd'";
        let chart = BarChart {
            title: format!("T {nasty}"),
            series: vec![Series { name: "<&\"".into() }],
            bars: vec![Bar {
                label: nasty.into(),
                values: vec![1],
                href: Some("/x?a=1&b=<2>\"".into()),
            }],
            unit: "u&<".into(),
        };
        let svg = chart.to_svg();
        assert!(!svg.contains("a<b"));
        assert!(svg.contains("a&lt;b &amp; &quot;c&quot; &apos;d&apos;"));
        let doc = parse(&svg);
        assert!(texts(&doc).iter().any(|t| t == &format!("T {nasty}")));
        assert!(texts(&doc).iter().any(|t| t == "<&\""));
        assert_eq!(elements(&doc, "a")[0].attribute("href"), Some("/x?a=1&b=<2>\""));
        assert_eq!(escape_xml("<&>\"'"), "&lt;&amp;&gt;&quot;&apos;");
        // Characters XML forbids are dropped instead of breaking the page.
        let ctl = BarChart {
            title: "x\u{1}y\u{FFFF}".into(),
            ..chart
        };
        parse(&ctl.to_svg());
        parse(&target_chart("\u{0}<", &[]));
    }

    #[test]
    fn nice_ticks_use_1_2_5_steps() {
        assert_eq!(nice_ticks(37), vec![0, 10, 20, 30, 40]);
        assert_eq!(nice_ticks(0), vec![0, 1]);
        assert_eq!(nice_ticks(1), vec![0, 1]);
        assert_eq!(nice_ticks(3), vec![0, 1, 2, 3]);
        assert_eq!(nice_ticks(5), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(nice_ticks(7), vec![0, 2, 4, 6, 8]);
        assert_eq!(nice_ticks(50), vec![0, 10, 20, 30, 40, 50]);
        assert_eq!(nice_ticks(51), vec![0, 20, 40, 60]);
        assert_eq!(nice_ticks(100), vec![0, 20, 40, 60, 80, 100]);
        assert_eq!(nice_ticks(1234), vec![0, 500, 1000, 1500]);
        let huge = nice_ticks(u64::MAX);
        assert!(huge.last().is_some_and(|&t| t >= u128::from(u64::MAX)));
        assert!(huge.len() <= 6);
        // The axis shows the ticks.
        let doc_svg = districts().to_svg();
        let doc = parse(&doc_svg);
        let t = texts(&doc);
        assert!(
            t.iter().any(|s| s == "40") && !t.iter().any(|s| s == "50"),
            "{t:?}"
        );
    }

    #[test]
    fn one_rect_per_value() {
        let mut chart = districts();
        let bars = |svg: &str| {
            parse(svg)
                .descendants()
                .filter(|n| n.attribute("class") == Some("kt-bar"))
                .count()
        };
        assert_eq!(bars(&chart.to_svg()), 6);
        chart.bars[1].values.truncate(1);
        assert_eq!(bars(&chart.to_svg()), 5);
        // More values than series: drawn, in the next palette colour.
        chart.bars[0].values.push(4);
        let svg = chart.to_svg();
        assert_eq!(bars(&svg), 6);
        assert!(svg.contains(PALETTE[2]));
    }

    #[test]
    fn hrefs_wrap_their_bars() {
        let mut chart = districts();
        chart.bars[1].href = Some("javascript:alert(1)".into());
        let svg = chart.to_svg();
        let doc = parse(&svg);
        let links = elements(&doc, "a");
        let hrefs: Vec<_> = links.iter().filter_map(|a| a.attribute("href")).collect();
        assert_eq!(hrefs, ["/ho-so?quan=hb&kq=1", "/ho-so?quan=lc"]);
        for a in &links {
            assert_eq!(
                a.children()
                    .filter(|c| c.attribute("class") == Some("kt-bar"))
                    .count(),
                2
            );
        }
        assert!(!svg.contains("javascript"));
        assert_eq!(safe_href("https://x.vn/a"), Some("https://x.vn/a"));
        assert_eq!(safe_href("ho-so?q=a:b"), Some("ho-so?q=a:b"));
        assert_eq!(safe_href(" JavaScript:x"), None);
        assert_eq!(safe_href("java\nscript:x"), None);
        assert_eq!(safe_href("data:text/html,x"), None);
        assert_eq!(safe_href(""), None);
    }

    #[test]
    fn empty_chart_says_no_data() {
        for chart in [
            BarChart {
                title: "Trống".into(),
                series: vec![],
                bars: vec![],
                unit: String::new(),
            },
            BarChart {
                title: "Trống".into(),
                series: vec![Series { name: "A".into() }],
                bars: vec![Bar {
                    label: "x".into(),
                    values: vec![],
                    href: None,
                }],
                unit: String::new(),
            },
        ] {
            let svg = chart.to_svg();
            let doc = parse(&svg);
            assert!(texts(&doc).iter().any(|t| t == NO_DATA));
            assert_eq!(doc.root_element().attribute("role"), Some("img"));
        }
        let svg = target_chart("Mục tiêu", &[]);
        assert!(texts(&parse(&svg)).iter().any(|t| t == NO_DATA));
        // All zeros is data, not "no data".
        let zeros = BarChart {
            title: "0".into(),
            series: vec![],
            bars: vec![Bar {
                label: "x".into(),
                values: vec![0],
                href: None,
            }],
            unit: String::new(),
        };
        let svg = zeros.to_svg();
        assert!(!svg.contains(NO_DATA));
        parse(&svg);
    }

    #[test]
    fn long_labels_rotate_short_ones_do_not() {
        let long = BarChart {
            title: "Nhiều".into(),
            series: vec![Series {
                name: "Số cơ sở".into(),
            }],
            bars: (0..15)
                .map(|i| Bar {
                    label: format!("Thành phố Thủy Nguyên {i}"),
                    values: vec![i],
                    href: None,
                })
                .collect(),
            unit: String::new(),
        };
        let svg = long.to_svg();
        parse(&svg);
        assert!(svg.contains("rotate(-40"));
        let short = BarChart {
            title: "Ít".into(),
            series: vec![Series {
                name: "Số cơ sở".into(),
            }],
            bars: ["Quận Hồng Bàng", "Quận Lê Chân", "An Dương"]
                .iter()
                .map(|l| Bar {
                    label: l.to_string(),
                    values: vec![3],
                    href: None,
                })
                .collect(),
            unit: String::new(),
        };
        let svg = short.to_svg();
        assert!(!svg.contains("rotate("));
        let doc = parse(&svg);
        let tspans: Vec<_> = elements(&doc, "tspan")
            .iter()
            .filter_map(|t| t.text())
            .map(str::to_string)
            .collect();
        assert!(tspans.contains(&"Hồng Bàng".to_string()) || tspans.contains(&"Quận Hồng Bàng".to_string()));
        // A label too long for any slot is cut, and the full one is in the hover text.
        let one = BarChart {
            bars: vec![Bar {
                label: "Công ty ".repeat(30),
                values: vec![1],
                href: None,
            }],
            ..short
        };
        let svg = one.to_svg();
        parse(&svg);
        assert!(svg.contains('…'));
    }

    #[test]
    fn numbers_have_at_most_one_decimal() {
        let charts = [
            districts().to_svg(),
            target_chart(
                "Tỷ lệ",
                &[TargetRow {
                    label: "Quận Hồng Bàng".into(),
                    numerator: 1,
                    denominator: 3,
                    goal_per_mille: 333,
                    href: None,
                }],
            ),
        ];
        for svg in charts {
            let doc = parse(&svg);
            for node in doc.descendants() {
                for attr in node.attributes() {
                    for token in attr.value().split(|c: char| !(c.is_ascii_digit() || c == '.')) {
                        if let Some((_, frac)) = token.split_once('.') {
                            assert!(frac.len() <= 1, "{}=\"{}\"", attr.name(), attr.value());
                        }
                    }
                }
            }
        }
        assert_eq!(n(12.0), "12");
        assert_eq!(n(12.449), "12.4");
        assert_eq!(n(-0.01), "0");
        assert_eq!(n(f64::NAN), "0");
        assert_eq!(fmt_count(1_234_567), "1.234.567");
        assert_eq!(fmt_count(999), "999");
    }

    fn row(label: &str, numerator: u64, denominator: u64, goal_per_mille: u32) -> TargetRow {
        TargetRow {
            label: label.into(),
            numerator,
            denominator,
            goal_per_mille,
            href: None,
        }
    }

    #[test]
    fn target_chart_colours_met_and_unmet() {
        let mut rows = vec![
            row("Quận Hồng Bàng", 46, 50, 900),
            row("Thành phố Thủy Nguyên", 35, 40, 900),
        ];
        rows[0].href = Some("/ho-so?quan=hb".into());
        let svg = target_chart("Tỷ lệ cơ sở đạt", &rows);
        let doc = parse(&svg);
        assert_eq!(doc.root_element().attribute("role"), Some("img"));
        let fill_of = |class: &str| {
            doc.descendants()
                .filter(|n| n.attribute("class") == Some(class))
                .filter_map(|n| n.attribute("fill"))
                .collect::<Vec<_>>()
        };
        assert_eq!(fill_of("kt-met"), [MET_COLOUR]);
        assert_eq!(fill_of("kt-unmet"), [UNMET_COLOUR]);
        assert_eq!(
            doc.descendants()
                .filter(|n| n.attribute("class") == Some("kt-goal"))
                .count(),
            2
        );
        let t = texts(&doc);
        assert!(t.iter().any(|s| s == "92,0% (46/50) ✓"), "{t:?}");
        assert!(t.iter().any(|s| s == "87,5% (35/40)"), "{t:?}");
        let links = elements(&doc, "a");
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].attribute("href"), Some("/ho-so?quan=hb"));
        let hover: Vec<_> = elements(&doc, "title")
            .iter()
            .filter_map(|t| t.text())
            .map(str::to_string)
            .collect();
        assert!(
            hover.iter().any(|h| h.ends_with("mục tiêu 90%: chưa đạt")),
            "{hover:?}"
        );
        // The goal exactly reached counts as met.
        let svg = target_chart("x", &[row("a", 9, 10, 900)]);
        assert!(svg.contains("kt-met") && !svg.contains("kt-unmet"));
    }

    #[test]
    fn target_chart_never_rounds_a_miss_onto_the_goal() {
        let svg = target_chart("x", &[row("a", 8999, 10000, 900)]);
        let t = texts(&parse(&svg));
        assert!(t.iter().any(|s| s == "89,9% (8.999/10.000)"), "{t:?}");
        assert!(svg.contains("kt-unmet"));
        // More than the whole (bad data) still draws inside the track.
        let svg = target_chart("x", &[row("a", 12, 10, 1500)]);
        let doc = parse(&svg);
        let w = |class: &str| {
            doc.descendants()
                .find(|n| n.attribute("class") == Some(class))
                .and_then(|n| n.attribute("width"))
                .map(str::to_string)
        };
        assert_eq!(w("kt-unmet"), w("kt-track"));
        assert!(texts(&doc).iter().any(|s| s == "120,0% (12/10)"));
    }

    #[test]
    fn target_chart_zero_denominator_has_no_data() {
        let svg = target_chart(
            "Tỷ lệ",
            &[row("Huyện Bạch Long Vĩ", 0, 0, 800), row("Quận Kiến An", 0, 5, 0)],
        );
        let doc = parse(&svg);
        assert!(texts(&doc).iter().any(|s| s == NO_DATA_ROW));
        assert_eq!(
            doc.descendants()
                .filter(|n| n.attribute("class") == Some("kt-track"))
                .count(),
            2
        );
        // Only the second row has a filled bar (empty, but a goal of 0 is met).
        assert_eq!(
            doc.descendants()
                .filter(|n| n.attribute("class") == Some("kt-met"))
                .count(),
            1
        );
        assert!(!svg.contains("kt-unmet"));
        let aria = doc.root_element().attribute("aria-label").unwrap_or_default();
        assert!(aria.contains("Huyện Bạch Long Vĩ: không có dữ liệu"), "{aria}");
    }
}
