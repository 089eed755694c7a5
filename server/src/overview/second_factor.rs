//! Second factors on the staff pages: an official's own account page
//! (`/admin/account`: setting up, confirming and turning off a one-time
//! password), the second step of signing in (`/admin/login/code`), and the
//! agency's rule on who must have one (`/admin/second-factor`,
//! administrators).
//!
//! After a right password, an account with a second factor gets no
//! session but a pending sign-in: a random token in a cookie scoped to
//! `/admin/login`, kept for five minutes and good for five wrong codes, in
//! the short-lived store every server instance shares (`Expiring`), so the
//! code may be typed into another instance than the password. Only a right
//! code turns it into a session. Losing the pending sign-ins (a restart on
//! sled) costs an official their password typed again.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::auth::{self, Official, Signed};
use super::{forged, official};
use crate::accounts::totp::{self, Refusal};
use crate::accounts::{Area, SecondFactorPolicy};
use crate::app::AppState;
use crate::audit::values;
use crate::csrf;
use crate::db::Read;
use crate::error::ServerError;
use crate::forwarded::{ClientIp, Https};
use crate::html::{redirect, respond, with_cookie, Chrome};
use crate::portal::session::{cookie, set_cookie, token_key, Gate};
use crate::storage::{Expiring, Kind};

/// The signed-in official's own account page.
pub const ACCOUNT_PAGE: &str = "/admin/account";
/// The sign-in's second step.
const CODE_PAGE: &str = "/admin/login/code";
/// The agency's rule.
const POLICY_PAGE: &str = "/admin/second-factor";
/// The pending sign-in's cookie (path `/admin/login`: sent nowhere else).
pub const PENDING_COOKIE: &str = "kiemtra_signin";
/// Time to type the code after the password.
const PENDING_TTL: Duration = Duration::from_secs(5 * 60);
/// Wrong codes one pending sign-in takes before the password is asked again
/// (the per-address limit on sign-ins counts them too).
const PENDING_MAX_WRONG: u64 = 5;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/login/code", get(code_page).post(enter_code))
        .route("/admin/account", get(account_page))
        .route("/admin/account/second-factor/start", post(start))
        .route("/admin/account/second-factor/confirm", post(confirm))
        .route("/admin/account/second-factor/disable", post(disable))
        .route("/admin/second-factor", get(policy_page).post(set_policy))
        .route("/admin/second-factor/reset", post(reset))
}

/// Sign-ins waiting for their code, by the SHA-256 of their cookie's
/// token: the login (`Kind::PendingSignIn`), and the wrong codes typed so
/// far (`Kind::PendingSignInWrong`, a counter).
pub struct PendingSignIns {
    store: Arc<dyn Expiring>,
}

fn pending_key(headers: &HeaderMap) -> Option<[u8; 32]> {
    cookie(headers, PENDING_COOKIE).map(|t| token_key(&t))
}

impl PendingSignIns {
    pub fn new(store: Arc<dyn Expiring>) -> Self {
        Self { store }
    }

    /// A pending sign-in for `login`; returns the cookie's token.
    fn open(&self, login: &str) -> Result<String, ServerError> {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw)
            .map_err(|e| ServerError::Storage(format!("the random source failed: {e}")))?;
        let token = hex::encode(raw);
        self.store.put(
            Kind::PendingSignIn,
            &token_key(&token),
            login.as_bytes(),
            PENDING_TTL,
        )?;
        Ok(token)
    }

    /// The login of the request's pending sign-in, if it has one still open.
    fn login_of(&self, headers: &HeaderMap) -> Result<Option<String>, ServerError> {
        let Some(key) = pending_key(headers) else {
            return Ok(None);
        };
        match self.store.get(Kind::PendingSignIn, &key)? {
            Some(login) => String::from_utf8(login)
                .map(Some)
                .map_err(|_| ServerError::Storage("a pending sign-in's login is not UTF-8".into())),
            None => Ok(None),
        }
    }

    /// Counts a wrong code; returns whether the pending sign-in is still open.
    fn wrong(&self, headers: &HeaderMap) -> Result<bool, ServerError> {
        let Some(key) = pending_key(headers) else {
            return Ok(false);
        };
        // Counted across instances: five wrong codes in all, wherever typed.
        let counted = self.store.count(Kind::PendingSignInWrong, &key, PENDING_TTL)?;
        if counted.count >= PENDING_MAX_WRONG {
            self.close(headers)?;
            return Ok(false);
        }
        Ok(self.store.get(Kind::PendingSignIn, &key)?.is_some())
    }

    fn close(&self, headers: &HeaderMap) -> Result<(), ServerError> {
        if let Some(key) = pending_key(headers) {
            self.store.delete(Kind::PendingSignIn, &key)?;
            self.store.delete(Kind::PendingSignInWrong, &key)?;
        }
        Ok(())
    }
}

