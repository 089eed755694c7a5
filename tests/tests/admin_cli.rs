//! The administration on the running server: after the first
//! administrator is made on an empty folder, every `kiemtra-server admin`
//! command runs with `--server URL` against the live server (no stop), a
//! phone enrols and receives its assignment meanwhile, each role's token is
//! refused what its role does not open, and the audit log names the author
//! of every step.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use kiemtra_tests::field::Phone;
use kiemtra_tests::{server_binary, Server};

const TEMPLATE: &str = r#"{"format":"kiemtra-template/1","id":"cli-test","version":1,"title_vi":"Mẫu kiểm tra thử","sections":[{"code":"A","title_vi":"An toàn chung","items":[{"code":"A1","question_vi":"Có nội quy an toàn?","answer":"yes_no_na","legal_basis":[{"instrument":"Luật 84/2015/QH13","article":"Điều 14"}]}]}]}"#;

const UNITS: &str = r#"{"format": "kiemtra-admin-units/1", "units": [
    {"code": "hp.p-gia-vien", "name_vi": "Phường Gia Viên", "kind": "phường", "level": "commune", "valid_from": "2025-07-01"}]}"#;

const FACILITIES: &str = "kind,name,tax_code,street,unit,sector,workforce,high_risk\n\
    enterprise,Công ty CP Cảng Gia Viên,0200555666,Số 8 Lê Thánh Tông,hp.p-gia-vien,Cảng biển,300,true\n\
    enterprise,Công ty TNHH Nhựa Lê Chân,0200777888,Số 2 Hai Bà Trưng,hp.le-chan,Nhựa,80,false\n\
    enterprise,Thiếu cột,0200999000\n";

