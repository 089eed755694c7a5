//! Staff accounts on the real binary: the first accounts are made with
//! `kiemtra-server admin create-account`, officials sign in on
//! `/admin/login` with a name and password, each role opens exactly its
//! areas (pages and API alike), sessions survive a restart, guessing is
//! limited, and the password is nowhere in the data folder.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use kiemtra_tests::{csrf_field, server_binary, set_cookie_pair, staff_sign_in, Server};

const PASSWORDS: [(&str, &str); 4] = [
    ("quantri", "Quản trị Hải Phòng 2025!"),
    ("kehoach", "lập kế hoạch kiểm tra"),
    ("lanhdao", "lãnh đạo sở xem số liệu"),
    ("thanhtra.lan", "mật khẩu của Lan 01"),
];

fn password(login: &str) -> &'static str {
    PASSWORDS.iter().find(|(l, _)| *l == login).unwrap().1
}

/// `kiemtra-server admin --data DIR ARGS…` with `stdin` as standard input.
fn admin(data: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(server_binary())
        .arg("admin")
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("KIEMTRA_ACCOUNT_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn create_account(data: &Path, login: &str, name: &str, role: &str, extra: &[&str]) {
    let mut args = vec!["create-account", "--login", login, "--name", name, "--role", role];
    args.extend_from_slice(extra);
    let out = admin(data, &args, &format!("{}\n", password(login)));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains(login), "{printed}");
    assert!(
        !printed.contains(password(login)),
        "the password is never printed"
    );
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// Signs in as a browser does (form token included); returns the status
/// and the session cookie, if one was set.
fn sign_in(server: &Server, login: &str, password: &str) -> (u16, Option<String>) {
    let (status, set) = staff_sign_in(
        &agent(),
        server,
        &[("login", login), ("password", password)],
        None,
    );
    (status, set.map(|c| c.split(';').next().unwrap().to_string()))
}

fn get(server: &Server, path: &str, cookie: &str, html: bool) -> (u16, String) {
    let mut req = agent().get(&server.url(path)).header("Cookie", cookie);
    if html {
        req = req.header("Accept", "text/html");
    }
    let mut res = req.call().unwrap();
    let status = res.status().as_u16();
    (status, res.body_mut().read_to_string().unwrap_or_default())
}

/// Posts a staff form as a browser does: the page at `path` first, for the
/// form token and its cookie; `forge` posts without the token instead.
fn post_form(server: &Server, path: &str, cookie: &str, form: &[(&str, &str)], forge: bool) -> u16 {
    post_form_of(server, path, path, cookie, form, forge)
}

/// Posts to `path` the form that the page at `page` shows.
fn post_form_of(
    server: &Server,
    page: &str,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
    forge: bool,
) -> u16 {
    let mut page = agent()
        .get(&server.url(page))
        .header("Cookie", cookie)
        .header("Accept", "text/html")
        .call()
        .unwrap();
    let csrf_cookie = set_cookie_pair(&page, "kiemtra_csrf").unwrap();
    let token = csrf_field(&page.body_mut().read_to_string().unwrap());
    let mut fields = form.to_vec();
    if !forge {
        fields.push(("csrf", &token));
    }
    agent()
        .post(&server.url(path))
        .header("Cookie", &format!("{cookie}; {csrf_cookie}"))
        .send_form(fields)
        .unwrap()
        .status()
        .as_u16()
}

fn post_empty(server: &Server, path: &str, cookie: &str) -> u16 {
    agent()
        .post(&server.url(path))
        .header("Cookie", cookie)
        .send_empty()
        .unwrap()
        .status()
        .as_u16()
}

/// Every file under `dir`, for looking for what must not be there.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn officials_sign_in_with_accounts_and_each_role_opens_only_its_areas() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // The first administrator, on an empty data folder, with one command.
    create_account(data, "quantri", "Trần Thị Quản", "administrator", &[]);
    create_account(data, "kehoach", "Phạm Văn Kế", "planner", &[]);
    create_account(data, "lanhdao", "Lê Thị Lãnh", "viewer", &[]);
    let out = admin(
        data,
        &[
            "create-inspector",
            "--name",
            "Nguyễn Thị Lan",
            "--title",
            "Thanh tra viên",
            "--agency",
            "Sở Nội vụ",
        ],
        "",
    );
    assert!(out.status.success());
    let lan = String::from_utf8(out.stdout).unwrap().trim().to_string();
    create_account(
        data,
        "thanhtra.lan",
        "Nguyễn Thị Lan",
        "inspector",
        &["--inspector", &lan],
    );

    // Refused, and nothing made: a login taken, a weak password, an
    // inspector's account without its inspector.
    for (args, stdin) in [
        (
            vec![
                "create-account",
                "--login",
                "QuanTri",
                "--name",
                "Khác",
                "--role",
                "viewer",
            ],
            "một mật khẩu dài đủ\n",
        ),
        (
            vec![
                "create-account",
                "--login",
                "yeu",
                "--name",
                "Yếu",
                "--role",
                "viewer",
            ],
            "ngắn\n",
        ),
        (
            vec![
                "create-account",
                "--login",
                "thieu",
                "--name",
                "Thiếu",
                "--role",
                "inspector",
            ],
            "một mật khẩu dài đủ\n",
        ),
    ] {
        let out = admin(data, &args, stdin);
        assert!(!out.status.success(), "{args:?} was accepted");
    }

    let server = Server::start(data, &[]);
    // Wrong password, unknown login, wrong case of the password: 401, no cookie.
    for (login, pw) in [
        ("lanhdao", "lãnh đạo sở xem số liệu?"),
        ("khongco", "lãnh đạo sở xem số liệu"),
        ("lanhdao", "LÃNH ĐẠO SỞ XEM SỐ LIỆU"),
    ] {
        let (status, cookie) = sign_in(&server, login, pw);
        assert_eq!((status, cookie.is_some()), (401, false), "{login}");
    }
    // A sign-in without the form's token, or with another browser's, is
    // refused whatever the password (a page of another site posting here).
    let forged = agent()
        .post(&server.url("/admin/login"))
        .send_form([("login", "lanhdao"), ("password", password("lanhdao"))])
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert!(set_cookie_pair(&forged, "kiemtra_admin").is_none());
    let forged = agent()
        .post(&server.url("/admin/login"))
        .header("Cookie", &format!("kiemtra_csrf={}", "a".repeat(64)))
        .send_form([
            ("login", "lanhdao"),
            ("password", password("lanhdao")),
            ("csrf", &"b".repeat(64)),
        ])
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert!(set_cookie_pair(&forged, "kiemtra_admin").is_none());
    let mut cookies = std::collections::HashMap::new();
    for (login, pw) in PASSWORDS {
        // The login is case-insensitive, the password is not.
        let (status, cookie) = sign_in(&server, &login.to_uppercase(), pw);
        assert_eq!(status, 303, "{login}");
        cookies.insert(login, cookie.expect("a session cookie"));
    }

    // `/admin` sends a role without the overview to its own first page.
    for (login, home) in [("quantri", "/admin/accounts"), ("thanhtra.lan", "/admin/my-work")] {
        let res = ureq::get(&server.url("/admin"))
            .header("Cookie", &cookies[login])
            .header("Accept", "text/html")
            .config()
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .call()
            .unwrap();
        assert_eq!(res.status(), 303, "{login}");
        assert_eq!(res.headers().get("location").unwrap(), home, "{login}");
    }
    // The overview's data and exports for the viewer and the planner only.
    for path in ["/admin/overview.json", "/admin/targets.csv", "/admin/accidents"] {
        for (login, allowed) in [
            ("lanhdao", true),
            ("kehoach", true),
            ("quantri", false),
            ("thanhtra.lan", false),
        ] {
            let (status, body) = get(&server, path, &cookies[login], true);
            if allowed {
                assert_eq!(status, 200, "{login} {path}");
            } else {
                assert_eq!(status, 403, "{login} {path}");
                assert!(body.contains("Không có quyền truy cập"), "{login} {path}: {body}");
            }
        }
    }
    // The register shows its entry form to the planner, not to the viewer.
    let form = "action=\"/admin/accidents\"";
    assert!(get(&server, "/admin/accidents", &cookies["kehoach"], true)
        .1
        .contains(form));
    assert!(!get(&server, "/admin/accidents", &cookies["lanhdao"], true)
        .1
        .contains(form));
    // The page names who signed in.
    assert!(get(&server, "/admin", &cookies["lanhdao"], true)
        .1
        .contains("Lê Thị Lãnh"));
    // A script gets JSON 403, not the page.
    let (status, body) = get(&server, "/admin/overview.json", &cookies["quantri"], false);
    assert_eq!(status, 403);
    assert!(body.contains("role_refused"), "{body}");

    // Register entries: the planner may type in an accident; the viewer may not.
    let accident = [
        ("occurred_at", "2025-03-01T08:30"),
        ("place", "Xưởng cơ khí"),
        ("unit", "hp.hong-bang"),
        ("facility", ""),
        ("deaths", "0"),
        ("seriously_injured", "1"),
        ("lightly_injured", "0"),
        ("account", "Ngã từ giàn giáo"),
    ];
    assert_eq!(
        post_form_of(
            &server,
            "/admin",
            "/admin/accidents",
            &cookies["lanhdao"],
            &accident,
            false
        ),
        403
    );
    // The planner's session without the form's token: refused, nothing recorded.
    assert_eq!(
        post_form(&server, "/admin/accidents", &cookies["kehoach"], &accident, true),
        403
    );
    assert_eq!(
        post_form(&server, "/admin/accidents", &cookies["kehoach"], &accident, false),
        200
    );

    // The JSON API takes tokens only: a page's session cookie opens none of
    // it, whatever the role (another site could make the browser send the
    // cookie). Roles on the API: `admin_cli.rs`.
    let revoke = "/api/v1/admin/devices/0194f3c2-7b1a-7000-8000-000000000001/revoke";
    for login in ["quantri", "kehoach", "lanhdao", "thanhtra.lan"] {
        assert_eq!(post_empty(&server, revoke, &cookies[login]), 401, "{login}");
    }

    // The audit log: the administrator's to read, with every step and its author.
    assert_eq!(get(&server, "/admin/audit", &cookies["lanhdao"], true).0, 403);
    assert_eq!(
        get(&server, "/admin/audit.csv", &cookies["kehoach"], false).0,
        403
    );
    let (status, page) = get(&server, "/admin/audit", &cookies["quantri"], true);
    assert_eq!(status, 200);
    let (status, csv) = get(&server, "/admin/audit.csv", &cookies["quantri"], false);
    assert_eq!(status, 200);
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    let has = |action: &str, author: &str, subject: &str| {
        rows.iter()
            .any(|r| r.contains(&format!(",{action},")) && r.contains(author) && r.contains(subject))
    };
    for login in ["quantri", "kehoach", "lanhdao", "thanhtra.lan"] {
        assert!(
            has("create_account", ",console,", login),
            "create_account {login}: {csv}"
        );
        assert!(
            has("sign_in", ",account,", &format!(",{login},")),
            "sign_in {login}: {csv}"
        );
    }
    assert!(has("create_inspector", ",console,", &lan), "{csv}");
    assert!(
        has("declare_accident", "Phạm Văn Kế,kehoach", "Xưởng cơ khí"),
        "{csv}"
    );
    // The viewer's refused entry left no trace; nothing secret is in the log.
    assert_eq!(
        rows.iter().filter(|r| r.contains(",declare_accident,")).count(),
        1,
        "{csv}"
    );
    for (_, pw) in PASSWORDS {
        assert!(!csv.contains(pw) && !page.contains(pw));
    }
    assert!(page.contains("Phạm Văn Kế (kehoach)"), "{page}");
    // Search: only the entries that mention the planner.
    let (_, found) = get(&server, "/admin/audit.csv?q=KEHOACH", &cookies["quantri"], false);
    let found: Vec<&str> = found.lines().skip(1).collect();
    assert!(
        !found.is_empty() && found.iter().all(|r| r.contains("kehoach")),
        "{found:?}"
    );
    assert!(found.len() < rows.len());
    // No route edits it.
    for method in ["POST", "PUT", "DELETE"] {
        let res = agent()
            .run(
                ureq::http::Request::builder()
                    .method(method)
                    .uri(server.url("/admin/audit"))
                    .header("Cookie", &cookies["quantri"])
                    .body(())
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(res.status().as_u16(), 405, "{method}");
    }

    // A restart signs nobody out.
    server.stop();
    let server = Server::start(data, &[]);
    assert_eq!(get(&server, "/admin", &cookies["lanhdao"], true).0, 200);

    // Signing out everywhere ends every session of that account, and only its.
    let (_, second) = sign_in(&server, "lanhdao", password("lanhdao"));
    let second = second.unwrap();
    assert_eq!(get(&server, "/admin", &second, true).0, 200);
    assert_eq!(
        post_form_of(
            &server,
            "/admin",
            "/admin/logout-everywhere",
            &cookies["lanhdao"],
            &[],
            true
        ),
        403,
        "without the form token"
    );
    assert_eq!(get(&server, "/admin", &second, true).0, 200);
    assert_eq!(
        post_form_of(
            &server,
            "/admin",
            "/admin/logout-everywhere",
            &cookies["lanhdao"],
            &[],
            false
        ),
        303
    );
    for c in [&cookies["lanhdao"], &second] {
        assert_eq!(get(&server, "/admin", c, true).0, 303, "still signed in");
    }
    assert_eq!(get(&server, "/admin", &cookies["kehoach"], true).0, 200);
    let (_, csv) = get(&server, "/admin/audit.csv", &cookies["quantri"], false);
    assert!(
        csv.lines()
            .any(|r| r.contains(",sign_out_everywhere,lanhdao,") && r.contains(r#"{""sessions_closed"":2}"#)),
        "{csv}"
    );

    // The passwords are nowhere in the data folder, in any form.
    server.stop();
    for file in files(data) {
        let bytes = std::fs::read(&file).unwrap();
        for (_, pw) in PASSWORDS {
            assert!(
                !bytes.windows(pw.len()).any(|w| w == pw.as_bytes()),
                "a password is in {}",
                file.display()
            );
        }
    }
}

#[test]
fn guessing_a_staff_password_is_limited() {
    let dir = tempfile::tempdir().unwrap();
    create_account(dir.path(), "lanhdao", "Lê Thị Lãnh", "viewer", &[]);
    let server = Server::start(dir.path(), &[]);
    for i in 0..10 {
        assert_eq!(
            sign_in(&server, "lanhdao", &format!("đoán mật khẩu số {i}")).0,
            401
        );
    }
    // Locked now, even with the right password.
    let (status, cookie) = sign_in(&server, "lanhdao", password("lanhdao"));
    assert_eq!((status, cookie.is_some()), (429, false));
    server.stop();
}
