//! The demo's staff accounts, one per role but the inspector's, with fresh
//! random passwords written to `DIR/demo-accounts.json`, so that the
//! overview and the audit log can be tried at once.

use std::path::Path;

use serde::Serialize;

use crate::accounts::{NewAccount, Role};
use crate::error::ServerError;
use crate::writer::Writer;

/// The file, in the data folder, listing the demo accounts and their passwords.
pub const ACCOUNTS_FILE: &str = "demo-accounts.json";

#[derive(Debug, Clone, Serialize)]
pub struct DemoAccount {
    pub login: &'static str,
    pub name: &'static str,
    pub role: Role,
    pub password: String,
}

const ACCOUNTS: [(&str, &str, Role); 3] = [
    ("quantri", "Trần Thị Quản (demo)", Role::Administrator),
    ("kehoach", "Phạm Văn Kế (demo)", Role::Planner),
    ("lanhdao", "Lê Thị Lãnh (demo)", Role::Viewer),
];

/// Makes the accounts (the caller commits) and returns them with their passwords.
pub fn create(w: &mut Writer) -> Result<Vec<DemoAccount>, ServerError> {
    let mut made = Vec::new();
    for (login, name, role) in ACCOUNTS {
        let mut raw = [0u8; 12];
        getrandom::fill(&mut raw)
            .map_err(|e| ServerError::Storage(format!("the random source failed: {e}")))?;
        let password = hex::encode(raw);
        w.create_account(NewAccount {
            login: login.into(),
            display_name: name.into(),
            role,
            inspector: None,
            password: password.clone(),
        })?;
        made.push(DemoAccount {
            login,
            name,
            role,
            password,
        });
    }
    Ok(made)
}

/// Writes the accounts' file atomically (a temporary file, then a rename).
pub fn write(data_dir: &Path, accounts: &[DemoAccount]) -> Result<(), ServerError> {
    let mut json = serde_json::to_string_pretty(accounts)
        .map_err(|e| ServerError::Storage(format!("demo accounts: {e}")))?;
    json.push('\n');
    let tmp = data_dir.join(format!("{ACCOUNTS_FILE}.tmp"));
    std::fs::write(&tmp, json)?;
    std::fs::rename(&tmp, data_dir.join(ACCOUNTS_FILE))?;
    Ok(())
}
