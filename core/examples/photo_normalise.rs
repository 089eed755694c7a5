//! Runs the photo pipeline on one file, for `scripts/bench-photo.sh` and for
//! trying a phone's photo by hand.
//!
//! ```text
//! photo_normalise IN.jpg OUT.jpg [THUMB.jpg]   normalise; prints sizes and timing
//! photo_normalise --psnr A.jpg B.jpg           PSNR of B against A (same size RGB)
//! ```

use std::process::ExitCode;
use std::time::Instant;

use kiemtra_core::photo::{normalise, PhotoConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [flag, a, b] if flag == "--psnr" => psnr(a, b),
        [input, output] => run(input, output, None),
        [input, output, thumb] => run(input, output, Some(thumb)),
        _ => Err("usage: photo_normalise IN OUT [THUMB] | photo_normalise --psnr A B".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("photo_normalise: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(input: &str, output: &str, thumb: Option<&String>) -> Result<(), String> {
    let bytes = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
    let start = Instant::now();
    let photo = normalise(&bytes, &PhotoConfig::default()).map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    drop(bytes);
    std::fs::write(output, &photo.image.bytes).map_err(|e| format!("{output}: {e}"))?;
    if let Some(thumb) = thumb {
        std::fs::write(thumb, &photo.thumbnail.bytes).map_err(|e| format!("{thumb}: {e}"))?;
    }
    println!(
        "image {}x{} {} bytes sha256 {}; thumbnail {}x{} {} bytes; original {}x{} orientation {} captured {:?} position {:?}; {:.1} ms",
        photo.image.width,
        photo.image.height,
        photo.image.bytes.len(),
        hex::encode(photo.image.sha256),
        photo.thumbnail.width,
        photo.thumbnail.height,
        photo.thumbnail.bytes.len(),
        photo.original_width,
        photo.original_height,
        photo.orientation,
        photo.captured_at,
        photo.position.map(|p| (p.lat(), p.lon())),
        elapsed.as_secs_f64() * 1000.0,
    );
    Ok(())
}

fn psnr(reference: &str, candidate: &str) -> Result<(), String> {
    let a = decode_rgb(reference)?;
    let b = decode_rgb(candidate)?;
    if (a.width, a.height) != (b.width, b.height) {
        return Err(format!(
            "sizes differ: {}x{} vs {}x{}",
            a.width, a.height, b.width, b.height
        ));
    }
    let sum: f64 = a
        .pixels
        .iter()
        .zip(&b.pixels)
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d
        })
        .sum();
    let mse = sum / a.pixels.len() as f64;
    let db = if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    };
    println!("{db:.2}");
    Ok(())
}

fn decode_rgb(path: &str) -> Result<turbojpeg::Image<Vec<u8>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    turbojpeg::decompress(&bytes, turbojpeg::PixelFormat::RGB).map_err(|e| format!("{path}: {e}"))
}
