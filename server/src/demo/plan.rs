//! The demo's field work, in the order it happened: routine inspections,
//! outreach visits to craft villages and cooperatives, and accident
//! investigations, each with the answers its delegation recorded.
//!
//! Only what differs from a compliant establishment is written down; see
//! `field::answer_value` for the defaults (every yes/no item "yes", every
//! ratio complete, counts 0).

use kiemtra_core::inspection::InspectionKind;

use super::reference::Team;

/// How far the delegation got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Minutes drawn up, signed by the members and sealed by the leader.
    Sealed,
    /// Findings closed and minutes drawn up (with an access code); nobody signed yet.
    AwaitingSignatures,
    /// Started and answered, findings not closed.
    InProgress,
}

/// Answers that differ from the defaults.
pub struct Answers {
    pub counts: &'static [(&'static str, u64)],
    /// `(item, numerator, denominator)`
    pub ratios: &'static [(&'static str, u64, u64)],
    pub no: &'static [&'static str],
    pub not_applicable: &'static [&'static str],
    pub texts: &'static [(&'static str, &'static str)],
    pub notes: &'static [(&'static str, &'static str)],
}

pub struct Visit {
    pub key: &'static str,
    pub kind: InspectionKind,
    pub facility: &'static str,
    pub team: Team,
    /// The day it was started on site (Vietnam).
    pub date: &'static str,
    /// Local start time.
    pub start: (u32, u32),
    /// Minutes on site until the findings were closed.
    pub minutes_on_site: i64,
    pub outcome: Outcome,
    /// The accident an investigation investigates (a key of `accidents::ACCIDENTS`).
    pub accident: Option<&'static str>,
    pub answers: Answers,
}

/// Organisational items a craft village or cooperative has no employer-level answer for.
const OUTREACH_NOT_APPLICABLE: &[&str] = &["B1", "B2", "B4", "B5", "B6", "B7", "B8", "B9", "H6", "H7"];

const fn outreach(counts: &'static [(&'static str, u64)]) -> Answers {
    Answers {
        counts,
        ratios: &[],
        no: &[],
        not_applicable: OUTREACH_NOT_APPLICABLE,
        texts: &[],
        notes: &[],
    }
}

