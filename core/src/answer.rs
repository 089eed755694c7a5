//! Answers to checklist items, typed by the item's answer type, and whether
//! they comply with the item's rule.

use serde::{Deserialize, Serialize};

use crate::error::AnswerError;
use crate::template::{AnswerType, ComplianceRule, Item};
use crate::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YesNoNa {
    Yes,
    No,
    NotApplicable,
}

impl YesNoNa {
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Yes => "Có",
            Self::No => "Không",
            Self::NotApplicable => "Không áp dụng",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerValue {
    YesNoNa(YesNoNa),
    Count(u64),
    /// `numerator` out of `denominator`, e.g. 45 trained of 50 workers.
    Ratio {
        numerator: u64,
        denominator: u64,
    },
    Text(String),
}

impl AnswerValue {
    pub fn answer_type(&self) -> AnswerType {
        match self {
            Self::YesNoNa(_) => AnswerType::YesNoNa,
            Self::Count(_) => AnswerType::Count,
            Self::Ratio { .. } => AnswerType::Ratio,
            Self::Text(_) => AnswerType::Text,
        }
    }

    /// Checks the value against the item's answer type and normalises text.
    pub fn validate_for(self, item: &Item) -> Result<AnswerValue, AnswerError> {
        let got = self.answer_type();
        if got != item.answer {
            return Err(AnswerError::WrongType {
                item: item.code.clone(),
                expected: item.answer.code(),
                got: got.code(),
            });
        }
        match self {
            Self::Ratio {
                numerator,
                denominator,
            } if numerator > denominator => Err(AnswerError::Invalid {
                item: item.code.clone(),
                reason: format!("{numerator} out of {denominator}: the part is larger than the whole"),
            }),
            Self::Text(t) => {
                text::ANSWER_TEXT
                    .required(&t)
                    .map(Self::Text)
                    .map_err(|e| AnswerError::Invalid {
                        item: item.code.clone(),
                        reason: e.to_string(),
                    })
            }
            v => Ok(v),
        }
    }

    /// How the answer reads in the minutes.
    pub fn display_vi(&self) -> String {
        match self {
            Self::YesNoNa(v) => v.label_vi().to_string(),
            Self::Count(n) => n.to_string(),
            Self::Ratio {
                numerator,
                denominator,
            } => format!("{numerator}/{denominator}"),
            Self::Text(t) => t.clone(),
        }
    }

    /// The count of a count answer, for item conditions.
    pub fn as_count(&self) -> Option<u64> {
        match self {
            Self::Count(n) => Some(*n),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Compliance {
    Compliant,
    NonCompliant,
    /// The item is a fact, or was answered "not applicable".
    NotAssessed,
}

/// Judges an answer by the item's rule. Integer arithmetic only, so the same
/// answer is judged the same everywhere.
pub fn compliance(item: &Item, value: &AnswerValue) -> Compliance {
    match (item.rule, value) {
        (None, _) => Compliance::NotAssessed,
        (Some(ComplianceRule::MustBeYes), AnswerValue::YesNoNa(YesNoNa::Yes)) => Compliance::Compliant,
        (Some(ComplianceRule::MustBeYes), AnswerValue::YesNoNa(YesNoNa::No)) => Compliance::NonCompliant,
        (Some(ComplianceRule::MustBeYes), AnswerValue::YesNoNa(YesNoNa::NotApplicable)) => {
            Compliance::NotAssessed
        }
        (
            Some(ComplianceRule::MinRatioPerMille(min)),
            AnswerValue::Ratio {
                numerator,
                denominator,
            },
        ) => {
            // Nobody to train (0 of 0) is compliant: there is nothing missing.
            if u128::from(*numerator) * 1000 >= u128::from(min) * u128::from(*denominator) {
                Compliance::Compliant
            } else {
                Compliance::NonCompliant
            }
        }
        // A value of another type never reaches here (validate_for), but an
        // unexpected pairing must not invent a violation.
        _ => Compliance::NotAssessed,
    }
}

/// The answer with its note and the photos that support it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerEntry {
    pub value: AnswerValue,
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::osh_general;

    #[test]
    fn typed_answers_and_rules() {
        let t = osh_general();
        let (_, b1) = t.item("B1").unwrap();
        let (_, c3) = t.item("C3").unwrap();
        let (_, a1) = t.item("A1").unwrap();
        assert!(matches!(
            AnswerValue::Count(3).validate_for(b1),
            Err(AnswerError::WrongType {
                expected: "yes_no_na",
                got: "count",
                ..
            })
        ));
        assert!(AnswerValue::Ratio {
            numerator: 5,
            denominator: 4
        }
        .validate_for(c3)
        .is_err());
        assert_eq!(
            compliance(b1, &AnswerValue::YesNoNa(YesNoNa::No)),
            Compliance::NonCompliant
        );
        assert_eq!(
            compliance(b1, &AnswerValue::YesNoNa(YesNoNa::NotApplicable)),
            Compliance::NotAssessed
        );
        assert_eq!(
            compliance(
                c3,
                &AnswerValue::Ratio {
                    numerator: 49,
                    denominator: 50
                }
            ),
            Compliance::NonCompliant
        );
        assert_eq!(
            compliance(
                c3,
                &AnswerValue::Ratio {
                    numerator: 50,
                    denominator: 50
                }
            ),
            Compliance::Compliant
        );
        assert_eq!(compliance(a1, &AnswerValue::Count(0)), Compliance::NotAssessed);
    }
}