/// Unix seconds, server clock (the step of a code is counted from it).
fn now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

/// A template page with this browser's form token (`csrf`), and the
/// token's cookie when it is new.
fn form_template<T: askama::Template>(
    headers: &HeaderMap,
    https: bool,
    status: StatusCode,
    build: impl FnOnce(String) -> T,
) -> Response {
    match csrf::token(headers, https) {
        Ok((token, set)) => csrf::with_token(respond(status, &build(token)), set),
        Err(e) => e.into_response(),
    }
}

/// A line shown above a form: `kind` is the CSS class (`error` or `success`).
struct Message {
    kind: &'static str,
    text: String,
}

impl Message {
    fn error(text: impl Into<String>) -> Option<Message> {
        Some(Message {
            kind: "error",
            text: text.into(),
        })
    }
}

fn refusal_text(r: Refusal) -> &'static str {
    match r {
        Refusal::Malformed => "Mã gồm 6 chữ số. / A code is six digits.",
        Refusal::Wrong => "Mã không đúng. Hãy nhập mã đang hiện trên ứng dụng. / The code is not right.",
        Refusal::Replayed => {
            "Mã này đã được dùng. Hãy chờ mã tiếp theo trên ứng dụng. / This code was already used; wait for the next one."
        }
    }
}

fn locked_text(wait: Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    format!("Đã nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.")
}

// ---------------------------------------------------------------------------
// The sign-in's second step.

#[derive(askama::Template)]
#[template(path = "account/code.html")]
struct CodePage {
    chrome: Chrome,
    message: Option<Message>,
    csrf: String,
}

fn code_form(headers: &HeaderMap, https: bool, status: StatusCode, message: Option<Message>) -> Response {
    form_template(headers, https, status, |csrf| CodePage {
        chrome: Chrome::new("Xác thực hai bước", &[]),
        message,
        csrf,
    })
}

/// After a right password for an account with a second factor: a pending
/// sign-in and the page asking for the code.
pub(super) fn ask_code(state: &AppState, login: &str, https: bool) -> Response {
    match state.pending_sign_ins.open(login) {
        Ok(token) => {
            let c = set_cookie(
                PENDING_COOKIE,
                &token,
                "/admin/login",
                https,
                Some(PENDING_TTL.as_secs()),
            );
            with_cookie(redirect(CODE_PAGE), &c)
        }
        Err(e) => e.into_response(),
    }
}

