//! Two `kiemtra-server` processes on one PostgreSQL database (each with its
//! own data folder, the same server key), as behind a load balancer where a
//! request may land on either: a device takes its challenge from one and
//! opens its session at the other, then syncs with its requests alternating
//! between them; a signed request accepted by one is refused as a replay by
//! both; a used challenge is refused everywhere; a portal guesser and a
//! password guesser switching instances are locked after the limit in
//! total; an official types the password into one and the second factor's
//! code into the other; an import started at one shows its progress at the
//! other.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use kiemtra_core::access_code::AccessCode;
use kiemtra_core::sync::transport::{HttpRequest, HttpResponse, HttpTransport, UreqTransport};
use kiemtra_core::sync::{self, device, NoProgress, SyncError};
use kiemtra_server::accounts::{NewAccount, Role};
use kiemtra_server::db::Read;
use kiemtra_server::server_key::ServerKey;
use kiemtra_server::writer::Writer;
use kiemtra_storage::Storage;
use kiemtra_storage_postgres::test_cluster::TestCluster;
use kiemtra_storage_postgres::PgStorage;
use kiemtra_tests::field::Phone;
use kiemtra_tests::inspectorate::team;
use kiemtra_tests::{csrf_field, set_cookie_pair, staff_sign_in, Server};

const LOGIN: &str = "quantri";
const PASSWORD: &str = "Quản trị Hải Phòng 2025!";
/// A planner without a second factor.
const PLANNER: &str = "kehoach";
const PLANNER_PASSWORD: &str = "lập kế hoạch kiểm tra";
const PORTAL_LIMIT: u32 = 4;

/// What the set-up made: enrolment codes and the official's second factor.
struct Setup {
    codes: Vec<String>,
    totp: totp_rs::Totp,
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Inspectors, enrolment codes and an administrator whose second factor is
/// on, written into the database with the writer (as `admin` would on a
/// stopped server); the server key goes into the database.
fn set_up(url: &str, key_dir: &Path) -> Setup {
    let store: Arc<dyn Storage> = Arc::new(PgStorage::open(url).unwrap());
    let key = Arc::new(ServerKey::in_storage(&*store, key_dir).unwrap());
    let mut w = Writer::new(store, key).unwrap();
    let t = team(&mut w);
    let codes = vec![
        w.enrol_code(t.lan, 24).unwrap(),
        w.enrol_code(t.minh, 24).unwrap(),
    ];
    w.create_account(NewAccount {
        login: LOGIN.into(),
        display_name: "Trần Thị Quản".into(),
        role: Role::Administrator,
        inspector: None,
        password: PASSWORD.into(),
    })
    .unwrap();
    w.create_account(NewAccount {
        login: PLANNER.into(),
        display_name: "Phạm Văn Kế".into(),
        role: Role::Planner,
        inspector: None,
        password: PLANNER_PASSWORD.into(),
    })
    .unwrap();
    w.start_second_factor(LOGIN).unwrap();
    w.commit().unwrap();
    let secret = w
        .db()
        .account(LOGIN)
        .unwrap()
        .unwrap()
        .second_factor
        .pending
        .unwrap();
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::from(secret))
        .build()
        .unwrap();
    // Confirmed with the previous step's code, so the current one is left for signing in.
    let now = unix_now();
    let previous = totp.generate(now - 30).to_string();
    assert_eq!(w.confirm_second_factor(LOGIN, &previous, now).unwrap(), Ok(()));
    w.commit().unwrap();
    Setup { codes, totp }
}

