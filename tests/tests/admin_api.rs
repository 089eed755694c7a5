//! Revoking a device while the server runs: an official with an admin token
//! revokes a phone and its very next request is refused.

use kiemtra_core::sync::SyncError;
use kiemtra_tests::field::Phone;
use kiemtra_tests::Server;

#[test]
fn a_device_revoked_online_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = kiemtra_server::admin::open_writer(dir.path()).unwrap();
    let lan = w
        .create_inspector(
            "Nguyễn Thị Lan",
            "Thanh tra viên",
            "Sở Nội vụ thành phố Hải Phòng",
        )
        .unwrap()
        .id;
    let code = w.enrol_code(lan, 24).unwrap();
    let token = w.create_admin_token("Nguyễn Văn An", None).unwrap();
    w.commit().unwrap();
    drop(w);

    let server = Server::start(dir.path(), &[]);
    let phone = Phone::enrolled(&server, &code, "Điện thoại của Lan");
    phone.sync().unwrap();
    let device = phone.store.device_id().to_string();
    let url = server.url(&format!("/api/v1/admin/devices/{device}/revoke"));
    // No token, a wrong token: refused, nothing changes.
    for auth in [None, Some("Bearer 00ff")] {
        let mut req = ureq::post(&url);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        assert!(matches!(req.send_empty(), Err(ureq::Error::StatusCode(401))));
    }
    phone.sync().unwrap();
    let done = ureq::post(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .send_empty()
        .unwrap();
    assert_eq!(done.status(), 200);
    match phone.sync() {
        Err(SyncError::Auth(reason)) => assert!(reason.contains("revoked"), "{reason}"),
        other => panic!("a revoked device synced: {other:?}"),
    }
    // The audit log names the token's holder, the device, before and after.
    let mut res = ureq::get(&server.url("/admin/audit.csv"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let csv = res.body_mut().read_to_string().unwrap();
    let row = csv
        .lines()
        .find(|r| r.contains(",revoke_device,"))
        .unwrap_or_else(|| panic!("no revoke_device entry: {csv}"));
    assert!(row.contains(",token,Nguyễn Văn An,"), "{row}");
    assert!(row.contains(&device), "{row}");
    assert!(
        row.contains(r#""{""revoked"":false}","{""revoked"":true}""#),
        "{row}"
    );
    server.stop();
}
