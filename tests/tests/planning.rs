//! Planning by risk on the real server: the ranked list and the explained
//! score of hand-computed establishments, its filters, and who may see it.

use std::path::Path;

use chrono::{Duration, Utc};
use kiemtra_core::accident::{Declarant, NewAccident};
use kiemtra_core::facility::{Facility, FacilityKind, NewFacility};
use kiemtra_tests::{staff_sign_in, Server};

const PASSWORD: &str = "một mật khẩu đủ dài";

struct Register {
    shipyard: Facility,
    shop: Facility,
}

/// Two establishments, neither inspected yet: a shipyard of 350 workers,
/// flagged high-risk, with a fatal accident 200 days ago; a service shop of
/// 40 workers. A planner's and a viewer's account.
fn register(data: &Path) -> Register {
    let mut w = kiemtra_server::admin::open_writer(data).unwrap();
    let mut put = |name: &str, tax: &str, sector: &str, workforce: u32, high_risk: bool| {
        let f = NewFacility {
            kind: FacilityKind::Enterprise,
            name: name.into(),
            tax_code: Some(tax.into()),
            street: "Số 1".into(),
            unit: "hp.hai-an".into(),
            sector: sector.into(),
            workforce,
            high_risk,
        }
        .validate(Default::default(), w.admin_units())
        .unwrap();
        w.put_facility(&f).unwrap();
        f
    };
    let shipyard = put("Công ty Đóng tàu Nam Triệu", "0200111222", "Đóng tàu", 350, true);
    let shop = put("Cửa hàng Dịch vụ Ánh Dương", "0200333444", "Dịch vụ", 40, false);
    w.declare_accident(
        NewAccident {
            occurred_at: Utc::now() - Duration::days(200),
            place: "Ụ nổi số 2".into(),
            unit: "hp.hai-an".into(),
            facility: Some(shipyard.id),
            without_contract: false,
            deaths: 1,
            seriously_injured: 0,
            lightly_injured: 1,
            victims: vec!["Trần Văn Hùng".into()],
            account: "Ngã từ giàn giáo".into(),
            needs_examination: false,
        },
        Declarant::Inspectorate {
            person: "Cán bộ thử".into(),
        },
    )
    .unwrap();
    for (login, role) in [("kehoach", "planner"), ("lanhdao", "viewer")] {
        w.create_account(kiemtra_server::accounts::NewAccount {
            login: login.into(),
            display_name: format!("Cán bộ {role}"),
            role: serde_json::from_value(serde_json::Value::String(role.into())).unwrap(),
            inspector: None,
            password: PASSWORD.into(),
        })
        .unwrap();
    }
    w.commit().unwrap();
    Register { shipyard, shop }
}

fn browser<'a>(server: &'a Server, login: &str) -> impl Fn(&str) -> (u16, String) + 'a {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let (status, session) = staff_sign_in(&agent, server, &[("login", login), ("password", PASSWORD)], None);
    assert_eq!(status, 303, "{login} signs in");
    let cookie = session.unwrap().split(';').next().unwrap().to_string();
    move |path: &str| {
        let mut res = agent
            .get(&server.url(path))
            .header("Cookie", &cookie)
            .call()
            .unwrap();
        (res.status().as_u16(), res.body_mut().read_to_string().unwrap())
    }
}

/// The numbers of the factors table, in order, and its total.
fn factor_points(html: &str) -> Vec<u32> {
    let table = &html[html.find("id=\"factors\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    table
        .split("<td class=\"num\">")
        .skip(1)
        .chain(table.split("<th class=\"num\">").skip(2))
        .map(|cell| cell[..cell.find('<').unwrap()].trim().parse().unwrap())
        .collect()
}

/// By hand, with the default weights: the shipyard has hazard class 4 →
/// 30, 350 workers → 3 × 2 = 6, high risk → 15, no violations, one fatal
/// accident in three years → 25, never inspected → 20, no last outcome →
/// 0: 96. The shop: class 1 → 0, 40 workers → 0, never inspected → 20: 20.
#[test]
fn establishments_are_ranked_by_a_score_explained_factor_by_factor() {
    let data = tempfile::tempdir().unwrap();
    let r = register(data.path());
    let server = Server::start(data.path(), &[]);
    let planner = browser(&server, "kehoach");

    let (status, list) = planner("/admin/planning");
    assert_eq!(status, 200, "{list}");
    let ship_at = list.find("Công ty Đóng tàu Nam Triệu").unwrap();
    let shop_at = list.find("Cửa hàng Dịch vụ Ánh Dương").unwrap();
    assert!(ship_at < shop_at, "the shipyard ranks first");
    assert!(list.contains("<strong>96</strong>") && list.contains("<strong>20</strong>"));

    let (status, why) = planner(&format!("/admin/planning/{}", r.shipyard.id));
    assert_eq!(status, 200);
    assert_eq!(factor_points(&why), vec![30, 6, 15, 0, 0, 25, 20, 0, 96]);
    assert!(
        why.contains("hạng 4") && why.contains("chưa được xác minh"),
        "the unverified class is said"
    );
    assert!(why.contains("1 vụ chết người × 25"), "{why}");
    let (_, why) = planner(&format!("/admin/planning/{}", r.shop.id));
    assert_eq!(factor_points(&why), vec![0, 0, 0, 0, 0, 0, 20, 0, 20]);

    // Filters: sector words without accents; never inspected; a kind none has.
    let (_, services) = planner("/admin/planning?sector=dich+vu");
    assert!(services.contains("Ánh Dương") && !services.contains("Nam Triệu"));
    assert!(services.contains(">1 cơ sở<") || services.contains("id=\"count\">1 cơ sở"));
    let (_, never) = planner("/admin/planning?never=on");
    assert!(never.contains("Ánh Dương") && never.contains("Nam Triệu"));
    let (_, farms) = planner("/admin/planning?kind=farm");
    assert!(!farms.contains("Ánh Dương") && !farms.contains("Nam Triệu"));

    let (status, _) = planner("/admin/planning/not-an-id");
    assert_eq!(status, 404);
    // The overview's viewer does not plan.
    let viewer = browser(&server, "lanhdao");
    assert_eq!(viewer("/admin/planning").0, 403);
    assert_eq!(viewer(&format!("/admin/planning/{}", r.shipyard.id)).0, 403);
}