/// `kiemtra-server admin ARGS…` with a password on standard input and
/// `env` set; `KIEMTRA_*` of the caller's environment left out.
fn run(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(server_binary());
    cmd.arg("admin")
        .args(args)
        .env_remove("KIEMTRA_TOKEN")
        .env_remove("KIEMTRA_SERVER")
        .env_remove("KIEMTRA_ACCOUNT_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// On a stopped server's folder.
fn on_folder(data: &Path, args: &[&str], stdin: &str) -> String {
    let mut all = vec!["--data", data.to_str().unwrap()];
    all.extend_from_slice(args);
    ok(run(&all, &[], stdin))
}

/// On the running server, with `token`.
fn remote(server: &Server, token: &str, args: &[&str], stdin: &str) -> Output {
    let url = server.url("");
    let mut all = vec!["--server", url.as_str()];
    all.extend_from_slice(args);
    run(&all, &[("KIEMTRA_TOKEN", token)], stdin)
}

fn refused_for_role(out: Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "accepted: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(err.contains("403") && err.contains("role_refused"), "{err}");
}

#[test]
fn every_admin_command_runs_against_the_live_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let template = file("mau.json", TEMPLATE);
    let units = file("xa-phuong.json", UNITS);
    let facilities = file("co-so.csv", FACILITIES);

    // The first administrator and their token, on the empty folder.
    on_folder(
        &data,
        &[
            "create-account",
            "--login",
            "quantri",
            "--name",
            "Trần Quản Trị",
            "--role",
            "administrator",
        ],
        "mật khẩu quản trị 01\n",
    );
    let admin_token = on_folder(
        &data,
        &[
            "create-api-token",
            "--name",
            "máy quản trị",
            "--account",
            "quantri",
        ],
        "",
    );

    let server = Server::start(&data, &[]);
    // The folder is the server's now: a folder command says to use --server.
    let locked = run(&["--data", data.to_str().unwrap(), "list-devices"], &[], "");
    assert!(!locked.status.success());
    assert!(String::from_utf8_lossy(&locked.stderr).contains("--server"));

    // The administrator makes a planner and a viewer, with tokens for them.
    for (login, name, role) in [
        ("kehoach", "Lê Kế Hoạch", "planner"),
        ("lanhdao", "Phạm Lãnh Đạo", "viewer"),
    ] {
        let made = ok(remote(
            &server,
            &admin_token,
            &["create-account", "--login", login, "--name", name, "--role", role],
            "một mật khẩu đủ dài\n",
        ));
        assert!(
            made.starts_with(&format!("created the account {login}")),
            "{made}"
        );
    }
    let planner = ok(remote(
        &server,
        &admin_token,
        &["create-api-token", "--name", "kế hoạch", "--account", "kehoach"],
        "",
    ));
    let viewer = ok(remote(
        &server,
        &admin_token,
        &["create-api-token", "--name", "xem", "--account", "lanhdao"],
        "",
    ));

    // The planner sets up an inspection while the server runs.
    let p = |args: &[&str]| ok(remote(&server, &planner, args, ""));
    assert_eq!(p(&["publish-template", &template]), "published cli-test@1");
    assert_eq!(
        p(&["publish-template", &template]),
        "cli-test@1 was already published with this content"
    );
    assert_eq!(p(&["publish-units", &units]), "published 1 administrative units");
    let report = p(&["import-facilities", &facilities]);
    assert!(report.contains("line 4: expected 8 columns"), "{report}");
    assert!(report.ends_with("imported 2, refused 1"), "{report}");
    let listed = p(&["list-facilities"]);
    let gia_vien = listed
        .lines()
        .find(|l| l.contains("Cảng Gia Viên"))
        .and_then(|l| l.split('\t').next())
        .unwrap_or_else(|| panic!("{listed}"))
        .to_string();
    let lan = p(&[
        "create-inspector",
        "--name",
        "Nguyễn Thị Lan",
        "--title",
        "Thanh tra viên",
        "--agency",
        "Sở Nội vụ thành phố Hải Phòng",
    ]);
    let minh = p(&[
        "create-inspector",
        "--name",
        "Vũ Văn Minh",
        "--title",
        "Thanh tra viên",
        "--agency",
        "Sở Nội vụ thành phố Hải Phòng",
    ]);
    let delegation = p(&[
        "create-delegation",
        "--name",
        "Đoàn 1",
        "--decision",
        "Quyết định số 12/QĐ-SNV",
        "--leader",
        &lan,
        "--member",
        &minh,
    ]);
    let inspection = p(&[
        "assign",
        "--delegation",
        &delegation,
        "--facility",
        &gia_vien,
        "--template",
        "cli-test@1",
        "--date",
        "2026-12-15",
    ]);
    let code = p(&["enrol-code", "--inspector", &lan]);

    // A phone enrols with the code and receives its assignment, the server running throughout.
    let phone = Phone::enrolled(&server, &code, "Điện thoại của Lan");
    phone.sync().unwrap();
    let ids: Vec<String> = phone
        .store
        .inspections()
        .unwrap()
        .iter()
        .map(|i| i.id.to_string())
        .collect();
    assert_eq!(ids, vec![inspection.clone()]);
    let device = phone.store.device_id().to_string();

    // The viewer is refused every change, and the planner the administrator's commands.
    for args in [
        vec!["create-inspector", "--name", "X", "--title", "Y", "--agency", "Z"],
        vec!["publish-template", template.as_str()],
        vec!["import-facilities", facilities.as_str()],
        vec!["enrol-code", "--inspector", lan.as_str()],
        vec!["list-devices"],
    ] {
        refused_for_role(remote(&server, &viewer, &args, ""));
    }
    refused_for_role(remote(&server, &planner, &["list-devices"], ""));
    refused_for_role(remote(
        &server,
        &planner,
        &["revoke-device", "--device", &device],
        "",
    ));
    refused_for_role(remote(
        &server,
        &planner,
        &[
            "create-account",
            "--login",
            "ke.hoach2",
            "--name",
            "X",
            "--role",
            "administrator",
        ],
        "một mật khẩu đủ dài\n",
    ));
    // Nor may a planner mint a token for another account.
    refused_for_role(remote(
        &server,
        &planner,
        &["create-api-token", "--name", "x", "--account", "quantri"],
        "",
    ));
    // A wrong token is no token.
    let wrong = remote(&server, "00ff", &["list-facilities"], "");
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("401"));

    // The administrator sees the phone and revokes it; its next sync is refused.
    let a = |args: &[&str]| ok(remote(&server, &admin_token, args, ""));
    let devices = a(&["list-devices"]);
    assert!(
        devices.contains(&device) && devices.contains("active") && devices.contains("Nguyễn Thị Lan"),
        "{devices}"
    );
    assert_eq!(
        a(&["revoke-device", "--device", &device]),
        format!("revoked {device}")
    );
    assert!(a(&["list-devices"]).contains("revoked"));
    let refused = phone.sync().unwrap_err().to_string();
    assert!(refused.contains("revoked"), "{refused}");
    let checked = a(&["check"]);
    assert!(
        checked.contains("the records are the merge of the log"),
        "{checked}"
    );

    // The audit log names the author of every step.
    let mut res = ureq::get(&server.url("/admin/audit.csv"))
        .header("Authorization", &format!("Bearer {admin_token}"))
        .call()
        .unwrap();
    let csv = res.body_mut().read_to_string().unwrap();
    let by = |action: &str, who: &str| {
        assert!(
            csv.lines()
                .any(|r| r.contains(&format!(",{action},")) && r.contains(who)),
            "no {action} by {who}: {csv}"
        );
    };
    by("create_account", "quantri");
    by("issue_api_token", "quantri");
    for action in [
        "publish_template",
        "publish_units",
        "import_facilities",
        "create_inspector",
        "create_delegation",
        "assign",
        "issue_enrol_code",
    ] {
        by(action, "kehoach");
    }
    by("revoke_device", "quantri");
    server.stop();
}

