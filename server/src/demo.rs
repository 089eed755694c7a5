//! Demo data for a first look (`serve --demo`): the built-in template, two
//! inspectors, a delegation and a few Hai Phong establishments. Seeded once.

use kiemtra_core::admin_units::AdminUnits;
use kiemtra_core::facility::{FacilityKind, NewFacility};
use kiemtra_core::ids::{DelegationId, FacilityId, InspectorId};
use kiemtra_core::people::{Delegation, DelegationMember, Inspector, Role};
use kiemtra_core::template::builtin_templates;

use crate::error::ServerError;
use crate::writer::Writer;

const AGENCY: &str = "Sở Nội vụ thành phố Hải Phòng";

/// Seeds the demo data through the writer, so devices also receive it by pull.
/// The caller commits.
pub fn seed(w: &mut Writer) -> Result<bool, ServerError> {
    if w.db().flag("demo_seeded")? {
        return Ok(false);
    }
    for t in builtin_templates() {
        w.publish_template(&t)?;
    }
    let leader = Inspector::new(InspectorId::new(), "Trần Văn Hùng", "Chánh Thanh tra", AGENCY)?;
    let member = Inspector::new(InspectorId::new(), "Nguyễn Thị Lan", "Thanh tra viên", AGENCY)?;
    w.put_inspector(&leader)?;
    w.put_inspector(&member)?;
    let delegation = Delegation::new(
        DelegationId::new(),
        "Đoàn kiểm tra ATVSLĐ số 1 năm 2025",
        "Quyết định số 125/QĐ-SNV ngày 20/02/2025 của Giám đốc Sở Nội vụ",
        leader.id,
        vec![DelegationMember {
            inspector: member.id,
            role: Role::Member,
        }],
    )?;
    w.put_delegation(&delegation)?;
    let units = AdminUnits::builtin();
    let facilities = [
        (
            FacilityKind::Enterprise,
            "Công ty TNHH Đóng tàu Bạch Đằng",
            Some("0200765432"),
            "Số 3 Phan Đình Phùng",
            "hp.hong-bang",
            "Đóng tàu",
            850,
            true,
        ),
        (
            FacilityKind::Enterprise,
            "Công ty CP Cơ khí Lạch Tray",
            Some("0200123456"),
            "Số 5 Lạch Tray",
            "hp.ngo-quyen",
            "Cơ khí chế tạo",
            320,
            true,
        ),
        (
            FacilityKind::Cooperative,
            "Hợp tác xã Mây tre đan Chính Mỹ",
            None,
            "Thôn Chính Mỹ",
            "hp.thuy-nguyen",
            "Thủ công mỹ nghệ",
            45,
            true,
        ),
        (
            FacilityKind::CraftVillage,
            "Làng nghề đúc đồng Mỹ Đồng",
            None,
            "Xã Mỹ Đồng",
            "hp.thuy-nguyen",
            "Đúc kim loại",
            210,
            true,
        ),
    ];
    for (kind, name, tax, street, unit, sector, workforce, high_risk) in facilities {
        let f = NewFacility {
            kind,
            name: name.into(),
            tax_code: tax.map(Into::into),
            street: street.into(),
            unit: unit.into(),
            sector: sector.into(),
            workforce,
            high_risk,
        }
        .validate(FacilityId::new(), &units)?;
        w.put_facility(&f)?;
    }
    w.db().set_flag("demo_seeded")?;
    Ok(true)
}
