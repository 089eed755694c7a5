//! The staff pages on the real server: each role opens exactly its pages;
//! every form is refused without its form token (CSRF) and changes
//! nothing; a long establishment list imports in chunks with progress; an
//! establishment edited on a page reaches a phone; names with markup are
//! shown as text.

use std::collections::HashMap;
use std::path::Path;

use kiemtra_tests::field::Phone;
use kiemtra_tests::staff_browser::{agent, Browser};
use kiemtra_tests::Server;

const PASSWORD: &str = "một mật khẩu đủ dài";
const ROLES: [&str; 4] = ["administrator", "planner", "viewer", "inspector"];

/// A folder with an inspector, a template, an establishment and one
/// account per role (the inspector's is Lan's); returns Lan's id.
fn inspectorate(data: &Path) -> String {
    let mut w = kiemtra_server::admin::open_writer(data).unwrap();
    let lan = w
        .create_inspector("Nguyễn Thị Lan", "Thanh tra viên", "Sở Nội vụ")
        .unwrap();
    let t = kiemtra_core::template::parse(
        r#"{"format":"kiemtra-template/1","id":"staff-test","version":1,"title_vi":"Mẫu thử","sections":[{"code":"A","title_vi":"Chung","items":[{"code":"A1","question_vi":"Có nội quy?","answer":"yes_no_na","legal_basis":[{"instrument":"Luật 84/2015/QH13","article":"Điều 14"}]}]}]}"#,
    )
    .unwrap();
    w.publish_template(&t).unwrap();
    for role in ROLES {
        w.create_account(kiemtra_server::accounts::NewAccount {
            login: role.to_string(),
            display_name: format!("Cán bộ {role}"),
            role: serde_json::from_value(serde_json::Value::String(role.into())).unwrap(),
            inspector: (role == "inspector").then_some(lan.id),
            password: PASSWORD.to_string(),
        })
        .unwrap();
    }
    w.commit().unwrap();
    lan.id.to_string()
}

/// A form's fields, as posted.
type Fields<'a> = Vec<(&'a str, &'a str)>;

fn audit_len(admin: &Browser) -> usize {
    let (status, csv) = admin.get("/admin/audit.csv");
    assert_eq!(status, 200);
    csv.lines().count()
}

#[test]
fn each_role_opens_exactly_its_staff_pages() {
    let dir = tempfile::tempdir().unwrap();
    inspectorate(dir.path());
    let server = Server::start(dir.path(), &[]);
    let browsers: HashMap<&str, Browser> = ROLES
        .iter()
        .map(|r| (*r, Browser::sign_in(&server, r, PASSWORD)))
        .collect();
    // (page, roles that open it)
    let pages: [(&str, &[&str]); 12] = [
        ("/admin/establishments", &["planner"]),
        ("/admin/establishments/new", &["planner"]),
        ("/admin/establishments/import", &["planner"]),
        ("/admin/delegations", &["planner"]),
        ("/admin/assignments", &["planner"]),
        ("/admin/templates", &["planner"]),
        ("/admin/units", &["planner"]),
        ("/admin/enrol", &["planner", "inspector"]),
        ("/admin/devices", &["administrator"]),
        ("/admin/accounts", &["administrator"]),
        ("/admin/audit", &["administrator"]),
        ("/admin/my-work", &["inspector"]),
    ];
    for (page, opens) in pages {
        for role in ROLES {
            let (status, body) = browsers[role].get(page);
            if opens.contains(&role) {
                assert_eq!(status, 200, "{role} refused {page}: {body}");
            } else {
                assert_eq!(status, 403, "{role} opened {page}");
                assert!(body.contains("Không có quyền truy cập"), "{role} {page}: {body}");
            }
        }
        // Nobody signed in: to the sign-in page.
        let res = agent()
            .get(&server.url(page))
            .header("Accept", "text/html")
            .call()
            .unwrap();
        assert_eq!(res.status(), 303, "{page}");
        assert_eq!(res.headers().get("location").unwrap(), "/admin/login");
    }
    // `/admin` sends each role to its first page.
    for (role, home) in [
        ("administrator", "/admin/accounts"),
        ("inspector", "/admin/my-work"),
    ] {
        let res = browsers[role]
            .agent
            .get(&server.url("/admin"))
            .header("Cookie", &browsers[role].cookies)
            .header("Accept", "text/html")
            .call()
            .unwrap();
        assert_eq!(
            (
                res.status().as_u16(),
                res.headers().get("location").unwrap().to_str().unwrap()
            ),
            (303, home)
        );
    }
    // The inspector's enrolment page offers only Lan herself.
    let (_, page) = browsers["inspector"].get("/admin/enrol");
    assert_eq!(page.matches("<option value=").count(), 1, "{page}");
    server.stop();
}

