//! Keeps `docs/protocol.cddl` and `docs/protocol-examples.md` equal to the
//! Rust wire types:
//!
//! - CBOR made by the real types, for every message, every payload variant
//!   and every nested type, matches its named rule (and mutated bytes do not);
//! - every rule of the schema is exercised by a sample, every payload
//!   variant has a rule (`samples::payload_rule` has no wildcard arm), and
//!   every serialisable type of `sync/wire.rs` and `ops.rs` is named here;
//! - the text bounds of the schema are the rules of `core/src/text.rs`;
//! - the examples page is what the samples give (`KIEMTRA_BLESS=1` rewrites
//!   it), and each example read back from the page decodes into its type,
//!   re-encodes to the same bytes and matches its rule; the signing examples
//!   verify with the example keys.

#[path = "protocol/diag.rs"]
mod diag;
#[path = "protocol/samples.rs"]
mod samples;

use std::collections::{BTreeMap, BTreeSet};

use kiemtra_core::codec::{from_cbor, to_cbor};
use kiemtra_core::identity::{fingerprint, verify_strict, KeyStore};
use kiemtra_core::minutes::{decode_canonical, signing_message, Hash32, MinutesDocument, MinutesSignature};
use kiemtra_core::ops::{Operation, Payload};
use kiemtra_core::sync::wire::*;
use kiemtra_core::text::{self, TextRule};
use samples::Sample;
use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};

const SCHEMA: &str = include_str!("../../docs/protocol.cddl");
const EXAMPLES_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol-examples.md");
const VECTOR: &str = include_str!("vectors/minutes-v1.json");

thread_local! {
    /// The schema, parsed once per test thread (parsing is most of the time).
    static AST: &'static cddl::ast::CDDL<'static> =
        Box::leak(Box::new(cddl::cddl_from_str(SCHEMA, true).expect("the schema parses")));
}

/// Validates `bytes` against the schema's rule `rule`. cddl-rs validates
/// against the first rule of a document and has no call naming another one:
/// a copy of the parsed schema with the wanted rule moved first is the
/// narrowest way to choose it (and parses the schema once, not per value).
fn validate(rule: &str, bytes: &[u8]) -> Result<(), String> {
    use cddl::validator::Validator;
    AST.with(|ast| {
        let mut doc = (*ast).clone();
        let at = doc
            .rules
            .iter()
            .position(|r| r.name() == rule)
            .ok_or_else(|| format!("the schema has no rule {rule}"))?;
        let wanted = doc.rules.remove(at);
        doc.rules.insert(0, wanted);
        let value = cddl::validator::cbor_value::decode_cbor(bytes).map_err(|e| e.to_string())?;
        let mut validator = cddl::validator::cbor::CBORValidator::new(&doc, value, None);
        let result: Result<(), cddl::validator::cbor::Error<std::io::Error>> = validator.validate();
        result.map_err(|e| e.to_string())
    })
}

/// The rule names the schema defines.
fn schema_rules() -> BTreeSet<String> {
    AST.with(|ast| ast.rules.iter().map(|r| r.name()).collect())
}

fn canonical_minutes() -> Vec<u8> {
    let v: serde_json::Value = serde_json::from_str(VECTOR).expect("vector");
    hex::decode(v["canonical_hex"].as_str().expect("canonical_hex")).expect("hex")
}

/// The serialisable types of `sync/wire.rs` and `ops.rs`, and their rules.
/// A type added to either file without a line here fails
/// `every_wire_type_has_a_rule`.
const WIRE_TYPES: [(&str, &str); 18] = [
    ("Capabilities", "capabilities"),
    ("EnrolRequest", "enrol-request"),
    ("CertificateBody", "certificate-body"),
    ("Certificate", "certificate"),
    ("EnrolResponse", "enrol-response"),
    ("ChallengeRequest", "challenge-request"),
    ("Challenge", "challenge"),
    ("SessionRequest", "session-request"),
    ("Session", "session"),
    ("PushRequest", "push-request"),
    ("RefusalKind", "refusal-kind"),
    ("PushOutcome", "push-outcome"),
    ("PushResult", "push-result"),
    ("PushResponse", "push-response"),
    ("LogEntry", "log-entry"),
    ("PullResponse", "pull-response"),
    ("UploadStatus", "upload-status"),
    ("Operation", "operation"),
];

