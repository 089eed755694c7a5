//! The access code printed on the minutes (*mã tra cứu*): how the
//! establishment reaches its minutes, violations and remediation page on the
//! portal.
//!
//! The device that draws up the minutes makes the code offline, so that it
//! can be printed at once, and keeps it in a local tree that is never
//! synced. The operation carries only its SHA-256 ([`AccessCodeHash`]); the
//! clear code travels once, beside the operation in the push request, so
//! that the server can refuse a weak code or one already granted, and is
//! then forgotten. 20 symbols of Crockford's base32 are 100 random bits:
//! far beyond guessing at any rate the portal allows. The alphabet has no
//! I, L, O or U, and reading tolerates the usual confusions (O for 0, I and
//! L for 1), lower case, spaces and hyphens, because people type it from paper.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::error::ValidationError;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Symbols in a code.
pub const LENGTH: usize = 20;

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccessCode(String);

/// Fewest distinct symbols a code must have.
const MIN_DISTINCT: usize = 10;
/// A symbol repeated this many times in a row is refused.
const MAX_RUN: usize = 4;
/// This many symbols in alphabet order (up or down, step one) are refused.
const MAX_STEPS: usize = 5;
/// Codes that appear in documentation and examples: a phone that copies
/// one is refused even where the rules above would let it through.
const OBVIOUS: &[&str] = &[
    "00000000000000000000",
    "11111111111111111111",
    "0123456789ABCDEFGHJK",
    "ABCDEFGHJKMNPQRSTVWX",
    "ABCDEABCDEABCDEABCDE",
    "12345123451234512345",
];

impl AccessCode {
    /// A fresh code from the operating system's random source, drawn again
    /// until it passes [`AccessCode::check_strength`], so that an honest
    /// device is never refused.
    pub fn generate() -> Result<Self, ValidationError> {
        loop {
            let code = Self::draw()?;
            if code.check_strength().is_ok() {
                return Ok(code);
            }
        }
    }

    fn draw() -> Result<Self, ValidationError> {
        let mut bytes = [0u8; LENGTH];
        getrandom::fill(&mut bytes).map_err(|e| ValidationError::Invalid {
            field: "access code",
            reason: format!("no random source: {e}"),
        })?;
        // 256 is a multiple of 32: taking each byte mod 32 is unbiased.
        Ok(Self(
            bytes
                .iter()
                .map(|b| ALPHABET[usize::from(b % 32)] as char)
                .collect(),
        ))
    }

    /// Whether the code looks drawn at random: at least 10 distinct
    /// symbols, no symbol 4 times in a row, no 5 symbols in alphabet order
    /// (up or down), and not one of a few codes from examples. The server
    /// refuses a code that fails, since a buggy or hostile phone could
    /// otherwise print a code anyone can guess.
    ///
    /// A uniformly random code fails with probability at most 6.4e-4 (about
    /// 1 in 1,600), by the union bound over: fewer than 10 distinct symbols
    /// 1.02e-4 (exact, from Stirling numbers of the second kind), a run of 4
    /// equal symbols 5.03e-4 (exact, by a Markov chain on the run length),
    /// 5 symbols in order at most 2 · 16 · 28 / 32^5 = 2.7e-5. `generate`
    /// draws again on failure, so the codes it gives keep 100 − 0.001 bits.
    pub fn check_strength(&self) -> Result<(), ValidationError> {
        let weak = |reason: &str| ValidationError::Invalid {
            field: "access code",
            reason: format!("too easy to guess: {reason}"),
        };
        let idx: Vec<i32> = self
            .0
            .bytes()
            .map(|b| ALPHABET.iter().position(|a| *a == b).map_or(-100, |p| p as i32))
            .collect();
        if OBVIOUS.contains(&self.0.as_str()) {
            return Err(weak("a well-known example code"));
        }
        let distinct: std::collections::BTreeSet<i32> = idx.iter().copied().collect();
        if distinct.len() < MIN_DISTINCT {
            return Err(weak("too few distinct symbols"));
        }
        let mut run = 1;
        let (mut up, mut down) = (1, 1);
        for w in idx.windows(2) {
            run = if w[1] == w[0] { run + 1 } else { 1 };
            up = if w[1] == w[0] + 1 { up + 1 } else { 1 };
            down = if w[1] == w[0] - 1 { down + 1 } else { 1 };
            if run >= MAX_RUN {
                return Err(weak("a symbol repeated in a row"));
            }
            if up >= MAX_STEPS || down >= MAX_STEPS {
                return Err(weak("symbols in alphabet order"));
            }
        }
        Ok(())
    }

