//! How a sync can fail. Every failure leaves the store consistent: what was
//! acknowledged is recorded, the rest is retried by the next sync.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SyncError {
    /// No answer from the server (offline, connection dropped, TLS failure): retry later.
    #[error("network: {0}")]
    Network(String),
    /// The server does not accept this device (not enrolled, revoked, bad code).
    #[error("not authorised: {0}")]
    Auth(String),
    /// The server refused the request itself (too large, malformed).
    #[error("refused by the server: {0}")]
    Refused(String),
    /// The server failed; retry later.
    #[error("server error: {0}")]
    Server(String),
    /// Pushed operations refer to blobs (these SHA-256 names) the server
    /// does not hold: it accepted none of the push. Upload them, push again.
    #[error("the server does not hold {} blob(s) the operations refer to", .0.len())]
    BlobsMissing(Vec<String>),
    /// The server answered something this client cannot read.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The client is set up wrong (bad URL, bad CA file, not enrolled).
    #[error("configuration: {0}")]
    Config(String),
    /// The caller cancelled; every step finished before it is kept, the
    /// next sync resumes from there.
    #[error("cancelled")]
    Cancelled,
    #[error("signing key: {0}")]
    Key(#[from] crate::identity::IdentityError),
    #[error(transparent)]
    Store(#[from] crate::error::Error),
}

impl From<crate::codec::CodecError> for SyncError {
    fn from(e: crate::codec::CodecError) -> Self {
        SyncError::Protocol(e.to_string())
    }
}
