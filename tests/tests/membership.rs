//! An inspector added to a delegation after its work began: their device,
//! already synced past the delegation's earlier operations, receives all of
//! them on its next sync.

use kiemtra_core::answer::{AnswerValue, YesNoNa};
use kiemtra_core::people::{DelegationMember, Role};
use kiemtra_tests::field::{png, Phone};
use kiemtra_tests::inspectorate::{assign, enterprise, team, Team};
use kiemtra_tests::Server;

#[test]
fn a_member_added_later_receives_the_delegations_earlier_work() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = kiemtra_server::admin::open_writer(dir.path()).unwrap();
    let Team { leader, lan, minh } = team(&mut w);
    let delegation = w
        .create_delegation(
            "Đoàn kiểm tra số 7",
            "Quyết định số 140/QĐ-SNV",
            leader,
            &[lan],
            None,
        )
        .unwrap();
    let facility = enterprise(
        &mut w,
        "Công ty CP Cơ khí Lạch Tray",
        "0200123456",
        "hp.ngo-quyen",
    );
    let id = assign(&mut w, delegation.id, &facility);
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
