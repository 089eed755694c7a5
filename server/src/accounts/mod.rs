//! The inspectorate's staff accounts: who may sign in to the server's pages,
//! with which role, and with what password (its argon2id hash only).
//!
//! Accounts live in the server's storage (table `accounts`, keyed by the
//! login) and change only through the writer, in the same atomic commits
//! as everything else. The first administrator is made with
//! `kiemtra-server admin create-account`.

mod password;
mod role;

pub use password::{hash as hash_password, verify as verify_password, PasswordError, MAX_CHARS, MIN_CHARS};
pub use role::{Area, Role};

use kiemtra_core::ids::InspectorId;
use serde::{Deserialize, Serialize};

use crate::error::ServerError;

/// A staff account as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// What the official types to sign in (see [`login`]).
    pub login: String,
    /// The name shown on pages and in the audit trail (Vietnamese, NFC).
    pub display_name: String,
    pub role: Role,
    /// The inspector an inspector's account is; `None` for other roles.
    pub inspector: Option<InspectorId>,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// Unix seconds, server clock.
    pub created_at: i64,
    /// A disabled account signs nobody in; it stays for the record.
    pub disabled: bool,
}

/// An account to make.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub inspector: Option<InspectorId>,
    pub password: String,
}

/// The longest login.
pub const MAX_LOGIN_CHARS: usize = 64;

/// A login in its one stored form: trimmed, lower case, 3 to 64 of
/// `a-z 0-9 . _ -`. Plain ASCII, so that a login never depends on the
/// keyboard it is typed on (names with diacritics go in the display name).
pub fn login(typed: &str) -> Result<String, ServerError> {
    let l = typed.trim().to_ascii_lowercase();
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-');
    if l.len() < 3 || l.len() > MAX_LOGIN_CHARS || !l.chars().all(allowed) {
        return Err(ServerError::Invalid(format!(
            "a login is 3 to {MAX_LOGIN_CHARS} of the characters a-z, 0-9, '.', '_' and '-'"
        )));
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_have_one_form() {
        assert_eq!(login("  Nguyen.Van-An_2 ").unwrap(), "nguyen.van-an_2");
        for bad in ["ab", "nguyễn", "a b c", "x@y", &"a".repeat(65), ""] {
            assert!(login(bad).is_err(), "{bad:?}");
        }
    }
}
