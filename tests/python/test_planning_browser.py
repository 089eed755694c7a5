"""An inspectorate set up in the browser on the running server, from an
empty data folder: the first administrator (made with the one folder
command) creates the staff accounts; a planner publishes a template,
imports establishments, adds inspectors and a delegation, assigns an
inspection and shows an enrolment QR code; a phone (the Python bindings)
enrols with the code decoded from that QR image and receives its
assignment; a viewer is refused the planner's pages and API; the
administrator revokes the phone, whose next sync is refused; the audit log
shows every step with its author. The server runs throughout.
Screenshots go to build/screenshots/."""

import asyncio
import base64
import io
import json
import os
import re
import subprocess
import urllib.error
import urllib.request

import pytest
import zxingcpp
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import kiemtra_mobile as k
from browser import SERVER, Browser, Server, response_status, screenshot, wait

run = asyncio.run

PASSWORDS = {
    "quantri": "mật khẩu quản trị 2026",
    "kehoach": "mật khẩu kế hoạch 2026",
    "lanhdao": "mật khẩu lãnh đạo 2026",
}

TEMPLATE = {
    "format": "kiemtra-template/1", "id": "osh-basic", "version": 1,
    "title_vi": "Kiểm tra cơ bản an toàn, vệ sinh lao động",
    "sections": [{"code": "A", "title_vi": "Tổ chức bộ phận an toàn", "items": [
        {"code": "A1", "question_vi": "Cơ sở có nội quy an toàn lao động?", "answer": "yes_no_na",
         "legal_basis": [{"instrument": "Luật 84/2015/QH13", "article": "Điều 14"}]}]}]}

FACILITIES = (
    "kind,name,tax_code,street,unit,sector,workforce,high_risk\n"
    "enterprise,Công ty CP Cảng Gia Viên,0200555666,Số 8 Lê Thánh Tông,hp.ngo-quyen,Cảng biển,300,true\n"
    "enterprise,Công ty TNHH Nhựa Lê Chân,0200777888,Số 2 Hai Bà Trưng,hp.le-chan,Nhựa,80,false\n"
    "cooperative,HTX Cơ khí An Dương,,Thôn Vĩnh Khê,hp.an-duong,Cơ khí,25,false\n"
    "enterprise,Thiếu mã đơn vị,0200999000,Số 1,hp.khong-co,Dệt may,10,false\n"
)


