//! The checklist template as the rest of the core uses it: validated,
//! NFC-normalised, with no floats (ratios are in per mille) so it can be
//! embedded in signed documents.

use serde::{Deserialize, Serialize};

use crate::facility::FacilityKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistTemplate {
    pub id: String,
    pub version: u32,
    pub title_vi: String,
    pub title_en: Option<String>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub code: String,
    pub title_vi: String,
    pub title_en: Option<String>,
    pub items: Vec<Item>,
}

/// A reference to a legal text: *Luật 84/2015/QH13, Điều 14 khoản 2*.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LegalRef {
    pub instrument: String,
    pub article: String,
    /// Whether the citation was checked against the consolidated text; an
    /// unchecked one must be reviewed by the inspectorate before legal use.
    pub verified: bool,
}

impl LegalRef {
    /// "Điều 14 khoản 2 Luật 84/2015/QH13", the way Vietnamese documents cite.
    pub fn cite_vi(&self) -> String {
        format!("{} {}", self.article, self.instrument)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerType {
    /// Có / Không / Không áp dụng.
    YesNoNa,
    /// A whole number, e.g. a worker count.
    Count,
    /// A part of a whole, e.g. trained workers out of all workers.
    Ratio,
    /// Free text.
    Text,
}

impl AnswerType {
    pub fn code(self) -> &'static str {
        match self {
            Self::YesNoNa => "yes_no_na",
            Self::Count => "count",
            Self::Ratio => "ratio",
            Self::Text => "text",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::YesNoNa, Self::Count, Self::Ratio, Self::Text]
            .into_iter()
            .find(|t| t.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Minor,
    Major,
    Critical,
}

impl Severity {
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Minor => "Nhẹ",
            Self::Major => "Nghiêm trọng",
            Self::Critical => "Đặc biệt nghiêm trọng",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Critical => "critical",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Minor, Self::Major, Self::Critical]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

/// What a compliant answer looks like. An item without a rule is a fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplianceRule {
    /// A yes/no item must be answered "yes" (or "not applicable").
    MustBeYes,
    /// A ratio item must reach this share, in per mille (1000 = everyone).
    MinRatioPerMille(u32),
}

/// The item is asked only when an earlier count item reaches a threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub item: String,
    pub at_least: u64,
}

/// What a non-compliant answer proposes: the violation and its remedy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationSpec {
    pub severity: Severity,
    pub text_vi: String,
    pub text_en: Option<String>,
    /// What the establishment must do; defaults to fixing the violation.
    pub requirement_vi: String,
    pub remediation_days: u32,
    pub sanction: Option<LegalRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub code: String,
    pub question_vi: String,
    pub question_en: Option<String>,
    pub answer: AnswerType,
    /// Labels of a ratio's two counts.
    pub numerator_vi: Option<String>,
    pub denominator_vi: Option<String>,
    pub legal_basis: Vec<LegalRef>,
    pub rule: Option<ComplianceRule>,
    /// Present exactly when `rule` is.
    pub violation: Option<ViolationSpec>,
    /// Empty means every kind of facility.
    pub applies_to: Vec<FacilityKind>,
    /// The plan's targets (1–8) this item's answer helps compute.
    pub feeds_target: Vec<u8>,
    pub when: Option<Condition>,
}

impl Item {
    pub fn applies_to(&self, kind: FacilityKind) -> bool {
        self.applies_to.is_empty() || self.applies_to.contains(&kind)
    }
}

impl ChecklistTemplate {
    pub fn items(&self) -> impl Iterator<Item = (&Section, &Item)> {
        self.sections
            .iter()
            .flat_map(|s| s.items.iter().map(move |i| (s, i)))
    }

    pub fn item(&self, code: &str) -> Option<(&Section, &Item)> {
        self.items().find(|(_, i)| i.code == code)
    }

    pub fn key(&self) -> TemplateRef {
        TemplateRef {
            id: self.id.clone(),
            version: self.version,
        }
    }
}

/// A template pinned by id and version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TemplateRef {
    pub id: String,
    pub version: u32,
}

impl std::fmt::Display for TemplateRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} v{}", self.id, self.version)
    }
}
