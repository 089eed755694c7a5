//! The server's one error type, and how it answers HTTP requests: a status
//! and a JSON body `{"error": "<message>", "code": "<machine-readable>"}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::storage::{BlobError, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("storage failure: {0}")]
    Storage(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A body that is not the CBOR message the endpoint expects.
    #[error("the body is not a valid {what}: {reason}")]
    BadBody { what: &'static str, reason: String },
    #[error(transparent)]
    Core(#[from] kiemtra_core::Error),
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(String),
    #[error("the request body is larger than the {limit} bytes this endpoint accepts")]
    TooLarge { limit: u64 },
    #[error("a push carries at most {max} operations; split it")]
    TooManyOps { max: u32 },
    #[error("the upload is at byte {received}; send the chunk that starts there")]
    UploadOffset { received: u64 },
    #[error("the blob's bytes do not hash to its name; the upload was discarded")]
    HashMismatch,
    #[error("the server is shutting down")]
    Unavailable,
}

impl ServerError {
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ServerError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ServerError::Conflict(_) | ServerError::UploadOffset { .. } => StatusCode::CONFLICT,
            ServerError::Invalid(_) | ServerError::BadBody { .. } | ServerError::Core(_) => {
                StatusCode::BAD_REQUEST
            }
            ServerError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ServerError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ServerError::NotFound(_) => StatusCode::NOT_FOUND,
            ServerError::TooLarge { .. } | ServerError::TooManyOps { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ServerError::HashMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            ServerError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ServerError::Storage(_) => "storage",
            ServerError::Conflict(_) => "conflict",
            ServerError::Invalid(_) | ServerError::Core(_) => "invalid",
            ServerError::BadBody { .. } => "bad_body",
            ServerError::Unauthorized { code, .. } | ServerError::Forbidden { code, .. } => code,
            ServerError::NotFound(_) => "not_found",
            ServerError::TooLarge { .. } => "too_large",
            ServerError::TooManyOps { .. } => "too_many_ops",
            ServerError::UploadOffset { .. } => "offset_mismatch",
            ServerError::HashMismatch => "hash_mismatch",
            ServerError::Unavailable => "unavailable",
        }
    }
}

impl From<kiemtra_core::error::ValidationError> for ServerError {
    fn from(e: kiemtra_core::error::ValidationError) -> Self {
        Self::Invalid(e.to_string())
    }
}

impl From<kiemtra_core::error::TemplateError> for ServerError {
    fn from(e: kiemtra_core::error::TemplateError) -> Self {
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

impl From<StorageError> for ServerError {
    fn from(e: StorageError) -> Self {
        Self::Storage(e.to_string())
    }
}

impl From<BlobError> for ServerError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::Offset { received } => Self::UploadOffset { received },
            BlobError::HashMismatch => Self::HashMismatch,
            BlobError::Invalid(m) => Self::Invalid(m),
            BlobError::Storage(s) => s.into(),
        }
    }
}

impl From<tokio::task::JoinError> for ServerError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::Storage(format!("a worker task failed: {e}"))
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut body = serde_json::json!({ "error": self.to_string(), "code": self.code() });
        if let ServerError::UploadOffset { received } = self {
            body["received"] = received.into();
        }
        (status, Json(body)).into_response()
    }
}
