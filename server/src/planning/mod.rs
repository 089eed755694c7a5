//! Choosing whom to inspect: every establishment's risk score, computed
//! from what the server holds and explained factor by factor, so that a
//! planner can defend the annual plan.
//!
//! - `hazard`: [`HazardTable`], the agency's dated table of sector hazard classes (data, not code).
//! - `weights`: [`RiskWeights`], the agency's settings: how much each factor counts.
//! - `score`: [`RiskInputs`] → [`RiskScore`], the score and its explanation.
//! - `inputs`: [`gather`], every establishment's inputs from the stored records.

mod hazard;
mod inputs;
mod score;
mod weights;

pub use hazard::{HazardClass, HazardError, HazardTable, SectorHazard};
pub use inputs::gather;
pub use score::{score, AccidentFacts, Factor, FactorKind, LastInspection, RiskInputs, RiskScore};
pub use weights::RiskWeights;
