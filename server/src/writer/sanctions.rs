//! The writer's part in sanction decisions: recording one against the
//! violations of sealed minutes (what each violation is and which minutes
//! found it are read from the record, not taken from the request), and
//! recording its payments and appeal. Each is checked against the decree's
//! fine ranges before it is written.

use chrono::NaiveDate;
use kiemtra_core::ids::{FacilityId, InspectionId, SanctionId};
use kiemtra_core::inspection::Status;
use kiemtra_core::record::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Writer;
use crate::db::{Read, TypedWrites};
use crate::error::ServerError;
use crate::sanctions::{Appeal, FineRanges, Offender, Payment, SanctionDecision, SanctionItem};

/// A decision as entered: which violations, and the fine for each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSanction {
    pub facility: FacilityId,
    pub number: String,
    pub signed_on: NaiveDate,
    pub signed_by: String,
    pub offender: Offender,
    pub items: Vec<NewSanctionItem>,
    pub pay_by: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSanctionItem {
    pub inspection: InspectionId,
    /// The checklist item of the violation.
    pub item: String,
    pub fine_vnd: u64,
}

fn ranges() -> Result<FineRanges, ServerError> {
    FineRanges::shipped().map_err(|e| ServerError::Storage(e.to_string()))
}

fn refused(e: crate::sanctions::DecisionError) -> ServerError {
    ServerError::Invalid(e.to_string())
}

impl Writer {
    /// Records a decision. Each violation must be one that sealed minutes
    /// of this establishment found and did not dismiss, and cite the
    /// provision it is fined under; each fine must be within that
    /// provision's range on the day the decision was signed.
    pub fn record_sanction(&mut self, new: NewSanction) -> Result<SanctionDecision, ServerError> {
        if self.db().facility(new.facility)?.is_none() {
            return Err(ServerError::NotFound(format!("facility {}", new.facility)));
        }
        let mut items = Vec::with_capacity(new.items.len());
        for wanted in &new.items {
            items.push(self.sanction_item(new.facility, wanted)?);
        }
        let decision = SanctionDecision {
            id: SanctionId::new(),
            facility: new.facility,
            number: kiemtra_core::text::required("decision number", &new.number, 100)?,
            signed_on: new.signed_on,
            signed_by: kiemtra_core::text::required("signed by", &new.signed_by, 300)?,
            offender: new.offender,
            items,
            pay_by: new.pay_by,
            payments: Vec::new(),
            appeal: None,
        };
        decision.check(&ranges()?).map_err(refused)?;
        self.changes.put_sanction(&decision)?;
        Ok(decision)
    }

    /// A violation of sealed minutes, linked to them by number and hash.
    fn sanction_item(
        &mut self,
        facility: FacilityId,
        wanted: &NewSanctionItem,
    ) -> Result<SanctionItem, ServerError> {
        let record = self
            .record(wanted.inspection)?
            .ok_or_else(|| ServerError::NotFound(format!("inspection {}", wanted.inspection)))?;
        if record.inspection.facility != facility {
            return Err(ServerError::Invalid(format!(
                "inspection {} is of another establishment",
                wanted.inspection
            )));
        }
        if record.inspection.status < Status::Sealed {
            return Err(ServerError::Invalid(format!(
                "the minutes of inspection {} are not sealed: only sealed minutes' violations are sanctioned",
                wanted.inspection
            )));
        }
        let template = self
            .template(&record.inspection.template)?
            .ok_or_else(|| ServerError::NotFound(format!("template {}", record.inspection.template)))?;
        let facility_kind = self
            .facility_kind(facility)?
            .ok_or_else(|| ServerError::NotFound(format!("facility {facility}")))?;
        let ctx = Context {
            template: &template,
            facility_kind,
            trusted_keys: None,
        };
        let violation = record
            .violations(&ctx)
            .into_iter()
            .find(|v| v.item == wanted.item && !v.is_dismissed())
            .ok_or_else(|| {
                ServerError::Invalid(format!(
                    "the minutes of inspection {} record no violation of item {}",
                    wanted.inspection, wanted.item
                ))
            })?;
        let sanction = violation.sanction.ok_or_else(|| {
            ServerError::Invalid(format!(
                "the violation of item {} cites no sanction provision",
                wanted.item
            ))
        })?;
        let minutes = record.current_minutes().ok_or_else(|| {
            ServerError::Invalid(format!("inspection {} has no minutes", wanted.inspection))
        })?;
        let document = kiemtra_core::minutes::decode_canonical(&minutes.canonical)
            .map_err(|e| ServerError::Storage(format!("stored minutes are unreadable: {e}")))?;
        Ok(SanctionItem {
            inspection: wanted.inspection,
            minutes_number: document.number,
            minutes_hash: hex::encode(Sha256::digest(&minutes.canonical)),
            item: wanted.item.clone(),
            instrument: sanction.instrument,
            article: sanction.article,
            fine_vnd: wanted.fine_vnd,
        })
    }

    fn stored_sanction(&self, id: SanctionId) -> Result<SanctionDecision, ServerError> {
        self.db()
            .sanction(id)?
            .ok_or_else(|| ServerError::NotFound(format!("sanction decision {id}")))
    }

    /// Adds a payment; refused if it would pay more than is owed.
    pub fn record_payment(
        &mut self,
        id: SanctionId,
        payment: Payment,
    ) -> Result<SanctionDecision, ServerError> {
        let mut d = self.stored_sanction(id)?;
        d.payments.push(payment);
        d.check(&ranges()?).map_err(refused)?;
        self.changes.put_sanction(&d)?;
        Ok(d)
    }

    /// Records the appeal, or its outcome (replacing what was recorded).
    pub fn record_appeal(&mut self, id: SanctionId, appeal: Appeal) -> Result<SanctionDecision, ServerError> {
        let mut d = self.stored_sanction(id)?;
        d.appeal = Some(appeal);
        d.check(&ranges()?).map_err(refused)?;
        self.changes.put_sanction(&d)?;
        Ok(d)
    }
}
