//! The administrative unit a record is counted under: the one valid on the
//! record's date. Until 2025-06-30 that is a district; afterwards a
//! commune-level unit, known only when the agency has loaded the commune
//! list (an address recorded under a former district then has no unit
//! valid on the date, and is shown as such rather than guessed).

use chrono::NaiveDate;
use kiemtra_core::admin_units::AdminUnits;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct UnitKey {
    pub code: String,
    pub name: String,
}

/// The unit `code` stood for on `date`.
pub fn unit_on(units: &AdminUnits, code: &str, date: NaiveDate) -> UnitKey {
    match units.as_of(code, date) {
        Some(u) => UnitKey {
            code: u.code.clone(),
            name: u.name_vi.clone(),
        },
        None => {
            let old = units.get(code).map(|u| u.name_vi.as_str()).unwrap_or(code);
            UnitKey {
                code: format!("{code}@former"),
                name: format!("{old} (đơn vị cũ; chưa có đơn vị cấp xã tương ứng)"),
            }
        }
    }
}
