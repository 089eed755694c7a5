//! Reading a scanned enrolment QR code (`kiemtra://enrol?server=…&code=…`).

use kiemtra_core::enrol_link::EnrolLink as CoreLink;

use crate::error::KiemtraError;

/// The server's address and the one-time code a staff page's QR code holds.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrolLink {
    pub server_url: String,
    pub code: String,
}

/// Reads the text of a scanned enrolment QR code; then `enrol(server_url, code, …)`.
#[uniffi::export]
pub fn parse_enrol_link(text: String) -> Result<EnrolLink, KiemtraError> {
    let link = CoreLink::parse(&text).map_err(|e| KiemtraError::InvalidInput {
        reason: e.to_string(),
    })?;
    Ok(EnrolLink {
        server_url: link.server,
        code: link.code,
    })
}
