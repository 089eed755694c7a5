//! The sync API end to end against a real server on loopback: enrolment,
//! authentication, push, pull, blobs and limits.

mod common;

use common::DeviceClient;
use common::*;
use kiemtra_core::answer::AnswerValue;
use kiemtra_core::codec::{from_cbor, to_cbor};
use kiemtra_core::identity::verify_strict;
use kiemtra_core::inspection::Status;
use kiemtra_core::ops::Payload;
use kiemtra_core::people::Inspector;
use kiemtra_core::sync::wire::{
    Capabilities, CertificateBody, PushOutcome, PushRequest, RefusalKind, UploadStatus, SIGN_CERTIFICATE,
};
use kiemtra_server::db::Read;
use sha2::{Digest, Sha256};

fn refusal(o: &PushOutcome) -> Option<RefusalKind> {
    match o {
        PushOutcome::Refused { kind, .. } => Some(*kind),
        _ => None,
    }
}

#[test]
fn capabilities_announce_protocol_and_limits() {
    let fx = Fixture::start();
    let c = DeviceClient::new(&fx.base);
    let r = ureq::get(format!("{}/api/v1/capabilities", fx.base))
        .call()
        .unwrap();
    let bytes = r.into_body().read_to_vec().unwrap();
    let caps: Capabilities = from_cbor("caps", &bytes).unwrap();
    assert_eq!(caps.protocol, 1);
    assert_eq!(caps.max_body_bytes, 8 * 1024 * 1024);
    assert!(caps.max_push_ops >= 100);
    drop(c);
}

#[test]
fn enrolment_binds_a_key_once_and_refuses_bad_codes_and_weak_keys() {
    let fx = Fixture::start();
    let code = fx.code(fx.a, 24);
    let c = DeviceClient::new(&fx.base);
    let res = c.enrol(&code, "Điện thoại của Lan").unwrap();
    assert_eq!(res.inspector.id, fx.a);
    // The certificate is the server's signature over the exact body bytes.
    let server_pk: [u8; 32] = res.server_public_key.as_slice().try_into().unwrap();
    let mut signed = SIGN_CERTIFICATE.to_vec();
    signed.extend_from_slice(&res.certificate.body);
    let sig: [u8; 64] = res.certificate.signature.as_slice().try_into().unwrap();
    verify_strict(&server_pk, &signed, &sig).unwrap();
    let body: CertificateBody = from_cbor("cert", &res.certificate.body).unwrap();
    assert_eq!((body.device, body.inspector), (c.device, fx.a));
    assert_eq!(body.public_key, c.public_key().to_vec());

    // A used code is refused, even for another device.
    let other = DeviceClient::new(&fx.base);
    let r = other
        .enrol_with_key(&code, "x", other.public_key().to_vec())
        .unwrap();
    assert_eq!((r.status, r.error_code().as_str()), (403, "code_used"));

    // An expired code is refused.
    let expired = fx.code(fx.a, 0);
    let r = other
        .enrol_with_key(&expired, "x", other.public_key().to_vec())
        .unwrap();
    assert_eq!((r.status, r.error_code().as_str()), (403, "code_expired"));

    // An unknown code is refused.
    let r = other
        .enrol_with_key("0000-not-a-code", "x", other.public_key().to_vec())
        .unwrap();
    assert_eq!((r.status, r.error_code().as_str()), (403, "code_invalid"));

    // A weak key (the identity point) is refused and does not spend the code.
    let fresh = fx.code(fx.b, 24);
    let mut weak = [0u8; 32];
    weak[0] = 1;
    let r = other.enrol_with_key(&fresh, "x", weak.to_vec()).unwrap();
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("weak"));
    let res = other.enrol(&fresh, "Điện thoại của Hùng").unwrap();
    assert_eq!(res.inspector.id, fx.b);

    // The certificate reaches every device through pull.
    let mut c = c;
    c.login().unwrap();
    let pulled = c.pull(0, 2000).unwrap();
    let certs = pulled
        .entries
        .iter()
        .filter(|e| matches!(e.op.payload, Payload::CertifyDevice(_)))
        .count();
    assert_eq!(certs, 2);
}

