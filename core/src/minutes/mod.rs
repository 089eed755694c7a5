//! The signed inspection minutes (*biên bản kiểm tra*), as pure functions.
//!
//! - `document`: [`MinutesDocument`], the frozen content, built from an inspection snapshot.
//! - `canonical`: the canonical CBOR bytes and the content hash they give.
//! - `conformity`: [`check_conforms`], whether a document is what the record gives.
//! - `sign`: [`SignedMinutes`], members' and the leader's ed25519 signatures.
//! - `verify`: [`VerificationReport`] for one bundle, and batch verification.
//! - `bundle`: [`Bundle`], the one-file export (CBOR) and its parsing.
//! - `layout`: the printed minutes described once, as blocks in reading order.
//! - `html`, `pdf`: the printable page and the A4 PDF (with the bundle attached),
//!   both drawn from `layout`'s blocks.
//! - `bytes`: byte strings and 32-byte hashes as CBOR byte strings.
//!
//! What is signed is the exact canonical bytes (never a re-encoding); the
//! layout of those bytes is frozen by `core/tests/vectors/minutes-v1.*`.

mod bundle;
mod bytes;
mod canonical;
mod conformity;
mod document;
mod error;
mod html;
mod layout;
mod pdf;
mod sign;
mod verify;
mod wording;

pub use bundle::{Blob, Bundle, BUNDLE_FORMAT};
pub use bytes::{ByteBuf, Hash32, Sig64};
pub use canonical::{canonical_bytes, content_hash, decode_canonical};
pub use conformity::{check_conforms, MemberKeys};
pub use document::*;
pub use error::MinutesError;
pub use html::{escape, render_html, RenderOptions};
pub use layout::minutes_texts;
pub use pdf::{extract_bundle_from_pdf, pdf_page_texts, render_pdf};
pub use sign::{signing_message, MinutesSignature, SignedMinutes, SIGNATURE_DOMAIN};
pub use verify::*;

/// Verifies a file that is either a bundle or a PDF with a bundle attached.
pub fn verify_file(bytes: &[u8]) -> Result<VerificationReport, MinutesError> {
    let bundle = if bytes.starts_with(b"%PDF-") {
        extract_bundle_from_pdf(bytes)?
    } else {
        Bundle::from_bytes(bytes)?
    };
    Ok(verify_bundle(&bundle))
}
