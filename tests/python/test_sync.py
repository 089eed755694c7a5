"""Sync through the bindings against the real server binary: the
inspectorate sets up with the admin commands, two phones enrol with one-time
codes, work one inspection and see each other's answers and photos, with a
progress listener implemented in Python."""

import hashlib
import io
import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image

import kiemtra_mobile as k

ROOT = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("KIEMTRA_SERVER_BIN", str(ROOT / "target" / "debug" / "kiemtra-server"))


def admin(data, *args):
    out = subprocess.run([SERVER, "admin", "--data", str(data), *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture
def server(tmp_path):
    data = tmp_path / "server"
    admin(data, "publish-template", str(ROOT / "core" / "templates" / "osh-general-v1.json"))
    lan = admin(data, "create-inspector", "--name", "Nguyễn Thị Lan", "--title", "Thanh tra viên", "--agency", "Sở Nội vụ")
    hung = admin(data, "create-inspector", "--name", "Trần Văn Hùng", "--title", "Chánh Thanh tra", "--agency", "Sở Nội vụ")
    delegation = admin(data, "create-delegation", "--name", "Đoàn kiểm tra số 2", "--decision", "Quyết định số 88/QĐ-SNV",
                       "--leader", hung, "--member", lan)
    csv = tmp_path / "co-so.csv"
    csv.write_text(
        "kind,name,tax_code,street,unit,sector,workforce,high_risk\n"
        "enterprise,Công ty TNHH May Hải Phòng,0200333444,Số 9 Lê Lợi,hp.le-chan,Dệt may,420,true\n",
        encoding="utf-8",
    )
    admin(data, "import-facilities", str(csv), "--quiet")
    facility = admin(data, "list-facilities").split("\t")[0]
    inspection = admin(data, "assign", "--delegation", delegation, "--facility", facility,
                       "--template", "osh-general@1", "--date", "2025-05-06")
    codes = {"lan": admin(data, "enrol-code", "--inspector", lan), "hung": admin(data, "enrol-code", "--inspector", hung)}
    proc = subprocess.Popen([SERVER, "serve", "--data", str(data), "--addr", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        yield {"url": "http://" + line.removeprefix("listening on "), "codes": codes, "inspection": inspection,
               "lan": lan, "hung": hung}
    finally:
        proc.kill()
        proc.wait()


class Progress(k.SyncListener):
    def __init__(self):
        self.seen = []

    def on_progress(self, progress):
        self.seen.append(progress)


def photo():
    img = Image.new("RGB", (1200, 900), (30, 120, 200))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def test_two_phones_sync_answers_and_photos(server, tmp_path):
    lan = k.KiemtraStore.open(str(tmp_path / "lan"))
    hung = k.KiemtraStore.open(str(tmp_path / "hung"))
    assert lan.enrol(server["url"], server["codes"]["lan"], "Điện thoại của Lan", None).id == server["lan"]
    assert hung.enrol(server["url"], server["codes"]["hung"], "Điện thoại của Hùng", None).id == server["hung"]
    # A code works once.
    other = k.KiemtraStore.open(str(tmp_path / "other"))
    with pytest.raises((k.KiemtraError.Auth, k.KiemtraError.NotAllowed)):
        other.enrol(server["url"], server["codes"]["lan"], "x", None)

    progress = Progress()
    report = lan.sync(progress)
    assert report.pulled > 0
    assert progress.seen[-1].phase == k.SyncPhase.DONE
    iid = server["inspection"]
    assert lan.inspection(iid).status == k.Status.DRAFT

    lan.start_inspection(iid)
    lan.set_answer(iid, "A1", k.AnswerValue.COUNT(420), "Theo sổ lao động")
    added = lan.add_photo(iid, "F2", photo(), "Công nhân không đeo khẩu trang")
    report = lan.sync(None)
    assert report.refused == 0 and report.photos_uploaded == 2
    assert lan.pending_operations() == []

    hung.sync(None)
    a1 = next(l for l in hung.checklist(iid) if l.item_code == "A1")
    assert a1.answers[0].value == k.AnswerValue.COUNT(420)
    assert a1.answers[0].note == "Theo sổ lao động"
    [seen] = hung.photos(iid)
    assert seen.image_sha256 == added.image_sha256
    assert hung.download_photos(iid, True) == 1
    thumb = hung.blob(seen.thumbnail_sha256)
    assert hashlib.sha256(thumb).hexdigest() == seen.thumbnail_sha256
    Image.open(io.BytesIO(thumb)).load()

    # A second sync with nothing new changes nothing.
    again = lan.sync(None)
    assert again.pushed == 0 and again.photos_uploaded == 0