pub const VISITS: &[Visit] = &[
    // ---- 2023 -------------------------------------------------------------
    Visit {
        key: "2023-bach-dang",
        kind: InspectionKind::Inspection,
        facility: "bach-dang",
        team: Team::Year2023,
        date: "2023-04-12",
        start: (8, 0),
        minutes_on_site: 240,
        outcome: Outcome::Sealed,
        accident: None,
        answers: Answers {
            counts: &[("A1", 850), ("A2", 120), ("A3", 310), ("A4", 4), ("A5", 2), ("D0", 18), ("H1", 2)],
            ratios: &[("C2", 3, 4), ("C3", 84, 120), ("C5", 1, 2), ("D1", 15, 18)],
            no: &["F2", "G1"],
            not_applicable: &[],
            texts: &[],
            notes: &[
                ("C3", "36 thợ hàn, thợ vận hành cầu trục chưa được huấn luyện, cấp thẻ an toàn"),
                ("C5", "Nhân viên y tế mới tuyển chưa được huấn luyện nhóm 5"),
                ("D1", "2 xe nâng và 1 cổng trục 50 tấn hết hạn kiểm định"),
                ("F2", "Tại ụ nổi số 2, 3 công nhân hàn trên cao không đeo dây an toàn"),
                ("G1", "Chưa diễn tập phương án ứng cứu khẩn cấp năm 2023"),
            ],
        },
    },
    Visit {
        key: "2023-lach-tray",
        kind: InspectionKind::Inspection,
        facility: "lach-tray",
        team: Team::Year2023,
        date: "2023-06-20",
        start: (8, 30),
        minutes_on_site: 210,
        outcome: Outcome::Sealed,
        accident: None,
        answers: Answers {
            counts: &[("A1", 320), ("A2", 45), ("A3", 90), ("A4", 2), ("A5", 1), ("D0", 9)],
            ratios: &[("C3", 36, 45)],
            no: &["D5", "E1"],
            not_applicable: &[],
            texts: &[],
            notes: &[
                ("D5", "Tủ điện phân xưởng dập không khóa, không có biển cảnh báo"),
                ("E1", "Lần quan trắc môi trường lao động gần nhất năm 2021"),
            ],
        },
    },
    Visit {
        key: "2023-chinh-my",
        kind: InspectionKind::Inspection,
        facility: "chinh-my",
        team: Team::Year2023,
        date: "2023-09-14",
        start: (8, 0),
        minutes_on_site: 150,
        outcome: Outcome::Sealed,
        accident: None,
        answers: Answers {
            counts: &[("A1", 45), ("A2", 3), ("A3", 12)],
            ratios: &[("C3", 2, 3)],
            no: &["B5", "E1", "F1"],
            not_applicable: &[],
            texts: &[],
            notes: &[
                ("B5", "Hợp tác xã chưa lập kế hoạch ATVSLĐ năm 2023"),
                ("F1", "Chưa cấp khẩu trang chống hơi lưu huỳnh cho khâu sấy, xông nguyên liệu"),
            ],
        },
    },
    Visit {
        key: "2023-kha-lam-outreach",
        kind: InspectionKind::Outreach,
        facility: "kha-lam",
        team: Team::Year2023,
        date: "2023-10-19",
        start: (14, 0),
        minutes_on_site: 120,
        outcome: Outcome::Sealed,
        accident: None,
        answers: outreach(&[("A1", 180), ("A3", 25), ("K1", 120)]),
    },
    Visit {
        key: "2023-dinh-vu",
        kind: InspectionKind::Inspection,
        facility: "dinh-vu",
        team: Team::Year2023,
        date: "2023-11-08",
        start: (8, 0),
        minutes_on_site: 200,
        outcome: Outcome::Sealed,
        accident: None,
        answers: Answers {
            counts: &[("A1", 280), ("A2", 62), ("A3", 40), ("A4", 2), ("A5", 1), ("D0", 24)],
            ratios: &[("C3", 50, 62)],
            no: &["B7"],
            not_applicable: &[],
            texts: &[],
            notes: &[("B7", "Chưa đánh giá nguy cơ rủi ro tại khu vực xếp dỡ container")],
        },
    },
    // ---- 2024 -------------------------------------------------------------
    Visit {
        key: "2024-hoang-phat",
        kind: InspectionKind::Inspection,
        facility: "hoang-phat",
        team: Team::Year2024,
        date: "2024-03-19",
        start: (8, 0),
        minutes_on_site: 210,
        outcome: Outcome::Sealed,
        accident: None,
        answers: Answers {
            counts: &[("A1", 640), ("A2", 28), ("A3", 35), ("A4", 3), ("A5", 2), ("D0", 6)],
            ratios: &[("C3", 26, 28), ("E3", 560, 640)],
            no: &["B7"],
            not_applicable: &[],
            texts: &[],
            notes: &[("E3", "80 công nhân tuyển mới năm 2023 chưa được khám sức khỏe định kỳ")],
        },
    },
    Visit {
        key: "2024-bach-dang-investigation",
        kind: InspectionKind::AccidentInvestigation,
        facility: "bach-dang",
        team: Team::Investigation2024,
        date: "2024-05-10",
        start: (8, 0),
        minutes_on_site: 420,
        outcome: Outcome::Sealed,
        accident: Some("fatal-bach-dang"),
        answers: Answers {
            counts: &[("A1", 1), ("A2", 1), ("A5", 1)],
            ratios: &[("D6", 0, 1)],
            no: &["C1", "C2", "C4", "C6", "C7", "E3", "E4"],
            not_applicable: &["D2"],
            texts: &[
                (
                    "B2",
                    "Khoảng 14 giờ 20 ngày 08/5/2024, tại ụ nổi số 2, anh Nguyễn Văn Hải, thợ hàn, hàn phân đoạn vỏ tàu trên giàn giáo ở độ cao khoảng 9 m, không móc dây an toàn, trượt chân ngã xuống đáy ụ; được đưa đi cấp cứu nhưng tử vong trên đường đến bệnh viện.",
                ),
                ("B3", "Anh Nguyễn Văn Hải: chấn thương sọ não, đa chấn thương; tử vong."),
                (
                    "E1",
                    "Rà soát toàn bộ giàn giáo tại ụ nổi; lắp lưới chống rơi và dây cứu sinh; huấn luyện lại nhóm 3 cho thợ hàn làm việc trên cao; giám sát việc sử dụng dây an toàn trong từng ca.",
                ),
            ],
            notes: &[
                ("C3", "Thẻ an toàn của nạn nhân hết hạn từ tháng 01/2024"),
                ("D6", "Công ty đã tạm ứng chi phí mai táng, chưa chi trả tiền bồi thường cho thân nhân"),
            ],
        },
    },
    Visit {
        key: "2024-my-dong",
        kind: InspectionKind::Inspection,
        facility: "my-dong",
        team: Team::Year2024,
        date: "2024-05-22",
        start: (8, 0),
        minutes_on_site: 240,
        outcome: Outcome::Sealed,
        accident: None,
        answers: Answers {
            counts: &[("A1", 210), ("A2", 36), ("A3", 150), ("A4", 1), ("D0", 4)],
            ratios: &[("C2", 0, 1), ("C3", 27, 36), ("D1", 3, 4)],
            no: &["D4", "E1", "F2"],
            not_applicable: &[],
            texts: &[],
            notes: &[
                ("D4", "Máy mài, máy cắt tại nhiều hộ không có che chắn"),
                ("F2", "Thợ rót khuôn không đi giày, không đeo kính bảo hộ"),
            ],
        },
    },
    Visit {
        key: "2024-ngoc-hai-outreach",
        kind: InspectionKind::Outreach,
        facility: "ngoc-hai",
        team: Team::Year2024,
        date: "2024-07-09",
        start: (8, 30),
        minutes_on_site: 120,
        outcome: Outcome::Sealed,
        accident: None,
        answers: outreach(&[("A1", 60), ("K1", 55)]),
    },
    Visit {
        key: "2024-duong-kinh",
        kind: InspectionKind::Inspection,
        facility: "duong-kinh",
        team: Team::Year2024,
        date: "2024-08-27",
        start: (8, 0),
        minutes_on_site: 180,
        outcome: Outcome::Sealed,
        accident: None,
        answers: Answers {
            counts: &[("A1", 95), ("A2", 22), ("A3", 60), ("A4", 2), ("A5", 1), ("D0", 7)],
            ratios: &[],
            no: &["D6", "E2", "G2"],
            not_applicable: &[],
            texts: &[],
            notes: &[
                ("D6", "Kho hóa chất có 6 phuy chưa dán nhãn, không có phiếu an toàn hóa chất"),
                ("E2", "Nồng độ hơi axit tại khu pha chế vượt giới hạn cho phép"),
                ("G2", "Lối thoát hiểm xưởng pha chế bị hàng hóa chắn"),
            ],
        },
    },
    Visit {
        key: "2024-tien-thang-outreach",
        kind: InspectionKind::Outreach,
        facility: "tien-thang",
        team: Team::Year2024,
        date: "2024-09-17",
        start: (14, 0),
        minutes_on_site: 120,
        outcome: Outcome::Sealed,
        accident: None,
        answers: outreach(&[("A1", 38), ("A3", 20), ("K1", 38)]),
    },
    Visit {
        key: "2024-dinh-vu-investigation",
        kind: InspectionKind::AccidentInvestigation,
        facility: "dinh-vu",
        team: Team::Investigation2024,
        date: "2024-10-05",
        start: (8, 0),
        minutes_on_site: 450,
        outcome: Outcome::Sealed,
        accident: Some("fatal-dinh-vu"),
        answers: Answers {
            counts: &[("A1", 2), ("A2", 1), ("A3", 1), ("A5", 2)],
            ratios: &[("D6", 1, 2)],
            no: &["B4", "C3", "C4", "C5", "C6", "C7"],
            not_applicable: &["D2"],
            texts: &[
                (
                    "B2",
                    "Khoảng 9 giờ 40 ngày 03/10/2024, tại bãi container số 3, xe nâng container đang xếp một container rỗng 40 feet lên tầng thứ tư thì container tuột khỏi khung nâng, rơi xuống đè vào anh Trần Đức Long và anh Vũ Văn Quý đang kiểm đếm hàng dưới bãi.",
                ),
                (
                    "B3",
                    "Anh Trần Đức Long: đa chấn thương, tử vong tại chỗ. Anh Vũ Văn Quý: gãy xương chậu và xương cẳng chân trái.",
                ),
                (
                    "E1",
                    "Dừng sử dụng xe nâng container đến khi kiểm định lại; cấm người đi lại trong vùng hoạt động của thiết bị nâng; bố trí người cảnh giới; huấn luyện lại người vận hành.",
                ),
            ],
            notes: &[
                ("B4", "Hiện trường bị thu dọn để giải phóng bãi trước khi Đoàn điều tra đến"),
                ("C2", "Xe nâng container quá hạn kiểm định 4 tháng"),
                ("D6", "Đã bồi thường cho thân nhân người chết; người bị thương nặng chưa giám định thương tật"),
            ],
        },
    },
    Visit {
        key: "2024-bao-ha",
        kind: InspectionKind::Inspection,
        facility: "bao-ha",
        team: Team::Year2024,
        date: "2024-10-15",
        start: (8, 0),
        minutes_on_site: 180,
        outcome: Outcome::Sealed,
        accident: None,
        answers: Answers {
            counts: &[("A1", 150), ("A2", 12), ("A3", 40)],
            ratios: &[("C3", 9, 12)],
            no: &["D4", "F1"],
            not_applicable: &[],
            texts: &[],
            notes: &[("D4", "Máy cưa đĩa, máy bào không có che chắn lưỡi cắt")],
        },
    },
    Visit {
        key: "2024-co-khi-tam",
        kind: InspectionKind::Inspection,
        facility: "co-khi-tam",
        team: Team::Year2024,
        date: "2024-12-05",
        start: (14, 0),
        minutes_on_site: 120,
        outcome: Outcome::Sealed,
        accident: None,
        answers: Answers {
            counts: &[("A1", 9), ("A2", 3), ("A3", 3), ("D0", 1)],
            ratios: &[("C3", 2, 3)],
            no: &["D7"],
            not_applicable: &[],
            texts: &[],
            notes: &[("D7", "Không có biển cảnh báo tại khu vực hàn")],
        },
    },
    // ---- 2025, first half -------------------------------------------------
    Visit {
        key: "2025-lach-tray",
        kind: InspectionKind::Inspection,
        facility: "lach-tray",
        team: Team::Year2025,
        date: "2025-03-18",
        start: (8, 0),
        minutes_on_site: 210,
        outcome: Outcome::Sealed,
        accident: None,
        answers: Answers {
            counts: &[("A1", 335), ("A2", 48), ("A3", 95), ("A4", 2), ("A5", 1), ("D0", 10), ("H1", 1)],
            ratios: &[("C3", 46, 48), ("D1", 9, 10)],
            no: &["G3"],
            not_applicable: &[],
            texts: &[],
            notes: &[
                ("D1", "Máy nén khí số 3 quá hạn kiểm định"),
                ("G3", "4 bình chữa cháy hết hạn sử dụng"),
            ],
        },
    },
    Visit {
        key: "2025-tien-thang-outreach",
        kind: InspectionKind::Outreach,
        facility: "tien-thang",
        team: Team::Year2025,
        date: "2025-03-26",
        start: (8, 30),
        minutes_on_site: 120,
        outcome: Outcome::Sealed,
        accident: None,
        answers: outreach(&[("A1", 38), ("A3", 20), ("K1", 38)]),
    },
    Visit {
        key: "2025-an-lao",
        kind: InspectionKind::Inspection,
        facility: "an-lao",
        team: Team::Year2025,
        date: "2025-04-22",
        start: (8, 0),
        minutes_on_site: 210,
        outcome: Outcome::AwaitingSignatures,
        accident: None,
        answers: Answers {
            counts: &[("A1", 120), ("A2", 18), ("A3", 70), ("A4", 1), ("A5", 1), ("D0", 5), ("H1", 1), ("H2", 1)],
            ratios: &[("C3", 14, 18), ("H5", 0, 1)],
            no: &["D4"],
            not_applicable: &[],
            texts: &[],
            notes: &[
                ("D4", "Máy ép gạch số 1 không có khóa liên động khi mở khuôn"),
                ("H5", "Gia đình nạn nhân vụ tai nạn ngày 09/4/2025 chưa nhận tiền bồi thường"),
            ],
        },
    },
    Visit {
        key: "2025-kha-lam-outreach",
        kind: InspectionKind::Outreach,
        facility: "kha-lam",
        team: Team::Year2025,
        date: "2025-05-14",
        start: (14, 0),
        minutes_on_site: 120,
        outcome: Outcome::Sealed,
        accident: None,
        answers: outreach(&[("A1", 185), ("A3", 25), ("K1", 140)]),
    },
    Visit {
        key: "2025-bach-dang",
        kind: InspectionKind::Inspection,
        facility: "bach-dang",
        team: Team::Year2025,
        date: "2025-06-10",
        start: (8, 0),
        minutes_on_site: 240,
        outcome: Outcome::InProgress,
        accident: None,
        answers: Answers {
            counts: &[("A1", 870), ("A2", 130), ("A3", 320), ("A4", 4), ("A5", 2), ("D0", 20), ("H1", 1), ("H2", 1)],
            ratios: &[("C3", 121, 130)],
            no: &[],
            not_applicable: &[],
            texts: &[],
            notes: &[],
        },
    },
    Visit {
        key: "2025-ngoc-hai-outreach",
        kind: InspectionKind::Outreach,
        facility: "ngoc-hai",
        team: Team::Year2025,
        date: "2025-06-18",
        start: (8, 30),
        minutes_on_site: 120,
        outcome: Outcome::Sealed,
        accident: None,
        answers: outreach(&[("A1", 62), ("K1", 60)]),
    },
    Visit {
        key: "2025-doan-xa",
        kind: InspectionKind::Inspection,
        facility: "doan-xa",
        team: Team::Year2025,
        date: "2025-06-24",
        start: (8, 0),
        minutes_on_site: 120,
        outcome: Outcome::InProgress,
        accident: None,
        answers: Answers {
            counts: &[("A1", 14), ("A3", 6)],
            ratios: &[],
            no: &["E1", "F3"],
            not_applicable: &[],
            texts: &[],
            notes: &[],
        },
    },
];

/// A remediation report the establishment sent through the portal.
pub struct RemediationSpec {
    pub visit: &'static str,
    pub item: &'static str,
    pub sent_by: &'static str,
    pub text: &'static str,
}

pub const REMEDIATIONS: &[RemediationSpec] = &[
    RemediationSpec {
        visit: "2025-lach-tray",
        item: "D1",
        sent_by: "Lê Văn Nam, Giám đốc",
        text: "Công ty đã thuê đơn vị kiểm định kiểm định lại máy nén khí số 3 ngày 02/4/2025 và được cấp giấy chứng nhận kết quả kiểm định số 0412/2025.",
    },
    RemediationSpec {
        visit: "2025-lach-tray",
        item: "G3",
        sent_by: "Lê Văn Nam, Giám đốc",
        text: "Đã thay 4 bình chữa cháy hết hạn bằng bình bột ABC loại 8 kg và lập sổ kiểm tra phương tiện chữa cháy hằng tháng.",
    },
];
