//! A throwaway PostgreSQL for tests, started through the project's
//! `scripts/postgres.sh serve` (Debian's binaries, a temporary folder, a free
//! loopback port): tests never depend on a server started by hand.
//!
//! The script stops the server and deletes its folder when its stdin
//! closes. The harness holds that pipe, so the server goes when the test
//! process does, however it ends (a panic, a kill), with nothing to clean up.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use postgres::NoTls;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot run {script}: {source}")]
    Spawn {
        script: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("scripts/postgres.sh ended without starting a server (its messages are above)")]
    NotStarted,
    #[error("reading scripts/postgres.sh's output: {0}")]
    Read(#[from] std::io::Error),
    #[error("database error: {0}")]
    Postgres(#[from] postgres::Error),
}

/// A running throwaway server. Dropping it stops the server.
pub struct TestCluster {
    url: String,
    /// How long the script took to have a server accepting connections.
    pub started_in: Duration,
    child: Child,
    /// The script's commands (`stop`, `start`) and its answers.
    control: Mutex<Option<(ChildStdin, BufReader<ChildStdout>)>>,
    next_database: AtomicU32,
}

fn script() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/postgres.sh"))
}

impl TestCluster {
    /// Starts a new server (a few seconds: initdb, then start-up).
    pub fn start() -> Result<Self, ClusterError> {
        let script = script();
        let begun = Instant::now();
        let mut child = Command::new(&script)
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| ClusterError::Spawn {
                script: script.clone(),
                source,
            })?;
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().map(BufReader::new);
        let mut url = None;
        if let Some(out) = stdout.as_mut() {
            let mut line = String::new();
            while out.read_line(&mut line)? > 0 {
                if let Some(u) = line.trim_end().strip_prefix("url ") {
                    url = Some(u.to_owned());
                    break;
                }
                line.clear();
            }
        }
        let Some(url) = url else {
            let _ = child.wait();
            return Err(ClusterError::NotStarted);
        };
        Ok(Self {
            url,
            started_in: begun.elapsed(),
            child,
            control: Mutex::new(stdin.zip(stdout)),
            next_database: AtomicU32::new(1),
        })
    }

    /// Stops the server as a crash of its host would look to clients (every
    /// connection cut), keeping its data; [`TestCluster::start_again`]
    /// brings it back on the same address.
    pub fn stop_for_a_while(&self) -> Result<(), ClusterError> {
        self.command("stop", "stopped")
    }

    pub fn start_again(&self) -> Result<(), ClusterError> {
        self.command("start", "started")
    }

    fn command(&self, command: &str, answer: &str) -> Result<(), ClusterError> {
        let mut control = self.control.lock().unwrap_or_else(|p| p.into_inner());
        let Some((stdin, stdout)) = control.as_mut() else {
            return Err(ClusterError::NotStarted);
        };
        writeln!(stdin, "{command}")?;
        stdin.flush()?;
        let mut line = String::new();
        loop {
            line.clear();
            if stdout.read_line(&mut line)? == 0 {
                return Err(ClusterError::NotStarted);
            }
            if line.trim_end() == answer {
                return Ok(());
            }
        }
    }

    /// One server for the whole test process, started by the first caller.
    /// It is never dropped: it stops when the process exits (the pipe closes).
    pub fn shared() -> &'static TestCluster {
        static SHARED: OnceLock<TestCluster> = OnceLock::new();
        SHARED.get_or_init(|| {
            let cluster = TestCluster::start().unwrap_or_else(|e| panic!("starting PostgreSQL: {e}"));
            eprintln!("PostgreSQL started in {} ms", cluster.started_in.as_millis());
            cluster
        })
    }

    /// The superuser's address of the `postgres` database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address of database `name` on this server.
    pub fn url_of(&self, name: &str) -> String {
        match self.url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => self.url.clone(),
        }
    }

    /// Creates a new, empty database and returns its address.
    pub fn fresh_database(&self) -> Result<String, ClusterError> {
        let name = format!("check_{}", self.next_database.fetch_add(1, Ordering::Relaxed));
        let mut admin = postgres::Client::connect(&self.url, NoTls)?;
        // The name is ours (a counter), never input: it may be spliced in.
        admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
        Ok(self.url_of(&name))
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        // Closing the pipe is the script's signal to stop the server.
        drop(self.control.lock().unwrap_or_else(|p| p.into_inner()).take());
        let _ = self.child.wait();
    }
}
