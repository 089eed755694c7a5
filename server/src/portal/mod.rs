//! The establishment's portal (*cổng tra cứu của cơ sở*): opened with the
//! access code printed on the minutes, it shows that inspection's minutes,
//! whether every signature verifies, the violations with their deadlines
//! and the photos; it takes remediation reports (text and photos, through
//! the same photo pipeline as the inspectors') and accident declarations.
//!
//! Isolation is structural: after the code, every page reads the session's
//! grant (one inspection of one establishment) and nothing else; no URL
//! carries an id that could name another establishment's record, and a
//! photo is served only if that inspection shows it.

// Handlers pass a finished `Response` as their early-return value: it is
// large, but boxing it on every page would add noise for no gain.
#![allow(clippy::result_large_err)]

pub mod pages;
pub mod session;
pub mod view;

use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{NaiveDateTime, TimeZone};
use kiemtra_core::access_code::AccessCode;
use kiemtra_core::accident::{Declarant, NewAccident};
use kiemtra_core::evidence::PhotoRecord;
use kiemtra_core::minutes::{render_html, render_pdf, RenderOptions};
use kiemtra_core::photo::{normalise, PhotoConfig};
use kiemtra_core::record::MAX_REMEDIATION_PHOTOS;
use serde::Deserialize;
use tower_http::limit::RequestBodyLimitLayer;

use self::session::{cookie, set_cookie, Gate, COOKIE, SESSION_TTL};
use self::view::PortalView;
use crate::app::AppState;
use crate::csrf;
use crate::db::{PortalGrant, Read};
use crate::error::ServerError;
use crate::forwarded::{ClientIp, Https};
use crate::html::{html, redirect, respond, with_cookie, Notice};

/// Largest remediation upload: ten phone photos.
const MAX_UPLOAD_BYTES: usize = 80 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    let upload = Router::new()
        .route("/portal/violations/{item}", get(violation_page).post(send_report))
        .layer(RequestBodyLimitLayer::new(MAX_UPLOAD_BYTES))
        .layer(DefaultBodyLimit::disable());
    Router::new()
        .route("/portal", get(login_page).post(open_with_code))
        .route("/verify/{hash}", get(verify_link))
        .route("/portal/inspection", get(inspection_page))
        .route("/portal/minutes", get(minutes_page))
        .route("/portal/minutes.pdf", get(minutes_pdf))
        .route("/portal/photos/{sha256}", get(photo))
        .route("/portal/accident", get(accident_page).post(declare_accident))
        .route("/portal/logout", post(logout))
        .merge(upload)
}

/// Errors as pages: the portal is read by people, not programs.
fn problem(e: ServerError) -> Response {
    let status = e.status();
    let (title, text) = match status {
        StatusCode::NOT_FOUND => ("Không tìm thấy", "Không có nội dung này.".to_string()),
        StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE => ("Dữ liệu không hợp lệ", e.to_string()),
        _ => {
            tracing::error!(error = %e, "portal request failed");
            (
                "Lỗi máy chủ",
                "Không xử lý được yêu cầu, vui lòng thử lại sau.".to_string(),
            )
        }
    };
    respond(status, &pages::problem(title, &text))
}

/// A portal page with a form: rendered with this browser's form token
/// (`crate::csrf`), and the token's cookie when it is new.
fn form_page<T: askama::Template>(
    headers: &HeaderMap,
    https: bool,
    status: StatusCode,
    render: impl FnOnce(&str) -> T,
) -> Response {
    csrf::form_page(headers, https, status, render).unwrap_or_else(problem)
}

const FORGED: &str = "Biểu mẫu đã hết hạn hoặc không gửi từ trang này (CSRF). Hãy tải lại trang và thử lại.";

/// The answer to a form whose token does not match its cookie (a page of
/// another site posting here, or a form older than its cookie): nothing is
/// done, and the page says to reload the form.
fn forged(headers: &HeaderMap, https: bool) -> Response {
    form_page(headers, https, StatusCode::FORBIDDEN, |_| {
        pages::problem_in_session("Biểu mẫu không hợp lệ", FORGED)
    })
}

