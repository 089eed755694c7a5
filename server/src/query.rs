//! Query strings whose errors are the JSON error: axum's own `Query`
//! rejects a malformed query (`?since=abc`, `?limit=-1`) with a plain-text
//! 400 that a client reading `{"error", "code"}` cannot parse.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ServerError;

/// A query string deserialised into `T`; a malformed one is `400 bad_query`.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|e| ServerError::BadQuery(e.body_text()))
    }
}