#[test]
fn every_staff_form_needs_its_form_token_and_a_refused_one_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lan = inspectorate(dir.path());
    let server = Server::start(dir.path(), &[]);
    let planner = Browser::sign_in(&server, "planner", PASSWORD);
    let admin = Browser::sign_in(&server, "administrator", PASSWORD);
    let before = audit_len(&admin);
    let wrong = "0".repeat(64);
    let forms: Vec<(&str, &Browser, Fields)> = vec![
        (
            "/admin/establishments",
            &planner,
            vec![
                ("kind", "enterprise"),
                ("name", "Công ty X"),
                ("tax_code", "0200123456"),
                ("street", "Số 1"),
                ("unit", "hp.le-chan"),
                ("sector", "Nhựa"),
                ("workforce", "10"),
            ],
        ),
        (
            "/admin/inspectors",
            &planner,
            vec![
                ("name", "Vũ Văn Minh"),
                ("title", "Thanh tra viên"),
                ("agency", "Sở Nội vụ"),
            ],
        ),
        (
            "/admin/delegations",
            &planner,
            vec![("name", "Đoàn 9"), ("decision", "QĐ 9"), ("leader", &lan)],
        ),
        ("/admin/enrol", &planner, vec![("inspector", &lan)]),
        (
            "/admin/accounts",
            &admin,
            vec![
                ("login", "moi"),
                ("name", "Mới"),
                ("role", "viewer"),
                ("password", PASSWORD),
            ],
        ),
    ];
    for (path, who, fields) in &forms {
        for token in [None, Some(wrong.as_str())] {
            let (status, body, _) = who.post(path, fields, token);
            assert_eq!(status, 403, "{path} with {token:?}: {body}");
            assert!(body.contains("CSRF"), "{path}: {body}");
        }
    }
    let units = r#"{"format": "kiemtra-admin-units/1", "units": []}"#;
    for path in ["/admin/templates", "/admin/units", "/admin/establishments/import"] {
        for token in [None, Some(wrong.as_str())] {
            let (status, body, _) = planner.upload(path, &[("action", "publish")], ("x.json", units), token);
            assert_eq!(status, 403, "{path} with {token:?}: {body}");
        }
    }
    assert_eq!(audit_len(&admin), before, "a refused form recorded something");
    let (_, list) = planner.get("/admin/establishments");
    assert!(list.contains("0 cơ sở"), "{list}");
    // With the token, the same forms do what they say.
    for (path, who, fields) in &forms {
        let (status, body, _) = who.post(path, fields, Some(&who.csrf));
        assert!(status == 303 || status == 200, "{path}: {status} {body}");
    }
    assert_eq!(audit_len(&admin), before + forms.len());

    // The uploads with the token: a template with a bad item is shown with
    // the item and published nothing; a good one is checked, then published;
    // a units list is published and listed.
    let bad = r#"{"format":"kiemtra-template/1","id":"t2","version":1,"title_vi":"Mẫu","sections":[{"code":"A","title_vi":"Chung","items":[{"code":"A9","question_vi":"","answer":"yes_no_na","legal_basis":[]}]}]}"#;
    let (status, page, _) = planner.upload(
        "/admin/templates",
        &[("action", "publish")],
        ("t2.json", bad),
        Some(&planner.csrf),
    );
    assert_eq!(status, 400, "{page}");
    assert!(
        page.contains("<code>A9</code>") && page.contains("id=\"findings\""),
        "{page}"
    );
    let good = bad
        .replace(r#""question_vi":"""#, r#""question_vi":"Có nội quy?""#)
        .replace(
            r#""legal_basis":[]"#,
            r#""legal_basis":[{"instrument":"Luật 84/2015/QH13","article":"Điều 14"}]"#,
        );
    let (status, page, _) = planner.upload(
        "/admin/templates",
        &[("action", "check")],
        ("t2.json", &good),
        Some(&planner.csrf),
    );
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("không có lỗi") && !page.contains("<code>t2@1</code>"),
        "checked, not published: {page}"
    );
    let (status, page, _) = planner.upload(
        "/admin/templates",
        &[("action", "publish")],
        ("t2.json", &good),
        Some(&planner.csrf),
    );
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Đã công bố t2@1") && page.contains("<code>t2@1</code>"),
        "{page}"
    );
    let units = r#"{"format": "kiemtra-admin-units/1", "units": [{"code": "hp.p-gia-vien", "name_vi": "Phường Gia Viên", "kind": "phường", "level": "commune", "valid_from": "2025-07-01"}]}"#;
    let (status, page, _) = planner.upload(
        "/admin/units",
        &[],
        ("xa-phuong.json", units),
        Some(&planner.csrf),
    );
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("published 1 administrative units") && page.contains("Phường Gia Viên"),
        "{page}"
    );
    let (_, form) = planner.get("/admin/establishments/new");
    assert!(
        form.contains("value=\"hp.p-gia-vien\""),
        "a unit published on the page is offered at once: {form}"
    );
    assert_eq!(audit_len(&admin), before + forms.len() + 2);
    server.stop();
}

