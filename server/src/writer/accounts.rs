//! The writer's part in staff accounts: making one, and opening a session
//! for one whose password was checked.

use std::time::Duration;

use super::{expiry, session_token, Writer};
use crate::accounts::{self, Account, NewAccount, PasswordError, Role};
use crate::db::{AdminSession, Read, SessionAccount, TypedWrites};
use crate::error::ServerError;
use crate::portal::session::token_key;
use crate::storage::Table;
use kiemtra_core::codec::from_cbor;

/// The longest display name.
const MAX_DISPLAY_NAME: usize = 200;

impl Writer {
    /// Makes a staff account; refuses a login already taken, a weak
    /// password, and an inspector's account that names no known inspector.
    pub fn create_account(&mut self, new: NewAccount) -> Result<Account, ServerError> {
        let login = accounts::login(&new.login)?;
        let display_name = kiemtra_core::text::required("display name", &new.display_name, MAX_DISPLAY_NAME)?;
        match (new.role, new.inspector) {
            (Role::Inspector, None) => {
                return Err(ServerError::Invalid(
                    "an inspector's account names its inspector".into(),
                ))
            }
            (Role::Inspector, Some(i)) => {
                if self.db().inspector(i)?.is_none() {
                    return Err(ServerError::NotFound(format!("inspector {i}")));
                }
            }
            (_, Some(_)) => {
                return Err(ServerError::Invalid(
                    "only an inspector's account names an inspector".into(),
                ))
            }
            (_, None) => {}
        }
        if self.db().account(&login)?.is_some() {
            return Err(ServerError::Taken {
                code: "login_taken",
                message: format!("the login {login} is taken"),
            });
        }
        let password_hash = accounts::hash_password(&new.password).map_err(|e| match e {
            PasswordError::Hashing(m) => ServerError::Storage(m),
            policy => ServerError::Invalid(policy.to_string()),
        })?;
        let account = Account {
            login,
            display_name,
            role: new.role,
            inspector: new.inspector,
            password_hash,
            created_at: chrono::Utc::now().timestamp(),
            disabled: false,
            second_factor: Default::default(),
        };
        self.changes.put_account(&account)?;
        Ok(account)
    }

    /// Ends every overview session of the account `login`, or, for `None`,
    /// every session opened with an admin token of holder `name`; returns
    /// how many.
    pub fn close_sessions_of(&mut self, login: Option<&str>, name: &str) -> Result<usize, ServerError> {
        let mut keys = Vec::new();
        for (k, v) in self.db().raw_all(Table::AdminSessions)? {
            let s: AdminSession = from_cbor("admin session", &v)?;
            let same = match (&s.account, login) {
                (Some(a), Some(l)) => a.login == l,
                (None, None) => s.name == name,
                _ => false,
            };
            if same {
                keys.push(k);
            }
        }
        let n = keys.len();
        for k in keys {
            self.changes.delete(Table::AdminSessions, k);
        }
        Ok(n)
    }

    /// Opens a session for `account` (its password already checked), for
    /// `ttl`; returns the cookie's token (only its hash is stored).
    pub fn open_account_session(&mut self, account: &Account, ttl: Duration) -> Result<String, ServerError> {
        let token = session_token()?;
        let session = AdminSession {
            name: account.display_name.clone(),
            expires_at: expiry(ttl),
            account: Some(SessionAccount {
                login: account.login.clone(),
            }),
        };
        self.changes.put_admin_session(&token_key(&token), &session)?;
        Ok(token)
    }
}