async fn code_page(State(state): State<AppState>, Https(https): Https, headers: HeaderMap) -> Response {
    match state.pending_sign_ins.login_of(&headers) {
        Ok(Some(_)) => {}
        Ok(None) => return redirect("/admin/login"),
        Err(e) => return e.into_response(),
    }
    code_form(&headers, https, StatusCode::OK, None)
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

enum SignInCode {
    Opened(String),
    Refused(Refusal),
    /// The account was disabled, removed or lost its second factor meanwhile.
    Gone,
}

async fn enter_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    if !csrf::check(&headers, &f.csrf) {
        return forged(&headers, https);
    }
    // One limit for passwords and codes: a guesser gains nothing by
    // switching from one to the other.
    let gate = match state.staff_logins.gate(ip) {
        Ok(g) => g,
        Err(e) => return e.into_response(),
    };
    if let Gate::Locked(wait) = gate {
        return code_form(
            &headers,
            https,
            StatusCode::TOO_MANY_REQUESTS,
            Message::error(locked_text(wait)),
        );
    }
    let login = match state.pending_sign_ins.login_of(&headers) {
        Ok(Some(login)) => login,
        Ok(None) => return redirect("/admin/login"),
        Err(e) => return e.into_response(),
    };
    let outcome = state
        .writer
        .run(move |w| {
            let Some(a) = w.db().account(&login)? else {
                return Ok(SignInCode::Gone);
            };
            if a.disabled || !a.second_factor.is_on() {
                return Ok(SignInCode::Gone);
            }
            let actor = crate::audit::Actor::account(&a.display_name, &a.login);
            match w.accept_sign_in_code(&login, &f.code, now())? {
                Ok(a) => {
                    let session = w.open_account_session(&a, auth::SESSION_TTL)?;
                    let after = values(serde_json::json!({"second_factor": "totp"}));
                    w.audit(&actor, "sign_in", &a.login, None, after)?;
                    Ok(SignInCode::Opened(session))
                }
                Err(r) => {
                    // Recorded: a wrong code after a right password says the
                    // password is known to someone.
                    let after = values(serde_json::json!({"reason": r.as_str(), "step": "sign_in"}));
                    w.audit(&actor, "second_factor_refused", &login, None, after)?;
                    Ok(SignInCode::Refused(r))
                }
            }
        })
        .await;
    match outcome {
        Ok(SignInCode::Opened(session)) => {
            // The session is open: a pending sign-in left behind expires on
            // its own, and its code cannot be used twice (`accept_sign_in_code`).
            if let Err(e) = state.pending_sign_ins.close(&headers) {
                tracing::warn!(error = %e, "a pending sign-in was not closed");
            }
            let c = set_cookie(
                auth::COOKIE,
                &session,
                "/admin",
                https,
                Some(auth::SESSION_TTL.as_secs()),
            );
            let gone = set_cookie(PENDING_COOKIE, "", "/admin/login", https, Some(0));
            with_cookie(with_cookie(redirect("/admin"), &c), &gone)
        }
        Ok(SignInCode::Refused(r)) => {
            if let Err(e) = state.staff_logins.failed(ip) {
                return e.into_response();
            }
            match state.pending_sign_ins.wrong(&headers) {
                Ok(true) => code_form(
                    &headers,
                    https,
                    StatusCode::UNAUTHORIZED,
                    Message::error(refusal_text(r)),
                ),
                // Too many wrong codes for this password: start again.
                Ok(false) => redirect("/admin/login"),
                Err(e) => e.into_response(),
            }
        }
        Ok(SignInCode::Gone) => match state.pending_sign_ins.close(&headers) {
            Ok(()) => redirect("/admin/login"),
            Err(e) => e.into_response(),
        },
        Err(e) => e.into_response(),
    }
}

// ---------------------------------------------------------------------------
// The official's own account page.

/// What the page shows of the second factor.
enum FactorView {
    Off,
    /// Being set up: the secret to type or scan, not yet confirmed.
    SettingUp {
        secret: String,
        uri: String,
        qr: String,
    },
    On,
}

#[derive(askama::Template)]
#[template(path = "account/account.html")]
struct AccountPage {
    chrome: Chrome,
    name: String,
    login: String,
    role: &'static str,
    factor: FactorView,
    /// The agency's rule covers this account's role.
    required: bool,
    /// …and it has no second factor yet: nothing else opens until it has.
    must_enrol: bool,
    message: Option<Message>,
    csrf: String,
}