/// Instance A and instance B on one database.
struct Pair {
    a: Server,
    b: Server,
    setup: Setup,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

fn start_pair() -> Pair {
    let url = TestCluster::shared().fresh_database().unwrap();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let setup = set_up(&url, dir_a.path());
    // One key for both (certificates, minutes): it is in the database, and
    // neither data folder holds one.
    assert!(!dir_b.path().join("server.key").exists());
    let limit = PORTAL_LIMIT.to_string();
    let args = [
        "--database",
        url.as_str(),
        "--portal-max-failures",
        limit.as_str(),
    ];
    let a = Server::start(dir_a.path(), &args);
    let b = Server::start(dir_b.path(), &args);
    Pair {
        a,
        b,
        setup,
        _dirs: (dir_a, dir_b),
    }
}

/// Where a request went and what came back.
#[derive(Clone)]
struct Sent {
    to: &'static str,
    request: HttpRequest,
    response: HttpResponse,
}

/// The device's HTTP stack behind a load balancer of the test's making:
/// challenges go to A, sessions to B, and everything else to `rest` (A, B,
/// or each in turn); every exchange is recorded.
struct Balancer {
    a: String,
    b: String,
    rest: Mutex<&'static str>,
    turn: AtomicUsize,
    sent: Mutex<Vec<Sent>>,
    http: UreqTransport,
}

impl Balancer {
    fn new(pair: &Pair) -> Self {
        Self {
            a: pair.a.url(""),
            b: pair.b.url(""),
            rest: Mutex::new("A"),
            turn: AtomicUsize::new(0),
            sent: Mutex::new(Vec::new()),
            http: UreqTransport::new(),
        }
    }

    fn base(&self, to: &str) -> &str {
        if to == "A" {
            &self.a
        } else {
            &self.b
        }
    }

    /// Sends `request` (addressed to A, as the device knows the server) to `to` as is.
    fn send_to(&self, to: &'static str, mut request: HttpRequest) -> HttpResponse {
        let path = request.url.strip_prefix(&self.a).unwrap().to_string();
        request.url = format!("{}{path}", self.base(to));
        self.http.send(request).unwrap()
    }

    fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap().clone()
    }
}

impl HttpTransport for Balancer {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, SyncError> {
        let path = request.url.strip_prefix(&self.a).unwrap_or("");
        let to = if path.starts_with("/api/v1/auth/challenge") {
            "A"
        } else if path.starts_with("/api/v1/auth/session") {
            "B"
        } else {
            match *self.rest.lock().unwrap() {
                "turns" => ["A", "B"][self.turn.fetch_add(1, Ordering::Relaxed) % 2],
                one => one,
            }
        };
        let response = self.send_to(to, request.clone());
        self.sent.lock().unwrap().push(Sent {
            to,
            request,
            response: response.clone(),
        });
        Ok(response)
    }
}

