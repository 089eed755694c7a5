//! `kiemtra-server admin`: the inspectorate's administration commands.
//!
//! With `--server URL` (or `KIEMTRA_SERVER`), a command is a client of the
//! running server's JSON API and needs nothing stopped. Without it, it
//! opens the data folder of a stopped server directly (sled locks the
//! folder while a server runs): for the first administrator of an empty
//! folder, or a check with repair. Either way the same actions
//! (`administration/`) run, with the same audit entries, and every change
//! devices need is an operation they receive by pull.

mod client;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::Subcommand;
use kiemtra_core::ids::{AccidentId, DelegationId, DeviceId, FacilityId, InspectorId};
use kiemtra_core::inspection::InspectionKind;

use crate::administration::{self as actions, *};
use crate::audit::Actor;
use crate::csv_import::ImportReport;
use crate::error::ServerError;
use crate::writer::{open_dir, Writer};

pub use client::{Client, TOKEN_VAR};

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error("the server refused ({status}{}): {message}", if code.is_empty() { String::new() } else { format!(", {code}") })]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("cannot reach the server: {0}")]
    Connect(String),
    #[error("no API token: set {TOKEN_VAR} (see `admin create-api-token`)")]
    NoToken,
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Creates an inspector; prints the id.
    CreateInspector {
        #[arg(long)]
        name: String,
        /// Job title as printed in the minutes, e.g. "Thanh tra viên".
        #[arg(long)]
        title: String,
        #[arg(long)]
        agency: String,
    },
    /// Issues a one-time enrolment code for an inspector's device; prints it.
    EnrolCode {
        #[arg(long)]
        inspector: InspectorId,
        /// Hours the code stays valid (0: already expired, for tests).
        #[arg(long, default_value_t = 24)]
        valid_hours: u32,
    },
    /// Imports establishments from CSV (kind,name,tax_code,street,unit,sector,workforce,high_risk).
    ImportFacilities {
        file: PathBuf,
        /// No progress bar (scripts, logs).
        #[arg(long)]
        quiet: bool,
    },
    /// Publishes a checklist template (kiemtra-template/1 JSON). Published versions are immutable.
    PublishTemplate { file: PathBuf },
    /// Publishes the agency's administrative units (kiemtra-admin-units/1 JSON),
    /// e.g. the commune-level units from 2025-07-01: the whole list, replacing
    /// the previous one (a unit once published cannot be left out). Devices
    /// receive it on their next sync.
    PublishUnits { file: PathBuf },
    /// Creates an inspection delegation; prints the id.
    CreateDelegation {
        #[arg(long)]
        name: String,
        /// The decision that set it up (Quyết định số …).
        #[arg(long)]
        decision: String,
        #[arg(long)]
        leader: InspectorId,
        #[arg(long = "member")]
        members: Vec<InspectorId>,
        #[arg(long)]
        secretary: Option<InspectorId>,
    },
    /// Assigns an inspection of a facility to a delegation; prints the inspection id.
    Assign {
        #[arg(long)]
        delegation: DelegationId,
        #[arg(long)]
        facility: FacilityId,
        /// Template as ID@VERSION, e.g. osh-general@1.
        #[arg(long)]
        template: String,
        /// Planned date, YYYY-MM-DD.
        #[arg(long)]
        date: NaiveDate,
        #[arg(long, default_value = "inspection", value_parser = parse_kind)]
        kind: InspectionKind,
    },
    /// Assigns the investigation of a declared accident to a delegation
    /// (built-in investigation template); prints the inspection id.
    AssignInvestigation {
        #[arg(long)]
        delegation: DelegationId,
        #[arg(long)]
        accident: AccidentId,
        /// Planned date, YYYY-MM-DD.
        #[arg(long)]
        date: NaiveDate,
    },
    /// Imports declared accidents from CSV (occurred_at,place,unit,tax_code,deaths,seriously_injured,lightly_injured,account).
    ImportAccidents { file: PathBuf },
    /// Lists declared accidents: id, date, unit, deaths, place (tab-separated).
    ListAccidents,
    /// Creates a staff account (the first administrator of a new data
    /// folder, say). The password is read from the environment variable
    /// KIEMTRA_ACCOUNT_PASSWORD, or else from the first line of standard
    /// input; it is never printed, and only its argon2id hash is kept.
    CreateAccount {
        /// What the official types to sign in: 3 to 64 of a-z, 0-9, '.', '_', '-'.
        #[arg(long)]
        login: String,
        /// The name shown on pages, e.g. "Nguyễn Văn An".
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: crate::accounts::Role,
        /// For an inspector's account: the inspector it is.
        #[arg(long)]
        inspector: Option<InspectorId>,
    },
    /// Removes a staff account's second factor (a lost phone); it signs in
    /// with its password again, or is sent to set up a new one where the
    /// agency requires it.
    ResetSecondFactor {
        #[arg(long)]
        login: String,
    },
    /// Issues an API token; prints it once. Bound to `--account`, it opens
    /// what that account's role opens. On a server (`--server`) it is bound
    /// to the caller's account unless an administrator names another; on a
    /// folder without `--account` it opens every area (a bootstrap token).
    #[command(alias = "create-admin-token")]
    CreateApiToken {
        /// What the token is for, e.g. "nightly import".
        #[arg(long)]
        name: String,
        #[arg(long)]
        account: Option<String>,
    },
    /// Revokes a device: its key no longer authenticates.
    RevokeDevice {
        #[arg(long)]
        device: DeviceId,
    },
    /// Lists establishments: id, tax code, administrative unit, name (tab-separated).
    ListFacilities,
    /// Lists enrolled devices.
    ListDevices,
    /// Checks that the inspection records (and grants, establishments, people,
    /// templates) are what the operation log says; fails if not. With
    /// `--repair`, rebuilds them from the log. The server checks (and repairs)
    /// at every start too.
    Check {
        #[arg(long)]
        repair: bool,
    },
}

