//! Labour accidents (*tai nạn lao động*) as records: declared by the
//! establishment through the portal, entered or imported by the
//! inspectorate, and investigated by an inspection of kind
//! [`crate::inspection::InspectionKind::AccidentInvestigation`] that names
//! the accident.
//!
//! Target 8 ("every fatal accident declared, investigated and handled") and
//! the Decree 39 report are computed from these records, so they keep who
//! declared what and when: "declared on time" and "investigation overdue"
//! are facts derived from stored times, never typed in.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::admin_units::AdminUnits;
use crate::error::ValidationError;
use crate::ids::{AccidentId, FacilityId};
use crate::inspection::vietnam_offset;
use crate::text;

/// How badly the accident hurt people, from its worst outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// *nhẹ*
    Light,
    /// *nặng*
    Serious,
    /// *chết người*
    Fatal,
}

impl Severity {
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Light => "Bị thương nhẹ",
            Self::Serious => "Bị thương nặng",
            Self::Fatal => "Chết người",
        }
    }
}

/// Who declared the accident to the inspectorate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Declarant {
    /// The establishment, on the portal (the online declaration of §IV.1.d).
    Establishment { facility: FacilityId, person: String },
    /// An official of the inspectorate, on the admin side.
    Inspectorate { person: String },
    /// A row of an imported file.
    Import { file: String, line: u32 },
}