#[test]
fn sessions_sign_requests_and_refuse_replays_and_strangers() {
    let fx = Fixture::start();
    let c = fx.device(fx.a);
    assert_eq!(c.signed("GET", "/api/v1/ops?since=0", &[]).unwrap().status, 200);

    // The same nonce and signature again: a replay.
    let (nonce, sig) = c.sign("GET", "/api/v1/ops?since=0", &[]).unwrap();
    assert_eq!(
        c.send_signed("GET", "/api/v1/ops?since=0", &[], &nonce, &sig)
            .unwrap()
            .status,
        200
    );
    let r = c
        .send_signed("GET", "/api/v1/ops?since=0", &[], &nonce, &sig)
        .unwrap();
    assert_eq!((r.status, r.error_code().as_str()), (401, "replayed"));
    assert!(String::from_utf8_lossy(&r.body).contains("replayed request"));

    // A signature for another path or body does not verify.
    let (nonce, sig) = c.sign("GET", "/api/v1/ops?since=0", &[]).unwrap();
    let r = c
        .send_signed("GET", "/api/v1/ops?since=5", &[], &nonce, &sig)
        .unwrap();
    assert_eq!((r.status, r.error_code().as_str()), (401, "bad_signature"));
    let body = to_cbor(
        "p",
        &PushRequest {
            ops: vec![],
            access_codes: vec![],
        },
    )
    .unwrap();
    let (nonce, sig) = c.sign("POST", "/api/v1/ops", &body).unwrap();
    let mut tampered = body.clone();
    tampered.push(0);
    let r = c
        .send_signed("POST", "/api/v1/ops", &tampered, &nonce, &sig)
        .unwrap();
    assert_eq!(r.status, 401);

    // No session: refused.
    let mut stranger = DeviceClient::new(&fx.base);
    stranger.token = Some("00".repeat(32));
    let r = stranger.signed("GET", "/api/v1/ops", &[]).unwrap();
    assert_eq!((r.status, r.error_code().as_str()), (401, "session_expired"));

    // An unenrolled device cannot get a challenge.
    let mut unknown = DeviceClient::new(&fx.base);
    let err = unknown.login().unwrap_err().to_string();
    assert!(err.contains("401") && err.contains("not_enrolled"), "{err}");

    // An enrolled device id with another key: the session signature fails.
    let mut impostor = DeviceClient::new(&fx.base);
    impostor.device = c.device;
    let err = impostor.login().unwrap_err().to_string();
    assert!(err.contains("401") && err.contains("bad_signature"), "{err}");
}

#[test]
fn a_revoked_device_is_refused_at_once() {
    let fx = Fixture::start();
    let mut c = fx.device(fx.a);
    assert!(c.pull(0, 10).is_ok());
    fx.revoke(c.device);
    let r = c.signed("GET", "/api/v1/ops?since=0", &[]).unwrap();
    assert_eq!((r.status, r.error_code().as_str()), (403, "revoked"));
    let err = c.login().unwrap_err().to_string();
    assert!(err.contains("403") && err.contains("revoked"), "{err}");
    // Other devices learn it by pull.
    let b = fx.device(fx.b);
    let pulled = b.pull(0, 2000).unwrap();
    assert!(pulled
        .entries
        .iter()
        .any(|e| e.op.payload == Payload::RevokeDevice { device: c.device }));
}

