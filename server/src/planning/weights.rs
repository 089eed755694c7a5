//! How much each risk factor counts: the agency's settings, in whole points
//! so that a planner can redo any score by hand. The defaults are a
//! starting point for the agency to tune, not a rule.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RiskWeights {
    /// Points by hazard class 1 to 4.
    pub hazard_class: [u32; 4],
    /// Points per full 100 workers, up to `workforce_cap` workers.
    pub per_100_workers: u32,
    pub workforce_cap: u32,
    /// The register's high-risk flag.
    pub high_risk: u32,
    /// Per open violation not yet past its deadline, and per overdue one.
    pub open_violation: u32,
    pub overdue_violation: u32,
    /// Violations counted at most (each kind).
    pub violations_cap: u32,
    /// Per accident in the last three years: with a death, with a serious
    /// injury (and no death), with light injuries only.
    pub fatal_accident: u32,
    pub serious_accident: u32,
    pub light_accident: u32,
    /// Per full year since the last inspection, up to `years_cap` years;
    /// an establishment never inspected counts `never_inspected`.
    pub per_year_uninspected: u32,
    pub years_cap: u32,
    pub never_inspected: u32,
    /// Per violation the last inspection found, up to `violations_cap`.
    pub last_outcome_violation: u32,
}

impl Default for RiskWeights {
    fn default() -> Self {
        Self {
            hazard_class: [0, 10, 20, 30],
            per_100_workers: 2,
            workforce_cap: 1000,
            high_risk: 15,
            open_violation: 3,
            overdue_violation: 6,
            violations_cap: 10,
            fatal_accident: 25,
            serious_accident: 10,
            light_accident: 3,
            per_year_uninspected: 4,
            years_cap: 5,
            never_inspected: 20,
            last_outcome_violation: 2,
        }
    }
}