def folder_admin(data, *args, password=None):
    """`kiemtra-server admin --data DATA ARGS…` on the stopped server's folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIEMTRA_")}
    if password:
        env["KIEMTRA_ACCOUNT_PASSWORD"] = password
    out = subprocess.run([SERVER, "admin", "--data", str(data), *args], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture(scope="module")
def inspectorate(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("planning")
    data, log = tmp / "server", tmp / "server.log"
    # The one command on the empty folder: the first administrator (and a
    # token of theirs for the API checks below).
    folder_admin(data, "create-account", "--login", "quantri", "--name", "Trần Quản Trị",
                 "--role", "administrator", password=PASSWORDS["quantri"])
    token = folder_admin(data, "create-api-token", "--name", "kiểm thử", "--account", "quantri")
    (tmp / "mau.json").write_text(json.dumps(TEMPLATE, ensure_ascii=False), encoding="utf-8")
    (tmp / "co-so.csv").write_text(FACILITIES, encoding="utf-8")
    srv = Server(data, log)
    b = Browser()
    try:
        yield {"url": srv.url, "tmp": tmp, "token": token, "driver": b.driver, "log": log}
    finally:
        b.quit()
        srv.stop()


def go(s, path):
    s["driver"].get(s["url"] + path)


def click(s, element_id, url_part=None):
    """Clicks and waits for the next page to load."""
    d = s["driver"]
    old = d.find_element(By.TAG_NAME, "html")
    d.find_element(By.ID, element_id).click()

    def moved(drv):
        try:
            old.tag_name
            return False
        except Exception:
            return url_part is None or url_part in drv.current_url

    wait(d, moved, timeout=20, message=f"no page after #{element_id}; at {d.current_url}")
    wait(d, lambda drv: drv.execute_script("return document.readyState") == "complete")


def fill(s, element_id, text):
    box = s["driver"].find_element(By.ID, element_id)
    box.clear()
    box.send_keys(text)


def sign_in(s, login):
    go(s, "/admin/logout")
    go(s, "/admin/login")
    fill(s, "account-login", login)
    fill(s, "password", PASSWORDS[login])
    click(s, "account-submit")


def main_text(s):
    return s["driver"].find_element(By.TAG_NAME, "main").text


def api(s, path, token):
    req = urllib.request.Request(s["url"] + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_an_inspectorate_set_up_in_the_browser(inspectorate, tmp_path):
    s = inspectorate
    d = s["driver"]

    # The administrator creates the planner's and the viewer's accounts.
    sign_in(s, "quantri")
    assert d.current_url == s["url"] + "/admin/accounts", "an administrator lands on the accounts"
    for login, name, role in [("kehoach", "Lê Kế Hoạch", "planner"), ("lanhdao", "Phạm Lãnh Đạo", "viewer")]:
        fill(s, "login", login)
        fill(s, "name", name)
        Select(d.find_element(By.ID, "role")).select_by_value(role)
        fill(s, "password", PASSWORDS[login])
        click(s, "create-account", "done=account_created")
    assert "kehoach" in d.find_element(By.ID, "accounts").text
    screenshot(d, "10-accounts.png")

    # The planner publishes the template.
    sign_in(s, "kehoach")
    assert d.current_url == s["url"] + "/admin", "a planner lands on the overview"
    go(s, "/admin/templates")
    d.find_element(By.ID, "file").send_keys(str(s["tmp"] / "mau.json"))
    click(s, "publish")
    assert "Đã công bố osh-basic@1" in main_text(s)

    # Imports the establishments: the good lines go in, the bad one is listed.
    go(s, "/admin/establishments/import")
    d.find_element(By.ID, "file").send_keys(str(s["tmp"] / "co-so.csv"))
    click(s, "upload", "/admin/imports/")
    wait(d, lambda drv: drv.find_elements(By.ID, "finished"), timeout=30, message="the import did not finish")
    assert "nhập 3 cơ sở, 1 dòng bị từ chối" in d.find_element(By.ID, "finished").text
    refused = d.find_element(By.ID, "refused").text
    assert "5" in refused and "hp.khong-co" in refused, refused
    assert d.find_element(By.ID, "progress").get_attribute("value") == "4"
    screenshot(d, "11-import.png")

    # Finds one without its accents.
    go(s, "/admin/establishments?q=cang+gia+vien")
    assert d.find_element(By.ID, "count").text.startswith("1 cơ sở")
    assert "Công ty CP Cảng Gia Viên" in d.find_element(By.ID, "establishments").text
    go(s, "/admin/establishments")
    screenshot(d, "12-establishments.png")

    # Two inspectors and their delegation.
    go(s, "/admin/delegations")
    for name in ["Nguyễn Thị Lan", "Trần Văn Hùng"]:
        fill(s, "i-name", name)
        click(s, "create-inspector", "done=inspector_created")
    fill(s, "d-name", "Đoàn kiểm tra số 1")
    fill(s, "decision", "Quyết định số 12/QĐ-SNV")
    Select(d.find_element(By.ID, "leader")).select_by_visible_text("Trần Văn Hùng")
    lan_box = next(b for b in d.find_elements(By.CSS_SELECTOR, "input[name=member]")
                   if "Nguyễn Thị Lan" in b.find_element(By.XPATH, "..").text)
    lan_id = lan_box.get_attribute("value")
    lan_box.click()
    click(s, "create-delegation", "done=delegation_created")
    row = d.find_element(By.ID, "delegations").text
    assert "Đoàn kiểm tra số 1" in row and "Trần Văn Hùng" in row and "Nguyễn Thị Lan" in row, row
    screenshot(d, "13-delegations.png")

    # The assignment.
    go(s, "/admin/assignments?f=gia+vien")
    Select(d.find_element(By.ID, "facility")).select_by_visible_text("Công ty CP Cảng Gia Viên (0200555666)")
    Select(d.find_element(By.ID, "delegation")).select_by_visible_text("Đoàn kiểm tra số 1")
    Select(d.find_element(By.ID, "template")).select_by_value("osh-basic@1")
    click(s, "create-assignment", "done=assigned")
    table = d.find_element(By.ID, "assignments").text
    assert "Công ty CP Cảng Gia Viên" in table and "Đã giao" in table, table
    screenshot(d, "14-assignments.png")

    # Planning by risk: the ranked list, one score explained, and two
    # establishments ticked and planned for March 2026 in one step.
    go(s, "/admin/planning")
    ranked = d.find_element(By.ID, "ranked").text
    assert ranked.index("Cảng Gia Viên") < ranked.index("Cơ khí An Dương"), ranked
    screenshot(d, "14b-planning-by-risk.png")
    gia_vien = d.find_element(By.XPATH, "//table[@id='ranked']//tr[contains(., 'Cảng Gia Viên')]")
    gia_vien.find_element(By.LINK_TEXT, "Vì sao?").click()
    wait(d, lambda drv: drv.find_elements(By.ID, "factors"), message="the score's factors")
    assert "nguy cơ cao" in main_text(s)
    screenshot(d, "14c-risk-explained.png")
    go(s, "/admin/planning")
    for name in ["Nhựa Lê Chân", "Cơ khí An Dương"]:
        row = d.find_element(By.XPATH, f"//table[@id='ranked']//tr[contains(., '{name}')]")
        row.find_element(By.CSS_SELECTOR, "input[name=facility]").click()
    Select(d.find_element(By.ID, "plan-delegation")).select_by_visible_text("Đoàn kiểm tra số 1")
    # A month field takes its value as the browser's locale writes it; set it as the form sends it.
    d.execute_script("document.getElementById('plan-month').value = '2026-03'")
    Select(d.find_element(By.ID, "plan-template")).select_by_value("osh-basic@1")
    click(s, "plan-assign", "/admin/planning/plan")
    march = d.find_element(By.ID, "month-3").text
    assert "Công ty TNHH Nhựa Lê Chân" in march and "HTX Cơ khí An Dương" in march, march
    assert "31/03/2026" in march and "Đoàn kiểm tra số 1" in march, march
    assert "Cảng Gia Viên" not in march
    screenshot(d, "14d-plan-2026.png")

    # The enrolment QR code for Lan's new phone.
    go(s, "/admin/enrol")
    Select(d.find_element(By.ID, "inspector")).select_by_value(lan_id)
    click(s, "issue")
    src = d.find_element(By.ID, "enrol-qr").get_attribute("src")
    assert src.startswith("data:image/png;base64,"), src[:40]
    screenshot(d, "15-enrol-qr.png")
    qr = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
    decoded = zxingcpp.read_barcodes(qr)
    assert len(decoded) == 1, decoded
    link = k.parse_enrol_link(decoded[0].text)
    assert link.server_url == s["url"]
    assert link.code == d.find_element(By.ID, "enrol-code").text

    # The phone enrols with what the QR code holds and receives its assignment.
    phone = k.KiemtraStore.open(str(tmp_path / "lan"))
    assert run(phone.enrol(link.server_url, link.code, "Điện thoại của Lan", None)).id == lan_id
    run(phone.sync(None))
    facility = next(f for f in phone.facilities() if f.name == "Công ty CP Cảng Gia Viên")
    assigned = phone.inspections_of_facility(facility.id)
    assert len(assigned) == 1 and assigned[0].template_id == "osh-basic", assigned
    for name in ["Công ty TNHH Nhựa Lê Chân", "HTX Cơ khí An Dương"]:
        planned = next(f for f in phone.facilities() if f.name == name)
        assert len(phone.inspections_of_facility(planned.id)) == 1, name
    # The code was for one phone only.
    other = k.KiemtraStore.open(str(tmp_path / "other"))
    with pytest.raises(k.KiemtraError):
        run(other.enrol(link.server_url, link.code, "Điện thoại khác", None))

    # The viewer is refused the planner's pages, and the API with a token of theirs.
    sign_in(s, "lanhdao")
    for path in ["/admin/establishments", "/admin/assignments", "/admin/enrol", "/admin/templates", "/admin/devices",
                 "/admin/planning", "/admin/planning/plan"]:
        go(s, path)
        assert response_status(d) == 403, path
        assert "Không có quyền truy cập" in d.find_element(By.TAG_NAME, "h1").text, path
    screenshot(d, "16-viewer-refused.png")
    out = subprocess.run([SERVER, "admin", "--server", s["url"], "create-api-token", "--name", "xem",
                          "--account", "lanhdao"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "KIEMTRA_TOKEN": s["token"]})
    assert out.returncode == 0, out.stderr
    viewer_token = out.stdout.strip()
    status, body = api(s, "/api/v1/admin/facilities", viewer_token)
    assert (status, body["code"]) == (403, "role_refused"), body
    status, body = api(s, "/api/v1/admin/assignments", viewer_token)
    assert status == 403, body

    # The administrator revokes the phone; its next sync is refused.
    sign_in(s, "quantri")
    go(s, "/admin/devices")
    row = d.find_element(By.ID, f"device-{phone.device_id()}")
    assert "Nguyễn Thị Lan" in row.text and "Đang dùng" in row.text, row.text
    row.find_element(By.CSS_SELECTOR, "button.revoke").click()
    wait(d, lambda drv: "done=revoked" in drv.current_url, timeout=20)
    assert "Đã thu hồi" in d.find_element(By.ID, f"device-{phone.device_id()}").text
    screenshot(d, "17-devices.png")
    with pytest.raises(k.KiemtraError) as refused_sync:
        run(phone.sync(None))
    assert "revoked" in str(refused_sync.value)

    # The audit log shows every step with its author.
    go(s, "/admin/audit")
    rows = [r.text for r in d.find_elements(By.CSS_SELECTOR, "table#audit tr[data-seq]")]
    def by(action, login):
        assert any(action in r and login in r for r in rows), (action, login, rows)
    for action in ["create_account", "issue_api_token", "revoke_device"]:
        by(action, "quantri")
    for action in ["publish_template", "import_facilities", "create_inspector", "create_delegation", "assign",
                   "plan", "issue_enrol_code"]:
        by(action, "kehoach")
    for login in PASSWORDS:
        by("sign_in", login)
    screenshot(d, "18-audit-everything.png")


def test_server_logged_no_errors(inspectorate):
    log = re.sub(r"\x1b\[[0-9;]*m", "", inspectorate["log"].read_text(encoding="utf-8"))
    errors = [line for line in log.splitlines() if re.search(r"\bERROR\b", line)]
    assert not errors, errors
