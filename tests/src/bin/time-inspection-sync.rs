//! Times one whole inspection syncing over loopback against the real server
//! binary: 80 answers and 20 photos of about 250 KB pushed by the phone that
//! recorded them, then pulled (with every photo) by a fresh phone.
//!
//! `cargo run --release -p kiemtra-tests --bin time-inspection-sync`
//! (a benchmark: it prints figures and asserts nothing about time).

use std::sync::Arc;
use std::time::Instant;

use kiemtra_core::answer::{AnswerValue, YesNoNa};
use kiemtra_core::facility::{FacilityKind, NewFacility};
use kiemtra_core::identity::FileKeyStore;
use kiemtra_core::inspection::InspectionKind;
use kiemtra_core::store::Store;
use kiemtra_core::sync::{self, device, NoProgress};
use kiemtra_core::template::{osh_general, AnswerType};
use kiemtra_tests::Server;

fn noisy_photo(seed: u32) -> Vec<u8> {
    // Pseudo-random texture: compresses like a real scene (~250 KB at 1600 px, q80).
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let img = image::ImageBuffer::from_fn(2000, 1500, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (state & 0x3f) as u8;
        image::Rgb([
            ((x / 7) as u8).wrapping_add(n),
            ((y / 5) as u8).wrapping_add(n),
            n.wrapping_mul(3),
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .map(|_| out.into_inner())
        .unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = tempfile::tempdir()?;
    let (inspection, codes) = {
        let mut w = kiemtra_server::admin::open_writer(data.path())?;
        w.publish_template(&osh_general())?;
        let lan = w
            .create_inspector("Nguyễn Thị Lan", "Thanh tra viên", "Sở Nội vụ")?
            .id;
        let minh = w
            .create_inspector("Phạm Văn Minh", "Thanh tra viên", "Sở Nội vụ")?
            .id;
        let d = w.create_delegation("Đoàn 1", "QĐ 1", lan, &[minh], None)?.id;
        let f = NewFacility {
            kind: FacilityKind::Enterprise,
            name: "Công ty TNHH Cơ khí".into(),
            tax_code: Some("0200123456".into()),
            street: "Số 5 Lạch Tray".into(),
            unit: "hp.ngo-quyen".into(),
            sector: "Cơ khí".into(),
            workforce: 350,
            high_risk: true,
        }
        .validate(Default::default(), w.admin_units())?;
        w.put_facility(&f)?;
        let i = w.assign(
            d,
            f.id,
            osh_general().key(),
            "2025-03-05".parse()?,
            InspectionKind::Inspection,
        )?;
        let codes = [w.enrol_code(lan, 1)?, w.enrol_code(minh, 1)?];
        w.commit()?;
        (i.id, codes)
    };
    let server = Server::start(data.path(), &[]);
    let phone = |code: &str| -> Result<_, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path().join("store"))?;
        let key = Arc::new(FileKeyStore::open_or_create(dir.path().join("key"))?);
        device::enrol(&store, key.clone(), &server.url(""), code, "bench", None)?;
        Ok((dir, store, key))
    };
    let (_d1, lan, lan_key) = phone(&codes[0])?;
    let client = device::client(&lan, lan_key.clone())?;
    sync::sync(&lan, &client, &NoProgress)?;
    lan.start_inspection(inspection)?;
    // 80 answers: every asked item once, then edits until 80.
    let mut answers = 0;
    while answers < 80 {
        let snap = lan.snapshot(inspection)?;
        for line in snap.checklist().into_iter().filter(|l| l.asked) {
            if answers == 80 {
                break;
            }
            let v = match line.item.answer {
                AnswerType::YesNoNa => AnswerValue::YesNoNa(YesNoNa::Yes),
                AnswerType::Count => AnswerValue::Count(350),
                AnswerType::Ratio => AnswerValue::Ratio {
                    numerator: 9,
                    denominator: 10,
                },
                AnswerType::Text => AnswerValue::Text("Ghi nhận".into()),
            };
            lan.set_answer(inspection, &line.item.code, v, None)?;
            answers += 1;
        }
    }
    let mut bytes = 0;
    for n in 0..20 {
        let p = lan.add_photo(inspection, None, &noisy_photo(n), None)?;
        bytes += p.image.size + p.thumbnail.size;
    }
    let t = Instant::now();
    let pushed = sync::sync(&lan, &client, &NoProgress)?;
    let push_time = t.elapsed();

    let (_d2, minh, minh_key) = phone(&codes[1])?;
    let client = device::client(&minh, minh_key)?;
    let t = Instant::now();
    let pulled = sync::sync(&minh, &client, &NoProgress)?;
    let fetched = sync::blobs::download_photos(&minh, &client, inspection, false)?;
    let pull_time = t.elapsed();
    println!(
        "push: {} ops + {} blobs ({:.1} MB) in {:.0} ms",
        pushed.pushed,
        pushed.photos_uploaded,
        bytes as f64 / 1e6,
        push_time.as_secs_f64() * 1000.0
    );
    println!(
        "fresh device: {} ops pulled + {} blobs fetched in {:.0} ms",
        pulled.pulled,
        fetched,
        pull_time.as_secs_f64() * 1000.0
    );
    server.stop();
    Ok(())
}