/// The top bar of the account pages: the areas the official may open.
fn nav_for(who: &Official, must_enrol: bool) -> Chrome {
    let mut nav: Vec<(&str, &str)> = Vec::new();
    if !must_enrol {
        if who.may(Area::Overview) {
            nav.push(("/admin", "Tổng quan"));
        }
        if who.may(Area::Administration) {
            nav.push(("/admin/audit", "Nhật ký"));
            nav.push((POLICY_PAGE, "Quy định xác thực hai bước"));
        }
        nav.push((ACCOUNT_PAGE, "Tài khoản"));
    }
    nav.push(("/admin/logout", "Thoát"));
    Chrome::new("Tài khoản", &nav)
}

/// The signed-in account (whether or not it must still set up a second
/// factor); or the answer to send instead.
fn account_holder(state: &AppState, headers: &HeaderMap) -> Result<(Official, String, bool), Response> {
    match auth::signed_in(&*state.db, headers) {
        Ok(Some(Signed::In(who))) => match who.login.clone() {
            Some(login) => Ok((who, login, false)),
            // An admin token's session has no account to set up.
            None => Err(redirect("/admin")),
        },
        Ok(Some(Signed::MustEnrol(who))) => match who.login.clone() {
            Some(login) => Ok((who, login, true)),
            None => Err(redirect("/admin")),
        },
        Ok(None) => Err(redirect("/admin/login")),
        Err(e) => Err(e.into_response()),
    }
}

