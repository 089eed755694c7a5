//! Whether a minutes document is the record: the check the server runs on
//! every minutes drawn up, and a device runs before it signs.
//!
//! A document is rebuilt with [`MinutesDocument::build`] from the record,
//! the delegation and its inspectors, taking from the document only what
//! the people present supply (number, place, times, statement, refusal and
//! witness, copies, the photos chosen, …). Every field the record
//! determines — inspection, establishment, delegation and members, grounds'
//! decision, findings, violations with their legal basis and deadlines, the
//! report-back date, the photos' hashes — must then be equal, or the
//! document is refused with [`MinutesError::ContradictsRecord`] naming the
//! first field that differs. The people-supplied fields go through the same
//! shape rules `build` applies, so a document that is not what `build`
//! would give for them is refused as invalid.
//!
//! Without this a phone could seal minutes saying "compliant" where the
//! record says "no", and the portal would show both as verified.

use std::collections::BTreeSet;

use chrono::DateTime;

use super::document::{Establishment, Finding, Member, MinutesDocument, MinutesInfo, ViolationEntry};
use super::{MinutesError, TrustedKeys};
use crate::error::ValidationError;
use crate::identity::fingerprint;
use crate::people::{Delegation, Inspector};
use crate::store::InspectionSnapshot;

/// What is known of members' signing keys when checking.
#[derive(Clone, Copy)]
pub enum MemberKeys<'a> {
    /// The server's registry: a key named for a member must be one of the
    /// member's certified keys.
    Certified(&'a TrustedKeys),
    /// A device's view: a key named for a member must be one of the
    /// member's certified keys when the device knows any of them (a device
    /// not enrolled yet knows none, and checks none).
    Known(&'a TrustedKeys),
}

/// Refuses `doc` unless it is what the record gives, with the people's
/// own fields as the document states them. `snapshot` is the record as it
/// stands (findings closed: nothing the document shows changes after that).
pub fn check_conforms(
    doc: &MinutesDocument,
    snapshot: &InspectionSnapshot,
    delegation: &Delegation,
    inspectors: &[Inspector],
    keys: MemberKeys<'_>,
) -> Result<(), MinutesError> {
    let differs = |field: &str| MinutesError::ContradictsRecord {
        field: field.to_string(),
    };
    if doc.format != super::DOCUMENT_FORMAT {
        return Err(differs("format"));
    }
    // Cited photos must be photos recorded on this inspection.
    let recorded: BTreeSet<&str> = snapshot
        .record
        .photos
        .values()
        .map(|p| p.image.sha256.as_str())
        .collect();
    for p in &doc.photos {
        if !recorded.contains(p.sha256.to_hex().as_str()) {
            return Err(differs("photos (a photo not recorded on this inspection)"));
        }
        if let Some(item) = &p.item {
            if snapshot.template.item(item).is_none() {
                return Err(invalid("photo item", "not an item of the inspection's template"));
            }
        }
    }
    if let Some(loc) = &doc.place.location {
        if loc.lat_e7.unsigned_abs() > 900_000_000 || loc.lon_e7.unsigned_abs() > 1_800_000_000 {
            return Err(invalid("location", "out of range"));
        }
    }

    let rebuilt = MinutesDocument::build(snapshot, delegation, inspectors, people_info(doc)?)?;

    if doc.inspection_id != rebuilt.inspection_id {
        return Err(differs("inspection"));
    }
    if doc.inspection_kind != rebuilt.inspection_kind {
        return Err(differs("inspection kind"));
    }
    if doc.template != rebuilt.template {
        return Err(differs("template"));
    }
    if doc.grounds.first() != rebuilt.grounds.first() {
        return Err(differs("grounds (the delegation's decision)"));
    }
    if doc.delegation_name != rebuilt.delegation_name {
        return Err(differs("delegation"));
    }
    compare_members(&doc.members, &rebuilt.members).map_err(|f| differs(&f))?;
    check_member_keys(&doc.members, keys).map_err(|f| differs(&f))?;
    compare_establishment(&doc.establishment, &rebuilt.establishment).map_err(|f| differs(&f))?;
    compare_findings(doc, &rebuilt).map_err(|f| differs(&f))?;
    compare_violations(&doc.violations, &rebuilt.violations).map_err(|f| differs(&f))?;
    if doc.report_back != rebuilt.report_back {
        return Err(differs("report back"));
    }

    // What is left is the people's own fields: equal unless `build` would
    // have normalised them (or the location the inspection recorded was dropped).
    let mut expected = rebuilt;
    for (m, d) in expected.members.iter_mut().zip(&doc.members) {
        m.key_fingerprint = d.key_fingerprint.clone();
    }
    if expected != *doc {
        return Err(invalid(
            people_field(doc, &expected),
            "not what the people present supplied in normal form",
        ));
    }
    Ok(())
}

fn invalid(field: &'static str, reason: &str) -> MinutesError {
    ValidationError::Invalid {
        field,
        reason: reason.to_string(),
    }
    .into()
}

/// The document's people-supplied fields, as `build` takes them.
fn people_info(doc: &MinutesDocument) -> Result<MinutesInfo, MinutesError> {
    let time = |field: &'static str, s: &str| {
        DateTime::parse_from_rfc3339(s).map_err(|_| invalid(field, "not an RFC 3339 time"))
    };
    Ok(MinutesInfo {
        number: doc.number.clone(),
        issuing_body: doc.issuing_body.clone(),
        subject: doc.subject.clone(),
        extra_grounds: doc.grounds.iter().skip(1).cloned().collect(),
        city: doc.place.city.clone(),
        place: doc.place.address.clone(),
        location: doc.place.location,
        made_elsewhere_reason: doc.place.made_elsewhere_reason.clone(),
        started_at: time("start time", &doc.started_at)?,
        ended_at: time("end time", &doc.ended_at)?,
        representative: doc.representative.clone(),
        others_present: doc.others_present.clone(),
        statement: doc.statement.clone(),
        copies: doc.copies,
        photos: doc.photos.clone(),
        // Fingerprints cannot be turned back into keys: checked on their own.
        member_keys: Default::default(),
        representative_signature_png_sha256: doc.representative_signature,
        report_to: doc.report_back.as_ref().map(|r| r.to.clone()),
        previous: doc.previous,
    })
}