/// A form with no field but its token (the sign-out button).
#[derive(Deserialize)]
struct TokenOnly {
    #[serde(default)]
    csrf: String,
}

/// The grant of the request's portal session. Without a live session the
/// request is answered with a redirect to the code form, before any handler
/// runs: no page can be reached without a grant.
pub struct Session(pub PortalGrant);

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match session::session_grant(&*state.db, &parts.headers) {
            Ok(Some(grant)) => Ok(Session(grant)),
            Ok(None) => Err(redirect("/portal")),
            Err(e) => Err(problem(e)),
        }
    }
}

async fn load(state: &AppState, grant: PortalGrant) -> Result<PortalView, Response> {
    let s = state.clone();
    tokio::task::spawn_blocking(move || PortalView::load(&s, grant))
        .await
        .map_err(|e| problem(ServerError::Storage(e.to_string())))?
        .map_err(problem)
}

#[derive(Deserialize)]
struct CodeQuery {
    code: Option<String>,
}

async fn login_page(Https(https): Https, headers: HeaderMap, Query(q): Query<CodeQuery>) -> Response {
    let code = q.code.as_deref().unwrap_or("");
    form_page(&headers, https, StatusCode::OK, |csrf| {
        pages::login(code, None, csrf)
    })
}

/// The QR code's target: the verify URL with the access code.
async fn verify_link(
    Https(https): Https,
    headers: HeaderMap,
    Path(_hash): Path<String>,
    Query(q): Query<CodeQuery>,
) -> Response {
    let notice = q.code.is_none().then(|| {
        Notice::info(
            "Biên bản có thể được xác thực ngoại tuyến bằng tệp ký số đính kèm trong bản PDF; cơ sở được kiểm tra nhập mã tra cứu để xem chi tiết.",
        )
    });
    let code = q.code.as_deref().unwrap_or("");
    form_page(&headers, https, StatusCode::OK, |csrf| {
        pages::login(code, notice, csrf)
    })
}

/// Fields default to empty so that a post without the token gets the CSRF
/// page, not a bare extractor rejection.
#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

const WRONG_CODE: &str = "Mã tra cứu không đúng. Kiểm tra lại mã in trên biên bản.";

async fn open_with_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    // Before the code is looked at: a forged form neither opens a session
    // nor counts as a wrong code.
    if !csrf::check(&headers, &f.csrf) {
        return form_page(&headers, https, StatusCode::FORBIDDEN, |csrf| {
            pages::login("", Some(Notice::error(FORGED)), csrf)
        });
    }
    let gate = match state.portal.gate(ip) {
        Ok(g) => g,
        Err(e) => return problem(e),
    };
    if let Gate::Locked(wait) = gate {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let text = format!("Đã nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.");
        return form_page(&headers, https, StatusCode::TOO_MANY_REQUESTS, |csrf| {
            pages::login("", Some(Notice::error(text)), csrf)
        });
    }
    let grant = match AccessCode::parse(&f.code) {
        Ok(code) => {
            let db = state.db.clone();
            let hash = code.hash();
            match tokio::task::spawn_blocking(move || db.portal_grant(&hash)).await {
                Ok(Ok(g)) => g,
                Ok(Err(e)) => return problem(e),
                Err(e) => return problem(ServerError::Storage(e.to_string())),
            }
        }
        Err(_) => None,
    };
    // A malformed code and an unknown one get the same answer and both count.
    let Some(grant) = grant else {
        if let Err(e) = state.portal.failed(ip) {
            return problem(e);
        }
        return form_page(&headers, https, StatusCode::UNAUTHORIZED, |csrf| {
            pages::login("", Some(Notice::error(WRONG_CODE)), csrf)
        });
    };
    let opened = state
        .writer
        .run(move |w| w.open_portal_session(grant, SESSION_TTL))
        .await;
    let token = match opened {
        Ok(t) => t,
        Err(e) => return problem(e),
    };
    let cookie = set_cookie(COOKIE, &token, "/", https, Some(SESSION_TTL.as_secs()));
    with_cookie(redirect("/portal/inspection"), &cookie)
}