    /// Reads a code as a person typed it.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let mut out = String::with_capacity(LENGTH);
        for c in input.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' | '\u{2010}'..='\u{2015}' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return Err(invalid());
            }
            out.push(c);
            if out.len() > LENGTH {
                return Err(invalid());
            }
        }
        if out.len() != LENGTH {
            return Err(invalid());
        }
        Ok(Self(out))
    }

    /// The symbols without separators.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As printed: four groups of five.
    pub fn grouped(&self) -> String {
        let mut s = String::with_capacity(LENGTH + 3);
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % 5 == 0 {
                s.push('-');
            }
            s.push(c);
        }
        s
    }

    /// What the server stores instead of the code.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// The hash as operations and records carry it.
    pub fn code_hash(&self) -> AccessCodeHash {
        AccessCodeHash(self.hash())
    }
}

/// SHA-256 of an access code's symbols: what the operation log, the
/// records and the server hold instead of the code. Written as a 32-byte
/// CBOR byte string.
///
/// Compatibility: operations and records written before this hash existed
/// carry the clear code as text (field `access_code`). They are read as
/// the hash of that code, and nothing stored is rewritten: the log keeps
/// its old bytes until they are gone, while everything re-encoded (a pull,
/// a record written again) carries the hash only.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccessCodeHash(pub [u8; 32]);

impl AccessCodeHash {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for AccessCodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessCodeHash({})", self.to_hex())
    }
}

impl Serialize for AccessCodeHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for AccessCodeHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = AccessCodeHash;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("32 bytes (or, from older data, an access code)")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                <[u8; 32]>::try_from(v)
                    .map(AccessCodeHash)
                    .map_err(|_| E::invalid_length(v.len(), &self))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                // Older data: the clear code, read as its hash.
                AccessCode::parse(v)
                    .map(|c| c.code_hash())
                    .map_err(|_| E::custom("not an access code"))
            }
        }
        d.deserialize_any(V)
    }
}

fn invalid() -> ValidationError {
    ValidationError::Invalid {
        field: "access code",
        reason: format!("expected {LENGTH} letters and digits"),
    }
}

impl TryFrom<String> for AccessCode {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<AccessCode> for String {
    fn from(c: AccessCode) -> Self {
        c.0
    }
}

impl fmt::Display for AccessCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.grouped())
    }
}

/// Never printed in logs or debug output: it is a credential.
impl fmt::Debug for AccessCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessCode(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_read_back_as_typed() {
        let a = AccessCode::generate().unwrap();
        let b = AccessCode::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), LENGTH);
        let typed = a.grouped().to_lowercase().replace('0', "o").replace('1', "l");
        assert_eq!(AccessCode::parse(&typed).unwrap(), a);
        assert_eq!(AccessCode::parse(&format!(" {} ", a.grouped())).unwrap(), a);
        assert!(!format!("{a:?}").contains(a.as_str()));
    }

    #[test]
    fn weak_codes_fail_the_strength_rule_and_generated_ones_pass() {
        for weak in [
            "00000-00000-00000-00000",
            "ABCDE-FGHJK-MNPQR-STVWX",
            "0123456789ABCDEFGHJK",
            "7777X-Q2M9A-B3CDE-RT5K8", // a run of four
            "QZ12345R8WKXMA7NPTVB",    // 1 2 3 4 5 in order
            "ZYXWVQ2M9AB3CDERT5K8",    // Z Y X W V backwards
            "ABABABABABCDCDCDCDCD",    // four distinct symbols
        ] {
            let code = AccessCode::parse(weak).unwrap();
            assert!(code.check_strength().is_err(), "{weak} passed");
        }
        assert!(AccessCode::parse("7Q2M9-XB3CD-ERT5K-8WZ1A")
            .unwrap()
            .check_strength()
            .is_ok());
        for _ in 0..2_000 {
            AccessCode::generate().unwrap().check_strength().unwrap();
        }
    }

    #[test]
    fn hashes_encode_as_bytes_and_old_clear_codes_decode_as_their_hash() {
        let code = AccessCode::generate().unwrap();
        let bytes = crate::codec::to_cbor("h", &code.code_hash()).unwrap();
        assert!(!bytes.windows(LENGTH).any(|w| w == code.as_str().as_bytes()));
        let back: AccessCodeHash = crate::codec::from_cbor("h", &bytes).unwrap();
        assert_eq!(back, code.code_hash());
        let old = crate::codec::to_cbor("c", &code).unwrap();
        let read: AccessCodeHash = crate::codec::from_cbor("c", &old).unwrap();
        assert_eq!(read, code.code_hash());
    }

    #[test]
    fn refuses_wrong_lengths_and_symbols() {
        for bad in [
            "",
            "ABCDE",
            "ABCDE-FGHJK-MNPQR-STVWX-Y",
            "ABCDE-FGHJK-MNPQR-STVWU",
            "ẮBCDE-FGHJK-MNPQR-STVWX",
        ] {
            assert!(AccessCode::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(AccessCode::parse("ABCDE-FGHJK-MNPQR-STVWX").is_ok());
    }
}
