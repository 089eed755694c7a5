//! The crash matrix of issue 11, on the real binary: the `kiemtra-server
//! serve` process is SIGKILLed at random moments while phones push answers,
//! photos and minutes signatures, while devices enrol and while an
//! establishment sends a remediation report through the portal; and the
//! `kiemtra-server admin` process is SIGKILLed mid-publication (a template
//! version, a CSV of establishments, an enrolment code). After every kill the
//! data folder is opened in-process, exactly as the crash left it (no
//! repair), and must show:
//!
//! - the records are the merge of the log (`replay::check` holds);
//! - the log is numbered 1..=head with no gap, the op-id index agrees with
//!   it, every operation id is in it once and every (device, seq) once;
//! - every operation a device was told was Accepted or Duplicate is in it,
//!   and no device holds a refusal (this workload is well-formed, so any
//!   refusal is one the crash caused);
//! - every server-side write that was acknowledged (a remediation report
//!   answered 303, an enrolment answered Ok, an admin command that exited 0)
//!   is in it, and an interrupted CSV import is there whole or not at all.
//!
//! At the end the server restarts, every device syncs until nothing is
//! pending, and a fresh phone pulls every operation of the log exactly once
//! and downloads every photo whole.
//!
//! `KIEMTRA_CRASH_KILLS` sets the number of kills (default 60),
//! `KIEMTRA_CRASH_SEED` replays a run (the seed is printed at the start and in
//! every assertion), `KIEMTRA_CRASH_BUDGET_SECS` bounds the rounds' time
//! (default 1.5 s a kill; the test stops killing, and says so, when it is
//! spent).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiemtra_core::access_code::AccessCode;
use kiemtra_core::answer::{AnswerValue, YesNoNa};
use kiemtra_core::codec::from_cbor;
use kiemtra_core::identity::{FileKeyStore, KeyStore};
use kiemtra_core::ids::{DeviceId, InspectionId, InspectorId, OpId};
use kiemtra_core::inspection::Status;
use kiemtra_core::ops::{Operation, Payload};
use kiemtra_core::store::Store;
use kiemtra_core::sync::wire::CertificateBody;
use kiemtra_core::sync::{self, device, NoProgress, SyncError};
use kiemtra_server::storage::{SledStorage, Storage};
use kiemtra_tests::field::{answer_rest_except, minutes_info, png};
use kiemtra_tests::inspectorate::{assign, enterprise, team, Team};
use kiemtra_tests::{server_binary, Server};

/// SplitMix64: a few lines, seedable, and the same sequence on every
/// machine, which is all a replayable crash schedule needs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// A kill delay, uniform between 0 and a little past the expected
    /// duration of the work, so kills land early, late and just after.
    fn delay(&mut self, expected: Duration) -> Duration {
        let max = (expected.as_micros() as u64 * 5 / 4).max(2_000);
        Duration::from_micros(self.range(0, max))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    /// Bursts of answers from two phones, pushed concurrently.
    Answers,
    /// Photos (operation and blob upload).
    Photos,
    /// An inspector closes findings, draws up and signs the minutes.
    SealDraw,
    /// The leader's signature, which seals the minutes.
    SealSign,
    /// An establishment's remediation report through the portal.
    Remediation,
    /// A new device enrols.
    Enrol,
    /// `admin publish-template` of a new template version.
    AdminTemplate,
    /// `admin import-facilities` of a CSV.
    AdminImport,
    /// `admin enrol-code`.
    AdminEnrolCode,
}

