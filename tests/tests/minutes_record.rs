//! The minutes are the record, on the real server binary: a hostile phone
//! that draws up minutes saying something else than the inspection's record
//! (compliant where an answer is "no", another establishment, a changed
//! legal basis or deadline, a photo not taken there, another delegation) is
//! refused with a typed reason and changes nothing; portal codes that are
//! weak or already granted are refused; and after a whole flow the clear
//! code is nowhere in the server's data folder or in any pulled operation.

use std::path::Path;

use kiemtra_core::access_code::AccessCode;
use kiemtra_core::identity::KeyStore;
use kiemtra_core::ids::{InspectionId, InspectorId, OpId};
use kiemtra_core::inspection::Status;
use kiemtra_core::minutes::{canonical_bytes, Assessment, Hash32, MinutesDocument, PhotoRef};
use kiemtra_core::ops::{Operation, Payload};
use kiemtra_core::sync::device;
use kiemtra_core::sync::wire::{PushOutcome, RefusalKind};
use kiemtra_server::db::Read;
use kiemtra_tests::field::{minutes_info, png, Phone};
use kiemtra_tests::inspectorate::{assign, enterprise, team, Team};
use kiemtra_tests::Server;

struct Setup {
    leader: InspectorId,
    lan: InspectorId,
    minh: InspectorId,
    a: InspectionId,
    b: InspectionId,
    codes: Vec<String>,
}

fn set_up(data: &Path) -> Setup {
    let mut w = kiemtra_server::admin::open_writer(data).unwrap();
    let Team { leader, lan, minh } = team(&mut w);
    let delegation = w
        .create_delegation(
            "Đoàn kiểm tra số 7",
            "Quyết định số 131/QĐ-SNV",
            leader,
            &[lan, minh],
            None,
        )
        .unwrap()
        .id;
    let fa = enterprise(
        &mut w,
        "Công ty TNHH Đóng tàu Bạch Đằng",
        "0200765432",
        "hp.hong-bang",
    );
    let fb = enterprise(
        &mut w,
        "Công ty CP Cơ khí Lạch Tray",
        "0200123456",
        "hp.ngo-quyen",
    );
    let a = assign(&mut w, delegation, &fa);
    let b = assign(&mut w, delegation, &fb);
    let codes = vec![
        w.enrol_code(leader, 24).unwrap(),
        w.enrol_code(lan, 24).unwrap(),
        w.enrol_code(minh, 24).unwrap(),
    ];
    w.commit().unwrap();
    Setup {
        leader,
        lan,
        minh,
        a,
        b,
        codes,
    }
}

/// Closes the findings of `id` on Lan's phone (B1 and D4 answered "no", a
/// photo on B1) and syncs, so that the server's record is closed too.
fn close(lan: &Phone, id: InspectionId, seed: u8) {
    lan.store.start_inspection(id).unwrap();
    lan.store
        .add_photo(id, Some("B1"), &png(640, 480, seed), Some("Hiện trường"))
        .unwrap();
    lan.answer_rest_except(id, &["B1", "D4"]);
    lan.store.close_findings(id).unwrap();
    lan.sync().unwrap();
}

/// The minutes Lan's phone would draw up for `id`, honestly.
/// The set-up, the server, the leader's and Lan's phones enrolled and
/// synced, and the findings of both inspections closed.
fn both_closed(data: &Path) -> (Setup, Server, Phone, Phone) {
    let s = set_up(data);
    let server = Server::start(data, &[]);
    let leader = Phone::enrolled(&server, &s.codes[0], "Điện thoại trưởng đoàn");
    let lan = Phone::enrolled(&server, &s.codes[1], "Điện thoại của Lan");
    lan.sync().unwrap();
    leader.sync().unwrap();
    close(&lan, s.a, 1);
    close(&lan, s.b, 2);
    (s, server, leader, lan)
}

fn honest(s: &Setup, lan: &Phone, leader: &Phone, id: InspectionId) -> MinutesDocument {
    let snap = lan.store.snapshot(id).unwrap();
    let delegation = lan
        .store
        .delegation(snap.record.inspection.delegation)
        .unwrap()
        .unwrap();
    let inspectors: Vec<_> = delegation
        .members
        .iter()
        .map(|m| lan.store.inspector(m.inspector).unwrap().unwrap())
        .collect();
    let mut info = minutes_info();
    info.member_keys
        .insert(s.leader, leader.key.public_key().unwrap());
    info.member_keys.insert(s.lan, lan.key.public_key().unwrap());
    info.photos = lan
        .store
        .photos(id)
        .unwrap()
        .iter()
        .map(|p| PhotoRef {
            sha256: Hash32::from_hex(&p.image.sha256).unwrap(),
            caption: "Hiện trường".into(),
            item: p.item.clone(),
        })
        .collect();
    MinutesDocument::build(&snap, &delegation, &inspectors, info).unwrap()
}

