//! Support for the end-to-end tests: running the real `kiemtra-server`
//! binary on loopback and talking to it over HTTP.

pub mod field;
pub mod inspectorate;
pub mod seaweedfs;
pub mod staff_browser;

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
        Self::start_with_env(data, addr, extra, &[])
    }

    /// Starts it with more environment variables (an object store's key pair).
    pub fn start_with_env(data: &Path, addr: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(server_binary())
            .args(["serve", "--data"])
            .arg(data)
            .args(["--addr", addr])
            .args(extra)
            .envs(env.iter().copied())
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

    /// The server process's id (to read its /proc entries).
    pub fn pid(&self) -> u32 {
        self.child.id()
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

/// The form token in a page with a form (the hidden `csrf` field's value).
pub fn csrf_field(html: &str) -> String {
    let start = html
        .find("name=\"csrf\" value=\"")
        .map(|i| i + "name=\"csrf\" value=\"".len())
        .unwrap_or_else(|| panic!("no csrf field in the page: {html}"));
    html[start..start + 64].to_string()
}

/// A portal form token as a browser gets one: `GET /portal` sets the
/// `kiemtra_csrf` cookie and the page repeats it in the forms' hidden field.
/// Returns the cookie's `name=value` and the field's value.
pub fn portal_form_token(agent: &ureq::Agent, server: &Server) -> (String, String) {
    let mut page = agent.get(&server.url("/portal")).call().expect("GET /portal");
    let cookie = set_cookie_pair(&page, "kiemtra_csrf").expect("a form-token cookie");
    let token = csrf_field(&page.body_mut().read_to_string().unwrap());
    (cookie, token)
}

/// The `name=value` part of the response's `Set-Cookie` for `name`.
pub fn set_cookie_pair(res: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// Signs in on `/admin/login` as a browser does: gets the page (and its
/// form-token cookie), then posts `fields` with the token. Returns the
/// status and the response's `Set-Cookie` for the session, if any.
pub fn staff_sign_in(
    agent: &ureq::Agent,
    server: &Server,
    fields: &[(&str, &str)],
    extra_header: Option<(&str, &str)>,
) -> (u16, Option<String>) {
    let mut page = agent
        .get(&server.url("/admin/login"))
        .call()
        .expect("GET /admin/login");
    let csrf_cookie = set_cookie_pair(&page, "kiemtra_csrf").expect("a form-token cookie");
    let token = csrf_field(&page.body_mut().read_to_string().unwrap());
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf", &token));
    let mut req = agent
        .post(&server.url("/admin/login"))
        .header("Cookie", &csrf_cookie);
    if let Some((name, value)) = extra_header {
        req = req.header(name, value);
    }
    let res = req.send_form(form).expect("POST /admin/login");
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("kiemtra_admin="))
        .map(str::to_string);
    (res.status().as_u16(), session)
}
