//! The template file format (`kiemtra-template/1`, JSON) and its validation.
//!
//! The file is what an agency writes by hand, so it is read leniently into
//! plain strings and numbers and then checked field by field: every error
//! names the template and the item at fault. `docs/formats.md` documents it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::model::*;
use crate::error::TemplateError;
use crate::facility::FacilityKind;
use crate::text;

pub const FORMAT: &str = "kiemtra-template/1";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    format: String,
    id: String,
    version: u32,
    title_vi: String,
    #[serde(default)]
    title_en: Option<String>,
    #[serde(default)]
    about: Option<String>,
    sections: Vec<SectionFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SectionFile {
    code: String,
    title_vi: String,
    #[serde(default)]
    title_en: Option<String>,
    items: Vec<ItemFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LegalRefFile {
    instrument: String,
    article: String,
    #[serde(default)]
    verified: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompliantWhen {
    #[serde(default)]
    equals: Option<String>,
    #[serde(default)]
    min_ratio: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WhenFile {
    item: String,
    at_least: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemFile {
    code: String,
    #[serde(default)]
    question_vi: String,
    #[serde(default)]
    question_en: Option<String>,
    answer: String,
    #[serde(default)]
    numerator_vi: Option<String>,
    #[serde(default)]
    denominator_vi: Option<String>,
    #[serde(default)]
    legal_basis: Vec<LegalRefFile>,
    #[serde(default)]
    compliant_when: Option<CompliantWhen>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    violation_vi: Option<String>,
    #[serde(default)]
    violation_en: Option<String>,
    #[serde(default)]
    requirement_vi: Option<String>,
    #[serde(default)]
    remediation_days: Option<u32>,
    #[serde(default)]
    sanction: Option<LegalRefFile>,
    #[serde(default)]
    applies_to: Vec<String>,
    #[serde(default)]
    feeds_target: Vec<u8>,
    #[serde(default)]
    when: Option<WhenFile>,
}

/// Parses and validates a template file.
pub fn parse(json: &str) -> Result<ChecklistTemplate, TemplateError> {
    let file: TemplateFile = serde_json::from_str(json).map_err(|e| TemplateError::Syntax(e.to_string()))?;
    let _ = file.about;
    let tname = if file.id.trim().is_empty() {
        "(no id)".to_string()
    } else {
        format!("{} v{}", file.id.trim(), file.version)
    };
    let terr = |reason: String| TemplateError::Template {
        template: tname.clone(),
        reason,
    };
    if file.format != FORMAT {
        return Err(terr(format!(
            "format must be {FORMAT:?}, found {:?}",
            file.format
        )));
    }
    let id = file.id.trim().to_string();
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(terr("id must be non-empty ASCII letters, digits, - or _".into()));
    }
    if file.version == 0 {
        return Err(terr("version starts at 1".into()));
    }
    let title_vi = text::required("title_vi", &file.title_vi, 500).map_err(|e| terr(e.to_string()))?;
    let title_en =
        text::optional("title_en", file.title_en.as_deref(), 500).map_err(|e| terr(e.to_string()))?;
    if file.sections.is_empty() {
        return Err(terr("a template needs at least one section".into()));
    }

    let mut section_codes = BTreeSet::new();
    // Item code -> answer type of the items seen so far, for conditions.
    let mut earlier: BTreeMap<String, AnswerType> = BTreeMap::new();
    let mut sections = Vec::with_capacity(file.sections.len());
    for s in file.sections {
        let code = s.code.trim().to_string();
        if code.is_empty() || !section_codes.insert(code.clone()) {
            return Err(terr(format!("section code {code:?} is empty or repeated")));
        }
        let title_vi =
            text::required("title_vi", &s.title_vi, 500).map_err(|e| terr(format!("section {code}: {e}")))?;
        let title_en = text::optional("title_en", s.title_en.as_deref(), 500)
            .map_err(|e| terr(format!("section {code}: {e}")))?;
        if s.items.is_empty() {
            return Err(terr(format!("section {code} has no items")));
        }
        let mut items = Vec::with_capacity(s.items.len());
        for it in s.items {
            let item = validate_item(&tname, it, &earlier)?;
            earlier.insert(item.code.clone(), item.answer);
            items.push(item);
        }
        sections.push(Section {
            code,
            title_vi,
            title_en,
            items,
        });
    }
    Ok(ChecklistTemplate {
        id,
        version: file.version,
        title_vi,
        title_en,
        sections,
    })
}

fn legal_ref(r: LegalRefFile) -> Result<LegalRef, String> {
    Ok(LegalRef {
        instrument: text::required("instrument", &r.instrument, 200).map_err(|e| e.to_string())?,
        article: text::required("article", &r.article, 200).map_err(|e| e.to_string())?,
        verified: r.verified,
    })
}

fn validate_item(
    template: &str,
    it: ItemFile,
    earlier: &BTreeMap<String, AnswerType>,
) -> Result<Item, TemplateError> {
    let code = it.code.trim().to_string();
    let err = |reason: String| TemplateError::Item {
        template: template.to_string(),
        item: if code.is_empty() {
            "(no code)".into()
        } else {
            code.clone()
        },
        reason,
    };
    if code.is_empty()
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
    {
        return Err(err(
            "code must be non-empty ASCII letters, digits, '.', '-' or '_'".into(),
        ));
    }
    if earlier.contains_key(&code) {
        return Err(err("code is used by another item".into()));
    }
    let question_vi = text::required("question_vi", &it.question_vi, 1000).map_err(|e| err(e.to_string()))?;
    let question_en =
        text::optional("question_en", it.question_en.as_deref(), 1000).map_err(|e| err(e.to_string()))?;
    let answer = AnswerType::from_code(&it.answer).ok_or_else(|| {
        err(format!(
            "unknown answer type {:?} (expected yes_no_na, count, ratio or text)",
            it.answer
        ))
    })?;
    let numerator_vi =
        text::optional("numerator_vi", it.numerator_vi.as_deref(), 300).map_err(|e| err(e.to_string()))?;
    let denominator_vi = text::optional("denominator_vi", it.denominator_vi.as_deref(), 300)
        .map_err(|e| err(e.to_string()))?;
    if it.legal_basis.is_empty() {
        return Err(err("every item needs at least one legal basis".into()));
    }
    let legal_basis = it
        .legal_basis
        .into_iter()
        .map(legal_ref)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(format!("legal basis: {e}")))?;

    let rule = match it.compliant_when {
        None => None,
        Some(CompliantWhen {
            equals: Some(v),
            min_ratio: None,
        }) => {
            if answer != AnswerType::YesNoNa || v != "yes" {
                return Err(err(
                    "compliant_when.equals is only \"yes\", on a yes_no_na item".into()
                ));
            }
            Some(ComplianceRule::MustBeYes)
        }
        Some(CompliantWhen {
            equals: None,
            min_ratio: Some(r),
        }) => {
            if answer != AnswerType::Ratio {
                return Err(err("compliant_when.min_ratio needs a ratio item".into()));
            }
            if !(0.0..=1.0).contains(&r) {
                return Err(err(format!("min_ratio {r} is not between 0 and 1")));
            }
            Some(ComplianceRule::MinRatioPerMille((r * 1000.0).round() as u32))
        }
        Some(_) => return Err(err("compliant_when needs exactly one of equals, min_ratio".into())),
    };

    let violation = match rule {
        None => {
            if it.severity.is_some() || it.violation_vi.is_some() || it.remediation_days.is_some() {
                return Err(err(
                    "severity, violation_vi and remediation_days need a compliant_when rule (a fact is never a violation)"
                        .into(),
                ));
            }
            None
        }
        Some(_) => {
            let severity_code = it
                .severity
                .ok_or_else(|| err("an item with a rule needs a severity".into()))?;
            let severity = Severity::from_code(&severity_code).ok_or_else(|| {
                err(format!(
                    "unknown severity {severity_code:?} (minor, major, critical)"
                ))
            })?;
            let text_vi = text::required("violation_vi", it.violation_vi.as_deref().unwrap_or(""), 1000)
                .map_err(|e| err(e.to_string()))?;
            let text_en = text::optional("violation_en", it.violation_en.as_deref(), 1000)
                .map_err(|e| err(e.to_string()))?;
            let requirement_vi = text::optional("requirement_vi", it.requirement_vi.as_deref(), 1000)
                .map_err(|e| err(e.to_string()))?
                .unwrap_or_else(|| format!("Khắc phục: {}", lower_first(&text_vi)));
            let remediation_days = it
                .remediation_days
                .ok_or_else(|| err("an item with a rule needs remediation_days".into()))?;
            if remediation_days > 3650 {
                return Err(err("remediation_days over ten years".into()));
            }
            let sanction = it
                .sanction
                .map(legal_ref)
                .transpose()
                .map_err(|e| err(format!("sanction: {e}")))?;
            Some(ViolationSpec {
                severity,
                text_vi,
                text_en,
                requirement_vi,
                remediation_days,
                sanction,
            })
        }
    };

    let applies_to = it
        .applies_to
        .iter()
        .map(|k| {
            FacilityKind::from_code(k)
                .ok_or_else(|| err(format!("unknown facility kind {k:?} in applies_to")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(t) = it.feeds_target.iter().find(|t| !(1..=8).contains(*t)) {
        return Err(err(format!("feeds_target {t}: the plan has targets 1 to 8")));
    }
    let when = match it.when {
        None => None,
        Some(w) => match earlier.get(w.item.trim()) {
            Some(AnswerType::Count) => Some(Condition {
                item: w.item.trim().to_string(),
                at_least: w.at_least,
            }),
            Some(_) => {
                return Err(err(format!(
                    "condition on {:?}, which is not a count item",
                    w.item
                )))
            }
            None => {
                return Err(err(format!(
                    "condition on {:?}, which is not an earlier item",
                    w.item
                )))
            }
        },
    };
    Ok(Item {
        code,
        question_vi,
        question_en,
        answer,
        numerator_vi,
        denominator_vi,
        legal_basis,
        rule,
        violation,
        applies_to,
        feeds_target: it.feeds_target,
        when,
    })
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}