#[test]
fn push_accepts_dedups_and_refuses_without_changing_anything() {
    let fx = Fixture::start();
    let c = fx.device(fx.a);
    let batch = vec![
        op(&c, fx.a, 1, start(fx.insp1)),
        op(&c, fx.a, 2, answer(fx.insp1, "B1", yes())),
    ];
    let first = c.push(batch.clone()).unwrap();
    let seqs: Vec<u64> = first
        .results
        .iter()
        .map(|r| match r.outcome {
            PushOutcome::Accepted { server_seq } => server_seq,
            ref o => panic!("not accepted: {o:?}"),
        })
        .collect();
    assert!(seqs[1] == seqs[0] + 1);
    let record = fx.state.db.record(fx.insp1).unwrap().unwrap();
    assert_eq!(record.inspection.status, Status::InProgress);
    assert!(record.answers.contains_key("B1"));

    // The same batch again: duplicates with the same numbers, nothing appended.
    let head = fx.head();
    let again = c.push(batch).unwrap();
    for (r, s) in again.results.iter().zip(&seqs) {
        assert_eq!(r.outcome, PushOutcome::Duplicate { server_seq: *s });
    }
    assert_eq!(fx.head(), head);

    // Refusals: another delegation's inspection, a wrong answer type, out of
    // order, answering a draft, server-only payloads, another device's op.
    let before2 = fx.state.db.record(fx.insp2).unwrap();
    let before_tiny = fx.state.db.record(fx.tiny1).unwrap();
    let mut foreign = op(&c, fx.a, 9, answer(fx.insp1, "B1", yes()));
    foreign.device = kiemtra_core::ids::DeviceId::new();
    let refused = c
        .push(vec![
            op(&c, fx.a, 3, start(fx.insp2)),
            op(&c, fx.a, 4, answer(fx.insp1, "B1", AnswerValue::Count(3))),
            op(
                &c,
                fx.a,
                5,
                Payload::Transition {
                    inspection: fx.tiny1,
                    to: Status::FindingsClosed,
                },
            ),
            op(&c, fx.a, 6, answer(fx.tiny1, "A1", yes())),
            op(
                &c,
                fx.a,
                7,
                Payload::PutInspector(Inspector::new(fx.a, "X", "Y", "Z").unwrap()),
            ),
            op(&c, fx.b, 8, answer(fx.insp1, "B1", yes())),
            foreign,
            op(&c, fx.a, 10, answer(fx.insp1, "NO-SUCH-ITEM", yes())),
        ])
        .unwrap();
    let kinds: Vec<_> = refused.results.iter().map(|r| refusal(&r.outcome)).collect();
    assert_eq!(
        kinds,
        vec![
            Some(RefusalKind::Forbidden),
            Some(RefusalKind::Invalid),
            Some(RefusalKind::Lifecycle),
            Some(RefusalKind::Lifecycle),
            Some(RefusalKind::Forbidden),
            Some(RefusalKind::Forbidden),
            Some(RefusalKind::Forbidden),
            Some(RefusalKind::Invalid),
        ]
    );
    assert_eq!(fx.head(), head, "refused operations are not appended");
    assert_eq!(fx.state.db.record(fx.insp2).unwrap(), before2);
    assert_eq!(fx.state.db.record(fx.tiny1).unwrap(), before_tiny);
    let r1 = fx.state.db.record(fx.insp1).unwrap().unwrap();
    assert_eq!(
        r1.answers["B1"].versions().len(),
        1,
        "the wrong-type answer changed nothing"
    );

    // Closed findings take no more answers; sealing is only by the leader's
    // signature on the minutes, never a bare transition.
    let seal = c
        .push(vec![
            op(&c, fx.a, 11, start(fx.tiny1)),
            op(&c, fx.a, 12, answer(fx.tiny1, "A1", yes())),
            op(
                &c,
                fx.a,
                13,
                Payload::Transition {
                    inspection: fx.tiny1,
                    to: Status::FindingsClosed,
                },
            ),
            op(
                &c,
                fx.a,
                14,
                Payload::Transition {
                    inspection: fx.tiny1,
                    to: Status::Sealed,
                },
            ),
            op(&c, fx.a, 15, answer(fx.tiny1, "A1", yes())),
        ])
        .unwrap();
    let kinds: Vec<_> = seal.results.iter().map(|r| refusal(&r.outcome)).collect();
    assert_eq!(
        kinds,
        vec![
            None,
            None,
            None,
            Some(RefusalKind::Lifecycle),
            Some(RefusalKind::Lifecycle)
        ]
    );
    assert_eq!(
        fx.state.db.record(fx.tiny1).unwrap().unwrap().inspection.status,
        Status::FindingsClosed
    );
}

