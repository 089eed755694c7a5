//! Importing the establishment list from a CSV file on the running server,
//! with progress. The file is read and every row parsed at once (a wrong
//! header refuses the file, nothing imported); the rows are then imported
//! in the background by `administration::import_facilities`, a chunk per
//! commit with its audit entry. The progress page reloads itself (a `<meta>` refresh:
//! the pages run no scripts) until the import is done, then lists every
//! refused line with its reason.
//!
//! The progress is kept in the short-lived store every server instance
//! shares (`Expiring`), so the page reloads on any instance; it lives a day
//! after its last change. If it is lost (a restart on sled), what was
//! imported stays (each chunk committed durably); importing the same file
//! again updates by tax code, so nothing doubles.

use std::sync::{Arc, Mutex};
use std::time::Duration;

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
use crate::storage::{Expiring, Kind};

/// How long an import's page lasts after its last change.
const JOB_TTL: Duration = Duration::from_secs(24 * 3600);

/// The imports started on any server instance, by number.
pub struct Imports {
    store: Arc<dyn Expiring>,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
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
    pub fn new(store: Arc<dyn Expiring>) -> Self {
        Self { store }
    }

    /// Records a new import; returns its number. Random, not counted: the
    /// instances share no counter, and a number says nothing of how many
    /// imports there were.
    fn start(&self, job: &Job) -> Result<u64, ServerError> {
        let value = encode(job)?;
        loop {
            let mut raw = [0u8; 8];
            getrandom::fill(&mut raw)
                .map_err(|e| ServerError::Storage(format!("the random source failed: {e}")))?;
            // 53 bits: the number stays exact wherever it is read as a float.
            let id = u64::from_be_bytes(raw) >> 11;
            if id != 0
                && self
                    .store
                    .insert_new(Kind::Import, &id.to_be_bytes(), &value, JOB_TTL)?
            {
                return Ok(id);
            }
        }
    }

    fn save(&self, id: u64, job: &Job) -> Result<(), ServerError> {
        self.store
            .put(Kind::Import, &id.to_be_bytes(), &encode(job)?, JOB_TTL)?;
        Ok(())
    }

    fn get(&self, id: u64) -> Result<Option<Job>, ServerError> {
        self.store
            .get(Kind::Import, &id.to_be_bytes())?
            .map(|v| {
                serde_json::from_slice(&v)
                    .map_err(|e| ServerError::Storage(format!("an import's progress: {e}")))
            })
            .transpose()
    }
}

fn encode(job: &Job) -> Result<Vec<u8>, ServerError> {
    serde_json::to_vec(job).map_err(|e| ServerError::Storage(format!("an import's progress: {e}")))
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
    let job = Job {
        file: name.clone(),
        by: who.name.clone(),
        rows: rows.len(),
        done: 0,
        report: ImportReport::default(),
        failed: None,
        finished: false,
    };
    let id = match state.imports.start(&job) {
        Ok(id) => id,
        Err(e) => return super::failure(&who, &e),
    };
    tokio::spawn(run(state.clone(), id, job, who.actor(), rows));
    redirect(&format!("/admin/imports/{id}"))
}

/// Imports `rows` a chunk per commit, recording the progress. This task is
/// the job's only writer, so it keeps the job and stores it whole.
async fn run(state: AppState, id: u64, job: Job, actor: Actor, rows: Vec<Row>) {
    let file = job.file.clone();
    let job = Mutex::new(job);
    let save = |change: &dyn Fn(&mut Job)| {
        let mut j = job.lock().unwrap_or_else(|p| p.into_inner());
        change(&mut j);
        // The page is a view of the import, not the import: a failure to
        // show progress does not stop it.
        if let Err(e) = state.imports.save(id, &j) {
            tracing::warn!(error = %e, "an import's progress was not saved");
        }
    };
    let progress = |done: usize, report: &ImportReport| {
        save(&|j: &mut Job| {
            j.done = done;
            j.report = report.clone();
        })
    };
    let outcome =
        crate::administration::import_facilities(&state.writer, &actor, &file, rows, progress).await;
    if let Err(e) = &outcome {
        tracing::warn!(error = %e, "an establishment import stopped");
    }
    let failed = outcome.err().map(|e| e.to_string());
    save(&|j: &mut Job| {
        j.failed.clone_from(&failed);
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
    let job = match state.imports.get(id) {
        Ok(job) => job,
        Err(e) => return super::failure(&who, &e),
    };
    let Some(job) = job else {
        return super::failure(
            &who,
            &ServerError::NotFound(
                "this import (its page is kept for a day; a restart of a server on sled forgets it)".into(),
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
