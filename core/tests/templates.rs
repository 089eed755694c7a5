//! Template files: the built-in one loads, and every malformed file is a
//! typed error that names the template and the offending item.

use kiemtra_core::error::TemplateError;
use kiemtra_core::template::{osh_general, parse};

const BUILTIN: &str = include_str!("../templates/osh-general-v1.json");

/// The built-in file with one item (by code) replaced by `f(item)`.
fn with_item(code: &str, f: impl Fn(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(BUILTIN).unwrap();
    for s in v["sections"].as_array_mut().unwrap() {
        for it in s["items"].as_array_mut().unwrap() {
            if it["code"] == code {
                f(it);
            }
        }
    }
    v.to_string()
}

fn item_error(json: &str) -> (String, String) {
    match parse(json) {
        Err(TemplateError::Item {
            item,
            reason,
            template,
        }) => {
            assert_eq!(template, "osh-general v1");
            (item, reason)
        }
        other => panic!("expected an item error, got {other:?}"),
    }
}

#[test]
fn the_builtin_template_loads_with_legal_bases() {
    let t = parse(BUILTIN).unwrap();
    assert_eq!(t, osh_general());
    assert_eq!(t.sections.len(), 9);
    let (_, c3) = t.item("C3").unwrap();
    assert_eq!(c3.feeds_target, vec![4]);
    assert!(c3.legal_basis.iter().any(|l| l.verified));
    // Items with a rule carry what a violation needs; facts carry none.
    for (_, item) in t.items() {
        assert_eq!(item.rule.is_some(), item.violation.is_some(), "{}", item.code);
    }
}

#[test]
fn duplicate_codes_are_named() {
    let json = with_item("B2", |it| it["code"] = "B1".into());
    let (item, reason) = item_error(&json);
    assert_eq!(item, "B1");
    assert!(reason.contains("used by another item"), "{reason}");
}

#[test]
fn unknown_answer_types_are_named() {
    let (item, reason) = item_error(&with_item("B4", |it| it["answer"] = "maybe".into()));
    assert_eq!(item, "B4");
    assert!(reason.contains("unknown answer type"), "{reason}");
}

#[test]
fn empty_vietnamese_text_is_named() {
    let (item, reason) = item_error(&with_item("E2", |it| it["question_vi"] = "  ".into()));
    assert_eq!(item, "E2");
    assert!(reason.contains("question_vi"), "{reason}");
    let (item, _) = item_error(&with_item("E3", |it| it["violation_vi"] = "".into()));
    assert_eq!(item, "E3");
}

#[test]
fn rules_must_fit_the_answer_type() {
    let (item, _) = item_error(&with_item("B1", |it| {
        it["compliant_when"] = serde_json::json!({"min_ratio": 0.8})
    }));
    assert_eq!(item, "B1");
    let (item, _) = item_error(&with_item("C1", |it| {
        it["compliant_when"] = serde_json::json!({"min_ratio": 1.5})
    }));
    assert_eq!(item, "C1");
    let (item, _) = item_error(&with_item("B1", |it| {
        it.as_object_mut().unwrap().remove("severity");
    }));
    assert_eq!(item, "B1");
    // A fact with a severity would pretend to be a rule.
    let (item, _) = item_error(&with_item("A1", |it| it["severity"] = "major".into()));
    assert_eq!(item, "A1");
}

#[test]
fn conditions_must_point_to_an_earlier_count_item() {
    let (item, reason) = item_error(&with_item("B3", |it| it["when"]["item"] = "H2".into()));
    assert_eq!(item, "B3");
    assert!(reason.contains("earlier"), "{reason}");
    let (item, reason) = item_error(&with_item("B3", |it| it["when"]["item"] = "B1".into()));
    assert_eq!(item, "B3");
    assert!(reason.contains("not a count"), "{reason}");
}

#[test]
fn unknown_targets_kinds_and_fields_are_refused() {
    let (item, _) = item_error(&with_item("A1", |it| it["feeds_target"] = serde_json::json!([9])));
    assert_eq!(item, "A1");
    let (item, _) = item_error(&with_item("K1", |it| {
        it["applies_to"] = serde_json::json!(["castle"])
    }));
    assert_eq!(item, "K1");
    let (item, _) = item_error(&with_item("A1", |it| it["legal_basis"] = serde_json::json!([])));
    assert_eq!(item, "A1");
    // A misspelt field is an error, not silently ignored.
    assert!(matches!(
        parse(&with_item("A1", |it| it["qestion_vi"] = "x".into())),
        Err(TemplateError::Syntax(_))
    ));
}

#[test]
fn corrupt_and_foreign_files_are_refused() {
    assert!(matches!(parse(""), Err(TemplateError::Syntax(_))));
    assert!(matches!(parse("{\"format\": 1"), Err(TemplateError::Syntax(_))));
    let mut v: serde_json::Value = serde_json::from_str(BUILTIN).unwrap();
    v["format"] = "other/9".into();
    assert!(matches!(
        parse(&v.to_string()),
        Err(TemplateError::Template { .. })
    ));
    v["format"] = "kiemtra-template/1".into();
    v["sections"] = serde_json::json!([]);
    assert!(matches!(
        parse(&v.to_string()),
        Err(TemplateError::Template { .. })
    ));
}