fn render_account(
    state: &AppState,
    headers: &HeaderMap,
    https: bool,
    status: StatusCode,
    message: Option<Message>,
) -> Response {
    let (who, login, must_enrol) = match account_holder(state, headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (account, policy) = match (state.db.account(&login), state.db.second_factor_policy()) {
        (Ok(Some(a)), Ok(p)) => (a, p),
        (Ok(None), _) => return redirect("/admin/login"),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let f = &account.second_factor;
    let factor = if f.is_on() {
        FactorView::On
    } else if let Some(secret) = &f.pending {
        let shown = totp::uri(secret, &login).and_then(|uri| Ok((totp::qr_data_url(&uri)?, uri)));
        match shown {
            Ok((qr, uri)) => FactorView::SettingUp {
                secret: totp::secret_text(secret),
                uri,
                qr,
            },
            Err(e) => return ServerError::Storage(e.to_string()).into_response(),
        }
    } else {
        FactorView::Off
    };
    form_template(headers, https, status, |csrf| AccountPage {
        chrome: nav_for(&who, must_enrol),
        name: account.display_name.clone(),
        login: login.clone(),
        role: account.role.label_vi(),
        factor,
        required: policy.covers(account.role),
        must_enrol,
        message,
        csrf,
    })
}

#[derive(Deserialize)]
struct DoneQuery {
    /// What the last change was: `started`, `on` or `off`.
    #[serde(default)]
    done: String,
}

async fn account_page(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Query(q): Query<DoneQuery>,
) -> Response {
    let text = match q.done.as_str() {
        "started" => Some("Đã tạo khoá bí mật. Thêm vào ứng dụng xác thực rồi nhập mã để bật."),
        "on" => Some("Đã bật xác thực hai bước. / Second factor on."),
        "off" => Some("Đã tắt xác thực hai bước. / Second factor off."),
        _ => None,
    };
    let message = text.map(|t| Message {
        kind: "success",
        text: t.to_string(),
    });
    render_account(&state, &headers, https, StatusCode::OK, message)
}

#[derive(Deserialize)]
struct AccountForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

/// What a change of one's second factor came to.
enum Change {
    Done,
    Refused(Refusal),
    /// Turning off refused: the agency's rule requires one of this role.
    Required,
}

async fn start(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<AccountForm>,
) -> Response {
    if !csrf::check(&headers, &f.csrf) {
        return forged(&headers, https);
    }
    let (who, login, _) = match account_holder(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let actor = who.actor();
    let started = state
        .writer
        .run(move |w| {
            w.start_second_factor(&login)?;
            // The secret itself is never recorded.
            w.audit(&actor, "start_second_factor_setup", &login, None, None)?;
            Ok(())
        })
        .await;
    match started {
        Ok(()) => redirect(&format!("{ACCOUNT_PAGE}?done=started")),
        Err(ServerError::Conflict(_)) => render_account(
            &state,
            &headers,
            https,
            StatusCode::CONFLICT,
            Message::error("Xác thực hai bước đang bật; hãy tắt trước khi cài lại."),
        ),
        Err(e) => e.into_response(),
    }
}

/// Confirming a setup or turning off: a code typed on the account page,
/// under the same guessing limit as signing in.
async fn code_change(
    state: AppState,
    ip: std::net::IpAddr,
    https: bool,
    headers: HeaderMap,
    f: AccountForm,
    turn_on: bool,
) -> Response {
    if !csrf::check(&headers, &f.csrf) {
        return forged(&headers, https);
    }
    let (who, login, _) = match account_holder(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let gate = match state.staff_logins.gate(ip) {
        Ok(g) => g,
        Err(e) => return e.into_response(),
    };
    if let Gate::Locked(wait) = gate {
        let m = Message::error(locked_text(wait));
        return render_account(&state, &headers, https, StatusCode::TOO_MANY_REQUESTS, m);
    }
    let actor = who.actor();
    let role = who.role;
    let this_session = auth::session_token(&headers).map(|t| token_key(&t));
    let changed = state
        .writer
        .run(move |w| {
            let (action, answer) = if turn_on {
                (
                    "enable_second_factor",
                    w.confirm_second_factor(&login, &f.code, now())?,
                )
            } else {
                let required = match role {
                    Some(r) => w.db().second_factor_policy()?.covers(r),
                    None => false,
                };
                if required {
                    return Ok(Change::Required);
                }
                (
                    "disable_second_factor",
                    w.disable_second_factor(&login, &f.code, now())?,
                )
            };
            match answer {
                Ok(()) if turn_on => {
                    let closed = w.close_other_sessions(&login, this_session)?;
                    let before = values(serde_json::json!({"second_factor": "off"}));
                    let after =
                        values(serde_json::json!({"other_sessions_closed": closed, "second_factor": "totp"}));
                    w.audit(&actor, action, &login, before, after)?;
                    Ok(Change::Done)
                }
                Ok(()) => {
                    let before = values(serde_json::json!({"second_factor": "totp"}));
                    let after = values(serde_json::json!({"second_factor": "off"}));
                    w.audit(&actor, action, &login, before, after)?;
                    Ok(Change::Done)
                }
                Err(r) => {
                    let step = if turn_on { "enable" } else { "disable" };
                    let after = values(serde_json::json!({"reason": r.as_str(), "step": step}));
                    w.audit(&actor, "second_factor_refused", &login, None, after)?;
                    Ok(Change::Refused(r))
                }
            }
        })
        .await;
    match changed {
        Ok(Change::Done) => redirect(&format!(
            "{ACCOUNT_PAGE}?done={}",
            if turn_on { "on" } else { "off" }
        )),
        Ok(Change::Refused(r)) => {
            if let Err(e) = state.staff_logins.failed(ip) {
                return e.into_response();
            }
            render_account(
                &state,
                &headers,
                https,
                StatusCode::UNAUTHORIZED,
                Message::error(refusal_text(r)),
            )
        }
        Ok(Change::Required) => render_account(
            &state,
            &headers,
            https,
            StatusCode::CONFLICT,
            Message::error(
                "Quy định của cơ quan yêu cầu vai trò này dùng xác thực hai bước; không tắt được.",
            ),
        ),
        Err(e) => e.into_response(),
    }
}

async fn confirm(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<AccountForm>,
) -> Response {
    code_change(state, ip, https, headers, f, true).await
}

async fn disable(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<AccountForm>,
) -> Response {
    code_change(state, ip, https, headers, f, false).await
}

// ---------------------------------------------------------------------------
// The agency's rule (administration).

/// One staff account as the rule's page lists it.
struct AccountRow {
    login: String,
    name: String,
    role: &'static str,
    on: bool,
    covered: bool,
    disabled: bool,
}

#[derive(askama::Template)]
#[template(path = "account/policy.html")]
struct PolicyPage {
    chrome: Chrome,
    policy: SecondFactorPolicy,
    accounts: Vec<AccountRow>,
    message: Option<Message>,
    csrf: String,
}

fn render_policy(state: &AppState, headers: &HeaderMap, https: bool, message: Option<Message>) -> Response {
    let (policy, accounts) = match (state.db.second_factor_policy(), state.db.accounts()) {
        (Ok(p), Ok(a)) => (p, a),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let accounts = accounts
        .into_iter()
        .map(|a| AccountRow {
            on: a.second_factor.is_on(),
            covered: policy.covers(a.role),
            role: a.role.label_vi(),
            login: a.login,
            name: a.display_name,
            disabled: a.disabled,
        })
        .collect();
    form_template(headers, https, StatusCode::OK, |csrf| PolicyPage {
        chrome: Chrome::new(
            "Quy định xác thực hai bước",
            &[
                ("/admin/audit", "Nhật ký"),
                (ACCOUNT_PAGE, "Tài khoản"),
                ("/admin/logout", "Thoát"),
            ],
        ),
        policy,
        accounts,
        message,
        csrf,
    })
}

#[derive(Deserialize)]
struct SavedQuery {
    #[serde(default)]
    saved: bool,
    /// The login whose second factor was just removed.
    #[serde(default)]
    reset: Option<String>,
}

async fn policy_page(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Query(q): Query<SavedQuery>,
) -> Response {
    if let Err(r) = official(&state, &headers, Area::Administration) {
        return r;
    }
    let message = if q.saved {
        Some("Đã lưu quy định. / Saved.".to_string())
    } else {
        q.reset
            .map(|login| format!("Đã gỡ xác thực hai bước của {login}. / Second factor removed."))
    }
    .map(|text| Message {
        kind: "success",
        text,
    });
    render_policy(&state, &headers, https, message)
}

/// The rule's form: an unticked box is absent from the form.
#[derive(Deserialize)]
struct PolicyForm {
    #[serde(default)]
    administrators: Option<String>,
    #[serde(default)]
    all_staff: Option<String>,
    #[serde(default)]
    csrf: String,
}

async fn set_policy(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<PolicyForm>,
) -> Response {
    let who = match official(&state, &headers, Area::Administration) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if !csrf::check(&headers, &f.csrf) {
        return forged(&headers, https);
    }
    let policy = SecondFactorPolicy {
        administrators: f.administrators.is_some(),
        all_staff: f.all_staff.is_some(),
    };
    let actor = who.actor();
    let saved = state
        .writer
        .run(move |w| {
            let before = w.set_second_factor_policy(policy)?;
            if before != policy {
                let json = |p: SecondFactorPolicy| {
                    values(serde_json::json!({"administrators": p.administrators, "all_staff": p.all_staff}))
                };
                w.audit(
                    &actor,
                    "set_second_factor_policy",
                    "agency",
                    json(before),
                    json(policy),
                )?;
            }
            Ok(())
        })
        .await;
    match saved {
        Ok(()) => redirect(&format!("{POLICY_PAGE}?saved=true")),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    csrf: String,
}

/// An administrator removes an account's second factor (a lost phone).
async fn reset(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<ResetForm>,
) -> Response {
    let who = match official(&state, &headers, Area::Administration) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if !csrf::check(&headers, &f.csrf) {
        return forged(&headers, https);
    }
    let login = match crate::accounts::login(&f.login) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let actor = who.actor();
    let subject = login.clone();
    let done = state
        .writer
        .run(move |w| {
            if w.reset_second_factor(&subject)? {
                let before = values(serde_json::json!({"second_factor": "totp"}));
                let after = values(serde_json::json!({"second_factor": "off"}));
                w.audit(&actor, "reset_second_factor", &subject, before, after)?;
            }
            Ok(())
        })
        .await;
    match done {
        // A login is a-z 0-9 . _ -: nothing to escape in a query.
        Ok(()) => redirect(&format!("{POLICY_PAGE}?reset={login}")),
        Err(e) => e.into_response(),
    }
}
