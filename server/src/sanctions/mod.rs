//! Administrative sanction decisions (*quyết định xử phạt vi phạm hành
//! chính*, Decree 12/2022/NĐ-CP) recorded against an establishment: a
//! register, not a payment system.
//!
//! - `ranges`: [`FineRanges`], the decree's fine range per act, dated data, each flagged verified or not.
//! - `decision`: [`SanctionDecision`] and its check against the ranges, payments and appeal.

mod decision;
mod ranges;

pub use decision::{Appeal, AppealOutcome, DecisionError, Offender, Payment, SanctionDecision, SanctionItem};
pub use ranges::{FineRange, FineRanges, RangesError};
