//! Templates shipped in the crate, parsed from `core/templates/`.

use super::model::ChecklistTemplate;

const OSH_GENERAL_V1: &str = include_str!("../../templates/osh-general-v1.json");

/// The general OSH inspection checklist (51 items, Law 84/2015 and its decrees).
pub fn osh_general() -> ChecklistTemplate {
    // Covered by `builtin_templates_are_valid`: a parse failure here is a
    // defect in the shipped file, caught by the test suite before release.
    super::parse(OSH_GENERAL_V1).unwrap_or_else(|e| panic!("built-in template is invalid: {e}"))
}

pub fn builtin_templates() -> Vec<ChecklistTemplate> {
    vec![osh_general()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_are_valid() {
        let t = osh_general();
        assert_eq!(t.id, "osh-general");
        assert_eq!(t.items().count(), 51);
        let (_, b3) = t.item("B3").unwrap();
        assert_eq!(b3.when.as_ref().unwrap().at_least, 300);
        assert!(t.items().all(|(_, i)| !i.legal_basis.is_empty()));
    }
}
