//! `kiemtra-load`: a load generator for the sync server, on loopback only.
//!
//! It sets up a fresh data folder (N inspectors, each leading a delegation
//! with one assigned inspection, and N enrolment codes), starts the
//! `kiemtra-server` binary next to this one on 127.0.0.1, enrols N simulated
//! devices, and has each push `--batch` SetAnswer operations per request:
//! back to back (`saturation`) or once a second (`field`). It stops by itself
//! after `--seconds` and prints operations durably acknowledged per second,
//! push latency percentiles and the server's peak RSS (VmHWM).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use clap::{Parser, ValueEnum};
use kiemtra_core::answer::{AnswerEntry, AnswerValue, YesNoNa};
use kiemtra_core::facility::{FacilityKind, NewFacility};
use kiemtra_core::identity::{DeviceKey, KeyStore};
use kiemtra_core::ids::DeviceId;
use kiemtra_core::ids::{InspectionId, InspectorId, OpId};
use kiemtra_core::inspection::{InspectionKind, Status};
use kiemtra_core::ops::{Operation, Payload};
use kiemtra_core::sync::wire::PushOutcome;
use kiemtra_core::sync::{SyncClient, UreqTransport};
use kiemtra_core::template::{osh_general, AnswerType};
use kiemtra_server::server_key::ServerKey;
use kiemtra_server::storage::Storage;
use kiemtra_server::writer::Writer;
use kiemtra_storage_postgres::PgStorage;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Mode {
    /// Every device pushes back to back.
    Saturation,
    /// Every device pushes one batch a second.
    Field,
}

#[derive(Parser, Debug)]
#[command(
    name = "kiemtra-load",
    about = "Load generator for kiemtra-server (127.0.0.1 only)"
)]
struct Args {
    #[arg(long, default_value_t = 100)]
    devices: usize,
    #[arg(long, value_enum, default_value_t = Mode::Saturation)]
    mode: Mode,
    /// How long the load runs (at most 600).
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Operations per push.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// The server's sled cache.
    #[arg(long, default_value_t = 64)]
    cache_mib: u64,
    /// The server binary (default: kiemtra-server next to this program).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Serve from this PostgreSQL database (`postgres://…`, empty or a
    /// throwaway: the load writes into it) instead of sled in a folder.
    #[arg(long)]
    database: Option<String>,
    /// Server instances on the one database (needs --database); each
    /// device talks to one of them, in turn.
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// Keep the data folder afterwards (e.g. to time `admin check` on it) and print its path.
    #[arg(long)]
    keep: bool,
}