/// Every sample: `example` ones are also shown on the examples page.
fn all_samples() -> Vec<(Sample, bool)> {
    use samples::*;
    let canonical = canonical_minutes();
    let document = decode_canonical(&canonical).expect("the vector decodes");
    let content_hash = Hash32::sha256(&canonical);
    let mut out: Vec<(Sample, bool)> = vec![
        (
            sample("capabilities", "capabilities", "Capabilities", &capabilities()),
            true,
        ),
        (
            sample("enrol-request", "enrol-request", "EnrolRequest", &enrol_request()),
            true,
        ),
        (
            sample(
                "enrol-response",
                "enrol-response",
                "EnrolResponse",
                &enrol_response(),
            ),
            true,
        ),
        (
            sample(
                "certificate-body",
                "certificate-body",
                "CertificateBody",
                &certificate_body(),
            ),
            true,
        ),
        (
            sample("certificate", "certificate", "Certificate", &certificate()),
            false,
        ),
        (
            sample(
                "challenge-request",
                "challenge-request",
                "ChallengeRequest",
                &ChallengeRequest { device: device() },
            ),
            true,
        ),
        (sample("challenge", "challenge", "Challenge", &challenge()), true),
        (
            sample(
                "session-request",
                "session-request",
                "SessionRequest",
                &session_request(),
            ),
            true,
        ),
        (sample("session", "session", "Session", &session()), true),
        (
            sample("push-request", "push-request", "PushRequest", &push_request()),
            true,
        ),
        (
            sample(
                "push-request-with-code",
                "push-request",
                "PushRequest",
                &push_request_with_code(&canonical),
            ),
            false,
        ),
        (
            sample("push-response", "push-response", "PushResponse", &push_response()),
            true,
        ),
        (
            sample("pull-response", "pull-response", "PullResponse", &pull_response()),
            true,
        ),
        (
            sample(
                "upload-status",
                "upload-status",
                "UploadStatus",
                &UploadStatus {
                    received: 943_718,
                    complete: false,
                },
            ),
            true,
        ),
        (
            sample(
                "pull-response-empty",
                "pull-response",
                "PullResponse",
                &PullResponse {
                    entries: vec![],
                    next: 0,
                    more: false,
                    head: 0,
                },
            ),
            false,
        ),
        (
            sample(
                "push-result",
                "push-result",
                "PushResult",
                &push_response().results[0],
            ),
            false,
        ),
        (
            sample(
                "refusal-kind",
                "refusal-kind",
                "RefusalKind",
                &RefusalKind::NotFound,
            ),
            false,
        ),
        (
            sample("log-entry", "log-entry", "LogEntry", &pull_response().entries[0]),
            false,
        ),
        (
            sample(
                "server-operation",
                "operation",
                "Operation",
                &server_operation(1, Payload::PutInspector(inspector())),
            ),
            false,
        ),
        (
            sample(
                "minutes-document",
                "minutes-document",
                "MinutesDocument",
                &document,
            ),
            true,
        ),
        (
            sample(
                "minutes-signature",
                "minutes-signature",
                "MinutesSignature",
                &minutes_signature(&content_hash),
            ),
            true,
        ),
        (
            sample(
                "minutes-statement-refused",
                "minutes-statement",
                "",
                &refused_statement(),
            ),
            false,
        ),
        (
            sample("minutes-statement", "minutes-statement", "", &document.statement),
            false,
        ),
        (
            sample("minutes-place", "minutes-place", "", &document.place),
            false,
        ),
        (
            sample("minutes-member", "minutes-member", "", &document.members[0]),
            false,
        ),
        (
            sample(
                "minutes-establishment",
                "minutes-establishment",
                "",
                &document.establishment,
            ),
            false,
        ),
        (
            sample("section-findings", "section-findings", "", &document.findings[0]),
            false,
        ),
        (
            sample("finding", "finding", "", &document.findings[0].items[0]),
            false,
        ),
        (
            sample("violation-entry", "violation-entry", "", &document.violations[0]),
            false,
        ),
        (
            sample("citation", "citation", "", &document.violations[0].legal_basis[0]),
            false,
        ),
        (sample("photo-ref", "photo-ref", "", &document.photos[0]), false),
        (
            sample("minutes-person", "minutes-person", "", &document.representative),
            false,
        ),
        (
            sample("report-back", "report-back", "", &document.report_back),
            false,
        ),
        (
            sample(
                "witness",
                "witness",
                "",
                &kiemtra_core::minutes::Witness {
                    name: "A".into(),
                    title: "B".into(),
                    role: "C".into(),
                },
            ),
            false,
        ),
        (
            sample(
                "key-fingerprint",
                "key-fingerprint",
                "",
                &document.members[0].key_fingerprint,
            ),
            false,
        ),
    ];
    for (i, payload) in payloads(&canonical).into_iter().enumerate() {
        let rule = payload_rule(&payload);
        let name = rule.trim_start_matches("op-").to_string();
        out.push((sample(&name, rule, "Payload", &payload), true));
        out.push((
            sample(&format!("{name}-op"), "payload", "Payload", &payload),
            false,
        ));
        let op = operation(i as u64 + 1, payload);
        out.push((
            sample(&format!("{name}-operation"), "operation", "Operation", &op),
            false,
        ));
    }
    // Optional fields absent, and the other shapes of the enums.
    let nested: Vec<Sample> = vec![
        sample("facility", "facility", "", &facility()),
        sample("facility-no-tax-code", "facility", "", &{
            let mut f = facility();
            f.tax_code = None;
            f.kind = kiemtra_core::facility::FacilityKind::CraftVillage;
            f
        }),
        sample(
            "facility-kind",
            "facility-kind",
            "",
            &kiemtra_core::facility::FacilityKind::HouseholdBusiness,
        ),
        sample("tax-code", "tax-code", "", &facility().tax_code),
        sample("address", "address", "", &facility().address),
        sample("inspector", "inspector", "", &inspector()),
        sample("delegation", "delegation", "", &delegation()),
        sample(
            "delegation-member",
            "delegation-member",
            "",
            &delegation().members[1],
        ),
        sample("role", "role", "", &kiemtra_core::people::Role::Secretary),
        sample("inspection", "inspection", "", &inspection(false)),
        sample("inspection-accident", "inspection", "", &inspection(true)),
        sample(
            "inspection-kind",
            "inspection-kind",
            "",
            &kiemtra_core::inspection::InspectionKind::Outreach,
        ),
        sample(
            "status",
            "status",
            "",
            &kiemtra_core::inspection::Status::FindingsClosed,
        ),
        sample("template-ref", "template-ref", "", &inspection(false).template),
        sample("admin-unit", "admin-unit", "", &admin_units()[0]),
        sample("admin-unit-open", "admin-unit", "", &admin_units()[1]),
        sample("geo-point", "geo-point", "", &geo()),
        sample("photo-record", "photo-record", "", &photo(true)),
        sample("photo-record-bare", "photo-record", "", &photo(false)),
        sample("blob-ref", "blob-ref", "", &photo(true).image),
        sample(
            "source-format",
            "source-format",
            "",
            &kiemtra_core::photo::SourceFormat::Webp,
        ),
        sample(
            "review",
            "review",
            "",
            &kiemtra_core::remediation::Review {
                report: kiemtra_core::ids::OpId::from_uuid(uuid(9)),
                verdict: kiemtra_core::remediation::Verdict::StillOpen,
                note: None,
            },
        ),
        sample("access-code", "access-code", "", &access_code()),
        sample("checklist-template", "checklist-template", "", &template()),
        sample(
            "checklist-template-builtin",
            "checklist-template",
            "",
            &kiemtra_core::template::osh_general(),
        ),
        sample(
            "template-section",
            "template-section",
            "",
            &template().sections[0],
        ),
        sample(
            "template-item",
            "template-item",
            "",
            &template().sections[0].items[1],
        ),
        sample("legal-ref", "legal-ref", "", &legal_ref()),
        sample(
            "compliance-rule",
            "compliance-rule",
            "",
            &kiemtra_core::template::ComplianceRule::MustBeYes,
        ),
        sample(
            "compliance-rule-ratio",
            "compliance-rule",
            "",
            &kiemtra_core::template::ComplianceRule::MinRatioPerMille(800),
        ),
        sample(
            "violation-spec",
            "violation-spec",
            "",
            &template().sections[0].items[1].violation,
        ),
        sample(
            "condition",
            "condition",
            "",
            &template().sections[0].items[1].when,
        ),
        sample(
            "severity",
            "severity",
            "",
            &kiemtra_core::template::Severity::Minor,
        ),
        sample(
            "violation-edit-empty",
            "violation-edit",
            "",
            &kiemtra_core::violation::ViolationEdit::default(),
        ),
        sample(
            "violation-edit",
            "violation-edit",
            "",
            &kiemtra_core::violation::ViolationEdit {
                dismissed: Some("Cơ sở đã khắc phục ngay tại chỗ".into()),
                ..Default::default()
            },
        ),
        sample(
            "yes-no-na",
            "yes-no-na",
            "",
            &kiemtra_core::answer::YesNoNa::NotApplicable,
        ),
        sample(
            "answer-entry",
            "answer-entry",
            "",
            &kiemtra_core::answer::AnswerEntry {
                value: kiemtra_core::answer::AnswerValue::Text("Có sổ theo dõi".into()),
                note: Some("Dòng một\nDòng hai".into()),
            },
        ),
        sample(
            "answer-value-count",
            "answer-value",
            "",
            &kiemtra_core::answer::AnswerValue::Count(0),
        ),
        sample(
            "answer-value-ratio",
            "answer-value",
            "",
            &kiemtra_core::answer::AnswerValue::Ratio {
                numerator: 45,
                denominator: 50,
            },
        ),
        sample(
            "answer-value-yes-no-na",
            "answer-value",
            "",
            &kiemtra_core::answer::AnswerValue::YesNoNa(kiemtra_core::answer::YesNoNa::No),
        ),
        sample(
            "answer-value-text",
            "answer-value",
            "",
            &kiemtra_core::answer::AnswerValue::Text("x".into()),
        ),
        sample(
            "outcome-accepted",
            "outcome-accepted",
            "",
            &PushOutcome::Accepted { server_seq: u64::MAX },
        ),
        sample(
            "outcome-duplicate",
            "outcome-duplicate",
            "",
            &PushOutcome::Duplicate { server_seq: 0 },
        ),
        sample(
            "outcome-refused",
            "outcome-refused",
            "",
            &PushOutcome::Refused {
                kind: RefusalKind::Invalid,
                reason: "x".into(),
            },
        ),
        sample(
            "push-outcome",
            "push-outcome",
            "",
            &PushOutcome::Refused {
                kind: RefusalKind::Forbidden,
                reason: "x".into(),
            },
        ),
        // Scalars, as the real types write them.
        sample("id", "id", "", &device()),
        sample("time", "time", "", &time("2025-03-04T08:00:00Z")),
        sample(
            "time-fraction",
            "time",
            "",
            &time("2025-03-04T08:00:00.123456789Z"),
        ),
        sample("local-time", "local-time", "", &photo(true).captured_at),
        sample("date", "date", "", &inspection(false).planned_date),
        sample("hash32", "hash32", "", &content_hash),
        sample(
            "public-key",
            "public-key",
            "",
            &Hash32(device_key().public_key_bytes()),
        ),
        sample(
            "signature",
            "signature",
            "",
            &minutes_signature(&content_hash).signature,
        ),
        sample("sha256-hex", "sha256-hex", "", &photo(true).original_sha256),
        sample("u32", "u32", "", &u32::MAX),
        sample("u64", "u64", "", &u64::MAX),
    ];
    out.extend(nested.into_iter().map(|s| (s, false)));
    // The bounded texts at their longest, in the widest characters.
    for (rule, _, t) in TEXT_RULES {
        let longest: String = std::iter::repeat_n('𝔸', t.max).collect();
        out.push((sample(&format!("{rule}-longest"), rule, "", &longest), false));
    }
    out
}