impl Kind {
    fn is_admin(self) -> bool {
        matches!(
            self,
            Kind::AdminTemplate | Kind::AdminImport | Kind::AdminEnrolCode
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A phone: a core store and a device key in a folder of its own.
struct Device {
    name: String,
    _dir: tempfile::TempDir,
    store: Store,
    key: Arc<FileKeyStore>,
}

impl Device {
    fn new(name: &str) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("store")).unwrap();
        let key = Arc::new(FileKeyStore::open_or_create(dir.path().join("device-key")).unwrap());
        Device {
            name: name.to_string(),
            _dir: dir,
            store,
            key,
        }
    }

    fn enrol(&self, server_url: &str, code: &str) -> Result<(), SyncError> {
        device::enrol(&self.store, self.key.clone(), server_url, code, &self.name, None).map(|_| ())
    }

    fn sync(&self) -> Result<sync::SyncReport, SyncError> {
        let client = device::client(&self.store, self.key.clone())?;
        sync::sync(&self.store, &client, &NoProgress)
    }

    /// The device's own operations the server answered Accepted or
    /// Duplicate: neither still pending nor refused.
    fn acknowledged(&self) -> Vec<OpId> {
        let pending: HashSet<OpId> = self
            .store
            .pending_batch(usize::MAX)
            .unwrap()
            .iter()
            .map(|o| o.id)
            .collect();
        let refused: HashSet<OpId> = self
            .store
            .refused_operations()
            .unwrap()
            .iter()
            .map(|r| r.op.id)
            .collect();
        self.store
            .operations()
            .unwrap()
            .into_iter()
            .map(|o| o.id)
            .filter(|id| !pending.contains(id) && !refused.contains(id))
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Fresh,
    /// Drawn up and signed by Lan on her phone (maybe not yet on the server).
    Drawn,
    /// Signed by the leader on his phone: sealed once that reaches the server.
    Signed,
}

/// An inspection worked to sealed minutes over several rounds.
struct SealCase {
    id: InspectionId,
    violations: [&'static str; 2],
    stage: Stage,
}

/// What the server acknowledged (outside the devices' logs) and must keep.
#[derive(Default)]
struct Acknowledged {
    /// Remediation reports answered 303, by their text.
    remediations: Vec<(usize, String)>,
    /// Devices whose enrolment returned Ok.
    certified: Vec<(usize, DeviceId)>,
    /// Template versions whose `publish-template` exited 0.
    templates: Vec<(usize, u32)>,
    /// CSV imports: (round, tax codes, whether `import-facilities` exited 0).
    imports: Vec<(usize, Vec<String>, bool)>,
}

/// What the log held at the last check. Kept from check to check: entries
/// seen once must stay as they were, so only the new ones are decoded.
#[derive(Default)]
struct LogFacts {
    /// Each entry's bytes and operation id, by sequence number - 1.
    entries: Vec<(Vec<u8>, OpId)>,
    device_seqs: HashSet<(DeviceId, u64)>,
    ops: HashSet<OpId>,
    remediation_texts: HashSet<String>,
    certified: HashSet<DeviceId>,
    templates: HashSet<u32>,
    tax_codes: HashSet<String>,
}

const TEMPLATE_ID: &str = "crash-matrix";
const UNITS: [&str; 3] = ["hp.hong-bang", "hp.ngo-quyen", "hp.le-chan"];

fn template_json(version: u32) -> String {
    format!(
        r#"{{"format":"kiemtra-template/1","id":"{TEMPLATE_ID}","version":{version},"title_vi":"Mẫu thử số {version}","sections":[{{"code":"A","title_vi":"An toàn chung","items":[{{"code":"A1","question_vi":"Có nội quy an toàn lần {version}?","answer":"yes_no_na","legal_basis":[{{"instrument":"Luật 84/2015/QH13","article":"Điều 14"}}]}}]}}]}}"#
    )
}

/// The checks after a kill: everything the module's doc promises of the
/// data folder as the crash left it. Returns the log's operation ids.
fn check_after_kill(
    data: &Path,
    round: usize,
    kind: Kind,
    seed: u64,
    devices: &[&Device],
    acked: &Acknowledged,
    facts: &mut LogFacts,
) -> usize {
    let at = format!("round {round} ({kind}, seed {seed})");
    // Waits for the lock the killed process held; dropped before any restart.
    let store = SledStorage::open(data, 16 << 20)
        .unwrap_or_else(|e| panic!("{at}: the data folder does not open after the kill: {e}"));
    let report = kiemtra_server::replay::check(&store)
        .unwrap_or_else(|e| panic!("{at}: the check could not run: {e}"));
    assert!(
        report.holds(),
        "{at}: the records are not the merge of the log: {report}; records differing: {:?}; records not in the log: {:?}",
        report.records_differ,
        report.records_extra
    );

    read_log(&store, &at, facts);
    for d in devices {
        let refused = d.store.refused_operations().unwrap();
        assert!(
            refused.is_empty(),
            "{at}: {} holds {} refusal(s) of a well-formed workload, first: {:?} {}",
            d.name,
            refused.len(),
            refused[0].kind,
            refused[0].reason
        );
        let acknowledged = d.acknowledged();
        let missing: Vec<_> = acknowledged.iter().filter(|id| !facts.ops.contains(id)).collect();
        assert!(
            missing.is_empty(),
            "{at}: {} of the {} operations {} saw acknowledged are not in the log, e.g. {}",
            missing.len(),
            acknowledged.len(),
            d.name,
            missing[0]
        );
    }
    for (r, text) in &acked.remediations {
        assert!(
            facts.remediation_texts.contains(text),
            "{at}: the remediation report answered 303 in round {r} is not in the log"
        );
    }
    for (r, device) in &acked.certified {
        assert!(
            facts.certified.contains(device),
            "{at}: device {device}, whose enrolment returned Ok in round {r}, has no certificate in the log"
        );
    }
    for (r, version) in &acked.templates {
        assert!(
            facts.templates.contains(version),
            "{at}: template {TEMPLATE_ID}@{version}, published with exit 0 in round {r}, is not in the log"
        );
    }
    for (r, codes, exited_ok) in &acked.imports {
        let present = codes.iter().filter(|c| facts.tax_codes.contains(*c)).count();
        if *exited_ok {
            assert_eq!(
                present,
                codes.len(),
                "{at}: the import of round {r} exited 0 but only {present} of its {} establishments are in the log",
                codes.len()
            );
        } else {
            // One import is one commit: a kill keeps all of it or none.
            assert!(
                present == 0 || present == codes.len(),
                "{at}: the import killed in round {r} left {present} of its {} establishments in the log",
                codes.len()
            );
        }
    }
    facts.ops.len()
}

/// Reads the whole log, checking its numbering, its index and uniqueness;
/// what an earlier check saw must be there unchanged (a kill of a process
/// takes back nothing the OS already had).
fn read_log(store: &SledStorage, at: &str, facts: &mut LogFacts) {
    let head = store.log_head().unwrap();
    let known = facts.entries.len() as u64;
    assert!(
        head >= known,
        "{at}: the log ends at {head}, but held {known} entries at the previous check"
    );
    let mut expected_seq = 1;
    loop {
        let page = store.log_since(expected_seq - 1, 5_000).unwrap();
        if page.is_empty() {
            break;
        }
        for e in page {
            assert_eq!(e.server_seq, expected_seq, "{at}: a gap in the log's numbering");
            expected_seq += 1;
            let id = if let Some((bytes, id)) = facts.entries.get(e.server_seq as usize - 1) {
                assert!(
                    *bytes == e.bytes,
                    "{at}: log entry {} changed since the previous check",
                    e.server_seq
                );
                *id
            } else {
                let op = record_entry(facts, &e.bytes, e.server_seq, at);
                facts.entries.push((e.bytes, op));
                op
            };
            // The index is what answers "duplicate" to a re-push: it must
            // point at the entry that holds the operation.
            assert_eq!(
                store.seq_of(id).unwrap(),
                Some(e.server_seq),
                "{at}: the op-id index disagrees with the log for {id}"
            );
        }
    }
    assert_eq!(
        expected_seq - 1,
        head,
        "{at}: the log's head is not its last entry"
    );
}

/// Decodes a new log entry and notes what it says; returns its operation id.
fn record_entry(facts: &mut LogFacts, bytes: &[u8], seq: u64, at: &str) -> OpId {
    let op: Operation = from_cbor("operation", bytes)
        .unwrap_or_else(|err| panic!("{at}: log entry {seq} does not decode: {err}"));
    assert!(
        facts.ops.insert(op.id),
        "{at}: operation {} is in the log twice (again at {seq})",
        op.id
    );
    assert!(
        facts.device_seqs.insert((op.device, op.seq)),
        "{at}: two log entries are operation {} of device {} (again at {seq})",
        op.seq,
        op.device
    );
    match &op.payload {
        Payload::ReportRemediation { text, .. } => {
            facts.remediation_texts.insert(text.clone());
        }
        Payload::CertifyDevice(cert) => {
            let body: CertificateBody = from_cbor("certificate", &cert.body).unwrap();
            facts.certified.insert(body.device);
        }
        Payload::PublishTemplate(t) if t.id == TEMPLATE_ID => {
            facts.templates.insert(t.version);
        }
        Payload::PutFacility(f) => {
            if let Some(t) = &f.tax_code {
                facts.tax_codes.insert(t.as_str().to_string());
            }
        }
        _ => {}
    }
    op.id
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// The work finished (and was acknowledged) before the kill.
    Completed,
    /// The kill cut it off: the client saw a network error.
    Interrupted,
}

type Job<'a> = Box<dyn FnOnce() -> Result<Attempt, String> + Send + 'a>;

/// Runs the jobs on threads while this thread SIGKILLs the server after
/// `delay`; returns what each saw and how long it took.
fn kill_during(
    server: Server,
    delay: Duration,
    jobs: Vec<Job<'_>>,
) -> Vec<(Result<Attempt, String>, Duration)> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .into_iter()
            .map(|job| {
                scope.spawn(move || {
                    let started = Instant::now();
                    let r = job();
                    (r, started.elapsed())
                })
            })
            .collect();
        // The random kill delay: the one sleep of this test that is not a wait.
        std::thread::sleep(delay);
        server.kill();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn sync_job(d: &Device) -> Job<'_> {
    Box::new(move || match d.sync() {
        Ok(_) => Ok(Attempt::Completed),
        Err(SyncError::Network(_)) => Ok(Attempt::Interrupted),
        Err(e) => Err(format!("{}'s sync failed with {e}", d.name)),
    })
}

/// A sync that must succeed: the server is up and nothing is being killed.
fn must_sync(d: &Device, at: &str) {
    if let Err(e) = d.sync() {
        panic!("{at}: {} cannot sync with the running server: {e}", d.name);
    }
}

/// An HTTP client that shows every answer as it comes.
fn portal_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into()
}

/// Opens a portal session with the code printed on the minutes, as a
/// browser does (the code form first, for its form token); returns the
/// cookies (form token and session) and the form token.
fn portal_session(server: &Server, code: &AccessCode, at: &str) -> (String, String) {
    let agent = portal_agent();
    let (csrf_cookie, token) = kiemtra_tests::portal_form_token(&agent, server);
    let r = agent
        .post(server.url("/portal"))
        .header("Cookie", &csrf_cookie)
        .send_form([("code", code.as_str()), ("csrf", &token)])
        .unwrap_or_else(|e| panic!("{at}: POST /portal: {e}"));
    assert_eq!(
        r.status().as_u16(),
        303,
        "{at}: the access code does not open the portal"
    );
    let session = kiemtra_tests::set_cookie_pair(&r, "kiemtra_portal")
        .unwrap_or_else(|| panic!("{at}: the portal set no cookie"));
    (format!("{csrf_cookie}; {session}"), token)
}

/// The violation page's report form, as a browser posts it: form token, sender, text, one photo.
fn post_report(
    url: &str,
    (cookie, token): &(String, String),
    text: &str,
    photo: &[u8],
) -> Result<Attempt, String> {
    let boundary = "kiemtra-crash-boundary-41c9";
    let mut body = Vec::new();
    for (name, value) in [
        ("csrf", token.as_str()),
        ("sent_by", "Vũ Đức Thắng, Phó Giám đốc"),
        ("text", text),
    ] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"khac-phuc.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(photo);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let sent = portal_agent()
        .post(url)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("Cookie", cookie.as_str())
        .send(&body[..]);
    match sent {
        Ok(r) if r.status().as_u16() == 303 => Ok(Attempt::Completed),
        Ok(mut r) => Err(format!(
            "the report was answered {}: {}",
            r.status(),
            r.body_mut().read_to_string().unwrap_or_default()
        )),
        // The server died under the request: the establishment sees an error and sends again.
        Err(_) => Ok(Attempt::Interrupted),
    }
}

enum AdminOutcome {
    Completed(String),
    Killed,
}

/// Runs `kiemtra-server admin` and SIGKILLs it after `delay` unless it has
/// exited by then; a command that fails on its own is a test failure.
fn admin_killed(data: &Path, args: &[&str], delay: Duration, at: &str) -> AdminOutcome {
    let mut child = Command::new(server_binary())
        .arg("admin")
        .arg("--data")
        .arg(data)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kiemtra-server admin");
    // The random kill delay.
    std::thread::sleep(delay);
    if child.try_wait().unwrap().is_none() {
        // It may exit between the two calls; its status says which happened.
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        AdminOutcome::Completed(String::from_utf8(out.stdout).unwrap())
    } else if out.status.signal() == Some(9) {
        AdminOutcome::Killed
    } else {
        panic!(
            "{at}: admin {args:?} failed on its own ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

/// Runs an admin command to its end; returns its output and duration.
fn admin_ok(data: &Path, args: &[&str]) -> (String, Duration) {
    let started = Instant::now();
    let out = Command::new(server_binary())
        .arg("admin")
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "admin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (String::from_utf8(out.stdout).unwrap(), started.elapsed())
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
    })
}

/// A server start that names the round when the data folder does not open.
fn restart(data: &Path, addr: &str, at: &str) -> Server {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Server::start_on(data, addr, &[])))
        .unwrap_or_else(|_| panic!("{at}: the server does not start on the crashed data folder"))
}

