//! Templates and administrative units, published from the browser: upload
//! a file, see what the checker finds (by item for a template), publish.
//! Both are immutable once published (a template changes by a new version;
//! a unit is closed with `valid_to`, never removed) and reach every device
//! on its next sync.

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kiemtra_core::error::TemplateError;

use super::upload::Upload;
use super::{chrome, forged, gate, FormToken};
use crate::accounts::Area;
use crate::administration as admin;
use crate::app::AppState;
use crate::db::Read;
use crate::error::ServerError;
use crate::forwarded::Https;
use crate::html::Chrome;
use crate::overview::auth::Official;

pub struct TemplateRow {
    pub key: String,
    pub title: String,
    pub items: usize,
    /// Inspections that use this version.
    pub in_use: usize,
}

/// What the checker found in an uploaded template.
pub struct Finding {
    /// The item's code, when the problem is one item's.
    pub item: Option<String>,
    pub reason: String,
}

#[derive(askama::Template)]
#[template(path = "staff/templates.html")]
struct TemplatesPage {
    chrome: Chrome,
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
    findings: Vec<Finding>,
    templates: Vec<TemplateRow>,
}

fn templates_page(
    state: &AppState,
    who: &Official,
    token: FormToken,
    status: StatusCode,
    notice: Option<String>,
    findings: Vec<Finding>,
) -> Response {
    let rows = (|| -> Result<Vec<TemplateRow>, ServerError> {
        let records = state.db.records()?;
        let mut rows: Vec<TemplateRow> = state
            .db
            .templates()?
            .into_iter()
            .map(|t| TemplateRow {
                in_use: records
                    .iter()
                    .filter(|r| r.inspection.template == t.key())
                    .count(),
                key: format!("{}@{}", t.id, t.version),
                items: t.items().count(),
                title: t.title_vi,
            })
            .collect();
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(rows)
    })();
    let templates = match rows {
        Ok(r) => r,
        Err(e) => return super::failure(who, &e),
    };
    let page = TemplatesPage {
        chrome: chrome("Mẫu kiểm tra", who),
        csrf: token.token.clone(),
        error: (!findings.is_empty()).then(|| {
            "Tệp mẫu có lỗi; chưa công bố. / The template has errors; nothing published.".to_string()
        }),
        notice,
        findings,
        templates,
    };
    token.respond(status, &page)
}

pub async fn templates(State(state): State<AppState>, Https(https): Https, headers: HeaderMap) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match FormToken::of(&headers, https) {
        Ok(token) => templates_page(&state, &who, token, StatusCode::OK, None, Vec::new()),
        Err(r) => r,
    }
}

fn finding(e: &ServerError) -> Finding {
    Finding {
        item: None,
        reason: e.to_string(),
    }
}

/// The checker's finding, with the item it is about when it names one.
fn template_finding(e: &TemplateError) -> Finding {
    match e {
        TemplateError::Item { item, reason, .. } => Finding {
            item: Some(item.clone()),
            reason: reason.clone(),
        },
        e => Finding {
            item: None,
            reason: e.to_string(),
        },
    }
}

pub async fn upload_template(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let upload = Upload::read(form, "tệp").await;
    if let Ok(up) = &upload {
        if !crate::csrf::check(&headers, &up.csrf) {
            return forged();
        }
    }
    let token = match FormToken::of(&headers, https) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let up = match upload {
        Ok(up) => up,
        Err(e) => return templates_page(&state, &who, token, e.status(), None, vec![finding(&e)]),
    };
    let checked = match kiemtra_core::template::parse(&up.text) {
        Ok(t) => t,
        Err(e) => {
            let found = vec![template_finding(&e)];
            return templates_page(&state, &who, token, StatusCode::BAD_REQUEST, None, found);
        }
    };
    if up.action != "publish" {
        let note = format!(
            "{}@{} «{}»: {} mục, không có lỗi. Bấm «Công bố» để công bố. / No errors found.",
            checked.id,
            checked.version,
            checked.title_vi,
            checked.items().count()
        );
        return templates_page(&state, &who, token, StatusCode::OK, Some(note), Vec::new());
    }
    let actor = who.actor();
    let text = up.text;
    match state
        .writer
        .run(move |w| admin::publish_template(w, &actor, &text))
        .await
    {
        Ok(p) => {
            let note = if p.new {
                format!("Đã công bố {}; điện thoại nhận được ở lần đồng bộ sau.", p.what)
            } else {
                format!(
                    "{} đã được công bố với đúng nội dung này; không có gì thay đổi.",
                    p.what
                )
            };
            templates_page(&state, &who, token, StatusCode::OK, Some(note), Vec::new())
        }
        Err(e) => templates_page(&state, &who, token, e.status(), None, vec![finding(&e)]),
    }
}

pub struct UnitRow {
    pub code: String,
    pub name: String,
    pub level: String,
    pub valid: String,
}

#[derive(askama::Template)]
#[template(path = "staff/units.html")]
struct UnitsPage {
    chrome: Chrome,
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
    units: Vec<UnitRow>,
}

fn units_page(
    state: &AppState,
    who: &Official,
    token: FormToken,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let units = match crate::writer::current_units(&*state.db) {
        Ok(u) => u,
        Err(e) => return super::failure(who, &e),
    };
    let rows = units
        .all()
        .iter()
        .map(|u| UnitRow {
            code: u.code.clone(),
            name: u.name_vi.clone(),
            level: format!("{:?}", u.level).to_lowercase(),
            valid: match u.valid_to {
                Some(to) => format!(
                    "{} – {}",
                    crate::html::date_vi(u.valid_from),
                    crate::html::date_vi(to)
                ),
                None => format!("từ {}", crate::html::date_vi(u.valid_from)),
            },
        })
        .collect();
    let page = UnitsPage {
        chrome: chrome("Đơn vị hành chính", who),
        csrf: token.token.clone(),
        notice,
        error,
        units: rows,
    };
    token.respond(status, &page)
}

pub async fn units(State(state): State<AppState>, Https(https): Https, headers: HeaderMap) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match FormToken::of(&headers, https) {
        Ok(token) => units_page(&state, &who, token, StatusCode::OK, None, None),
        Err(r) => r,
    }
}

pub async fn upload_units(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let upload = Upload::read(form, "tệp").await;
    if let Ok(up) = &upload {
        if !crate::csrf::check(&headers, &up.csrf) {
            return forged();
        }
    }
    let token = match FormToken::of(&headers, https) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let up = match upload {
        Ok(up) => up,
        Err(e) => return units_page(&state, &who, token, e.status(), None, Some(e.to_string())),
    };
    let actor = who.actor();
    let (name, text) = (up.name, up.text);
    match state
        .writer
        .run(move |w| admin::publish_units(w, &actor, &name, &text))
        .await
    {
        Ok(p) => units_page(&state, &who, token, StatusCode::OK, Some(p.message), None),
        Err(e) => units_page(&state, &who, token, e.status(), None, Some(e.to_string())),
    }
}
