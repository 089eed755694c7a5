//! The establishments' portal on the real server binary: two enterprises'
//! inspections are worked and sealed by real devices; each enterprise opens
//! its own minutes with the access code printed on them, never sees the
//! other's data under any URL the portal serves, reports remediation with a
//! photo that the inspectors receive on their next sync and verify, and the
//! sealed minutes stay as signed. Guessing codes is limited without telling
//! whether a code exists.

use std::path::Path;

use kiemtra_core::access_code::AccessCode;
use kiemtra_core::identity::KeyStore;
use kiemtra_core::ids::{InspectionId, InspectorId};
use kiemtra_core::inspection::Status;
use kiemtra_core::remediation::Verdict;
use kiemtra_core::violation::ViolationStatus;
use kiemtra_tests::field::{minutes_info, png, Phone};
use kiemtra_tests::inspectorate::{assign, enterprise, team, Team};
use kiemtra_tests::Server;

struct Enterprise {
    name: &'static str,
    tax: &'static str,
    inspection: InspectionId,
    /// Items answered "no": its violations.
    violations: &'static [&'static str],
}

struct Setup {
    leader: InspectorId,
    lan: InspectorId,
    a: Enterprise,
    b: Enterprise,
    codes: Vec<String>,
    admin_token: String,
}

fn set_up(data: &Path) -> Setup {
    set_up_named(data, "Công ty TNHH Đóng tàu Bạch Đằng")
}

/// The set-up with `a_name` as the first enterprise's name.
fn set_up_named(data: &Path, a_name: &'static str) -> Setup {
    let mut w = kiemtra_server::admin::open_writer(data).unwrap();
    let Team { leader, lan, .. } = team(&mut w);
    let delegation = w
        .create_delegation(
            "Đoàn kiểm tra số 5",
            "Quyết định số 130/QĐ-SNV",
            leader,
            &[lan],
            None,
        )
        .unwrap()
        .id;
    let mut make = |name: &'static str, tax: &'static str, unit: &str, violations| {
        let f = enterprise(&mut w, name, tax, unit);
        Enterprise {
            name,
            tax,
            inspection: assign(&mut w, delegation, &f),
            violations,
        }
    };
    let a = make(a_name, "0200765432", "hp.hong-bang", &["B1", "D4"]);
    let b = make(
        "Công ty CP Cơ khí Lạch Tray",
        "0200123456",
        "hp.ngo-quyen",
        &["F1", "G1"],
    );
    let codes = vec![w.enrol_code(leader, 24).unwrap(), w.enrol_code(lan, 24).unwrap()];
    let admin_token = w.create_admin_token("Nguyễn Văn An", None).unwrap();
    w.commit().unwrap();
    Setup {
        leader,
        lan,
        a,
        b,
        codes,
        admin_token,
    }
}

/// The leader's and Lan's phones, enrolled and synced.
fn phones(s: &Setup, server: &Server) -> (Phone, Phone) {
    let leader = Phone::enrolled(server, &s.codes[0], "Điện thoại trưởng đoàn");
    let lan = Phone::enrolled(server, &s.codes[1], "Điện thoại của Lan");
    lan.sync().unwrap();
    leader.sync().unwrap();
    (leader, lan)
}

/// Works an inspection to sealed minutes on two phones; returns the access code printed on them.
fn seal(s: &Setup, e: &Enterprise, lan: &Phone, leader: &Phone, photo_seed: u8) -> AccessCode {
    let id = e.inspection;
    lan.store.start_inspection(id).unwrap();
    lan.store
        .add_photo(
            id,
            Some(e.violations[0]),
            &png(800, 600, photo_seed),
            Some("Hiện trường"),
        )
        .unwrap();
    lan.answer_rest_except(id, e.violations);
    lan.store.close_findings(id).unwrap();
    let mut info = minutes_info();
    info.member_keys
        .insert(s.leader, leader.key.public_key().unwrap());
    info.member_keys.insert(s.lan, lan.key.public_key().unwrap());
    lan.store.draw_up_minutes(id, info).unwrap();
    lan.store.sign_minutes(id, s.lan, lan.key.as_ref()).unwrap();
    lan.sync().unwrap();
    leader.sync().unwrap();
    leader
        .store
        .sign_minutes(id, s.leader, leader.key.as_ref())
        .unwrap();
    leader.sync().unwrap();
    lan.sync().unwrap();
    assert_eq!(lan.store.inspection(id).unwrap().status, Status::Sealed);
    lan.store
        .minutes_access_code(id)
        .unwrap()
        .expect("the minutes carry an access code")
}

