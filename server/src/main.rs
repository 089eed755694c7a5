//! The `kiemtra-server` command: `serve` runs the server; other subcommands
//! work on the same data folder.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// jemalloc instead of glibc's malloc: under many concurrent pushes glibc's
/// arena locks were a fifth of the server's CPU time (perf, 100 devices).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
use kiemtra_server::admin::AdminCommand;
use kiemtra_server::app::{serve, serve_tls, AppState};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "kiemtra-server",
    version,
    about = "Kiemtra's central server (ATVSLĐ inspections)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the HTTP server on a sled database in a local folder, or on PostgreSQL.
    Serve {
        /// The data folder (created if missing): the database (unless
        /// --database), the server's key and the blobs.
        #[arg(long, default_value = "kiemtra-data")]
        data: PathBuf,
        /// Keep everything but the key and the blobs in this PostgreSQL
        /// database (postgres://user[:password]@host[:port]/name) instead of
        /// sled in the data folder.
        #[arg(long, env = "KIEMTRA_DATABASE_URL")]
        database: Option<String>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Seed demo data once: templates, inspectors, delegations, establishments,
        /// 2023–2025 inspections with sealed minutes, accidents (access codes in DATA/demo-access-codes.json).
        #[arg(long)]
        demo: bool,
        /// sled's page cache in MiB (sled's own default is 1 GiB).
        #[arg(long, default_value_t = 64)]
        cache_mib: u64,
        /// PEM certificate chain: serve HTTPS (with --tls-key) instead of plain HTTP.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key of --tls-cert.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// A reverse proxy in front of the server (repeatable): from it, the
        /// client's address for the portal's guessing limit is read from
        /// `X-Forwarded-For`; from anyone else that header is ignored.
        #[arg(long = "trusted-proxy")]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// Wrong portal access codes allowed per client address per 15 minutes.
        #[arg(long, default_value_t = 10)]
        portal_max_failures: u32,
        /// Keep uploaded blobs in an S3-compatible object store instead of
        /// DATA/blob-store/: `s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION`,
        /// with the key pair in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
        #[arg(long, value_name = "URL")]
        blob_store: Option<String>,
    },
    /// Administration: inspectors, enrolment codes, facilities, templates,
    /// delegations, assignments, accounts, devices. With --server, on the
    /// running server through its API (the token in KIEMTRA_TOKEN); without,
    /// on the data folder of a stopped server.
    Admin {
        /// The running server, e.g. https://kiemtra.example.vn.
        #[arg(long, env = "KIEMTRA_SERVER", conflicts_with = "data")]
        server: Option<String>,
        /// The data folder of a stopped server.
        #[arg(long, default_value = "kiemtra-data")]
        data: PathBuf,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Fills an empty data folder (or PostgreSQL database) with a synthetic
    /// national data set for measuring the overview: establishments,
    /// inspections over the years (about 5 % with violations), accidents.
    /// Sealed records carry no signed minutes: for measuring only.
    Generate {
        #[arg(long, default_value = "kiemtra-data")]
        data: PathBuf,
        #[arg(long, env = "KIEMTRA_DATABASE_URL")]
        database: Option<String>,
        #[arg(long, default_value_t = 100_000)]
        establishments: usize,
        #[arg(long, default_value_t = 1_000_000)]
        inspections: usize,
        #[arg(long, default_value_t = 3)]
        years: u32,
        /// The last year generated.
        #[arg(long, default_value_t = 2025)]
        last_year: i32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Inspections (and establishments) per commit.
        #[arg(long, default_value_t = 10_000)]
        batch: usize,
        /// Also issue an admin token (for the overview's pages) into this file.
        #[arg(long)]
        admin_token_file: Option<PathBuf>,
    },
    /// Verifies signed minutes offline: a bundle file or a PDF with the
    /// bundle attached. Exit status 0 when valid, 1 when not.
    Verify { file: PathBuf },
    /// The blob stores: copy every blob of one into another (a backup of the
    /// bucket, a restore into a new one; docs/backup.md).
    Blobs {
        #[command(subcommand)]
        command: BlobsCommand,
    },
}

