"""Sync through the bindings against the real server binary: the
inspectorate sets up with the admin commands, two phones enrol with one-time
codes, work one inspection and see each other's answers and photos, with a
progress listener implemented in Python."""

import asyncio
import hashlib
import io

import pytest
from PIL import Image

import kiemtra_mobile as k
from inspectorate import photo_jpeg, serve

# The network calls are coroutines (async in the bindings); each test step awaits one.
run = asyncio.run


@pytest.fixture
def server(tmp_path):
    with serve(tmp_path, ["main"]) as s:
        w = s["worlds"]["main"]
        yield {"url": s["url"], "codes": w["codes"], "inspection": w["inspection"], "lan": w["lan"], "hung": w["hung"]}


class Progress(k.SyncListener):
    def __init__(self):
        self.seen = []

    def on_progress(self, progress):
        self.seen.append(progress)


def photo():
    return photo_jpeg()


def test_two_phones_sync_answers_and_photos(server, tmp_path):
    lan = k.KiemtraStore.open(str(tmp_path / "lan"))
    hung = k.KiemtraStore.open(str(tmp_path / "hung"))
    assert run(lan.enrol(server["url"], server["codes"]["lan"], "Điện thoại của Lan", None)).id == server["lan"]
    assert run(hung.enrol(server["url"], server["codes"]["hung"], "Điện thoại của Hùng", None)).id == server["hung"]
    # A code works once.
    other = k.KiemtraStore.open(str(tmp_path / "other"))
    with pytest.raises((k.KiemtraError.Auth, k.KiemtraError.NotAllowed)):
        run(other.enrol(server["url"], server["codes"]["lan"], "x", None))

    assert lan.admin_units("2026-11-20") == []
    progress = Progress()
    report = run(lan.sync(progress))
    assert report.pulled > 0
    assert progress.seen[-1].phase == k.SyncPhase.DONE
    # The inspectorate's commune-level units arrived with the sync.
    assert [u.name_vi for u in lan.admin_units("2026-11-20")] == ["Phường Lê Chân"]
    iid = server["inspection"]
    assert lan.inspection(iid).status == k.Status.DRAFT

    lan.start_inspection(iid)
    lan.set_answer(iid, "A1", k.AnswerValue.COUNT(420), "Theo sổ lao động")
    added = lan.add_photo(iid, "F2", photo(), "Công nhân không đeo khẩu trang")
    report = run(lan.sync(None))
    assert report.refused == 0 and report.photos_uploaded == 2
    assert lan.pending_operations() == []

    run(hung.sync(None))
    a1 = next(l for l in hung.checklist(iid) if l.item_code == "A1")
    assert a1.answers[0].value == k.AnswerValue.COUNT(420)
    assert a1.answers[0].note == "Theo sổ lao động"
    [seen] = hung.photos(iid)
    assert seen.image_sha256 == added.image_sha256
    assert run(hung.download_photos(iid, True)) == 1
    thumb = hung.blob(seen.thumbnail_sha256)
    assert hashlib.sha256(thumb).hexdigest() == seen.thumbnail_sha256
    Image.open(io.BytesIO(thumb)).load()

    # A second sync with nothing new changes nothing.
    again = run(lan.sync(None))
    assert again.pushed == 0 and again.photos_uploaded == 0


def _portal_open(url, code):
    """Opens the portal with the access code as a browser does (the code
    form first, for its form token); returns the cookies (form token and
    session) and the form token, which every portal form repeats."""
    import re
    import urllib.request
    import urllib.parse
    import urllib.error

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with opener.open(url + "/portal") as form:
        csrf_cookie = form.headers["Set-Cookie"].split(";")[0]
        token = re.search(r'name="csrf" value="([0-9a-f]{64})"', form.read().decode()).group(1)
    body = urllib.parse.urlencode({"code": code, "csrf": token}).encode()
    try:
        opener.open(urllib.request.Request(url + "/portal", data=body, headers={"Cookie": csrf_cookie}))
    except urllib.error.HTTPError as e:
        assert e.code == 303, e.code
        return f'{csrf_cookie}; {e.headers["Set-Cookie"].split(";")[0]}', token
    raise AssertionError("no redirect after a right code")