fn error_code(r: &HttpResponse) -> String {
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
    v["code"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_device_signs_in_across_instances_and_a_replay_is_refused_by_both() {
    let pair = start_pair();
    // Enrolled at A; the device knows only A's address.
    let phone = Phone::enrolled(&pair.a, &pair.setup.codes[0], "Điện thoại của Lan");
    let balancer = Arc::new(Balancer::new(&pair));
    let client = device::client_with_transport(&phone.store, phone.key.clone(), balancer.clone()).unwrap();

    // Challenge from A, session opened at B, then a signed pull at A.
    client.pull(0, 10).unwrap();
    let sent = balancer.sent();
    let route: Vec<(&str, &str, u16)> = sent
        .iter()
        .map(|s| {
            let path = s.request.url.rsplit_once("/api/v1/").unwrap().1;
            (s.to, path.split('?').next().unwrap(), s.response.status)
        })
        .collect();
    assert_eq!(
        route,
        [
            ("A", "auth/challenge", 200),
            ("B", "auth/session", 200),
            ("A", "ops", 200)
        ]
    );

    // The challenge B took is spent at A too.
    let session_request = sent[1].request.clone();
    let again = balancer.send_to("A", session_request.clone());
    assert_eq!(
        (again.status, error_code(&again).as_str()),
        (401, "bad_challenge")
    );
    let again = balancer.send_to("B", session_request);
    assert_eq!(
        (again.status, error_code(&again).as_str()),
        (401, "bad_challenge")
    );

    // The pull A accepted, sent again word for word: a replay at B and at A.
    let pulled = sent[2].request.clone();
    for to in ["B", "A"] {
        let replayed = balancer.send_to(to, pulled.clone());
        assert_eq!(
            (replayed.status, error_code(&replayed).as_str()),
            (401, "replayed"),
            "at {to}"
        );
    }

    // The session opened at B serves at B without signing in again, and a
    // whole sync with its requests alternating between the instances works.
    *balancer.rest.lock().unwrap() = "B";
    client.pull(0, 10).unwrap();
    *balancer.rest.lock().unwrap() = "turns";
    sync::sync(&phone.store, &client, &NoProgress).unwrap();
    let sent = balancer.sent();
    let challenges = sent
        .iter()
        .filter(|s| s.request.url.ends_with("/auth/challenge"))
        .count();
    assert_eq!(challenges, 1, "the device had to sign in again");
    let signed: Vec<&Sent> = sent
        .iter()
        .filter(|s| s.request.url.contains("/api/v1/ops"))
        .collect();
    assert!(signed.iter().any(|s| s.to == "A") && signed.iter().any(|s| s.to == "B"));
    assert!(signed.iter().all(|s| s.response.status == 200));
    // Every nonce the device sent was taken once, wherever it went.
    let nonces: Vec<&str> = signed
        .iter()
        .flat_map(|s| s.request.headers.iter().filter(|(k, _)| k == "x-kiemtra-nonce"))
        .map(|(_, v)| v.as_str())
        .collect();
    let distinct: std::collections::HashSet<_> = nonces.iter().collect();
    assert_eq!(distinct.len(), nonces.len());
}

/// One wrong portal code, posted from the form as a browser would.
fn portal_attempt(server: &Server) -> u16 {
    let agent = agent();
    let (cookie, token) = kiemtra_tests::portal_form_token(&agent, server);
    let code = AccessCode::generate().unwrap();
    agent
        .post(server.url("/portal"))
        .header("Cookie", &cookie)
        .send_form([("code", code.as_str()), ("csrf", &token)])
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn guessers_switching_instances_are_locked_after_the_limit_in_total() {
    let pair = start_pair();
    let mut answers = Vec::new();
    for i in 0..PORTAL_LIMIT {
        let server = if i % 2 == 0 { &pair.a } else { &pair.b };
        answers.push(portal_attempt(server));
    }
    assert_eq!(answers, vec![401; PORTAL_LIMIT as usize]);
    // Two wrong codes at each: locked at both.
    assert_eq!(portal_attempt(&pair.a), 429);
    assert_eq!(portal_attempt(&pair.b), 429);

    // Staff passwords have their own limit (10 a window, the default),
    // counted across the instances the same way.
    let agent = agent();
    let wrong = [("login", PLANNER), ("password", "not the password")];
    let answers: Vec<u16> = (0..10)
        .map(|i| {
            let server = if i % 2 == 0 { &pair.a } else { &pair.b };
            staff_sign_in(&agent, server, &wrong, None).0
        })
        .collect();
    assert_eq!(answers, vec![401; 10]);
    let right = [("login", PLANNER), ("password", PLANNER_PASSWORD)];
    assert_eq!(staff_sign_in(&agent, &pair.a, &right, None).0, 429);
    assert_eq!(staff_sign_in(&agent, &pair.b, &right, None).0, 429);
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// The planner uploads a list at A; the progress page, reloaded at B, shows
/// it running and then finished with its refused line.
#[test]
fn an_import_started_at_one_instance_shows_its_progress_at_the_other() {
    let pair = start_pair();
    let agent = agent();
    let right = [("login", PLANNER), ("password", PLANNER_PASSWORD)];
    let (status, session) = staff_sign_in(&agent, &pair.a, &right, None);
    assert_eq!(status, 303);
    let session = session.unwrap().split(';').next().unwrap().to_string();
    let mut page = agent.get(pair.a.url("/admin/login")).call().unwrap();
    let csrf_cookie = set_cookie_pair(&page, "kiemtra_csrf").unwrap();
    let csrf = csrf_field(&page.body_mut().read_to_string().unwrap());
    let cookies = format!("{session}; {csrf_cookie}");

    let mut csv = String::from("kind,name,tax_code,street,unit,sector,workforce,high_risk\n");
    for i in 0..1200 {
        csv.push_str(&format!(
            "enterprise,Công ty số {i},02001{i:05},Số {i} Lạch Tray,hp.ngo-quyen,Cơ khí,{},false\n",
            10 + i
        ));
    }
    csv.push_str("enterprise,Không có đơn vị,0200999999,Số 1,hp.khong-co,Cơ khí,5,false\n");
    let boundary = "kiemtra-test-boundary-5e2a";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"co-so.csv\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let res = agent
        .post(pair.a.url("/admin/establishments/import"))
        .header("Cookie", &cookies)
        .header("Accept", "text/html")
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send(body.as_bytes())
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let progress = res
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(progress.starts_with("/admin/imports/"), "{progress}");

    let started = std::time::Instant::now();
    let finished = loop {
        let mut res = agent
            .get(pair.b.url(&progress))
            .header("Cookie", &cookies)
            .header("Accept", "text/html")
            .call()
            .unwrap();
        let page = res.body_mut().read_to_string().unwrap();
        assert_eq!(res.status().as_u16(), 200, "{page}");
        if page.contains("id=\"finished\"") {
            break page;
        }
        assert!(page.contains("http-equiv=\"refresh\""), "{page}");
        assert!(
            started.elapsed().as_secs() < 120,
            "the import did not finish: {page}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(
        finished.contains("nhập 1200 cơ sở, 1 dòng bị từ chối"),
        "{finished}"
    );
    assert!(finished.contains("<td class=\"num\">1202</td>"), "{finished}");
}

/// A browser's cookies (names and values; paths ignored).
#[derive(Default)]
struct Jar(std::collections::BTreeMap<String, String>);

impl Jar {
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, res: &ureq::http::Response<ureq::Body>) {
        for v in res.headers().get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_string(), value.to_string());
            }
        }
    }
}

#[test]
fn the_password_at_one_instance_and_the_code_at_the_other_sign_in() {
    let pair = start_pair();
    let agent = agent();
    let mut jar = Jar::default();
    let location = |res: &ureq::http::Response<ureq::Body>| {
        res.headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default()
    };

    // The password, at A.
    let mut page = agent.get(pair.a.url("/admin/login")).call().unwrap();
    jar.keep(&page);
    let token = csrf_field(&page.body_mut().read_to_string().unwrap());
    let res = agent
        .post(pair.a.url("/admin/login"))
        .header("Cookie", &jar.header())
        .send_form([("login", LOGIN), ("password", PASSWORD), ("csrf", &token)])
        .unwrap();
    assert_eq!(
        (res.status().as_u16(), location(&res).as_str()),
        (303, "/admin/login/code")
    );
    jar.keep(&res);
    let pending = format!("kiemtra_signin={}", jar.0["kiemtra_signin"]);
    assert!(!jar.0.contains_key("kiemtra_admin"), "a session before the code");

    // The code, at B: it knows the pending sign-in A opened.
    let mut page = agent
        .get(pair.b.url("/admin/login/code"))
        .header("Cookie", &jar.header())
        .call()
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    jar.keep(&page);
    let token = csrf_field(&page.body_mut().read_to_string().unwrap());
    let code = pair.setup.totp.generate(unix_now()).to_string();
    let res = agent
        .post(pair.b.url("/admin/login/code"))
        .header("Cookie", &jar.header())
        .send_form([("code", code.as_str()), ("csrf", &token)])
        .unwrap();
    assert_eq!((res.status().as_u16(), location(&res).as_str()), (303, "/admin"));
    assert!(set_cookie_pair(&res, "kiemtra_admin").is_some());
    jar.keep(&res);

    // Signed in at both; the pending sign-in is closed at both.
    for server in [&pair.a, &pair.b] {
        let res = agent
            .get(server.url("/admin/account"))
            .header("Cookie", &jar.header())
            .header("Accept", "text/html")
            .call()
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        assert!(res.into_body().read_to_string().unwrap().contains(LOGIN));
        let res = agent
            .get(server.url("/admin/login/code"))
            .header("Cookie", &pending)
            .call()
            .unwrap();
        assert_eq!(
            (res.status().as_u16(), location(&res).as_str()),
            (303, "/admin/login")
        );
    }
}
