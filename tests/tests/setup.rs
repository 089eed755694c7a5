//! A newcomer's first command: the README's two set-up commands on a fresh
//! machine, which has no `cmake` and no `nasm` (turbojpeg's bundled
//! libjpeg-turbo needs both to build).
//!
//! The commands are read from the README itself and run with a `PATH` that
//! holds only the few tools the scripts use, no `cmake`, no `nasm`, and
//! stand-ins for `apt-get`, `sudo` and `cargo` that record what they were
//! asked. The stand-in `apt-get` "installs" a package by putting an
//! executable of its name on that `PATH`; the stand-in `cargo` fails, as the
//! real build would, when it starts without `cmake` or `nasm` on `PATH`. So
//! the test shows, in a second and without touching the machine, that the
//! serve command installs what the build needs before building, and only
//! that.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

/// The shell commands of the README's "Set-up on a fresh machine", in order.
fn readme_commands() -> Vec<String> {
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme
        .split("## Set-up on a fresh machine")
        .nth(1)
        .expect("the README has its set-up section")
        .split("\n## ")
        .next()
        .unwrap_or_default();
    let mut commands = Vec::new();
    let mut in_block = false;
    for line in section.lines() {
        match (in_block, line.trim()) {
            (false, "```sh") => in_block = true,
            (true, "```") => in_block = false,
            (true, command) if !command.is_empty() => commands.push(command.to_string()),
            _ => {}
        }
    }
    commands
}

/// Where a real tool is, found on the test's own `PATH`.
fn real(tool: &str) -> PathBuf {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .unwrap();
    let path = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(!path.is_empty(), "{tool} is on this machine");
    PathBuf::from(path)
}

fn script(path: &Path, body: &str) {
    fs::write(path, format!("#!{}\n{body}", real("bash").display())).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A fresh machine's `PATH`: the shell and the few tools the scripts call,
/// no cmake, no nasm; recording stand-ins for apt-get, sudo and cargo.
struct Fresh {
    _dir: tempfile::TempDir,
    bin: PathBuf,
    log: PathBuf,
}

impl Fresh {
    fn new() -> Fresh {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        fs::create_dir(&bin).unwrap();
        for tool in ["bash", "dirname", "id"] {
            std::os::unix::fs::symlink(real(tool), bin.join(tool)).unwrap();
        }
        let log = dir.path().join("log");
        let chmod = real("chmod");
        script(
            &bin.join("apt-get"),
            &format!(
                r#"echo "apt-get $*" >> "$FRESH_LOG"
if [ "$1" = install ]; then
  for p in "$@"; do
    case "$p" in -*|install) ;; *) printf '#!/bin/sh\nexit 0\n' > "$FRESH_BIN/$p"; {} +x "$FRESH_BIN/$p" ;; esac
  done
fi
"#,
                chmod.display()
            ),
        );
        script(&bin.join("sudo"), "\"$@\"\n");
        script(
            &bin.join("cargo"),
            r#"for tool in cmake nasm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "turbojpeg-sys: $tool not found" >&2; exit 97; }
done
echo "cargo $*" >> "$FRESH_LOG"
"#,
        );
        Fresh { _dir: dir, bin, log }
    }

    fn run(&self, command: &str) -> Output {
        Command::new(self.bin.join("bash"))
            .args(["-c", command])
            .current_dir(repo())
            .env_clear()
            .env("PATH", &self.bin)
            .env("HOME", self._dir.path())
            .env("FRESH_LOG", &self.log)
            .env("FRESH_BIN", &self.bin)
            .output()
            .unwrap()
    }

    fn log(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

#[test]
fn the_readme_keeps_two_set_up_commands_serve_then_test() {
    let commands = readme_commands();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert!(commands[0].starts_with("scripts/serve.sh "), "{commands:?}");
    assert!(commands[0].contains("--demo"), "{commands:?}");
    assert_eq!(commands[1], "scripts/test.sh");
}

#[test]
fn the_serve_command_installs_cmake_and_nasm_before_building_on_a_fresh_machine() {
    let serve = readme_commands().remove(0);

    // The fixture is a fresh machine: the build as such fails there.
    let fresh = Fresh::new();
    let bare = fresh.run("cargo run --release -p kiemtra-server -- serve");
    assert_eq!(
        bare.status.code(),
        Some(97),
        "without cmake and nasm the build fails"
    );

    let fresh = Fresh::new();
    let out = fresh.run(&serve);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{serve}: {stderr}");
    let log = fresh.log();
    let install = log
        .iter()
        .find(|l| l.starts_with("apt-get install"))
        .unwrap_or_else(|| panic!("nothing installed: {log:?}"));
    assert!(install.split(' ').any(|w| w == "cmake"), "{install}");
    assert!(install.split(' ').any(|w| w == "nasm"), "{install}");
    // Only what the build needs: browsers are for the tests.
    assert!(!install.contains("chromium"), "{install}");
    // Then the server is built and run with the README's arguments.
    let args = serve.trim_start_matches("scripts/serve.sh ");
    assert_eq!(
        log.last().map(String::as_str),
        Some(format!("cargo run --release -p kiemtra-server -- serve {args}").as_str()),
        "{log:?}"
    );
}

#[test]
fn on_a_machine_that_has_cmake_and_nasm_the_serve_command_installs_nothing() {
    let serve = readme_commands().remove(0);
    let fresh = Fresh::new();
    for tool in ["cmake", "nasm"] {
        script(&fresh.bin.join(tool), "exit 0\n");
    }
    let out = fresh.run(&serve);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = fresh.log();
    assert!(log.iter().all(|l| !l.starts_with("apt-get")), "{log:?}");
    assert!(log.iter().any(|l| l.starts_with("cargo run")), "{log:?}");
}