#[test]
fn pull_pages_and_shows_only_relevant_inspections() {
    let fx = Fixture::start();
    let a = fx.device(fx.a);
    let b = fx.device(fx.b);
    let pushed = a
        .push(vec![
            op(&a, fx.a, 1, start(fx.insp1)),
            op(&a, fx.a, 2, answer(fx.insp1, "B1", yes())),
        ])
        .unwrap();
    assert!(pushed
        .results
        .iter()
        .all(|r| matches!(r.outcome, PushOutcome::Accepted { .. })));
    b.push(vec![op(&b, fx.b, 1, start(fx.insp2))]).unwrap();

    let pull_all = |c: &DeviceClient| {
        let mut since = 0;
        let mut all = Vec::new();
        let mut pages = 0;
        loop {
            let page = c.pull(since, 3).unwrap();
            assert!(page.entries.len() <= 3);
            all.extend(page.entries);
            since = page.next;
            pages += 1;
            if !page.more {
                break;
            }
        }
        (all, pages)
    };
    let (seen_b, pages) = pull_all(&b);
    assert!(pages > 3, "paged: {pages}");
    let seqs: Vec<u64> = seen_b.iter().map(|e| e.server_seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in log order, no repeats");
    let touches = |list: &[kiemtra_core::sync::wire::LogEntry], id| {
        list.iter().any(|e| e.op.payload.inspection() == Some(id))
    };
    assert!(touches(&seen_b, fx.insp2));
    assert!(
        !touches(&seen_b, fx.insp1),
        "another delegation's inspection is not visible"
    );
    assert!(!touches(&seen_b, fx.tiny1));
    // Reference data reaches everyone.
    assert!(seen_b
        .iter()
        .any(|e| matches!(e.op.payload, Payload::PublishTemplate(_))));
    assert!(seen_b
        .iter()
        .any(|e| matches!(e.op.payload, Payload::PutFacility(_))));
    let (seen_a, _) = pull_all(&a);
    assert!(touches(&seen_a, fx.insp1) && touches(&seen_a, fx.tiny1));
    assert!(!touches(&seen_a, fx.insp2));
    assert!(seen_a.iter().any(|e| e.op.id == pushed.results[1].op));
    // Past the end: nothing, cursor kept.
    let end = a.pull(fx.head(), 10).unwrap();
    assert!(end.entries.is_empty() && !end.more && end.next == fx.head());
}

fn put_chunk(
    c: &DeviceClient,
    hash: &str,
    offset: u64,
    total: u64,
    chunk: &[u8],
) -> common::raw_client::Reply {
    c.signed(
        "PUT",
        &format!("/api/v1/blobs/{hash}?offset={offset}&total={total}"),
        chunk,
    )
    .unwrap()
}

#[test]
fn blobs_resume_verify_and_refuse() {
    let fx = Fixture::start();
    let c = fx.device(fx.a);
    let data: Vec<u8> = (0..1_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let hash = hex::encode(Sha256::digest(&data));
    let total = data.len() as u64;
    let status = |c: &DeviceClient| -> UploadStatus {
        c.signed("GET", &format!("/api/v1/blobs/{hash}/status"), &[])
            .unwrap()
            .cbor()
            .unwrap()
    };
    assert_eq!(
        status(&c),
        UploadStatus {
            received: 0,
            complete: false
        }
    );
    // Upload 90% in chunks, then "the connection drops".
    let cut = 900_000;
    for start in (0..cut).step_by(300_000) {
        let r = put_chunk(&c, &hash, start as u64, total, &data[start..start + 300_000]);
        assert_eq!(r.status, 200);
    }
    assert_eq!(
        status(&c),
        UploadStatus {
            received: cut as u64,
            complete: false
        }
    );
    // A chunk at the wrong offset: 409 with where the upload really is.
    let r = put_chunk(&c, &hash, 0, total, &data[..1000]);
    assert_eq!(r.status, 409);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["received"], cut);
    // Resume from the status, finish, download.
    let from = status(&c).received as usize;
    let done: UploadStatus = put_chunk(&c, &hash, from as u64, total, &data[from..])
        .cbor()
        .unwrap();
    assert_eq!(
        done,
        UploadStatus {
            received: total,
            complete: true
        }
    );
    let got = c.signed("GET", &format!("/api/v1/blobs/{hash}"), &[]).unwrap();
    assert_eq!(got.status, 200);
    assert!(got.body == data);
    // Content addressed: putting it again is a no-op that says complete.
    let again: UploadStatus = put_chunk(&c, &hash, 0, total, &data[..10]).cbor().unwrap();
    assert!(again.complete);

    // Bytes that do not hash to the name: refused, partial discarded.
    let wrong = hex::encode(Sha256::digest(b"something else"));
    let r = put_chunk(&c, &wrong, 0, 5, b"hello");
    assert_eq!((r.status, r.error_code().as_str()), (422, "hash_mismatch"));
    assert_eq!(
        status_of(&c, &wrong),
        UploadStatus {
            received: 0,
            complete: false
        }
    );
    assert_eq!(
        c.signed("GET", &format!("/api/v1/blobs/{wrong}"), &[])
            .unwrap()
            .status,
        404
    );

    // A chunk over the limit: 413 with a JSON error, before the body is read.
    let (status, body) = oversized(
        &fx.base,
        "PUT",
        &format!("/api/v1/blobs/{hash}?offset=0&total=9999999"),
        4 * 1024 * 1024 + 1,
    );
    assert_eq!(status, 413);
    assert!(body.contains("\"too_large\""), "{body}");
}

fn status_of(c: &DeviceClient, hash: &str) -> UploadStatus {
    c.signed("GET", &format!("/api/v1/blobs/{hash}/status"), &[])
        .unwrap()
        .cbor()
        .unwrap()
}

#[test]
fn garbage_and_oversized_pushes_are_refused_and_change_nothing() {
    let fx = Fixture::start();
    let c = fx.device(fx.a);
    let head = fx.head();
    let r = c
        .signed("POST", "/api/v1/ops", &[0xff, 0x00, 0x13, 0x37])
        .unwrap();
    assert_eq!((r.status, r.error_code().as_str()), (400, "bad_body"));
    assert!(String::from_utf8_lossy(&r.body).contains("push request"));
    let (status, body) = oversized(&fx.base, "POST", "/api/v1/ops", 9 * 1024 * 1024);
    assert_eq!(status, 413);
    assert!(body.contains("\"too_large\""), "{body}");
    let many: Vec<_> = (0..1001)
        .map(|i| op(&c, fx.a, i + 1, answer(fx.insp1, "B1", yes())))
        .collect();
    let body = to_cbor(
        "p",
        &PushRequest {
            ops: many,
            access_codes: vec![],
        },
    )
    .unwrap();
    let r = c.signed("POST", "/api/v1/ops", &body).unwrap();
    assert_eq!((r.status, r.error_code().as_str()), (413, "too_many_ops"));
    assert_eq!(fx.head(), head);
}

#[test]
fn serves_https_with_a_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let state = kiemtra_server::app::AppState::open(&dir.path().join("data"), 8 << 20, false).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    rt.spawn(async move {
        kiemtra_server::app::serve_tls(listener, state, &cert_path, &key_path, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    let der: &'static [u8] = Box::leak(cert.cert.der().to_vec().into_boxed_slice());
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(vec![
            ureq::tls::Certificate::from_der(der),
        ])))
        .build();
    let agent = ureq::Agent::config_builder().tls_config(tls).build().new_agent();
    let body = agent
        .get(format!("https://localhost:{port}/health"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(body.contains("\"ok\""));
    // Plain HTTP to the TLS port does not get an answer.
    assert!(ureq::get(format!("http://127.0.0.1:{port}/health"))
        .call()
        .is_err());
    let _ = tx.send(());
}

/// Announces a body of `len` bytes and reads the answer without sending it:
/// the server refuses by the Content-Length alone. (An HTTP client that keeps
/// writing a body the server already refused gets a broken pipe instead.)
fn oversized(base: &str, method: &str, path: &str, len: usize) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {len}\r\nContent-Type: application/cbor\r\nAuthorization: Bearer x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

/// A storage failure while the server checks a push, or while it commits
/// one, fails the request (5xx) and changes nothing: the device keeps its
/// operations, none is refused, and the next sync is accepted. (Before the
/// storage rework a failed read while checking became a permanent "not
/// found" refusal, which the device dropped from its inspection.)
#[test]
fn a_storage_failure_fails_the_push_and_the_device_retries_it() {
    use kiemtra_core::identity::FileKeyStore;
    use kiemtra_core::store::Store;
    use kiemtra_core::sync::{self, device, NoProgress, SyncError};
    use kiemtra_server::storage::Table;
    use std::sync::Arc;

    let fx = Fixture::start();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    let key = Arc::new(FileKeyStore::open_or_create(dir.path().join("key")).unwrap());
    device::enrol(
        &store,
        key.clone(),
        &fx.base,
        &fx.code(fx.a, 24),
        "Điện thoại của Lan",
        None,
    )
    .unwrap();
    let client = device::client(&store, key).unwrap();
    sync::sync(&store, &client, &NoProgress).unwrap();
    store.start_inspection(fx.insp1).unwrap();
    store.set_answer(fx.insp1, "B1", yes(), None).unwrap();
    let head = fx.head();

    // The record cannot be read while the push is checked.
    fx.faults.fail_reads_of(Table::Records, 1);
    let err = sync::sync(&store, &client, &NoProgress).unwrap_err();
    assert!(matches!(err, SyncError::Server(_)), "{err}");
    assert_eq!(
        store.pending_count(),
        2,
        "the device dropped operations the server never checked"
    );
    assert!(store.refused_operations().unwrap().is_empty());
    assert_eq!(fx.head(), head);

    // The commit fails.
    fx.faults.fail_commits(1);
    let err = sync::sync(&store, &client, &NoProgress).unwrap_err();
    assert!(matches!(err, SyncError::Server(_)), "{err}");
    assert_eq!(store.pending_count(), 2);
    assert_eq!(fx.head(), head);

    // The storage is back: the same operations are accepted, once.
    sync::sync(&store, &client, &NoProgress).unwrap();
    assert_eq!(store.pending_count(), 0);
    assert!(store.refused_operations().unwrap().is_empty());
    assert_eq!(fx.head(), head + 2);
    let record = fx.state.db.record(fx.insp1).unwrap().unwrap();
    assert_eq!(record.inspection.status, Status::InProgress);
    assert!(record.answers.contains_key("B1"));
}

#[test]
fn two_devices_may_not_enrol_the_same_public_key() {
    let fx = Fixture::start();
    let first = DeviceClient::new(&fx.base);
    first.enrol(&fx.code(fx.a, 24), "Điện thoại của Lan").unwrap();
    // Another device id presenting the same key (a cloned app, or a phone
    // claiming another's identity): refused, and the code is not spent.
    let code = fx.code(fx.b, 24);
    let clone = DeviceClient::new(&fx.base);
    let r = clone
        .enrol_with_key(&code, "Điện thoại của Hùng", first.public_key().to_vec())
        .unwrap();
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (409, "key_enrolled"),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let res = clone.enrol(&code, "Điện thoại của Hùng").unwrap();
    assert_eq!(res.inspector.id, fx.b);
    // A revoked device's key stays taken: it was on a lost phone.
    fx.revoke(first.device);
    let again = DeviceClient::new(&fx.base);
    let r = again
        .enrol_with_key(&fx.code(fx.a, 24), "x", first.public_key().to_vec())
        .unwrap();
    assert_eq!((r.status, r.error_code().as_str()), (409, "key_enrolled"));
}

#[test]
fn error_bodies_say_what_is_wrong_without_internal_type_names() {
    let fx = Fixture::start();
    let mut c = fx.device(fx.a);
    c.login().unwrap();
    // An enrolment request that is a CBOR map of the wrong shape.
    let bodies: [(&str, Vec<u8>); 3] = [
        ("/api/v1/enrol", to_cbor("x", &"not a request").unwrap()),
        (
            "/api/v1/enrol",
            to_cbor("x", &std::collections::BTreeMap::from([("code", 1u8)])).unwrap(),
        ),
        ("/api/v1/auth/challenge", to_cbor("x", &[1u8, 2, 3]).unwrap()),
    ];
    // What the decoder says about the first names our type: echoing it, as
    // the server did, is what this test refuses.
    let raw = from_cbor::<kiemtra_core::sync::wire::EnrolRequest>("x", &bodies[0].1)
        .unwrap_err()
        .to_string();
    assert!(raw.contains("EnrolRequest"), "{raw}");
    for (path, body) in bodies {
        let r = c.post_raw(path, &body).unwrap();
        let text = String::from_utf8_lossy(&r.body).into_owned();
        assert_eq!(r.status, 400, "{path}: {text}");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let message = json["error"].as_str().unwrap();
        for internal in [
            "EnrolRequest",
            "ChallengeRequest",
            "struct ",
            "enum ",
            "Vec<",
            "kiemtra",
        ] {
            assert!(!message.contains(internal), "{path}: {message}");
        }
        assert!(!message.is_empty());
    }
    // A push whose operation names an unknown kind says which kinds exist,
    // not which Rust type failed to decode.
    let mut op = std::collections::BTreeMap::new();
    op.insert(
        "ops",
        vec![std::collections::BTreeMap::from([("payload", "launch_rockets")])],
    );
    let r = c
        .signed("POST", "/api/v1/ops", &to_cbor("x", &op).unwrap())
        .unwrap();
    let text = String::from_utf8_lossy(&r.body).into_owned();
    assert_eq!(r.status, 400, "{text}");
    for internal in ["PushRequest", "Operation", "Payload", "struct ", "enum "] {
        assert!(!text.contains(internal), "{text}");
    }
}

#[test]
fn every_text_an_operation_carries_is_checked_by_one_rule_on_the_server() {
    use kiemtra_core::answer::{AnswerEntry, YesNoNa};
    use kiemtra_core::violation::ViolationEdit;
    let fx = Fixture::start();
    let c = fx.device(fx.a);
    let no = AnswerValue::YesNoNa(YesNoNa::No);
    let noted = |item: &str, note: &str| Payload::SetAnswer {
        inspection: fx.insp1,
        item: item.into(),
        entry: AnswerEntry {
            value: yes(),
            note: Some(note.into()),
        },
        supersedes: vec![],
    };
    let ok = c
        .push(vec![
            op(&c, fx.a, 1, start(fx.insp1)),
            op(&c, fx.a, 2, answer(fx.insp1, "B1", no)),
            op(
                &c,
                fx.a,
                3,
                noted("B2", "Đã kiểm tra sổ theo dõi.\nCòn thiếu chữ ký."),
            ),
        ])
        .unwrap();
    assert!(ok.results.iter().all(|r| refusal(&r.outcome).is_none()), "{ok:?}");
    let before = fx.state.db.record(fx.insp1).unwrap();
    let head = fx.head();

    let edit = |requirement: &str| Payload::EditViolation {
        inspection: fx.insp1,
        item: "B1".into(),
        edit: ViolationEdit {
            requirement: Some(requirement.into()),
            ..Default::default()
        },
        supersedes: vec![],
    };
    let bad = [
        noted("B2", &"ệ".repeat(1 << 20)),            // a megabyte of note
        noted("B2", "Nguye\u{0302}\u{0303}n Văn An"), // decomposed, not NFC
        noted("B2", "  Còn thiếu chữ ký"),            // not trimmed
        noted("B2", "Còn thiếu\r\nchữ ký"),           // CR LF
        noted("B2", "Đạt\u{1b}[2J"),                  // a terminal escape
        noted("B2", "Đạt \u{202E}gnol oot"),          // a bidi override
        edit("Lắp che chắn cho máy dập số 2\u{0}"),   // NUL in a requirement
        edit(&"a".repeat(2_001)),                     // requirement too long
        edit("Lă\u{0306}p che cha\u{0306}n"),         // decomposed requirement
    ];
    let ops: Vec<_> = bad
        .into_iter()
        .enumerate()
        .map(|(i, p)| op(&c, fx.a, 4 + i as u64, p))
        .collect();
    let n = ops.len();
    let refused = c.push(ops).unwrap();
    let kinds: Vec<_> = refused.results.iter().map(|r| refusal(&r.outcome)).collect();
    assert_eq!(kinds, vec![Some(RefusalKind::Invalid); n], "{refused:?}");
    for r in &refused.results {
        if let PushOutcome::Refused { reason, .. } = &r.outcome {
            assert!(!reason.is_empty() && reason.len() < 300, "{reason}");
        }
    }
    assert_eq!(fx.head(), head);
    assert_eq!(fx.state.db.record(fx.insp1).unwrap(), before);
}
