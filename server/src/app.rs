//! The HTTP application: shared state, routes and the launch functions.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Serialize;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::api;
use crate::auth::{Auth, BodyLimit};
use crate::commit::CommitHandle;
use crate::db::{Read, ServerDb};
use crate::error::ServerError;
use crate::overview::second_factor::PendingSignIns;
use crate::portal::session::Portal;
use crate::server_key::ServerKey;
use crate::storage::{BlobStore, Expiring, FsBlobStore, Kind, MemoryExpiring, Storage};
use crate::writer::{open_dir, Writer};

/// The folder of the data folder that holds uploaded blobs.
pub const BLOB_DIR: &str = "blob-store";

/// The server's limits, announced in `GET /api/v1/capabilities`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest body of a push (and of any request but a blob chunk).
    pub max_body_bytes: usize,
    /// Largest blob chunk per `PUT`.
    pub max_chunk_bytes: usize,
    pub max_push_ops: u32,
    /// Largest blob, whatever its chunks.
    pub max_blob_bytes: u64,
    pub pull_default: u32,
    pub pull_max: u32,
    /// Small unauthenticated bodies (enrolment, challenge, session).
    pub max_auth_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 8 * 1024 * 1024,
            max_chunk_bytes: 4 * 1024 * 1024,
            max_push_ops: 1000,
            max_blob_bytes: 1024 * 1024 * 1024,
            pull_default: 500,
            pull_max: 2000,
            max_auth_body_bytes: 64 * 1024,
        }
    }
}

/// What every handler shares. Handlers reach the storage and the blobs only
/// through their traits, so other engines can be plugged in; they read the
/// committed state (`db`) and change it only through the writer.
#[derive(Clone)]
pub struct AppState {
    pub db: Arc<ServerDb>,
    pub blobs: Arc<dyn BlobStore>,
    pub writer: CommitHandle,
    pub auth: Arc<Auth>,
    pub limits: Limits,
    /// Portal sessions and the limit on guessing access codes.
    pub portal: Arc<crate::portal::session::Portal>,
    /// The limit on guessing staff passwords and admin tokens, per client address.
    pub staff_logins: Arc<crate::portal::session::Portal>,
    /// Sign-ins whose password was right and whose second factor's code is awaited.
    pub pending_sign_ins: Arc<crate::overview::second_factor::PendingSignIns>,
    /// Cookies get `Secure` when the server speaks HTTPS.
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`serve --trusted-proxy`).
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    /// Establishment imports started from the staff pages, with their progress.
    pub imports: Arc<crate::staff::Imports>,
    /// Short-lived entries every instance on the same storage shares
    /// (challenges, device sessions, nonces, guessing counts, pending
    /// sign-ins, import progress): in memory on sled, in the database on PostgreSQL.
    pub expiring: Arc<dyn Expiring>,
}

impl AppState {
    /// Opens the data folder `dir` (sled with `cache_bytes` of cache, blobs in
    /// `dir/blob-store`), seeds demo data once if asked, and starts the committer.
    pub fn open(dir: &Path, cache_bytes: u64, demo: bool) -> Result<Self, ServerError> {
        let opened = open_dir(dir, cache_bytes)?;
        // Not `dir/blobs`: sled keeps its own large values there, garbage-collects
        // by file name at open, and `Durability` fsyncs every file in it.
        let blobs: Arc<dyn BlobStore> = Arc::new(FsBlobStore::open(&dir.join(BLOB_DIR))?);
        Self::on(opened.store, blobs, opened.key, demo.then_some(dir))
    }

    /// Serves the PostgreSQL database at `url` (which also keeps the server
    /// key), with the blobs in the data folder `dir` (created if missing).
    pub fn open_postgres(url: &str, dir: &Path, demo: bool) -> Result<Self, ServerError> {
        let pg = kiemtra_storage_postgres::PgStorage::open(url)
            .map_err(|e| ServerError::Storage(e.to_string()))?;
        // Shared with every other instance on this database.
        let expiring: Arc<dyn Expiring> = Arc::new(pg.expiring());
        let store: Arc<dyn Storage> = Arc::new(pg);
        std::fs::create_dir_all(dir)?;
        let key = Arc::new(ServerKey::in_storage(&*store, dir)?);
        let blobs: Arc<dyn BlobStore> = Arc::new(FsBlobStore::open(&dir.join(BLOB_DIR))?);
        Self::on_shared(store, blobs, key, expiring, demo.then_some(dir))
    }

    /// [`AppState::on_shared`] with the short-lived entries in this
    /// process's memory: for a store only this instance serves (sled, whose
    /// folder is locked, and tests).
    pub fn on(
        store: Arc<dyn Storage>,
        blobs: Arc<dyn BlobStore>,
        key: Arc<ServerKey>,
        demo: Option<&Path>,
    ) -> Result<Self, ServerError> {
        Self::on_shared(store, blobs, key, Arc::new(MemoryExpiring::new()), demo)
    }

