//! Second factors on the real binary: an official sets up a one-time
//! password from the secret the account page shows (codes computed here
//! with `totp-rs`, as an authenticator app would), signing in then needs
//! the code, wrong and replayed codes are refused and counted against the
//! sign-in guessing limit, turning it off needs a code, an administrator's
//! rule forces setup, and the audit log records it all without the secret.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kiemtra_tests::{csrf_field, server_binary, Server};

const PASSWORDS: [(&str, &str); 3] = [
    ("quantri", "Quản trị Hải Phòng 2025!"),
    ("kehoach", "lập kế hoạch kiểm tra"),
    ("lanhdao", "lãnh đạo sở xem số liệu"),
];

fn password(login: &str) -> &'static str {
    PASSWORDS.iter().find(|(l, _)| *l == login).unwrap().1
}

fn create_account(data: &Path, login: &str, name: &str, role: &str) {
    let mut child = Command::new(server_binary())
        .args(["admin", "--data"])
        .arg(data)
        .args(["create-account", "--login", login, "--name", name, "--role", role])
        .env_remove("KIEMTRA_ACCOUNT_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = format!("{}\n", password(login));
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// An answer: status, `Location`, body.
struct Answer {
    status: u16,
    location: String,
    body: String,
}

/// A browser: a cookie jar (paths ignored: it sends every cookie it holds,
/// which is more than a browser would) over an agent that does not follow
/// redirects.
struct Browser<'a> {
    server: &'a Server,
    agent: ureq::Agent,
    jar: BTreeMap<String, String>,
}

impl<'a> Browser<'a> {
    fn new(server: &'a Server) -> Self {
        Self {
            server,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .build()
                .into(),
            jar: BTreeMap::new(),
        }
    }

    fn cookies(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn has(&self, cookie: &str) -> bool {
        self.jar.contains_key(cookie)
    }

    fn take(&mut self, mut res: ureq::http::Response<ureq::Body>) -> Answer {
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || v.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_string(), value.to_string());
            }
        }
        Answer {
            status: res.status().as_u16(),
            location: res
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string())
                .unwrap_or_default(),
            body: res.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    /// A page, as a browser asks for it.
    fn get(&mut self, path: &str) -> Answer {
        let res = self
            .agent
            .get(&self.server.url(path))
            .header("Cookie", &self.cookies())
            .header("Accept", "text/html")
            .call()
            .unwrap();
        self.take(res)
    }

    /// A call, as a script makes it (no `Accept: text/html`).
    fn get_script(&mut self, path: &str) -> Answer {
        let res = self
            .agent
            .get(&self.server.url(path))
            .header("Cookie", &self.cookies())
            .call()
            .unwrap();
        self.take(res)
    }

    /// Posts to `path` the form the page at `page` shows, its token included.
    fn post_from(&mut self, page: &str, path: &str, form: &[(&str, &str)]) -> Answer {
        let shown = self.get(page);
        assert_eq!(shown.status, 200, "GET {page}: {}", shown.body);
        let token = csrf_field(&shown.body);
        self.post(path, form, &token)
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)], csrf: &str) -> Answer {
        let mut fields = form.to_vec();
        fields.push(("csrf", csrf));
        let res = self
            .agent
            .post(&self.server.url(path))
            .header("Cookie", &self.cookies())
            .send_form(fields)
            .unwrap();
        self.take(res)
    }

    fn sign_in(&mut self, login: &str, password: &str) -> Answer {
        self.post_from(
            "/admin/login",
            "/admin/login",
            &[("login", login), ("password", password)],
        )
    }

    fn sign_out(&mut self) {
        self.get("/admin/logout");
        assert!(!self.has("kiemtra_admin"));
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// An authenticator app holding the secret the account page showed.
struct App {
    totp: totp_rs::Totp,
    /// The last step whose code this test had accepted.
    last: u64,
}

impl App {
    /// Reads the secret off the account page, as a person types it into an app.
    fn from_page(page: &str) -> App {
        let start = page
            .find("id=\"second-factor-secret\">")
            .map(|i| i + "id=\"second-factor-secret\">".len())
            .unwrap_or_else(|| panic!("no secret on the page: {page}"));
        let end = start + page[start..].find("</code>").unwrap();
        let typed: String = page[start..end].chars().filter(|c| !c.is_whitespace()).collect();
        let secret = totp_rs::Secret::try_from_base32(&typed).expect("base32 secret");
        assert_eq!(secret.as_ref().len(), 20, "160 bits");
        let totp = totp_rs::Builder::new()
            .with_secret(secret)
            .build()
            .expect("SHA-1, 6 digits, 30 s");
        App { totp, last: 0 }
    }

    fn at_step(&self, step: u64) -> String {
        self.totp.generate(step * 30).to_string()
    }

    /// The code of the earliest step the server still takes and that was
    /// not used yet, waiting for the clock when all of them were. The step
    /// before the current one only early in the current step, so that the
    /// request reaches the server before that code goes out of its window.
    fn next(&mut self) -> String {
        loop {
            let t = now();
            let step = t / 30;
            let earliest = if t % 30 < 20 { step - 1 } else { step };
            let candidate = (self.last + 1).max(earliest);
            if candidate <= step + 1 {
                self.last = candidate;
                return self.at_step(candidate);
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// A code the server cannot take now: a far step's, unlike any near one.
    fn wrong(&self) -> String {
        let step = now() / 30;
        let near: Vec<String> = (step - 2..=step + 2).map(|s| self.at_step(s)).collect();
        (10..)
            .map(|k| self.at_step(step + k))
            .find(|c| !near.contains(c))
            .unwrap()
    }
}

/// Starts setting up on the account page; returns the app holding the secret.
fn set_up(b: &mut Browser) -> App {
    let started = b.post_from("/admin/account", "/admin/account/second-factor/start", &[]);
    assert_eq!(
        (started.status, started.location.as_str()),
        (303, "/admin/account?done=started")
    );
    let page = b.get("/admin/account");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Đang cài đặt, chưa bật"), "{}", page.body);
    // The QR code is an inline image of the otpauth URI: no external resource.
    assert!(
        page.body
            .contains("id=\"second-factor-qr\" src=\"data:image/svg+xml;base64,"),
        "{}",
        page.body
    );
    let app = App::from_page(&page.body);
    let b32 = app.totp.secret().to_base32();
    assert!(
        page.body.contains("otpauth://totp/Kiemtra:") && page.body.contains(&format!("secret={b32}")),
        "{}",
        page.body
    );
    app
}

fn confirm(b: &mut Browser, code: &str) -> Answer {
    b.post_from(
        "/admin/account",
        "/admin/account/second-factor/confirm",
        &[("code", code)],
    )
}

/// Types `code` on the sign-in's second step.
fn enter_code(b: &mut Browser, code: &str) -> Answer {
    b.post_from("/admin/login/code", "/admin/login/code", &[("code", code)])
}

#[test]
fn a_second_factor_is_set_up_then_needed_to_sign_in_and_to_turn_off() {
    let dir = tempfile::tempdir().unwrap();
    create_account(dir.path(), "quantri", "Trần Thị Quản", "administrator");
    create_account(dir.path(), "lanhdao", "Lê Thị Lãnh", "viewer");
    let server = Server::start(dir.path(), &[]);
    let mut b = Browser::new(&server);

    // Without a second factor, the password alone signs in.
    let signed = b.sign_in("lanhdao", password("lanhdao"));
    assert_eq!((signed.status, signed.location.as_str()), (303, "/admin"));
    let page = b.get("/admin/account");
    assert_eq!(page.status, 200);
    for shown in ["Lê Thị Lãnh", "lanhdao", "Lãnh đạo / xem (viewer)", "Chưa bật"] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    assert!(b.get("/admin").body.contains("href=\"/admin/account\""));

    // A session opened elsewhere with the password alone, before.
    let mut elsewhere = Browser::new(&server);
    assert_eq!(elsewhere.sign_in("lanhdao", password("lanhdao")).status, 303);
    assert_eq!(elsewhere.get("/admin").status, 200);

    // Setting up: the secret shown, but nothing on until a right code.
    let mut app = set_up(&mut b);
    let refused = confirm(&mut b, &app.wrong());
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("Mã không đúng"), "{}", refused.body);
    assert!(refused.body.contains("Đang cài đặt, chưa bật"));
    // A forged confirmation changes nothing either.
    let forged = b.post(
        "/admin/account/second-factor/confirm",
        &[("code", &app.next())],
        "0".repeat(64).as_str(),
    );
    assert_eq!(forged.status, 403);
    app.last -= 1; // that code was not used
    let on = confirm(&mut b, &app.next());
    assert_eq!((on.status, on.location.as_str()), (303, "/admin/account?done=on"));
    let page = b.get("/admin/account?done=on");
    assert!(page.body.contains("Đang bật"), "{}", page.body);
    assert!(
        !page.body.contains("second-factor-secret"),
        "the secret is shown only while setting up"
    );
    // Turning it on ended the other session, not this one.
    assert_eq!(elsewhere.get("/admin").location, "/admin/login");
    assert_eq!(b.get("/admin").status, 200);
    b.sign_out();

    // Signing in: the right password gives no session, only the code's page.
    let pending = b.sign_in("lanhdao", password("lanhdao"));
    assert_eq!(
        (pending.status, pending.location.as_str()),
        (303, "/admin/login/code")
    );
    assert!(!b.has("kiemtra_admin"), "no session before the code");
    let pending_token = b.jar["kiemtra_signin"].clone();
    // The pending sign-in's token is no session.
    let mut thief = Browser::new(&server);
    thief.jar.insert("kiemtra_admin".into(), pending_token.clone());
    assert_eq!(thief.get("/admin").location, "/admin/login");
    assert_eq!(thief.get_script("/admin/overview.json").status, 401);
    // Nor does the code page open without it.
    assert_eq!(
        Browser::new(&server).get("/admin/login/code").location,
        "/admin/login"
    );

    let wrong = enter_code(&mut b, &app.wrong());
    assert_eq!(wrong.status, 401);
    assert!(!b.has("kiemtra_admin"));
    let malformed = enter_code(&mut b, "12ab56");
    assert_eq!(malformed.status, 401);
    assert!(malformed.body.contains("6 chữ số"), "{}", malformed.body);
    let code = app.next();
    let opened = enter_code(&mut b, &code);
    assert_eq!((opened.status, opened.location.as_str()), (303, "/admin"));
    assert!(b.has("kiemtra_admin") && !b.has("kiemtra_signin"));
    assert_eq!(b.get("/admin").status, 200);

    // The same code again, in another browser that knows the password: refused.
    let mut other = Browser::new(&server);
    assert_eq!(
        other.sign_in("lanhdao", password("lanhdao")).location,
        "/admin/login/code"
    );
    let replayed = enter_code(&mut other, &code);
    assert_eq!(replayed.status, 401);
    assert!(replayed.body.contains("đã được dùng"), "{}", replayed.body);
    assert!(!other.has("kiemtra_admin"));

    // Turning off needs a current code.
    let kept = b.post_from(
        "/admin/account",
        "/admin/account/second-factor/disable",
        &[("code", &app.wrong())],
    );
    assert_eq!(kept.status, 401);
    assert!(kept.body.contains("Đang bật"));
    let off = b.post_from(
        "/admin/account",
        "/admin/account/second-factor/disable",
        &[("code", &app.next())],
    );
    assert_eq!(
        (off.status, off.location.as_str()),
        (303, "/admin/account?done=off")
    );
    b.sign_out();
    let signed = b.sign_in("lanhdao", password("lanhdao"));
    assert_eq!(
        (signed.status, signed.location.as_str()),
        (303, "/admin"),
        "the password alone again"
    );
    assert!(b.has("kiemtra_admin"));

    // The audit log has every step, and never the secret.
    let mut admin = Browser::new(&server);
    assert_eq!(admin.sign_in("quantri", password("quantri")).status, 303);
    let csv = admin.get("/admin/audit.csv?q=lanhdao").body;
    let rows: Vec<&str> = csv.lines().collect();
    let has = |action: &str, value: &str| {
        rows.iter()
            .any(|r| r.contains(&format!(",{action},lanhdao,")) && r.contains(value))
    };
    assert!(has("start_second_factor_setup", ""), "{csv}");
    assert!(
        has(
            "enable_second_factor",
            r#"{""other_sessions_closed"":1,""second_factor"":""totp""}"#
        ),
        "{csv}"
    );
    assert!(
        has(
            "second_factor_refused",
            r#""reason"":""wrong"",""step"":""enable""#
        ),
        "{csv}"
    );
    assert!(
        has(
            "second_factor_refused",
            r#""reason"":""wrong"",""step"":""sign_in""#
        ),
        "{csv}"
    );
    assert!(
        has("second_factor_refused", r#""reason"":""malformed"""#),
        "{csv}"
    );
    assert!(has("second_factor_refused", r#""reason"":""replayed"""#), "{csv}");
    assert!(
        has(
            "second_factor_refused",
            r#""reason"":""wrong"",""step"":""disable""#
        ),
        "{csv}"
    );
    assert!(has("sign_in", r#"{""second_factor"":""totp""}"#), "{csv}");
    assert!(
        has("disable_second_factor", r#"{""second_factor"":""off""}"#),
        "{csv}"
    );
    let b32 = app.totp.secret().to_base32();
    assert!(
        !csv.contains(&b32) && !csv.contains(&b32[..16]),
        "the secret is not in the audit log"
    );
    server.stop();
}

#[test]
fn wrong_codes_count_against_the_sign_in_limit() {
    let dir = tempfile::tempdir().unwrap();
    create_account(dir.path(), "lanhdao", "Lê Thị Lãnh", "viewer");
    let server = Server::start(dir.path(), &[]);
    let mut b = Browser::new(&server);
    assert_eq!(b.sign_in("lanhdao", password("lanhdao")).status, 303);
    let mut app = set_up(&mut b);
    assert_eq!(confirm(&mut b, &app.next()).status, 303);
    b.sign_out();

    // One wrong password and nine wrong codes: ten failures from this address.
    assert_eq!(b.sign_in("lanhdao", "không phải mật khẩu").status, 401);
    let mut wrong = 0;
    while wrong < 9 {
        assert_eq!(
            b.sign_in("lanhdao", password("lanhdao")).location,
            "/admin/login/code"
        );
        // Five wrong codes end a pending sign-in: the password is asked again.
        for _ in 0..5 {
            if wrong == 9 {
                break;
            }
            let refused = enter_code(&mut b, &app.wrong());
            wrong += 1;
            if refused.status == 303 {
                assert_eq!(refused.location, "/admin/login");
                assert_eq!(wrong % 5, 0);
                break;
            }
            assert_eq!(refused.status, 401, "wrong code {wrong}");
        }
    }
    // Locked now: the right code is refused, and so is the right password.
    let locked = enter_code(&mut b, &app.next());
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(!b.has("kiemtra_admin"));
    assert_eq!(b.sign_in("lanhdao", password("lanhdao")).status, 429);
    server.stop();

    // The phone is lost: the console removes the second factor, and the
    // password alone signs in again.
    let out = Command::new(server_binary())
        .args(["admin", "--data"])
        .arg(dir.path())
        .args(["reset-second-factor", "--login", "lanhdao"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("removed the second factor of lanhdao"));
    let server = Server::start(dir.path(), &[]);
    let mut b = Browser::new(&server);
    let signed = b.sign_in("lanhdao", password("lanhdao"));
    assert_eq!((signed.status, signed.location.as_str()), (303, "/admin"));
    assert!(b.has("kiemtra_admin"));
    server.stop();
}

#[test]
fn an_administrator_can_require_a_second_factor() {
    let dir = tempfile::tempdir().unwrap();
    create_account(dir.path(), "quantri", "Trần Thị Quản", "administrator");
    create_account(dir.path(), "kehoach", "Phạm Văn Kế", "planner");
    create_account(dir.path(), "lanhdao", "Lê Thị Lãnh", "viewer");
    let server = Server::start(dir.path(), &[]);
    let mut admin = Browser::new(&server);
    let mut viewer = Browser::new(&server);
    assert_eq!(admin.sign_in("quantri", password("quantri")).status, 303);
    assert_eq!(viewer.sign_in("lanhdao", password("lanhdao")).status, 303);

    // Only administrators reach the rule, and only with the form's token.
    let page = admin.get("/admin/second-factor");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-login=\"lanhdao\""), "{}", page.body);
    assert_eq!(viewer.get("/admin/second-factor").status, 403);
    let refused = viewer.post(
        "/admin/second-factor",
        &[("all_staff", "on")],
        &viewer.jar["kiemtra_csrf"].clone(),
    );
    assert_eq!(refused.status, 403);
    let forged = admin.post(
        "/admin/second-factor",
        &[("administrators", "on")],
        &"0".repeat(64),
    );
    assert_eq!(forged.status, 403);
    assert_eq!(admin.get("/admin/audit").status, 200, "nothing changed");

    // Administrators must: the administrator's open session now opens only
    // the account page, for pages, scripts and the API alike.
    let saved = admin.post_from(
        "/admin/second-factor",
        "/admin/second-factor",
        &[("administrators", "on")],
    );
    assert_eq!(
        (saved.status, saved.location.as_str()),
        (303, "/admin/second-factor?saved=true")
    );
    assert_eq!(admin.get("/admin/audit").location, "/admin/account");
    assert_eq!(admin.get("/admin/second-factor").location, "/admin/account");
    let script = admin.get_script("/admin/audit.csv");
    assert_eq!(script.status, 403);
    assert!(script.body.contains("second_factor_required"), "{}", script.body);
    let revoke = admin
        .agent
        .post(&server.url("/api/v1/admin/devices/0195f3a4-0000-7000-8000-000000000000/revoke"))
        .header("Cookie", &admin.cookies())
        .send_empty()
        .unwrap();
    // The JSON API takes no session cookie at all (only a token), so this
    // session opens none of it either.
    assert_eq!(revoke.status().as_u16(), 401);
    let page = admin.get("/admin/account");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"must-enrol\""), "{}", page.body);
    // The viewer is not covered.
    assert_eq!(viewer.get("/admin").status, 200);

    // Setting up lifts it; turning off is refused while the rule holds.
    let mut app = set_up(&mut admin);
    assert_eq!(confirm(&mut admin, &app.next()).status, 303);
    assert_eq!(admin.get("/admin/audit").status, 200);
    let page = admin.get("/admin/account");
    assert!(!page.body.contains("second-factor/disable"), "{}", page.body);
    let kept = admin.post(
        "/admin/account/second-factor/disable",
        &[("code", &app.next())],
        &admin.jar["kiemtra_csrf"].clone(),
    );
    assert_eq!(kept.status, 409, "{}", kept.body);

    // All staff must: the viewer, already signed in or signing in anew, is
    // sent to set up and can open nothing else until done.
    let saved = admin.post_from(
        "/admin/second-factor",
        "/admin/second-factor",
        &[("administrators", "on"), ("all_staff", "on")],
    );
    assert_eq!(saved.status, 303);
    assert_eq!(viewer.get("/admin").location, "/admin/account");
    viewer.sign_out();
    let signed = viewer.sign_in("lanhdao", password("lanhdao"));
    assert_eq!(signed.status, 303);
    assert_eq!(viewer.get(&signed.location).location, "/admin/account");
    for path in ["/admin", "/admin/accidents", "/admin/records"] {
        assert_eq!(viewer.get(path).location, "/admin/account", "{path}");
    }
    assert_eq!(viewer.get_script("/admin/overview.json").status, 403);
    let page = viewer.get("/admin/account");
    assert!(page.body.contains("id=\"must-enrol\""));
    assert!(
        !page.body.contains("href=\"/admin\""),
        "no way elsewhere but out: {}",
        page.body
    );
    let mut viewers = set_up(&mut viewer);
    assert_eq!(confirm(&mut viewer, &viewers.next()).status, 303);
    assert_eq!(viewer.get("/admin").status, 200);
    // The planner, not set up, is covered too.
    let mut planner = Browser::new(&server);
    assert_eq!(planner.sign_in("kehoach", password("kehoach")).status, 303);
    assert_eq!(planner.get("/admin").location, "/admin/account");

    // The rule's page shows who has one; the audit log has each change.
    let page = admin.get("/admin/second-factor");
    assert!(page.body.contains("Chưa bật (bắt buộc)"), "{}", page.body);

    // The viewer's phone is lost: an administrator removes the second
    // factor, and the rule sends the viewer to set up a new one.
    let forged = admin.post(
        "/admin/second-factor/reset",
        &[("login", "lanhdao")],
        &"0".repeat(64),
    );
    assert_eq!(forged.status, 403);
    assert_eq!(viewer.get("/admin").status, 200, "nothing changed");
    let reset = admin.post_from(
        "/admin/second-factor",
        "/admin/second-factor/reset",
        &[("login", "lanhdao")],
    );
    assert_eq!(
        (reset.status, reset.location.as_str()),
        (303, "/admin/second-factor?reset=lanhdao")
    );
    assert_eq!(viewer.get("/admin").location, "/admin/account");
    let by_viewer = viewer.post(
        "/admin/second-factor/reset",
        &[("login", "quantri")],
        &viewer.jar["kiemtra_csrf"].clone(),
    );
    assert_eq!(by_viewer.status, 403, "only administrators reset");
    let csv = admin.get("/admin/audit.csv?q=reset_second_factor").body;
    assert!(
        csv.lines()
            .any(|r| r.contains(",reset_second_factor,lanhdao,") && r.contains("quantri")),
        "{csv}"
    );
    assert!(!csv.contains(",reset_second_factor,quantri,"), "{csv}");
    let csv = admin.get("/admin/audit.csv?q=set_second_factor_policy").body;
    assert!(
        csv.contains(r#"{""administrators"":false,""all_staff"":false}"#)
            && csv.contains(r#"{""administrators"":true,""all_staff"":true}"#),
        "{csv}"
    );
    assert_eq!(
        csv.lines()
            .filter(|r| r.contains(",set_second_factor_policy,agency,"))
            .count(),
        2,
        "{csv}"
    );
    server.stop();
}
