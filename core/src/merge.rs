//! The multi-value register: how one field (an answer, a violation's edits)
//! merges edits made on several devices.
//!
//! Every edit names the versions its author saw (`supersedes`). A version is
//! dropped only when some edit superseded it; two edits that did not see each
//! other both stay, which is a visible conflict that a later edit resolves by
//! superseding both. The result depends only on the set of edits applied, not
//! on their order or on duplicates: the property sync needs.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{InspectorId, OpId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version<T> {
    pub op: OpId,
    pub author: Option<InspectorId>,
    pub at: DateTime<Utc>,
    pub value: T,
}

impl<T> Version<T> {
    /// The version `op` writes: its id, author and time, with `value`.
    pub fn of(op: &crate::ops::Operation, value: T) -> Self {
        Self {
            op: op.id,
            author: op.author,
            at: op.at,
            value,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MvRegister<T> {
    /// Live versions, sorted by op id so that equal registers are equal values.
    versions: Vec<Version<T>>,
    /// Every op id some edit superseded, so that an edit arriving after the
    /// edit that replaced it stays dead.
    superseded: BTreeSet<OpId>,
}

impl<T> Default for MvRegister<T> {
    fn default() -> Self {
        Self {
            versions: Vec::new(),
            superseded: BTreeSet::new(),
        }
    }
}

impl<T: Clone> MvRegister<T> {
    /// Applies one edit. Idempotent and commutative.
    pub fn apply(&mut self, version: Version<T>, supersedes: &[OpId]) {
        self.superseded.extend(supersedes.iter().copied());
        self.versions.retain(|v| !self.superseded.contains(&v.op));
        if self.superseded.contains(&version.op) || self.versions.iter().any(|v| v.op == version.op) {
            return;
        }
        let at = self.versions.partition_point(|v| v.op < version.op);
        self.versions.insert(at, version);
    }

    /// The live versions; more than one is a conflict.
    pub fn versions(&self) -> &[Version<T>] {
        &self.versions
    }

    /// The single value, when there is no conflict.
    pub fn value(&self) -> Option<&T> {
        match self.versions.as_slice() {
            [one] => Some(&one.value),
            _ => None,
        }
    }

    pub fn is_conflict(&self) -> bool {
        self.versions.len() > 1
    }

    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// What a new local edit supersedes: everything the device sees now.
    pub fn heads(&self) -> Vec<OpId> {
        self.versions.iter().map(|v| v.op).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(op: OpId, value: u32) -> Version<u32> {
        Version {
            op,
            author: None,
            at: DateTime::<Utc>::UNIX_EPOCH,
            value,
        }
    }

    #[test]
    fn concurrent_edits_conflict_and_a_later_edit_resolves() {
        let base = OpId::new();
        let a = OpId::new();
        let b = OpId::new();
        let c = OpId::new();
        let mut r = MvRegister::default();
        r.apply(v(base, 1), &[]);
        r.apply(v(a, 2), &[base]);
        r.apply(v(b, 3), &[base]);
        assert!(r.is_conflict());
        assert_eq!(r.versions().len(), 2);
        r.apply(v(c, 4), &r.heads());
        assert_eq!(r.value(), Some(&4));
    }

    proptest! {
        // Any order, any duplicates: the same edits give the same register.
        #[test]
        fn order_and_duplicates_do_not_matter(
            edits in proptest::collection::vec((0u32..100, proptest::collection::vec(any::<prop::sample::Index>(), 0..3)), 1..12),
            order in any::<prop::sample::Index>(),
            dups in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            let ids: Vec<OpId> = edits.iter().map(|_| OpId::new()).collect();
            // Edit i may supersede only earlier edits (what its author could have seen).
            let ops: Vec<(Version<u32>, Vec<OpId>)> = edits.iter().enumerate().map(|(i, (val, sup))| {
                let s = if i == 0 { vec![] } else { sup.iter().map(|x| ids[x.index(i)]).collect() };
                (v(ids[i], *val), s)
            }).collect();
            let mut reference = MvRegister::default();
            for (ver, s) in &ops { reference.apply(ver.clone(), s); }

            let mut shuffled = ops.clone();
            let k = order.index(shuffled.len());
            shuffled.rotate_left(k);
            shuffled.reverse();
            for d in &dups { shuffled.push(ops[d.index(ops.len())].clone()); }
            let mut other = MvRegister::default();
            for (ver, s) in &shuffled { other.apply(ver.clone(), s); }
            prop_assert_eq!(reference, other);
        }
    }
}