/// Pushes a draw-up of `doc` from Lan's phone, built by hand as a hostile
/// app would, with `code` as its hash and `sidecar` beside it.
fn push_draw_up(
    s: &Setup,
    lan: &Phone,
    id: InspectionId,
    doc: &MinutesDocument,
    code: &AccessCode,
    sidecar: &[AccessCode],
) -> PushOutcome {
    let op = Operation {
        id: OpId::new(),
        device: lan.store.device_id(),
        seq: 1_000_000,
        author: Some(s.lan),
        at: chrono::Utc::now(),
        payload: Payload::DrawUpMinutes {
            inspection: id,
            canonical: canonical_bytes(doc).unwrap(),
            access_code_hash: Some(code.code_hash()),
        },
    };
    let client = device::client(&lan.store, lan.key.clone()).unwrap();
    let mut results = client.push(&[op], sidecar).unwrap().results;
    assert_eq!(results.len(), 1);
    results.remove(0).outcome
}

/// The log's head as a member's device sees it.
fn log_head(phone: &Phone) -> u64 {
    let client = device::client(&phone.store, phone.key.clone()).unwrap();
    let mut since = 0;
    loop {
        let page = client.pull(since, 1000).unwrap();
        since = page.next;
        if !page.more {
            return since;
        }
    }
}

/// Opens the portal with `code`: the status of the answer and the session cookie.
fn portal_open(server: &Server, code: &str) -> (u16, Option<String>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    // As a browser: the code form first, for its form token.
    let (csrf_cookie, token) = kiemtra_tests::portal_form_token(&agent, server);
    let r = agent
        .post(server.url("/portal"))
        .header("Cookie", &csrf_cookie)
        .send_form([("code", code), ("csrf", &token)])
        .unwrap();
    let cookie = kiemtra_tests::set_cookie_pair(&r, "kiemtra_portal");
    (r.status().as_u16(), cookie)
}

fn portal_get(server: &Server, cookie: &str, path: &str) -> (u16, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .get(server.url(path))
        .header("Cookie", cookie)
        .call()
        .unwrap();
    let status = r.status().as_u16();
    (
        status,
        r.body_mut().with_config().limit(50 << 20).read_to_vec().unwrap(),
    )
}

