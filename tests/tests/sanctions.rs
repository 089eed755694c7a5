//! Sanction decisions on the real server, over the admin API: recorded
//! against violations of the demo's sealed minutes (their number, hash and
//! provision read from the record, whatever the request says), a fine
//! outside the decree's range refused with nothing recorded, payments up to
//! what is owed, and the overdue list.

use std::path::Path;

use kiemtra_core::ids::{FacilityId, InspectionId};
use kiemtra_core::inspection::Status;
use kiemtra_server::db::{Read, ServerDb};
use kiemtra_server::overview::data::Data;
use kiemtra_server::storage::SledStorage;
use kiemtra_tests::Server;
use serde_json::{json, Value};

/// A sealed inspection of the demo with two violations that cite a
/// provision of Decree 12/2022: its establishment, and the two (item, article).
struct Found {
    facility: FacilityId,
    inspection: InspectionId,
    violations: Vec<(String, String)>,
}

fn find_sealed_violations(data: &Path) -> Found {
    let store = std::sync::Arc::new(SledStorage::open(data, 16 << 20).unwrap());
    let db = ServerDb::on(store).unwrap();
    let units = kiemtra_server::writer::current_units(&db).unwrap();
    let d = Data::load(&db, units).unwrap();
    for r in d.records.iter().filter(|r| r.inspection.status >= Status::Sealed) {
        let cited: Vec<(String, String)> = d
            .violations(r)
            .into_iter()
            .filter_map(|v| v.sanction.map(|s| (v.item, s.article)))
            .filter(|(_, article)| ["Điều 20", "Điều 21", "Điều 22", "Điều 25"].contains(&article.as_str()))
            .collect();
        if cited.len() >= 2 {
            assert!(db.facility(r.inspection.facility).unwrap().is_some());
            return Found {
                facility: r.inspection.facility,
                inspection: r.inspection.id,
                violations: cited.into_iter().take(2).collect(),
            };
        }
    }
    panic!("the demo has no sealed minutes with two sanctionable violations");
}

/// The fine ranges of the shipped table for an organisation (twice an individual's).
fn organisation_range(article: &str) -> (u64, u64) {
    match article {
        "Điều 20" => (4_000_000, 80_000_000),
        "Điều 21" => (10_000_000, 60_000_000),
        "Điều 22" => (4_000_000, 100_000_000),
        "Điều 25" => (10_000_000, 150_000_000),
        other => panic!("no range known to the test for {other}"),
    }
}

struct Api<'a> {
    server: &'a Server,
    token: String,
    agent: ureq::Agent,
}

impl Api<'_> {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = self.server.url(path);
        let auth = format!("Bearer {}", self.token);
        let mut res = match (method, body) {
            ("GET", _) => self.agent.get(&url).header("Authorization", &auth).call(),
            ("POST", Some(b)) => self.agent.post(&url).header("Authorization", &auth).send_json(b),
            ("PUT", Some(b)) => self.agent.put(&url).header("Authorization", &auth).send_json(b),
            _ => unreachable!(),
        }
        .unwrap();
        let status = res.status().as_u16();
        (status, res.body_mut().read_json().unwrap_or(Value::Null))
    }
}

