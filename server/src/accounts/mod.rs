//! The inspectorate's staff accounts: who may sign in to the server's pages,
//! with which role, and with what password (its argon2id hash only).
//!
//! Accounts live in the server's storage (table `accounts`, keyed by the
//! login) and change only through the writer, in the same atomic commits
//! as everything else. The first administrator is made with
//! `kiemtra-server admin create-account`. An account may add a second
//! factor ([`totp`]), and the agency may require one of some roles
//! ([`SecondFactorPolicy`]).

mod password;
mod role;
pub mod totp;

pub use password::{hash as hash_password, verify as verify_password, PasswordError, MAX_CHARS, MIN_CHARS};
pub use role::{Area, Role};
pub use totp::SecondFactor;

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
    /// The one-time-password authenticator, if any (accounts stored
    /// before second factors existed decode as without one).
    #[serde(default)]
    pub second_factor: SecondFactor,
}

/// The agency's rule on second factors, set by an administrator
/// (`/admin/second-factor`). While it covers an account's role, an account
/// without a second factor that signs in can open only its own account
/// page, to set one up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorPolicy {
    /// Administrators' accounts must use a second factor.
    #[serde(default)]
    pub administrators: bool,
    /// Every staff account must.
    #[serde(default)]
    pub all_staff: bool,
}

impl SecondFactorPolicy {
    /// Whether an account of `role` must use a second factor.
    pub fn covers(self, role: Role) -> bool {
        self.all_staff || (self.administrators && role == Role::Administrator)
    }
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

    #[test]
    fn accounts_stored_before_second_factors_decode_without_one() {
        /// An account as stored before second factors existed.
        #[derive(Serialize)]
        struct Before {
            login: String,
            display_name: String,
            role: Role,
            inspector: Option<InspectorId>,
            password_hash: String,
            created_at: i64,
            disabled: bool,
        }
        let before = Before {
            login: "lanhdao".into(),
            display_name: "Lê Thị Lãnh".into(),
            role: Role::Viewer,
            inspector: None,
            password_hash: "$argon2id$…".into(),
            created_at: 1_700_000_000,
            disabled: false,
        };
        let bytes = kiemtra_core::codec::to_cbor("account", &before).unwrap();
        let read: Account = kiemtra_core::codec::from_cbor("account", &bytes).unwrap();
        assert_eq!(read.login, "lanhdao");
        assert_eq!(read.second_factor, SecondFactor::default());
        assert!(!read.second_factor.is_on());
        // And one with a second factor round-trips, secret and step included.
        let mut on = read.clone();
        on.second_factor = SecondFactor {
            secret: Some(vec![7; totp::SECRET_BYTES]),
            pending: None,
            last_step: 56_666_666,
        };
        let bytes = kiemtra_core::codec::to_cbor("account", &on).unwrap();
        let back: Account = kiemtra_core::codec::from_cbor("account", &bytes).unwrap();
        assert_eq!(back, on);
    }

    #[test]
    fn the_policy_covers_the_roles_it_names() {
        let off = SecondFactorPolicy::default();
        let admins = SecondFactorPolicy {
            administrators: true,
            all_staff: false,
        };
        let all = SecondFactorPolicy {
            administrators: false,
            all_staff: true,
        };
        for r in Role::ALL {
            assert!(!off.covers(r));
            assert_eq!(admins.covers(r), r == Role::Administrator, "{r:?}");
            assert!(all.covers(r));
        }
    }
}
