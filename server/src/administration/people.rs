//! Actions on people and their means of access: inspectors, delegations,
//! enrolment codes and devices, staff accounts and API tokens.

use kiemtra_core::ids::{DeviceId, InspectorId};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Created;
use crate::accounts::{NewAccount, Role};
use crate::audit::{values, Actor};
use crate::db::Read;
use crate::error::ServerError;
use crate::writer::Writer;

/// `POST /api/v1/admin/inspectors`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewInspector {
    pub name: String,
    /// Job title as printed in the minutes, e.g. "Thanh tra viên".
    pub title: String,
    pub agency: String,
}

pub fn create_inspector(w: &mut Writer, actor: &Actor, req: NewInspector) -> Result<Created, ServerError> {
    let i = w.create_inspector(&req.name, &req.title, &req.agency)?;
    let after = values(json!({"name": i.name, "title": i.title, "agency": i.agency}));
    w.audit(actor, "create_inspector", &i.id.to_string(), None, after)?;
    Ok(Created { id: i.id.to_string() })
}

fn default_valid_hours() -> u32 {
    24
}

/// `POST /api/v1/admin/enrol-codes`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolCodeRequest {
    pub inspector: InspectorId,
    /// Hours the code stays valid (0: already expired, for tests).
    #[serde(default = "default_valid_hours")]
    pub valid_hours: u32,
}

/// A one-time enrolment code. Shown once; only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCode {
    pub code: String,
    pub inspector: InspectorId,
    /// Unix seconds.
    pub expires_at: i64,
}

pub fn issue_enrol_code(
    w: &mut Writer,
    actor: &Actor,
    req: EnrolCodeRequest,
) -> Result<IssuedCode, ServerError> {
    let code = w.enrol_code(req.inspector, req.valid_hours)?;
    // The code itself is a secret: recorded as issued, not by value.
    let after = values(json!({"valid_hours": req.valid_hours}));
    w.audit(actor, "issue_enrol_code", &req.inspector.to_string(), None, after)?;
    Ok(IssuedCode {
        code,
        inspector: req.inspector,
        expires_at: chrono::Utc::now().timestamp() + i64::from(req.valid_hours) * 3600,
    })
}

/// `POST /api/v1/admin/delegations`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDelegation {
    pub name: String,
    /// The decision that set it up (*Quyết định số …*).
    pub decision: String,
    pub leader: InspectorId,
    #[serde(default)]
    pub members: Vec<InspectorId>,
    #[serde(default)]
    pub secretary: Option<InspectorId>,
}

pub fn create_delegation(w: &mut Writer, actor: &Actor, req: NewDelegation) -> Result<Created, ServerError> {
    let d = w.create_delegation(&req.name, &req.decision, req.leader, &req.members, req.secretary)?;
    let after = values(json!({
        "name": req.name,
        "decision": req.decision,
        "leader": req.leader.to_string(),
        "members": req.members.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "secretary": req.secretary.map(|s| s.to_string()),
    }));
    w.audit(actor, "create_delegation", &d.id.to_string(), None, after)?;
    Ok(Created { id: d.id.to_string() })
}

/// `POST /api/v1/admin/accounts`. The password travels only in this
/// request (over HTTPS in production) and is kept only as its hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccountRequest {
    pub login: String,
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub inspector: Option<InspectorId>,
    pub password: String,
}

impl std::fmt::Debug for NewAccountRequest {
    // Never the password, not even in a debug trace.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccountRequest")
            .field("login", &self.login)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// An account as the API shows it: never its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub login: String,
    pub name: String,
    pub role: Role,
    pub inspector: Option<InspectorId>,
    pub disabled: bool,
}

impl From<crate::accounts::Account> for AccountSummary {
    fn from(a: crate::accounts::Account) -> Self {
        Self {
            login: a.login,
            name: a.display_name,
            role: a.role,
            inspector: a.inspector,
            disabled: a.disabled,
        }
    }
}

