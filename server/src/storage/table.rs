//! The server's tables beside the log: one per kind of thing it keeps.

/// A named key-value table. Keys and values are bytes; the typed layer
/// (`crate::db`) encodes them. The names are the sled tree names of layout
/// 1, which sled's layout 2 migrates from.
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
}

impl Table {
    pub const ALL: [Table; 13] = [
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
        }
    }

    /// The byte that prefixes this table's keys in an engine that keeps
    /// every table in one key space (sled's layout 2). On disk: never
    /// renumber a table or reuse a retired table's tag. 0xF0 and above are
    /// the engines' own (log, index, layout marker).
    pub fn tag(self) -> u8 {
        match self {
            Table::Meta => 1,
            Table::Templates => 2,
            Table::Facilities => 3,
            Table::Inspectors => 4,
            Table::Delegations => 5,
            Table::Devices => 6,
            Table::EnrolCodes => 7,
            Table::Records => 8,
            Table::Accidents => 9,
            Table::PortalGrants => 10,
            Table::AdminTokens => 11,
            Table::PortalSessions => 12,
            Table::AdminSessions => 13,
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
    fn all_lists_every_table_at_its_index_with_a_distinct_name_and_tag() {
        let mut names = std::collections::HashSet::new();
        let mut tags = std::collections::HashSet::new();
        for (i, t) in Table::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
            assert!(names.insert(t.name()));
            assert!(tags.insert(t.tag()));
            assert!(
                t.tag() > 0 && t.tag() < 0xF0,
                "tags 0xF0 and above are the engines' own"
            );
        }
    }
}
