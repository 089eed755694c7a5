//! The server's one error type, and how it answers HTTP requests: a status
//! and a JSON body `{"error": "<message>", "code": "<machine-readable>"}`.

use axum::http::header::{CONTENT_RANGE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::storage::{BlobError, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("storage failure: {0}")]
    Storage(String),
    /// The storage could not be reached or failed midway (a database
    /// restarting, an object store down): nothing is wrong with the request,
    /// which did nothing; the client tries again later.
    #[error("storage unavailable: {0}")]
    StorageUnavailable(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// Something that must be unique (a device key) is already taken.
    #[error("{message}")]
    Taken { code: &'static str, message: String },
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A query string that is not the endpoint's (axum's message, which names the field).
    #[error("{0}")]
    BadQuery(String),
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
    /// The object store holding the blobs does not answer: the upload (or
    /// the push that refers to blobs) is to be retried later.
    #[error("the blob store is unavailable; try again later")]
    BlobStoreUnavailable(String),
    /// Operations refer to blobs the server does not hold yet: upload them,
    /// then push again. Nothing of the push was accepted.
    #[error("the operations refer to {} blob(s) the server does not hold; upload them and push again", .0.len())]
    BlobsMissing(Vec<String>),
    /// A download's `Range` starts past the end of a blob of `len` bytes.
    #[error("the range starts past the end of the blob's {len} bytes")]
    RangeNotSatisfiable { len: u64 },
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
            ServerError::StorageUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ServerError::Conflict(_)
            | ServerError::Taken { .. }
            | ServerError::UploadOffset { .. }
            | ServerError::BlobsMissing(_) => StatusCode::CONFLICT,
            ServerError::Invalid(_)
            | ServerError::BadQuery(_)
            | ServerError::BadBody { .. }
            | ServerError::Core(_) => StatusCode::BAD_REQUEST,
            ServerError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ServerError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ServerError::NotFound(_) => StatusCode::NOT_FOUND,
            ServerError::TooLarge { .. } | ServerError::TooManyOps { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ServerError::HashMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            ServerError::Unavailable | ServerError::BlobStoreUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ServerError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ServerError::Storage(_) => "storage",
            ServerError::StorageUnavailable(_) => "storage_unavailable",
            ServerError::Conflict(_) => "conflict",
            ServerError::Invalid(_) | ServerError::Core(_) => "invalid",
            ServerError::BadBody { .. } => "bad_body",
            ServerError::BadQuery(_) => "bad_query",
            ServerError::Unauthorized { code, .. }
            | ServerError::Forbidden { code, .. }
            | ServerError::Taken { code, .. } => code,
            ServerError::NotFound(_) => "not_found",
            ServerError::TooLarge { .. } => "too_large",
            ServerError::TooManyOps { .. } => "too_many_ops",
            ServerError::UploadOffset { .. } => "offset_mismatch",
            ServerError::HashMismatch => "hash_mismatch",
            ServerError::Unavailable => "unavailable",
            ServerError::BlobStoreUnavailable(_) => "blob_store_unavailable",
            ServerError::BlobsMissing(_) => "blob_missing",
            ServerError::RangeNotSatisfiable { .. } => "range_not_satisfiable",
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
        match e {
            // A failed engine or connection, or an operation another
            // instance committed first: a retry succeeds or finds it.
            StorageError::Io(_) | StorageError::DuplicateOp(_) => Self::StorageUnavailable(e.to_string()),
            StorageError::Corrupt(_) => Self::Storage(e.to_string()),
        }
    }
}

impl From<BlobError> for ServerError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::Offset { received } => Self::UploadOffset { received },
            BlobError::HashMismatch => Self::HashMismatch,
            BlobError::Invalid(m) => Self::Invalid(m),
            BlobError::Range { len } => Self::RangeNotSatisfiable { len },
            BlobError::Unavailable(m) => Self::BlobStoreUnavailable(m),
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
        // A server failure's details (paths, storage errors) are for the
        // log above, not for the client.
        let message = if status.is_server_error() {
            match self {
                // Says what to do (come back later); the cause is logged.
                ServerError::Unavailable | ServerError::BlobStoreUnavailable(_) => self.to_string(),
                ServerError::StorageUnavailable(_) => {
                    "the server's storage is unavailable for a moment; nothing was done, try again"
                        .to_string()
                }
                _ => "the server could not complete the request; the failure is logged".to_string(),
            }
        } else {
            public_message(&self.to_string())
        };
        let mut body = serde_json::json!({ "error": message, "code": self.code() });
        match &self {
            ServerError::UploadOffset { received } => body["received"] = (*received).into(),
            ServerError::BlobsMissing(missing) => body["missing"] = missing.clone().into(),
            _ => {}
        }
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            ServerError::BlobStoreUnavailable(_) => {
                headers.insert(RETRY_AFTER, HeaderValue::from_static("30"));
            }
            ServerError::RangeNotSatisfiable { len } => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                    headers.insert(CONTENT_RANGE, v);
                }
            }
            // The storage, a moment away (a database restart, the writer busy).
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
            }
            _ => {}
        }
        response
    }
}

/// A message as the client sees it: serde names the Rust type it was
/// decoding into ("expected struct EnrolRequest", "struct variant
/// Payload::SetAnswer"), which says nothing to a client written from the
/// protocol's description and ties it to our type names. Those words become
/// what they mean on the wire (a map, a kind name); the rest of the message
/// (the field, the offset, the expected kinds) stays.
pub fn public_message(message: &str) -> String {
    let words: Vec<&str> = message.split(' ').collect();
    let is_type = |w: &str| w.starts_with(|c: char| c.is_ascii_uppercase());
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let next = words.get(i + 1).copied().unwrap_or("");
        let after = words.get(i + 2).copied().unwrap_or("");
        if matches!(w, "tuple" | "unit" | "newtype" | "struct")
            && matches!(next, "struct" | "variant")
            && is_type(after)
        {
            i += 1;
            continue;
        }
        if matches!(w, "struct" | "enum" | "variant") && is_type(next) {
            let rest = next.trim_start_matches(|c: char| {
                c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '<' | '>')
            });
            let meaning = match w {
                "struct" => "a map",
                "enum" => "a kind name",
                _ => "the fields of that kind",
            };
            out.push(format!("{meaning}{rest}"));
            i += 2;
            continue;
        }
        out.push(w.to_string());
        i += 1;
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_type_names_become_wire_words() {
        assert_eq!(
            public_message("the body is not a valid enrolment request: invalid type: string \"x\", expected struct EnrolRequest at offset 0"),
            "the body is not a valid enrolment request: invalid type: string \"x\", expected a map at offset 0"
        );
        assert_eq!(
            public_message("invalid length 3, expected tuple struct Hash32 with 1 element"),
            "invalid length 3, expected a map with 1 element"
        );
        assert_eq!(
            public_message("invalid type: integer `1`, expected struct variant Payload::SetAnswer"),
            "invalid type: integer `1`, expected the fields of that kind"
        );
        assert_eq!(
            public_message("expected enum Status, got map"),
            "expected a kind name, got map"
        );
        // Messages without type names are as they were.
        let plain = "missing field `code` at offset 4";
        assert_eq!(public_message(plain), plain);
        assert_eq!(
            public_message("the struct of the minutes"),
            "the struct of the minutes"
        );
    }
}