#[derive(Subcommand)]
enum BlobsCommand {
    /// Copies every complete blob of FROM that TO lacks, each checked
    /// against its hash at TO; a copy cut short resumes. A store is
    /// `s3://BUCKET[/PREFIX]?endpoint=URL` (the key pair in AWS_ACCESS_KEY_ID
    /// and AWS_SECRET_ACCESS_KEY) or a folder (created if missing).
    Copy {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tower_http=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Command::Verify { file } = &cli.command {
        return verify(file);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiemtra-server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The object store of `serve --blob-store`, asked once at start-up so that
/// a wrong address, bucket or key pair stops the server instead of failing
/// every upload.
fn open_s3_blobs(
    address: &str,
) -> Result<std::sync::Arc<dyn kiemtra_server::storage::BlobStore>, Box<dyn std::error::Error>> {
    if !address.starts_with("s3://") {
        return Err(format!("--blob-store takes s3://BUCKET…, not {address:?}").into());
    }
    Ok(kiemtra_server::blob_copy::open_address(address)?)
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Serve {
            data,
            database,
            addr,
            demo,
            cache_mib,
            tls_cert,
            tls_key,
            portal_max_failures,
            trusted_proxies,
            blob_store,
        } => {
            let mut state = match &database {
                Some(url) => AppState::open_postgres(url, &data, demo)?,
                None => AppState::open(&data, cache_mib * 1024 * 1024, demo)?,
            };
            if let Some(address) = &blob_store {
                state.blobs = open_s3_blobs(address)?;
            }
            state.trusted_proxies = std::sync::Arc::new(trusted_proxies);
            state.portal = std::sync::Arc::new(state.portal.with_limits(
                kiemtra_server::portal::session::PortalLimits {
                    max_failures: portal_max_failures,
                    ..Default::default()
                },
            ));
            state.secure_cookies = tls_cert.is_some();
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async move {
                let listener = std::net::TcpListener::bind(addr)?;
                let local = listener.local_addr()?;
                // Tests and scripts read the bound address from this line (port 0 picks one).
                println!("listening on {local}");
                use std::io::Write;
                std::io::stdout().flush()?;
                // The engine only, never the address: it may carry a password.
                let engine = if database.is_some() { "postgres" } else { "sled" };
                tracing::info!(addr = %local, data = %data.display(), engine, tls = tls_cert.is_some(), "kiemtra-server serving");
                match (tls_cert, tls_key) {
                    (Some(cert), Some(key)) => serve_tls(listener, state, &cert, &key, shutdown_signal()).await,
                    _ => {
                        listener.set_nonblocking(true)?;
                        let listener = tokio::net::TcpListener::from_std(listener)?;
                        serve(listener, state, shutdown_signal()).await
                    }
                }
            })?;
            Ok(())
        }
        Command::Admin {
            server,
            data,
            command,
        } => {
            use kiemtra_server::admin::{Client, Target};
            let target = match server {
                Some(url) => Target::Server(Client::new(&url, None)?),
                None => Target::Folder(data),
            };
            let mut out = std::io::stdout();
            kiemtra_server::admin::run(target, command, &mut out)?;
            Ok(())
        }
        Command::Generate {
            data,
            database,
            establishments,
            inspections,
            years,
            last_year,
            seed,
            batch,
            admin_token_file,
        } => {
            let store: std::sync::Arc<dyn kiemtra_server::storage::Storage> = match &database {
                Some(url) => std::sync::Arc::new(kiemtra_storage_postgres::PgStorage::open(url)?),
                None => std::sync::Arc::new(kiemtra_server::storage::SledStorage::open(
                    &data,
                    256 * 1024 * 1024,
                )?),
            };
            std::fs::create_dir_all(&data)?;
            let key = std::sync::Arc::new(kiemtra_server::server_key::ServerKey::open(&data)?);
            let mut w = kiemtra_server::writer::Writer::new(store, key)?;
            let options = kiemtra_server::generate::Options {
                establishments,
                inspections,
                years,
                last_year,
                seed,
                batch,
            };
            let started = std::time::Instant::now();
            let done = kiemtra_server::generate::generate(&mut w, &options, |g| {
                eprintln!(
                    "{:>7.1} s: {} establishments, {} inspections, {} accidents",
                    started.elapsed().as_secs_f64(),
                    g.facilities,
                    g.inspections,
                    g.accidents
                )
            })?;
            if let Some(file) = &admin_token_file {
                let token = w.create_admin_token("Đo hiệu năng", None)?;
                w.commit()?;
                std::fs::write(file, token)?;
            }
            println!(
                "generated in {:.1} s: {} establishments, {} inspections ({} with violations), {} accidents, {} investigations, {} operations, {} commits",
                started.elapsed().as_secs_f64(),
                done.facilities,
                done.inspections,
                done.with_violations,
                done.accidents,
                done.investigations,
                done.operations,
                done.commits
            );
            Ok(())
        }
        Command::Verify { file } => {
            verify(&file);
            Ok(())
        }
        Command::Blobs {
            command: BlobsCommand::Copy { from, to },
        } => {
            use kiemtra_server::blob_copy::{copy_all, open_address};
            let report = copy_all(&*open_address(&from)?, &*open_address(&to)?)?;
            println!("{report}");
            Ok(())
        }
    }
}

/// Prints the verification report of a minutes file; the exit status says whether it is valid.
fn verify(file: &std::path::Path) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("kiemtra-server: cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    match kiemtra_core::minutes::verify_file(&bytes) {
        Ok(report) => {
            println!("{report}");
            if report.is_valid() {
                println!("HỢP LỆ / VALID");
                ExitCode::SUCCESS
            } else {
                println!("KHÔNG HỢP LỆ / NOT VALID");
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!(
                "kiemtra-server: {} is not a minutes bundle or PDF: {e}",
                file.display()
            );
            ExitCode::from(2)
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("shutting down");
}
