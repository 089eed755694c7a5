//! The materialised state of one inspection, and how operations change it.
//!
//! `apply` is the one function both the device store and the server run, so
//! that a replica's state depends only on the operations it has seen.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::access_code::AccessCodeHash;
use crate::answer::{compliance, AnswerEntry, Compliance};
use crate::error::{AnswerError, Error, LifecycleError};
use crate::evidence::PhotoRecord;
use crate::facility::FacilityKind;
use crate::inspection::{Inspection, Status};
use crate::merge::{MvRegister, Version};
use crate::minutes::{Hash32, MinutesSignature, SignedMinutes, TrustedKeys};
use crate::ops::{Operation, Payload};
use crate::people::Role;
use crate::remediation::{RemediationReport, Review, ReviewBy, Verdict};
use crate::template::{ChecklistTemplate, Item, Section};
use crate::violation::{Dismissal, Violation, ViolationEdit, ViolationStatus};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionRecord {
    pub inspection: Inspection,
    pub answers: BTreeMap<String, MvRegister<AnswerEntry>>,
    pub violation_edits: BTreeMap<String, MvRegister<ViolationEdit>>,
    /// Photos by `PhotoRecord::key`; evidence is only ever added.
    #[serde(default)]
    pub photos: BTreeMap<String, PhotoRecord>,
    /// Versions of the minutes by content hash (hex), with their signatures.
    #[serde(default)]
    pub minutes: BTreeMap<String, MinutesVersion>,
    /// Remediation reported by the establishment, per violation (item code),
    /// in the order received.
    #[serde(default)]
    pub remediations: BTreeMap<String, Vec<RemediationReport>>,
    /// Inspectors' reviews of the remediation, per violation.
    #[serde(default)]
    pub reviews: BTreeMap<String, MvRegister<Review>>,
}

/// One version of the minutes: its canonical bytes and the signatures gathered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesVersion {
    #[serde(with = "serde_bytes")]
    pub canonical: Vec<u8>,
    /// Kept sorted by signer, so merged records compare equal.
    pub signatures: Vec<MinutesSignature>,
    /// SHA-256 of the portal access code printed on this version (older
    /// records held the code itself under `access_code`: read as its hash).
    #[serde(default, alias = "access_code")]
    pub access_code_hash: Option<AccessCodeHash>,
}

impl MinutesVersion {
    pub fn signed(&self) -> Result<SignedMinutes, crate::minutes::MinutesError> {
        SignedMinutes::from_parts(self.canonical.clone(), self.signatures.clone())
    }

    pub fn is_sealed(&self) -> bool {
        self.signatures.iter().any(|s| s.role == Role::Leader)
    }
}

/// Photos one remediation report may carry.
pub const MAX_REMEDIATION_PHOTOS: usize = 10;

/// What `apply` needs to judge an operation.
pub struct Context<'a> {
    pub template: &'a ChecklistTemplate,
    pub facility_kind: FacilityKind,
    /// The certified keys (the server's registry); when given, a minutes
    /// signature must use the signer's certified key.
    pub trusted_keys: Option<&'a TrustedKeys>,
}

/// A signature made elsewhere, presented as a key store that can only
/// "sign" by returning it: `SignedMinutes::sign` then runs every check on it.
struct PresentedSignature(MinutesSignature);

impl crate::identity::KeyStore for PresentedSignature {
    fn public_key(&self) -> Result<[u8; 32], crate::identity::IdentityError> {
        Ok(self.0.public_key.0)
    }
    fn sign(&self, _message: &[u8]) -> Result<[u8; 64], crate::identity::IdentityError> {
        Ok(self.0.signature.0)
    }
}

/// An answer's state in the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerState<'a> {
    Unanswered,
    Answered(&'a Version<AnswerEntry>),
    /// Edits made on several devices without seeing each other; all are kept.
    Conflict(&'a [Version<AnswerEntry>]),
}

/// One line of the checklist as the inspector sees it.
#[derive(Debug, Clone)]
pub struct ChecklistLine<'a> {
    pub section: &'a Section,
    pub item: &'a Item,
    /// False when the item does not apply to the facility kind or its condition is not met.
    pub asked: bool,
    pub answer: AnswerState<'a>,
}

impl InspectionRecord {
    pub fn new(inspection: Inspection) -> Self {
        Self {
            inspection,
            answers: BTreeMap::new(),
            violation_edits: BTreeMap::new(),
            photos: BTreeMap::new(),
            minutes: BTreeMap::new(),
            remediations: BTreeMap::new(),
            reviews: BTreeMap::new(),
        }
    }

