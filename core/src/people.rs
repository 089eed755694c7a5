//! Inspectors and the delegations (*đoàn kiểm tra*) they work in.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::ids::{DelegationId, InspectorId};
use crate::text;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspector {
    pub id: InspectorId,
    pub name: String,
    /// Job title as printed in the minutes, e.g. "Thanh tra viên".
    pub title: String,
    /// The agency the inspector works for, as printed; agency names are data
    /// because they changed in 2025 (labour functions moved to Sở Nội vụ).
    pub agency: String,
}

impl Inspector {
    pub fn new(id: InspectorId, name: &str, title: &str, agency: &str) -> Result<Self, ValidationError> {
        Ok(Self {
            id,
            name: text::INSPECTOR_NAME.required(name)?,
            title: text::INSPECTOR_TITLE.required(title)?,
            agency: text::AGENCY.required(agency)?,
        })
    }
}

/// A member's role in a delegation, as the minutes name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// *Trưởng đoàn*: signs last and seals the minutes.
    Leader,
    /// *Thành viên*
    Member,
    /// *Thư ký*: writes the minutes.
    Secretary,
}

impl Role {
    pub fn label_vi(self) -> &'static str {
        match self {
            Role::Leader => "Trưởng đoàn",
            Role::Member => "Thành viên",
            Role::Secretary => "Thư ký",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationMember {
    pub inspector: InspectorId,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegation {
    pub id: DelegationId,
    pub name: String,
    /// The decision that set the delegation up (*Quyết định số …*), printed as the minutes' grounds.
    pub decision: String,
    /// Exactly one member has [`Role::Leader`].
    pub members: Vec<DelegationMember>,
}

impl Delegation {
    pub fn new(
        id: DelegationId,
        name: &str,
        decision: &str,
        leader: InspectorId,
        members: Vec<DelegationMember>,
    ) -> Result<Self, ValidationError> {
        let mut all = vec![DelegationMember {
            inspector: leader,
            role: Role::Leader,
        }];
        for m in members {
            if m.role == Role::Leader {
                return Err(ValidationError::Invalid {
                    field: "delegation",
                    reason: "a delegation has exactly one leader".into(),
                });
            }
            if all.iter().any(|x| x.inspector == m.inspector) {
                return Err(ValidationError::Invalid {
                    field: "delegation",
                    reason: format!("inspector {} is listed twice", m.inspector),
                });
            }
            all.push(m);
        }
        Ok(Self {
            id,
            name: text::DELEGATION_NAME.required(name)?,
            decision: text::DECISION.required(decision)?,
            members: all,
        })
    }

    pub fn leader(&self) -> Option<InspectorId> {
        self.members
            .iter()
            .find(|m| m.role == Role::Leader)
            .map(|m| m.inspector)
    }

    pub fn role_of(&self, inspector: InspectorId) -> Option<Role> {
        self.members
            .iter()
            .find(|m| m.inspector == inspector)
            .map(|m| m.role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_leader_no_duplicates() {
        let leader = InspectorId::new();
        let m = InspectorId::new();
        let ok = Delegation::new(
            DelegationId::new(),
            "Đoàn kiểm tra số 1",
            "Quyết định số 12/QĐ-SNV",
            leader,
            vec![DelegationMember {
                inspector: m,
                role: Role::Member,
            }],
        )
        .unwrap();
        assert_eq!(ok.leader(), Some(leader));
        assert_eq!(ok.role_of(m), Some(Role::Member));
        let two_leaders = Delegation::new(
            DelegationId::new(),
            "Đoàn",
            "QĐ",
            leader,
            vec![DelegationMember {
                inspector: m,
                role: Role::Leader,
            }],
        );
        assert!(two_leaders.is_err());
        let dup = Delegation::new(
            DelegationId::new(),
            "Đoàn",
            "QĐ",
            leader,
            vec![DelegationMember {
                inspector: leader,
                role: Role::Member,
            }],
        );
        assert!(dup.is_err());
        assert!(Inspector::new(InspectorId::new(), "", "Thanh tra viên", "Sở Nội vụ").is_err());
    }
}