/// A browser's view of the portal: one cookie jar, no redirects followed,
/// and the form token of the last page with a form, which its forms send.
struct Browser {
    agent: ureq::Agent,
    base: String,
    cookie: Option<String>,
    form_token: Option<String>,
}

struct Page {
    status: u16,
    body: Vec<u8>,
    location: Option<String>,
    content_type: Option<String>,
    content_type_options: Option<String>,
}

impl Page {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An HTTP client that shows every answer as it comes: no redirect followed, no status an error.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into()
}

impl Browser {
    fn new(server: &Server) -> Self {
        Browser {
            agent: agent(),
            base: server.url(""),
            cookie: None,
            form_token: None,
        }
    }

    /// Whether the jar holds a cookie `name`.
    fn has_cookie(&self, name: &str) -> bool {
        self.cookie
            .iter()
            .flat_map(|j| j.split("; "))
            .any(|p| p.starts_with(&format!("{name}=")))
    }

    /// Drops the cookie `name` from the jar.
    fn forget_cookie(&mut self, name: &str) {
        let kept: Vec<&str> = self
            .cookie
            .iter()
            .flat_map(|j| j.split("; "))
            .filter(|p| !p.starts_with(&format!("{name}=")))
            .collect();
        self.cookie = (!kept.is_empty()).then(|| kept.join("; "));
    }

    fn page(&mut self, mut r: ureq::http::Response<ureq::Body>) -> Page {
        // A cookie jar as a browser keeps one: each name its latest value
        // (the portal's or the overview's session beside the form token).
        for c in r.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            if let Some((name, value)) = c.split(';').next().and_then(|v| v.split_once('=')) {
                let mut jar: Vec<(String, String)> = self
                    .cookie
                    .iter()
                    .flat_map(|j| j.split("; "))
                    .filter_map(|p| p.split_once('='))
                    .filter(|(n, _)| *n != name)
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect();
                jar.push((name.to_string(), value.to_string()));
                let joined: Vec<String> = jar.iter().map(|(n, v)| format!("{n}={v}")).collect();
                self.cookie = Some(joined.join("; "));
            }
        }
        let header = |name: &str| r.headers().get(name).map(|v| v.to_str().unwrap().to_string());
        let location = header("location");
        let content_type = header("content-type");
        let content_type_options = header("x-content-type-options");
        let status = r.status().as_u16();
        let body = r.body_mut().with_config().limit(50 << 20).read_to_vec().unwrap();
        let html = String::from_utf8_lossy(&body);
        if html.contains("name=\"csrf\" value=\"") {
            self.form_token = Some(kiemtra_tests::csrf_field(&html));
        }
        Page {
            status,
            body,
            location,
            content_type,
            content_type_options,
        }
    }

    fn get(&mut self, path: &str) -> Page {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        let r = req.call().unwrap();
        self.page(r)
    }

    /// Posts a form as its page does: with the page's form token.
    fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.form_token.clone().expect("a page with a form first");
        let mut with_token = fields.to_vec();
        with_token.push(("csrf", &token));
        self.post_form_as_is(path, &with_token)
    }

    /// Posts exactly `fields`, as a page of another site could.
    fn post_form_as_is(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut req = self.agent.post(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        let r = req.send_form(fields.iter().copied()).unwrap();
        self.page(r)
    }

    /// Posts a multipart form as its page does: the form token first.
    fn post_multipart(&mut self, path: &str, fields: &[(&str, &str)], files: &[(&str, Vec<u8>)]) -> Page {
        let token = self.form_token.clone().expect("a page with a form first");
        let mut with_token = vec![("csrf", token.as_str())];
        with_token.extend_from_slice(fields);
        self.post_multipart_as_is(path, &with_token, files)
    }

    /// Posts exactly `fields` and `files` as a multipart form.
    fn post_multipart_as_is(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, Vec<u8>)],
    ) -> Page {
        let boundary = "kiemtra-test-boundary-7d1f";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (name, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let mut req = self.agent.post(format!("{}{path}", self.base)).header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        );
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        let r = req.send(&body[..]).unwrap();
        self.page(r)
    }

    /// Opens the portal with `code` from its form, as a new session (the
    /// form token is kept: the same browser).
    fn open(&mut self, code: &str) -> Page {
        self.forget_cookie("kiemtra_portal");
        if self.form_token.is_none() {
            assert_eq!(self.get("/portal").status, 200);
        }
        self.post_form("/portal", &[("code", code)])
    }
}

