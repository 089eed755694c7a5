//! Sanction decisions as actions: record one, its payments and its appeal
//! (each with its audit entry), and the register with what is overdue.

use chrono::NaiveDate;
use kiemtra_core::ids::SanctionId;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{values, Actor};
use crate::db::Read;
use crate::error::ServerError;
use crate::sanctions::{Appeal, Payment, SanctionDecision};
use crate::writer::{NewSanction, Writer};

/// `POST /api/v1/admin/sanctions`
pub fn record_sanction(
    w: &mut Writer,
    actor: &Actor,
    req: NewSanction,
) -> Result<SanctionDecision, ServerError> {
    let d = w.record_sanction(req)?;
    let after = values(json!({
        "number": d.number,
        "facility": d.facility.to_string(),
        "signed_on": d.signed_on.to_string(),
        "total_vnd": d.total_vnd(),
        "violations": d.items.len(),
    }));
    w.audit(actor, "record_sanction", &d.id.to_string(), None, after)?;
    Ok(d)
}

/// `POST /api/v1/admin/sanctions/{id}/payments`
pub fn record_payment(
    w: &mut Writer,
    actor: &Actor,
    id: SanctionId,
    payment: Payment,
) -> Result<SanctionDecision, ServerError> {
    let after = values(json!({
        "on": payment.on.to_string(),
        "amount_vnd": payment.amount_vnd,
        "receipt": payment.receipt,
    }));
    let d = w.record_payment(id, payment)?;
    w.audit(actor, "record_payment", &id.to_string(), None, after)?;
    Ok(d)
}

/// `PUT /api/v1/admin/sanctions/{id}/appeal`
pub fn record_appeal(
    w: &mut Writer,
    actor: &Actor,
    id: SanctionId,
    appeal: Appeal,
) -> Result<SanctionDecision, ServerError> {
    let after = values(serde_json::to_value(&appeal).map_err(|e| ServerError::Storage(e.to_string()))?);
    let d = w.record_appeal(id, appeal)?;
    w.audit(actor, "record_appeal", &id.to_string(), None, after)?;
    Ok(d)
}

/// A decision as the register lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SanctionSummary {
    #[serde(flatten)]
    pub decision: SanctionDecision,
    pub total_vnd: u64,
    pub owed_vnd: u64,
    pub paid_vnd: u64,
    pub overdue: bool,
}

/// Every decision, newest first; `overdue_only` keeps the unpaid ones past
/// their deadline (no appeal pending) as of `today`.
pub fn sanctions(
    db: &impl Read,
    today: NaiveDate,
    overdue_only: bool,
) -> Result<Vec<SanctionSummary>, ServerError> {
    let mut all: Vec<SanctionSummary> = db
        .sanctions()?
        .into_iter()
        .map(|d| SanctionSummary {
            total_vnd: d.total_vnd(),
            owed_vnd: d.owed_vnd(),
            paid_vnd: d.paid_vnd(),
            overdue: d.is_overdue(today),
            decision: d,
        })
        .filter(|s| !overdue_only || s.overdue)
        .collect();
    all.sort_by(|a, b| {
        (b.decision.signed_on, &b.decision.number).cmp(&(a.decision.signed_on, &a.decision.number))
    });
    Ok(all)
}
