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
