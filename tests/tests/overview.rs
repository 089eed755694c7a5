//! The inspectorate's overview on the demo data, through the real server:
//! the plan's targets with numerators and denominators per unit and year
//! (and the records behind them), the CSV exports, the Decree 39 report,
//! the accident register, and pages that need nothing from the internet.

use kiemtra_tests::Server;
use serde_json::Value;

fn run_admin(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(kiemtra_tests::server_binary())
        .arg("admin")
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

fn admin(data: &std::path::Path, args: &[&str]) -> String {
    let out = run_admin(data, args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn get(server: &Server, token: &str, path: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .get(&server.url(path))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.body_mut().read_to_string().unwrap())
}

/// The city-wide numerator and denominator of a target in a year.
fn total(o: &Value, target: &str, year: i64) -> (u64, u64) {
    o["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["target"] == target && t["year"] == year)
        .fold((0, 0), |(n, d), t| {
            // Every figure carries the records behind it, and they add up.
            let recs = t["records"].as_array().unwrap();
            let rn: u64 = recs.iter().map(|r| r["numerator"].as_u64().unwrap()).sum();
            let rd: u64 = recs.iter().map(|r| r["denominator"].as_u64().unwrap()).sum();
            assert_eq!(
                (rn, rd),
                (
                    t["numerator"].as_u64().unwrap(),
                    t["denominator"].as_u64().unwrap()
                )
            );
            (n + rn, d + rd)
        })
}

fn unit(o: &Value, target: &str, year: i64, code: &str) -> (u64, u64) {
    let t = o["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == target && t["year"] == year && t["unit"]["code"] == code)
        .unwrap_or_else(|| panic!("target {target} {year} {code}"));
    (
        t["numerator"].as_u64().unwrap(),
        t["denominator"].as_u64().unwrap(),
    )
}

#[test]
fn targets_exports_and_register_from_the_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo"]);
    server.stop();
    let token = admin(dir.path(), &["create-admin-token", "--name", "Nguyễn Văn An"]);
    let server = Server::start(dir.path(), &[]);

    let (status, body) = get(&server, &token, "/admin/overview.json?year=2024");
    assert_eq!(status, 200, "{body}");
    let o: Value = serde_json::from_str(&body).unwrap();
    // Target 4: trained workers in strict jobs (C3), latest sealed inspection per facility
    // (An Lão 2025, whose minutes await signatures, does not count yet).
    assert_eq!(total(&o, "4", 2023), (172, 230));
    assert_eq!(total(&o, "4", 2024), (86, 101));
    assert_eq!(total(&o, "4", 2025), (46, 48));
    assert_eq!(unit(&o, "4", 2023, "hp.hong-bang"), (84, 120));
    // Target 6: high-risk craft villages and cooperatives reached; Thủy Nguyên
    // counts under its 2025 name (thành phố) in 2025.
    assert_eq!(total(&o, "6", 2023), (2, 6));
    assert_eq!(total(&o, "6", 2024), (4, 6));
    assert_eq!(total(&o, "6", 2025), (3, 6));
    assert_eq!(unit(&o, "6", 2025, "hp.thuy-nguyen.2025"), (0, 2));
    assert_eq!(unit(&o, "6", 2024, "hp.thuy-nguyen"), (1, 2));
    // Target 8: fatal accidents with sealed investigation minutes.
    assert_eq!(total(&o, "8", 2024), (2, 2));
    assert_eq!(total(&o, "8", 2025), (0, 1));
    assert_eq!(o["targets_not_measured"].as_array().unwrap().len(), 3);
    assert!(!o["overdue_violations"].as_array().unwrap().is_empty());
    assert!(o["inspections"].as_array().unwrap().len() >= 10);

    // The records behind a figure, on a page.
    let (status, page) = get(&server, &token, "/admin/records?target=8&unit=&year=2024");
    assert_eq!(status, 200);
    assert_eq!(page.matches("<td>Vụ tai nạn</td>").count(), 2, "{page}");

    // The overview page: charts rendered on the server, nothing from the internet.
    let (status, html) = get(&server, &token, "/admin?year=2024");
    assert_eq!(status, 200);
    assert!(html.contains("<svg"), "charts are inline SVG");
    assert!(html.contains("id=\"target-4\"") && html.contains("id=\"target-8\""));
    assert!(
        html.contains("Chỉ tiêu chưa đo được"),
        "the page says what it cannot measure"
    );
    for external in ["src=\"http", "href=\"http", "@import", "<script"] {
        assert!(!html.contains(external), "the page loads {external}…");
    }

    // CSV exports.
    let (_, csv) = get(&server, &token, "/admin/targets.csv");
    assert!(csv.starts_with('\u{feff}'), "a BOM for spreadsheet programs");
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next(),
        Some("muc_tieu,nam,ma_don_vi,don_vi,tu_so,mau_so,ty_le_phan_nghin,chi_tieu_phan_nghin,dat")
    );
    assert!(csv.contains("4,2023,hp.hong-bang,Quận Hồng Bàng,84,120,700,800,chua_dat"));
    let (_, csv) = get(&server, &token, "/admin/decree39.csv?year=2025&half=1");
    let rows: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(rows
        .iter()
        .any(|r| r.contains("Huyện Kiến Thụy") && r.ends_with(",1,0,1,0,0,1")));
    assert!(rows
        .iter()
        .any(|r| r.contains("Huyện Vĩnh Bảo") && r.ends_with(",1,0,1,0,1,0")));
    let (_, csv) = get(&server, &token, "/admin/decree39.csv?year=2024&half=2");
    assert_eq!(
        csv.trim_start_matches('\u{feff}').lines().count(),
        1,
        "header only"
    );
    let (status, _) = get(&server, &token, "/admin/decree39.csv?year=2025&half=3");
    assert_eq!(status, 400);
    let (_, csv) = get(&server, &token, "/admin/inspections.csv");
    assert!(csv.contains("ma_don_vi,don_vi,thang,loai,so_cuoc"));

    // The accident register marks the fatal accident not investigated in time.
    let (_, register) = get(&server, &token, "/admin/accidents");
    assert_eq!(register.matches("data-accident=").count(), 8);
    assert!(register.contains("data-state=\"overdue\""));
    assert!(register.contains("data-state=\"concluded\""));

    // Without a token: nothing.
    let anonymous = ureq::get(&server.url("/admin/targets.csv")).call();
    assert!(matches!(anonymous, Err(ureq::Error::StatusCode(401))));
    server.stop();
}

fn admin_fails(data: &std::path::Path, args: &[&str]) -> String {
    let out = run_admin(data, args);
    assert!(!out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).unwrap()
}

/// After 2025-07-01 the district level is gone: once the agency publishes its
/// commune list (`admin publish-units`), work is counted under the
/// commune-level unit of the establishment, and phones receive the list on
/// their next sync to register establishments in it offline; an address
/// still under a former district is shown as such, never silently mapped.
#[test]
fn work_after_july_2025_counts_under_commune_level_units() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let units = dir.path().join("xa-phuong.json");
    std::fs::write(
        &units,
        r#"{"format": "kiemtra-admin-units/1", "units": [
            {"code": "hp.p-gia-vien", "name_vi": "Phường Gia Viên", "kind": "phường", "level": "commune", "valid_from": "2025-07-01"},
            {"code": "hp.x-an-hung", "name_vi": "Xã An Hưng", "kind": "xã", "level": "commune", "valid_from": "2025-07-01"}]}"#,
    )
    .unwrap();
    let csv = dir.path().join("co-so.csv");
    std::fs::write(
        &csv,
        "kind,name,tax_code,street,unit,sector,workforce,high_risk\n\
         enterprise,Công ty CP Cảng Gia Viên,0200555666,Số 8 Lê Thánh Tông,hp.p-gia-vien,Cảng biển,300,true\n\
         enterprise,Công ty TNHH Nhựa Lê Chân,0200777888,Số 2 Hai Bà Trưng,hp.le-chan,Nhựa,80,false\n",
    )
    .unwrap();
    let units_arg = units.to_str().unwrap();
    let csv_arg = csv.to_str().unwrap();
    // Without the commune list the commune's address is refused, by line.
    let refused = admin(&data, &["import-facilities", "--quiet", csv_arg]);
    assert!(
        refused.contains("line 2:") && refused.ends_with("imported 1, refused 1"),
        "{refused}"
    );
    assert_eq!(
        admin(&data, &["publish-units", units_arg]),
        "published 2 administrative units"
    );
    assert_eq!(
        admin(&data, &["publish-units", units_arg]),
        "these 2 administrative units were already published"
    );
    // A list that leaves out a published unit is refused: records refer to it.
    let shorter = dir.path().join("shorter.json");
    std::fs::write(
        &shorter,
        r#"{"format": "kiemtra-admin-units/1", "units": [
            {"code": "hp.p-gia-vien", "name_vi": "Phường Gia Viên", "kind": "phường", "level": "commune", "valid_from": "2025-07-01"}]}"#,
    )
    .unwrap();
    let err = admin_fails(&data, &["publish-units", shorter.to_str().unwrap()]);
    assert!(err.contains("hp.x-an-hung (Xã An Hưng)"), "{err}");
    let imported = admin(&data, &["import-facilities", "--quiet", csv_arg]);
    // The establishment imported before is known by its tax code; the commune one is new.
    assert!(imported.ends_with("refused 0"), "{imported}");
    assert_eq!(admin(&data, &["list-facilities"]).lines().count(), 2);
    let lead = admin(
        &data,
        &[
            "create-inspector",
            "--name",
            "Trần Văn Hùng",
            "--title",
            "Chánh Thanh tra",
            "--agency",
            "Sở Nội vụ",
        ],
    );
    let delegation = admin(
        &data,
        &[
            "create-delegation",
            "--name",
            "Đoàn kiểm tra số 9",
            "--decision",
            "Quyết định số 9/QĐ-SNV",
            "--leader",
            &lead,
        ],
    );
    let template = kiemtra_core::template::osh_general();
    let template_file = dir.path().join("osh.json");
    std::fs::write(
        &template_file,
        include_str!("../../core/templates/osh-general-v1.json"),
    )
    .unwrap();
    admin(&data, &["publish-template", template_file.to_str().unwrap()]);
    let mut inspections = Vec::new();
    for line in admin(&data, &["list-facilities"]).lines() {
        let facility = line.split('\t').next().unwrap();
        inspections.push(admin(
            &data,
            &[
                "assign",
                "--delegation",
                &delegation,
                "--facility",
                facility,
                "--template",
                &format!("{}@{}", template.id, template.version),
                "--date",
                "2026-11-20",
            ],
        ));
    }
    let code = admin(&data, &["enrol-code", "--inspector", &lead]);
    let token = admin(&data, &["create-admin-token", "--name", "Nguyễn Văn An"]);

    let server = Server::start(&data, &[]);
    let phone = kiemtra_tests::field::Phone::enrolled(&server, &code, "Điện thoại trưởng đoàn");
    let commune_facility = || kiemtra_core::facility::NewFacility {
        kind: kiemtra_core::facility::FacilityKind::Cooperative,
        name: "HTX Vận tải An Hưng".into(),
        tax_code: None,
        street: "Thôn 3".into(),
        unit: "hp.x-an-hung".into(),
        sector: "Vận tải".into(),
        workforce: 25,
        high_risk: false,
    };
    // Before its first sync the phone knows only the built-in districts.
    assert!(phone.store.add_facility(commune_facility()).is_err());
    phone.sync().unwrap();
    // The list came with the sync, and stays after the app is reopened.
    let phone = phone.reopened();
    let today: chrono::NaiveDate = "2026-11-20".parse().unwrap();
    let valid: Vec<String> = phone
        .store
        .admin_units()
        .valid_on(today)
        .map(|u| u.name_vi.clone())
        .collect();
    assert_eq!(valid, ["Phường Gia Viên", "Xã An Hưng"]);
    let registered = phone.store.add_facility(commune_facility()).unwrap();
    for id in &inspections {
        phone.store.start_inspection(id.parse().unwrap()).unwrap();
    }
    let report = phone.sync().unwrap();
    assert_eq!(report.refused, 0, "{report:?}");
    let (status, body) = get(&server, &token, "/admin/overview.json");
    assert_eq!(status, 200);
    let o: Value = serde_json::from_str(&body).unwrap();
    let units: Vec<(String, String)> = o["inspections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["unit"]["code"].as_str().unwrap().to_string(),
                c["unit"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        units.contains(&("hp.p-gia-vien".into(), "Phường Gia Viên".into())),
        "{units:?}"
    );
    assert!(
        units
            .iter()
            .any(|(code, name)| code == "hp.le-chan@former" && name.contains("Quận Lê Chân (đơn vị cũ")),
        "{units:?}"
    );
    server.stop();
    // The server took the phone's establishment in the commune.
    let listed = admin(&data, &["list-facilities"]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&registered.id.to_string()) && l.contains("hp.x-an-hung")),
        "{listed}"
    );
}

