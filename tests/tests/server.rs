//! The real server binary on loopback: it starts on its embedded default
//! (sled in a folder), answers health, seeds demo data once, and keeps it
//! across restarts.

use kiemtra_tests::Server;

#[test]
fn serves_health_and_demo_data_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo"]);
    let health = server.get_json("/health");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["format"], 1);
    let templates = server.get_json("/api/v1/templates");
    let templates = templates.as_array().unwrap();
    assert_eq!(templates.len(), 2);
    let general = templates.iter().find(|t| t["id"] == "osh-general").unwrap();
    assert_eq!(general["items"], 51);
    assert!(templates.iter().any(|t| t["id"] == "osh-accident-investigation"));
    server.stop();

    // Restarted with --demo again: seeded once, data still there.
    let server = Server::start(dir.path(), &["--demo"]);
    assert_eq!(server.get_json("/api/v1/templates").as_array().unwrap().len(), 2);
    server.kill();
    let server = Server::start(dir.path(), &[]);
    assert!(server
        .get_json("/api/v1/templates")
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["title_vi"] == "Kiểm tra công tác an toàn, vệ sinh lao động tại cơ sở"));
    let missing = ureq::get(&server.url("/no-such-page")).call();
    assert!(matches!(missing, Err(ureq::Error::StatusCode(404))));
}

#[test]
fn refuses_a_data_folder_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let out = std::process::Command::new(kiemtra_tests::server_binary())
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("kiemtra-server:"));
}

/// Demo records must never mix with an inspectorate's own: `--demo` seeds
/// only an empty data folder, and says so.
#[test]
fn demo_data_goes_only_into_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let admin = std::process::Command::new(kiemtra_tests::server_binary())
        .args(["admin", "--data"])
        .arg(dir.path())
        .args([
            "create-inspector",
            "--name",
            "Nguyễn Thị Lan",
            "--title",
            "Thanh tra viên",
        ])
        .args(["--agency", "Sở Nội vụ"])
        .output()
        .unwrap();
    assert!(
        admin.status.success(),
        "{}",
        String::from_utf8_lossy(&admin.stderr)
    );
    let out = std::process::Command::new(kiemtra_tests::server_binary())
        .args(["serve", "--addr", "127.0.0.1:0", "--demo", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--demo seeds only an empty data folder"), "{err}");
    // Nothing was added: the folder still serves its own data, without demo templates.
    let server = Server::start(dir.path(), &[]);
    assert!(server
        .get_json("/api/v1/templates")
        .as_array()
        .unwrap()
        .is_empty());
    server.stop();
}

/// A data folder whose records disagree with its log (here: a record
/// tampered with while the server was stopped) is reported by `admin check`
/// and rebuilt from the log at the next start, which says so.
#[test]
fn records_that_differ_from_the_log_are_reported_and_rebuilt_at_start() {
    use kiemtra_core::codec::{from_cbor, to_cbor};
    use kiemtra_core::record::InspectionRecord;
    use kiemtra_server::storage::{Changeset, SledStorage, Storage, Table};

    let dir = tempfile::tempdir().unwrap();
    // The demo set: many inspections worked by devices, sealed minutes, reports.
    let server = Server::start(dir.path(), &["--demo"]);
    server.stop();
    let admin = |args: &[&str]| {
        std::process::Command::new(kiemtra_tests::server_binary())
            .args(["admin", "--data"])
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let ok = admin(&["check"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("the records are the merge of the log"));

    let (key, original) = {
        let s = SledStorage::open(dir.path(), 1 << 24).unwrap();
        let (key, bytes) = s.scan(Table::Records).unwrap().remove(0);
        let mut r: InspectionRecord = from_cbor("record", &bytes).unwrap();
        r.answers.clear();
        let mut c = Changeset::new();
        c.put(Table::Records, key.clone(), to_cbor("record", &r).unwrap());
        s.commit(c).unwrap();
        (key, bytes)
    };
    let bad = admin(&["check"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stdout).contains("1 records differ from the log"),
        "{}",
        String::from_utf8_lossy(&bad.stdout)
    );

    let out = std::process::Command::new(kiemtra_tests::server_binary())
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = out.id().to_string();
    let mut out = out;
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(out.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(line.starts_with("listening on "), "{line}");
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let stderr = out.wait_with_output().unwrap().stderr;
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(stderr.contains("rebuilt them from the log"), "{stderr}");

    let s = SledStorage::open(dir.path(), 1 << 24).unwrap();
    assert_eq!(s.get(Table::Records, &key).unwrap(), Some(original));
    drop(s);
    assert!(admin(&["check"]).status.success());
}

/// Every response carries the security headers: pages (portal, overview,
/// the verification link), JSON, API errors and the 404 of an unknown
/// address alike, so no page can be framed or an upload sniffed.
#[test]
fn every_response_carries_the_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo"]);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let paths = [
        ("GET", "/portal", 200),
        ("GET", "/admin/login", 200),
        ("GET", "/admin", 401),
        ("GET", "/verify/00", 200),
        ("GET", "/health", 200),
        ("GET", "/api/v1/ops?since=0", 401),
        ("POST", "/api/v1/enrol", 400),
        ("GET", "/no-such-page", 404),
    ];
    for (method, path, status) in paths {
        let res = match method {
            "GET" => agent.get(&server.url(path)).call(),
            _ => agent.post(&server.url(path)).send(&b"not cbor"[..]),
        }
        .unwrap();
        let h = |name: &str| {
            res.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_else(|| panic!("{method} {path}: no {name} header"))
        };
        assert_eq!(res.status().as_u16(), status, "{method} {path}");
        let csp = h("content-security-policy");
        for directive in [
            "default-src 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(directive), "{method} {path}: {csp}");
        }
        assert!(
            !csp.contains("script-src"),
            "{method} {path}: scripts are never allowed: {csp}"
        );
        assert_eq!(h("x-content-type-options"), "nosniff", "{method} {path}");
        assert_eq!(h("x-frame-options"), "DENY", "{method} {path}");
        assert_eq!(h("referrer-policy"), "no-referrer", "{method} {path}");
    }
    server.stop();
}