/// The schema's bounded texts and the rule of `core/src/text.rs` each is.
const TEXT_RULES: [(&str, &str, TextRule); 18] = [
    ("answer-text", "ANSWER_TEXT", text::ANSWER_TEXT),
    ("note", "NOTE", text::NOTE),
    ("requirement", "REQUIREMENT", text::REQUIREMENT),
    ("dismissal-reason", "DISMISSAL_REASON", text::DISMISSAL_REASON),
    ("caption", "CAPTION", text::CAPTION),
    ("review-note", "REVIEW_NOTE", text::REVIEW_NOTE),
    ("remediation-text", "REMEDIATION_TEXT", text::REMEDIATION_TEXT),
    ("sent-by", "SENT_BY", text::SENT_BY),
    ("facility-name", "FACILITY_NAME", text::FACILITY_NAME),
    ("street", "STREET", text::STREET),
    ("sector", "SECTOR", text::SECTOR),
    ("inspector-name", "INSPECTOR_NAME", text::INSPECTOR_NAME),
    ("inspector-title", "INSPECTOR_TITLE", text::INSPECTOR_TITLE),
    ("agency", "AGENCY", text::AGENCY),
    ("delegation-name", "DELEGATION_NAME", text::DELEGATION_NAME),
    ("decision", "DECISION", text::DECISION),
    ("unit-name", "UNIT_NAME", text::UNIT_NAME),
    ("device-name", "DEVICE_NAME", text::DEVICE_NAME),
];

