//! Every committed fuzz corpus (`fuzz/corpus/<target>/`) and every input a
//! fuzzer once crashed on (`fuzz/regressions/<target>/`), replayed through
//! the same target functions that cargo-fuzz runs, as an ordinary test on
//! stable: `scripts/test.sh` checks every decoder on everything the fuzzers
//! found interesting, on a machine without nightly.
//!
//! `write_seed_corpora` (ignored) wrote the first seeds from the real types,
//! so that the fuzzers start from valid messages; run it with `--ignored`
//! to make them again.

#[path = "../../fuzz/src/lib.rs"]
mod targets;

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_fuzz_corpus_replays_through_its_target() {
    let mut failures = Vec::new();
    for (name, target) in targets::TARGETS {
        let corpus = inputs(&fuzz_dir().join("corpus").join(name));
        assert!(!corpus.is_empty(), "target {name} has no committed corpus");
        let regressions = inputs(&fuzz_dir().join("regressions").join(name));
        for file in corpus.iter().chain(&regressions) {
            let bytes = fs::read(file).unwrap();
            if catch_unwind(AssertUnwindSafe(|| target(&bytes))).is_err() {
                failures.push(format!("{name}: {}", file.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "inputs that crash their target: {failures:#?}"
    );
}

#[test]
fn every_target_has_a_cargo_fuzz_binary() {
    let manifest = fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for (name, _) in targets::TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml lacks the target {name}"
        );
        let body = fs::read_to_string(fuzz_dir().join(format!("fuzz_targets/{name}.rs"))).unwrap();
        assert!(body.contains(&format!("kiemtra_fuzz::{name}(data)")), "{name}");
    }
}

#[test]
#[ignore = "writes the seed corpora; run by hand"]
fn write_seed_corpora() {
    use kiemtra_core::answer::{AnswerEntry, AnswerValue, YesNoNa};
    use kiemtra_core::codec::to_cbor;
    use kiemtra_core::ids::{DeviceId, InspectionId, InspectorId, OpId};
    use kiemtra_core::inspection::Status;
    use kiemtra_core::ops::{Operation, Payload};
    use kiemtra_core::photo::{normalise, PhotoConfig};
    use kiemtra_core::sync::wire::*;
    use kiemtra_core::violation::ViolationEdit;

    let seed = |target: &str, name: &str, bytes: &[u8]| {
        let dir = fuzz_dir().join("corpus").join(target);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(name), bytes).unwrap();
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");

    // Wire: a push of the operations a phone sends, and the other messages.
    let inspection = InspectionId::new();
    let device = DeviceId::new();
    let author = Some(InspectorId::new());
    let op = |seq: u64, payload: Payload| Operation {
        id: OpId::new(),
        device,
        seq,
        author,
        at: chrono::Utc::now(),
        payload,
    };
    let photo = normalise(&kiemtra_tests::field::png(64, 48, 7), &PhotoConfig::default()).unwrap();
    let ops = vec![
        op(
            1,
            Payload::Transition {
                inspection,
                to: Status::InProgress,
            },
        ),
        op(
            2,
            Payload::SetAnswer {
                inspection,
                item: "B1".into(),
                entry: AnswerEntry {
                    value: AnswerValue::YesNoNa(YesNoNa::No),
                    note: Some("Chưa có nội quy.\nĐã nhắc.".into()),
                },
                supersedes: vec![OpId::new()],
            },
        ),
        op(
            3,
            Payload::SetAnswer {
                inspection,
                item: "A1".into(),
                entry: AnswerEntry {
                    value: AnswerValue::Count(350),
                    note: None,
                },
                supersedes: vec![],
            },
        ),
        op(
            4,
            Payload::EditViolation {
                inspection,
                item: "B1".into(),
                edit: ViolationEdit {
                    requirement: Some("Ban hành nội quy an toàn".into()),
                    ..Default::default()
                },
                supersedes: vec![],
            },
        ),
        op(
            5,
            Payload::AddPhoto {
                inspection,
                photo: kiemtra_core::evidence::PhotoRecord::from_normalised(
                    &photo,
                    Some("B1".into()),
                    Some("Hiện trường".into()),
                    author,
                ),
            },
        ),
    ];
    for (i, o) in ops.iter().enumerate() {
        seed("wire", &format!("op-{i}.cbor"), &to_cbor("op", o).unwrap());
    }
    seed(
        "wire",
        "push.cbor",
        &to_cbor(
            "push",
            &PushRequest {
                ops: ops.clone(),
                access_codes: vec![],
            },
        )
        .unwrap(),
    );
    let entries = ops
        .iter()
        .enumerate()
        .map(|(i, o)| LogEntry {
            server_seq: i as u64 + 1,
            op: o.clone(),
        })
        .collect();
    seed(
        "wire",
        "pull.cbor",
        &to_cbor(
            "pull",
            &PullResponse {
                entries,
                next: 5,
                more: false,
                head: 5,
            },
        )
        .unwrap(),
    );
    seed(
        "wire",
        "enrol.cbor",
        &to_cbor(
            "enrol",
            &EnrolRequest {
                code: "abcd-efgh".into(),
                device,
                public_key: vec![7; 32],
                device_name: "Điện thoại của Lan".into(),
            },
        )
        .unwrap(),
    );
    seed(
        "wire",
        "challenge.cbor",
        &to_cbor("c", &ChallengeRequest { device }).unwrap(),
    );
    seed(
        "wire",
        "status.cbor",
        &to_cbor(
            "s",
            &UploadStatus {
                received: 10,
                complete: false,
            },
        )
        .unwrap(),
    );

    // Templates and units: the built-in files.
    for entry in fs::read_dir(repo.join("core/templates")).unwrap() {
        let path = entry.unwrap().path();
        seed(
            "template",
            &path.file_name().unwrap().to_string_lossy(),
            &fs::read(&path).unwrap(),
        );
    }
    seed(
        "admin_units",
        "haiphong.json",
        &fs::read(repo.join("core/data/admin-units-haiphong.json")).unwrap(),
    );
    seed(
        "admin_units",
        "agency.json",
        r#"{"format":"kiemtra-admin-units/1","units":[{"code":"hp.an-bien","name_vi":"Phường An Biên","level":"commune","valid_from":"2025-07-01","replaces":["hp.le-chan"]}]}"#
            .as_bytes(),
    );

    // CSVs as the admin commands read them.
    seed(
        "facility_csv",
        "facilities.csv",
        "kind,name,tax_code,street,unit,sector,workforce,high_risk\n\
         enterprise,Công ty TNHH Đóng tàu Bạch Đằng,0200765432,Số 3 Phan Đình Phùng,hp.hong-bang,Đóng tàu,350,true\n\
         craft_village,Làng nghề đúc đồng Mỹ Đồng,,Thôn Mỹ Đồng,hp.thuy-nguyen,Đúc đồng,120,có\n"
            .as_bytes(),
    );
    seed(
        "accident_csv",
        "accidents.csv",
        "occurred_at,place,unit,tax_code,deaths,seriously_injured,lightly_injured,account\n\
         2025-03-04 09:30,Xưởng cơ khí,hp.ngo-quyen,0200123456,0,1,2,Ngã từ giàn giáo\n\
         2024-11-20 14:00,Công trình dân dụng,hp.le-chan,,1,0,0,\"Điện giật, không có hợp đồng\"\n"
            .as_bytes(),
    );

    // Photos: a JPEG (the pipeline's own output), a PNG, a JPEG with EXIF.
    seed("photo", "small.jpg", &photo.image.bytes);
    seed("photo", "small.png", &kiemtra_tests::field::png(40, 30, 3));
    let mut exif_jpeg = photo.thumbnail.bytes[..2].to_vec();
    let tiff = b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0";
    exif_jpeg.extend_from_slice(&[0xFF, 0xE1]);
    exif_jpeg.extend_from_slice(&u16::try_from(2 + 6 + tiff.len()).unwrap().to_be_bytes());
    exif_jpeg.extend_from_slice(b"Exif\0\0");
    exif_jpeg.extend_from_slice(tiff);
    exif_jpeg.extend_from_slice(&photo.thumbnail.bytes[2..]);
    seed("photo", "exif-orientation.jpg", &exif_jpeg);

    // Minutes as given to `verify`: the example PDFs.
    for name in ["bien-ban-kiem-tra.pdf", "bien-ban-tu-choi-ky.pdf"] {
        seed(
            "verify",
            name,
            &fs::read(repo.join("docs/examples").join(name)).unwrap(),
        );
    }

    let code = kiemtra_core::access_code::AccessCode::generate().unwrap();
    seed("access_code", "grouped", code.grouped().as_bytes());
    seed("access_code", "lower", code.grouped().to_lowercase().as_bytes());
    seed("access_code", "plain", code.as_str().as_bytes());

    seed(
        "signed_headers",
        "valid",
        format!(
            "Bearer 6f1e2d3c4b5a69788796a5b4c3d2e1f0\n0123456789abcdef0123\n{}",
            "ab".repeat(64)
        )
        .as_bytes(),
    );
}