#[test]
fn a_long_list_imports_in_chunks_and_an_edit_reaches_the_phone() {
    let dir = tempfile::tempdir().unwrap();
    let lan = inspectorate(dir.path());
    let server = Server::start(dir.path(), &[]);
    let planner = Browser::sign_in(&server, "planner", PASSWORD);
    let mut csv = String::from("kind,name,tax_code,street,unit,sector,workforce,high_risk\n");
    for i in 0..1233 {
        csv.push_str(&format!(
            "enterprise,Công ty số {i},02001{i:05},Số {i} Lạch Tray,hp.ngo-quyen,Cơ khí,{},false\n",
            10 + i
        ));
    }
    csv.push_str("enterprise,Không có đơn vị,0200999999,Số 1,hp.khong-co,Cơ khí,5,false\n");
    let (status, body, location) = planner.upload(
        "/admin/establishments/import",
        &[],
        ("co-so.csv", &csv),
        Some(&planner.csrf),
    );
    assert_eq!(status, 303, "{body}");
    let progress = location.unwrap();
    let started = std::time::Instant::now();
    let page = loop {
        let (status, page) = planner.get(&progress);
        assert_eq!(status, 200, "{page}");
        if page.contains("id=\"finished\"") {
            break page;
        }
        assert!(
            page.contains("http-equiv=\"refresh\""),
            "a running import's page reloads itself"
        );
        assert!(
            started.elapsed().as_secs() < 120,
            "the import did not finish: {page}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(page.contains("nhập 1233 cơ sở, 1 dòng bị từ chối"), "{page}");
    assert!(
        page.contains("<td class=\"num\">1235</td>"),
        "the refused line by number: {page}"
    );
    assert!(!page.contains("http-equiv=\"refresh\""));
    // One audit entry per chunk of 500.
    let admin = Browser::sign_in(&server, "administrator", PASSWORD);
    let (_, audit) = admin.get("/admin/audit.csv");
    assert_eq!(
        audit
            .lines()
            .filter(|l| l.contains(",import_facilities,"))
            .count(),
        3,
        "{audit}"
    );

    // Paging and search.
    let (_, first) = planner.get("/admin/establishments");
    assert!(first.contains("1233 cơ sở · trang 1/25"), "{first}");
    let (_, found) = planner.get("/admin/establishments?q=cong+ty+so+1232");
    assert!(
        found.contains("1 cơ sở") && found.contains("Công ty số 1232"),
        "{found}"
    );
    let (_, by_tax) = planner.get("/admin/establishments?q=0200101232");
    assert!(by_tax.contains("Công ty số 1232"), "{by_tax}");

    // A phone of Lan's, then an edit on the page: the phone receives it.
    let (_, enrol, _) = planner.post("/admin/enrol", &[("inspector", &lan)], Some(&planner.csrf));
    let code = enrol
        .split("id=\"enrol-code\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let phone = Phone::enrolled(&server, &code, "Điện thoại của Lan");
    phone.sync().unwrap();
    // The edit link of the one row found.
    let end = found.find("\">Sửa</a>").unwrap();
    let start = found[..end].rfind("/admin/establishments/").unwrap() + "/admin/establishments/".len();
    let id = found[start..end].to_string();
    let (status, form) = planner.get(&format!("/admin/establishments/{id}"));
    assert_eq!(status, 200);
    assert!(form.contains("value=\"Công ty số 1232\""), "{form}");
    let edit = [
        ("kind", "enterprise"),
        ("name", "Công ty số 1232 (đổi tên)"),
        ("tax_code", "0200101232"),
        ("street", "Số 1232 Lạch Tray"),
        ("unit", "hp.ngo-quyen"),
        ("sector", "Cơ khí"),
        ("workforce", "99"),
        ("high_risk", "on"),
    ];
    let (status, _, location) =
        planner.post(&format!("/admin/establishments/{id}"), &edit, Some(&planner.csrf));
    assert_eq!(status, 303);
    assert!(location.unwrap().contains("done=facility_saved"));
    phone.sync().unwrap();
    let f = phone
        .store
        .facilities()
        .unwrap()
        .into_iter()
        .find(|f| f.id.to_string() == id)
        .unwrap();
    assert_eq!(
        (f.name.as_str(), f.workforce, f.high_risk),
        ("Công ty số 1232 (đổi tên)", 99, true)
    );
    // A tax code taken by another establishment is refused, with the form shown again.
    let mut taken = edit;
    taken[2] = ("tax_code", "0200100007");
    let (status, page, _) = planner.post(
        &format!("/admin/establishments/{id}"),
        &taken,
        Some(&planner.csrf),
    );
    assert_eq!(status, 409, "{page}");
    assert!(
        page.contains("registered to another establishment") && page.contains("value=\"0200100007\""),
        "{page}"
    );
    server.stop();
}

#[test]
fn names_with_markup_are_shown_as_text() {
    let dir = tempfile::tempdir().unwrap();
    inspectorate(dir.path());
    let server = Server::start(dir.path(), &[]);
    let planner = Browser::sign_in(&server, "planner", PASSWORD);
    let name = "<script>alert(1)</script> Công ty \"Nhựa\" & Con";
    let fields = [
        ("kind", "enterprise"),
        ("name", name),
        ("tax_code", "0200123456"),
        ("street", "<b>Số 1</b>"),
        ("unit", "hp.le-chan"),
        ("sector", "Nhựa"),
        ("workforce", "10"),
    ];
    let (status, body, _) = planner.post("/admin/establishments", &fields, Some(&planner.csrf));
    assert_eq!(status, 303, "{body}");
    let (_, list, _) = planner.post(
        "/admin/inspectors",
        &[
            ("name", "<img src=x onerror=alert(1)>"),
            ("title", "T"),
            ("agency", "A"),
        ],
        Some(&planner.csrf),
    );
    let _ = list;
    for page in [
        "/admin/establishments",
        "/admin/assignments",
        "/admin/delegations",
    ] {
        let (status, html) = planner.get(page);
        assert_eq!(status, 200);
        assert!(
            !html.contains("<script>alert") && !html.contains("<img src=x"),
            "{page}: {html}"
        );
    }
    let (_, list) = planner.get("/admin/establishments");
    assert!(
        list.contains("&#60;script&#62;alert(1)&#60;/script&#62; Công ty &#34;Nhựa&#34; &#38; Con"),
        "{list}"
    );
    server.stop();
}