impl Declarant {
    pub fn label_vi(&self) -> String {
        match self {
            Self::Establishment { person, .. } => format!("Cơ sở khai báo trực tuyến ({person})"),
            Self::Inspectorate { person } => format!("Cơ quan quản lý nhập ({person})"),
            Self::Import { file, line } => format!("Nhập từ tệp {file}, dòng {line}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accident {
    pub id: AccidentId,
    pub occurred_at: DateTime<Utc>,
    /// Where it happened, as described.
    pub place: String,
    /// Administrative unit of the place, valid on the accident's date.
    pub unit: String,
    /// The establishment; `None` for a worker without a labour contract,
    /// whose accident the commune records (Decree 39/2016, Art. 24).
    pub facility: Option<FacilityId>,
    /// The victims worked without a labour contract (Decree 39 report).
    pub without_contract: bool,
    pub deaths: u32,
    pub seriously_injured: u32,
    pub lightly_injured: u32,
    /// Names of the victims, as declared (may be empty when unknown yet).
    pub victims: Vec<String>,
    /// A short account of what happened.
    pub account: String,
    /// The investigation needs a technical or forensic examination, which
    /// lengthens its legal deadline.
    pub needs_examination: bool,
    pub declared_by: Declarant,
    /// Server time when the declaration was recorded.
    pub declared_at: DateTime<Utc>,
}

/// What a person enters to declare an accident; [`NewAccident::validate`] checks it.
#[derive(Debug, Clone)]
pub struct NewAccident {
    pub occurred_at: DateTime<Utc>,
    pub place: String,
    pub unit: String,
    pub facility: Option<FacilityId>,
    pub without_contract: bool,
    pub deaths: u32,
    pub seriously_injured: u32,
    pub lightly_injured: u32,
    pub victims: Vec<String>,
    pub account: String,
    pub needs_examination: bool,
}

impl NewAccident {
    /// Checks the declaration against the units valid on its date and the
    /// time it is recorded (`now`): an accident cannot be in the future.
    pub fn validate(
        self,
        id: AccidentId,
        declared_by: Declarant,
        now: DateTime<Utc>,
        units: &AdminUnits,
    ) -> Result<Accident, ValidationError> {
        if self.occurred_at > now {
            return Err(ValidationError::Invalid {
                field: "accident time",
                reason: "is in the future".into(),
            });
        }
        let place = text::TextRule::line("accident place", 300).required(&self.place)?;
        let account = text::TextRule::lines("account of the accident", 4000).required(&self.account)?;
        let given = self.unit.trim();
        let date = self.occurred_at.with_timezone(&vietnam_offset()).date_naive();
        if units.get(given).is_none() {
            return Err(ValidationError::Invalid {
                field: "administrative unit",
                reason: format!("unknown unit code {given:?}"),
            });
        }
        // The unit valid on the accident's date (a renamed district's new
        // code). When none is known — the district level ended on 2025-07-01
        // and no commune list is loaded — the given unit is kept and reports
        // show it as a former unit rather than refusing the declaration.
        let unit = units
            .as_of(given, date)
            .map_or_else(|| given.to_string(), |u| u.code.clone());
        if self.deaths + self.seriously_injured + self.lightly_injured == 0 {
            return Err(ValidationError::Invalid {
                field: "victims",
                reason: "an accident has at least one dead or injured person".into(),
            });
        }
        if self.facility.is_none() && !self.without_contract {
            return Err(ValidationError::Invalid {
                field: "facility",
                reason:
                    "an accident at work names its establishment, unless the victims had no labour contract"
                        .into(),
            });
        }
        let victims = self
            .victims
            .iter()
            .filter(|v| !v.trim().is_empty())
            .map(|v| text::TextRule::line("victim name", 200).required(v))
            .collect::<Result<Vec<_>, _>>()?;
        let person_text = match &declared_by {
            Declarant::Establishment { person, .. } | Declarant::Inspectorate { person } => Some(person),
            Declarant::Import { .. } => None,
        };
        if let Some(p) = person_text {
            text::TextRule::line("declared by", 200).required(p)?;
        }
        Ok(Accident {
            id,
            occurred_at: self.occurred_at,
            place,
            unit,
            facility: self.facility,
            without_contract: self.without_contract,
            deaths: self.deaths,
            seriously_injured: self.seriously_injured,
            lightly_injured: self.lightly_injured,
            victims,
            account,
            needs_examination: self.needs_examination,
            declared_by,
            declared_at: now,
        })
    }
}

/// The investigation deadlines of Law 84/2015/QH13, Art. 35 clause 6,
/// counted in days from the declaration. Kept as data with the citation:
/// the figures are our reading of the law and are to be confirmed by the
/// inspectorate's legal staff (not checked against an official text here).
pub mod deadlines {
    pub const CITATION: &str = "Luật 84/2015/QH13, Điều 35 khoản 6";
    pub const LIGHT_DAYS: u64 = 4;
    pub const ONE_SERIOUS_DAYS: u64 = 7;
    pub const SEVERAL_SERIOUS_DAYS: u64 = 20;
    pub const FATAL_DAYS: u64 = 30;
    pub const WITH_EXAMINATION_DAYS: u64 = 60;
    /// Fatal accidents and accidents seriously injuring two or more people
    /// are investigated by the provincial delegation (Art. 35 clause 1,
    /// same reading); lighter ones by the employer's own delegation.
    pub const PROVINCIAL: &str = "Luật 84/2015/QH13, Điều 35 khoản 1";
    /// A fatal or serious accident is to be declared at once (Art. 34);
    /// Kiemtra counts a declaration within this many hours as on time.
    pub const DECLARE_WITHIN_HOURS: i64 = 24;
}

impl Accident {
    pub fn severity(&self) -> Severity {
        if self.deaths > 0 {
            Severity::Fatal
        } else if self.seriously_injured > 0 {
            Severity::Serious
        } else {
            Severity::Light
        }
    }

    /// The accident's date in Vietnam.
    pub fn date(&self) -> NaiveDate {
        self.occurred_at.with_timezone(&vietnam_offset()).date_naive()
    }

    pub fn victim_count(&self) -> u32 {
        self.deaths + self.seriously_injured + self.lightly_injured
    }

    /// Whether the inspectorate (not the employer) investigates it.
    pub fn investigated_by_inspectorate(&self) -> bool {
        self.deaths > 0 || self.seriously_injured >= 2
    }

    /// Days the investigation may take, from the declaration.
    pub fn investigation_days(&self) -> u64 {
        use deadlines::*;
        if self.needs_examination {
            WITH_EXAMINATION_DAYS
        } else if self.deaths > 0 {
            FATAL_DAYS
        } else if self.seriously_injured >= 2 {
            SEVERAL_SERIOUS_DAYS
        } else if self.seriously_injured == 1 {
            ONE_SERIOUS_DAYS
        } else {
            LIGHT_DAYS
        }
    }

    /// Last day (Vietnam date) for the investigation to be concluded.
    pub fn investigation_deadline(&self) -> NaiveDate {
        let declared = self.declared_at.with_timezone(&vietnam_offset()).date_naive();
        declared
            .checked_add_days(Days::new(self.investigation_days()))
            .unwrap_or(declared)
    }

    /// Hours between the accident and its declaration.
    pub fn declaration_delay_hours(&self) -> i64 {
        (self.declared_at - self.occurred_at).num_hours()
    }

    /// Declared within [`deadlines::DECLARE_WITHIN_HOURS`] of happening.
    pub fn declared_on_time(&self) -> bool {
        self.declaration_delay_hours() <= deadlines::DECLARE_WITHIN_HOURS
    }

    /// Overdue on `today` when the investigation is not concluded (no
    /// sealed minutes, given as `concluded_on`) by the deadline.
    pub fn investigation_overdue(&self, concluded_on: Option<NaiveDate>, today: NaiveDate) -> bool {
        let deadline = self.investigation_deadline();
        match concluded_on {
            Some(d) => d > deadline,
            None => today > deadline,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_accident() -> NewAccident {
        NewAccident {
            occurred_at: "2024-05-10T02:30:00Z".parse().unwrap(),
            place: "Xưởng đúc, Công ty CP Cơ khí Lạch Tray".into(),
            unit: "hp.ngo-quyen".into(),
            facility: Some(FacilityId::new()),
            without_contract: false,
            deaths: 1,
            seriously_injured: 0,
            lightly_injured: 1,
            victims: vec!["Nguyễn Văn A".into(), " ".into()],
            account: "Rơi từ giàn giáo khi sửa mái xưởng.".into(),
            needs_examination: false,
        }
    }

    fn inspectorate() -> Declarant {
        Declarant::Inspectorate {
            person: "Trần Văn Hùng".into(),
        }
    }

    #[test]
    fn deadlines_follow_the_worst_outcome() {
        let now: DateTime<Utc> = "2024-05-10T06:00:00Z".parse().unwrap();
        let units = AdminUnits::builtin();
        let a = new_accident()
            .validate(AccidentId::new(), inspectorate(), now, &units)
            .unwrap();
        assert_eq!(a.severity(), Severity::Fatal);
        assert_eq!(a.victims, vec!["Nguyễn Văn A".to_string()]);
        assert!(a.investigated_by_inspectorate());
        assert_eq!(
            a.investigation_deadline(),
            "2024-06-09".parse::<NaiveDate>().unwrap()
        );
        assert!(a.declared_on_time());
        let today: NaiveDate = "2024-06-10".parse().unwrap();
        assert!(a.investigation_overdue(None, today));
        assert!(!a.investigation_overdue(Some("2024-06-01".parse().unwrap()), today));
        let mut light = a.clone();
        light.deaths = 0;
        assert_eq!(light.severity(), Severity::Light);
        assert_eq!(light.investigation_days(), 4);
        assert!(!light.investigated_by_inspectorate());
    }

    #[test]
    fn refuses_inconsistent_declarations() {
        let now: DateTime<Utc> = "2024-05-10T06:00:00Z".parse().unwrap();
        let units = AdminUnits::builtin();
        let mut future = new_accident();
        future.occurred_at = "2024-05-11T00:00:00Z".parse().unwrap();
        assert!(future
            .validate(AccidentId::new(), inspectorate(), now, &units)
            .is_err());
        let mut nobody = new_accident();
        nobody.deaths = 0;
        nobody.lightly_injured = 0;
        assert!(nobody
            .validate(AccidentId::new(), inspectorate(), now, &units)
            .is_err());
        let mut renamed = new_accident();
        renamed.unit = "hp.thuy-nguyen".into();
        renamed.occurred_at = "2025-02-01T02:00:00Z".parse().unwrap();
        let later: DateTime<Utc> = "2025-02-02T00:00:00Z".parse().unwrap();
        let a = renamed
            .validate(AccidentId::new(), inspectorate(), later, &units)
            .unwrap();
        assert_eq!(a.unit, "hp.thuy-nguyen.2025");
        let mut unit = new_accident();
        unit.unit = "hp.atlantis".into();
        assert!(unit
            .validate(AccidentId::new(), inspectorate(), now, &units)
            .is_err());
        let mut no_facility = new_accident();
        no_facility.facility = None;
        let mut ok = no_facility.clone();
        assert!(no_facility
            .validate(AccidentId::new(), inspectorate(), now, &units)
            .is_err());
        ok.without_contract = true;
        assert!(ok
            .validate(AccidentId::new(), inspectorate(), now, &units)
            .is_ok());
    }
}