#[test]
fn minutes_that_contradict_the_record_are_refused_and_change_nothing() {
    let data = tempfile::tempdir().unwrap();
    let (s, server, leader, lan) = both_closed(data.path());
    let doc = honest(&s, &lan, &leader, s.a);
    let other = honest(&s, &lan, &leader, s.b);
    assert!(doc.violations.len() >= 2, "B1 and D4 are violations");

    type Forge = Box<dyn Fn(&mut MinutesDocument)>;
    let forgeries: Vec<(&str, Forge)> = vec![
        (
            "findings",
            Box::new(|d| {
                // "Compliant" for every answer, "no" ones included, and no violations.
                for f in d.findings.iter_mut().flat_map(|s| s.items.iter_mut()) {
                    if f.assessment == Assessment::NonCompliant {
                        f.assessment = Assessment::Compliant;
                        f.answer = "Có".into();
                    }
                }
                d.violations.clear();
                d.report_back = None;
            }),
        ),
        ("violations", Box::new(|d| d.violations.truncate(1))),
        (
            "establishment",
            Box::new(move |d| d.establishment = other.establishment.clone()),
        ),
        (
            "legal basis",
            Box::new(|d| d.violations[0].legal_basis[0].article = "Điều 1".into()),
        ),
        (
            "deadline",
            Box::new(|d| d.violations[1].deadline = "2030-12-31".into()),
        ),
        (
            "photos",
            Box::new(|d| {
                d.photos.push(PhotoRef {
                    sha256: Hash32::sha256(b"a photo taken somewhere else"),
                    caption: "Ảnh".into(),
                    item: None,
                })
            }),
        ),
        (
            "delegation",
            Box::new(|d| d.delegation_name = "Đoàn kiểm tra số 9".into()),
        ),
        ("members", Box::new(|d| d.members.truncate(1))),
        (
            "members",
            Box::new(|d| {
                // Lan's entry names a key that is not hers: she could then
                // sign for the leader with a key of her own choosing.
                let stranger = kiemtra_core::identity::DeviceKey::generate().unwrap();
                for m in &mut d.members {
                    m.key_fingerprint = Some(stranger.fingerprint());
                }
            }),
        ),
    ];
    let head = log_head(&leader);
    let mut refused_codes = Vec::new();
    for (field, forge) in &forgeries {
        let mut forged = doc.clone();
        forge(&mut forged);
        let code = AccessCode::generate().unwrap();
        match push_draw_up(&s, &lan, s.a, &forged, &code, std::slice::from_ref(&code)) {
            PushOutcome::Refused {
                kind: RefusalKind::ContradictsRecord,
                reason,
            } => {
                assert!(reason.contains(field), "{field}: {reason}");
                for internal in ["MinutesError", "ContradictsRecord", "Some(", "struct "] {
                    assert!(!reason.contains(internal), "{reason}");
                }
            }
            other => panic!("{field}: {other:?}"),
        }
        refused_codes.push(code);
    }
    assert_eq!(log_head(&leader), head, "a refusal appended nothing to the log");
    for code in &refused_codes {
        assert_eq!(
            portal_open(&server, &code.grouped()).0,
            401,
            "a refused code opens nothing"
        );
    }

    // The honest minutes pass, from the same phone.
    let code = AccessCode::generate().unwrap();
    assert!(matches!(
        push_draw_up(&s, &lan, s.a, &doc, &code, std::slice::from_ref(&code)),
        PushOutcome::Accepted { .. }
    ));
    server.stop();
    let w = kiemtra_server::admin::open_writer(data.path()).unwrap();
    let record = w.db().record(s.a).unwrap().unwrap();
    assert_eq!(
        record.minutes.len(),
        1,
        "only the honest minutes are in the record"
    );
    assert_eq!(record.inspection.status, Status::FindingsClosed);
    for code in &refused_codes {
        assert!(w.db().portal_grant(&code.hash()).unwrap().is_none());
    }
    assert!(w.db().portal_grant(&code.hash()).unwrap().is_some());
}

#[test]
fn weak_and_already_granted_access_codes_are_refused() {
    let data = tempfile::tempdir().unwrap();
    let (s, server, leader, lan) = both_closed(data.path());

    // A's minutes, honestly: their code opens A's page.
    let granted = AccessCode::generate().unwrap();
    let doc_a = honest(&s, &lan, &leader, s.a);
    assert!(matches!(
        push_draw_up(&s, &lan, s.a, &doc_a, &granted, std::slice::from_ref(&granted)),
        PushOutcome::Accepted { .. }
    ));

    let doc_b = honest(&s, &lan, &leader, s.b);
    let head = log_head(&leader);
    let weak = AccessCode::parse("00000000000000000000").unwrap();
    let refusals = [
        ("weak", weak.clone(), vec![weak.clone()], "too easy to guess"),
        (
            "sequence",
            AccessCode::parse("ABCDE-FGHJK-MNPQR-STVWX").unwrap(),
            vec![AccessCode::parse("ABCDE-FGHJK-MNPQR-STVWX").unwrap()],
            "too easy to guess",
        ),
        ("reused", granted.clone(), vec![granted.clone()], "already in use"),
        // The hash of A's code without the code: refused just the same.
        ("reused, no code", granted.clone(), vec![], "already in use"),
        ("no code", AccessCode::generate().unwrap(), vec![], "not sent"),
    ];
    for (what, code, sidecar, says) in &refusals {
        match push_draw_up(&s, &lan, s.b, &doc_b, code, sidecar) {
            PushOutcome::Refused {
                kind: RefusalKind::AccessCode,
                reason,
            } => assert!(reason.contains(says), "{what}: {reason}"),
            other => panic!("{what}: {other:?}"),
        }
    }
    assert_eq!(log_head(&leader), head);
    assert_eq!(portal_open(&server, &weak.grouped()).0, 401);

    // B's minutes drawn up on the phone get a fresh, strong code; A's code still opens A only.
    lan.store.draw_up_minutes(s.b, minutes_info()).unwrap();
    let report = lan.sync().unwrap();
    assert_eq!(report.refused, 0);
    let code_b = lan.store.minutes_access_code(s.b).unwrap().unwrap();
    assert_ne!(code_b, granted);
    let (status, cookie) = portal_open(&server, &granted.grouped());
    assert_eq!(status, 303);
    let (_, page) = portal_get(&server, &cookie.unwrap(), "/portal/inspection");
    let page = String::from_utf8_lossy(&page);
    assert!(
        page.contains("Đóng tàu Bạch Đằng") && !page.contains("Cơ khí Lạch Tray"),
        "{page}"
    );
    assert_eq!(portal_open(&server, &code_b.grouped()).0, 303);
    server.stop();
}