#[test]
fn kills_at_random_moments_lose_and_duplicate_nothing() {
    let kills = env_u64("KIEMTRA_CRASH_KILLS").unwrap_or(60) as usize;
    let seed = env_u64("KIEMTRA_CRASH_SEED").unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        t.as_nanos() as u64 ^ u64::from(std::process::id()).rotate_left(32)
    });
    let budget = Duration::from_secs(env_u64("KIEMTRA_CRASH_BUDGET_SECS").unwrap_or(kills as u64 * 3 / 2));
    println!(
        "crash matrix: seed {seed} (KIEMTRA_CRASH_SEED={seed} replays it), {kills} kills, budget {budget:?}"
    );
    let mut rng = Rng(seed);
    let started = Instant::now();

    // ---- set-up, with the admin writer on the stopped server's folder ----
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let seal_cases = kills / 10 + 3;
    let mut w = kiemtra_server::admin::open_writer(&data).unwrap();
    let Team { leader, lan, minh } = team(&mut w);
    let field = w
        .create_delegation(
            "Đoàn kiểm tra số 7",
            "Quyết định số 140/QĐ-SNV",
            leader,
            &[lan, minh],
            None,
        )
        .unwrap()
        .id;
    // Minutes are signed by every member: the sealing delegation is the leader and Lan.
    let sealing = w
        .create_delegation(
            "Đoàn kiểm tra số 8",
            "Quyết định số 141/QĐ-SNV",
            leader,
            &[lan],
            None,
        )
        .unwrap()
        .id;
    // Answer bursts spread over several inspections: a device's write costs
    // more as its inspection's record grows, and the rounds must stay quick.
    let work: Vec<InspectionId> = (0..kills / 15 + 4)
        .map(|n| {
            let name = format!("Công ty CP Cảng số {n}");
            let site = enterprise(&mut w, &name, &format!("02001{n:05}"), UNITS[n % 3]);
            assign(&mut w, field, &site)
        })
        .collect();
    let photo_site = enterprise(&mut w, "Công ty TNHH Thép Vạn Lợi", "0200300001", UNITS[1]);
    let photographed = assign(&mut w, field, &photo_site);
    let mut cases: Vec<SealCase> = (0..seal_cases)
        .map(|n| {
            let f = enterprise(
                &mut w,
                &format!("Công ty CP Cơ khí số {n}"),
                &format!("02002{n:05}"),
                UNITS[n % 3],
            );
            SealCase {
                id: assign(&mut w, sealing, &f),
                violations: if n % 2 == 0 { ["B1", "D4"] } else { ["F1", "G1"] },
                stage: Stage::Fresh,
            }
        })
        .collect();
    let first_codes = [
        w.enrol_code(leader, 24).unwrap(),
        w.enrol_code(lan, 24).unwrap(),
        w.enrol_code(minh, 24).unwrap(),
    ];
    // The fresh phone of the end: Lan is in both delegations, so it pulls the whole log.
    let final_code = w.enrol_code(lan, 24).unwrap();
    // Spare codes for enrolment rounds (admin rounds add more), with where they came from.
    let mut spare: VecDeque<(String, String)> = VecDeque::new();
    for n in 0..kills / 12 + 2 {
        let who = [leader, lan, minh][n % 3];
        spare.push_back((w.enrol_code(who, 24).unwrap(), "set-up".into()));
    }
    w.commit().unwrap();
    drop(w);
    let people: [InspectorId; 3] = [leader, lan, minh];

    // Each admin command once to its end: it works, and its duration sets the kill delays.
    let scratch = dir.path().join("admin-input");
    std::fs::create_dir_all(&scratch).unwrap();
    let mut template_version = 1u32;
    let tpl = scratch.join("template.json");
    std::fs::write(&tpl, template_json(template_version)).unwrap();
    let mut admin_est: HashMap<Kind, Duration> = HashMap::new();
    let (_, t) = admin_ok(&data, &["publish-template", tpl.to_str().unwrap()]);
    admin_est.insert(Kind::AdminTemplate, t);
    let mut next_tax = 0u64;
    let mut csv = |rows: u64, at_round: usize| -> (std::path::PathBuf, Vec<String>) {
        let mut text = String::from("kind,name,tax_code,street,unit,sector,workforce,high_risk\n");
        let mut codes = Vec::new();
        for _ in 0..rows {
            next_tax += 1;
            let code = format!("03{next_tax:08}");
            text.push_str(&format!(
                "enterprise,Công ty TNHH Sản xuất số {next_tax},{code},Số {next_tax} Lạch Tray,{},Cơ khí,{},false\n",
                UNITS[(next_tax % 3) as usize],
                20 + next_tax % 300
            ));
            codes.push(code);
        }
        let path = scratch.join(format!("facilities-{at_round}.csv"));
        std::fs::write(&path, text).unwrap();
        (path, codes)
    };
    let (path, _) = csv(40, 0);
    let (_, t) = admin_ok(&data, &["import-facilities", "--quiet", path.to_str().unwrap()]);
    admin_est.insert(Kind::AdminImport, t);
    let (code, t) = admin_ok(&data, &["enrol-code", "--inspector", &lan.to_string()]);
    spare.push_back((code.trim().to_string(), "set-up (admin enrol-code)".into()));
    admin_est.insert(Kind::AdminEnrolCode, t);

    // ---- the phones: enrol, receive the assignments, start the field work ----
    let server = Server::start(&data, &[]);
    let addr = server.addr.clone();
    let url = server.url("");
    let enrol = |name: &str, code: &str| {
        let d = Device::new(name);
        d.enrol(&url, code).unwrap();
        d
    };
    let leader_phone = enrol("điện thoại trưởng đoàn", &first_codes[0]);
    let lan_phone = enrol("điện thoại của Lan", &first_codes[1]);
    let minh_phone = enrol("điện thoại của Minh", &first_codes[2]);
    must_sync(&lan_phone, "set-up");
    for id in &work {
        lan_phone.store.start_inspection(*id).unwrap();
    }
    lan_phone.store.start_inspection(photographed).unwrap();
    must_sync(&lan_phone, "set-up");
    must_sync(&minh_phone, "set-up");
    must_sync(&leader_phone, "set-up");
    let mut server = Some(server);
    let member_keys = [
        (leader, leader_phone.key.public_key().unwrap()),
        (lan, lan_phone.key.public_key().unwrap()),
    ];

    // ---- the rounds: one kill each ----
    let mut late: Vec<(Device, bool)> = Vec::new(); // enrolled in a round; whether seen syncing since
    let mut acked = Acknowledged::default();
    let mut log = LogFacts::default();
    let mut est: HashMap<Kind, Duration> = HashMap::new();
    let mut per_kind: BTreeMap<Kind, (usize, usize)> = BTreeMap::new(); // (rounds, kills that cut work off)
    let mut answers_written = 0u64;
    let mut photos_added = 0u64;
    let mut ops_checked_total = 0usize;
    let mut last_ops = 0usize;
    // Every kind early, whatever the seed; random after.
    let opening = [
        Kind::SealDraw,
        Kind::Answers,
        Kind::AdminTemplate,
        Kind::SealSign,
        Kind::Photos,
        Kind::Enrol,
        Kind::AdminImport,
        Kind::Remediation,
        Kind::AdminEnrolCode,
    ];
    let weighted = [
        (Kind::Answers, 3),
        (Kind::Photos, 2),
        (Kind::SealDraw, 2),
        (Kind::SealSign, 2),
        (Kind::Remediation, 2),
        (Kind::Enrol, 2),
        (Kind::AdminTemplate, 1),
        (Kind::AdminImport, 1),
        (Kind::AdminEnrolCode, 1),
    ];
    let total_weight: u64 = weighted.iter().map(|(_, w)| w).sum();
    let mut rounds_done = 0;
    for round in 1..=kills {
        if started.elapsed() > budget {
            println!("crash matrix: time budget {budget:?} spent after {rounds_done} of {kills} kills");
            break;
        }
        let mut kind = opening.get(round - 1).copied().unwrap_or_else(|| {
            let mut pick = rng.range(1, total_weight);
            weighted
                .iter()
                .find(|(_, w)| {
                    if pick <= *w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .unwrap()
                .0
        });
        // A kind with nothing to work on gives way to answers.
        let ready = match kind {
            Kind::SealDraw => cases.iter().any(|c| c.stage == Stage::Fresh),
            Kind::SealSign => cases.iter().any(|c| c.stage == Stage::Drawn),
            Kind::Remediation => cases.iter().any(|c| c.stage == Stage::Signed),
            Kind::Enrol => !spare.is_empty(),
            _ => true,
        };
        if !ready {
            kind = Kind::Answers;
        }
        let at = format!("round {round} ({kind}, seed {seed})");
        let round_started = Instant::now();
        // The kill's delay and whether it cut the work off, for the round's line.
        let outcome: (Duration, bool);
        if kind.is_admin() {
            // Admin commands run on the stopped server's folder.
            assert!(server.is_none());
            let delay = rng.delay(admin_est[&kind]);
            let cut = match kind {
                Kind::AdminTemplate => {
                    template_version += 1;
                    std::fs::write(&tpl, template_json(template_version)).unwrap();
                    let out = admin_killed(&data, &["publish-template", tpl.to_str().unwrap()], delay, &at);
                    match out {
                        AdminOutcome::Completed(_) => {
                            acked.templates.push((round, template_version));
                            false
                        }
                        AdminOutcome::Killed => true,
                    }
                }
                Kind::AdminImport => {
                    let (path, codes) = csv(rng.range(20, 150), round);
                    let out = admin_killed(
                        &data,
                        &["import-facilities", "--quiet", path.to_str().unwrap()],
                        delay,
                        &at,
                    );
                    let done = matches!(out, AdminOutcome::Completed(_));
                    acked.imports.push((round, codes, done));
                    !done
                }
                _ => {
                    let who = people[rng.range(0, 2) as usize].to_string();
                    match admin_killed(&data, &["enrol-code", "--inspector", &who], delay, &at) {
                        AdminOutcome::Completed(code) => {
                            spare.push_back((
                                code.trim().to_string(),
                                format!("admin enrol-code of round {round}"),
                            ));
                            false
                        }
                        AdminOutcome::Killed => true,
                    }
                }
            };
            let e = per_kind.entry(kind).or_default();
            e.0 += 1;
            e.1 += usize::from(cut);
            outcome = (delay, cut);
        } else {
            let s = match server.take() {
                Some(s) => s,
                None => restart(&data, &addr, &at),
            };
            // Enrolments answered Ok before a kill: the device exists after the restart.
            for (d, seen) in late.iter_mut().filter(|(_, seen)| !*seen) {
                must_sync(d, &format!("{at}, enrolled earlier"));
                *seen = true;
            }
            let expected = *est.entry(kind).or_insert(Duration::from_millis(300));
            let delay = rng.delay(expected);
            let results = match kind {
                Kind::Answers => {
                    // Two phones answer the same inspection (conflicts, not
                    // refusals) and push at the same time: one group commit.
                    // 50 to 500, mostly small: a device's writes are slow in a debug build.
                    let n = if rng.chance(20) {
                        rng.range(200, 500)
                    } else {
                        rng.range(50, 200)
                    };
                    let lan_share = rng.range(0, n);
                    let id = work[rng.range(0, work.len() as u64 - 1) as usize];
                    for (phone, count) in [(&lan_phone, lan_share), (&minh_phone, n - lan_share)] {
                        for k in 0..count {
                            let (item, value) = if rng.chance(70) {
                                ("A1", AnswerValue::Count(rng.range(0, 2_000)))
                            } else {
                                let yes = if k % 2 == 0 { YesNoNa::Yes } else { YesNoNa::No };
                                (["B1", "D4"][(k % 2) as usize], AnswerValue::YesNoNa(yes))
                            };
                            phone.store.set_answer(id, item, value, None).unwrap();
                        }
                    }
                    answers_written += n;
                    kill_during(s, delay, vec![sync_job(&lan_phone), sync_job(&minh_phone)])
                }
                Kind::Photos => {
                    for _ in 0..rng.range(1, 3) {
                        let (w, h) = (rng.range(200, 600) as u32, rng.range(150, 450) as u32);
                        let image = png(w, h, rng.range(1, 250) as u8);
                        lan_phone
                            .store
                            .add_photo(photographed, Some("B1"), &image, Some("Hiện trường"))
                            .unwrap();
                        photos_added += 1;
                    }
                    kill_during(s, delay, vec![sync_job(&lan_phone)])
                }
                Kind::SealDraw => {
                    let case = cases.iter_mut().find(|c| c.stage == Stage::Fresh).unwrap();
                    let (id, store) = (case.id, &lan_phone.store);
                    store.start_inspection(id).unwrap();
                    let image = png(400, 300, (round % 250) as u8 + 1);
                    store
                        .add_photo(id, Some(case.violations[0]), &image, Some("Vi phạm"))
                        .unwrap();
                    photos_added += 1;
                    answer_rest_except(store, id, &case.violations);
                    store.close_findings(id).unwrap();
                    let mut info = minutes_info();
                    info.member_keys.extend(member_keys.iter().cloned());
                    store.draw_up_minutes(id, info).unwrap();
                    store.sign_minutes(id, lan, lan_phone.key.as_ref()).unwrap();
                    case.stage = Stage::Drawn;
                    kill_during(s, delay, vec![sync_job(&lan_phone)])
                }
                Kind::SealSign => {
                    let case = cases.iter_mut().find(|c| c.stage == Stage::Drawn).unwrap();
                    // Lan's minutes may have been cut off by an earlier kill: she pushes them now.
                    must_sync(&lan_phone, &at);
                    must_sync(&leader_phone, &at);
                    leader_phone
                        .store
                        .sign_minutes(case.id, leader, leader_phone.key.as_ref())
                        .unwrap_or_else(|e| panic!("{at}: the leader cannot sign Lan's minutes: {e}"));
                    case.stage = Stage::Signed;
                    kill_during(s, delay, vec![sync_job(&leader_phone)])
                }
                Kind::Remediation => {
                    let signed: Vec<_> = cases.iter().filter(|c| c.stage == Stage::Signed).collect();
                    let case = signed[rng.range(0, signed.len() as u64 - 1) as usize];
                    // The leader's signature may have been cut off by an earlier kill.
                    must_sync(&leader_phone, &at);
                    assert_eq!(
                        leader_phone.store.inspection(case.id).unwrap().status,
                        Status::Sealed,
                        "{at}: the minutes are not sealed"
                    );
                    let code = lan_phone
                        .store
                        .minutes_access_code(case.id)
                        .unwrap()
                        .unwrap_or_else(|| panic!("{at}: the minutes carry no access code"));
                    let cookie = portal_session(&s, &code, &at);
                    let item = case.violations[rng.range(0, 1) as usize];
                    let report_url = s.url(&format!("/portal/violations/{item}"));
                    let text = format!("Đã khắc phục vi phạm {item}, báo cáo của vòng {round}.");
                    let photo = png(rng.range(200, 500) as u32, 300, (round % 250) as u8 + 3);
                    let results = {
                        let (text, cookie, photo, report_url) = (&text, &cookie, &photo, &report_url);
                        kill_during(
                            s,
                            delay,
                            vec![Box::new(move || post_report(report_url, cookie, text, photo))],
                        )
                    };
                    if results[0].0 == Ok(Attempt::Completed) {
                        acked.remediations.push((round, text));
                    }
                    results
                }
                Kind::Enrol => {
                    let (code, origin) = spare.pop_front().unwrap();
                    let d = Device::new(&format!("điện thoại mới của vòng {round}"));
                    let results = {
                        let (d, url) = (&d, &url);
                        let job: Job<'_> = Box::new(move || match d.enrol(url, &code) {
                            Ok(()) => Ok(Attempt::Completed),
                            Err(SyncError::Network(_)) => Ok(Attempt::Interrupted),
                            Err(e) => Err(format!("enrolment with the code from {origin} failed with {e}")),
                        });
                        kill_during(s, delay, vec![job])
                    };
                    // An enrolment lost to the kill may have used its code: the next round takes the next one.
                    if results[0].0 == Ok(Attempt::Completed) {
                        acked.certified.push((round, d.store.device_id()));
                        late.push((d, false));
                    }
                    results
                }
                _ => unreachable!(),
            };
            let mut cut = false;
            let mut longest = Duration::ZERO;
            for (r, took) in &results {
                match r {
                    Ok(Attempt::Completed) => longest = longest.max(*took),
                    Ok(Attempt::Interrupted) => cut = true,
                    Err(e) => panic!("{at}: killed after {delay:?}: {e}"),
                }
            }
            // Learn how long this kind of work takes, so kills keep landing
            // inside it: longer after a cut (on a loaded machine work is
            // slow, and kills that always land before the first commit would
            // test little), towards the measured time after a completion.
            let e = est.get_mut(&kind).unwrap();
            *e = if cut {
                (*e * 4 / 3).min(Duration::from_secs(5))
            } else {
                (*e + 3 * longest.max(Duration::from_millis(5))) / 4
            };
            let e = per_kind.entry(kind).or_default();
            e.0 += 1;
            e.1 += usize::from(cut);
            outcome = (delay, cut);
        }
        let worked = round_started.elapsed();

        let mut devices: Vec<&Device> = vec![&lan_phone, &minh_phone, &leader_phone];
        devices.extend(late.iter().map(|(d, _)| d));
        let ops = check_after_kill(&data, round, kind, seed, &devices, &acked, &mut log);
        last_ops = ops;
        ops_checked_total += ops;
        rounds_done = round;
        println!(
            "crash matrix: {at}: killed after {:?}, {}; work {:.2} s, check of {} operations {:.2} s",
            outcome.0,
            if outcome.1 {
                "mid-request"
            } else {
                "after it completed"
            },
            worked.as_secs_f64(),
            ops,
            (round_started.elapsed() - worked).as_secs_f64()
        );
    }
    let rounds_took = started.elapsed();

    // ---- the end: everything reaches the server, once ----
    let at = format!("after the last kill (seed {seed})");
    let server = server.take().unwrap_or_else(|| restart(&data, &addr, &at));
    let mut devices: Vec<&Device> = vec![&lan_phone, &minh_phone, &leader_phone];
    devices.extend(late.iter().map(|(d, _)| d));
    for d in &devices {
        // One sync pushes all; a second one only if the first pulled what changed meanwhile.
        for _ in 0..3 {
            must_sync(d, &at);
            if d.store.pending_count() == 0 && d.store.upload_queue().unwrap().is_empty() {
                break;
            }
        }
        assert_eq!(
            d.store.pending_count(),
            0,
            "{at}: {} still has pending operations",
            d.name
        );
        assert!(
            d.store.upload_queue().unwrap().is_empty(),
            "{at}: {} still has photos to upload",
            d.name
        );
        assert!(
            d.store.refused_operations().unwrap().is_empty(),
            "{at}: {} holds a refusal",
            d.name
        );
    }
    let fresh = Device::new("điện thoại mới của Lan");
    fresh
        .enrol(&url, &final_code)
        .unwrap_or_else(|e| panic!("{at}: enrolment of the fresh phone: {e}"));
    let client = device::client(&fresh.store, fresh.key.clone()).unwrap();
    let mut pulled = Vec::new();
    let mut cursor = 0;
    loop {
        let page = client.pull(cursor, 1_000).unwrap();
        pulled.extend(page.entries.iter().map(|e| e.op.id));
        cursor = page.next;
        if !page.more {
            break;
        }
    }
    let pulled_set: HashSet<OpId> = pulled.iter().copied().collect();
    assert_eq!(
        pulled_set.len(),
        pulled.len(),
        "{at}: the fresh phone pulled an operation twice"
    );
    must_sync(&fresh, &at);
    // Every photo of every inspection, and of every remediation report, is
    // on the server whole (each download is checked against its hash). A
    // small photo's thumbnail is the image itself, so blobs are counted by name.
    let mut blobs = HashSet::new();
    let inspections = work.iter().copied().chain([photographed]);
    for id in inspections.chain(cases.iter().map(|c| c.id)) {
        sync::blobs::download_photos(&fresh.store, &client, id, false)
            .unwrap_or_else(|e| panic!("{at}: downloading the photos of {id}: {e}"));
        let photos = fresh.store.photos(id).unwrap();
        for p in photos.iter().chain(&fresh.store.remediation_photos(id).unwrap()) {
            for sha in [&p.image.sha256, &p.thumbnail.sha256] {
                assert!(
                    fresh.store.has_blob(sha).unwrap(),
                    "{at}: blob {sha} of a photo of {id} is not on the server"
                );
                blobs.insert(sha.clone());
            }
        }
    }
    let blobs = blobs.len();
    server.stop();
    let store = SledStorage::open(&data, 16 << 20).unwrap();
    let report = kiemtra_server::replay::check(&store).unwrap();
    assert!(report.holds(), "{at}: {report}");
    read_log(&store, &at, &mut log);
    let facts = log;
    drop(store);
    assert_eq!(
        pulled_set.len(),
        facts.ops.len(),
        "{at}: the fresh phone pulled {} operations of the log's {}",
        pulled_set.len(),
        facts.ops.len()
    );
    assert!(
        pulled_set.is_subset(&facts.ops),
        "{at}: the fresh phone pulled what the log lacks"
    );
    let mut devices_ops = 0;
    for d in &devices {
        let ops = d.store.operations().unwrap();
        devices_ops += ops.len();
        assert!(
            ops.iter().all(|o| facts.ops.contains(&o.id)),
            "{at}: an operation of {} is not in the log",
            d.name
        );
    }
    let enrolled_late = late.len();
    let per_kind: Vec<String> = per_kind
        .iter()
        .map(|(k, (n, cut))| format!("{k} {n} ({cut} cut off)"))
        .collect();
    println!(
        "crash matrix: {rounds_done} kills, seed {seed}; {ops_checked_total} operations checked after the kills \
         ({last_ops} in the log at the last one, {} at the end, {devices_ops} of them the devices'); \
         {answers_written} answers, {photos_added} photos, {} remediation reports, {enrolled_late} late enrolments, \
         {blobs} blobs downloaded; rounds: {}; {:.1} s of rounds, {:.1} s in all",
        facts.ops.len(),
        acked.remediations.len(),
        per_kind.join(", "),
        rounds_took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
