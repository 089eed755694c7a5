//! The writer's part in the audit log: an entry goes into the same
//! changeset as the change it records.

use super::Writer;
use crate::audit::{Actor, AuditEntry};
use crate::db::{Read, TypedWrites};
use crate::error::ServerError;

/// The number of the last audit entry.
const META_AUDIT_SEQ: &str = "audit_seq";

impl Writer {
    /// Records that `actor` did `action` to `subject`; committed with the
    /// rest of this job, or not at all.
    pub fn audit(
        &mut self,
        actor: &Actor,
        action: &str,
        subject: &str,
        before: Option<String>,
        after: Option<String>,
    ) -> Result<u64, ServerError> {
        let seq = self.db().meta_u64(META_AUDIT_SEQ)?.unwrap_or(0) + 1;
        self.changes.put_audit_entry(&AuditEntry {
            seq,
            at: chrono::Utc::now().timestamp(),
            actor: actor.clone(),
            action: action.to_string(),
            subject: subject.to_string(),
            before,
            after,
        })?;
        self.changes.set_meta_u64(META_AUDIT_SEQ, seq);
        Ok(seq)
    }
}
