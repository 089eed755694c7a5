//! The bodies of the fuzz targets: one per decoder of outside input. Each
//! takes arbitrary bytes and must neither panic, hang nor allocate without
//! bound; where a decoder has a property worth checking on every input
//! (what decodes re-encodes), it is asserted here.
//!
//! Used twice: by `fuzz_targets/*.rs` under cargo-fuzz (nightly), and by the
//! workspace test `tests/tests/fuzz_corpora.rs`, which replays every file
//! of `fuzz/corpus/<target>/` through the same function on stable.

use std::collections::HashMap;

use kiemtra_core::accident::Declarant;
use kiemtra_core::admin_units::AdminUnits;
use kiemtra_core::codec::{from_cbor, to_cbor};
use kiemtra_core::ids::{AccidentId, FacilityId};
use kiemtra_core::photo::{normalise, PhotoConfig};
use serde::{de::DeserializeOwned, Serialize};

/// A target's body: any bytes in, no panic out.
pub type Target = fn(&[u8]);

/// The targets by name, as `cargo fuzz run NAME` knows them.
pub const TARGETS: &[(&str, Target)] = &[
    ("wire", wire),
    ("template", template),
    ("admin_units", admin_units),
    ("facility_csv", facility_csv),
    ("accident_csv", accident_csv),
    ("photo", photo),
    ("verify", verify),
    ("access_code", access_code),
    ("signed_headers", signed_headers),
];

/// What decodes must encode again, and decode to the same value.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(value) = from_cbor::<T>("fuzz", data) {
        let bytes = to_cbor("fuzz", &value).expect("a decoded value encodes");
        let again: T = from_cbor("fuzz", &bytes).expect("an encoded value decodes");
        assert_eq!(value, again, "decode ∘ encode is not the identity");
    }
}

/// Every CBOR message a device or the server receives, and the operations
/// inside them.
pub fn wire(data: &[u8]) {
    use kiemtra_core::ops::Operation;
    use kiemtra_core::sync::wire::*;
    round_trip::<Operation>(data);
    round_trip::<PushRequest>(data);
    round_trip::<PushResponse>(data);
    round_trip::<PullResponse>(data);
    round_trip::<EnrolRequest>(data);
    round_trip::<EnrolResponse>(data);
    round_trip::<ChallengeRequest>(data);
    round_trip::<Challenge>(data);
    round_trip::<SessionRequest>(data);
    round_trip::<Session>(data);
    round_trip::<CertificateBody>(data);
    round_trip::<UploadStatus>(data);
    round_trip::<Capabilities>(data);
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A checklist template file (`kiemtra-template/1` JSON).
pub fn template(data: &[u8]) {
    if let Some(json) = text(data) {
        if let Ok(t) = kiemtra_core::template::parse(json) {
            // What parses is usable: every item is found by its code.
            for (_, item) in t.items() {
                assert!(t.item(&item.code).is_some());
            }
        }
    }
}

/// An agency's administrative-units file (`kiemtra-admin-units/1` JSON).
pub fn admin_units(data: &[u8]) {
    if let Some(json) = text(data) {
        let _ = AdminUnits::from_json(json);
        let _ = AdminUnits::builtin_and(json);
    }
}

fn csv_reader(data: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(data)
}

/// The facilities CSV of `admin import-facilities`, row by row.
pub fn facility_csv(data: &[u8]) {
    let units = AdminUnits::builtin();
    for record in csv_reader(data).records().flatten() {
        if let Ok(new) = kiemtra_server::csv_import::parse_row(&record) {
            let _ = new.validate(FacilityId::new(), &units);
        }
    }
}

/// The accidents CSV of `admin import-accidents`, row by row.
pub fn accident_csv(data: &[u8]) {
    let units = AdminUnits::builtin();
    let by_tax: HashMap<String, FacilityId> = HashMap::from([("0200123456".to_string(), FacilityId::new())]);
    for record in csv_reader(data).records().flatten() {
        if let Ok(new) = kiemtra_server::accident_import::parse_row(&record, &by_tax) {
            let declared = Declarant::Import {
                file: "fuzz.csv".into(),
                line: 2,
            };
            let _ = new.validate(AccidentId::new(), declared, chrono::Utc::now(), &units);
        }
    }
}

/// A photo as a phone or the portal hands it over, through the whole
/// pipeline; limits small enough that the fuzzer stays fast, as the real
/// ones keep a real server's memory bounded.
pub fn photo(data: &[u8]) {
    let config = PhotoConfig {
        max_long_side: 256,
        thumb_long_side: 64,
        max_pixels: 4_000_000,
        max_input_bytes: 1 << 20,
        ..PhotoConfig::default()
    };
    if let Ok(p) = normalise(data, &config) {
        assert!(p.image.width.max(p.image.height) <= 256);
        assert!(p.thumbnail.width.max(p.thumbnail.height) <= 64);
        assert!((1..=8).contains(&p.orientation));
    }
}

/// A minutes bundle or PDF given to `kiemtra-server verify`.
pub fn verify(data: &[u8]) {
    let _ = kiemtra_core::minutes::verify_file(data);
}

/// An access code as typed on the portal.
pub fn access_code(data: &[u8]) {
    if let Some(typed) = text(data) {
        if let Ok(code) = kiemtra_core::access_code::AccessCode::parse(typed) {
            let again = kiemtra_core::access_code::AccessCode::parse(&code.grouped())
                .expect("a code's printed form parses");
            assert!(again == code, "the printed form is the same code");
        }
    }
}

/// The three headers of a signed request (`Authorization`, nonce,
/// signature), one per line of the input.
pub fn signed_headers(data: &[u8]) {
    if let Some(input) = text(data) {
        let mut lines = input.splitn(3, '\n');
        let (a, n, s) = (
            lines.next().unwrap_or(""),
            lines.next().unwrap_or(""),
            lines.next().unwrap_or(""),
        );
        if let Ok(h) = kiemtra_server::auth::parse_signed_headers(a, n, s) {
            assert_eq!(h.signature.len(), 64);
            assert!(h.nonce.len() >= 16 && h.nonce.len() <= 128);
        }
    }
}
