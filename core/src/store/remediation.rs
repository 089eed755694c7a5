//! Remediation in the store: the establishment's reports arrive by pull
//! (the server records them from the portal); an inspector reviews them here.

use super::Store;
use crate::error::{Error, Result};
use crate::evidence::PhotoRecord;
use crate::ids::InspectionId;
use crate::ops::Payload;
use crate::remediation::{RemediationReport, Review, Verdict};
use crate::store::InspectionSnapshot;
use crate::text;

impl Store {
    /// The establishment's remediation reports for the violation of `item`.
    pub fn remediation_reports(&self, id: InspectionId, item: &str) -> Result<Vec<RemediationReport>> {
        Ok(self.snapshot(id)?.record.remediation_reports(item).to_vec())
    }

    /// Every photo the establishment sent for the inspection's violations.
    pub fn remediation_photos(&self, id: InspectionId) -> Result<Vec<PhotoRecord>> {
        Ok(self
            .snapshot(id)?
            .record
            .remediations
            .into_values()
            .flatten()
            .flat_map(|r| r.photos)
            .collect())
    }

    /// Judges the newest remediation report of `item`: verified, or still open.
    pub fn review_remediation(
        &self,
        id: InspectionId,
        item: &str,
        verdict: Verdict,
        note: Option<&str>,
    ) -> Result<InspectionSnapshot> {
        let snap = self.snapshot(id)?;
        let report = snap
            .record
            .remediation_reports(item)
            .last()
            .ok_or_else(|| Error::NotFound {
                kind: "remediation report",
                id: item.to_string(),
            })?
            .op;
        let supersedes = snap
            .record
            .reviews
            .get(item)
            .map(|r| r.heads())
            .unwrap_or_default();
        let note = text::REVIEW_NOTE.optional(note)?;
        self.change_inspection(
            id,
            Payload::ReviewRemediation {
                inspection: id,
                item: item.to_string(),
                review: Review {
                    report,
                    verdict,
                    note,
                },
                supersedes,
            },
        )
    }
}
