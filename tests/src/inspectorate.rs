//! The inspectorate's set-up that the end-to-end tests share, done with the
//! admin writer on the data folder of a stopped server.

use kiemtra_core::facility::{Facility, FacilityKind, NewFacility};
use kiemtra_core::ids::{DelegationId, InspectionId, InspectorId};
use kiemtra_core::inspection::InspectionKind;
use kiemtra_core::template::osh_general;
use kiemtra_server::writer::Writer;

pub const AGENCY: &str = "Sở Nội vụ thành phố Hải Phòng";

/// A leader and two inspectors.
pub struct Team {
    pub leader: InspectorId,
    pub lan: InspectorId,
    pub minh: InspectorId,
}

/// Publishes the general template and creates the team.
pub fn team(w: &mut Writer) -> Team {
    w.publish_template(&osh_general()).unwrap();
    let mut person = |name: &str, title: &str| w.create_inspector(name, title, AGENCY).unwrap().id;
    Team {
        leader: person("Trần Văn Hùng", "Chánh Thanh tra"),
        lan: person("Nguyễn Thị Lan", "Thanh tra viên"),
        minh: person("Phạm Văn Minh", "Thanh tra viên"),
    }
}

/// Registers an enterprise of 120 workers.
pub fn enterprise(w: &mut Writer, name: &str, tax: &str, unit: &str) -> Facility {
    let f = NewFacility {
        kind: FacilityKind::Enterprise,
        name: name.into(),
        tax_code: Some(tax.into()),
        street: "Số 5 Lạch Tray".into(),
        unit: unit.into(),
        sector: "Cơ khí".into(),
        workforce: 120,
        high_risk: false,
    }
    .validate(Default::default(), w.admin_units())
    .unwrap();
    w.put_facility(&f).unwrap();
    f
}

/// Assigns a general OSH inspection planned for 2025-03-05.
pub fn assign(w: &mut Writer, delegation: DelegationId, facility: &Facility) -> InspectionId {
    w.assign(
        delegation,
        facility.id,
        osh_general().key(),
        "2025-03-05".parse().unwrap(),
        InspectionKind::Inspection,
    )
    .unwrap()
    .id
}
