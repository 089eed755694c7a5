//! Establishments (*cơ sở*) that are inspected.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::admin_units::AdminUnits;
use crate::error::ValidationError;
use crate::ids::FacilityId;
use crate::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilityKind {
    /// *doanh nghiệp*
    Enterprise,
    /// *hợp tác xã*
    Cooperative,
    /// *làng nghề*
    CraftVillage,
    /// *hộ kinh doanh*
    HouseholdBusiness,
    /// *trang trại*
    Farm,
}

impl FacilityKind {
    pub const ALL: [FacilityKind; 5] = [
        Self::Enterprise,
        Self::Cooperative,
        Self::CraftVillage,
        Self::HouseholdBusiness,
        Self::Farm,
    ];

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Enterprise => "Doanh nghiệp",
            Self::Cooperative => "Hợp tác xã",
            Self::CraftVillage => "Làng nghề",
            Self::HouseholdBusiness => "Hộ kinh doanh",
            Self::Farm => "Trang trại",
        }
    }

    /// The snake_case name used in template files (`applies_to`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Enterprise => "enterprise",
            Self::Cooperative => "cooperative",
            Self::CraftVillage => "craft_village",
            Self::HouseholdBusiness => "household_business",
            Self::Farm => "farm",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// A Vietnamese tax code (*mã số thuế*): 10 digits for the legal entity, or
/// 10 digits, a hyphen and 3 digits (001–999) for a dependent unit or branch.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TaxCode(String);

impl TaxCode {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim();
        let err = |reason: &str| ValidationError::TaxCode {
            reason: reason.to_string(),
        };
        let (main, branch) = match s.split_once('-') {
            Some((m, b)) => (m, Some(b)),
            None => (s, None),
        };
        if main.len() != 10 || !main.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("expected 10 digits, or 10 digits-3 digits"));
        }
        if let Some(b) = branch {
            if b.len() != 3 || !b.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err("the branch part after the hyphen must be 3 digits"));
            }
            if b == "000" {
                return Err(err("the branch part 000 is not used"));
            }
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TaxCode {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<TaxCode> for String {
    fn from(t: TaxCode) -> Self {
        t.0
    }
}

impl fmt::Display for TaxCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Street, number, hamlet: everything below the administrative unit.
    pub street: String,
    /// Code of the administrative unit (see [`AdminUnits`]) valid when the address was recorded.
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facility {
    pub id: FacilityId,
    pub kind: FacilityKind,
    pub name: String,
    /// Craft villages and some farms have no tax code.
    pub tax_code: Option<TaxCode>,
    pub address: Address,
    pub sector: String,
    pub workforce: u32,
    /// On the inspectorate's list of high-risk establishments (target 6, yearly coverage).
    pub high_risk: bool,
}

/// What a person enters to register an establishment; [`NewFacility::validate`] makes it a [`Facility`].
#[derive(Debug, Clone)]
pub struct NewFacility {
    pub kind: FacilityKind,
    pub name: String,
    pub tax_code: Option<String>,
    pub street: String,
    pub unit: String,
    pub sector: String,
    pub workforce: u32,
    pub high_risk: bool,
}

impl NewFacility {
    pub fn validate(self, id: FacilityId, units: &AdminUnits) -> Result<Facility, ValidationError> {
        let name = text::FACILITY_NAME.required(&self.name)?;
        let tax_code = match self.tax_code.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) => Some(TaxCode::parse(t)?),
        };
        if tax_code.is_none() && self.kind == FacilityKind::Enterprise {
            return Err(ValidationError::TaxCode {
                reason: "an enterprise must have a tax code".into(),
            });
        }
        let street = text::STREET.required(&self.street)?;
        let unit = self.unit.trim().to_string();
        if units.get(&unit).is_none() {
            return Err(ValidationError::Invalid {
                field: "administrative unit",
                reason: format!("unknown unit code {unit:?}"),
            });
        }
        let sector = text::SECTOR.required(&self.sector)?;
        Ok(Facility {
            id,
            kind: self.kind,
            name,
            tax_code,
            address: Address { street, unit },
            sector,
            workforce: self.workforce,
            high_risk: self.high_risk,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_codes() {
        assert!(TaxCode::parse("0200123456").is_ok());
        assert!(TaxCode::parse("0200123456-001").is_ok());
        for bad in [
            "",
            "123",
            "02001234567",
            "020012345a",
            "0200123456-01",
            "0200123456-000",
            "0200123456-",
        ] {
            assert!(TaxCode::parse(bad).is_err(), "{bad} accepted");
        }
    }

    fn new_facility() -> NewFacility {
        NewFacility {
            kind: FacilityKind::Enterprise,
            name: "Công ty TNHH Cơ khí Hải Phòng".into(),
            tax_code: Some("0200123456".into()),
            street: "Số 5 đường Lạch Tray".into(),
            unit: "hp.ngo-quyen".into(),
            sector: "Cơ khí".into(),
            workforce: 350,
            high_risk: true,
        }
    }

    #[test]
    fn validates_a_facility() {
        let units = AdminUnits::builtin();
        let f = new_facility().validate(FacilityId::new(), &units).unwrap();
        assert_eq!(f.address.unit, "hp.ngo-quyen");
        let mut bad = new_facility();
        bad.name = " ".into();
        assert_eq!(
            bad.validate(FacilityId::new(), &units),
            Err(ValidationError::Empty {
                field: "facility name"
            })
        );
        let mut bad = new_facility();
        bad.unit = "hp.atlantis".into();
        assert!(bad.validate(FacilityId::new(), &units).is_err());
        let mut bad = new_facility();
        bad.tax_code = None;
        assert!(bad.validate(FacilityId::new(), &units).is_err());
    }
}
