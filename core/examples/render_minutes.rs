//! Renders the fixture minutes (fixed ids, times and keys) to
//! `docs/examples/bien-ban-kiem-tra.html` and `.pdf`, and a refused-to-sign
//! variant, so reviewers can look at the layout without running the app.
//!
//! `cargo run -p kiemtra-core --release --example render_minutes [OUT_DIR]`

#[path = "../tests/vectors/fixture.rs"]
mod fixture;

use std::path::PathBuf;

use fixture::*;
use kiemtra_core::identity::KeyStore;
use kiemtra_core::minutes::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/examples"));
    std::fs::create_dir_all(&out)?;
    let f = fixed();
    let options = RenderOptions::new(VERIFY_URL);
    for (name, statement) in [
        ("bien-ban-kiem-tra", statement()),
        ("bien-ban-tu-choi-ky", refusal()),
    ] {
        let doc = MinutesDocument::build(&f.snapshot, &f.delegation, &f.inspectors, f.info(statement))?;
        let mut signed = SignedMinutes::new(doc)?;
        signed.sign(f.member(), &f.keys[1])?;
        signed.sign(f.secretary(), &f.keys[2])?;
        signed.sign(f.leader(), &f.keys[0])?;
        let mut trusted = TrustedKeys::new();
        for (i, k) in f.inspectors.iter().zip(&f.keys) {
            trusted.insert(&i.id.to_string(), k.public_key()?, &i.name)?;
        }
        let mut blobs = vec![Blob::new(photo_bytes(1)), Blob::new(photo_bytes(2))];
        if signed.document().representative_signature.is_some() {
            blobs.push(Blob::new(drawn_signature()));
        }
        let bundle = Bundle::new(&signed, blobs, trusted);
        let html = render_html(&signed, &options)?;
        let pdf = render_pdf(&signed, &bundle, &options)?;
        std::fs::write(out.join(format!("{name}.html")), html)?;
        std::fs::write(out.join(format!("{name}.pdf")), &pdf)?;
        let report = verify_file(&pdf)?;
        println!(
            "{name}: {} KB PDF, hash {}\n{report}\n",
            pdf.len() / 1024,
            signed.content_hash()
        );
    }
    Ok(())
}
