//! The audit log: every change an official makes, by whom, when, and the
//! values before and after. Kept in the server's storage (table `audit`,
//! numbered from 1) and written in the same atomic commit as the change it
//! describes, so the log can neither miss a change nor name one that did
//! not happen. No page, API call or command edits or deletes an entry.
//!
//! Secrets never enter it: an enrolment code, an admin token or a password
//! is recorded as having been issued, not by its value.

use serde::{Deserialize, Serialize};

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    /// The name shown: an account's display name, a token's holder, the
    /// operating-system user of a console command.
    pub name: String,
    /// The account's login, for an account.
    pub login: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A staff account, signed in.
    Account,
    /// The holder of an admin token.
    Token,
    /// `kiemtra-server admin …` run on the server's machine.
    Console,
}

impl ActorKind {
    pub fn label_vi(self) -> &'static str {
        match self {
            ActorKind::Account => "tài khoản",
            ActorKind::Token => "mã truy cập",
            ActorKind::Console => "lệnh quản trị trên máy chủ",
        }
    }
}

impl Actor {
    /// A signed-in staff account.
    pub fn account(name: &str, login: &str) -> Actor {
        Actor {
            kind: ActorKind::Account,
            name: name.to_string(),
            login: Some(login.to_string()),
        }
    }

    /// The holder of an admin token.
    pub fn token(name: &str) -> Actor {
        Actor {
            kind: ActorKind::Token,
            name: name.to_string(),
            login: None,
        }
    }

    /// The operator of a console command: whoever the operating system says.
    pub fn console() -> Actor {
        use std::os::unix::fs::MetadataExt;
        // Services and containers often run without USER set: the uid then.
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| match std::fs::metadata("/proc/self") {
                Ok(m) => format!("uid {}", m.uid()),
                Err(_) => "?".into(),
            });
        Actor {
            kind: ActorKind::Console,
            name: user,
            login: None,
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 1, 2, 3…: the order of the commits.
    pub seq: u64,
    /// Unix seconds, server clock.
    pub at: i64,
    pub actor: Actor,
    /// What was done, e.g. `revoke_device`, `create_account`, `sign_in`.
    pub action: String,
    /// What it was done to: an id, a login, a file name.
    pub subject: String,
    /// The values before the change (JSON), where there were any.
    pub before: Option<String>,
    /// The values after it (JSON).
    pub after: Option<String>,
}

impl AuditEntry {
    /// Whether `needle` (already lower case) is in the entry's text.
    pub fn matches(&self, needle: &str) -> bool {
        [
            self.actor.name.as_str(),
            self.actor.login.as_deref().unwrap_or(""),
            &self.action,
            &self.subject,
            self.before.as_deref().unwrap_or(""),
            self.after.as_deref().unwrap_or(""),
        ]
        .iter()
        .any(|t| t.to_lowercase().contains(needle))
    }
}

/// A change's values as the JSON the log keeps.
pub fn values(v: serde_json::Value) -> Option<String> {
    Some(v.to_string())
}
