//! A SeaweedFS of the test's own, started through `scripts/seaweedfs.sh
//! serve` (never one started by hand): the script prints where it listens
//! and stops the store when this side closes its stdin, so the store goes
//! with the test process however that ends.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use kiemtra_blobs_s3::{S3BlobStore, S3Config};
use sha2::{Digest, Sha256};

pub struct Seaweed {
    child: Child,
    stdin: Option<ChildStdin>,
    pub url: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    /// weed's own process, for the tests that kill it.
    pub pid: u32,
    /// Every port it listens on, to restart it on the same ones.
    pub ports: String,
    pub started_in: Duration,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/seaweedfs.sh")
}

impl Seaweed {
    /// A store in a temporary folder of its own.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// A store keeping its data in `dir`, on `ports` if given (a restart
    /// of one that was killed).
    pub fn start_in(dir: &Path, ports: Option<&str>) -> Self {
        let mut env = vec![("SEAWEEDFS_DIR", dir.display().to_string())];
        if let Some(ports) = ports {
            env.push(("SEAWEEDFS_PORTS", ports.to_string()));
        }
        Self::start_with(&env)
    }

    fn start_with(env: &[(&str, String)]) -> Self {
        let started = Instant::now();
        let mut cmd = Command::new("bash");
        cmd.arg(script())
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("run scripts/seaweedfs.sh");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("the script's stdout");
        let mut fields = std::collections::HashMap::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("read the script's output");
            if line == "ready" {
                break;
            }
            if let Some((k, v)) = line.split_once(' ') {
                fields.insert(k.to_string(), v.to_string());
            }
        }
        let field = |k: &str| {
            fields
                .get(k)
                .cloned()
                .unwrap_or_else(|| panic!("seaweedfs.sh did not start (no {k})"))
        };
        Self {
            url: field("url"),
            bucket: field("bucket"),
            access_key: field("access_key"),
            secret_key: field("secret_key"),
            pid: field("pid").parse().expect("a pid"),
            ports: field("ports"),
            started_in: started.elapsed(),
            child,
            stdin,
        }
    }

    pub fn config(&self) -> S3Config {
        let mut c = S3Config::new(&self.bucket);
        c.endpoint = Some(self.url.clone());
        c.access_key_id = Some(self.access_key.clone());
        c.secret_access_key = Some(self.secret_key.clone());
        // A killed store should fail calls quickly.
        c.connect_timeout = Duration::from_secs(2);
        c.request_timeout = Duration::from_secs(20);
        c.retry_timeout = Duration::from_secs(3);
        c
    }

    pub fn open(&self) -> S3BlobStore {
        S3BlobStore::open(&self.config()).expect("open the S3 blob store")
    }

    /// SIGKILL to weed itself: the crash of the object store.
    pub fn kill_store(&self) {
        let status = Command::new("kill")
            .args(["-KILL", &self.pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -KILL {}", self.pid);
        // Until it is gone (its ports free for a restart).
        let deadline = Instant::now() + Duration::from_secs(10);
        while Path::new(&format!("/proc/{}", self.pid)).exists() && Instant::now() < deadline {
            // A zombie until the script reaps it: gone enough for the ports.
            if std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
                .map(|s| s.contains(") Z "))
                .unwrap_or(true)
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the store and waits for the script to have cleaned up.
    pub fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        // Closing the pipe tells the script to stop the store.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        self.stop_now();
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `n` bytes that differ from one `seed` to another.
pub fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u64).wrapping_mul(2654435761).wrapping_add(seed as u64) as u8 ^ seed)
        .collect()
}
