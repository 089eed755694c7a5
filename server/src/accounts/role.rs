//! What each kind of staff account may do. One role per account, each
//! allowed exactly the areas its work needs; the server checks the area of
//! every page and API call against the role of whoever makes it.

use serde::{Deserialize, Serialize};

/// The role of a staff account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// *Quản trị*: accounts, devices, the agency's settings.
    Administrator,
    /// *Lập kế hoạch*: establishments, delegations, assignments, enrolment
    /// codes, templates, administrative units; the figures they plan from.
    Planner,
    /// *Lãnh đạo / xem*: the overview, the registers and the exports, read only.
    Viewer,
    /// An inspector's own account: their delegations and assignments, and
    /// an enrolment code for their own new phone.
    Inspector,
}

/// A class of pages and API calls that one check covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// The overview, the registers and every export (read only).
    Overview,
    /// Entries into the registers kept on the server (an accident declared
    /// on paper and typed in by the inspectorate).
    RegisterEntry,
    /// Establishments, delegations, assignments, enrolment codes,
    /// templates, administrative units.
    Planning,
    /// Staff accounts, devices (revocation included), agency settings.
    Administration,
    /// One's own delegations, assignments and phones.
    OwnWork,
}

impl Area {
    pub const ALL: [Area; 5] = [
        Area::Overview,
        Area::RegisterEntry,
        Area::Planning,
        Area::Administration,
        Area::OwnWork,
    ];
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Administrator, Role::Planner, Role::Viewer, Role::Inspector];

    /// Whether this role may use `area`. The whole policy is this table.
    pub fn may(self, area: Area) -> bool {
        use Area::*;
        match self {
            Role::Administrator => matches!(area, Administration),
            // Planners choose whom to inspect from the overview's figures
            // (uninspected high-risk establishments, overdue violations).
            Role::Planner => matches!(area, Planning | Overview | RegisterEntry),
            Role::Viewer => matches!(area, Overview),
            Role::Inspector => matches!(area, OwnWork),
        }
    }

    /// The Vietnamese name shown on pages, with the English one beside it.
    pub fn label_vi(self) -> &'static str {
        match self {
            Role::Administrator => "Quản trị (administrator)",
            Role::Planner => "Lập kế hoạch (planner)",
            Role::Viewer => "Lãnh đạo / xem (viewer)",
            Role::Inspector => "Kiểm tra viên (inspector)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matrix as the issue states it, spelled out so that a change to
    /// `may` shows up here as a deliberate edit.
    #[test]
    fn each_role_is_allowed_exactly_its_areas() {
        use Area::*;
        let expected: &[(Role, &[Area])] = &[
            (Role::Administrator, &[Administration]),
            (Role::Planner, &[Overview, RegisterEntry, Planning]),
            (Role::Viewer, &[Overview]),
            (Role::Inspector, &[OwnWork]),
        ];
        for (role, allowed) in expected {
            for area in Area::ALL {
                assert_eq!(role.may(area), allowed.contains(&area), "{role:?} × {area:?}");
            }
        }
    }
}
