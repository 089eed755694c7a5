//! The server's tables beside the log: one per kind of thing it keeps.

/// A named key-value table. Keys and values are bytes; the typed layer
/// (the server's `db` module) encodes them. The names are the sled tree names of format 1,
/// so existing data folders open unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// Format version, counters, the server's device id, published units, markers.
    Meta,
    Templates,
    Facilities,
    Inspectors,
    Delegations,
    Devices,
    EnrolCodes,
    /// Inspection records: the merge of the log's operations per inspection.
    Records,
    Accidents,
    /// Portal access grants by the SHA-256 of the access code.
    PortalGrants,
    AdminTokens,
    /// Enterprises' portal sessions by the SHA-256 of the cookie's token.
    PortalSessions,
    /// Officials' overview sessions by the SHA-256 of the cookie's token.
    AdminSessions,
    /// Staff accounts by login (the server's `accounts`).
    Accounts,
    /// The audit log by its number, big-endian (the server's `audit`).
    Audit,
    /// Administrative sanction decisions by id (the server's `sanctions`).
    Sanctions,
    /// The overview's figures, kept by the server's writer in the same
    /// commit as the records, facilities and accidents they count.
    Figures,
}

impl Table {
    pub const ALL: [Table; 17] = [
        Table::Meta,
        Table::Templates,
        Table::Facilities,
        Table::Inspectors,
        Table::Delegations,
        Table::Devices,
        Table::EnrolCodes,
        Table::Records,
        Table::Accidents,
        Table::PortalGrants,
        Table::AdminTokens,
        Table::PortalSessions,
        Table::AdminSessions,
        Table::Accounts,
        Table::Audit,
        Table::Sanctions,
        Table::Figures,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Templates => "templates",
            Table::Facilities => "facilities",
            Table::Inspectors => "inspectors",
            Table::Delegations => "delegations",
            Table::Devices => "devices",
            Table::EnrolCodes => "enrol_codes",
            Table::Records => "records",
            Table::Accidents => "accidents",
            Table::PortalGrants => "portal_codes",
            Table::AdminTokens => "admin_tokens",
            Table::PortalSessions => "portal_sessions",
            Table::AdminSessions => "admin_sessions",
            Table::Accounts => "accounts",
            Table::Audit => "audit",
            Table::Sanctions => "sanctions",
            Table::Figures => "figures",
        }
    }

    /// Position in [`Table::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_table_at_its_index_with_a_distinct_name() {
        let mut names = std::collections::HashSet::new();
        for (i, t) in Table::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
            assert!(names.insert(t.name()));
        }
    }
}