async fn logout(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<TokenOnly>,
) -> Response {
    if !csrf::check(&headers, &f.csrf) {
        return forged(&headers, https);
    }
    if let Some(token) = cookie(&headers, COOKIE) {
        let closed = state
            .writer
            .run(move |w| {
                w.close_portal_session(&token);
                Ok(())
            })
            .await;
        if let Err(e) = closed {
            return problem(e);
        }
    }
    with_cookie(redirect("/portal"), &set_cookie(COOKIE, "", "/", https, Some(0)))
}

async fn inspection_page(
    State(state): State<AppState>,
    Session(grant): Session,
    Https(https): Https,
    headers: HeaderMap,
) -> Response {
    match load(&state, grant).await {
        Ok(view) => form_page(&headers, https, StatusCode::OK, |csrf| {
            pages::inspection(&view, csrf)
        }),
        Err(r) => r,
    }
}

/// The verify URL as this request reached the server, so that the printed
/// link and the QR code open from a phone (`Host` as the client sent it).
fn render_options(https: bool, headers: &HeaderMap, view: &PortalView) -> RenderOptions {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = if https { "https" } else { "http" };
    // The server keeps only the code's hash: the code is on the establishment's copy.
    let options = RenderOptions::new(&format!("{scheme}://{host}/verify"));
    if view
        .minutes
        .as_ref()
        .is_some_and(|m| m.access_code_hash.is_some())
    {
        options.with_code_elsewhere()
    } else {
        options
    }
}

async fn minutes_page(
    State(state): State<AppState>,
    Session(grant): Session,
    Https(https): Https,
    headers: HeaderMap,
) -> Response {
    let view = match load(&state, grant).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(signed) = &view.signed else {
        return problem(ServerError::NotFound("minutes".into()));
    };
    match render_html(signed, &render_options(https, &headers, &view)) {
        // A way back to the portal, above the document and not printed.
        Ok(page) => html(
            StatusCode::OK,
            page.replacen(
                "<body>\n",
                "<body>\n<nav style=\"margin:8px 0\" class=\"noprint\"><a href=\"/portal/inspection\">← Kết quả kiểm tra</a> · <a href=\"/portal/minutes.pdf\">Tải PDF</a></nav>\n<style>@media print { nav.noprint { display: none; } }</style>\n",
                1,
            ),
        ),
        Err(e) => problem(ServerError::Core(e.into())),
    }
}

