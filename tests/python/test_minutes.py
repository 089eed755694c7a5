"""Signed minutes through the bindings: two members and the leader sign,
each with a key held outside Rust (a Python key store, as Android Keystore
or the iOS Keychain would be), the leader seals, the bundle and the PDF
verify, also with `kiemtra-server verify`; an answer after sealing fails."""

import os
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import kiemtra_mobile as k
from test_inspection import answer_for

SERVER = os.environ.get("KIEMTRA_SERVER_BIN", str(Path(__file__).resolve().parents[2] / "target" / "debug" / "kiemtra-server"))


class PyKeyStore(k.DeviceKeyStore):
    """A key store implemented by the app: the private key never enters Rust."""

    def __init__(self):
        self._key = Ed25519PrivateKey.generate()
        self.signed = 0

    def public_key(self):
        return self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, message):
        self.signed += 1
        return self._key.sign(bytes(message))


def test_sign_seal_export_and_verify(tmp_path):
    store = k.KiemtraStore.open(str(tmp_path / "store"))
    leader = store.add_inspector("Trần Văn Hùng", "Chánh Thanh tra", "Sở Nội vụ thành phố Hải Phòng")
    lan = store.add_inspector("Nguyễn Thị Lan", "Thanh tra viên", "Sở Nội vụ thành phố Hải Phòng")
    minh = store.add_inspector("Phạm Văn Minh", "Thanh tra viên", "Sở Nội vụ thành phố Hải Phòng")
    store.set_identity(lan.id)
    templates = store.install_builtin_templates()
    assert sorted(t.id for t in templates) == ["osh-accident-investigation", "osh-general"]
    template = next(t for t in templates if t.id == "osh-general")
    facility = store.add_facility(k.NewFacility(
        kind=k.FacilityKind.ENTERPRISE, name="Công ty CP Thép Đình Vũ", tax_code="0200111222",
        street="Khu kinh tế Đình Vũ", unit="hp.hai-an", sector="Luyện kim", workforce=120, high_risk=True))
    delegation = store.add_delegation("Đoàn kiểm tra số 7", "Quyết định số 201/QĐ-SNV", leader.id, [
        k.DelegationMember(inspector_id=lan.id, role=k.Role.MEMBER),
        k.DelegationMember(inspector_id=minh.id, role=k.Role.MEMBER),
    ])
    inspection = store.create_inspection(k.NewInspection(
        kind=k.InspectionKind.INSPECTION, facility_id=facility.id, template_id=template.id,
        template_version=template.version, delegation_id=delegation.id, planned_date="2025-04-10",
        latitude=None, longitude=None))
    iid = inspection.id
    store.start_inspection(iid)
    while True:
        todo = [l for l in store.checklist(iid) if l.asked and not l.answers]
        if not todo:
            break
        for line in todo:
            store.set_answer(iid, line.item_code, answer_for(line, {"D5", "G2"}, set()), None)
    store.close_findings(iid)

    keys = {who.id: PyKeyStore() for who in (leader, lan, minh)}
    signer_keys = [k.SignerKey(inspector_id=i, public_key=ks.public_key(), name="") for i, ks in keys.items()]
    minutes = store.draw_up_minutes(iid, k.MinutesInput(
        number="07/BB-ĐKT", issuing_body=["SỞ NỘI VỤ THÀNH PHỐ HẢI PHÒNG", "ĐOÀN KIỂM TRA"],
        city="Hải Phòng", place="Văn phòng công ty", started_at="2025-04-10T08:00:00+07:00",
        ended_at="2025-04-10T11:00:00+07:00", representative_name="Hoàng Văn Đức",
        representative_title="Giám đốc", statement="Công ty cam kết khắc phục đúng hạn.",
        refusal_reason=None, witness_name=None, witness_title=None, witness_role=None, copies=2,
        signer_keys=signer_keys, representative_signature_png=None, previous_hash=None))
    assert not minutes.sealed and len(minutes.unsigned_members) == 2

    # The leader cannot sign before the members.
    with pytest.raises(k.KiemtraError.NotAllowed):
        store.sign_minutes(iid, leader.id, keys[leader.id])
    store.sign_minutes(iid, lan.id, keys[lan.id])
    # A key that is not the one the minutes name is refused.
    with pytest.raises(k.KiemtraError.NotAllowed):
        store.sign_minutes(iid, minh.id, PyKeyStore())
    store.sign_minutes(iid, minh.id, keys[minh.id])
    sealed = store.sign_minutes(iid, leader.id, keys[leader.id])
    assert sealed.sealed and len(sealed.signers) == 3
    assert all(ks.signed == 1 for ks in keys.values())
    assert store.inspection(iid).status == k.Status.SEALED

    # Sealed: an answer can no longer change.
    with pytest.raises(k.KiemtraError.NotAllowed):
        store.set_answer(iid, "A1", k.AnswerValue.COUNT(1), None)

    trusted = [k.SignerKey(inspector_id=i, public_key=ks.public_key(), name=n)
               for (i, ks), n in zip(keys.items(), ["Trần Văn Hùng", "Nguyễn Thị Lan", "Phạm Văn Minh"])]
    bundle = store.export_minutes_bundle(iid, trusted)
    summary = k.verify_minutes(bundle, [])
    assert summary.valid, summary.report
    html = store.minutes_html(iid, "https://kiemtra.example.vn/xac-minh")
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html and "BIÊN BẢN KIỂM TRA" in html
    pdf = store.minutes_pdf(iid, "https://kiemtra.example.vn/xac-minh", trusted)
    assert pdf.startswith(b"%PDF-")
    assert k.verify_minutes(pdf, []).valid

    # The command verifies the exported file, and refuses a tampered one.
    path = tmp_path / "bien-ban.kiemtra"
    path.write_bytes(bundle)
    out = subprocess.run([SERVER, "verify", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "VALID" in out.stdout
    pdf_path = tmp_path / "bien-ban.pdf"
    pdf_path.write_bytes(pdf)
    assert subprocess.run([SERVER, "verify", str(pdf_path)], capture_output=True).returncode == 0
    tampered = bytearray(bundle)
    i = bytes(tampered).find("Công ty cam kết".encode())
    tampered[i] ^= 0x01
    path.write_bytes(bytes(tampered))
    out = subprocess.run([SERVER, "verify", str(path)], capture_output=True, text=True)
    assert out.returncode != 0
