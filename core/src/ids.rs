//! Globally unique identifiers, created offline.
//!
//! Every id is a UUIDv7: unique without coordination (devices create records
//! with no network) and ordered by creation time, which keeps sled's key
//! order close to insertion order.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ValidationError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh id (UUIDv7).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// The 16 bytes, big-endian: the key under which it is stored.
            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }

            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(Uuid::from_bytes(bytes))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| ValidationError::Invalid {
                        field: $field,
                        reason: "not a UUID".into(),
                    })
            }
        }
    };
}

id_type!(
    /// An establishment (*cơ sở*).
    FacilityId,
    "facility id"
);
id_type!(
    /// An inspector (*kiểm tra viên*).
    InspectorId,
    "inspector id"
);
id_type!(
    /// An inspection delegation (*đoàn kiểm tra*).
    DelegationId,
    "delegation id"
);
id_type!(
    /// An inspection.
    InspectionId,
    "inspection id"
);
id_type!(
    /// One operation of a device's log.
    OpId,
    "operation id"
);
id_type!(
    /// A device (one installation of the app).
    DeviceId,
    "device id"
);
id_type!(
    /// A declared labour accident (*vụ tai nạn lao động*).
    AccidentId,
    "accident id"
);
id_type!(
    /// An administrative sanction decision (*quyết định xử phạt*).
    SanctionId,
    "sanction id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_time_ordered() {
        let a = OpId::new();
        let b = OpId::new();
        assert_ne!(a, b);
        assert!(a < b);
    }

    #[test]
    fn parses_its_display_form_and_refuses_garbage() {
        let a = InspectionId::new();
        assert_eq!(a.to_string().parse::<InspectionId>().unwrap(), a);
        assert!("not-an-id".parse::<InspectionId>().is_err());
    }
}
