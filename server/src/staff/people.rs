//! Inspectors and delegations: who inspects, in which delegation, under
//! which decision, with which leader (the one who seals the minutes).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use kiemtra_core::ids::InspectorId;
use kiemtra_core::people::Role as MemberRole;
use serde::Deserialize;

use super::{chrome, forged, gate, notice, with_id, Done, FormToken};
use crate::accounts::Area;
use crate::administration::{self as admin, NewDelegation, NewInspector};
use crate::app::AppState;
use crate::db::Read;
use crate::error::ServerError;
use crate::forwarded::Https;
use crate::html::{redirect, Chrome};
use crate::overview::auth::Official;

pub struct InspectorRow {
    pub id: String,
    pub name: String,
    pub title: String,
    pub agency: String,
}

pub struct DelegationRow {
    pub name: String,
    pub decision: String,
    pub leader: String,
    /// "Name (thư ký)", …
    pub others: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "staff/delegations.html")]
struct Page {
    chrome: Chrome,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    inspectors: Vec<InspectorRow>,
    delegations: Vec<DelegationRow>,
}

fn render(
    state: &AppState,
    who: &Official,
    token: FormToken,
    status: StatusCode,
    done: Option<&str>,
    error: Option<String>,
) -> Response {
    let built = (|| -> Result<(Vec<InspectorRow>, Vec<DelegationRow>), ServerError> {
        let mut inspectors = state.db.inspectors()?;
        inspectors.sort_by(|a, b| a.name.cmp(&b.name));
        let name = |id: InspectorId| {
            inspectors
                .iter()
                .find(|i| i.id == id)
                .map_or_else(|| id.to_string(), |i| i.name.clone())
        };
        let mut delegations: Vec<DelegationRow> = state
            .db
            .delegations()?
            .into_iter()
            .map(|d| DelegationRow {
                leader: d.leader().map(name).unwrap_or_default(),
                others: d
                    .members
                    .iter()
                    .filter(|m| m.role != MemberRole::Leader)
                    .map(|m| match m.role {
                        MemberRole::Secretary => format!("{} (thư ký)", name(m.inspector)),
                        _ => name(m.inspector),
                    })
                    .collect(),
                name: d.name,
                decision: d.decision,
            })
            .collect();
        delegations.sort_by(|a, b| a.name.cmp(&b.name));
        let inspectors = inspectors
            .into_iter()
            .map(|i| InspectorRow {
                id: i.id.to_string(),
                name: i.name,
                title: i.title,
                agency: i.agency,
            })
            .collect();
        Ok((inspectors, delegations))
    })();
    let (inspectors, delegations) = match built {
        Ok(b) => b,
        Err(e) => return super::failure(who, &e),
    };
    let page = Page {
        chrome: chrome("Cán bộ và đoàn kiểm tra", who),
        csrf: token.token.clone(),
        notice: notice(done),
        error,
        inspectors,
        delegations,
    };
    token.respond(status, &page)
}

pub async fn page(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match FormToken::of(&headers, https) {
        Ok(token) => render(&state, &who, token, StatusCode::OK, done.done.as_deref(), None),
        Err(r) => r,
    }
}

/// After a refused form: the page again with the reason.
fn refused(state: &AppState, who: &Official, https: bool, headers: &HeaderMap, e: &ServerError) -> Response {
    match FormToken::of(headers, https) {
        Ok(token) => render(state, who, token, e.status(), None, Some(e.to_string())),
        Err(r) => r,
    }
}

#[derive(Debug, Deserialize)]
pub struct InspectorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    agency: String,
}

pub async fn create_inspector(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<InspectorForm>,
) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if !crate::csrf::check(&headers, &f.csrf) {
        return forged();
    }
    let req = NewInspector {
        name: f.name,
        title: f.title,
        agency: f.agency,
    };
    let actor = who.actor();
    match state
        .writer
        .run(move |w| admin::create_inspector(w, &actor, req))
        .await
    {
        Ok(c) => with_id(redirect("/admin/delegations?done=inspector_created"), &c.id),
        Err(e) => refused(&state, &who, https, &headers, &e),
    }
}

/// The delegation form: members are ticked boxes (`member` repeated), so it
/// is read from the raw pairs rather than a struct.
pub async fn create_delegation(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if !crate::csrf::check(&headers, &one("csrf")) {
        return forged();
    }
    let parse = |v: &str| v.parse::<InspectorId>().map_err(ServerError::from);
    let req = (|| -> Result<NewDelegation, ServerError> {
        let leader = parse(&one("leader"))
            .map_err(|_| ServerError::Invalid("chọn trưởng đoàn / choose the leader".into()))?;
        let secretary = match one("secretary").as_str() {
            "" => None,
            s => Some(parse(s)?),
        };
        let members = pairs
            .iter()
            .filter(|(n, _)| n == "member")
            .map(|(_, v)| parse(v))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|m| *m != leader && Some(*m) != secretary)
            .collect();
        Ok(NewDelegation {
            name: one("name"),
            decision: one("decision"),
            leader,
            members,
            secretary,
        })
    })();
    let actor = who.actor();
    let result = match req {
        Ok(req) => {
            state
                .writer
                .run(move |w| admin::create_delegation(w, &actor, req))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => with_id(redirect("/admin/delegations?done=delegation_created"), &c.id),
        Err(e) => refused(&state, &who, https, &headers, &e),
    }
}
