//! Support for the end-to-end tests: running the real `kiemtra-server`
//! binary on loopback and talking to it over HTTP.

pub mod field;
pub mod inspectorate;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// The `kiemtra-server` binary of this workspace. `cargo test --workspace`
/// builds it (the server package has integration tests) and
/// `scripts/test.sh` names it in `KIEMTRA_SERVER_BIN`; run alone, the tests
/// build it once. (A separate `cargo build -p` resolves features differently
/// and would rebuild half the dependency tree, so it is only the fallback.)
pub fn server_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("KIEMTRA_SERVER_BIN").map(PathBuf::from) {
            if bin.exists() {
                return bin;
            }
        }
        // A test runs from target/<profile>/deps/, a binary from target/<profile>/.
        let exe = std::env::current_exe().expect("test binary path");
        let dir = exe.parent().expect("target/<profile>");
        let profile_dir = if dir.ends_with("deps") {
            dir.parent().unwrap_or(dir)
        } else {
            dir
        };
        let bin = profile_dir.join("kiemtra-server");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "kiemtra-server", "--bin", "kiemtra-server"])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building kiemtra-server failed");
        assert!(bin.exists(), "{} missing", bin.display());
        bin
    })
}

/// A running server process; killed when dropped.
pub struct Server {
    child: Child,
    pub addr: String,
    pub data: PathBuf,
}

impl Server {
    /// Starts `kiemtra-server serve` on port 0 of loopback with `data` as its folder.
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        Self::start_on(data, "127.0.0.1:0", extra)
    }

    /// Starts it on a given address (a restart on the address devices know).
    pub fn start_on(data: &Path, addr: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(server_binary())
            .args(["serve", "--data"])
            .arg(data)
            .args(["--addr", addr])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start kiemtra-server");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server {
            child,
            addr,
            data: data.to_path_buf(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn get_json(&self, path: &str) -> serde_json::Value {
        ureq::get(&self.url(path))
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .body_mut()
            .read_json()
            .expect("JSON body")
    }

    /// SIGTERM and wait: a graceful stop.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    /// SIGKILL: the process dies wherever it is.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