fn compare_members(doc: &[Member], record: &[Member]) -> Result<(), String> {
    if doc.len() != record.len() {
        return Err("members".into());
    }
    for (d, r) in doc.iter().zip(record) {
        if d.inspector_id != r.inspector_id
            || d.name != r.name
            || d.title != r.title
            || d.agency != r.agency
            || d.role != r.role
        {
            return Err("members".into());
        }
    }
    Ok(())
}

fn check_member_keys(members: &[Member], keys: MemberKeys<'_>) -> Result<(), String> {
    let (trusted, strict) = match keys {
        MemberKeys::Certified(t) => (t, true),
        MemberKeys::Known(t) => (t, false),
    };
    for m in members {
        let Some(named) = &m.key_fingerprint else {
            continue;
        };
        let mut certified = trusted
            .keys
            .iter()
            .filter(|k| k.inspector_id == m.inspector_id)
            .peekable();
        if !strict && certified.peek().is_none() {
            continue;
        }
        if !certified.any(|k| fingerprint(&k.public_key.0) == *named) {
            return Err("members (a signing key that is not the member's certified key)".into());
        }
    }
    Ok(())
}

fn compare_establishment(d: &Establishment, r: &Establishment) -> Result<(), String> {
    let fields = [
        ("facility id", d.facility_id == r.facility_id),
        ("name", d.name == r.name),
        ("kind", d.kind == r.kind),
        ("address", d.address == r.address),
        ("administrative unit", d.unit_code == r.unit_code),
        ("tax code", d.tax_code == r.tax_code),
        ("sector", d.sector == r.sector),
        ("workforce", d.workforce == r.workforce),
    ];
    match fields.iter().find(|(_, same)| !same) {
        Some((name, _)) => Err(format!("establishment {name}")),
        None => Ok(()),
    }
}

fn compare_findings(doc: &MinutesDocument, record: &MinutesDocument) -> Result<(), String> {
    if doc.findings.len() != record.findings.len() {
        return Err("findings".into());
    }
    for (d, r) in doc.findings.iter().zip(&record.findings) {
        if d.code != r.code || d.title != r.title || d.items.len() != r.items.len() {
            return Err(format!("findings (section {})", r.code));
        }
        for (di, ri) in d.items.iter().zip(&r.items) {
            compare_finding(di, ri).map_err(|f| format!("findings (item {}): {f}", ri.item))?;
        }
    }
    Ok(())
}

fn compare_finding(d: &Finding, r: &Finding) -> Result<(), &'static str> {
    let fields = [
        ("item", d.item == r.item),
        ("question", d.question == r.question),
        ("answer", d.answer == r.answer),
        ("note", d.note == r.note),
        ("assessment", d.assessment == r.assessment),
    ];
    match fields.iter().find(|(_, same)| !same) {
        Some((name, _)) => Err(name),
        None => Ok(()),
    }
}

fn compare_violations(doc: &[ViolationEntry], record: &[ViolationEntry]) -> Result<(), String> {
    for (d, r) in doc.iter().zip(record) {
        let fields = [
            ("item", d.item == r.item),
            ("number", d.number == r.number),
            ("section", d.section == r.section),
            ("text", d.text == r.text),
            ("legal basis", d.legal_basis == r.legal_basis),
            ("sanction", d.sanction == r.sanction),
            ("requirement", d.requirement == r.requirement),
            ("deadline", d.deadline == r.deadline),
            ("severity", d.severity == r.severity),
            ("dismissal", d.dismissed == r.dismissed),
        ];
        if let Some((name, _)) = fields.iter().find(|(_, same)| !same) {
            return Err(format!("violations (item {}): {name}", r.item));
        }
    }
    if doc.len() != record.len() {
        return Err(format!(
            "violations ({} in the minutes, {} in the record)",
            doc.len(),
            record.len()
        ));
    }
    Ok(())
}

/// The first people-supplied field of `doc` that is not as `build` gives it.
fn people_field(doc: &MinutesDocument, expected: &MinutesDocument) -> &'static str {
    let fields = [
        ("minutes number", doc.number == expected.number),
        ("issuing body", doc.issuing_body == expected.issuing_body),
        ("subject", doc.subject == expected.subject),
        ("grounds", doc.grounds == expected.grounds),
        ("place", doc.place == expected.place),
        ("start time", doc.started_at == expected.started_at),
        ("end time", doc.ended_at == expected.ended_at),
        ("representative", doc.representative == expected.representative),
        ("persons present", doc.others_present == expected.others_present),
        ("photos", doc.photos == expected.photos),
        ("statement", doc.statement == expected.statement),
        (
            "representative signature",
            doc.representative_signature == expected.representative_signature,
        ),
        ("copies", doc.copies == expected.copies),
        ("previous", doc.previous == expected.previous),
    ];
    fields
        .iter()
        .find(|(_, same)| !same)
        .map_or("minutes", |(name, _)| name)
}