pub fn create_account(
    w: &mut Writer,
    actor: &Actor,
    req: NewAccountRequest,
) -> Result<AccountSummary, ServerError> {
    let a = w.create_account(NewAccount {
        login: req.login,
        display_name: req.name,
        role: req.role,
        inspector: req.inspector,
        password: req.password,
    })?;
    let after = values(json!({
        "name": a.display_name,
        "role": a.role,
        "inspector": a.inspector.map(|i| i.to_string()),
    }));
    w.audit(actor, "create_account", &a.login, None, after)?;
    Ok(a.into())
}

/// What removing an account's second factor did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorReset {
    pub login: String,
    /// False when the account had none (nothing changed).
    pub removed: bool,
}

/// `POST /api/v1/admin/accounts/{login}/reset-second-factor`: removes an
/// account's second factor without its code (a lost phone).
pub fn reset_second_factor(
    w: &mut Writer,
    actor: &Actor,
    login: &str,
) -> Result<SecondFactorReset, ServerError> {
    let login = crate::accounts::login(login)?;
    if w.db().account(&login)?.is_none() {
        return Err(ServerError::NotFound(format!("account {login}")));
    }
    let removed = w.reset_second_factor(&login)?;
    if removed {
        let before = values(json!({"second_factor": "totp"}));
        let after = values(json!({"second_factor": "off"}));
        w.audit(actor, "reset_second_factor", &login, before, after)?;
    }
    Ok(SecondFactorReset { login, removed })
}

/// `POST /api/v1/admin/api-tokens`: a token for scripts, bound to an
/// account (the caller's unless an administrator names another): it opens
/// exactly what that account's role opens, and nothing once the account is
/// disabled. Without an account (only from the console), it opens every
/// area, as the bootstrap tokens of earlier versions did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    /// What the token is for, e.g. "nightly import".
    pub name: String,
    #[serde(default)]
    pub account: Option<String>,
}

/// A token, shown once; only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    pub token: String,
    pub account: Option<String>,
}

pub fn create_api_token(w: &mut Writer, actor: &Actor, req: NewApiToken) -> Result<IssuedToken, ServerError> {
    let account = match &req.account {
        Some(login) => {
            let login = crate::accounts::login(login)?;
            match w.db().account(&login)? {
                Some(a) if !a.disabled => Some(a.login),
                Some(_) => return Err(ServerError::Invalid(format!("the account {login} is disabled"))),
                None => return Err(ServerError::NotFound(format!("account {login}"))),
            }
        }
        None => None,
    };
    let token = w.create_admin_token(&req.name, account.clone())?;
    // The token is a secret: recorded as issued, not by value.
    let after = values(json!({"name": req.name, "account": account}));
    w.audit(
        actor,
        "issue_api_token",
        account.as_deref().unwrap_or(&req.name),
        None,
        after,
    )?;
    Ok(IssuedToken { token, account })
}

/// A device as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSummary {
    pub device: DeviceId,
    pub inspector: InspectorId,
    pub inspector_name: String,
    pub name: String,
    pub revoked: bool,
    /// Unix seconds of the device's last authenticated request, as this
    /// server instance saw it since it started; `None` when not seen.
    pub last_seen: Option<i64>,
}

pub fn devices(db: &impl Read, seen: &crate::auth::LastSeen) -> Result<Vec<DeviceSummary>, ServerError> {
    let mut out = Vec::new();
    for d in db.devices()? {
        let inspector_name = db
            .inspector(d.inspector)?
            .map_or_else(|| d.inspector.to_string(), |i| i.name);
        out.push(DeviceSummary {
            last_seen: seen.get(d.device),
            device: d.device,
            inspector: d.inspector,
            inspector_name,
            name: d.name,
            revoked: d.revoked,
        });
    }
    out.sort_by(|a, b| (&a.inspector_name, &a.name).cmp(&(&b.inspector_name, &b.name)));
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    pub device: String,
    pub revoked: bool,
}

/// Revokes a device: its key no longer authenticates from the next request on.
pub fn revoke_device(w: &mut Writer, actor: &Actor, device: DeviceId) -> Result<Revoked, ServerError> {
    if w.revoke_device(device)?.is_some() {
        let before = values(json!({"revoked": false}));
        let after = values(json!({"revoked": true}));
        w.audit(actor, "revoke_device", &device.to_string(), before, after)?;
    }
    Ok(Revoked {
        device: device.to_string(),
        revoked: true,
    })
}
