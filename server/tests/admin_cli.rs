//! The admin CLI on a data folder (the binary, as an administrator runs it).

use std::process::{Command, Output};

fn admin(data: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiemtra-server"))
        .arg("admin")
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn csv_import_reports_bad_rows_by_line_and_imports_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("facilities.csv");
    std::fs::write(
        &csv,
        "kind,name,tax_code,street,unit,sector,workforce,high_risk\n\
         enterprise,Công ty TNHH Đóng tàu Bạch Đằng,0200765432,Số 3 Phan Đình Phùng,hp.hong-bang,Đóng tàu,850,true\n\
         enterprise,\"Công ty CP Cơ khí, Lạch Tray\",02001,Số 5 Lạch Tray,hp.ngo-quyen,Cơ khí,320,true\n\
         cooperative,Hợp tác xã Mây tre đan Chính Mỹ,,Thôn Chính Mỹ,hp.thuy-nguyen,Thủ công,45,false\n\
         spaceship,Tàu vũ trụ,,Quỹ đạo,hp.ngo-quyen,Vũ trụ,3,false\n\
         craft_village,Làng nghề đúc đồng Mỹ Đồng,,Xã Mỹ Đồng,hp.thuy-nguyen,Đúc kim loại,nhiều,true\n\
         farm,Trang trại Hải An,,Phường Đằng Hải,hp.hai-an,Chăn nuôi,12,no\n",
    )
    .unwrap();
    let out = ok(admin(
        dir.path(),
        &["import-facilities", "--quiet", csv.to_str().unwrap()],
    ));
    assert!(out.contains("line 3: invalid tax code"), "{out}");
    assert!(out.contains("line 5: unknown kind"), "{out}");
    assert!(out.contains("line 6: workforce"), "{out}");
    assert!(out.trim_end().ends_with("imported 3, refused 3"), "{out}");
    // Importing the same list again updates by tax code rather than duplicating.
    let out = ok(admin(
        dir.path(),
        &["import-facilities", "--quiet", csv.to_str().unwrap()],
    ));
    assert!(out.trim_end().ends_with("imported 3, refused 3"), "{out}");
}

#[test]
fn admin_commands_set_up_a_delegation_and_refuse_a_changed_template() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lead = ok(admin(
        d,
        &[
            "create-inspector",
            "--name",
            "Trần Văn Hùng",
            "--title",
            "Chánh Thanh tra",
            "--agency",
            "Sở Nội vụ",
        ],
    ));
    let member = ok(admin(
        d,
        &[
            "create-inspector",
            "--name",
            "Nguyễn Thị Lan",
            "--title",
            "Thanh tra viên",
            "--agency",
            "Sở Nội vụ",
        ],
    ));
    let (lead, member) = (lead.trim(), member.trim());
    assert_eq!(lead.len(), 36);
    let delegation = ok(admin(
        d,
        &[
            "create-delegation",
            "--name",
            "Đoàn 1",
            "--decision",
            "QĐ 125",
            "--leader",
            lead,
            "--member",
            member,
        ],
    ));
    let tpl = d.join("t.json");
    let json = r#"{"format":"kiemtra-template/1","id":"tiny","version":1,"title_vi":"Mẫu","sections":[{"code":"A","title_vi":"A","items":[{"code":"A1","question_vi":"Có?","answer":"yes_no_na","legal_basis":[{"instrument":"Luật 84/2015/QH13","article":"Điều 14"}]}]}]}"#;
    std::fs::write(&tpl, json).unwrap();
    assert!(ok(admin(d, &["publish-template", tpl.to_str().unwrap()])).contains("published tiny@1"));
    assert!(ok(admin(d, &["publish-template", tpl.to_str().unwrap()])).contains("already published"));
    std::fs::write(&tpl, json.replace("Có?", "Có không?")).unwrap();
    let out = admin(d, &["publish-template", tpl.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already published with other content"));

    let csv = d.join("f.csv");
    std::fs::write(
        &csv,
        "kind,name,tax_code,street,unit,sector,workforce,high_risk\nenterprise,Công ty A,0200765432,Số 3,hp.hong-bang,Cơ khí,10,false\n",
    )
    .unwrap();
    ok(admin(d, &["import-facilities", "--quiet", csv.to_str().unwrap()]));
    // The facility id is in the pulled log; find it through the library instead.
    let facility = {
        let w = kiemtra_server::admin::open_writer(d).unwrap();
        w.db().facilities().unwrap()[0].id.to_string()
    };
    let inspection = ok(admin(
        d,
        &[
            "assign",
            "--delegation",
            delegation.trim(),
            "--facility",
            &facility,
            "--template",
            "tiny@1",
            "--date",
            "2025-03-04",
            "--kind",
            "outreach",
        ],
    ));
    assert_eq!(inspection.trim().len(), 36);
    let out = admin(
        d,
        &[
            "assign",
            "--delegation",
            delegation.trim(),
            "--facility",
            &facility,
            "--template",
            "tiny@9",
            "--date",
            "2025-03-04",
        ],
    );
    assert!(!out.status.success());
    let code = ok(admin(d, &["enrol-code", "--inspector", member]));
    assert!(code.trim().len() >= 40, "a long code: {code}");
    assert_eq!(ok(admin(d, &["list-devices"])), "");
}
