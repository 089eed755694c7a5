//! The demo's labour accidents: three fatal, two serious and one light
//! accident at establishments, and two accidents of workers without a
//! labour contract (the communes' Decree 39 report).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kiemtra_core::accident::{Accident, Declarant, NewAccident};
use kiemtra_core::ids::AccidentId;

use super::reference::Reference;
use super::vn_time;
use crate::db::{Read, TypedWrites};
use crate::error::ServerError;
use crate::writer::Writer;

/// Who declared it: the establishment's representative, or the commune's
/// report entered by the inspectorate.
pub enum By {
    Establishment,
    Commune(&'static str),
}

pub struct AccidentSpec {
    pub key: &'static str,
    pub facility: Option<&'static str>,
    /// Unit code valid on the accident's date.
    pub unit: &'static str,
    /// Local (Vietnam) date and time.
    pub occurred: (&'static str, u32, u32),
    pub declared: (&'static str, u32, u32),
    pub place: &'static str,
    pub deaths: u32,
    pub seriously_injured: u32,
    pub lightly_injured: u32,
    pub victims: &'static [&'static str],
    pub account: &'static str,
    pub needs_examination: bool,
    pub by: By,
}

pub const ACCIDENTS: &[AccidentSpec] = &[
    AccidentSpec {
        key: "fatal-bach-dang",
        facility: Some("bach-dang"),
        unit: "hp.hong-bang",
        occurred: ("2024-05-08", 14, 20),
        declared: ("2024-05-08", 17, 5),
        place: "Ụ nổi số 2, phân xưởng vỏ tàu",
        deaths: 1,
        seriously_injured: 0,
        lightly_injured: 0,
        victims: &["Nguyễn Văn Hải"],
        account: "Khi hàn phân đoạn vỏ tàu ở độ cao khoảng 9 m, người lao động không móc dây an toàn, trượt ngã từ giàn giáo xuống đáy ụ và tử vong trên đường đi cấp cứu.",
        needs_examination: false,
        by: By::Establishment,
    },
    AccidentSpec {
        key: "serious-lach-tray",
        facility: Some("lach-tray"),
        unit: "hp.ngo-quyen",
        occurred: ("2024-07-16", 15, 10),
        declared: ("2024-07-16", 17, 40),
        place: "Phân xưởng dập, máy dập 63 tấn",
        deaths: 0,
        seriously_injured: 1,
        lightly_injured: 0,
        victims: &["Phạm Văn Dũng"],
        account: "Cơ cấu bảo vệ hai tay của máy dập bị vô hiệu hóa; bàn tay phải của người vận hành bị chày dập kẹp, dập nát hai ngón tay.",
        needs_examination: false,
        by: By::Establishment,
    },
    AccidentSpec {
        key: "fatal-dinh-vu",
        facility: Some("dinh-vu"),
        unit: "hp.hai-an",
        occurred: ("2024-10-03", 9, 40),
        declared: ("2024-10-03", 11, 30),
        place: "Bãi container số 3, Khu công nghiệp Đình Vũ",
        deaths: 1,
        seriously_injured: 1,
        lightly_injured: 0,
        victims: &["Trần Đức Long", "Vũ Văn Quý"],
        account: "Container rỗng rơi từ xe nâng container khi đang xếp lên tầng thứ tư, đè vào hai công nhân kiểm đếm hàng dưới bãi: một người tử vong tại chỗ, một người bị thương nặng.",
        needs_examination: true,
        by: By::Establishment,
    },
    AccidentSpec {
        key: "serious-hoang-phat",
        facility: Some("hoang-phat"),
        unit: "hp.le-chan",
        occurred: ("2025-02-19", 10, 25),
        declared: ("2025-02-19", 13, 0),
        place: "Khu lò hơi, xưởng là",
        deaths: 0,
        seriously_injured: 1,
        lightly_injured: 0,
        victims: &["Đinh Thị Mai"],
        account: "Mối nối ống dẫn hơi sau van giảm áp bị bục, hơi nóng phun vào công nhân đang là hàng gần đó, gây bỏng độ II khoảng 20% diện tích cơ thể.",
        needs_examination: false,
        by: By::Establishment,
    },
    AccidentSpec {
        key: "fatal-an-lao",
        facility: Some("an-lao"),
        unit: "hp.an-lao",
        occurred: ("2025-04-09", 7, 50),
        declared: ("2025-04-09", 10, 15),
        place: "Dây chuyền ép gạch số 1",
        deaths: 1,
        seriously_injured: 0,
        lightly_injured: 0,
        victims: &["Lê Văn Toàn"],
        account: "Người lao động vệ sinh khuôn máy ép gạch khi máy chưa ngắt điện, bị chày ép kẹp vào người và tử vong tại chỗ.",
        needs_examination: false,
        by: By::Establishment,
    },
    AccidentSpec {
        key: "light-my-dong",
        facility: Some("my-dong"),
        // Huyện Thủy Nguyên became Thành phố Thủy Nguyên on 2025-01-01.
        unit: "hp.thuy-nguyen.2025",
        occurred: ("2025-05-06", 16, 0),
        declared: ("2025-05-07", 8, 30),
        place: "Xưởng đúc của một hộ trong làng nghề, xã Mỹ Đồng",
        deaths: 0,
        seriously_injured: 0,
        lightly_injured: 1,
        victims: &["Phạm Văn Hưng"],
        account: "Kim loại nóng chảy bắn ra khi rót khuôn, gây bỏng nhẹ cẳng chân do người lao động không đi giày bảo hộ; nghỉ điều trị 5 ngày.",
        needs_examination: false,
        by: By::Establishment,
    },
    AccidentSpec {
        key: "no-contract-vinh-bao",
        facility: None,
        unit: "hp.vinh-bao",
        occurred: ("2025-02-14", 9, 30),
        declared: ("2025-02-15", 8, 45),
        place: "Công trình nhà ở riêng lẻ, thôn Cổ Am, xã Cổ Am",
        deaths: 0,
        seriously_injured: 1,
        lightly_injured: 0,
        victims: &["Hoàng Văn Chiến"],
        account: "Thợ xây làm công nhật, không có hợp đồng lao động, ngã từ mái tầng 2 khi đổ bê tông; gãy xương đùi và chấn thương cột sống.",
        needs_examination: false,
        by: By::Commune("Ngô Thị Phương, công chức UBND xã Cổ Am"),
    },
    AccidentSpec {
        key: "no-contract-kien-thuy",
        facility: None,
        unit: "hp.kien-thuy",
        occurred: ("2025-05-19", 14, 45),
        declared: ("2025-05-20", 9, 10),
        place: "Cánh đồng thôn Đông, xã Đoàn Xá",
        deaths: 0,
        seriously_injured: 0,
        lightly_injured: 1,
        victims: &["Lưu Văn Thắng"],
        account: "Người làm thuê theo ngày, không có hợp đồng lao động, bị trục máy tuốt lúa cuốn vạt áo; bầm tím, trầy xước cánh tay.",
        needs_examination: false,
        by: By::Commune("Trần Văn Lâm, công chức UBND xã Đoàn Xá"),
    },
];

fn at((date, h, m): (&str, u32, u32)) -> Result<DateTime<Utc>, ServerError> {
    let date = date
        .parse()
        .map_err(|_| ServerError::Invalid(format!("demo date {date}")))?;
    vn_time(date, h, m)
}

/// Records the accidents as they were declared, at their declaration time.
///
/// `Writer::declare_accident` stamps `declared_at` with the current time,
/// which would make every demo accident a late declaration; this does the
/// same checks (the facility exists, `NewAccident::validate`) with the
/// back-dated declaration time, and stores the accident through the
/// writer's database (declaring appends nothing to the log).
pub fn declare(w: &mut Writer, refs: &Reference) -> Result<HashMap<&'static str, Accident>, ServerError> {
    let mut out = HashMap::new();
    for spec in ACCIDENTS {
        let facility = match spec.facility {
            Some(key) => Some(refs.facility(key)?),
            None => None,
        };
        let declared_by = match (&spec.by, facility) {
            (By::Establishment, Some((f, fs))) => Declarant::Establishment {
                facility: f.id,
                person: format!("{}, {}", fs.representative.0, fs.representative.1),
            },
            (By::Commune(person), _) => Declarant::Inspectorate {
                person: (*person).into(),
            },
            (By::Establishment, None) => {
                return Err(ServerError::Invalid(format!(
                    "demo accident {} is declared by an establishment it does not name",
                    spec.key
                )))
            }
        };
        let new = NewAccident {
            occurred_at: at(spec.occurred)?,
            place: spec.place.into(),
            unit: spec.unit.into(),
            facility: facility.map(|(f, _)| f.id),
            without_contract: spec.facility.is_none(),
            deaths: spec.deaths,
            seriously_injured: spec.seriously_injured,
            lightly_injured: spec.lightly_injured,
            victims: spec.victims.iter().map(|v| (*v).to_string()).collect(),
            account: spec.account.into(),
            needs_examination: spec.needs_examination,
        };
        if let Some(f) = new.facility {
            if w.db().facility(f)?.is_none() {
                return Err(ServerError::NotFound(format!("facility {f}")));
            }
        }
        let a = new.validate(
            AccidentId::new(),
            declared_by,
            at(spec.declared)?,
            w.admin_units(),
        )?;
        w.changes().put_accident(&a)?;
        out.insert(spec.key, a);
    }
    Ok(out)
}