#[test]
fn the_code_is_nowhere_in_the_server_data_or_the_pulled_operations() {
    let data = tempfile::tempdir().unwrap();
    let s = set_up(data.path());
    let server = Server::start(data.path(), &[]);
    let leader = Phone::enrolled(&server, &s.codes[0], "Điện thoại trưởng đoàn");
    let lan = Phone::enrolled(&server, &s.codes[1], "Điện thoại của Lan");
    let minh = Phone::enrolled(&server, &s.codes[2], "Điện thoại của Minh");
    for p in [&lan, &leader, &minh] {
        p.sync().unwrap();
    }
    close(&lan, s.a, 3);
    let mut info = minutes_info();
    info.member_keys
        .insert(s.leader, leader.key.public_key().unwrap());
    info.member_keys.insert(s.lan, lan.key.public_key().unwrap());
    info.member_keys.insert(s.minh, minh.key.public_key().unwrap());
    lan.store.draw_up_minutes(s.a, info).unwrap();
    lan.store.sign_minutes(s.a, s.lan, lan.key.as_ref()).unwrap();
    lan.sync().unwrap();
    minh.sync().unwrap();
    minh.store.sign_minutes(s.a, s.minh, minh.key.as_ref()).unwrap();
    minh.sync().unwrap();
    leader.sync().unwrap();
    leader
        .store
        .sign_minutes(s.a, s.leader, leader.key.as_ref())
        .unwrap();
    for p in [&leader, &lan, &minh, &leader] {
        p.sync().unwrap();
    }
    assert_eq!(minh.store.inspection(s.a).unwrap().status, Status::Sealed);
    let code = lan
        .store
        .minutes_access_code(s.a)
        .unwrap()
        .expect("the drawing phone holds the code");
    assert!(leader.store.minutes_access_code(s.a).unwrap().is_none());
    assert!(minh.store.minutes_access_code(s.a).unwrap().is_none());
    let html = minh
        .store
        .minutes_html(s.a, "https://kiemtra.example.vn/verify")
        .unwrap();
    assert!(html.contains("bản giao cho cơ sở") && !html.contains(&code.grouped()));
    let html = lan
        .store
        .minutes_html(s.a, "https://kiemtra.example.vn/verify")
        .unwrap();
    assert!(
        html.contains(&code.grouped()),
        "the drawing phone prints the code"
    );

    // The establishment uses its portal.
    let (status, cookie) = portal_open(&server, &code.grouped());
    assert_eq!(status, 303);
    let cookie = cookie.unwrap();
    for path in ["/portal/inspection", "/portal/minutes", "/portal/minutes.pdf"] {
        let (status, body) = portal_get(&server, &cookie, path);
        assert_eq!(status, 200, "{path}");
        assert!(
            !contains(&body, code.as_str()) && !contains(&body, &code.grouped()),
            "{path}"
        );
    }

    let plain = code.as_str().to_string();
    let grouped = code.grouped();
    // Every operation a member's device pulls, as sent and as debug text.
    for phone in [&leader, &minh, &lan] {
        let client = device::client(&phone.store, phone.key.clone()).unwrap();
        let page = client.pull(0, 10_000).unwrap();
        assert!(!page.more);
        assert!(page
            .entries
            .iter()
            .any(|e| matches!(e.op.payload, Payload::DrawUpMinutes { .. })));
        for e in &page.entries {
            let bytes = kiemtra_core::codec::to_cbor("op", &e.op).unwrap();
            let text = format!("{:?}", e.op);
            for needle in [&plain, &grouped] {
                assert!(!contains(&bytes, needle) && !text.contains(needle.as_str()));
            }
        }
    }
    server.stop();
    // Every file of the server's data folder, raw bytes.
    let mut files = Vec::new();
    walk(data.path(), &mut files);
    assert!(files.len() > 3);
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        for needle in [&plain, &grouped] {
            assert!(!contains(&bytes, needle), "the code is in {}", f.display());
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}
