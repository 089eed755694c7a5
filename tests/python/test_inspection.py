"""A whole offline inspection through the generated Python bindings, as an
app drives the core: the same calls a Kotlin or Swift app makes."""

import pytest

import kiemtra_mobile as k


def answer_for(line, no, short):
    t = line.answer_type
    if t == k.AnswerType.YES_NO_NA:
        return k.AnswerValue.YES_NO_NA(k.YesNoNa.NO if line.item_code in no else k.YesNoNa.YES)
    if t == k.AnswerType.COUNT:
        return k.AnswerValue.COUNT(350 if line.item_code == "A1" else 8)
    if t == k.AnswerType.RATIO:
        return k.AnswerValue.RATIO(40, 50) if line.item_code in short else k.AnswerValue.RATIO(50, 50)
    return k.AnswerValue.TEXT("Ghi nhận tại hiện trường")


def setup_inspection(store):
    leader = store.add_inspector("Trần Văn Hùng", "Chánh Thanh tra", "Sở Nội vụ thành phố Hải Phòng")
    member = store.add_inspector("Nguyễn Thị Lan", "Thanh tra viên", "Sở Nội vụ thành phố Hải Phòng")
    store.set_identity(member.id)
    templates = store.install_builtin_templates()
    assert sorted(t.id for t in templates) == ["osh-accident-investigation", "osh-general"]
    template = next(t for t in templates if t.id == "osh-general")
    facility = store.add_facility(
        k.NewFacility(
            kind=k.FacilityKind.ENTERPRISE,
            name="Công ty TNHH Đóng tàu Bạch Đằng",
            tax_code="0200765432",
            street="Số 3 đường Phan Đình Phùng",
            unit="hp.hong-bang",
            sector="Đóng tàu",
            workforce=350,
            high_risk=True,
        )
    )
    delegation = store.add_delegation(
        "Đoàn kiểm tra ATVSLĐ số 3",
        "Quyết định số 125/QĐ-SNV ngày 20/02/2025",
        leader.id,
        [k.DelegationMember(inspector_id=member.id, role=k.Role.MEMBER)],
    )
    inspection = store.create_inspection(
        k.NewInspection(
            kind=k.InspectionKind.INSPECTION,
            facility_id=facility.id,
            template_id=template.id,
            template_version=template.version,
            delegation_id=delegation.id,
            planned_date="2025-03-05",
            latitude=20.8449,
            longitude=106.6881,
        )
    )
    return facility, inspection


def test_whole_offline_inspection_survives_reopening(tmp_path):
    path = str(tmp_path / "store")
    store = k.KiemtraStore.open(path)
    assert len(store.templates()) == 0
    facility, inspection = setup_inspection(store)
    assert inspection.status == k.Status.DRAFT
    store.start_inspection(inspection.id)

    no, short = {"B4", "D5", "F1"}, {"C3"}
    # Answers open conditional items (350 workers: the OSH council, B3), so loop.
    while True:
        todo = [l for l in store.checklist(inspection.id) if l.asked and not l.answers]
        if not todo:
            break
        for line in todo:
            store.set_answer(inspection.id, line.item_code, answer_for(line, no, short), None)

    checklist = store.checklist(inspection.id)
    assert len(checklist) == 51
    b3 = next(l for l in checklist if l.item_code == "B3")
    assert b3.asked and b3.answers
    k1 = next(l for l in checklist if l.item_code == "K1")
    assert not k1.asked  # outreach items are for craft villages and cooperatives
    assert all(l.legal_basis for l in checklist)

    violations = store.violations(inspection.id)
    assert [v.item_code for v in violations] == ["B4", "C3", "D5", "F1"]
    d5 = next(v for v in violations if v.item_code == "D5")
    assert d5.severity == k.Severity.CRITICAL
    assert any("84/2015" in l.instrument for l in d5.legal_basis)
    assert "12/2022" in d5.sanction.instrument
    assert d5.text_vi.startswith("Hệ thống điện")

    dismissed = store.dismiss_violation(inspection.id, "B4", "Mạng lưới an toàn vệ sinh viên đã thành lập, có quyết định")
    assert dismissed.dismissed and dismissed.dismissal_reason.startswith("Mạng lưới")
    edited = store.edit_violation(
        inspection.id, "F1", k.ViolationEdit(requirement="Cấp đủ găng tay cách điện cho tổ điện", deadline=None, severity=None)
    )
    assert edited.requirement == "Cấp đủ găng tay cách điện cho tổ điện"

    closed = store.close_findings(inspection.id)
    assert closed.status == k.Status.FINDINGS_CLOSED
    pending = store.pending_operations()
    assert len(pending) > 50
    del store

    # Reopen: everything is still there.
    store = k.KiemtraStore.open(path)
    again = store.inspection(inspection.id)
    assert again.status == k.Status.FINDINGS_CLOSED
    assert [i.id for i in store.inspections_by_status(k.Status.FINDINGS_CLOSED)] == [inspection.id]
    assert [i.id for i in store.inspections_of_facility(facility.id)] == [inspection.id]
    violations = store.violations(inspection.id)
    assert len(violations) == 4
    b4 = next(v for v in violations if v.item_code == "B4")
    assert b4.dismissed
    assert len(store.pending_operations()) == len(pending)
    answers = {l.item_code: l.answers[0].value for l in store.checklist(inspection.id) if l.answers}
    assert answers["A1"] == k.AnswerValue.COUNT(350)
    assert answers["C3"] == k.AnswerValue.RATIO(40, 50)