fn parse_kind(s: &str) -> Result<InspectionKind, String> {
    Ok(match s {
        "inspection" => InspectionKind::Inspection,
        "formal_inspection" => InspectionKind::FormalInspection,
        "accident_investigation" => InspectionKind::AccidentInvestigation,
        "self_inspection" => InspectionKind::SelfInspection,
        "outreach" => InspectionKind::Outreach,
        other => {
            return Err(format!(
                "unknown kind {other:?}: inspection, formal_inspection, accident_investigation, self_inspection or outreach"
            ))
        }
    })
}

/// Opens the data folder with a writer (sled cache small: admin work is short).
pub fn open_writer(data: &Path) -> Result<Writer, ServerError> {
    let opened = open_dir(data, 64 * 1024 * 1024).map_err(|e| match e {
        ServerError::Storage(m) | ServerError::StorageUnavailable(m) if m.contains("lock") => ServerError::Storage(format!(
            "{m}: is the server running on this data folder? Give its address with --server URL (and a token in KIEMTRA_TOKEN) instead"
        )),
        e => e,
    })?;
    Writer::new(opened.store, opened.key)
}

/// The password of a new account: from KIEMTRA_ACCOUNT_PASSWORD, or the
/// first line of standard input (so that it appears in no process list).
fn new_password() -> Result<String, AdminError> {
    if let Ok(p) = std::env::var("KIEMTRA_ACCOUNT_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| AdminError::Usage(format!("cannot read the password from standard input: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Where commands act: the folder of a stopped server, or a running one.
pub enum Target {
    Folder(PathBuf),
    Server(Client),
}

/// Runs an action on the folder's writer as the console's operator and commits it.
fn local<T>(
    w: &mut Writer,
    f: impl FnOnce(&mut Writer, &Actor) -> Result<T, ServerError>,
) -> Result<T, AdminError> {
    let out = f(w, &Actor::console())?;
    w.commit()?;
    Ok(out)
}

fn read_file(file: &Path) -> Result<String, AdminError> {
    std::fs::read_to_string(file)
        .map_err(|e| AdminError::Usage(format!("cannot read {}: {e}", file.display())))
}

/// A file's name, as the audit log and the accidents' declarant record it.
fn file_name(file: &Path) -> String {
    file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `?source=NAME`, the file's name percent-encoded.
fn source_query(file: &Path) -> String {
    let name = file_name(file);
    let mut q = String::from("?source=");
    for b in name.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => q.push(b as char),
            b => q.push_str(&format!("%{b:02X}")),
        }
    }
    q
}

/// Runs one admin command; what it prints goes to `out`.
pub fn run(target: Target, cmd: AdminCommand, out: &mut dyn std::io::Write) -> Result<(), AdminError> {
    match target {
        Target::Folder(data) => run_on_folder(&data, cmd, out),
        Target::Server(client) => run_on_server(&client, cmd, out),
    }
}

fn run_on_folder(data: &Path, cmd: AdminCommand, out: &mut dyn std::io::Write) -> Result<(), AdminError> {
    if let AdminCommand::Check { repair } = cmd {
        let store = open_writer(data)?.storage().clone();
        let report = if repair {
            crate::replay::check_and_repair(&*store)?
        } else {
            crate::replay::check(&*store)?
        };
        writeln!(out, "{report}")?;
        return match (report.holds(), repair) {
            (true, _) => Ok(()),
            (false, true) => {
                writeln!(out, "rebuilt from the log")?;
                Ok(())
            }
            (false, false) => Err(ServerError::Conflict(
                "the records are not the merge of the log; run again with --repair".into(),
            )
            .into()),
        };
    }
    let mut w = open_writer(data)?;
    let w = &mut w;
    match cmd {
        AdminCommand::CreateInspector { name, title, agency } => {
            let req = NewInspector { name, title, agency };
            print_created(out, &local(w, |w, a| actions::create_inspector(w, a, req))?)
        }
        AdminCommand::EnrolCode {
            inspector,
            valid_hours,
        } => {
            let req = EnrolCodeRequest {
                inspector,
                valid_hours,
            };
            let code = local(w, |w, a| actions::issue_enrol_code(w, a, req))?;
            Ok(writeln!(out, "{}", code.code)?)
        }
        AdminCommand::ImportFacilities { file, quiet } => {
            // From a file on this machine: with a progress bar, in chunks.
            let report = local(w, |w, a| {
                let report = crate::csv_import::import_facilities(w, &file, !quiet)?;
                actions::audit_import(w, a, "import_facilities", &file_name(&file), &report)?;
                Ok(report)
            })?;
            print_report(out, &report)
        }
        AdminCommand::PublishTemplate { file } => {
            let json = read_file(&file)?;
            print_published(out, &local(w, |w, a| actions::publish_template(w, a, &json))?)
        }
        AdminCommand::PublishUnits { file } => {
            let json = read_file(&file)?;
            let source = file_name(&file);
            print_published(
                out,
                &local(w, |w, a| actions::publish_units(w, a, &source, &json))?,
            )
        }
        AdminCommand::CreateDelegation {
            name,
            decision,
            leader,
            members,
            secretary,
        } => {
            let req = NewDelegation {
                name,
                decision,
                leader,
                members,
                secretary,
            };
            print_created(out, &local(w, |w, a| actions::create_delegation(w, a, req))?)
        }
        AdminCommand::Assign {
            delegation,
            facility,
            template,
            date,
            kind,
        } => {
            let req = NewAssignment {
                delegation,
                facility,
                template,
                date,
                kind,
            };
            print_created(out, &local(w, |w, a| actions::assign(w, a, req))?)
        }
        AdminCommand::AssignInvestigation {
            delegation,
            accident,
            date,
        } => {
            let req = NewInvestigation {
                delegation,
                accident,
                date,
            };
            print_created(out, &local(w, |w, a| actions::assign_investigation(w, a, req))?)
        }
        AdminCommand::ImportAccidents { file } => {
            let csv = read_file(&file)?;
            let source = file_name(&file);
            print_report(
                out,
                &local(w, |w, a| actions::import_accidents(w, a, &source, &csv))?,
            )
        }
        AdminCommand::ListAccidents => print_accidents(out, &actions::accidents(&w.db())?),
        AdminCommand::CreateAccount {
            login,
            name,
            role,
            inspector,
        } => {
            let req = NewAccountRequest {
                login,
                name,
                role,
                inspector,
                password: new_password()?,
            };
            print_account(out, &local(w, |w, a| actions::create_account(w, a, req))?)
        }
        AdminCommand::CreateApiToken { name, account } => {
            let req = NewApiToken { name, account };
            Ok(writeln!(
                out,
                "{}",
                local(w, |w, a| actions::create_api_token(w, a, req))?.token
            )?)
        }
        AdminCommand::ResetSecondFactor { login } => {
            print_reset(out, &local(w, |w, a| actions::reset_second_factor(w, a, &login))?)
        }
        AdminCommand::RevokeDevice { device } => {
            let r = local(w, |w, a| actions::revoke_device(w, a, device))?;
            Ok(writeln!(out, "revoked {}", r.device)?)
        }
        AdminCommand::ListFacilities => {
            let all = FacilityQuery {
                page: 1,
                ..Default::default()
            };
            let mut page = actions::search_facilities(&w.db(), &all)?;
            loop {
                print_facilities(out, &page)?;
                if page.page >= page.pages {
                    return Ok(());
                }
                let next = FacilityQuery {
                    page: page.page + 1,
                    ..Default::default()
                };
                page = actions::search_facilities(&w.db(), &next)?;
            }
        }
        AdminCommand::ListDevices => print_devices(out, &actions::devices(&w.db(), &Default::default())?),
        AdminCommand::Check { .. } => Ok(()),
    }
}

fn run_on_server(c: &Client, cmd: AdminCommand, out: &mut dyn std::io::Write) -> Result<(), AdminError> {
    match cmd {
        AdminCommand::CreateInspector { name, title, agency } => {
            let req = NewInspector { name, title, agency };
            print_created(out, &c.post_json("/api/v1/admin/inspectors", &req)?)
        }
        AdminCommand::EnrolCode {
            inspector,
            valid_hours,
        } => {
            let req = EnrolCodeRequest {
                inspector,
                valid_hours,
            };
            let code: IssuedCode = c.post_json("/api/v1/admin/enrol-codes", &req)?;
            Ok(writeln!(out, "{}", code.code)?)
        }
        AdminCommand::ImportFacilities { file, quiet: _ } => {
            let csv = read_file(&file)?;
            let path = format!("/api/v1/admin/facilities/import{}", source_query(&file));
            print_report(out, &c.post(&path, "text/csv; charset=utf-8", csv.into_bytes())?)
        }
        AdminCommand::PublishTemplate { file } => {
            let json = read_file(&file)?;
            print_published(
                out,
                &c.post("/api/v1/admin/templates", "application/json", json.into_bytes())?,
            )
        }
        AdminCommand::PublishUnits { file } => {
            let json = read_file(&file)?;
            let path = format!("/api/v1/admin/units{}", source_query(&file));
            print_published(out, &c.post(&path, "application/json", json.into_bytes())?)
        }
        AdminCommand::CreateDelegation {
            name,
            decision,
            leader,
            members,
            secretary,
        } => {
            let req = NewDelegation {
                name,
                decision,
                leader,
                members,
                secretary,
            };
            print_created(out, &c.post_json("/api/v1/admin/delegations", &req)?)
        }
        AdminCommand::Assign {
            delegation,
            facility,
            template,
            date,
            kind,
        } => {
            let req = NewAssignment {
                delegation,
                facility,
                template,
                date,
                kind,
            };
            print_created(out, &c.post_json("/api/v1/admin/assignments", &req)?)
        }
        AdminCommand::AssignInvestigation {
            delegation,
            accident,
            date,
        } => {
            let req = NewInvestigation {
                delegation,
                accident,
                date,
            };
            print_created(out, &c.post_json("/api/v1/admin/investigations", &req)?)
        }
        AdminCommand::ImportAccidents { file } => {
            let csv = read_file(&file)?;
            let path = format!("/api/v1/admin/accidents/import{}", source_query(&file));
            print_report(out, &c.post(&path, "text/csv; charset=utf-8", csv.into_bytes())?)
        }
        AdminCommand::ListAccidents => {
            print_accidents(out, &c.get::<Vec<AccidentSummary>>("/api/v1/admin/accidents")?)
        }
        AdminCommand::CreateAccount {
            login,
            name,
            role,
            inspector,
        } => {
            let req = NewAccountRequest {
                login,
                name,
                role,
                inspector,
                password: new_password()?,
            };
            print_account(out, &c.post_json("/api/v1/admin/accounts", &req)?)
        }
        AdminCommand::CreateApiToken { name, account } => {
            let req = NewApiToken { name, account };
            let t: IssuedToken = c.post_json("/api/v1/admin/api-tokens", &req)?;
            Ok(writeln!(out, "{}", t.token)?)
        }
        AdminCommand::ResetSecondFactor { login } => {
            let path = format!("/api/v1/admin/accounts/{login}/reset-second-factor");
            print_reset(out, &c.post_json(&path, &serde_json::json!({}))?)
        }
        AdminCommand::RevokeDevice { device } => {
            let path = format!("/api/v1/admin/devices/{device}/revoke");
            let r: Revoked = c.post_json(&path, &serde_json::json!({}))?;
            Ok(writeln!(out, "revoked {}", r.device)?)
        }
        AdminCommand::ListFacilities => {
            let mut page_no = 1;
            loop {
                let page: FacilityPage = c.get(&format!("/api/v1/admin/facilities?page={page_no}"))?;
                print_facilities(out, &page)?;
                if page.page >= page.pages {
                    return Ok(());
                }
                page_no = page.page + 1;
            }
        }
        AdminCommand::ListDevices => {
            print_devices(out, &c.get::<Vec<DeviceSummary>>("/api/v1/admin/devices")?)
        }
        AdminCommand::Check { repair } => {
            if repair {
                return Err(AdminError::Usage(
                    "--repair rebuilds records under a running server's feet: stop the server and run it on the folder (the server also checks and repairs at every start)".into(),
                ));
            }
            let r: CheckResult = c.post_json("/api/v1/admin/check", &serde_json::json!({}))?;
            writeln!(out, "{}", r.report)?;
            if r.holds {
                Ok(())
            } else {
                Err(ServerError::Conflict(
                    "the records are not the merge of the log; restart the server (it repairs at start) or run `check --repair` on the stopped server's folder".into(),
                )
                .into())
            }
        }
    }
}

fn print_created(out: &mut dyn std::io::Write, c: &Created) -> Result<(), AdminError> {
    Ok(writeln!(out, "{}", c.id)?)
}

fn print_report(out: &mut dyn std::io::Write, r: &ImportReport) -> Result<(), AdminError> {
    Ok(r.print(out)?)
}

fn print_published(out: &mut dyn std::io::Write, p: &Published) -> Result<(), AdminError> {
    Ok(writeln!(out, "{}", p.message)?)
}

fn print_account(out: &mut dyn std::io::Write, a: &AccountSummary) -> Result<(), AdminError> {
    Ok(writeln!(
        out,
        "created the account {} ({})",
        a.login,
        a.role.label_vi()
    )?)
}

fn print_reset(out: &mut dyn std::io::Write, r: &SecondFactorReset) -> Result<(), AdminError> {
    if r.removed {
        Ok(writeln!(out, "removed the second factor of {}", r.login)?)
    } else {
        Ok(writeln!(out, "{} has no second factor", r.login)?)
    }
}

fn print_accidents(out: &mut dyn std::io::Write, list: &[AccidentSummary]) -> Result<(), AdminError> {
    for a in list {
        writeln!(out, "{}\t{}\t{}\t{}\t{}", a.id, a.date, a.unit, a.deaths, a.place)?;
    }
    Ok(())
}

fn print_facilities(out: &mut dyn std::io::Write, page: &FacilityPage) -> Result<(), AdminError> {
    for f in &page.facilities {
        let tax = f.tax_code.as_ref().map_or("", |t| t.as_str());
        writeln!(out, "{}\t{}\t{}\t{}", f.id, tax, f.address.unit, f.name)?;
    }
    Ok(())
}

fn print_devices(out: &mut dyn std::io::Write, list: &[DeviceSummary]) -> Result<(), AdminError> {
    for d in list {
        let state = if d.revoked { "revoked" } else { "active" };
        writeln!(out, "{}\t{}\t{}\t{}", d.device, state, d.inspector_name, d.name)?;
    }
    Ok(())
}
