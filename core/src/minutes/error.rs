//! What can go wrong drawing up, signing, exporting or reading minutes.

use thiserror::Error;

use crate::codec::CodecError;
use crate::error::ValidationError;
use crate::identity::IdentityError;

#[derive(Debug, Error)]
pub enum MinutesError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("the findings are not complete: {0}")]
    Incomplete(String),
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("inspector {signer} is not a member of the delegation in these minutes")]
    NotAMember { signer: String },
    #[error("inspector {signer} has already signed these minutes")]
    AlreadySigned { signer: String },
    #[error("the minutes are sealed by the leader's signature; nobody can sign after that")]
    Sealed,
    #[error("the leader signs last: {count} member(s) have not signed yet")]
    MembersUnsigned { count: usize, missing: Vec<String> },
    #[error("the signing key of inspector {signer} is not the key named in the minutes")]
    KeyMismatch { signer: String },
    /// A field the inspection record determines (establishment, delegation,
    /// findings, violations, photos, …) says something else than the record.
    #[error("the minutes contradict the inspection record: {field} not as recorded")]
    ContradictsRecord { field: String },
    #[error("the minutes' bytes are not canonical: decoding and encoding again changes them")]
    NotCanonical,
    #[error("not a Kiemtra minutes bundle: {0}")]
    NotABundle(String),
    #[error("bundle format {found:?} is not supported (this build reads {supported})")]
    UnsupportedFormat { found: String, supported: &'static str },
    #[error("the PDF has no Kiemtra minutes bundle attached")]
    NoBundleInPdf,
    #[error("rendering failed: {0}")]
    Render(String),
}
