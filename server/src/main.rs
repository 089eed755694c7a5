//! The `kiemtra-server` command: `serve` runs the server; other subcommands
//! work on the same data folder.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use kiemtra_server::app::{serve, AppState};
use kiemtra_server::db::ServerDb;
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
    /// Runs the HTTP server on a sled database in a local folder.
    Serve {
        /// The data folder (created if missing).
        #[arg(long, default_value = "kiemtra-data")]
        data: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Seed demo data (template, inspectors, a delegation, facilities) once.
        #[arg(long)]
        demo: bool,
        /// sled's page cache in MiB (sled's own default is 1 GiB).
        #[arg(long, default_value_t = 64)]
        cache_mib: u64,
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
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiemtra-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Serve {
            data,
            addr,
            demo,
            cache_mib,
        } => {
            let db = Arc::new(ServerDb::open(&data, cache_mib * 1024 * 1024)?);
            if demo && kiemtra_server::demo::seed(&db)? {
                tracing::info!("demo data seeded");
            }
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(addr).await?;
                // Tests and scripts read the bound address from this line (port 0 picks one).
                println!("listening on {}", listener.local_addr()?);
                tracing::info!(addr = %listener.local_addr()?, data = %data.display(), "kiemtra-server serving");
                serve(listener, AppState { db }, shutdown_signal()).await
            })?;
            Ok(())
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