    /// Serves `store` and `blobs`: checks that the records are the merge of
    /// the log (rebuilding them if not), purges expired sessions, seeds demo
    /// data into `demo` if given, and starts the committer. `expiring`
    /// holds the short-lived entries shared with the other instances.
    pub fn on_shared(
        store: Arc<dyn Storage>,
        blobs: Arc<dyn BlobStore>,
        key: Arc<ServerKey>,
        expiring: Arc<dyn Expiring>,
        demo: Option<&Path>,
    ) -> Result<Self, ServerError> {
        let db = Arc::new(ServerDb::on(store.clone())?);
        let report = crate::replay::check_and_repair(&*store)?;
        if report.holds() {
            tracing::info!(%report, "storage checked");
        } else {
            // Said where an operator looks, not only in the trace.
            eprintln!("kiemtra-server: {report}; rebuilt them from the log");
            tracing::warn!(%report, "records rebuilt from the log");
        }
        let mut writer = Writer::new(store, key)?;
        // What follows reads, then writes: one turn, as a group would.
        writer.begin_group();
        let purged = writer.purge_sessions(chrono::Utc::now().timestamp())?;
        if let Some(dir) = demo {
            if crate::demo::seed(&mut writer, dir)? {
                tracing::info!("demo data seeded");
            }
        }
        writer.commit()?;
        tracing::debug!(purged, "expired sessions purged");
        Ok(Self {
            db,
            blobs,
            writer: CommitHandle::start(writer)?,
            auth: Arc::new(Auth::new(expiring.clone())),
            limits: Limits::default(),
            portal: Arc::new(Portal::new(
                Default::default(),
                expiring.clone(),
                Kind::PortalGuesses,
            )),
            staff_logins: Arc::new(Portal::new(
                Default::default(),
                expiring.clone(),
                Kind::StaffGuesses,
            )),
            pending_sign_ins: Arc::new(PendingSignIns::new(expiring.clone())),
            secure_cookies: false,
            trusted_proxies: Arc::new(Vec::new()),
            imports: Arc::new(crate::staff::Imports::new(expiring.clone())),
            expiring,
        })
    }
}

/// A group of routes sharing one body limit.
fn limited(routes: Router<AppState>, limit: usize) -> Router<AppState> {
    routes
        .layer(Extension(BodyLimit(limit)))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(DefaultBodyLimit::disable())
}

pub fn router(state: AppState) -> Router {
    let limits = state.limits;
    let open = Router::new()
        .route("/api/v1/enrol", post(api::enrol::enrol))
        .route("/api/v1/auth/challenge", post(api::session::challenge))
        .route("/api/v1/auth/session", post(api::session::session));
    let ops = Router::new().route("/api/v1/ops", post(api::ops::push).get(api::ops::pull));
    let blobs = Router::new()
        .route("/api/v1/blobs/{hash}/status", get(api::blobs::status))
        .route("/api/v1/blobs/{hash}", get(api::blobs::get).put(api::blobs::put));
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/templates", get(templates))
        .route("/api/v1/capabilities", get(api::capabilities::capabilities))
        .merge(limited(api::admin::routes(), limits.max_body_bytes))
        .merge(limited(open, limits.max_auth_body_bytes))
        .merge(limited(ops, limits.max_body_bytes))
        .merge(limited(blobs, limits.max_chunk_bytes))
        .merge(crate::portal::routes())
        .merge(crate::overview::routes())
        .merge(crate::staff::routes())
        .layer(axum::middleware::map_response(json_too_large))
        .layer(axum::middleware::map_response(crate::security_headers::add))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// tower-http answers an oversized body (by its Content-Length) with plain
/// text before any handler runs; devices expect every error as JSON.
async fn json_too_large(res: Response) -> Response {
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        let body = serde_json::json!({
            "error": "the request body is larger than this endpoint accepts (see /api/v1/capabilities)",
            "code": "too_large",
        });
        return axum::response::IntoResponse::into_response((StatusCode::PAYLOAD_TOO_LARGE, Json(body)));
    }
    res
}

/// Serves plain HTTP on an already bound listener until `shutdown`
/// resolves, so tests can bind port 0.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves HTTPS (rustls, ring) with a PEM certificate chain and key.
pub async fn serve_tls(
    listener: std::net::TcpListener,
    state: AppState,
    cert: &Path,
    key: &Path,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Installing twice (tests, several servers) is harmless: the first one stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await?;
    listener.set_nonblocking(true)?;
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        h.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    axum_server::from_tcp_rustls(listener, config)?
        .handle(handle)
        .serve(router(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .await
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    format: u32,
}

#[tracing::instrument(skip_all)]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        format: crate::db::FORMAT_VERSION,
    })
}

#[derive(Serialize)]
struct TemplateSummary {
    id: String,
    version: u32,
    title_vi: String,
    items: usize,
}

/// The published checklist templates.
#[tracing::instrument(skip_all)]
async fn templates(State(state): State<AppState>) -> Result<Json<Vec<TemplateSummary>>, ServerError> {
    let db = state.db.clone();
    let list = tokio::task::spawn_blocking(move || db.templates()).await??;
    Ok(Json(
        list.into_iter()
            .map(|t| TemplateSummary {
                items: t.items().count(),
                id: t.id,
                version: t.version,
                title_vi: t.title_vi,
            })
            .collect(),
    ))
}
