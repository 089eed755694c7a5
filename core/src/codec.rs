//! The one place that turns values into CBOR bytes and back.
//!
//! Everything stored or sent goes through here, so that the CBOR crate can be
//! swapped (serde_cbor is unmaintained, RUSTSEC-2021-0127) without touching
//! the rest of the code. Wire and storage types are structs and `BTreeMap`s,
//! never `HashMap`s, so that the same value always gives the same bytes.

use serde::{de::DeserializeOwned, Serialize};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    #[error("cannot encode {what}: {reason}")]
    Encode { what: &'static str, reason: String },
    #[error("cannot decode {what}: {reason}")]
    Decode { what: &'static str, reason: String },
}

/// Encodes `value` as CBOR. `what` names the value in an error.
pub fn to_cbor<T: Serialize>(what: &'static str, value: &T) -> Result<Vec<u8>, CodecError> {
    serde_cbor::to_vec(value).map_err(|e| CodecError::Encode {
        what,
        reason: e.to_string(),
    })
}

/// Decodes CBOR into `T`, refusing trailing bytes. `what` names the value in an error.
pub fn from_cbor<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T, CodecError> {
    serde_cbor::from_slice(bytes).map_err(|e| CodecError::Decode {
        what,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn round_trips_and_is_deterministic() {
        let mut m = BTreeMap::new();
        m.insert("b".to_string(), 2u32);
        m.insert("a".to_string(), 1u32);
        let a = to_cbor("map", &m).unwrap();
        let b = to_cbor("map", &m.clone()).unwrap();
        assert_eq!(a, b);
        let back: BTreeMap<String, u32> = from_cbor("map", &a).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn garbage_is_a_decode_error() {
        let err = from_cbor::<BTreeMap<String, u32>>("map", &[0xff, 0x00, 0x13]).unwrap_err();
        assert!(matches!(err, CodecError::Decode { what: "map", .. }));
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = to_cbor("n", &7u32).unwrap();
        bytes.push(0x01);
        assert!(from_cbor::<u32>("n", &bytes).is_err());
    }
}
