//! Templates shipped in the crate, parsed from `core/templates/`.

use super::model::ChecklistTemplate;

const OSH_GENERAL_V1: &str = include_str!("../../templates/osh-general-v1.json");
const OSH_ACCIDENT_INVESTIGATION_V1: &str =
    include_str!("../../templates/osh-accident-investigation-v1.json");

/// The general OSH inspection checklist (51 items, Law 84/2015 and its decrees).
pub fn osh_general() -> ChecklistTemplate {
    // Covered by `builtin_templates_are_valid`: a parse failure here is a
    // defect in the shipped file, caught by the test suite before release.
    super::parse(OSH_GENERAL_V1).unwrap_or_else(|e| panic!("built-in template is invalid: {e}"))
}

/// The labour-accident investigation checklist (*điều tra tai nạn lao động*,
/// 29 items, Law 84/2015 Art. 34–38, Decree 39/2016, Decree 12/2022).
pub fn osh_accident_investigation() -> ChecklistTemplate {
    // Covered by `builtin_templates_are_valid`, like `osh_general`.
    super::parse(OSH_ACCIDENT_INVESTIGATION_V1)
        .unwrap_or_else(|e| panic!("built-in template is invalid: {e}"))
}

pub fn builtin_templates() -> Vec<ChecklistTemplate> {
    vec![osh_general(), osh_accident_investigation()]
}

#[cfg(test)]
mod tests {
    use super::super::model::{AnswerType, ComplianceRule};
    use super::*;

    #[test]
    fn builtin_templates_are_valid() {
        let t = osh_general();
        assert_eq!(t.id, "osh-general");
        assert_eq!(t.items().count(), 51);
        let (_, b3) = t.item("B3").unwrap();
        assert_eq!(b3.when.as_ref().unwrap().at_least, 300);
        assert!(t.items().all(|(_, i)| !i.legal_basis.is_empty()));

        let a = osh_accident_investigation();
        assert_eq!(a.id, "osh-accident-investigation");
        assert_eq!(a.version, 1);
        assert_eq!(a.items().count(), 29);
        assert!(a.items().all(|(_, i)| !i.legal_basis.is_empty()));
        // Deaths feed targets 1 and 8, compensation target 7.
        assert_eq!(a.item("A2").unwrap().1.feeds_target, vec![1, 8]);
        let (_, d6) = a.item("D6").unwrap();
        assert_eq!(d6.answer, AnswerType::Ratio);
        assert_eq!(d6.rule, Some(ComplianceRule::MinRatioPerMille(1000)));
        assert_eq!(d6.feeds_target, vec![7]);
        // Not preserving the scene and not declaring are violations.
        for code in ["B4", "D1"] {
            assert!(a.item(code).unwrap().1.violation.is_some(), "{code}");
        }
        // Causes are facts: a cause found is never itself a violation.
        let (causes, _) = a.item("C1").unwrap();
        assert!(causes.items.iter().all(|i| i.rule.is_none()));
        assert_eq!(a.item("B2").unwrap().1.answer, AnswerType::Text);

        let all = builtin_templates();
        let mut ids: Vec<_> = all.iter().map(|t| t.key()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "built-in templates share an id and version");
    }
}
