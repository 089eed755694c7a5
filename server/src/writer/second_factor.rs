//! The writer's part in second factors: setting one up, accepting its
//! codes, turning it off, and the agency's rule on who must have one.
//!
//! Codes are checked here, on the single writer, and not in the handlers:
//! the step a code uses up is recorded in the same job that accepts it, so
//! two requests carrying the same code cannot both be accepted.

use kiemtra_core::codec::from_cbor;

use super::Writer;
use crate::accounts::totp::{self, Refusal};
use crate::accounts::{Account, SecondFactorPolicy};
use crate::db::TypedWrites;
use crate::db::{AdminSession, Read};
use crate::error::ServerError;
use crate::storage::Table;

impl Writer {
    fn stored_account(&self, login: &str) -> Result<Account, ServerError> {
        self.db()
            .account(login)?
            .ok_or_else(|| ServerError::NotFound(format!("account {login}")))
    }

    /// Gives `login` a new secret to set up with (replacing one not yet
    /// confirmed); the second factor stays off until [`Self::confirm_second_factor`].
    pub fn start_second_factor(&mut self, login: &str) -> Result<(), ServerError> {
        let mut a = self.stored_account(login)?;
        if a.second_factor.is_on() {
            return Err(ServerError::Conflict(
                "the second factor is on; turn it off before setting up another".into(),
            ));
        }
        a.second_factor.pending = Some(totp::new_secret().map_err(|e| ServerError::Storage(e.to_string()))?);
        self.changes.put_account(&a)?;
        Ok(())
    }

    /// Turns the second factor of `login` on if `code` is the current code
    /// of the secret being set up. `now`: Unix seconds.
    pub fn confirm_second_factor(
        &mut self,
        login: &str,
        code: &str,
        now: u64,
    ) -> Result<Result<(), Refusal>, ServerError> {
        let mut a = self.stored_account(login)?;
        if let Err(r) = a.second_factor.confirm(code, now) {
            return Ok(Err(r));
        }
        self.changes.put_account(&a)?;
        Ok(Ok(()))
    }

    /// Ends every session of the account `login` but the one stored under
    /// `keep`; returns how many. Turning a second factor on calls it: a
    /// session opened elsewhere with the password alone (perhaps by whoever
    /// made the official add one) must not outlive the change.
    pub fn close_other_sessions(
        &mut self,
        login: &str,
        keep: Option<[u8; 32]>,
    ) -> Result<usize, ServerError> {
        let mut keys = Vec::new();
        for (k, v) in self.db().raw_all(Table::AdminSessions)? {
            let s: AdminSession = from_cbor("admin session", &v)?;
            let of_login = s.account.as_ref().is_some_and(|a| a.login == login);
            if of_login && keep.as_ref().is_none_or(|kept| k.as_slice() != kept.as_slice()) {
                keys.push(k);
            }
        }
        let n = keys.len();
        for k in keys {
            self.changes.delete(Table::AdminSessions, k);
        }
        Ok(n)
    }

    /// Turns the second factor of `login` off if `code` is its current code.
    pub fn disable_second_factor(
        &mut self,
        login: &str,
        code: &str,
        now: u64,
    ) -> Result<Result<(), Refusal>, ServerError> {
        let mut a = self.stored_account(login)?;
        if let Err(r) = a.second_factor.accept(code, now) {
            return Ok(Err(r));
        }
        // The last step stays: a code seen before turning off must not open
        // a second factor set up again with the same app in the same minute.
        a.second_factor.secret = None;
        a.second_factor.pending = None;
        self.changes.put_account(&a)?;
        Ok(Ok(()))
    }

    /// Accepts `code` as the second step of signing in to `login`, using
    /// its step up; returns the account to open a session for.
    pub fn accept_sign_in_code(
        &mut self,
        login: &str,
        code: &str,
        now: u64,
    ) -> Result<Result<Account, Refusal>, ServerError> {
        let mut a = self.stored_account(login)?;
        if let Err(r) = a.second_factor.accept(code, now) {
            return Ok(Err(r));
        }
        self.changes.put_account(&a)?;
        Ok(Ok(a))
    }

    /// Removes the second factor of `login` (and any set-up in progress)
    /// without a code: an administrator's answer to a lost phone. Returns
    /// whether there was one. The last step stays, as when turning off.
    pub fn reset_second_factor(&mut self, login: &str) -> Result<bool, ServerError> {
        let mut a = self.stored_account(login)?;
        let had = a.second_factor.is_on() || a.second_factor.pending.is_some();
        if had {
            a.second_factor.secret = None;
            a.second_factor.pending = None;
            self.changes.put_account(&a)?;
        }
        Ok(had)
    }

    /// Sets the agency's rule; returns the one it replaces.
    pub fn set_second_factor_policy(
        &mut self,
        policy: SecondFactorPolicy,
    ) -> Result<SecondFactorPolicy, ServerError> {
        let before = self.db().second_factor_policy()?;
        self.changes.put_second_factor_policy(&policy)?;
        Ok(before)
    }
}
