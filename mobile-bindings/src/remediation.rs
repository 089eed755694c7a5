//! Remediation through the bindings: the establishment's reports arrive by
//! sync (sent on the portal); an inspector reviews them on the device.

use kiemtra_core as core;

use crate::error::Result;
use crate::records::{Photo, Violation};
use crate::store::{inspection_id, KiemtraStore};

/// What the establishment reported about one violation.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RemediationReport {
    pub report_id: String,
    pub item_code: String,
    /// Who at the establishment sent it, as they gave their name.
    pub sent_by: String,
    pub text: String,
    /// Its photos; fetch them with `KiemtraStore.blob` after a sync with photos.
    pub photos: Vec<Photo>,
    /// RFC 3339, server time of receipt.
    pub received_at: String,
}

impl From<core::remediation::RemediationReport> for RemediationReport {
    fn from(r: core::remediation::RemediationReport) -> Self {
        Self {
            report_id: r.op.to_string(),
            item_code: r.item,
            sent_by: r.sent_by,
            text: r.text,
            photos: r.photos.into_iter().map(Into::into).collect(),
            received_at: r.received_at.to_rfc3339(),
        }
    }
}

#[uniffi::export]
impl KiemtraStore {
    /// The establishment's remediation reports of a violation, oldest first.
    pub fn remediation_reports(
        &self,
        inspection_id: String,
        item_code: String,
    ) -> Result<Vec<RemediationReport>> {
        Ok(self
            .inner()
            .remediation_reports(self::inspection_id(&inspection_id)?, &item_code)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Judges the newest report of a violation: verified (remedied) or still open.
    pub fn review_remediation(
        &self,
        inspection_id: String,
        item_code: String,
        verified: bool,
        note: Option<String>,
    ) -> Result<Violation> {
        let id = self::inspection_id(&inspection_id)?;
        let verdict = if verified {
            core::remediation::Verdict::Verified
        } else {
            core::remediation::Verdict::StillOpen
        };
        self.inner()
            .review_remediation(id, &item_code, verdict, note.as_deref())?;
        let v = self
            .inner()
            .violations(id)?
            .into_iter()
            .find(|v| v.item == item_code)
            .ok_or_else(|| core::Error::NotFound {
                kind: "violation",
                id: item_code.clone(),
            })?;
        Ok(v.into())
    }

    /// The access code printed on the current minutes (the establishment's
    /// key to its portal page), grouped as printed. Only the device that drew
    /// the minutes holds it (operations carry its hash): `None` elsewhere,
    /// where the rendered minutes say the code is on the establishment's copy.
    pub fn minutes_access_code(&self, inspection_id: String) -> Result<Option<String>> {
        Ok(self
            .inner()
            .minutes_access_code(self::inspection_id(&inspection_id)?)?
            .map(|c| c.grouped()))
    }
}
