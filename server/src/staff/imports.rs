//! Importing the establishment list from a CSV file on the running server,
//! with progress. The file is read and every row parsed at once (a wrong
//! header refuses the file, nothing imported); the rows are then imported
//! in the background by `administration::import_facilities`, a chunk per
//! commit with its audit entry. The progress page reloads itself (a `<meta>` refresh:
//! the pages run no scripts) until the import is done, then lists every
//! refused line with its reason.
//!
//! The progress is kept in the server's memory: after a restart the page
//! is gone, and what was imported stays (each chunk committed durably);
//! importing the same file again updates by tax code, so nothing doubles.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::upload::Upload;
use super::{chrome, forged, gate, FormToken};
use crate::accounts::Area;
use crate::app::AppState;
use crate::audit::Actor;
use crate::csv_import::{ImportReport, Row};
use crate::error::ServerError;
use crate::forwarded::Https;
use crate::html::{redirect, Chrome};

/// Finished imports kept for their pages; older ones are forgotten.
const KEEP: usize = 100;

/// The imports of this server instance, by number.
#[derive(Default)]
pub struct Imports {
    jobs: Mutex<HashMap<u64, Job>>,
    next: Mutex<u64>,
}

#[derive(Clone)]
struct Job {
    file: String,
    by: String,
    rows: usize,
    done: usize,
    report: ImportReport,
    /// Set when the import stopped on a storage failure (the chunks before it are imported).
    failed: Option<String>,
    finished: bool,
}

impl Imports {
    fn start(&self, file: String, by: String, rows: usize) -> u64 {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        *next += 1;
        let id = *next;
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if jobs.len() >= KEEP {
            if let Some(oldest) = jobs.iter().filter(|(_, j)| j.finished).map(|(k, _)| *k).min() {
                jobs.remove(&oldest);
            }
        }
        jobs.insert(
            id,
            Job {
                file,
                by,
                rows,
                done: 0,
                report: ImportReport::default(),
                failed: None,
                finished: false,
            },
        );
        id
    }

    fn update(&self, id: u64, f: impl FnOnce(&mut Job)) {
        if let Some(j) = self.jobs.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&id) {
            f(j);
        }
    }

    fn get(&self, id: u64) -> Option<Job> {
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }
}

#[derive(askama::Template)]
#[template(path = "staff/import_form.html")]
struct FormPage {
    chrome: Chrome,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    columns: String,
}

fn form_page(
    who: &crate::overview::auth::Official,
    token: FormToken,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let page = FormPage {
        chrome: chrome("Nhập danh sách cơ sở", who),
        csrf: token.token.clone(),
        notice: None,
        error,
        columns: crate::csv_import::COLUMNS.join(","),
    };
    token.respond(status, &page)
}

pub async fn form(State(state): State<AppState>, Https(https): Https, headers: HeaderMap) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match FormToken::of(&headers, https) {
        Ok(token) => form_page(&who, token, StatusCode::OK, None),
        Err(r) => r,
    }
}

pub async fn start(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let upload = Upload::read(form, "tệp CSV").await;
    if let Ok(up) = &upload {
        if !crate::csrf::check(&headers, &up.csrf) {
            return forged();
        }
    }
    let parsed = upload.and_then(|up| Ok((up.name, crate::csv_import::parse(&up.text)?)));
    let (name, rows) = match parsed {
        Ok(p) => p,
        Err(e) => {
            return match FormToken::of(&headers, https) {
                Ok(token) => form_page(&who, token, e.status(), Some(e.to_string())),
                Err(r) => r,
            }
        }
    };
    let id = state.imports.start(name.clone(), who.name.clone(), rows.len());
    tokio::spawn(run(state.clone(), id, name, who.actor(), rows));
    redirect(&format!("/admin/imports/{id}"))
}

/// Imports `rows` a chunk per commit, recording the progress.
async fn run(state: AppState, id: u64, file: String, actor: Actor, rows: Vec<Row>) {
    let imports = state.imports.clone();
    let progress = |done: usize, report: &ImportReport| {
        imports.update(id, |j| {
            j.done = done;
            j.report = report.clone();
        })
    };
    let outcome =
        crate::administration::import_facilities(&state.writer, &actor, &file, rows, progress).await;
    state.imports.update(id, |j| {
        if let Err(e) = &outcome {
            tracing::warn!(error = %e, "an establishment import stopped");
            j.failed = Some(e.to_string());
        }
        j.finished = true;
    });
}

#[derive(askama::Template)]
#[template(path = "staff/import_progress.html")]
struct ProgressPage {
    chrome: Chrome,
    file: String,
    by: String,
    rows: usize,
    done: usize,
    percent: usize,
    imported: usize,
    refused: Vec<(u64, String)>,
    failed: Option<String>,
    finished: bool,
}

pub async fn progress(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Some(job) = state.imports.get(id) else {
        return super::failure(
            &who,
            &ServerError::NotFound(
                "this import (the server forgets an import's page when it restarts)".into(),
            ),
        );
    };
    let page = ProgressPage {
        chrome: chrome("Nhập danh sách cơ sở", &who),
        percent: (job.done * 100).checked_div(job.rows).unwrap_or(100),
        file: job.file,
        by: job.by,
        rows: job.rows,
        done: job.done,
        imported: job.report.imported,
        refused: job.report.refused,
        failed: job.failed,
        finished: job.finished,
    };
    crate::html::respond(StatusCode::OK, &page)
}
