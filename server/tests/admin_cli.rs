//! The admin CLI on a data folder (the binary, as an administrator runs it).

use kiemtra_server::db::Read;
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

#[test]
fn accidents_import_by_line_and_an_investigation_links_to_its_accident() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let facilities = d.join("facilities.csv");
    std::fs::write(
        &facilities,
        "kind,name,tax_code,street,unit,sector,workforce,high_risk\n\
         enterprise,Công ty TNHH Đóng tàu Bạch Đằng,0200765432,Số 3 Phan Đình Phùng,hp.hong-bang,Đóng tàu,850,true\n",
    )
    .unwrap();
    ok(admin(
        d,
        &["import-facilities", "--quiet", facilities.to_str().unwrap()],
    ));
    let csv = d.join("accidents.csv");
    std::fs::write(
        &csv,
        "occurred_at,place,unit,tax_code,deaths,seriously_injured,lightly_injured,account\n\
         2024-05-10 09:30,Xưởng vỏ tàu,hp.hong-bang,0200765432,1,0,1,Rơi từ giàn giáo\n\
         2024-13-01 08:00,Ruộng,hp.vinh-bao,,0,1,0,Máy cày\n\
         2025-02-03 15:00,Ruộng lúa thôn Đông,hp.vinh-bao,,0,1,0,Bị máy tuốt lúa cuốn tay\n\
         2025-02-04 15:00,Nơi nào đó,hp.atlantis,,0,1,0,x\n\
         2025-02-05 15:00,Xưởng,hp.hong-bang,0999999999,0,1,0,x\n\
         2025-02-06 15:00,Ao cá,hp.kien-thuy,,0,0,0,Không ai bị thương\n",
    )
    .unwrap();
    let out = ok(admin(d, &["import-accidents", csv.to_str().unwrap()]));
    assert!(out.contains("line 3: invalid input: occurred_at"), "{out}");
    assert!(out.contains("line 5: ") && out.contains("hp.atlantis"), "{out}");
    assert!(
        out.contains("line 6: invalid input: no facility with tax code 0999999999"),
        "{out}"
    );
    assert!(out.contains("line 7: ") && out.contains("at least one"), "{out}");
    assert!(out.trim_end().ends_with("imported 2, refused 4"), "{out}");
    let list = ok(admin(d, &["list-accidents"]));
    let fatal = list
        .lines()
        .find(|l| l.contains("Xưởng vỏ tàu"))
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    let without_contract = list
        .lines()
        .find(|l| l.contains("Ruộng lúa"))
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_string();

    let lead = ok(admin(
        d,
        &[
            "create-inspector",
            "--name",
            "Phạm Minh Đức",
            "--title",
            "Thanh tra viên chính",
            "--agency",
            "Sở Nội vụ",
        ],
    ));
    let delegation = ok(admin(
        d,
        &[
            "create-delegation",
            "--name",
            "Đoàn điều tra TNLĐ số 1",
            "--decision",
            "Quyết định số 12/QĐ-SNV",
            "--leader",
            lead.trim(),
        ],
    ));
    let investigation = ok(admin(
        d,
        &[
            "assign-investigation",
            "--delegation",
            delegation.trim(),
            "--accident",
            &fatal,
            "--date",
            "2024-05-11",
        ],
    ));
    // Read back through the server's database: the inspection names its accident.
    let db = kiemtra_server::admin::open_writer(d).unwrap();
    let id: kiemtra_core::ids::InspectionId = investigation.trim().parse().unwrap();
    let record = db.db().record(id).unwrap().unwrap();
    assert_eq!(
        record.inspection.accident.map(|a| a.to_string()),
        Some(fatal.clone())
    );
    assert_eq!(
        record.inspection.kind,
        kiemtra_core::inspection::InspectionKind::AccidentInvestigation
    );
    assert_eq!(record.inspection.template.id, "osh-accident-investigation");
    drop(db);
    // An accident of workers without a contract has no establishment to investigate at.
    let out = admin(
        d,
        &[
            "assign-investigation",
            "--delegation",
            delegation.trim(),
            "--accident",
            &without_contract,
            "--date",
            "2025-02-05",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no establishment"));
    // Assigning an investigation with plain `assign` is refused.
    let facility = ok(admin(d, &["list-facilities"]));
    let out = admin(
        d,
        &[
            "assign",
            "--delegation",
            delegation.trim(),
            "--facility",
            facility.split('\t').next().unwrap(),
            "--template",
            "osh-general@1",
            "--date",
            "2025-02-05",
            "--kind",
            "accident_investigation",
        ],
    );
    assert!(!out.status.success());
}