    /// What the establishment reported about the violation of `item`.
    pub fn remediation_reports(&self, item: &str) -> &[RemediationReport] {
        self.remediations.get(item).map(Vec::as_slice).unwrap_or_default()
    }

    /// The reviews in force for `item` (several when made concurrently).
    pub fn remediation_reviews(&self, item: &str) -> Vec<ReviewBy<'_>> {
        self.reviews
            .get(item)
            .map(|r| {
                r.versions()
                    .iter()
                    .map(|v| ReviewBy {
                        review: &v.value,
                        by: v.author,
                        at: v.at,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Open until the establishment reports; remediated once it has; then
    /// what the newest review says. A report newer than a "still open"
    /// review makes it remediated again, awaiting review.
    fn remediation_status(&self, item: &str) -> ViolationStatus {
        let latest_report = self.remediation_reports(item).last();
        let review = self.reviews.get(item).and_then(|r| r.versions().last());
        match (latest_report, review) {
            (_, Some(v)) if v.value.verdict == Verdict::Verified => ViolationStatus::Verified,
            (Some(r), Some(v)) if v.value.report != r.op => ViolationStatus::Remediated,
            (Some(_), None) => ViolationStatus::Remediated,
            _ => ViolationStatus::Open,
        }
    }

    fn answer_state(&self, code: &str) -> AnswerState<'_> {
        match self.answers.get(code).map(|r| r.versions()) {
            None | Some([]) => AnswerState::Unanswered,
            Some([one]) => AnswerState::Answered(one),
            Some(many) => AnswerState::Conflict(many),
        }
    }

    /// Whether `item` is asked, given the facility kind and the answers so far.
    pub fn is_asked(&self, item: &Item, kind: FacilityKind) -> bool {
        if !item.applies_to(kind) {
            return false;
        }
        match &item.when {
            None => true,
            Some(cond) => self
                .answers
                .get(&cond.item)
                .and_then(|r| r.value())
                .and_then(|e| e.value.as_count())
                .is_some_and(|n| n >= cond.at_least),
        }
    }

    /// The whole checklist, in template order.
    pub fn checklist<'a>(&'a self, ctx: &Context<'a>) -> Vec<ChecklistLine<'a>> {
        ctx.template
            .items()
            .map(|(section, item)| ChecklistLine {
                section,
                item,
                asked: self.is_asked(item, ctx.facility_kind),
                answer: self.answer_state(&item.code),
            })
            .collect()
    }

    /// Violations proposed by non-compliant answers of asked items, with the
    /// inspector's edits. Dismissed ones are included, marked as such.
    pub fn violations(&self, ctx: &Context<'_>) -> Vec<Violation> {
        let date = self.inspection.date();
        let mut out = Vec::new();
        for (section, item) in ctx.template.items() {
            let (Some(spec), true) = (&item.violation, self.is_asked(item, ctx.facility_kind)) else {
                continue;
            };
            let Some(entry) = self.answers.get(&item.code).and_then(|r| r.value()) else {
                continue;
            };
            if compliance(item, &entry.value) != Compliance::NonCompliant {
                continue;
            }
            let edits = self.violation_edits.get(&item.code);
            // In a conflict the newest edit is shown and the conflict flagged.
            let edit = edits.and_then(|r| r.versions().last());
            let e = edit.map(|v| &v.value);
            out.push(Violation {
                item: item.code.clone(),
                section: section.code.clone(),
                text_vi: spec.text_vi.clone(),
                legal_basis: item.legal_basis.clone(),
                sanction: spec.sanction.clone(),
                requirement: e
                    .and_then(|e| e.requirement.clone())
                    .unwrap_or_else(|| spec.requirement_vi.clone()),
                severity: e.and_then(|e| e.severity).unwrap_or(spec.severity),
                deadline: e.and_then(|e| e.deadline).unwrap_or_else(|| {
                    date.checked_add_days(chrono::Days::new(u64::from(spec.remediation_days)))
                        .unwrap_or(date)
                }),
                status: self.remediation_status(&item.code),
                dismissal: edit.and_then(|v| {
                    v.value.dismissed.as_ref().map(|reason| Dismissal {
                        reason: reason.clone(),
                        by: v.author,
                        at: v.at,
                    })
                }),
                edited: edit.is_some(),
                conflict: edits.is_some_and(|r| r.is_conflict()),
                edit_heads: edits.map(|r| r.heads()).unwrap_or_default(),
            });
        }
        out
    }

    /// Checks and applies an operation: what the authoring device and the
    /// server do before accepting it. On error nothing changed.
    pub fn apply(&mut self, op: &Operation, ctx: &Context<'_>) -> Result<(), Error> {
        self.check(op, ctx)?;
        self.merge(op);
        Ok(())
    }

    /// Whether `op` may be accepted on this inspection as it stands: the
    /// lifecycle, the item, the answer's type, the violation's existence.
    pub fn check(&self, op: &Operation, ctx: &Context<'_>) -> Result<(), Error> {
        let status = self.inspection.status;
        match &op.payload {
            Payload::Transition { to, .. } => {
                status.check_transition_op(*to)?;
                if *to <= status {
                    // Already there (a replayed or concurrent transition): harmless.
                    return Ok(());
                }
                if *to == Status::FindingsClosed {
                    self.check_findings_complete(ctx)?;
                }
                if *to == Status::Sealed {
                    return Err(LifecycleError::NotAllowed {
                        status,
                        action: "sealing other than by the leader's signature on the minutes",
                    }
                    .into());
                }
                Ok(())
            }
            Payload::DrawUpMinutes { canonical, .. } => self.check_draw_up(canonical),
            Payload::ReportRemediation {
                item,
                text: body,
                photos,
                sent_by,
                facility,
                ..
            } => {
                self.check_remediable(item, ctx, "reporting remediation")?;
                if *facility != self.inspection.facility {
                    return Err(crate::error::ValidationError::Invalid {
                        field: "remediation",
                        reason: "sent for another establishment".into(),
                    }
                    .into());
                }
                crate::text::REMEDIATION_TEXT.check(body)?;
                crate::text::SENT_BY.check(sent_by)?;
                if photos.len() > MAX_REMEDIATION_PHOTOS {
                    return Err(crate::error::ValidationError::Invalid {
                        field: "remediation photos",
                        reason: format!("at most {MAX_REMEDIATION_PHOTOS} photos per report"),
                    }
                    .into());
                }
                for photo in photos {
                    photo.check_shape()?;
                }
                Ok(())
            }
            Payload::ReviewRemediation { item, review, .. } => {
                self.check_remediable(item, ctx, "reviewing remediation")?;
                crate::text::REVIEW_NOTE.check_optional(review.note.as_deref())?;
                if !self
                    .remediation_reports(item)
                    .iter()
                    .any(|r| r.op == review.report)
                {
                    return Err(Error::NotFound {
                        kind: "remediation report",
                        id: review.report.to_string(),
                    });
                }
                Ok(())
            }
            Payload::SignMinutes {
                content_hash,
                signature,
                ..
            } => self.check_signature(content_hash, signature, ctx),
            Payload::SetAnswer { item, entry, .. } => {
                if !status.findings_open() {
                    return Err(LifecycleError::NotAllowed {
                        status,
                        action: "answering",
                    }
                    .into());
                }
                let (_, it) = ctx
                    .template
                    .item(item)
                    .ok_or_else(|| AnswerError::UnknownItem(item.clone()))?;
                if !it.applies_to(ctx.facility_kind) {
                    return Err(AnswerError::NotApplicable { item: item.clone() }.into());
                }
                if !self.is_asked(it, ctx.facility_kind) {
                    let depends_on = it.when.as_ref().map(|c| c.item.clone()).unwrap_or_default();
                    return Err(AnswerError::NotAsked {
                        item: item.clone(),
                        depends_on,
                    }
                    .into());
                }
                crate::text::NOTE.check_optional(entry.note.as_deref())?;
                if let crate::answer::AnswerValue::Text(t) = &entry.value {
                    // Bounded before `validate_for` copies it.
                    crate::text::ANSWER_TEXT
                        .check(t)
                        .map_err(|e| AnswerError::Invalid {
                            item: item.clone(),
                            reason: e.to_string(),
                        })?;
                }
                let normalised = entry.value.clone().validate_for(it)?;
                if normalised != entry.value {
                    return Err(AnswerError::Invalid {
                        item: item.clone(),
                        reason: "text is not in normal form (NFC, trimmed)".into(),
                    }
                    .into());
                }
                Ok(())
            }
            Payload::EditViolation { item, edit, .. } => {
                if !status.findings_open() {
                    return Err(LifecycleError::NotAllowed {
                        status,
                        action: "editing violations",
                    }
                    .into());
                }
                crate::text::REQUIREMENT.check_optional(edit.requirement.as_deref())?;
                crate::text::DISMISSAL_REASON.check_optional(edit.dismissed.as_deref())?;
                if !self.violations(ctx).iter().any(|v| &v.item == item) {
                    return Err(Error::NotFound {
                        kind: "violation",
                        id: item.clone(),
                    });
                }
                Ok(())
            }
            Payload::AddPhoto { photo, .. } => {
                if !status.findings_open() {
                    return Err(LifecycleError::NotAllowed {
                        status,
                        action: "adding photos",
                    }
                    .into());
                }
                if let Some(item) = &photo.item {
                    if ctx.template.item(item).is_none() {
                        return Err(AnswerError::UnknownItem(item.clone()).into());
                    }
                }
                photo.check_shape()?;
                Ok(())
            }
            Payload::CreateInspection(_)
            | Payload::PutFacility(_)
            | Payload::PutInspector(_)
            | Payload::PutDelegation(_)
            | Payload::PublishTemplate(_)
            | Payload::PublishAdminUnits { .. }
            | Payload::CertifyDevice(_)
            | Payload::RevokeDevice { .. } => Ok(()),
        }
    }

    /// Merges an accepted operation. Commutative and idempotent: replicas
    /// that merged the same operations, in any order and with any
    /// duplicates, hold equal records. Never fails: checking is `check`'s job.
    pub fn merge(&mut self, op: &Operation) {
        match &op.payload {
            Payload::Transition { to, .. } => {
                // Status only moves forward, so the highest one seen wins.
                if *to > self.inspection.status {
                    self.inspection.status = *to;
                }
                if *to == Status::InProgress {
                    // Two devices may both start it: the earliest start counts.
                    self.inspection.started_at = Some(match self.inspection.started_at {
                        Some(t) if t <= op.at => t,
                        _ => op.at,
                    });
                }
            }
            Payload::SetAnswer {
                item,
                entry,
                supersedes,
                ..
            } => {
                let version = Version::of(op, entry.clone());
                self.answers
                    .entry(item.clone())
                    .or_default()
                    .apply(version, supersedes);
            }
            Payload::EditViolation {
                item,
                edit,
                supersedes,
                ..
            } => {
                let version = Version::of(op, edit.clone());
                self.violation_edits
                    .entry(item.clone())
                    .or_default()
                    .apply(version, supersedes);
            }
            Payload::AddPhoto { photo, .. } => {
                // Add-only, keyed by content: duplicates and order do not matter.
                self.photos.entry(photo.key()).or_insert_with(|| photo.clone());
            }
            Payload::DrawUpMinutes {
                canonical,
                access_code_hash,
                ..
            } => {
                let hash = crate::minutes::content_hash(canonical).to_hex();
                let version = self.minutes.entry(hash).or_insert_with(|| MinutesVersion {
                    canonical: canonical.clone(),
                    signatures: Vec::new(),
                    access_code_hash: None,
                });
                // The same minutes drawn up twice with different codes (which
                // an honest device never does): the smaller hash, whatever the order.
                if let Some(code) = access_code_hash {
                    if version.access_code_hash.is_none_or(|c| *code < c) {
                        version.access_code_hash = Some(*code);
                    }
                }
            }
            Payload::ReportRemediation {
                item,
                facility,
                sent_by,
                text,
                photos,
                ..
            } => {
                let reports = self.remediations.entry(item.clone()).or_default();
                if !reports.iter().any(|r| r.op == op.id) {
                    let report = RemediationReport {
                        op: op.id,
                        item: item.clone(),
                        facility: *facility,
                        sent_by: sent_by.clone(),
                        text: text.clone(),
                        photos: photos.clone(),
                        received_at: op.at,
                    };
                    // Ordered by receipt time, then id: the same on every replica.
                    let at = reports.partition_point(|r| (r.received_at, r.op) < (op.at, op.id));
                    reports.insert(at, report);
                }
            }
            Payload::ReviewRemediation {
                item,
                review,
                supersedes,
                ..
            } => {
                let version = Version::of(op, review.clone());
                self.reviews
                    .entry(item.clone())
                    .or_default()
                    .apply(version, supersedes);
            }
            Payload::SignMinutes {
                content_hash,
                signature,
                ..
            } => {
                if let Some(version) = self.minutes.get_mut(&content_hash.to_hex()) {
                    if !version.signatures.iter().any(|s| s.signer == signature.signer) {
                        let at = version
                            .signatures
                            .partition_point(|s| s.signer < signature.signer);
                        version.signatures.insert(at, signature.clone());
                    }
                    if signature.role == Role::Leader && self.inspection.status < Status::Sealed {
                        self.inspection.status = Status::Sealed;
                    }
                }
            }
            Payload::CreateInspection(_)
            | Payload::PutFacility(_)
            | Payload::PutInspector(_)
            | Payload::PutDelegation(_)
            | Payload::PublishTemplate(_)
            | Payload::PublishAdminUnits { .. }
            | Payload::CertifyDevice(_)
            | Payload::RevokeDevice { .. } => {}
        }
    }

    /// The newest version of the minutes: the one no other version amends.
    pub fn current_minutes(&self) -> Option<&MinutesVersion> {
        let cited: std::collections::BTreeSet<String> = self
            .minutes
            .values()
            .filter_map(|v| crate::minutes::decode_canonical(&v.canonical).ok())
            .filter_map(|d| d.previous.map(|p| p.to_hex()))
            .collect();
        self.minutes
            .iter()
            .filter(|(h, _)| !cited.contains(*h))
            .map(|(_, v)| v)
            .next()
    }

    fn check_draw_up(&self, canonical: &[u8]) -> Result<(), Error> {
        let status = self.inspection.status;
        let doc = crate::minutes::decode_canonical(canonical)?;
        if doc.inspection_id != self.inspection.id.to_string() {
            return Err(crate::error::ValidationError::Invalid {
                field: "minutes",
                reason: "drawn up for another inspection".into(),
            }
            .into());
        }
        match self.current_minutes() {
            None if status == Status::FindingsClosed && doc.previous.is_none() => Ok(()),
            None => Err(LifecycleError::NotAllowed {
                status,
                action: "drawing up minutes before the findings are closed",
            }
            .into()),
            Some(current) if !current.is_sealed() => Err(LifecycleError::NotAllowed {
                status,
                action: "drawing up new minutes while the current ones await signatures",
            }
            .into()),
            Some(current) => {
                let hash = crate::minutes::content_hash(&current.canonical);
                if doc.previous != Some(hash) {
                    return Err(LifecycleError::NotAllowed {
                        status,
                        action: "an amendment that does not cite the current minutes",
                    }
                    .into());
                }
                Ok(())
            }
        }
    }

    /// A signature is accepted when it is on the current, unsealed minutes,
    /// by a listed member with the key the minutes name, verifies strictly,
    /// is the signer's first, and — for the leader — comes last.
    fn check_signature(&self, hash: &Hash32, sig: &MinutesSignature, ctx: &Context<'_>) -> Result<(), Error> {
        let status = self.inspection.status;
        let version = self.minutes.get(&hash.to_hex()).ok_or_else(|| Error::NotFound {
            kind: "minutes",
            id: hash.to_hex(),
        })?;
        if self.current_minutes().map(|c| &c.canonical) != Some(&version.canonical) {
            return Err(LifecycleError::NotAllowed {
                status,
                action: "signing minutes that were replaced by an amendment",
            }
            .into());
        }
        let mut signed = version.signed()?;
        // `sign` re-checks membership, key, order and the signature itself.
        let key = PresentedSignature(sig.clone());
        let signer: crate::ids::InspectorId = sig.signer.parse()?;
        let made = signed.sign(signer, &key)?;
        if made.role != sig.role {
            return Err(crate::minutes::MinutesError::NotAMember {
                signer: sig.signer.clone(),
            }
            .into());
        }
        if let Some(trusted) = ctx.trusted_keys {
            if trusted.find(&sig.signer, &sig.public_key).is_none() {
                return Err(crate::minutes::MinutesError::KeyMismatch {
                    signer: sig.signer.clone(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Remediation concerns a violation of sealed minutes that was not dismissed.
    fn check_remediable(&self, item: &str, ctx: &Context<'_>, action: &'static str) -> Result<(), Error> {
        let status = self.inspection.status;
        if status < Status::Sealed {
            return Err(LifecycleError::NotAllowed { status, action }.into());
        }
        if !self
            .violations(ctx)
            .iter()
            .any(|v| v.item == item && !v.is_dismissed())
        {
            return Err(Error::NotFound {
                kind: "violation",
                id: item.to_string(),
            });
        }
        Ok(())
    }

    fn check_findings_complete(&self, ctx: &Context<'_>) -> Result<(), LifecycleError> {
        let lines = self.checklist(ctx);
        let unanswered: Vec<_> = lines
            .iter()
            .filter(|l| l.asked && l.answer == AnswerState::Unanswered)
            .collect();
        if let Some(first) = unanswered.first() {
            return Err(LifecycleError::Unanswered {
                count: unanswered.len(),
                first: first.item.code.clone(),
            });
        }
        let conflicts: Vec<_> = lines
            .iter()
            .filter(|l| l.asked && matches!(l.answer, AnswerState::Conflict(_)))
            .collect();
        if let Some(first) = conflicts.first() {
            return Err(LifecycleError::Conflicts {
                count: conflicts.len(),
                first: first.item.code.clone(),
            });
        }
        Ok(())
    }
}
