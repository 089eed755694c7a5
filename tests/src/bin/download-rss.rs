//! The server's memory while many phones download one large photo at once:
//! starts the real server binary (`KIEMTRA_SERVER_BIN`, on its folder blob
//! store, or on S3 when `KIEMTRA_S3_URL` is set, as `scripts/seaweedfs.sh
//! run` sets it), uploads one blob of `BLOB_MIB` MiB (10), then has `CLIENTS`
//! (20) threads download it at the same time, and prints the server's peak
//! resident memory (`VmHWM` of /proc/PID/status) before and after.
//!
//! `cargo run -p kiemtra-tests --bin download-rss` (a measurement: it
//! prints figures and checks only that every download is whole).

use std::sync::{Arc, Barrier};
use std::time::Instant;

use kiemtra_core::identity::FileKeyStore;
use kiemtra_core::store::Store;
use kiemtra_core::sync::device;
use kiemtra_tests::inspectorate::{team, Team};
use kiemtra_tests::Server;
use sha2::{Digest, Sha256};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A field of /proc/PID/status, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clients = env_usize("CLIENTS", 20);
    let mib = env_usize("BLOB_MIB", 10);
    let data = tempfile::tempdir()?;
    let code = {
        let mut w = kiemtra_server::admin::open_writer(data.path())?;
        let Team { lan, .. } = team(&mut w);
        let code = w.enrol_code(lan, 24)?;
        w.commit()?;
        code
    };
    let s3 = std::env::var("KIEMTRA_S3_URL").ok();
    let extra: Vec<&str> = match &s3 {
        Some(url) => vec!["--blob-store", url],
        None => vec![],
    };
    let server = Server::start(data.path(), &extra);
    let pid = server.pid();

    let phone = tempfile::tempdir()?;
    let store = Store::open(phone.path().join("store"))?;
    let key = Arc::new(FileKeyStore::open_or_create(phone.path().join("device-key"))?);
    device::enrol(&store, key.clone(), &server.url(""), &code, "Lan", None)?;
    let client = Arc::new(device::client(&store, key)?);

    // Incompressible bytes, as a photo is.
    let mut blob = vec![0u8; mib * 1024 * 1024];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in blob.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let sha = hex::encode(Sha256::digest(&blob));
    let mut at = 0;
    while at < blob.len() {
        let end = (at + 256 * 1024).min(blob.len());
        client.upload_chunk(&sha, at as u64, blob.len() as u64, blob[at..end].to_vec())?;
        at = end;
    }
    let before = status_kib(pid, "VmHWM:");
    let rss_before = status_kib(pid, "VmRSS:");

    let barrier = Arc::new(Barrier::new(clients));
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (client, barrier, sha) = (client.clone(), barrier.clone(), sha.clone());
            std::thread::spawn(move || {
                barrier.wait();
                client.download(&sha).map(|b| hex::encode(Sha256::digest(&b)))
            })
        })
        .collect();
    for t in threads {
        let got = t.join().map_err(|_| "a download thread panicked")??;
        assert_eq!(got, sha, "a download is whole");
    }
    let took = started.elapsed();
    let after = status_kib(pid, "VmHWM:");
    println!(
        "store={} clients={clients} blob={mib}MiB: server VmHWM {:.1} MiB before the downloads (VmRSS {:.1}), {:.1} MiB after; {:.1} MiB more; {clients} downloads in {:.2} s",
        if s3.is_some() { "s3" } else { "folder" },
        before as f64 / 1024.0,
        rss_before as f64 / 1024.0,
        after as f64 / 1024.0,
        (after - before) as f64 / 1024.0,
        took.as_secs_f64()
    );
    server.stop();
    Ok(())
}
