//! `kiemtra-server admin`: the inspectorate's administration commands. They
//! open the data folder directly, so the server must be stopped (sled locks
//! the folder). Every change devices need is also appended to the operation
//! log as a server-authored operation, so devices receive it by pull.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::Subcommand;
use kiemtra_core::admin_units::AdminUnits;
use kiemtra_core::ids::{AccidentId, DelegationId, DeviceId, FacilityId, InspectorId};
use kiemtra_core::inspection::InspectionKind;
use kiemtra_core::template::TemplateRef;
use serde_json::json;

use crate::audit::{values, Actor};
use crate::db::Read;
use crate::error::ServerError;
use crate::writer::{open_dir, Writer};

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
    /// Issues a token for an official to open the overview pages; prints it once.
    CreateAdminToken {
        #[arg(long)]
        name: String,
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

fn parse_template_ref(s: &str) -> Result<TemplateRef, ServerError> {
    let (id, version) = s
        .rsplit_once('@')
        .ok_or_else(|| ServerError::Invalid(format!("template {s:?}: expected ID@VERSION")))?;
    let version = version
        .parse()
        .map_err(|_| ServerError::Invalid(format!("template {s:?}: the version is not a number")))?;
    Ok(TemplateRef {
        id: id.to_string(),
        version,
    })
}

/// Opens the data folder with a writer (sled cache small: admin work is short).
pub fn open_writer(data: &Path) -> Result<Writer, ServerError> {
    let opened = open_dir(data, 64 * 1024 * 1024).map_err(|e| match e {
        ServerError::Storage(m) if m.contains("lock") => ServerError::Storage(format!(
            "{m}: is the server running on this data folder? Stop it first"
        )),
        e => e,
    })?;
    Writer::new(opened.store, opened.key)
}

/// The password of a new account: from KIEMTRA_ACCOUNT_PASSWORD, or the
/// first line of standard input (so that it appears in no process list).
fn new_password() -> Result<String, ServerError> {
    if let Ok(p) = std::env::var("KIEMTRA_ACCOUNT_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| ServerError::Invalid(format!("cannot read the password from standard input: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Runs one admin command; what it prints goes to `out`.
pub fn run(data: &Path, cmd: AdminCommand, out: &mut dyn std::io::Write) -> Result<(), ServerError> {
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
            )),
        };
    }
    let mut w = open_writer(data)?;
    let actor = Actor::console();
    match cmd {
        AdminCommand::CreateInspector { name, title, agency } => {
            let i = w.create_inspector(&name, &title, &agency)?;
            let after = values(json!({"name": i.name, "title": i.title, "agency": i.agency}));
            w.audit(&actor, "create_inspector", &i.id.to_string(), None, after)?;
            w.commit()?;
            writeln!(out, "{}", i.id)?;
        }
        AdminCommand::EnrolCode {
            inspector,
            valid_hours,
        } => {
            let code = w.enrol_code(inspector, valid_hours)?;
            // The code itself is a secret: recorded as issued, not by value.
            let after = values(json!({"valid_hours": valid_hours}));
            w.audit(&actor, "issue_enrol_code", &inspector.to_string(), None, after)?;
            w.commit()?;
            writeln!(out, "{code}")?;
        }
        AdminCommand::ImportFacilities { file, quiet } => {
            let report = crate::csv_import::import_facilities(&mut w, &file, !quiet)?;
            let after = values(json!({"imported": report.imported, "refused": report.refused.len()}));
            w.audit(
                &actor,
                "import_facilities",
                &file.display().to_string(),
                None,
                after,
            )?;
            w.commit()?;
            report.print(out)?;
        }
        AdminCommand::PublishTemplate { file } => {
            let json = std::fs::read_to_string(&file)
                .map_err(|e| ServerError::Invalid(format!("cannot read {}: {e}", file.display())))?;
            let t = kiemtra_core::template::parse(&json)?;
            let new = w.publish_template(&t)?;
            if new {
                let after = values(json!({"title_vi": t.title_vi, "items": t.items().count()}));
                w.audit(
                    &actor,
                    "publish_template",
                    &format!("{}@{}", t.id, t.version),
                    None,
                    after,
                )?;
            }
            w.commit()?;
            if new {
                writeln!(out, "published {}@{}", t.id, t.version)?;
            } else {
                writeln!(
                    out,
                    "{}@{} was already published with this content",
                    t.id, t.version
                )?;
            }
        }
        AdminCommand::PublishUnits { file } => {
            let json = std::fs::read_to_string(&file)
                .map_err(|e| ServerError::Invalid(format!("cannot read {}: {e}", file.display())))?;
            let units = AdminUnits::from_json(&json)?.into_units();
            let count = units.len();
            let new = w.publish_units(units)?;
            if new {
                let after = values(json!({"units": count}));
                w.audit(&actor, "publish_units", &file.display().to_string(), None, after)?;
            }
            w.commit()?;
            if new {
                writeln!(out, "published {count} administrative units")?;
            } else {
                writeln!(out, "these {count} administrative units were already published")?;
            }
        }
        AdminCommand::CreateDelegation {
            name,
            decision,
            leader,
            members,
            secretary,
        } => {
            let d = w.create_delegation(&name, &decision, leader, &members, secretary)?;
            let after = values(
                json!({"name": name, "decision": decision, "leader": leader.to_string(), "members": members.len()}),
            );
            w.audit(&actor, "create_delegation", &d.id.to_string(), None, after)?;
            w.commit()?;
            writeln!(out, "{}", d.id)?;
        }
        AdminCommand::Assign {
            delegation,
            facility,
            template,
            date,
            kind,
        } => {
            let template = parse_template_ref(&template)?;
            let after = values(json!({
                "delegation": delegation.to_string(),
                "facility": facility.to_string(),
                "template": format!("{}@{}", template.id, template.version),
                "date": date.to_string(),
            }));
            let i = w.assign(delegation, facility, template, date, kind)?;
            w.audit(&actor, "assign", &i.id.to_string(), None, after)?;
            w.commit()?;
            writeln!(out, "{}", i.id)?;
        }
        AdminCommand::AssignInvestigation {
            delegation,
            accident,
            date,
        } => {
            let i = w.assign_investigation(delegation, accident, None, date)?;
            let after = values(
                json!({"delegation": delegation.to_string(), "accident": accident.to_string(), "date": date.to_string()}),
            );
            w.audit(&actor, "assign_investigation", &i.id.to_string(), None, after)?;
            w.commit()?;
            writeln!(out, "{}", i.id)?;
        }
        AdminCommand::ImportAccidents { file } => {
            let report = crate::accident_import::import_accidents(&mut w, &file)?;
            let after = values(json!({"imported": report.imported, "refused": report.refused.len()}));
            w.audit(
                &actor,
                "import_accidents",
                &file.display().to_string(),
                None,
                after,
            )?;
            w.commit()?;
            report.print(out)?;
        }
        AdminCommand::ListAccidents => {
            for a in w.db().accidents()? {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    a.id,
                    a.date(),
                    a.unit,
                    a.deaths,
                    a.place
                )?;
            }
        }
        AdminCommand::CreateAccount {
            login,
            name,
            role,
            inspector,
        } => {
            let password = new_password()?;
            let a = w.create_account(crate::accounts::NewAccount {
                login,
                display_name: name,
                role,
                inspector,
                password,
            })?;
            let after = values(
                json!({"name": a.display_name, "role": a.role, "inspector": a.inspector.map(|i| i.to_string())}),
            );
            w.audit(&actor, "create_account", &a.login, None, after)?;
            w.commit()?;
            writeln!(out, "created the account {} ({})", a.login, a.role.label_vi())?;
        }
        AdminCommand::ResetSecondFactor { login } => {
            let login = crate::accounts::login(&login)?;
            if w.reset_second_factor(&login)? {
                let before = values(json!({"second_factor": "totp"}));
                let after = values(json!({"second_factor": "off"}));
                w.audit(&actor, "reset_second_factor", &login, before, after)?;
                w.commit()?;
                writeln!(out, "removed the second factor of {login}")?;
            } else {
                writeln!(out, "{login} has no second factor")?;
            }
        }
        AdminCommand::CreateAdminToken { name } => {
            let token = w.create_admin_token(&name)?;
            w.audit(&actor, "issue_admin_token", &name, None, None)?;
            w.commit()?;
            writeln!(out, "{token}")?;
        }
        AdminCommand::RevokeDevice { device } => {
            let was = w.revoke_device(device)?;
            if was.is_some() {
                let before = values(json!({"revoked": false}));
                let after = values(json!({"revoked": true}));
                w.audit(&actor, "revoke_device", &device.to_string(), before, after)?;
            }
            w.commit()?;
            writeln!(out, "revoked {device}")?;
        }
        AdminCommand::ListFacilities => {
            for f in w.db().facilities()? {
                let tax = f.tax_code.as_ref().map_or("", |t| t.as_str());
                writeln!(out, "{}\t{}\t{}\t{}", f.id, tax, f.address.unit, f.name)?;
            }
        }
        AdminCommand::Check { .. } => {}
        AdminCommand::ListDevices => {
            for d in w.db().devices()? {
                let inspector = w
                    .db()
                    .inspector(d.inspector)?
                    .map_or_else(|| d.inspector.to_string(), |i| i.name);
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}",
                    d.device,
                    if d.revoked { "revoked" } else { "active" },
                    inspector,
                    d.name
                )?;
            }
        }
    }
    Ok(())
}