#[test]
fn a_decision_is_checked_against_the_decree_and_followed_to_payment() {
    let dir = tempfile::tempdir().unwrap();
    Server::start(dir.path(), &["--demo"]).stop();
    let found = find_sealed_violations(dir.path());
    let token = {
        let mut w = kiemtra_server::admin::open_writer(dir.path()).unwrap();
        let t = w.create_admin_token("Cán bộ pháp chế", None).unwrap();
        w.commit().unwrap();
        t
    };
    let server = Server::start(dir.path(), &[]);
    let api = Api {
        server: &server,
        token,
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into(),
    };
    let [(item_a, article_a), (item_b, article_b)] =
        [found.violations[0].clone(), found.violations[1].clone()];
    let (min_a, max_a) = organisation_range(&article_a);
    let (min_b, _) = organisation_range(&article_b);
    let decision = |fine_a: u64| {
        json!({
            "facility": found.facility.to_string(),
            "number": "15/QĐ-XPHC",
            "signed_on": "2025-04-10",
            "signed_by": "Chánh Thanh tra Sở Nội vụ",
            "offender": "organisation",
            "items": [
                {"inspection": found.inspection.to_string(), "item": item_a, "fine_vnd": fine_a},
                {"inspection": found.inspection.to_string(), "item": item_b, "fine_vnd": min_b},
            ],
            "pay_by": "2025-04-20",
        })
    };

    // Over the range: refused with the range, nothing recorded.
    let (status, body) = api.call("POST", "/api/v1/admin/sanctions", Some(decision(max_a + 1)));
    assert_eq!(status, 400, "{body}");
    let msg = body["error"].as_str().unwrap();
    assert!(msg.contains(&format!("{min_a}–{max_a}")), "{msg}");
    assert_eq!(api.call("GET", "/api/v1/admin/sanctions", None).1, json!([]));
    // A violation the minutes do not record: refused.
    let mut wrong = decision(min_a);
    wrong["items"][0]["item"] = json!("Z99");
    assert_eq!(api.call("POST", "/api/v1/admin/sanctions", Some(wrong)).0, 400);

    // Within: recorded, linked to the minutes by the record's own number and hash.
    let (status, d) = api.call("POST", "/api/v1/admin/sanctions", Some(decision(max_a)));
    assert_eq!(status, 200, "{d}");
    let id = d["id"].as_str().unwrap().to_string();
    let items = d["items"].as_array().unwrap();
    assert_eq!(items[0]["article"], article_a.as_str());
    assert_eq!(items[0]["minutes_hash"].as_str().unwrap().len(), 64);
    assert!(!items[0]["minutes_number"].as_str().unwrap().is_empty());

    let total = max_a + min_b;
    let (_, listed) = api.call("GET", "/api/v1/admin/sanctions?overdue=true", None);
    assert_eq!(listed[0]["total_vnd"], total);
    assert_eq!(listed[0]["overdue"], true, "unpaid since 2025-04-20");

    // Paying more than is owed is refused; paying it all takes it off the overdue list.
    let pay = |amount: u64, receipt: &str| {
        api.call(
            "POST",
            &format!("/api/v1/admin/sanctions/{id}/payments"),
            Some(json!({"on": "2025-04-18", "amount_vnd": amount, "receipt": receipt})),
        )
    };
    assert_eq!(pay(total + 1, "BL 1").0, 400);
    assert_eq!(pay(total - 1_000_000, "BL 0012345").0, 200);
    assert_eq!(
        api.call("GET", "/api/v1/admin/sanctions?overdue=true", None)
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(pay(1_000_000, "BL 0012346").0, 200);
    assert_eq!(
        api.call("GET", "/api/v1/admin/sanctions?overdue=true", None).1,
        json!([])
    );
    let (_, all) = api.call("GET", "/api/v1/admin/sanctions", None);
    assert_eq!(all[0]["paid_vnd"], total);

    // An appeal decided before it was lodged is refused.
    let (status, _) = api.call(
        "PUT",
        &format!("/api/v1/admin/sanctions/{id}/appeal"),
        Some(json!({"lodged_on": "2025-04-12", "outcome": "upheld", "decided_on": "2025-04-11"})),
    );
    assert_eq!(status, 400);

    // The establishment, signed in with its minutes' access code, sees its decision.
    let codes: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("demo-access-codes.json")).unwrap())
            .unwrap();
    let code = codes
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["inspection"] == found.inspection.to_string().as_str())
        .expect("the demo printed an access code for these minutes")["code"]
        .as_str()
        .unwrap()
        .to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let (csrf_cookie, form_token) = kiemtra_tests::portal_form_token(&agent, &server);
    let res = agent
        .post(&server.url("/portal"))
        .header("Cookie", &csrf_cookie)
        .send_form([("code", code.as_str()), ("csrf", form_token.as_str())])
        .unwrap();
    let session = kiemtra_tests::set_cookie_pair(&res, "kiemtra_portal").expect("a portal session");
    let page = agent
        .get(&server.url("/portal/inspection"))
        .header("Cookie", &session)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(page.contains("Quyết định số 15/QĐ-XPHC"), "{page}");
    assert!(page.contains("Đã nộp đủ"));
    assert!(page.contains(&format!("Mục {item_a}: {article_a} Nghị định 12/2022/NĐ-CP")));
    server.stop();
}
