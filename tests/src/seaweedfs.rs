//! A SeaweedFS (S3) of the test's own, through `scripts/seaweedfs.sh serve`:
//! it stops when this side closes the script's stdin, that is when the
//! value is dropped or the test process ends, however it ends.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

pub struct Seaweed {
    child: Child,
    stdin: Option<ChildStdin>,
    pub url: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
}

impl Seaweed {
    pub fn start() -> Seaweed {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/seaweedfs.sh");
        let mut child = Command::new("bash")
            .arg(script)
            .arg("serve")
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
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        // Closing the pipe tells the script to stop the store.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}
