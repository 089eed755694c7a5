//! The server's one error type, and how it answers HTTP requests.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("storage failure: {0}")]
    Storage(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error(transparent)]
    Core(#[from] kiemtra_core::Error),
}

impl From<kiemtra_core::error::ValidationError> for ServerError {
    fn from(e: kiemtra_core::error::ValidationError) -> Self {
        Self::Invalid(e.to_string())
    }
}

impl From<sled::Error> for ServerError {
    fn from(e: sled::Error) -> Self {
        Self::Storage(e.to_string())
    }
}

impl From<std::io::Error> for ServerError {
    fn from(e: std::io::Error) -> Self {
        Self::Storage(e.to_string())
    }
}

impl From<kiemtra_core::codec::CodecError> for ServerError {
    fn from(e: kiemtra_core::codec::CodecError) -> Self {
        Self::Storage(e.to_string())
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let status = match &self {
            ServerError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ServerError::Conflict(_) => StatusCode::CONFLICT,
            ServerError::Invalid(_) | ServerError::Core(_) => StatusCode::BAD_REQUEST,
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        (status, Json(serde_json::json!({ "error": self.to_string() }))).into_response()
    }
}