#[test]
fn every_sample_matches_its_rule() {
    let mut failures = Vec::new();
    for (s, _) in all_samples() {
        if let Err(e) = validate(s.rule, &s.bytes) {
            failures.push(format!("{} against {}: {e}", s.name, s.rule));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_is_exercised_and_every_payload_has_a_rule() {
    let rules = schema_rules();
    let samples = all_samples();
    let exercised: BTreeSet<String> = samples.iter().map(|(s, _)| s.rule.to_string()).collect();
    let unexercised: Vec<_> = rules.difference(&exercised).collect();
    assert!(
        unexercised.is_empty(),
        "rules no sample exercises: {unexercised:?}"
    );
    let undefined: Vec<_> = exercised.difference(&rules).collect();
    assert!(
        undefined.is_empty(),
        "rules the samples name but the schema lacks: {undefined:?}"
    );
    // One sample per variant, each with its own rule, and no other op-* rule.
    let payloads = samples::payloads(&canonical_minutes());
    let named: BTreeSet<&str> = payloads.iter().map(samples::payload_rule).collect();
    assert_eq!(named.len(), payloads.len(), "two payload samples share a rule");
    let op_rules: BTreeSet<&str> = rules
        .iter()
        .map(String::as_str)
        .filter(|r| r.starts_with("op-"))
        .collect();
    assert_eq!(named, op_rules);
    // The payload choice lists every op-* rule.
    let choice = SCHEMA
        .split("\npayload = ")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .expect("the payload rule");
    for r in &op_rules {
        assert!(
            choice.split(['/', ' ', '\n']).any(|w| w == *r),
            "payload does not list {r}"
        );
    }
}

#[test]
fn every_wire_type_has_a_rule() {
    let named: BTreeMap<&str, &str> = WIRE_TYPES.into_iter().collect();
    let rules = schema_rules();
    for (file, source) in [
        ("sync/wire.rs", include_str!("../src/sync/wire.rs")),
        ("ops.rs", include_str!("../src/ops.rs")),
    ] {
        let mut serialisable = false;
        for line in source.lines() {
            let line = line.trim();
            if line.starts_with("#[derive(") {
                serialisable = line.contains("Serialize");
                continue;
            }
            let declared = line
                .strip_prefix("pub struct ")
                .or_else(|| line.strip_prefix("pub enum "))
                .and_then(|rest| rest.split(|c: char| !c.is_alphanumeric()).next());
            if let Some(name) = declared {
                if serialisable && name != "Payload" {
                    let rule = named
                        .get(name)
                        .unwrap_or_else(|| panic!("{file}: {name} has no rule in WIRE_TYPES"));
                    assert!(rules.contains(*rule), "{name}: no rule {rule} in the schema");
                }
                serialisable = false;
            }
        }
    }
}

#[test]
fn text_bounds_are_the_text_rules() {
    let fields: BTreeSet<&str> = TEXT_RULES.iter().map(|(_, _, t)| t.field).collect();
    let all: BTreeSet<&str> = text::ALL.iter().map(|t| t.field).collect();
    assert_eq!(fields, all, "a text rule of text::ALL has no type in the schema");
    for (rule, name, t) in TEXT_RULES {
        let prefix = format!("{rule} = tstr .size (1..{}) ", 4 * t.max);
        let line = SCHEMA
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no line `{prefix}…` in the schema"));
        let kind = if t.multiline { "lines" } else { "one line" };
        let comment = format!("; text::{name}: {} characters, {kind}", t.max);
        assert!(line.ends_with(&comment), "{line:?} should end with {comment:?}");
        // One character more than the rule allows is refused by the rule's
        // check (the schema's byte bound is the widest such text can be).
        let over: String = std::iter::repeat_n('a', t.max + 1).collect();
        assert!(t.check(&over).is_err());
    }
}

/// What the real types would never write is refused: the validator bites.
#[test]
fn the_schema_refuses_other_shapes() {
    use serde_cbor::Value;
    let op = samples::operation(1, samples::payloads(&canonical_minutes()).swap_remove(4));
    let value: Value = serde_cbor::value::to_value(&op).expect("value");
    let Value::Map(map) = value else {
        panic!("an operation is a map")
    };
    let key = |k: &str| Value::Text(k.into());
    let variants: Vec<(&str, BTreeMap<Value, Value>)> = vec![
        ("a text id", {
            let mut m = map.clone();
            m.insert(key("id"), Value::Text(op.id.to_string()));
            m
        }),
        ("a 15-byte id", {
            let mut m = map.clone();
            m.insert(key("device"), Value::Bytes(vec![1; 15]));
            m
        }),
        ("no seq", {
            let mut m = map.clone();
            m.remove(&key("seq"));
            m
        }),
        ("an unknown key", {
            let mut m = map.clone();
            m.insert(key("extra"), Value::Integer(1));
            m
        }),
        ("a time with an offset", {
            let mut m = map.clone();
            m.insert(key("at"), Value::Text("2025-03-04T15:00:00+07:00".into()));
            m
        }),
        ("an unknown payload", {
            let mut m = map.clone();
            m.insert(
                key("payload"),
                Value::Map(BTreeMap::from([(key("launch"), Value::Null)])),
            );
            m
        }),
    ];
    for (what, m) in variants {
        let bytes = serde_cbor::to_vec(&Value::Map(m)).expect("encodes");
        assert!(
            validate("operation", &bytes).is_err(),
            "an operation with {what} was accepted"
        );
    }
    let long_note: String = "a".repeat(4 * text::NOTE.max + 1);
    let bytes = to_cbor("note", &long_note).expect("encodes");
    assert!(validate("note", &bytes).is_err());
    let bytes = to_cbor("status", &"sealed_twice").expect("encodes");
    assert!(validate("status", &bytes).is_err());
}

// ------------------------------------------------------------ examples page

fn roundtrip<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let value: T = from_cbor("example", bytes).map_err(|e| e.to_string())?;
    to_cbor("example", &value).map_err(|e| e.to_string())
}

/// Decodes an example into its Rust type and encodes it again.
fn reencode(rust: &str, bytes: &[u8]) -> Result<Vec<u8>, String> {
    match rust {
        "Capabilities" => roundtrip::<Capabilities>(bytes),
        "EnrolRequest" => roundtrip::<EnrolRequest>(bytes),
        "EnrolResponse" => roundtrip::<EnrolResponse>(bytes),
        "CertificateBody" => roundtrip::<CertificateBody>(bytes),
        "ChallengeRequest" => roundtrip::<ChallengeRequest>(bytes),
        "Challenge" => roundtrip::<Challenge>(bytes),
        "SessionRequest" => roundtrip::<SessionRequest>(bytes),
        "Session" => roundtrip::<Session>(bytes),
        "PushRequest" => roundtrip::<PushRequest>(bytes),
        "PushResponse" => roundtrip::<PushResponse>(bytes),
        "PullResponse" => roundtrip::<PullResponse>(bytes),
        "UploadStatus" => roundtrip::<UploadStatus>(bytes),
        "Operation" => roundtrip::<Operation>(bytes),
        "Payload" => roundtrip::<Payload>(bytes),
        "MinutesDocument" => roundtrip::<MinutesDocument>(bytes),
        "MinutesSignature" => roundtrip::<MinutesSignature>(bytes),
        other => Err(format!("no Rust type {other} is known to the examples test")),
    }
}

fn wrapped_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

const REQUEST_NONCE: &str = "0123456789abcdef0123456789abcdef";

/// The signing examples: name, and `key: value` lines.
fn signing_examples(
    push_body: &[u8],
    cert_body: &[u8],
    canonical: &[u8],
) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    use samples::*;
    let key = device_key();
    let pk = key.public_key_bytes();
    let session = session();
    let digest: [u8; 32] = Sha256::digest(push_body).into();
    let request = request_message(&session.token, REQUEST_NONCE, "POST", "/api/v1/ops", &digest);
    let challenge = challenge().challenge;
    let mut session_message = SIGN_SESSION.to_vec();
    session_message.extend_from_slice(&challenge);
    session_message.extend_from_slice(device().as_bytes());
    let mut cert_message = SIGN_CERTIFICATE.to_vec();
    cert_message.extend_from_slice(cert_body);
    let content_hash = Hash32::sha256(canonical);
    let minutes_message = signing_message(&content_hash);
    let sign = |k: &kiemtra_core::identity::DeviceKey, m: &[u8]| hex::encode(k.sign(m).expect("signs"));
    vec![
        (
            "request",
            vec![
                ("public_key", hex::encode(pk)),
                ("token", session.token.clone()),
                ("nonce", REQUEST_NONCE.into()),
                ("method", "POST".into()),
                ("path_and_query", "/api/v1/ops".into()),
                ("body", "the push-request example".into()),
                ("body_sha256", hex::encode(digest)),
                ("message", hex::encode(&request)),
                ("signature", sign(&key, &request)),
            ],
        ),
        (
            "session",
            vec![
                ("public_key", hex::encode(pk)),
                ("challenge", hex::encode(&challenge)),
                ("device", hex::encode(device().as_bytes())),
                ("message", hex::encode(&session_message)),
                ("signature", sign(&key, &session_message)),
            ],
        ),
        (
            "certificate",
            vec![
                ("public_key", hex::encode(server_key().public_key_bytes())),
                ("body", "the certificate-body example".into()),
                ("message", hex::encode(&cert_message)),
                ("signature", sign(&server_key(), &cert_message)),
            ],
        ),
        (
            "minutes",
            vec![
                ("public_key", hex::encode(pk)),
                ("canonical", "the minutes-document example".into()),
                ("content_hash", content_hash.to_hex()),
                ("message", hex::encode(minutes_message)),
                ("signature", sign(&key, &minutes_message)),
                ("fingerprint", fingerprint(&pk)),
            ],
        ),
    ]
}

fn examples_page() -> String {
    let samples = all_samples();
    let bytes_of = |name: &str| {
        samples
            .iter()
            .find(|(s, _)| s.name == name)
            .map(|(s, _)| s.bytes.clone())
            .expect("sample")
    };
    let mut page = String::from(
        "# Sync protocol examples (generated)\n\n\
         Every CBOR message of `docs/api.md` and every operation payload, as exact bytes\n\
         made by the Rust types from fixed values (`core/tests/protocol/samples.rs`),\n\
         with their CBOR diagnostic notation (RFC 8949 §8; map keys in wire order).\n\
         `core/tests/protocol_schema.rs` decodes each hex block into the named Rust\n\
         type, encodes it again and compares the bytes, validates it against the named\n\
         rule of `docs/protocol.cddl`, and verifies the signing examples. Regenerate with\n\
         `KIEMTRA_BLESS=1 cargo test -p kiemtra-core --test protocol_schema`.\n\n\
         The keys are ed25519 keys from fixed seeds (32 bytes of `0x11` for the device,\n\
         of `0x22` for the server): never use them for anything real.\n\n\
         ## Messages and payloads\n",
    );
    for (s, example) in &samples {
        if !example {
            continue;
        }
        let diag = diag::diag(&s.bytes).expect("our own bytes");
        page.push_str(&format!(
            "\n### `{}`\n\n<!-- example name={} rule={} type={} -->\nRule `{}`, Rust `{}`, {} bytes.\n\n```cbor-diag\n{}\n```\n\n```hex\n{}\n```\n",
            s.name,
            s.name,
            s.rule,
            s.rust,
            s.rule,
            s.rust,
            s.bytes.len(),
            diag,
            wrapped_hex(&s.bytes)
        ));
    }
    page.push_str(
        "\n## Signatures\n\n\
         Every signature is plain ed25519 (RFC 8032) over the `message` bytes, checked\n\
         with `verify_strict`. Hex below is only how the bytes are shown: what is\n\
         hashed and signed is raw bytes (the body's SHA-256 enters the request\n\
         message as its 32 raw bytes, not as hex). `0x00` separates the text parts.\n",
    );
    let canonical = canonical_minutes();
    for (name, fields) in signing_examples(
        &bytes_of("push-request"),
        &bytes_of("certificate-body"),
        &canonical,
    ) {
        page.push_str(&format!(
            "\n### {name}\n\n<!-- signing name={name} -->\n```text\n"
        ));
        for (k, v) in fields {
            page.push_str(&format!("{k}: {v}\n"));
        }
        page.push_str("```\n");
    }
    page
}

/// The examples as the page has them: (attributes, hex bytes) and (signing name, fields).
type PageExamples = (
    Vec<(BTreeMap<String, String>, Vec<u8>)>,
    BTreeMap<String, BTreeMap<String, String>>,
);

fn parse_page(page: &str) -> PageExamples {
    let mut examples = Vec::new();
    let mut signing = BTreeMap::new();
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        if let Some(attrs) = line
            .strip_prefix("<!-- example ")
            .and_then(|l| l.strip_suffix(" -->"))
        {
            let attrs: BTreeMap<String, String> = attrs
                .split(' ')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let hex: String = lines
                .by_ref()
                .skip_while(|l| *l != "```hex")
                .skip(1)
                .take_while(|l| *l != "```")
                .collect();
            examples.push((attrs, hex::decode(hex).expect("hex block")));
        } else if let Some(name) = line
            .strip_prefix("<!-- signing name=")
            .and_then(|l| l.strip_suffix(" -->"))
        {
            let fields = lines
                .by_ref()
                .skip(1)
                .take_while(|l| *l != "```")
                .filter_map(|l| l.split_once(": "))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            signing.insert(name.to_string(), fields);
        }
    }
    (examples, signing)
}

