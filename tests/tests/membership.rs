//! An inspector added to a delegation after its work began: their device,
//! already synced past the delegation's earlier operations, receives all of
//! them on its next sync.

use kiemtra_core::answer::{AnswerValue, YesNoNa};
use kiemtra_core::facility::{FacilityKind, NewFacility};
use kiemtra_core::inspection::InspectionKind;
use kiemtra_core::people::{DelegationMember, Role};
use kiemtra_core::template::osh_general;
use kiemtra_tests::field::{png, Phone};
use kiemtra_tests::Server;

#[test]
fn a_member_added_later_receives_the_delegations_earlier_work() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = kiemtra_server::admin::open_writer(dir.path()).unwrap();
    w.publish_template(&osh_general()).unwrap();
    let agency = "Sở Nội vụ thành phố Hải Phòng";
    let leader = w
        .create_inspector("Trần Văn Hùng", "Chánh Thanh tra", agency)
        .unwrap()
        .id;
    let lan = w
        .create_inspector("Nguyễn Thị Lan", "Thanh tra viên", agency)
        .unwrap()
        .id;
    let minh = w
        .create_inspector("Phạm Văn Minh", "Thanh tra viên", agency)
        .unwrap()
        .id;
    let delegation = w
        .create_delegation(
            "Đoàn kiểm tra số 7",
            "Quyết định số 140/QĐ-SNV",
            leader,
            &[lan],
            None,
        )
        .unwrap();
    let facility = NewFacility {
        kind: FacilityKind::Enterprise,
        name: "Công ty CP Cơ khí Lạch Tray".into(),
        tax_code: Some("0200123456".into()),
        street: "Số 5 Lạch Tray".into(),
        unit: "hp.ngo-quyen".into(),
        sector: "Cơ khí".into(),
        workforce: 120,
        high_risk: false,
    }
    .validate(Default::default(), w.admin_units())
    .unwrap();
    w.put_facility(&facility).unwrap();
    let id = w
        .assign(
            delegation.id,
            facility.id,
            osh_general().key(),
            "2025-03-05".parse().unwrap(),
            InspectionKind::Inspection,
        )
        .unwrap()
        .id;
    let (code_lan, code_minh) = (w.enrol_code(lan, 24).unwrap(), w.enrol_code(minh, 24).unwrap());
    w.commit().unwrap();
    drop(w);

    let server = Server::start(dir.path(), &[]);
    let addr = server
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let lan_phone = Phone::enrolled(&server, &code_lan, "Điện thoại của Lan");
    let minh_phone = Phone::enrolled(&server, &code_minh, "Điện thoại của Minh");
    lan_phone.sync().unwrap();
    lan_phone.store.start_inspection(id).unwrap();
    lan_phone
        .store
        .set_answer(id, "B1", AnswerValue::YesNoNa(YesNoNa::No), Some("chưa có"))
        .unwrap();
    lan_phone
        .store
        .add_photo(id, Some("B1"), &png(640, 480, 7), None)
        .unwrap();
    lan_phone.sync().unwrap();
    // Minh is not a member yet: his sync moves his cursor past all of it.
    minh_phone.sync().unwrap();
    assert!(minh_phone.store.inspection(id).is_err());
    server.stop();

    // The inspectorate adds Minh to the delegation.
    let mut w = kiemtra_server::admin::open_writer(dir.path()).unwrap();
    let mut d = delegation.clone();
    d.members.push(DelegationMember {
        inspector: minh,
        role: Role::Member,
    });
    w.put_delegation(&d).unwrap();
    w.commit().unwrap();
    drop(w);

    let server = Server::start_on(dir.path(), &addr, &[]);
    minh_phone.sync().unwrap();
    let snap = minh_phone.store.snapshot(id).unwrap();
    assert_eq!(snap.record.answers.len(), 1, "Lan's answer arrived");
    assert_eq!(
        minh_phone.store.photos(id).unwrap().len(),
        1,
        "and her photo's record"
    );
    assert_eq!(
        snap.record,
        lan_phone.store.snapshot(id).unwrap().record,
        "the same record on both phones"
    );
    // A further sync changes nothing (no endless rewinding).
    let again = minh_phone.sync().unwrap();
    assert_eq!(again.pulled, 0);
    server.stop();
}
