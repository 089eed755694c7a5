//! Staff passwords: argon2id (the `argon2` crate's defaults, OWASP's
//! minimum: 19 MiB, two passes), a random salt per hash, and only the PHC
//! string (`$argon2id$v=19$…`) ever stored. The password itself is never
//! kept, logged or echoed.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use unicode_normalization::UnicodeNormalization;

/// Shorter passwords are refused: twelve characters is the least that
/// resists offline guessing of a stolen hash for long.
pub const MIN_CHARS: usize = 12;
/// Longer ones too: hashing cost should not be the caller's to choose.
pub const MAX_CHARS: usize = 256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("a password needs at least {MIN_CHARS} characters")]
    TooShort,
    #[error("a password has at most {MAX_CHARS} characters")]
    TooLong,
    #[error("a password may not contain control characters")]
    ControlCharacter,
    /// The random source or the hasher failed: nothing about the password.
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// The same password typed on two keyboards may arrive composed or
/// decomposed (Vietnamese diacritics): both must open the account.
fn normal(password: &str) -> String {
    password.nfc().collect()
}

/// Checks a new password against the policy and hashes it.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let password = normal(password);
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    if password.chars().any(char::is_control) {
        return Err(PasswordError::ControlCharacter);
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PasswordError::Hashing(format!("random source: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// A hash of no one's password (made once per process from a random one),
/// verified against when the account does not exist, so that a wrong name
/// takes as long to refuse as a wrong password.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let mut random = [0u8; 24];
        // Without a random source the decoy is still a valid hash of a
        // password nobody types; only its secrecy would be lost.
        let _ = getrandom::fill(&mut random);
        hash(&hex::encode(random)).unwrap_or_default()
    })
}

/// Whether `password` opens `stored` (a PHC string); `None` is an unknown
/// account and always fails, in about the time of a real check.
pub fn verify(stored: Option<&str>, password: &str) -> bool {
    let password = normal(password);
    if password.chars().count() > MAX_CHARS {
        return false;
    }
    let known = stored.is_some();
    let against: &str = match stored {
        Some(h) => h,
        None => decoy(),
    };
    let Ok(parsed) = PasswordHash::new(against) else {
        return false;
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    known && matches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_opens_with_its_password_only_and_holds_no_trace_of_it() {
        let h = hash("mật khẩu đủ dài 2025").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains("mật khẩu"));
        assert!(verify(Some(&h), "mật khẩu đủ dài 2025"));
        assert!(!verify(Some(&h), "mật khẩu đủ dài 2026"));
        // Salted: the same password hashes differently each time.
        assert_ne!(h, hash("mật khẩu đủ dài 2025").unwrap());
    }

    #[test]
    fn composed_and_decomposed_forms_are_the_same_password() {
        let composed = "Hải Phòng an toàn";
        let decomposed: String = composed.nfd().collect();
        assert_ne!(composed, decomposed);
        let h = hash(&decomposed).unwrap();
        assert!(verify(Some(&h), composed));
    }

    #[test]
    fn the_policy_refuses_short_long_and_control_characters() {
        assert_eq!(hash("ngắn quá"), Err(PasswordError::TooShort));
        assert_eq!(hash(&"a".repeat(MAX_CHARS + 1)), Err(PasswordError::TooLong));
        assert_eq!(hash("mười hai ký\ntự"), Err(PasswordError::ControlCharacter));
    }

    #[test]
    fn an_unknown_account_or_a_damaged_hash_never_opens() {
        assert!(!verify(None, "anything at all, long enough"));
        assert!(!verify(Some("not a phc string"), "anything at all, long enough"));
        // The decoy is a well-formed hash, so its check costs a real one.
        assert!(PasswordHash::new(decoy()).is_ok());
    }
}
