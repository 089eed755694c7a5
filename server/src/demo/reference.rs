//! The demo's reference data: inspectors, delegations and establishments.

use std::collections::HashMap;

use chrono::NaiveDate;
use kiemtra_core::facility::{Facility, FacilityKind, NewFacility};
use kiemtra_core::ids::{DelegationId, FacilityId, InspectorId};
use kiemtra_core::people::{Delegation, DelegationMember, Inspector, Role};

use crate::error::ServerError;
use crate::writer::Writer;

/// The inspectors' agency today; the labour functions moved from the
/// Department of Labour to the Department of Home Affairs on 2025-03-01.
pub const AGENCY: &str = "Sở Nội vụ thành phố Hải Phòng";
const AGENCY_BEFORE_2025_03: &str = "Sở Lao động – Thương binh và Xã hội thành phố Hải Phòng";

/// The agency in charge of labour on `date`.
pub fn agency_on(date: NaiveDate) -> &'static str {
    if date < NaiveDate::from_ymd_opt(2025, 3, 1).unwrap_or(NaiveDate::MAX) {
        AGENCY_BEFORE_2025_03
    } else {
        AGENCY
    }
}

/// The delegations of the demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Team {
    Year2023,
    Year2024,
    Year2025,
    Investigation2024,
}

/// An establishment of the demo, with the person who represents it at inspections.
pub struct FacilitySpec {
    pub key: &'static str,
    pub kind: FacilityKind,
    pub name: &'static str,
    pub tax_code: Option<&'static str>,
    pub street: &'static str,
    /// Unit code valid when the establishment was registered (2023).
    pub unit: &'static str,
    pub sector: &'static str,
    pub workforce: u32,
    pub high_risk: bool,
    pub representative: (&'static str, &'static str),
}