/// Every role against every class of the API: allowed where the role's
/// areas say, `403 role_refused` elsewhere, with nothing changed.
#[test]
fn each_role_is_refused_the_api_classes_it_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let inspector = {
        let mut w = kiemtra_server::admin::open_writer(&data).unwrap();
        let i = w
            .create_inspector("Nguyễn Thị Lan", "Thanh tra viên", "Sở Nội vụ")
            .unwrap()
            .id;
        w.commit().unwrap();
        i.to_string()
    };
    let roles = ["administrator", "planner", "viewer", "inspector"];
    for role in roles {
        let mut args = vec!["create-account", "--login", role, "--name", role, "--role", role];
        if role == "inspector" {
            args.extend(["--inspector", inspector.as_str()]);
        }
        on_folder(&data, &args, "một mật khẩu đủ dài\n");
    }
    let tokens: Vec<String> = roles
        .iter()
        .map(|r| on_folder(&data, &["create-api-token", "--name", r, "--account", r], ""))
        .collect();
    let server = Server::start(&data, &[]);
    // (class, method, path, body, which roles it opens)
    let bad_json = "{\"nonsense\": true}";
    let own_code = format!("{{\"inspector\": \"{inspector}\", \"valid_hours\": 1}}");
    let classes: Vec<(&str, &str, String, &str, [bool; 4])> = vec![
        (
            "planning read",
            "GET",
            "/api/v1/admin/facilities".into(),
            "",
            [false, true, false, false],
        ),
        (
            "planning read",
            "GET",
            "/api/v1/admin/assignments".into(),
            "",
            [false, true, false, false],
        ),
        (
            "planning write",
            "POST",
            "/api/v1/admin/inspectors".into(),
            bad_json,
            [false, true, false, false],
        ),
        (
            "planning write",
            "POST",
            "/api/v1/admin/templates".into(),
            bad_json,
            [false, true, false, false],
        ),
        (
            "enrol code, own phone",
            "POST",
            "/api/v1/admin/enrol-codes".into(),
            &own_code,
            [false, true, false, true],
        ),
        (
            "register entry",
            "POST",
            "/api/v1/admin/accidents/import".into(),
            "x",
            [false, true, false, false],
        ),
        (
            "overview read",
            "GET",
            "/api/v1/admin/accidents".into(),
            "",
            [false, true, true, false],
        ),
        (
            "administration",
            "GET",
            "/api/v1/admin/devices".into(),
            "",
            [true, false, false, false],
        ),
        (
            "administration",
            "GET",
            "/api/v1/admin/accounts".into(),
            "",
            [true, false, false, false],
        ),
        (
            "administration",
            "POST",
            "/api/v1/admin/check".into(),
            "{}",
            [true, false, false, false],
        ),
    ];
    let audit_before = audit_rows(&server, &tokens[0]);
    for (class, method, path, body, opens) in &classes {
        for (i, role) in roles.iter().enumerate() {
            let url = server.url(path);
            let auth = format!("Bearer {}", tokens[i]);
            let res = match *method {
                "GET" => ureq::get(&url)
                    .header("Authorization", &auth)
                    .config()
                    .http_status_as_error(false)
                    .build()
                    .call(),
                _ => ureq::post(&url)
                    .header("Authorization", &auth)
                    .header("Content-Type", "application/json")
                    .config()
                    .http_status_as_error(false)
                    .build()
                    .send(body.as_bytes()),
            };
            let mut res = res.unwrap();
            let status = res.status().as_u16();
            let text = res.body_mut().read_to_string().unwrap();
            if opens[i] {
                assert_ne!(status, 403, "{role} refused {class} {method} {path}: {text}");
            } else {
                assert_eq!(status, 403, "{role} allowed {class} {method} {path}: {text}");
                assert!(text.contains("role_refused"), "{text}");
            }
        }
    }
    // Only the codes the planner and the inspector were allowed were issued; nothing else changed.
    let audit_after = audit_rows(&server, &tokens[0]);
    let new: Vec<&String> = audit_after.iter().filter(|r| !audit_before.contains(r)).collect();
    assert_eq!(new.len(), 2, "{new:?}");
    assert!(new.iter().all(|r| r.contains(",issue_enrol_code,")), "{new:?}");
    // An inspector may not issue a code for someone else's phone.
    let other = {
        let mut res = ureq::post(&server.url("/api/v1/admin/inspectors"))
            .header("Authorization", &format!("Bearer {}", tokens[1]))
            .send_json(
                serde_json::json!({"name": "Vũ Văn Minh", "title": "Thanh tra viên", "agency": "Sở Nội vụ"}),
            )
            .unwrap();
        res.body_mut().read_json::<serde_json::Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let res = ureq::post(&server.url("/api/v1/admin/enrol-codes"))
        .header("Authorization", &format!("Bearer {}", tokens[3]))
        .config()
        .http_status_as_error(false)
        .build()
        .send_json(serde_json::json!({"inspector": other}))
        .unwrap();
    assert_eq!(res.status(), 403);
    // The pages' session cookie is not an API credential (another site could send it).
    let res = ureq::get(&server.url("/api/v1/admin/facilities"))
        .header("Cookie", "kiemtra_admin=whatever")
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap();
    assert_eq!(res.status(), 401);
    server.stop();
}

fn audit_rows(server: &Server, token: &str) -> Vec<String> {
    let mut res = ureq::get(&server.url("/admin/audit.csv"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    res.body_mut()
        .read_to_string()
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}
