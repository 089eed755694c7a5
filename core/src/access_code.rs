//! The access code printed on the minutes (*mã tra cứu*): how the
//! establishment reaches its minutes, violations and remediation page on the
//! portal.
//!
//! The device that draws up the minutes makes the code offline, so that it
//! can be printed at once; the server learns it with the minutes and keeps
//! only its SHA-256. 20 symbols of Crockford's base32 are 100 random bits:
//! far beyond guessing at any rate the portal allows. The alphabet has no
//! I, L, O or U, and reading tolerates the usual confusions (O for 0, I and
//! L for 1), lower case, spaces and hyphens, because people type it from paper.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ValidationError;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Symbols in a code.
pub const LENGTH: usize = 20;

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccessCode(String);

impl AccessCode {
    /// A fresh code from the operating system's random source.
    pub fn generate() -> Result<Self, ValidationError> {
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