/// Fourteen establishments in thirteen districts. The six high-risk craft
/// villages and cooperatives (target 6) are `chinh-my`, `my-dong` (Thủy
/// Nguyên), `bao-ha` (Vĩnh Bảo), `tien-thang` (Tiên Lãng), `kha-lam` (Kiến
/// An) and `ngoc-hai` (Đồ Sơn).
pub const FACILITIES: &[FacilitySpec] = &[
    FacilitySpec {
        key: "bach-dang",
        kind: FacilityKind::Enterprise,
        name: "Công ty TNHH Đóng tàu Bạch Đằng",
        tax_code: Some("0200765432"),
        street: "Số 3 Phan Đình Phùng",
        unit: "hp.hong-bang",
        sector: "Đóng tàu",
        workforce: 850,
        high_risk: true,
        representative: ("Đỗ Mạnh Cường", "Phó Giám đốc"),
    },
    FacilitySpec {
        key: "lach-tray",
        kind: FacilityKind::Enterprise,
        name: "Công ty CP Cơ khí Lạch Tray",
        tax_code: Some("0200123456"),
        street: "Số 5 Lạch Tray",
        unit: "hp.ngo-quyen",
        sector: "Cơ khí chế tạo",
        workforce: 320,
        high_risk: true,
        representative: ("Lê Văn Nam", "Giám đốc"),
    },
    FacilitySpec {
        key: "chinh-my",
        kind: FacilityKind::Cooperative,
        name: "Hợp tác xã Mây tre đan Chính Mỹ",
        tax_code: None,
        street: "Thôn Chính Mỹ",
        unit: "hp.thuy-nguyen",
        sector: "Thủ công mỹ nghệ",
        workforce: 45,
        high_risk: true,
        representative: ("Nguyễn Thị Hoa", "Chủ nhiệm hợp tác xã"),
    },
    FacilitySpec {
        key: "my-dong",
        kind: FacilityKind::CraftVillage,
        name: "Làng nghề đúc đồng Mỹ Đồng",
        tax_code: None,
        street: "Xã Mỹ Đồng",
        unit: "hp.thuy-nguyen",
        sector: "Đúc kim loại",
        workforce: 210,
        high_risk: true,
        representative: ("Phạm Văn Thành", "Trưởng ban quản lý làng nghề"),
    },
    FacilitySpec {
        key: "hoang-phat",
        kind: FacilityKind::Enterprise,
        name: "Công ty TNHH May mặc Hoàng Phát",
        tax_code: Some("0201234567"),
        street: "Số 214 Nguyễn Văn Linh",
        unit: "hp.le-chan",
        sector: "Dệt may",
        workforce: 640,
        high_risk: false,
        representative: ("Vũ Thị Thu Hằng", "Trưởng phòng Hành chính – Nhân sự"),
    },
    FacilitySpec {
        key: "dinh-vu",
        kind: FacilityKind::Enterprise,
        name: "Công ty CP Kho vận Đình Vũ Xanh",
        tax_code: Some("0201456789"),
        street: "Lô CN3, Khu công nghiệp Đình Vũ",
        unit: "hp.hai-an",
        sector: "Kho bãi, xếp dỡ hàng hóa",
        workforce: 280,
        high_risk: true,
        representative: ("Hoàng Minh Tuấn", "Giám đốc điều hành"),
    },
    FacilitySpec {
        key: "duong-kinh",
        kind: FacilityKind::Enterprise,
        name: "Công ty TNHH Hóa chất Dương Kinh",
        tax_code: Some("0201678901"),
        street: "Số 45 Phạm Văn Đồng",
        unit: "hp.duong-kinh",
        sector: "Sản xuất hóa chất",
        workforce: 95,
        high_risk: true,
        representative: ("Trịnh Văn Lực", "Giám đốc"),
    },
    FacilitySpec {
        key: "an-lao",
        kind: FacilityKind::Enterprise,
        name: "Công ty TNHH Gạch không nung An Lão",
        tax_code: Some("0201567890"),
        street: "Xã Quang Hưng",
        unit: "hp.an-lao",
        sector: "Sản xuất vật liệu xây dựng",
        workforce: 120,
        high_risk: true,
        representative: ("Bùi Văn Khải", "Giám đốc"),
    },
    FacilitySpec {
        key: "bao-ha",
        kind: FacilityKind::CraftVillage,
        name: "Làng nghề tạc tượng gỗ Bảo Hà",
        tax_code: None,
        street: "Thôn Bảo Hà, xã Đồng Minh",
        unit: "hp.vinh-bao",
        sector: "Chế biến gỗ, điêu khắc",
        workforce: 150,
        high_risk: true,
        representative: ("Tô Văn Đức", "Trưởng ban quản lý làng nghề"),
    },
    FacilitySpec {
        key: "tien-thang",
        kind: FacilityKind::Cooperative,
        name: "Hợp tác xã Dịch vụ nông nghiệp Tiên Thắng",
        tax_code: None,
        street: "Xã Tiên Thắng",
        unit: "hp.tien-lang",
        sector: "Dịch vụ nông nghiệp, bảo vệ thực vật",
        workforce: 38,
        high_risk: true,
        representative: ("Đào Văn Hậu", "Giám đốc hợp tác xã"),
    },
    FacilitySpec {
        key: "kha-lam",
        kind: FacilityKind::CraftVillage,
        name: "Làng nghề mộc Kha Lâm",
        tax_code: None,
        street: "Phường Nam Sơn",
        unit: "hp.kien-an",
        sector: "Mộc dân dụng",
        workforce: 180,
        high_risk: true,
        representative: ("Nguyễn Văn Sơn", "Trưởng ban quản lý làng nghề"),
    },
    FacilitySpec {
        key: "ngoc-hai",
        kind: FacilityKind::Cooperative,
        name: "Hợp tác xã Dịch vụ nghề cá Ngọc Hải",
        tax_code: None,
        street: "Phường Ngọc Hải",
        unit: "hp.do-son",
        sector: "Khai thác, dịch vụ hải sản",
        workforce: 60,
        high_risk: true,
        representative: ("Lương Văn Biển", "Chủ nhiệm hợp tác xã"),
    },
    FacilitySpec {
        key: "co-khi-tam",
        kind: FacilityKind::HouseholdBusiness,
        name: "Hộ kinh doanh Cơ khí Nguyễn Văn Tám",
        tax_code: Some("0201789012"),
        street: "Thôn Trung, xã Lê Lợi",
        unit: "hp.an-duong",
        sector: "Gia công cơ khí, hàn",
        workforce: 9,
        high_risk: false,
        representative: ("Nguyễn Văn Tám", "Chủ hộ kinh doanh"),
    },
    FacilitySpec {
        key: "doan-xa",
        kind: FacilityKind::Farm,
        name: "Trang trại chăn nuôi Đoàn Xá",
        tax_code: None,
        street: "Xã Đoàn Xá",
        unit: "hp.kien-thuy",
        sector: "Chăn nuôi lợn",
        workforce: 14,
        high_risk: false,
        representative: ("Phạm Thị Nguyệt", "Chủ trang trại"),
    },
];