/// A simulated device: the same sync client as the apps (kiemtra-core's).
struct Device {
    client: SyncClient,
    device: DeviceId,
    inspector: InspectorId,
    inspection: InspectionId,
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("kiemtra-load: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let seconds = args.seconds.clamp(1, 600);
    let data = std::env::temp_dir().join(format!("kiemtra-load-{}", std::process::id()));
    let _cleanup = RemoveOnDrop(data.clone(), args.keep);
    eprintln!("setting up {} inspectors in {}", args.devices, data.display());
    let instances = args.instances.max(1);
    if instances > 1 && args.database.is_none() {
        return Err("--instances above 1 needs --database: sled serves one process".into());
    }
    let mut plan = Vec::new();
    {
        let mut w = match &args.database {
            Some(url) => {
                std::fs::create_dir_all(&data)?;
                let store: Arc<dyn Storage> = Arc::new(PgStorage::open(url)?);
                let key = Arc::new(ServerKey::in_storage(&*store, &data)?);
                Writer::new(store, key)?
            }
            None => kiemtra_server::admin::open_writer(&data)?,
        };
        w.publish_template(&osh_general())?;
        let facility = NewFacility {
            kind: FacilityKind::Enterprise,
            name: "Công ty thử tải".into(),
            tax_code: Some("0200000001".into()),
            street: "Số 1".into(),
            unit: "hp.ngo-quyen".into(),
            sector: "Cơ khí".into(),
            workforce: 100,
            high_risk: false,
        }
        .validate(Default::default(), w.admin_units())?;
        w.put_facility(&facility)?;
        let date = NaiveDate::from_ymd_opt(2025, 3, 4).ok_or("date")?;
        for n in 0..args.devices {
            let i = w.create_inspector(&format!("Kiểm tra viên {n}"), "Thanh tra viên", "Sở Nội vụ")?;
            let d = w.create_delegation(&format!("Đoàn {n}"), "QĐ thử", i.id, &[], None)?;
            let insp = w.assign(
                d.id,
                facility.id,
                osh_general().key(),
                date,
                InspectionKind::Inspection,
            )?;
            let code = w.enrol_code(i.id, 24)?;
            plan.push((i.id, insp.id, code));
        }
        w.commit()?;
    }

    let bin = match args.server_bin {
        Some(b) => b,
        None => std::env::current_exe()?
            .parent()
            .ok_or("no parent folder")?
            .join("kiemtra-server"),
    };
    let mut servers = Vec::new();
    let mut bases = Vec::new();
    for k in 0..instances {
        let folder = match args.database {
            Some(_) => data.join(format!("instance-{k}")),
            None => data.clone(),
        };
        let (server, base) = start_server(&bin, &folder, args.cache_mib, args.database.as_deref())?;
        servers.push(server);
        bases.push(base);
    }
    eprintln!("enrolling {} devices", plan.len());
    let mut devices = Vec::new();
    let transport = Arc::new(UreqTransport::new());
    for (n, (inspector, inspection, code)) in plan.into_iter().enumerate() {
        let key: Arc<dyn KeyStore> = Arc::new(DeviceKey::generate()?);
        let device = DeviceId::new();
        let client = SyncClient::new(&bases[n % bases.len()], transport.clone(), key, device);
        client.enrol(&code, "load")?;
        // Sign in before the clock starts (a first signed request opens the
        // session), so that the timed pushes measure pushing only.
        client.pull(0, 1)?;
        devices.push(Device {
            client,
            device,
            inspector,
            inspection,
        });
    }

    let template = osh_general();
    let items: Vec<(String, AnswerValue)> = template
        .items()
        .filter(|(_, i)| i.when.is_none() && i.applies_to(FacilityKind::Enterprise))
        .map(|(_, i)| {
            let v = match i.answer {
                AnswerType::YesNoNa => AnswerValue::YesNoNa(YesNoNa::Yes),
                AnswerType::Count => AnswerValue::Count(7),
                AnswerType::Ratio => AnswerValue::Ratio {
                    numerator: 9,
                    denominator: 10,
                },
                AnswerType::Text => AnswerValue::Text("Đạt".into()),
            };
            (i.code.clone(), v)
        })
        .collect();
    let items = Arc::new(items);

    eprintln!("{:?} load for {seconds} s", args.mode);
    let accepted = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut threads = Vec::new();
    for (k, dev) in devices.into_iter().enumerate() {
        let (items, accepted, refused, failed, stop, latencies) = (
            items.clone(),
            accepted.clone(),
            refused.clone(),
            failed.clone(),
            stop.clone(),
            latencies.clone(),
        );
        let mode = args.mode;
        let batch = args.batch;
        threads.push(std::thread::spawn(move || {
            let mut seq = 1u64;
            let mut mine = Vec::new();
            let mut last: Vec<Option<OpId>> = vec![None; items.len()];
            let mut next_item = 0usize;
            let mk = |seq: u64, payload: Payload| Operation {
                id: OpId::new(),
                device: dev.device,
                seq,
                author: Some(dev.inspector),
                at: Utc::now(),
                payload,
            };
            let start = mk(
                seq,
                Payload::Transition {
                    inspection: dev.inspection,
                    to: Status::InProgress,
                },
            );
            seq += 1;
            if dev.client.push(&[start], &[]).is_err() {
                failed.fetch_add(1, Ordering::Relaxed);
                return;
            }
            // Field mode: spread the devices over the second.
            let mut tick = Instant::now() + Duration::from_millis((k as u64 * 1000) / 100 % 1000);
            while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
                if let Mode::Field = mode {
                    let now = Instant::now();
                    if tick > now {
                        std::thread::sleep(tick - now);
                    }
                    tick += Duration::from_secs(1);
                    if Instant::now() >= deadline {
                        break;
                    }
                }
                let mut ops = Vec::with_capacity(batch);
                for _ in 0..batch {
                    let i = next_item % items.len();
                    next_item += 1;
                    let (code, value) = &items[i];
                    let op = mk(
                        seq,
                        Payload::SetAnswer {
                            inspection: dev.inspection,
                            item: code.clone(),
                            entry: AnswerEntry {
                                value: value.clone(),
                                note: None,
                            },
                            // Each answer supersedes the last, as an inspector's edits do.
                            supersedes: last[i].into_iter().collect(),
                        },
                    );
                    last[i] = Some(op.id);
                    seq += 1;
                    ops.push(op);
                }
                let t = Instant::now();
                match dev.client.push(&ops, &[]) {
                    Ok(res) => {
                        mine.push(t.elapsed());
                        let ok = res
                            .results
                            .iter()
                            .filter(|r| matches!(r.outcome, PushOutcome::Accepted { .. }))
                            .count() as u64;
                        accepted.fetch_add(ok, Ordering::Relaxed);
                        refused.fetch_add(res.results.len() as u64 - ok, Ordering::Relaxed);
                    }
                    Err(e) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        eprintln!("push failed: {e}");
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            }
            if let Ok(mut l) = latencies.lock() {
                l.extend(mine);
            }
        }));
    }
    for t in threads {
        let _ = t.join();
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let hwm: Vec<Option<u64>> = servers.iter().map(|s| peak_rss_kib(s.pid)).collect();
    drop(servers);

    let mut lat = latencies.lock().map_err(|_| "latency lock")?.clone();
    lat.sort();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
        lat[i].as_secs_f64() * 1000.0
    };
    let acc = accepted.load(Ordering::Relaxed);
    println!(
        "mode: {:?}, devices: {}, batch: {}, duration: {elapsed:.1} s, storage: {}, instances: {instances}",
        args.mode,
        args.devices,
        args.batch,
        if args.database.is_some() {
            "postgres"
        } else {
            "sled"
        }
    );
    println!(
        "pushes: {}, ops accepted (durable): {acc}, refused: {}, failed requests: {}",
        lat.len(),
        refused.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed)
    );
    println!("throughput: {:.0} ops/s", acc as f64 / elapsed);
    println!(
        "push latency: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    for (k, h) in hwm.iter().enumerate() {
        match h {
            Some(kib) => println!("server {k} peak RSS (VmHWM): {:.1} MiB", *kib as f64 / 1024.0),
            None => println!("server {k} peak RSS: unavailable"),
        }
    }
    Ok(())
}

/// Starts one `kiemtra-server serve` on 127.0.0.1 and returns it with its base URL.
fn start_server(
    bin: &Path,
    data: &Path,
    cache_mib: u64,
    database: Option<&str>,
) -> Result<(ServerProcess, String), Box<dyn std::error::Error>> {
    let mut command = Command::new(bin);
    command
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--cache-mib",
            &cache_mib.to_string(),
            "--data",
        ])
        .arg(data);
    if let Some(url) = database {
        command.args(["--database", url]);
    }
    let mut child = command
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let server = ServerProcess {
        pid: child.id(),
        child,
    };
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or("unexpected first line")?
        .to_string();
    if !addr.starts_with("127.0.0.1:") {
        return Err("the server must listen on 127.0.0.1".into());
    }
    Ok((server, format!("http://{addr}")))
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A server process; stopped (SIGTERM, then waited for) when dropped, whatever happened.
struct ServerProcess {
    pid: u32,
    child: std::process::Child,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// The data folder, removed at the end unless asked to keep it.
struct RemoveOnDrop(PathBuf, bool);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if self.1 {
            eprintln!("data folder kept: {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
