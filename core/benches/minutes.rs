//! Minutes benchmarks: batch verification throughput (bundles of 3
//! signatures) and rendering the full 50-item minutes to PDF.
//!
//! `CARGO_TARGET_DIR=/work/target-minutes cargo bench -p kiemtra-core --bench minutes`

#[path = "../tests/vectors/fixture.rs"]
mod fixture;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fixture::*;
use kiemtra_core::identity::KeyStore;
use kiemtra_core::minutes::*;

fn signed_bundle(f: &Fixture, copies: u32) -> (SignedMinutes, Bundle) {
    let mut info = f.info(statement());
    // Different copies give different documents, so the batch is not one bundle repeated.
    info.copies = copies;
    let doc = MinutesDocument::build(&f.snapshot, &f.delegation, &f.inspectors, info).expect("build");
    let mut s = SignedMinutes::new(doc).expect("freeze");
    s.sign(f.member(), &f.keys[1]).expect("sign");
    s.sign(f.secretary(), &f.keys[2]).expect("sign");
    s.sign(f.leader(), &f.keys[0]).expect("sign");
    let mut trusted = TrustedKeys::new();
    for (i, k) in f.inspectors.iter().zip(&f.keys) {
        trusted
            .insert(&i.id.to_string(), k.public_key().expect("key"), &i.name)
            .expect("trust");
    }
    // Without photo blobs: verification cost is the signatures and the document.
    let b = Bundle::new(&s, Vec::new(), trusted);
    (s, b)
}

fn bench(c: &mut Criterion) {
    let f = fixed();
    let bundles: Vec<Bundle> = (0..256).map(|i| signed_bundle(&f, 2 + i).1).collect();
    let mut g = c.benchmark_group("verify");
    g.throughput(Throughput::Elements(bundles.len() as u64));
    g.bench_function("batch_256_bundles_3_sigs", |b| {
        b.iter(|| black_box(verify_batch(black_box(&bundles))))
    });
    g.bench_function("one_by_one_256_bundles_3_sigs", |b| {
        b.iter(|| bundles.iter().map(verify_bundle).filter(|r| r.is_valid()).count())
    });
    g.finish();

    // Where a bundle's verification time goes, apart from the signatures.
    let bytes = bundles[0].document.0.clone();
    eprintln!("canonical document: {} bytes", bytes.len());
    let mut g = c.benchmark_group("document");
    g.bench_function("decode_canonical", |b| {
        b.iter(|| black_box(decode_canonical(black_box(&bytes))))
    });
    g.bench_function("content_hash", |b| {
        b.iter(|| black_box(content_hash(black_box(&bytes))))
    });
    g.finish();

    let (signed, bundle) = signed_bundle(&f, 3);
    let options = RenderOptions::new(VERIFY_URL);
    let pdf = render_pdf(&signed, &bundle, &options).expect("pdf");
    eprintln!(
        "minutes PDF: {} bytes ({} KB), {} items",
        pdf.len(),
        pdf.len() / 1024,
        signed
            .document()
            .findings
            .iter()
            .map(|s| s.items.len())
            .sum::<usize>()
    );
    let mut g = c.benchmark_group("render");
    g.sample_size(20);
    g.bench_function("pdf_full_minutes", |b| {
        b.iter(|| black_box(render_pdf(&signed, &bundle, &options)))
    });
    g.bench_function("html_full_minutes", |b| {
        b.iter(|| black_box(render_html(&signed, &options)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
