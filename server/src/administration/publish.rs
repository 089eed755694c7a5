//! Publications: checklist templates and the agency's administrative
//! units. Both are immutable once published and sent to every device.

use kiemtra_core::admin_units::AdminUnits;
use kiemtra_core::template::ChecklistTemplate;
use serde_json::json;

use super::Published;
use crate::audit::{values, Actor};
use crate::error::ServerError;
use crate::writer::Writer;

/// Checks a `kiemtra-template/1` file without publishing it: the template,
/// or every problem found, item by item where the checker can say which.
pub fn check_template(json: &str) -> Result<ChecklistTemplate, ServerError> {
    Ok(kiemtra_core::template::parse(json)?)
}

/// `POST /api/v1/admin/templates` (the body is the template file).
pub fn publish_template(w: &mut Writer, actor: &Actor, json: &str) -> Result<Published, ServerError> {
    let t = check_template(json)?;
    let new = w.publish_template(&t)?;
    let what = format!("{}@{}", t.id, t.version);
    if new {
        let after = values(json!({"title_vi": t.title_vi, "items": t.items().count()}));
        w.audit(actor, "publish_template", &what, None, after)?;
    }
    let message = if new {
        format!("published {what}")
    } else {
        format!("{what} was already published with this content")
    };
    Ok(Published { new, what, message })
}

/// `POST /api/v1/admin/units` (the body is a `kiemtra-admin-units/1` file):
/// the whole list, replacing the previous one; used at once for checking
/// addresses and grouping reports, and sent to devices on their next sync.
pub fn publish_units(
    w: &mut Writer,
    actor: &Actor,
    source: &str,
    json: &str,
) -> Result<Published, ServerError> {
    let units = AdminUnits::from_json(json)?.into_units();
    let count = units.len();
    let new = w.publish_units(units)?;
    if new {
        let after = values(json!({"units": count}));
        w.audit(actor, "publish_units", source, None, after)?;
    }
    let message = if new {
        format!("published {count} administrative units")
    } else {
        format!("these {count} administrative units were already published")
    };
    Ok(Published {
        new,
        what: format!("{count} administrative units"),
        message,
    })
}