#[test]
fn the_examples_page_is_current() {
    let page = examples_page();
    if std::env::var_os("KIEMTRA_BLESS").is_some() {
        std::fs::write(EXAMPLES_PATH, &page).expect("write the examples page");
    }
    let on_disk = std::fs::read_to_string(EXAMPLES_PATH).expect("docs/protocol-examples.md");
    assert!(
        on_disk == page,
        "docs/protocol-examples.md is not what the wire types give: rerun with KIEMTRA_BLESS=1 and review the diff"
    );
}

#[test]
fn every_example_on_the_page_decodes_reencodes_and_matches_its_rule() {
    let page = std::fs::read_to_string(EXAMPLES_PATH).expect("docs/protocol-examples.md");
    let (examples, _) = parse_page(&page);
    assert!(
        examples.len() >= 30,
        "only {} examples on the page",
        examples.len()
    );
    let mut payload_rules = BTreeSet::new();
    for (attrs, bytes) in &examples {
        let (name, rule, rust) = (&attrs["name"], &attrs["rule"], &attrs["type"]);
        let again = reencode(rust, bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(&again == bytes, "{name}: {rust} encodes it to other bytes");
        validate(rule, bytes).unwrap_or_else(|e| panic!("{name} against {rule}: {e}"));
        if rule.starts_with("op-") {
            payload_rules.insert(rule.clone());
        }
    }
    let all_op_rules: BTreeSet<String> = schema_rules()
        .into_iter()
        .filter(|r| r.starts_with("op-"))
        .collect();
    assert_eq!(payload_rules, all_op_rules, "a payload has no example");
}

#[test]
fn the_signing_examples_on_the_page_verify() {
    let page = std::fs::read_to_string(EXAMPLES_PATH).expect("docs/protocol-examples.md");
    let (examples, signing) = parse_page(&page);
    let example = |name: &str| {
        examples
            .iter()
            .find(|(a, _)| a["name"] == name)
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| panic!("no {name} example"))
    };
    let bytes = |f: &BTreeMap<String, String>, k: &str| {
        hex::decode(&f[k]).unwrap_or_else(|_| panic!("{k} is not hex"))
    };
    let check = |f: &BTreeMap<String, String>, message: &[u8]| {
        assert_eq!(
            bytes(f, "message"),
            message,
            "the message is not built as documented"
        );
        let pk: [u8; 32] = bytes(f, "public_key").try_into().expect("32 bytes");
        let sig: [u8; 64] = bytes(f, "signature").try_into().expect("64 bytes");
        verify_strict(&pk, message, &sig).expect("the example signature verifies");
    };

    let r = &signing["request"];
    let body = example("push-request");
    let digest: [u8; 32] = Sha256::digest(&body).into();
    assert_eq!(bytes(r, "body_sha256"), digest);
    // Built by hand as docs/api.md describes it, then by the library.
    let mut m = b"kiemtra-request-v1\0".to_vec();
    for part in ["token", "nonce", "method", "path_and_query"] {
        m.extend_from_slice(r[part].as_bytes());
        m.push(0);
    }
    m.extend_from_slice(&digest);
    assert_eq!(
        m,
        request_message(
            &r["token"],
            &r["nonce"],
            &r["method"],
            &r["path_and_query"],
            &digest
        )
    );
    check(r, &m);

    let s = &signing["session"];
    let mut m = b"kiemtra-session-v1\0".to_vec();
    m.extend_from_slice(&bytes(s, "challenge"));
    m.extend_from_slice(&bytes(s, "device"));
    check(s, &m);
    let req: SessionRequest = from_cbor("session request", &example("session-request")).expect("decodes");
    assert_eq!(hex::encode(&req.signature), s["signature"]);

    let c = &signing["certificate"];
    let mut m = b"kiemtra-certificate-v1\0".to_vec();
    m.extend_from_slice(&example("certificate-body"));
    check(c, &m);
    let res: EnrolResponse = from_cbor("enrol response", &example("enrol-response")).expect("decodes");
    assert_eq!(res.certificate.body, example("certificate-body"));
    assert_eq!(hex::encode(&res.certificate.signature), c["signature"]);

    let n = &signing["minutes"];
    let canonical = example("minutes-document");
    let hash: [u8; 32] = Sha256::digest(&canonical).into();
    assert_eq!(bytes(n, "content_hash"), hash);
    let mut m = b"kiemtra-minutes-v1\0".to_vec();
    m.extend_from_slice(&hash);
    assert_eq!(m.len(), 51);
    check(n, &m);
    let pk = bytes(n, "public_key");
    assert_eq!(n["fingerprint"], hex::encode(&Sha256::digest(&pk)[..8]));
    let sig: MinutesSignature =
        from_cbor("minutes signature", &example("minutes-signature")).expect("decodes");
    assert_eq!(hex::encode(sig.signature.0), n["signature"]);
}
