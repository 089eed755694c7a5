//! CBOR bodies in and out (all through `kiemtra_core::codec`).

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use kiemtra_core::codec::{from_cbor, to_cbor};
use serde::{de::DeserializeOwned, Serialize};

use crate::error::ServerError;

pub const CONTENT_TYPE_CBOR: &str = "application/cbor";

/// A response body encoded as CBOR.
pub struct Cbor<T>(pub T);

impl<T: Serialize> IntoResponse for Cbor<T> {
    fn into_response(self) -> Response {
        match to_cbor("response", &self.0) {
            Ok(bytes) => ([(CONTENT_TYPE, CONTENT_TYPE_CBOR)], bytes).into_response(),
            Err(e) => ServerError::Storage(e.to_string()).into_response(),
        }
    }
}

/// Decodes a request body; garbage is a 400 that names what was expected.
pub fn decode<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T, ServerError> {
    from_cbor(what, bytes).map_err(|e| ServerError::BadBody {
        what,
        reason: match e {
            kiemtra_core::codec::CodecError::Decode { reason, .. }
            | kiemtra_core::codec::CodecError::Encode { reason, .. } => reason,
        },
    })
}
