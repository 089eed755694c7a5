//! Staff accounts, for administrators: who may sign in, with which role.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use super::{chrome, forged, gate, notice, Done, FormToken};
use crate::accounts::{Area, Role};
use crate::administration::{self as admin, AccountSummary, NewAccountRequest};
use crate::app::AppState;
use crate::db::Read;
use crate::error::ServerError;
use crate::forwarded::Https;
use crate::html::{redirect, Chrome};
use crate::overview::auth::Official;

pub struct RoleChoice {
    pub value: String,
    pub label: &'static str,
}

pub struct InspectorChoice {
    pub value: String,
    pub label: String,
}

pub struct AccountRow {
    pub a: AccountSummary,
    pub role: &'static str,
}

#[derive(askama::Template)]
#[template(path = "staff/accounts.html")]
struct Page {
    chrome: Chrome,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    accounts: Vec<AccountRow>,
    roles: Vec<RoleChoice>,
    inspectors: Vec<InspectorChoice>,
}

fn render(
    state: &AppState,
    who: &Official,
    token: FormToken,
    status: StatusCode,
    done: Option<&str>,
    error: Option<String>,
) -> Response {
    let built = (|| -> Result<(Vec<AccountRow>, Vec<InspectorChoice>), ServerError> {
        let mut accounts: Vec<AccountRow> = state
            .db
            .accounts()?
            .into_iter()
            .map(|a| AccountRow {
                role: a.role.label_vi(),
                a: a.into(),
            })
            .collect();
        accounts.sort_by(|x, y| x.a.login.cmp(&y.a.login));
        let mut inspectors: Vec<InspectorChoice> = state
            .db
            .inspectors()?
            .into_iter()
            .map(|i| InspectorChoice {
                value: i.id.to_string(),
                label: i.name,
            })
            .collect();
        inspectors.sort_by(|a, b| a.label.cmp(&b.label));
        Ok((accounts, inspectors))
    })();
    let (accounts, inspectors) = match built {
        Ok(b) => b,
        Err(e) => return super::failure(who, &e),
    };
    let roles = Role::ALL
        .iter()
        .map(|r| RoleChoice {
            value: serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            label: r.label_vi(),
        })
        .collect();
    let page = Page {
        chrome: chrome("Tài khoản", who),
        csrf: token.token.clone(),
        notice: notice(done),
        error,
        accounts,
        roles,
        inspectors,
    };
    token.respond(status, &page)
}

pub async fn page(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let who = match gate(&state, &headers, Area::Administration) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match FormToken::of(&headers, https) {
        Ok(token) => render(&state, &who, token, StatusCode::OK, done.done.as_deref(), None),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    inspector: String,
    #[serde(default)]
    password: String,
}

pub async fn create(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<AccountForm>,
) -> Response {
    let who = match gate(&state, &headers, Area::Administration) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if !crate::csrf::check(&headers, &f.csrf) {
        return forged();
    }
    let req = (|| -> Result<NewAccountRequest, ServerError> {
        let role: Role = serde_json::from_value(serde_json::Value::String(f.role.clone()))
            .map_err(|_| ServerError::Invalid("chọn vai trò / choose the role".into()))?;
        let inspector = match (role, f.inspector.as_str()) {
            (Role::Inspector, i) => Some(i.parse().map_err(|_| {
                ServerError::Invalid("chọn cán bộ của tài khoản / choose the inspector".into())
            })?),
            _ => None,
        };
        Ok(NewAccountRequest {
            login: f.login.clone(),
            name: f.name.clone(),
            role,
            inspector,
            password: f.password.clone(),
        })
    })();
    let actor = who.actor();
    let result = match req {
        Ok(req) => {
            state
                .writer
                .run(move |w| admin::create_account(w, &actor, req))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => redirect("/admin/accounts?done=account_created"),
        Err(e) => match FormToken::of(&headers, https) {
            Ok(token) => render(&state, &who, token, e.status(), None, Some(e.to_string())),
            Err(r) => r,
        },
    }
}