def _portal_report(url, session, item, text, jpeg):
    import urllib.request
    import urllib.error

    cookie, token = session
    boundary = "kiemtra-py-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="sent_by"\r\n\r\nHoàng Văn Đức, Giám đốc\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\n{text}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\n'
        f"Content-Type: image/jpeg\r\n\r\n".encode() + jpeg + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    req = urllib.request.Request(url + f"/portal/violations/{item}", data=b"".join(parts), headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "Cookie": cookie})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(req)
    except urllib.error.HTTPError as e:
        return e.code
    return 200


def test_sealed_minutes_carry_an_access_code_and_remediation_comes_back(server, tmp_path):
    from test_inspection import answer_for

    lan = k.KiemtraStore.open(str(tmp_path / "lan"))
    hung = k.KiemtraStore.open(str(tmp_path / "hung"))
    run(lan.enrol(server["url"], server["codes"]["lan"], "Điện thoại của Lan", None))
    run(hung.enrol(server["url"], server["codes"]["hung"], "Điện thoại của Hùng", None))
    run(lan.sync(None))
    run(hung.sync(None))
    iid = server["inspection"]
    lan.start_inspection(iid)
    while True:
        todo = [l for l in lan.checklist(iid) if l.asked and not l.answers]
        if not todo:
            break
        for line in todo:
            lan.set_answer(iid, line.item_code, answer_for(line, {"D5", "G2"}, set()), None)
    lan.close_findings(iid)
    keys = [k.SignerKey(inspector_id=server["lan"], public_key=lan.device_public_key(), name=""),
            k.SignerKey(inspector_id=server["hung"], public_key=hung.device_public_key(), name="")]
    lan.draw_up_minutes(iid, k.MinutesInput(
        number="09/BB-ĐKT", issuing_body=["SỞ NỘI VỤ THÀNH PHỐ HẢI PHÒNG", "ĐOÀN KIỂM TRA"],
        city="Hải Phòng", place="Văn phòng công ty", started_at="2025-05-06T08:00:00+07:00",
        ended_at="2025-05-06T11:00:00+07:00", representative_name="Hoàng Văn Đức",
        representative_title="Giám đốc", statement="Công ty cam kết khắc phục.", refusal_reason=None,
        witness_name=None, witness_title=None, witness_role=None, copies=2, signer_keys=keys,
        representative_signature_png=None, previous_hash=None))
    lan.sign_minutes(iid, server["lan"], None)
    run(lan.sync(None))
    run(hung.sync(None))
    assert hung.sign_minutes(iid, server["hung"], None).sealed
    run(hung.sync(None))
    run(lan.sync(None))
    code = lan.minutes_access_code(iid)
    assert code is not None and len(code.replace("-", "")) == 20
    assert hung.minutes_access_code(iid) is None, "only the drawing device holds the code"
    assert "bản giao cho cơ sở" in hung.minutes_html(iid, "https://kiemtra.example.vn/verify")
    assert all(v.status == k.ViolationStatus.OPEN for v in lan.violations(iid))

    session = _portal_open(server["url"], code)
    assert _portal_report(server["url"], session, "D5", "Đã nối đất tủ điện và lắp khóa.", photo()) == 303

    run(lan.sync(None))
    [report] = lan.remediation_reports(iid, "D5")
    assert report.text == "Đã nối đất tủ điện và lắp khóa."
    assert report.sent_by == "Hoàng Văn Đức, Giám đốc"
    assert len(report.photos) == 1
    assert run(lan.download_photos(iid, True)) >= 1
    thumb = lan.blob(report.photos[0].thumbnail_sha256)
    Image.open(io.BytesIO(thumb)).load()
    d5 = next(v for v in lan.violations(iid) if v.item_code == "D5")
    assert d5.status == k.ViolationStatus.REMEDIATED
    assert lan.review_remediation(iid, "D5", True, "Đã kiểm tra tại chỗ").status == k.ViolationStatus.VERIFIED
    run(lan.sync(None))
    run(hung.sync(None))
    assert next(v for v in hung.violations(iid) if v.item_code == "D5").status == k.ViolationStatus.VERIFIED
    # No report for G2: reviewing it is refused and changes nothing.
    with pytest.raises(k.KiemtraError.NotFound):
        lan.review_remediation(iid, "G2", True, None)