/// An official's browser session: signing out ends it on the server (the
/// old cookie no longer opens anything), and behind a trusted proxy that
/// ends TLS the cookie is marked `Secure`.
#[test]
fn signing_out_ends_the_session_and_cookies_are_secure_behind_a_tls_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let token = admin(dir.path(), &["create-admin-token", "--name", "Nguyễn Văn An"]);
    let server = Server::start(dir.path(), &["--trusted-proxy", "127.0.0.1"]);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let sign_in = |proto: Option<&str>| {
        let (status, cookie) = kiemtra_tests::staff_sign_in(
            &agent,
            &server,
            &[("token", token.as_str())],
            proto.map(|p| ("X-Forwarded-Proto", p)),
        );
        assert_eq!(status, 303);
        cookie.expect("a session cookie")
    };
    let with_cookie = |path: &str, cookie: &str| {
        let r = agent
            .get(server.url(path))
            .header("Cookie", cookie)
            .call()
            .unwrap();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        (r.status().as_u16(), location)
    };

    let plain = sign_in(None);
    assert!(!plain.contains("Secure"), "{plain}");
    let behind_tls = sign_in(Some("https"));
    assert!(behind_tls.contains("; Secure"), "{behind_tls}");

    let cookie = plain.split(';').next().unwrap().to_string();
    assert_eq!(with_cookie("/admin", &cookie).0, 200);
    let (status, _) = with_cookie("/admin/logout", &cookie);
    assert_eq!(status, 303);
    // The cookie a browser (or anyone who copied it) still holds opens nothing.
    assert_eq!(with_cookie("/admin", &cookie).0, 401);
    server.stop();
}