#[test]
fn each_enterprise_sees_only_its_own_minutes_and_reports_remediation() {
    let dir = tempfile::tempdir().unwrap();
    let s = set_up(dir.path());
    let server = Server::start(dir.path(), &[]);
    let (leader, lan) = phones(&s, &server);
    let code_a = seal(&s, &s.a, &lan, &leader, 3);
    let code_b = seal(&s, &s.b, &lan, &leader, 9);
    assert_ne!(code_a, code_b);

    // Without a session every page sends the visitor to the code form.
    let mut anonymous = Browser::new(&server);
    for path in [
        "/portal/inspection",
        "/portal/minutes",
        "/portal/minutes.pdf",
        "/portal/accident",
    ] {
        let p = anonymous.get(path);
        assert_eq!(
            (p.status, p.location.as_deref()),
            (303, Some("/portal")),
            "{path}"
        );
    }

    // What identifies B, and must never appear to A (and the other way round).
    let secrets = |e: &Enterprise, phone: &Phone| -> Vec<String> {
        let snap = phone.store.snapshot(e.inspection).unwrap();
        let mut v = vec![e.name.to_string(), e.tax.to_string(), e.inspection.to_string()];
        v.extend(snap.record.minutes.keys().cloned());
        for p in snap.record.photos.values() {
            v.push(p.image.sha256.clone());
            v.push(p.thumbnail.sha256.clone());
        }
        v
    };
    let photos = |e: &Enterprise| -> Vec<String> {
        lan.store
            .photos(e.inspection)
            .unwrap()
            .iter()
            .flat_map(|p| [p.image.sha256.clone(), p.thumbnail.sha256.clone()])
            .collect()
    };
    for (me, code, other) in [(&s.a, &code_a, &s.b), (&s.b, &code_b, &s.a)] {
        let mut browser = Browser::new(&server);
        let opened = browser.open(&code.grouped().to_lowercase());
        assert_eq!(opened.status, 303);
        assert_eq!(opened.location.as_deref(), Some("/portal/inspection"));
        let home = browser.get("/portal/inspection");
        assert_eq!(home.status, 200);
        let html = home.text();
        assert!(html.contains(me.name));
        assert!(html.contains("id=\"verify-status\""), "verification shown");
        assert!(
            html.contains("Biên bản xác thực"),
            "every signature verifies: {html}"
        );
        for item in me.violations {
            assert!(
                html.contains(&format!("data-item=\"{item}\"")),
                "violation {item} listed"
            );
        }
        assert!(html.contains("Luật 84/2015/QH13"), "legal basis shown");
        // Every URL the portal serves, with both enterprises' identifiers.
        let mut urls: Vec<String> = vec![
            "/portal".into(),
            "/portal/inspection".into(),
            "/portal/minutes".into(),
            "/portal/minutes.pdf".into(),
            "/portal/accident".into(),
        ];
        for item in me.violations.iter().chain(other.violations) {
            urls.push(format!("/portal/violations/{item}"));
        }
        for sha in photos(me).iter().chain(&photos(other)) {
            urls.push(format!("/portal/photos/{sha}"));
        }
        let theirs = secrets(other, &lan);
        for url in &urls {
            let p = browser.get(url);
            let body = p.text();
            for secret in &theirs {
                assert!(
                    !body.contains(secret.as_str()),
                    "{url} shows {secret} of the other enterprise"
                );
            }
            if url.contains("/portal/photos/") || url.contains("/portal/violations/") {
                let mine = photos(me).iter().any(|sha| url.ends_with(sha.as_str()))
                    || me.violations.iter().any(|i| url.ends_with(i));
                assert_eq!(p.status, if mine { 200 } else { 404 }, "{url}");
            } else {
                assert_eq!(p.status, 200, "{url}");
            }
        }
        // The PDF is the signed minutes of this enterprise, with the bundle attached.
        let pdf = browser.get("/portal/minutes.pdf").body;
        let report = kiemtra_core::minutes::verify_file(&pdf).unwrap();
        assert!(report.is_valid(), "{report}");
        assert_eq!(report.establishment.as_deref(), Some(me.name));
        // Reporting remediation of the other's violation is refused and records nothing.
        let p = browser.post_multipart(
            &format!("/portal/violations/{}", other.violations[0]),
            &[("sent_by", "Giám đốc"), ("text", "Đã khắc phục")],
            &[],
        );
        assert_eq!(p.status, 404);
    }
    lan.sync().unwrap();
    assert!(lan
        .store
        .remediation_reports(s.b.inspection, s.b.violations[0])
        .unwrap()
        .is_empty());
    assert!(lan
        .store
        .remediation_reports(s.a.inspection, s.b.violations[0])
        .unwrap()
        .is_empty());

    // A reports remediation of D4 with a photo; a bad file refuses the whole report.
    let minutes_before = lan.store.snapshot(s.a.inspection).unwrap().record.minutes;
    let mut a = Browser::new(&server);
    assert_eq!(a.open(code_a.as_str()).status, 303);
    let item = s.a.violations[1];
    let bad = a.post_multipart(
        &format!("/portal/violations/{item}"),
        &[
            ("sent_by", "Vũ Đức Thắng, Phó Giám đốc"),
            ("text", "Đã lắp che chắn"),
        ],
        &[("a.jpg", b"not a photo at all".to_vec())],
    );
    assert_eq!(bad.status, 400, "{}", bad.text());
    let sent = a.post_multipart(
        &format!("/portal/violations/{item}"),
        &[
            ("sent_by", "Vũ Đức Thắng, Phó Giám đốc"),
            ("text", "Đã lắp che chắn bộ phận truyền động của máy dập."),
        ],
        &[("che-chan.png", png(1200, 900, 42))],
    );
    assert_eq!(sent.status, 303, "{}", sent.text());
    let page = a.get(&format!("/portal/violations/{item}?sent=true"));
    assert!(page.text().contains("Đã nhận báo cáo khắc phục"));
    assert!(page.text().contains("Đã báo cáo khắc phục"), "status remediated");

    // The inspectors receive it on their next sync, with its photo.
    lan.sync().unwrap();
    let reports = lan.store.remediation_reports(s.a.inspection, item).unwrap();
    assert_eq!(reports.len(), 1, "the refused report left nothing");
    assert_eq!(reports[0].photos.len(), 1);
    assert_eq!(
        reports[0].text,
        "Đã lắp che chắn bộ phận truyền động của máy dập."
    );
    let client = kiemtra_core::sync::device::client(&lan.store, lan.key.clone()).unwrap();
    kiemtra_core::sync::blobs::download_photos(&lan.store, &client, s.a.inspection, false).unwrap();
    assert!(lan.store.has_blob(&reports[0].photos[0].image.sha256).unwrap());
    let v = lan.store.violations(s.a.inspection).unwrap();
    assert_eq!(
        v.iter().find(|v| v.item == item).unwrap().status,
        ViolationStatus::Remediated
    );
    // The sealed minutes are exactly as signed.
    assert_eq!(
        lan.store.snapshot(s.a.inspection).unwrap().record.minutes,
        minutes_before
    );

    // The inspector verifies it; the enterprise sees the verdict.
    lan.store
        .review_remediation(
            s.a.inspection,
            item,
            Verdict::Verified,
            Some("Đã kiểm tra thực tế"),
        )
        .unwrap();
    lan.sync().unwrap();
    leader.sync().unwrap();
    let v = leader.store.violations(s.a.inspection).unwrap();
    assert_eq!(
        v.iter().find(|v| v.item == item).unwrap().status,
        ViolationStatus::Verified
    );
    let home = a.get("/portal/inspection").text();
    assert!(home.contains("Đã xác nhận khắc phục"));
    assert!(
        home.contains("Biên bản xác thực"),
        "still verifies after remediation"
    );

    // The enterprise declares an accident; the inspectorate's register has it.
    let declared = a.post_form(
        "/portal/accident",
        &[
            ("occurred_at", "2025-05-10T09:30"),
            ("place", "Xưởng vỏ tàu số 2"),
            ("deaths", "1"),
            ("seriously_injured", "0"),
            ("lightly_injured", "1"),
            ("victims", "Nguyễn Văn Tâm\nLê Văn Sơn"),
            ("account", "Công nhân rơi từ giàn giáo khi hàn vỏ tàu."),
            ("person", "Vũ Đức Thắng, Phó Giám đốc"),
        ],
    );
    assert_eq!(declared.status, 200, "{}", declared.text());
    assert!(declared.text().contains("Đã ghi nhận khai báo"));
    let overview: serde_json::Value = ureq::get(&server.url("/admin/overview.json?year=2025"))
        .header("Authorization", &format!("Bearer {}", s.admin_token))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(overview["fatal_accidents"], 1);
    let t8: Vec<_> = overview["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["target"] == "8" && t["year"] == 2025)
        .collect();
    assert_eq!(t8.len(), 1);
    assert_eq!(
        (t8[0]["numerator"].as_u64(), t8[0]["denominator"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(t8[0]["unit"]["code"], "hp.hong-bang");
    let unauthorised = ureq::get(&server.url("/admin/overview.json")).call();
    assert!(matches!(unauthorised, Err(ureq::Error::StatusCode(401))));
    server.stop();
    let _ = (s.lan, Verdict::StillOpen);
}

#[test]
fn guessing_codes_is_limited_and_never_tells_whether_a_code_exists() {
    let dir = tempfile::tempdir().unwrap();
    let s = set_up(dir.path());
    let server = Server::start(dir.path(), &["--portal-max-failures", "3"]);
    let leader = Phone::enrolled(&server, &s.codes[0], "Điện thoại trưởng đoàn");
    let lan = Phone::enrolled(&server, &s.codes[1], "Điện thoại của Lan");
    lan.sync().unwrap();
    leader.sync().unwrap();
    let code = seal(&s, &s.a, &lan, &leader, 5);

    let mut b = Browser::new(&server);
    let unknown = AccessCode::generate().unwrap();
    let wrong = b.open(unknown.as_str());
    let malformed = b.open("12345");
    assert_eq!((wrong.status, malformed.status), (401, 401));
    // An unknown code and a malformed one read the same: nothing tells them apart.
    assert_eq!(wrong.text(), malformed.text());
    assert!(!b.has_cookie("kiemtra_portal"));
    let third = b.open(&AccessCode::generate().unwrap().grouped());
    assert_eq!(third.status, 401);
    // Locked: the right code now gets the same answer as any other.
    let right = b.open(code.as_str());
    let other = b.open(unknown.as_str());
    assert_eq!((right.status, other.status), (429, 429));
    assert_eq!(right.text(), other.text());
    assert!(!b.has_cookie("kiemtra_portal"), "no session while locked");
    server.stop();
}

/// One wrong code from the portal's form, as the client `forwarded_for` (an
/// `X-Forwarded-For` header) when given.
fn attempt(server: &Server, forwarded_for: Option<&str>) -> u16 {
    let agent = agent();
    let (cookie, token) = kiemtra_tests::portal_form_token(&agent, server);
    let mut req = agent.post(server.url("/portal")).header("Cookie", &cookie);
    if let Some(f) = forwarded_for {
        req = req.header("X-Forwarded-For", f);
    }
    let code = AccessCode::generate().unwrap();
    req.send_form([("code", code.as_str()), ("csrf", &token)])
        .unwrap()
        .status()
        .as_u16()
}

/// Behind a reverse proxy every request comes from the proxy: named with
/// `--trusted-proxy`, the guessing limit counts each forwarded client on its
/// own, so one guesser does not lock every establishment out; and when the
/// proxy ends TLS, the establishment's cookie is `Secure` and the verify link
/// printed on its minutes is `https://`.
#[test]
fn behind_a_trusted_proxy_the_limit_is_per_client() {
    let dir = tempfile::tempdir().unwrap();
    let s = set_up(dir.path());
    let args = ["--portal-max-failures", "2", "--trusted-proxy", "127.0.0.1"];
    let server = Server::start(dir.path(), &args);
    let guesser = Some("203.0.113.5");
    assert_eq!(attempt(&server, guesser), 401);
    assert_eq!(attempt(&server, guesser), 401);
    assert_eq!(attempt(&server, guesser), 429);
    // Another establishment behind the same proxy still gets in line.
    assert_eq!(attempt(&server, Some("198.51.100.7")), 401);
    // The guesser cannot shed the limit by writing an address of its own:
    // the proxy appends the real one, and only that is read.
    assert_eq!(attempt(&server, Some("192.0.2.99, 203.0.113.5")), 429);

    let leader = Phone::enrolled(&server, &s.codes[0], "Điện thoại trưởng đoàn");
    let lan = Phone::enrolled(&server, &s.codes[1], "Điện thoại của Lan");
    lan.sync().unwrap();
    leader.sync().unwrap();
    let code = seal(&s, &s.a, &lan, &leader, 9);
    let agent = agent();
    let (csrf_cookie, token) = kiemtra_tests::portal_form_token(&agent, &server);
    let opened = agent
        .post(server.url("/portal"))
        .header("Cookie", &csrf_cookie)
        .header("X-Forwarded-For", "198.51.100.20")
        .header("X-Forwarded-Proto", "https")
        .send_form([("code", code.as_str()), ("csrf", &token)])
        .unwrap();
    assert_eq!(opened.status().as_u16(), 303);
    let set_cookie = opened
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("kiemtra_portal="))
        .unwrap();
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap();
    let minutes = |proto: &str| {
        agent
            .get(server.url("/portal/minutes"))
            .header("Cookie", cookie)
            .header("X-Forwarded-Proto", proto)
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap()
    };
    let host = server.url("").trim_start_matches("http://").to_string();
    assert!(minutes("https").contains(&format!("https://{host}/verify/")));
    assert!(minutes("http").contains(&format!("http://{host}/verify/")));
    server.stop();
}

/// From anyone not named as a proxy, `X-Forwarded-For` is just text: a
/// guesser changing it on every try is limited all the same.
#[test]
fn a_forwarded_header_from_an_untrusted_peer_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--portal-max-failures", "2"]);
    assert_eq!(attempt(&server, Some("203.0.113.1")), 401);
    assert_eq!(attempt(&server, Some("203.0.113.2")), 401);
    assert_eq!(attempt(&server, Some("203.0.113.3")), 429);
    server.stop();
}

/// Sessions live in the server's storage: an enterprise's portal session
/// and an official's overview session both survive a restart of the
/// server (killed, not stopped), and signing out ends them for good.
#[test]
fn sessions_survive_a_restart_and_signing_out_ends_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = set_up(dir.path());
    let server = Server::start(dir.path(), &[]);
    let (leader, lan) = phones(&s, &server);
    let code = seal(&s, &s.a, &lan, &leader, 5);

    let mut enterprise = Browser::new(&server);
    assert_eq!(enterprise.open(&code.grouped()).status, 303);
    assert_eq!(enterprise.get("/portal/inspection").status, 200);
    let mut official = Browser::new(&server);
    let form = official.get("/admin/login");
    let csrf = kiemtra_tests::csrf_field(&String::from_utf8(form.body).unwrap());
    let signed_in = official.post_form_as_is("/admin/login", &[("token", &s.admin_token), ("csrf", &csrf)]);
    assert_eq!(signed_in.status, 303);
    assert_eq!(official.get("/admin").status, 200);

    let addr = server.addr.clone();
    server.kill();
    let server = Server::start_on(dir.path(), &addr, &[]);
    let home = enterprise.get("/portal/inspection");
    assert_eq!(home.status, 200, "the restart signed the enterprise out");
    assert!(home.text().contains(s.a.name));
    assert_eq!(
        official.get("/admin").status,
        200,
        "the restart signed the official out"
    );

    // Signing out ends the session on the server: the old cookie opens nothing, even after a restart.
    let portal_cookie = enterprise.cookie.clone();
    let admin_cookie = official.cookie.clone();
    enterprise.post_form("/portal/logout", &[]);
    official.get("/admin/logout");
    server.kill();
    let server = Server::start_on(dir.path(), &addr, &[]);
    let mut replay = Browser::new(&server);
    replay.cookie = portal_cookie;
    let p = replay.get("/portal/inspection");
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/portal")));
    replay.cookie = admin_cookie;
    let p = replay.get("/admin");
    assert_ne!(
        p.status, 200,
        "a signed-out admin cookie still opens the overview"
    );
}

#[test]
fn a_photo_is_served_only_as_the_image_its_operation_declares() {
    let dir = tempfile::tempdir().unwrap();
    let s = set_up(dir.path());
    let server = Server::start(dir.path(), &[]);
    let leader = Phone::enrolled(&server, &s.codes[0], "Điện thoại trưởng đoàn");
    let lan = Phone::enrolled(&server, &s.codes[1], "Điện thoại của Lan");
    lan.sync().unwrap();
    leader.sync().unwrap();
    let code = seal(&s, &s.a, &lan, &leader, 3);
    let photo = lan.store.photos(s.a.inspection).unwrap().remove(0);
    let (image, thumb) = (photo.image.sha256.clone(), photo.thumbnail.sha256.clone());
    let mut browser = Browser::new(&server);
    assert_eq!(browser.open(&code.grouped()).status, 303);

    // Received as declared: shown, and served as a JPEG the browser may not sniff.
    let html = browser.get("/portal/inspection").text();
    assert!(
        html.contains(&format!("src=\"/portal/photos/{thumb}\"")),
        "{html}"
    );
    assert!(!html.contains("chưa nhận được"));
    for sha in [&image, &thumb] {
        let p = browser.get(&format!("/portal/photos/{sha}"));
        assert_eq!(p.status, 200);
        assert_eq!(p.content_type.as_deref(), Some("image/jpeg"));
        assert_eq!(p.content_type_options.as_deref(), Some("nosniff"));
        assert!(p.body.starts_with(&[0xFF, 0xD8, 0xFF]));
    }

    // The thumbnail never arrived: the page says so instead of a broken image.
    let blobs = dir.path().join(kiemtra_server::app::BLOB_DIR);
    std::fs::remove_file(blobs.join(&thumb)).unwrap();
    let html = browser.get("/portal/inspection").text();
    assert!(html.contains("Ảnh chưa nhận được"), "{html}");
    assert!(!html.contains(&format!("/portal/photos/{thumb}")), "{html}");
    let p = browser.get(&format!("/portal/photos/{thumb}"));
    assert_eq!(p.status, 404);
    assert!(p.text().contains("chưa nhận được"));

    // Bytes under the image's name that are not the image (a page with a
    // script): never served, whatever their name.
    let hostile = b"<html><script>alert(document.cookie)</script></html>";
    std::fs::write(blobs.join(&image), hostile).unwrap();
    let p = browser.get(&format!("/portal/photos/{image}"));
    assert_eq!(p.status, 404);
    assert!(!p.text().contains("<script>alert"));
    assert_ne!(p.content_type.as_deref(), Some("image/jpeg"));
}

/// An official's view of an overview page, with the admin token.
fn staff_page(server: &Server, token: &str, path: &str) -> String {
    agent()
        .get(server.url(path))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Accept", "text/html")
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

/// Markup in a registered name: what the register holds is text, and every
/// page shows it as text.
const HOSTILE: &str = "Công ty <script>alert(\"x\")</script> & <b>Bạch Đằng</b>";
const HOSTILE_ESCAPED: &str =
    "Công ty &#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#60;b&#62;Bạch Đằng&#60;/b&#62;";

/// The templates escape what they show: an establishment's name with
/// markup in it reads as that text on the portal's pages and on the
/// overview's, never as markup.
#[test]
fn markup_in_shown_text_is_escaped_on_the_portal_and_the_overview() {
    let dir = tempfile::tempdir().unwrap();
    let s = set_up_named(dir.path(), HOSTILE);
    let server = Server::start(dir.path(), &[]);
    let (leader, lan) = phones(&s, &server);
    let code = seal(&s, &s.a, &lan, &leader, 3);

    let mut a = Browser::new(&server);
    assert_eq!(a.open(code.as_str()).status, 303);
    let item = s.a.violations[0];
    let pages = [
        "/portal/inspection".to_string(),
        format!("/portal/violations/{item}"),
        "/portal/accident".to_string(),
    ];
    for path in &pages {
        let page = a.get(path);
        assert_eq!(page.status, 200, "{path}");
        let html = page.text();
        assert!(html.contains(HOSTILE_ESCAPED), "{path}: {html}");
        assert!(
            !html.contains("<script>") && !html.contains("<b>Bạch"),
            "{path}: {html}"
        );
    }
    // The tab title too (the layout's `<title>`).
    let home = a.get("/portal/inspection").text();
    assert!(
        home.contains(&format!("<title>{HOSTILE_ESCAPED} – Kiemtra</title>")),
        "{home}"
    );

    // The register lists the establishment (entry form) and its declared accident.
    let declared = a.post_form(
        "/portal/accident",
        &[
            ("occurred_at", "2025-05-10T09:30"),
            ("place", "Xưởng <i>số 2</i>"),
            ("account", "Công nhân bị thương ở tay."),
            ("lightly_injured", "1"),
            ("person", "Vũ Đức Thắng"),
        ],
    );
    assert_eq!(declared.status, 200, "{}", declared.text());
    let register = staff_page(&server, &s.admin_token, "/admin/accidents");
    assert!(register.contains("id=\"accidents\""), "{register}");
    assert!(
        register.contains(&format!("\">{HOSTILE_ESCAPED}</option>")),
        "{register}"
    );
    assert!(
        register.contains(&format!("<td>{HOSTILE_ESCAPED}</td>")),
        "{register}"
    );
    assert!(
        register.contains("Xưởng &#60;i&#62;số 2&#60;/i&#62;"),
        "{register}"
    );
    let records = staff_page(
        &server,
        &s.admin_token,
        &format!("/admin/records?inspection={}", s.a.inspection),
    );
    assert!(records.contains(HOSTILE_ESCAPED), "{records}");
    for html in [&register, &records] {
        assert!(
            !html.contains("<script>") && !html.contains("<b>Bạch") && !html.contains("<i>"),
            "{html}"
        );
    }
    server.stop();
}

/// The form token the page carried, replaced by another one of the right shape.
const WRONG_TOKEN: &str = "00000000000000000000000000000000000000000000000000000000000000ff";

/// Every portal form refuses a post without its page's form token, or with
/// another one, with a page that says so; and such a post changes nothing:
/// no session opened or closed, no report, no accident.
#[test]
fn portal_forms_without_their_token_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = set_up(dir.path());
    let server = Server::start(dir.path(), &["--portal-max-failures", "2"]);
    let (leader, lan) = phones(&s, &server);
    let code = seal(&s, &s.a, &lan, &leader, 7);
    let refused = |p: &Page, what: &str| {
        assert_eq!(p.status, 403, "{what}: {}", p.text());
        assert!(p.text().contains("(CSRF)"), "{what}: {}", p.text());
    };

    // The code form: neither opens a session nor counts as a wrong code
    // (the limit is 2: four refused posts would have locked it).
    let mut b = Browser::new(&server);
    assert_eq!(b.get("/portal").status, 200);
    for _ in 0..2 {
        refused(
            &b.post_form_as_is("/portal", &[("code", code.as_str())]),
            "no token",
        );
        refused(
            &b.post_form_as_is("/portal", &[("code", code.as_str()), ("csrf", WRONG_TOKEN)]),
            "wrong token",
        );
    }
    assert!(!b.has_cookie("kiemtra_portal"));
    // A post from another site carries the field but not this browser's cookie.
    let mut stranger = Browser::new(&server);
    let token = b.form_token.clone().unwrap();
    refused(
        &stranger.post_form_as_is("/portal", &[("code", code.as_str()), ("csrf", &token)]),
        "no cookie",
    );
    assert_eq!(b.open(code.as_str()).status, 303, "the code still opens");
    assert!(b.has_cookie("kiemtra_portal"));

    // The remediation report (multipart), the accident declaration, the sign-out.
    let item = s.a.violations[1];
    let report = format!("/portal/violations/{item}");
    let fields = [("sent_by", "Vũ Đức Thắng"), ("text", "Đã lắp che chắn")];
    let photo = [("a.png", png(400, 300, 9))];
    let blobs = || {
        std::fs::read_dir(dir.path().join(kiemtra_server::app::BLOB_DIR))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let blobs_before = blobs();
    refused(
        &b.post_multipart_as_is(&report, &fields, &photo),
        "report, no token",
    );
    let mut wrong = vec![("csrf", WRONG_TOKEN)];
    wrong.extend_from_slice(&fields);
    refused(
        &b.post_multipart_as_is(&report, &wrong, &photo),
        "report, wrong token",
    );
    let accident = [
        ("occurred_at", "2025-05-10T09:30"),
        ("place", "Xưởng vỏ tàu số 2"),
        ("deaths", "1"),
        ("account", "Công nhân rơi từ giàn giáo."),
        ("person", "Vũ Đức Thắng"),
    ];
    refused(
        &b.post_form_as_is("/portal/accident", &accident),
        "accident, no token",
    );
    let mut wrong = accident.to_vec();
    wrong.push(("csrf", WRONG_TOKEN));
    refused(
        &b.post_form_as_is("/portal/accident", &wrong),
        "accident, wrong token",
    );
    refused(&b.post_form_as_is("/portal/logout", &[]), "logout, no token");
    refused(
        &b.post_form_as_is("/portal/logout", &[("csrf", WRONG_TOKEN)]),
        "logout, wrong token",
    );

    // Nothing changed: still signed in, no report, no accident.
    assert_eq!(b.get("/portal/inspection").status, 200, "still signed in");
    let page = b.get(&report).text();
    assert!(!page.contains("Báo cáo đã gửi"), "{page}");
    lan.sync().unwrap();
    assert!(lan
        .store
        .remediation_reports(s.a.inspection, item)
        .unwrap()
        .is_empty());
    assert_eq!(blobs(), blobs_before, "a refused report stored its photo");
    let register = staff_page(&server, &s.admin_token, "/admin/accidents");
    assert!(!register.contains("Xưởng vỏ tàu số 2"), "{register}");

    // With the page's token, each goes through.
    let sent = b.post_multipart(&report, &fields, &photo);
    assert_eq!(sent.status, 303, "{}", sent.text());
    assert!(
        blobs() > blobs_before,
        "the photo is stored where it is looked for"
    );
    b.get("/portal/accident");
    assert_eq!(b.post_form("/portal/accident", &accident).status, 200);
    let register = staff_page(&server, &s.admin_token, "/admin/accidents");
    assert!(register.contains("Xưởng vỏ tàu số 2"), "{register}");
    b.get("/portal/inspection");
    assert_eq!(b.post_form("/portal/logout", &[]).status, 303);
    let p = b.get("/portal/inspection");
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/portal")));
    server.stop();
}
