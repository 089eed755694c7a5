//! Criterion benchmark of the photo pipeline on the reference phone photo.
//!
//! `cargo bench -p kiemtra-core --bench photo`. The reference photo lives in
//! the shared folder beside the repo (`../shared/photos/phone-12mp.jpg`), or
//! wherever `KIEMTRA_PHOTO` points. Comparison with libvips, memory and output
//! quality are in `scripts/bench-photo.sh`.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kiemtra_core::photo::{normalise, PhotoConfig};

fn reference_photo() -> Option<Vec<u8>> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("KIEMTRA_PHOTO").map(PathBuf::from),
        Some(manifest.join("../../shared/photos/phone-12mp.jpg")),
        Some(PathBuf::from("/work/shared/photos/phone-12mp.jpg")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(|path| std::fs::read(path).ok())
}

fn bench(c: &mut Criterion) {
    let Some(photo) = reference_photo() else {
        eprintln!("photo bench skipped: phone-12mp.jpg not found (set KIEMTRA_PHOTO)");
        return;
    };
    let config = PhotoConfig::default();
    let mut group = c.benchmark_group("photo");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(photo.len() as u64));
    group.bench_function("normalise_phone_12mp", |b| {
        b.iter(|| normalise(std::hint::black_box(&photo), &config))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
