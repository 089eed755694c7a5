//! The HTTP application: shared state, routes and the launch function.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::db::ServerDb;
use crate::error::ServerError;

#[derive(Clone)]
pub struct AppState {
    pub db: Arc<ServerDb>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/templates", get(templates))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves on an already bound listener until `shutdown` resolves, so tests can bind port 0.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
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
    let list = tokio::task::spawn_blocking(move || db.templates())
        .await
        .map_err(|e| ServerError::Storage(e.to_string()))??;
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
