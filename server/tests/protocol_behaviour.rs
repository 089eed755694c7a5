//! What `docs/api.md` promises a client written from it alone, where the
//! server once answered otherwise (issue 12): query errors as the JSON error,
//! the head on every pull, `limit=0`, the listed limits, and `revoked` for
//! every request of a revoked device.

mod common;

use common::raw_client::Reply;
use common::*;
use kiemtra_core::codec::to_cbor;
use kiemtra_core::sync::wire::{ChallengeRequest, EnrolRequest};
use serde_cbor::Value;

/// The JSON error body every refusal carries: its `code`, and that it has a message.
fn json_error(r: &Reply) -> String {
    let text = String::from_utf8_lossy(&r.body).into_owned();
    let json: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not a JSON error body: {text:?}"));
    assert!(json["error"].as_str().is_some_and(|m| !m.is_empty()), "{text}");
    json["code"].as_str().unwrap_or_default().to_string()
}

/// A pull answer as a plain CBOR map, so that a missing field is a failed
/// assertion, not a decoding error of our own type.
fn pull_map(r: Reply) -> std::collections::BTreeMap<Value, Value> {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    match serde_cbor::from_slice::<Value>(&r.body).unwrap() {
        Value::Map(m) => m,
        other => panic!("not a map: {other:?}"),
    }
}

fn field<'a>(m: &'a std::collections::BTreeMap<Value, Value>, key: &str) -> &'a Value {
    m.get(&Value::Text(key.into()))
        .unwrap_or_else(|| panic!("no {key:?} in the pull answer: {m:?}"))
}

#[test]
fn query_string_errors_are_the_json_error_with_400() {
    let fx = Fixture::start();
    let c = fx.device(fx.a);
    for path in [
        "/api/v1/ops?since=abc",
        "/api/v1/ops?limit=-1",
        "/api/v1/ops?since=1&limit=99999999999999999999",
    ] {
        let r = c.signed("GET", path, &[]).unwrap();
        assert_eq!(r.status, 400, "{path}");
        assert_eq!(json_error(&r), "bad_query", "{path}");
    }
    let hash = "0".repeat(64);
    let r = c
        .signed("PUT", &format!("/api/v1/blobs/{hash}?offset=x&total=1"), b"x")
        .unwrap();
    assert_eq!((r.status, json_error(&r).as_str()), (400, "bad_query"));
    let r = c
        .signed("PUT", &format!("/api/v1/blobs/{hash}?offset=0"), b"x")
        .unwrap();
    assert_eq!((r.status, json_error(&r).as_str()), (400, "bad_query"));
}

#[test]
fn every_pull_tells_the_head_even_past_the_end() {
    let fx = Fixture::start();
    let c = fx.device(fx.a);
    c.push(vec![op(&c, fx.a, 1, start(fx.insp1))]).unwrap();
    let head = fx.head();
    assert!(head > 1);

    let m = pull_map(c.signed("GET", "/api/v1/ops?since=0&limit=1", &[]).unwrap());
    assert_eq!(field(&m, "head"), &Value::Integer(head.into()));
    assert_eq!(field(&m, "more"), &Value::Bool(true));

    // Past the end (a server restored from an older backup, say): an empty
    // page that says where the log ends, and a cursor that stays put.
    let past = head + 1000;
    let m = pull_map(
        c.signed("GET", &format!("/api/v1/ops?since={past}"), &[])
            .unwrap(),
    );
    assert_eq!(field(&m, "entries"), &Value::Array(vec![]));
    assert_eq!(field(&m, "head"), &Value::Integer(head.into()));
    assert_eq!(field(&m, "next"), &Value::Integer(past.into()));
    assert_eq!(field(&m, "more"), &Value::Bool(false));
}

#[test]
fn limit_zero_returns_no_entry_and_the_head() {
    let fx = Fixture::start();
    let c = fx.device(fx.a);
    let head = fx.head();
    assert!(head > 0);
    let m = pull_map(c.signed("GET", "/api/v1/ops?since=0&limit=0", &[]).unwrap());
    assert_eq!(field(&m, "entries"), &Value::Array(vec![]));
    assert_eq!(field(&m, "next"), &Value::Integer(0));
    assert_eq!(field(&m, "more"), &Value::Bool(true));
    assert_eq!(field(&m, "head"), &Value::Integer(head.into()));
}

#[test]
fn a_revoked_device_hears_revoked_on_every_later_request() {
    let fx = Fixture::start();
    let mut c = fx.device(fx.a);
    assert!(c.pull(0, 10).is_ok());
    fx.revoke(c.device);
    for attempt in 1..=3 {
        let r = c.signed("GET", "/api/v1/ops?since=0", &[]).unwrap();
        assert_eq!(
            (r.status, json_error(&r).as_str()),
            (403, "revoked"),
            "request {attempt} after the revocation"
        );
    }
    let r = c
        .signed(
            "POST",
            "/api/v1/ops",
            &to_cbor("p", &serde_cbor::Value::Null).unwrap(),
        )
        .unwrap();
    assert_eq!((r.status, json_error(&r).as_str()), (403, "revoked"));
    // A fresh sign-in is refused the same way, at the challenge already.
    let body = to_cbor("c", &ChallengeRequest { device: c.device }).unwrap();
    let r = c.post_raw("/api/v1/auth/challenge", &body).unwrap();
    assert_eq!((r.status, json_error(&r).as_str()), (403, "revoked"));
    let err = c.login().unwrap_err().to_string();
    assert!(err.contains("403") && err.contains("revoked"), "{err}");
}

#[test]
fn the_listed_limits_are_enforced() {
    let fx = Fixture::start();
    let limits = kiemtra_server::app::Limits::default();
    let c = DeviceClient::new(&fx.base);
    // The enrolment body limit (every unauthenticated body).
    let big = vec![0u8; limits.max_auth_body_bytes + 1];
    let r = c.post_raw("/api/v1/enrol", &big).unwrap();
    assert_eq!((r.status, json_error(&r).as_str()), (413, "too_large"));
    // The device name: at most DEVICE_NAME.max characters.
    let max = kiemtra_core::text::DEVICE_NAME.max;
    let request = |name: String| EnrolRequest {
        code: fx.code(fx.a, 24),
        device: c.device,
        public_key: c.public_key().to_vec(),
        device_name: name,
    };
    let long = "ệ".repeat(max + 1);
    let r = c
        .post_raw("/api/v1/enrol", &to_cbor("e", &request(long)).unwrap())
        .unwrap();
    assert_eq!((r.status, json_error(&r).as_str()), (400, "invalid"));
    let r = c
        .post_raw("/api/v1/enrol", &to_cbor("e", &request("ệ".repeat(max))).unwrap())
        .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // A blob larger than the blob limit is refused at its first chunk.
    let mut d = fx.device(fx.b);
    d.login().unwrap();
    let hash = "0".repeat(64);
    let r = d
        .signed(
            "PUT",
            &format!(
                "/api/v1/blobs/{hash}?offset=0&total={}",
                limits.max_blob_bytes + 1
            ),
            b"x",
        )
        .unwrap();
    assert_eq!((r.status, json_error(&r).as_str()), (413, "too_large"));
}
