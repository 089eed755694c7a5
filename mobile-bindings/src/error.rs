//! The one error the apps see: a small set of kinds an app can act on, each
//! with a message a person can read. Converted from the core's rich errors in
//! one place.

use kiemtra_core::error::Error as CoreError;

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum KiemtraError {
    /// The input breaks a rule (empty name, bad tax code, wrong answer type…): fix it and retry.
    #[error("invalid input: {reason}")]
    InvalidInput { reason: String },
    /// The record does not exist on this device.
    #[error("not found: {reason}")]
    NotFound { reason: String },
    /// Not allowed in the inspection's current state (out-of-order step, sealed, unanswered items…).
    #[error("not allowed now: {reason}")]
    NotAllowed { reason: String },
    /// A template file or template reference is wrong.
    #[error("template problem: {reason}")]
    Template { reason: String },
    /// The photo could not be used (unsupported, damaged, too large).
    #[error("photo problem: {reason}")]
    Photo { reason: String },
    /// The device storage failed (disk full, damaged data): the data on the device is unchanged.
    #[error("storage problem: {reason}")]
    Storage { reason: String },
    /// No answer from the server (offline, dropped connection): nothing is lost, sync again later.
    #[error("network problem: {reason}")]
    Network { reason: String },
    /// The server does not accept this device (not enrolled, revoked, wrong or used code).
    #[error("not authorised: {reason}")]
    Auth { reason: String },
    /// The server failed or answered something unexpected: sync again later.
    #[error("server problem: {reason}")]
    Server { reason: String },
    /// The call was cancelled: what it finished is kept, calling again resumes.
    #[error("cancelled: {reason}")]
    Cancelled { reason: String },
}

impl From<kiemtra_core::sync::SyncError> for KiemtraError {
    fn from(e: kiemtra_core::sync::SyncError) -> Self {
        use kiemtra_core::sync::SyncError as S;
        let reason = e.to_string();
        match e {
            S::Network(_) => Self::Network { reason },
            S::Auth(_) => Self::Auth { reason },
            S::Refused(_) => Self::NotAllowed { reason },
            S::Server(_) | S::Protocol(_) | S::BlobsMissing(_) => Self::Server { reason },
            S::Config(_) => Self::InvalidInput { reason },
            S::Key(_) => Self::Storage { reason },
            S::Cancelled => Self::Cancelled { reason },
            S::Store(inner) => inner.into(),
        }
    }
}

impl From<kiemtra_core::identity::IdentityError> for KiemtraError {
    fn from(e: kiemtra_core::identity::IdentityError) -> Self {
        Self::Storage {
            reason: e.to_string(),
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KiemtraError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Storage {
            reason: format!("the app's callback failed: {}", e.reason),
        }
    }
}

impl From<CoreError> for KiemtraError {
    fn from(e: CoreError) -> Self {
        let reason = e.to_string();
        match e {
            CoreError::Validation(_) | CoreError::Answer(_) => Self::InvalidInput { reason },
            CoreError::Lifecycle(_) => Self::NotAllowed { reason },
            CoreError::Template(_) => Self::Template { reason },
            CoreError::Photo(_) => Self::Photo { reason },
            CoreError::NotFound { .. } => Self::NotFound { reason },
            CoreError::Minutes(kiemtra_core::minutes::MinutesError::Identity(_)) | CoreError::Identity(_) => {
                Self::Storage { reason }
            }
            // Signing order, wrong key, sealed minutes, incomplete findings: what the person did.
            CoreError::Minutes(_) => Self::NotAllowed { reason },
            CoreError::Codec(_) | CoreError::Storage(_) | CoreError::FormatTooNew { .. } => {
                Self::Storage { reason }
            }
        }
    }
}

impl From<kiemtra_core::error::ValidationError> for KiemtraError {
    fn from(e: kiemtra_core::error::ValidationError) -> Self {
        Self::InvalidInput {
            reason: e.to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, KiemtraError>;

/// Parses an id or date that crossed the FFI as text.
pub(crate) fn parse<T: std::str::FromStr>(what: &str, s: &str) -> Result<T> {
    s.trim().parse().map_err(|_| KiemtraError::InvalidInput {
        reason: format!("{what} {s:?} is not valid"),
    })
}
