//! The materialised state of one inspection, and how operations change it.
//!
//! `apply` is the one function both the device store and the server run, so
//! that a replica's state depends only on the operations it has seen.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::answer::{compliance, AnswerEntry, Compliance};
use crate::error::{AnswerError, Error, LifecycleError};
use crate::facility::FacilityKind;
use crate::inspection::{Inspection, Status};
use crate::merge::{MvRegister, Version};
use crate::ops::{Operation, Payload};
use crate::template::{ChecklistTemplate, Item, Section};
use crate::violation::{Dismissal, Violation, ViolationEdit, ViolationStatus};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionRecord {
    pub inspection: Inspection,
    pub answers: BTreeMap<String, MvRegister<AnswerEntry>>,
    pub violation_edits: BTreeMap<String, MvRegister<ViolationEdit>>,
}

/// What `apply` needs to judge an operation.
pub struct Context<'a> {
    pub template: &'a ChecklistTemplate,
    pub facility_kind: FacilityKind,
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
                status: ViolationStatus::Open,
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

    /// Checks and applies an operation to this inspection. On error nothing changed.
    pub fn apply(&mut self, op: &Operation, ctx: &Context<'_>) -> Result<(), Error> {
        let status = self.inspection.status;
        match &op.payload {
            Payload::Transition { to, .. } => {
                if *to <= status {
                    // Already there (a replayed or concurrent transition): nothing to do.
                    return Ok(());
                }
                status.check_transition(*to)?;
                if *to == Status::FindingsClosed {
                    self.check_findings_complete(ctx)?;
                }
                if *to == Status::InProgress {
                    self.inspection.started_at = Some(op.at);
                }
                self.inspection.status = *to;
                Ok(())
            }
            Payload::SetAnswer {
                item,
                entry,
                supersedes,
                ..
            } => {
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
                let value = entry.value.clone().validate_for(it)?;
                let version = Version {
                    op: op.id,
                    author: op.author,
                    at: op.at,
                    value: AnswerEntry {
                        value,
                        note: entry.note.clone(),
                    },
                };
                self.answers
                    .entry(item.clone())
                    .or_default()
                    .apply(version, supersedes);
                Ok(())
            }
            Payload::EditViolation {
                item,
                edit,
                supersedes,
                ..
            } => {
                if !status.findings_open() {
                    return Err(LifecycleError::NotAllowed {
                        status,
                        action: "editing violations",
                    }
                    .into());
                }
                if !self.violations(ctx).iter().any(|v| &v.item == item) {
                    return Err(Error::NotFound {
                        kind: "violation",
                        id: item.clone(),
                    });
                }
                let version = Version {
                    op: op.id,
                    author: op.author,
                    at: op.at,
                    value: edit.clone(),
                };
                self.violation_edits
                    .entry(item.clone())
                    .or_default()
                    .apply(version, supersedes);
                Ok(())
            }
            Payload::CreateInspection(_)
            | Payload::PutFacility(_)
            | Payload::PutInspector(_)
            | Payload::PutDelegation(_) => Ok(()),
        }
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
