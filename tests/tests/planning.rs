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

/// The annual plan: a planner ticks both establishments on the ranked list
/// and plans them for Lan's delegation in March 2026, in one step; Lan's
/// phone receives both assignments, due 31 March; the year's plan lists
/// them by month (page and CSV); planning one of them again for March is
/// refused and changes nothing; the overview counts the month's plan.
#[test]
fn a_month_plan_assigns_the_ticked_establishments_and_the_phone_receives_them() {
    use kiemtra_tests::field::Phone;
    use kiemtra_tests::staff_browser::Browser;

    let data = tempfile::tempdir().unwrap();
    let r = register(data.path());
    let (delegation, code) = {
        let mut w = kiemtra_server::admin::open_writer(data.path()).unwrap();
        let team = kiemtra_tests::inspectorate::team(&mut w);
        let d = w
            .create_delegation(
                "Đoàn kiểm tra số 3",
                "Quyết định số 12/QĐ-SNV",
                team.leader,
                &[team.lan],
                None,
            )
            .unwrap();
        let code = w.enrol_code(team.lan, 24).unwrap();
        w.commit().unwrap();
        (d.id, code)
    };
    let server = Server::start(data.path(), &[]);
    let lan = Phone::enrolled(&server, &code, "Lan");
    lan.sync().unwrap();
    assert!(lan.store.inspections().unwrap().is_empty());

    let planner = Browser::sign_in(&server, "kehoach", PASSWORD);
    let (status, list) = planner.get("/admin/planning");
    assert_eq!(status, 200);
    for f in [&r.shipyard, &r.shop] {
        assert!(
            list.contains(&format!("name=\"facility\" value=\"{}\"", f.id)),
            "a tick box per row"
        );
    }
    let template = kiemtra_core::template::osh_general().key();
    let template = format!("{}@{}", template.id, template.version);
    let delegation = delegation.to_string();
    let (ship, shop) = (r.shipyard.id.to_string(), r.shop.id.to_string());
    let fields = |facilities: &[&str]| -> Vec<(String, String)> {
        let mut f: Vec<(String, String)> = vec![
            ("delegation".into(), delegation.clone()),
            ("month".into(), "2026-03".into()),
            ("template".into(), template.clone()),
            ("kind".into(), "inspection".into()),
        ];
        f.extend(
            facilities
                .iter()
                .map(|id| ("facility".to_string(), id.to_string())),
        );
        f
    };
    let post = |facilities: &[&str]| {
        let f = fields(facilities);
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        planner.post("/admin/planning/assign", &f, Some(&planner.csrf))
    };

    // Without the form token: refused, nothing planned.
    let f = fields(&[&ship]);
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(planner.post("/admin/planning/assign", &f, None).0, 403);

    let (status, _, location) = post(&[&ship, &shop]);
    assert_eq!(status, 303);
    assert!(location.unwrap().starts_with("/admin/planning/plan?year=2026"));

    // The phone receives both, due on the month's last day.
    lan.sync().unwrap();
    let mut got: Vec<_> = lan
        .store
        .inspections()
        .unwrap()
        .into_iter()
        .map(|i| (i.facility, i.planned_date.to_string()))
        .collect();
    got.sort();
    let mut want = vec![
        (r.shipyard.id, "2026-03-31".to_string()),
        (r.shop.id, "2026-03-31".to_string()),
    ];
    want.sort();
    assert_eq!(got, want);

    // The year's plan: March holds both, the shipyard (96) and the shop (20).
    let (status, plan) = planner.get("/admin/planning/plan?year=2026&done=planned");
    assert_eq!(status, 200);
    assert!(plan.contains("id=\"notice\""));
    let march = &plan[plan.find("id=\"month-3\"").expect("a March section")..];
    let march = &march[..march.find("</section>").unwrap()];
    assert!(march.contains("Công ty Đóng tàu Nam Triệu") && march.contains("Cửa hàng Dịch vụ Ánh Dương"));
    assert!(march.contains("31/03/2026") && march.contains("Đoàn kiểm tra số 3"));
    assert!(march.contains(">96<") && march.contains(">20<"), "{march}");
    assert!(!plan.contains("id=\"month-4\""));
    let (status, csv) = planner.get("/admin/planning/plan.csv?year=2026");
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1..].iter().all(|l| l.starts_with("2026-03,31/03/2026,")));
    assert!(
        lines[1].contains("Nam Triệu") && lines[1].contains(",96,"),
        "{csv}"
    );

    // Planned again for March (with a new one): refused whole, nothing added.
    let (status, page, _) = post(&[&shop]);
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("đã có trong kế hoạch tháng 2026-03"), "{page}");
    assert!(
        page.contains("id=\"ranked\""),
        "the list is shown again with the reason"
    );
    let (status, _, _) = post(&[]);
    assert_eq!(status, 400);
    lan.sync().unwrap();
    assert_eq!(lan.store.inspections().unwrap().len(), 2);
    let (_, csv) = planner.get("/admin/planning/plan.csv?year=2026");
    assert_eq!(csv.lines().count(), 3);

    // The overview's plan-and-done table: 0 of 2 in March, for Hải An.
    let viewer = Browser::sign_in(&server, "lanhdao", PASSWORD);
    let (status, overview) = viewer.get("/admin?year=2026");
    assert_eq!(status, 200);
    let table = &overview[overview.find("id=\"plan-done\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let total = &table[table.find("data-unit=\"total\"").unwrap()..];
    let cells: Vec<&str> = total
        .split("class=\"num\">")
        .skip(1)
        .map(|c| &c[..c.find('<').unwrap()])
        .collect();
    assert_eq!(cells.len(), 13);
    assert_eq!(cells[2], "0/2", "March: none sealed of two planned");
    assert!(cells
        .iter()
        .enumerate()
        .all(|(i, c)| i == 2 || i == 12 || c.is_empty()));
    assert_eq!(cells[12], "0/2");
    assert!(overview.contains("id=\"plan-planned\">2<"));
    // Viewers do not plan.
    assert_eq!(viewer.get("/admin/planning/plan?year=2026").0, 403);
}