async fn minutes_pdf(
    State(state): State<AppState>,
    Session(grant): Session,
    Https(https): Https,
    headers: HeaderMap,
) -> Response {
    let s = state.clone();
    let made = tokio::task::spawn_blocking(move || -> Result<(Vec<u8>, String), ServerError> {
        let view = PortalView::load(&s, grant)?;
        let bundle = view
            .bundle(&s)?
            .ok_or_else(|| ServerError::NotFound("minutes".into()))?;
        let signed = view
            .signed
            .as_ref()
            .ok_or_else(|| ServerError::NotFound("minutes".into()))?;
        let options = render_options(https, &headers, &view);
        let pdf = render_pdf(signed, &bundle, &options).map_err(kiemtra_core::Error::from)?;
        Ok((pdf, bundle.file_name().replace(".cbor", ".pdf")))
    })
    .await;
    match made {
        Ok(Ok((pdf, name))) => {
            let mut r = pdf.into_response();
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
            if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
                r.headers_mut().insert(axum::http::header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Ok(Err(e)) => problem(e),
        Err(e) => problem(ServerError::Storage(e.to_string())),
    }
}

async fn photo(
    State(state): State<AppState>,
    Session(grant): Session,
    Path(sha256): Path<String>,
) -> Response {
    let served = tokio::task::spawn_blocking(move || {
        let record = view::granted_record(&state.db, grant)?;
        let Some(declared) = view::declared_blob(&record, &sha256) else {
            return Ok(None);
        };
        Ok::<_, ServerError>(Some(view::received_image(state.blobs.as_ref(), &declared)?))
    })
    .await;
    match served {
        Ok(Ok(Some(Some(bytes)))) => {
            let mut r = bytes.into_response();
            let h = r.headers_mut();
            // Bytes a device uploaded: a browser must never guess them to be
            // anything but the image declared (HTML, script); the
            // `nosniff` that ensures it is on every response
            // (`crate::security_headers`).
            h.insert(CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
            r
        }
        // Shown by the record, but not (yet) here as the image it declares.
        Ok(Ok(Some(None))) => respond(
            StatusCode::NOT_FOUND,
            &pages::problem(
                "Ảnh chưa nhận được",
                "Máy chủ chưa nhận được ảnh này từ thiết bị của đoàn kiểm tra (photo not yet received).",
            ),
        ),
        Ok(Ok(None)) => problem(ServerError::NotFound("photo".into())),
        Ok(Err(e)) => problem(e),
        Err(e) => problem(ServerError::Storage(e.to_string())),
    }
}

async fn violation_page(
    State(state): State<AppState>,
    Session(grant): Session,
    Path(item): Path<String>,
    Query(q): Query<SentQuery>,
    Https(https): Https,
    headers: HeaderMap,
) -> Response {
    let view = match load(&state, grant).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(v) = view.violations.iter().find(|v| v.item == item) else {
        return problem(ServerError::NotFound("violation".into()));
    };
    let notice = q.sent.then(|| {
        Notice::success("Đã nhận báo cáo khắc phục. Đoàn kiểm tra sẽ xem xét và cập nhật trạng thái.")
    });
    form_page(&headers, https, StatusCode::OK, |csrf| {
        pages::violation(&view, v, notice, csrf)
    })
}

#[derive(Deserialize)]
struct SentQuery {
    #[serde(default)]
    sent: bool,
}

/// A remediation report's multipart form.
#[derive(Default)]
struct Report {
    /// The form token (`crate::csrf`), a field of the body like the others.
    csrf: String,
    sent_by: String,
    text: String,
    files: Vec<Vec<u8>>,
}

/// Reads the multipart form: form token, sender, text and photo files.
async fn read_report(mut form: Multipart) -> Result<Report, ServerError> {
    let bad = |e: axum::extract::multipart::MultipartError| ServerError::Invalid(e.body_text());
    let mut report = Report::default();
    let Report {
        csrf,
        sent_by,
        text,
        files,
    } = &mut report;
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "csrf" => *csrf = field.text().await.map_err(bad)?,
            "sent_by" => *sent_by = field.text().await.map_err(bad)?,
            "text" => *text = field.text().await.map_err(bad)?,
            "photos" => {
                let bytes = field.bytes().await.map_err(bad)?;
                // A file input left empty still sends one empty part.
                if !bytes.is_empty() {
                    if files.len() == MAX_REMEDIATION_PHOTOS {
                        return Err(ServerError::Invalid(format!(
                            "at most {MAX_REMEDIATION_PHOTOS} photos per report"
                        )));
                    }
                    files.push(bytes.to_vec());
                }
            }
            _ => {}
        }
    }
    Ok(report)
}

/// A remediation report: every photo is normalised first (a bad file
/// refuses the whole report and nothing is recorded), the blobs are stored
/// by hash, then the report is recorded as an operation for the inspectors.
async fn send_report(
    State(state): State<AppState>,
    Session(grant): Session,
    Path(item): Path<String>,
    Https(https): Https,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let Report {
        csrf: token,
        sent_by,
        text,
        files,
    } = match read_report(form).await {
        Ok(r) => r,
        Err(e) => return problem(e),
    };
    // Before any photo is decoded or stored.
    if !csrf::check(&headers, &token) {
        return forged(&headers, https);
    }
    // By the rules every replica checks the operation with (a browser sends
    // a textarea's line breaks as CR LF), before any photo is stored.
    let normal = kiemtra_core::text::SENT_BY
        .required(&sent_by)
        .and_then(|by| Ok((by, kiemtra_core::text::REMEDIATION_TEXT.required(&text)?)));
    let (sent_by, text) = match normal {
        Ok(t) => t,
        Err(e) => return problem(e.into()),
    };
    let s = state.clone();
    let item2 = item.clone();
    let prepared = tokio::task::spawn_blocking(move || -> Result<Vec<PhotoRecord>, ServerError> {
        let view = PortalView::load(&s, grant)?;
        if !view.violations.iter().any(|v| v.item == item2) {
            return Err(ServerError::NotFound("violation".into()));
        }
        let config = PhotoConfig::default();
        let mut normalised = Vec::new();
        for bytes in &files {
            normalised.push(normalise(bytes, &config).map_err(kiemtra_core::Error::from)?);
        }
        let mut photos = Vec::new();
        for n in normalised {
            for image in [&n.image, &n.thumbnail] {
                let hash = hex::encode(image.sha256);
                s.blobs
                    .put_chunk(&hash, 0, image.bytes.len() as u64, &image.bytes)?;
            }
            photos.push(PhotoRecord::from_normalised(
                &n,
                Some(item2.clone()),
                Some("Ảnh khắc phục do cơ sở gửi".into()),
                None,
            ));
        }
        Ok(photos)
    })
    .await;
    let photos = match prepared {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return problem(e),
        Err(e) => return problem(ServerError::Storage(e.to_string())),
    };
    let target = item.clone();
    let recorded = state
        .writer
        .run(move |w| w.report_remediation(grant.inspection, &target, &sent_by, &text, photos))
        .await;
    match recorded {
        Ok(_) => redirect(&format!("/portal/violations/{item}?sent=true")),
        Err(e) => problem(e),
    }
}

async fn accident_page(
    State(state): State<AppState>,
    Session(grant): Session,
    Https(https): Https,
    headers: HeaderMap,
) -> Response {
    match load(&state, grant).await {
        Ok(view) => form_page(&headers, https, StatusCode::OK, |csrf| {
            pages::accident_form(&view, None, csrf)
        }),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct AccidentForm {
    occurred_at: String,
    place: String,
    #[serde(default)]
    deaths: u32,
    #[serde(default)]
    seriously_injured: u32,
    #[serde(default)]
    lightly_injured: u32,
    #[serde(default)]
    victims: String,
    account: String,
    person: String,
    #[serde(default)]
    csrf: String,
}

/// `YYYY-MM-DDTHH:MM` as a browser's datetime-local sends it, Vietnam time.
pub fn parse_local(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let t = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    kiemtra_core::inspection::vietnam_offset()
        .from_local_datetime(&t)
        .single()
        .map(|t| t.with_timezone(&chrono::Utc))
}

async fn declare_accident(
    State(state): State<AppState>,
    Session(grant): Session,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<AccidentForm>,
) -> Response {
    if !csrf::check(&headers, &f.csrf) {
        return forged(&headers, https);
    }
    let view = match load(&state, grant).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(occurred_at) = parse_local(&f.occurred_at) else {
        return form_page(&headers, https, StatusCode::BAD_REQUEST, |csrf| {
            pages::accident_form(&view, Some(Notice::error("Thời gian xảy ra không hợp lệ.")), csrf)
        });
    };
    let new = NewAccident {
        occurred_at,
        place: f.place,
        unit: view.facility.address.unit.clone(),
        facility: Some(grant.facility),
        without_contract: false,
        deaths: f.deaths,
        seriously_injured: f.seriously_injured,
        lightly_injured: f.lightly_injured,
        victims: f.victims.lines().map(str::to_string).collect(),
        account: f.account,
        needs_examination: false,
    };
    let by = Declarant::Establishment {
        facility: grant.facility,
        person: kiemtra_core::text::normalise(&f.person),
    };
    match state.writer.run(move |w| w.declare_accident(new, by)).await {
        Ok(a) => {
            let text = format!(
                "Đã ghi nhận khai báo lúc {} (mã {}).",
                crate::html::datetime_vi(a.declared_at),
                a.id
            );
            form_page(&headers, https, StatusCode::OK, |csrf| {
                pages::accident_form(&view, Some(Notice::success(text)), csrf)
            })
        }
        Err(e @ (ServerError::Core(_) | ServerError::Invalid(_))) => {
            let text = format!("Khai báo chưa hợp lệ: {e}");
            form_page(&headers, https, StatusCode::BAD_REQUEST, |csrf| {
                pages::accident_form(&view, Some(Notice::error(text)), csrf)
            })
        }
        Err(e) => problem(e),
    }
}
