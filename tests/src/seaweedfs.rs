//! A SeaweedFS (S3) of the test's own, through `scripts/seaweedfs.sh serve`:
//! it stops when this side closes the script's stdin, that is when the
//! value is dropped or the test process ends, however it ends. A test may
//! also kill it (SIGKILL to weed itself) and start it again on the same data
//! folder and ports, as the store it was.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

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
}

impl Seaweed {
    /// A store in a temporary folder of its own.
    pub fn start() -> Seaweed {
        Self::start_with(&[])
    }

    /// A store keeping its data in `dir`, on `ports` if given (a restart of
    /// one that was killed: the same address, the same objects).
    pub fn start_in(dir: &Path, ports: Option<&str>) -> Seaweed {
        let mut env = vec![("SEAWEEDFS_DIR", dir.display().to_string())];
        if let Some(ports) = ports {
            env.push(("SEAWEEDFS_PORTS", ports.to_string()));
        }
        Self::start_with(&env)
    }

    fn start_with(env: &[(&str, String)]) -> Seaweed {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/seaweedfs.sh");
        let mut child = Command::new("bash")
            .arg(script)
            .arg("serve")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run scripts/seaweedfs.sh");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("the script's stdout");
        let mut fields = HashMap::new();
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
        Seaweed {
            url: field("url"),
            bucket: field("bucket"),
            access_key: field("access_key"),
            secret_key: field("secret_key"),
            pid: field("pid").parse().expect("a pid"),
            ports: field("ports"),
            child,
            stdin,
        }
    }

    /// The address `serve --blob-store` takes.
    pub fn address(&self) -> String {
        format!("s3://{}?endpoint={}", self.bucket, self.url)
    }

    /// The environment that gives the key pair.
    pub fn env(&self) -> [(&str, &str); 2] {
        [
            ("AWS_ACCESS_KEY_ID", self.access_key.as_str()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_key.as_str()),
        ]
    }

    /// The bucket, opened as the server opens it (to look at its keys).
    pub fn open(&self) -> kiemtra_blobs_s3::S3BlobStore {
        let mut config = kiemtra_blobs_s3::S3Config::from_url(&self.address()).expect("the address");
        config.access_key_id = Some(self.access_key.clone());
        config.secret_access_key = Some(self.secret_key.clone());
        kiemtra_blobs_s3::S3BlobStore::open(&config).expect("open the bucket")
    }

    /// SIGKILL to weed itself: the object store crashes, wherever it is.
    pub fn kill_store(&self) {
        let status = Command::new("kill")
            .args(["-KILL", &self.pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -KILL {}", self.pid);
        // Until it is gone (a zombie until the script reaps it is gone
        // enough: its ports are free for a restart).
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) {
                Ok(stat) if !stat.contains(") Z ") => std::thread::sleep(Duration::from_millis(20)),
                _ => break,
            }
        }
    }

    /// Stops the store (after a kill: lets the script clean up) and waits.
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