def test_errors_are_typed_and_change_nothing(tmp_path):
    store = k.KiemtraStore.open(str(tmp_path / "store"))
    _, inspection = setup_inspection(store)
    store.start_inspection(inspection.id)
    before = len(store.pending_operations())

    with pytest.raises(k.KiemtraError.InvalidInput) as e:
        store.set_answer(inspection.id, "B1", k.AnswerValue.COUNT(3), None)
    assert "B1" in str(e.value)
    with pytest.raises(k.KiemtraError.InvalidInput):
        store.set_answer(inspection.id, "NOPE", k.AnswerValue.COUNT(3), None)
    with pytest.raises(k.KiemtraError.InvalidInput):
        store.set_answer("not-an-id", "A1", k.AnswerValue.COUNT(3), None)
    with pytest.raises(k.KiemtraError.NotFound):
        store.inspection("0190b6a2-0000-7000-8000-000000000000")
    with pytest.raises(k.KiemtraError.NotAllowed):
        store.transition(inspection.id, k.Status.SEALED)
    with pytest.raises(k.KiemtraError.NotAllowed):
        store.close_findings(inspection.id)
    with pytest.raises(k.KiemtraError.InvalidInput) as e:
        store.add_facility(
            k.NewFacility(kind=k.FacilityKind.ENTERPRISE, name="Công ty A", tax_code="123", street="x",
                          unit="hp.le-chan", sector="y", workforce=1, high_risk=False)
        )
    assert "tax code" in str(e.value)
    with pytest.raises(k.KiemtraError.InvalidInput):
        store.add_inspector("", "Thanh tra viên", "Sở Nội vụ")
    with pytest.raises(k.KiemtraError.Template):
        store.import_template("{ this is not a template")

    assert len(store.pending_operations()) == before


def test_units_to_choose_from_are_dated(tmp_path):
    store = k.KiemtraStore.open(str(tmp_path / "store"))
    in_2024 = store.admin_units("2024-05-01")
    assert len(in_2024) == 15
    names = {u.code: u.name_vi for u in in_2024}
    assert names["hp.thuy-nguyen"] == "Huyện Thủy Nguyên"
    in_2025 = {u.code: u for u in store.admin_units("2025-03-01")}
    renamed = in_2025["hp.thuy-nguyen.2025"]
    assert renamed.name_vi == "Thành phố Thủy Nguyên"
    assert renamed.valid_from == "2025-01-01" and renamed.valid_to == "2025-06-30"
    # The districts ended on 2025-06-30: later units come from the inspectorate's list, on sync.
    assert store.admin_units("2025-08-01") == []
    with pytest.raises(k.KiemtraError.InvalidInput):
        store.admin_units("1/8/2025")