/// The reference data once published.
pub struct Reference {
    pub inspectors: Vec<Inspector>,
    pub delegations: HashMap<Team, Delegation>,
    pub facilities: HashMap<&'static str, (Facility, &'static FacilitySpec)>,
}

impl Reference {
    pub fn delegation(&self, team: Team) -> Result<&Delegation, ServerError> {
        self.delegations
            .get(&team)
            .ok_or_else(|| ServerError::NotFound(format!("demo delegation {team:?}")))
    }

    pub fn facility(&self, key: &str) -> Result<&(Facility, &'static FacilitySpec), ServerError> {
        self.facilities
            .get(key)
            .ok_or_else(|| ServerError::NotFound(format!("demo facility {key}")))
    }

    pub fn inspector(&self, id: InspectorId) -> Result<&Inspector, ServerError> {
        self.inspectors
            .iter()
            .find(|i| i.id == id)
            .ok_or_else(|| ServerError::NotFound(format!("demo inspector {id}")))
    }
}

fn member(inspector: InspectorId, role: Role) -> DelegationMember {
    DelegationMember { inspector, role }
}

/// Publishes the inspectors, delegations and establishments.
pub fn publish(w: &mut Writer) -> Result<Reference, ServerError> {
    let hung = Inspector::new(InspectorId::new(), "Trần Văn Hùng", "Chánh Thanh tra", AGENCY)?;
    let lan = Inspector::new(InspectorId::new(), "Nguyễn Thị Lan", "Thanh tra viên", AGENCY)?;
    let duc = Inspector::new(InspectorId::new(), "Phạm Minh Đức", "Phó Chánh Thanh tra", AGENCY)?;
    for i in [&hung, &lan, &duc] {
        w.put_inspector(i)?;
    }
    let delegations = [
        (
            Team::Year2023,
            "Đoàn kiểm tra ATVSLĐ số 1 năm 2023",
            "Quyết định số 86/QĐ-SLĐTBXH ngày 14/3/2023 của Giám đốc Sở Lao động – Thương binh và Xã hội thành phố Hải Phòng về việc kiểm tra công tác an toàn, vệ sinh lao động năm 2023",
            hung.id,
            vec![member(lan.id, Role::Member)],
        ),
        (
            Team::Year2024,
            "Đoàn kiểm tra ATVSLĐ số 1 năm 2024",
            "Quyết định số 97/QĐ-SLĐTBXH ngày 11/3/2024 của Giám đốc Sở Lao động – Thương binh và Xã hội thành phố Hải Phòng về việc kiểm tra công tác an toàn, vệ sinh lao động năm 2024",
            hung.id,
            vec![member(lan.id, Role::Member), member(duc.id, Role::Secretary)],
        ),
        (
            Team::Year2025,
            "Đoàn kiểm tra ATVSLĐ số 1 năm 2025",
            "Quyết định số 125/QĐ-SNV ngày 10/3/2025 của Giám đốc Sở Nội vụ thành phố Hải Phòng về việc kiểm tra công tác an toàn, vệ sinh lao động năm 2025",
            hung.id,
            vec![member(lan.id, Role::Member)],
        ),
        (
            Team::Investigation2024,
            "Đoàn điều tra tai nạn lao động thành phố năm 2024",
            "Quyết định số 05/QĐ-SLĐTBXH ngày 03/01/2024 của Giám đốc Sở Lao động – Thương binh và Xã hội thành phố Hải Phòng về việc thành lập Đoàn điều tra tai nạn lao động cấp tỉnh",
            duc.id,
            vec![member(lan.id, Role::Member)],
        ),
    ];
    let mut by_team = HashMap::new();
    for (team, name, decision, leader, members) in delegations {
        let d = Delegation::new(DelegationId::new(), name, decision, leader, members)?;
        w.put_delegation(&d)?;
        by_team.insert(team, d);
    }
    let mut facilities = HashMap::new();
    for spec in FACILITIES {
        let f = NewFacility {
            kind: spec.kind,
            name: spec.name.into(),
            tax_code: spec.tax_code.map(Into::into),
            street: spec.street.into(),
            unit: spec.unit.into(),
            sector: spec.sector.into(),
            workforce: spec.workforce,
            high_risk: spec.high_risk,
        }
        .validate(FacilityId::new(), w.admin_units())?;
        w.put_facility(&f)?;
        facilities.insert(spec.key, (f, spec));
    }
    Ok(Reference {
        inspectors: vec![hung, lan, duc],
        delegations: by_team,
        facilities,
    })
}
