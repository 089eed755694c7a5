"""The web pages in a real browser (Debian's headless Chromium, driven by
Selenium) against the real server binary with its demo data: the
establishment's portal (open with the access code printed on the minutes,
read the violations, send remediation evidence with a photo) and the
inspectorate's overview and accident register. Screenshots are kept in
build/screenshots/ for people to look at."""

import io
import json
import re

import pytest
from PIL import Image
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.common.by import By

from browser import SCREENSHOTS, Browser, Server, admin, requested_urls, response_status, screenshot, wait

ADMIN_NAME = "Nguyễn Văn An"
REPORT_TEXT = "Đã lắp che chắn bộ phận truyền động và huấn luyện lại công nhân."
SENT_BY = "Phạm Thị Hoa, Trưởng phòng An toàn"
OPEN = "Chưa khắc phục"
REPORTED = "Đã báo cáo khắc phục"
WRONG_CODE = "AAAAA-BBBBB-CCCCC-DDDDD"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo server, restarted once so that an admin token exists: the
    admin commands work on a stopped server's folder."""
    tmp = tmp_path_factory.mktemp("browser")
    data, log = tmp / "server", tmp / "server.log"
    first = Server(data, log, "--demo")
    first.stop()
    codes_file = data / "demo-access-codes.json"
    assert codes_file.exists(), f"--demo wrote no {codes_file.name}; log in {log}"
    codes = json.loads(codes_file.read_text(encoding="utf-8"))
    assert codes and all({"facility", "inspection", "code"} <= set(c) for c in codes), codes
    token = admin(data, "create-admin-token", "--name", ADMIN_NAME)
    assert token
    srv = Server(data, log)
    try:
        accounts = json.loads((data / "demo-accounts.json").read_text(encoding="utf-8"))
        yield {"url": srv.url, "codes": codes, "token": token, "log": log, "accounts": accounts}
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def driver():
    b = Browser()
    try:
        yield b.driver
    finally:
        b.quit()


def go(driver, server, path):
    driver.get(server["url"] + path)
    assert_only_local(driver, server)


def assert_only_local(driver, server):
    """The page and everything it loaded came from the server: no CDN, no web font, no tracker."""
    urls = requested_urls(driver)
    assert urls, driver.current_url
    foreign = [u for u in urls if not u.startswith(server["url"] + "/")]
    assert not foreign, f"{driver.current_url} requested {foreign}"


def submit(driver, server, button, url_part):
    """Clicks `button` and waits for the page the form leads to."""
    old = driver.find_element(By.TAG_NAME, "html")
    button.click()
    wait(driver, lambda d: url_part in d.current_url and _stale(old),
         message=f"no {url_part} after the click; at {driver.current_url}")
    wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")
    assert_only_local(driver, server)


def _stale(element):
    try:
        element.tag_name
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException:
        # Asked in the middle of the navigation, Chromium can answer "Node with
        # given id does not belong to the document" instead: not settled yet,
        # so ask again on the next poll (the wait still times out if it never is).
        return False


def open_portal(driver, server, code):
    go(driver, server, "/portal")
    box = driver.find_element(By.ID, "code")
    box.clear()
    box.send_keys(code)
    submit(driver, server, driver.find_element(By.ID, "open"), "/portal/inspection")


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "table#violations tr[data-item]")


def row_status(row):
    return row.find_element(By.CSS_SELECTOR, ".badge").text.strip()


@pytest.fixture(scope="module")
def entry(server, driver):
    """The demo code to work with: the newest sealed minutes that still have
    a violation open (so a remediation report can be sent)."""
    for c in sorted(server["codes"], key=lambda c: c.get("date", ""), reverse=True):
        open_portal(driver, server, c["code"])
        if any(row_status(r) == OPEN for r in rows(driver)):
            return c
    pytest.fail(f"no demo access code opens minutes with an open violation: {server['codes']}")


def test_wrong_code_is_refused(server, driver):
    go(driver, server, "/portal")
    driver.delete_all_cookies()
    # Loaded again without cookies: a new form token with its cookie (the
    # form loaded before would now be refused as forged, 403).
    go(driver, server, "/portal")
    assert driver.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == "vi"
    assert driver.find_elements(By.CSS_SELECTOR, "input#code") and driver.find_elements(By.CSS_SELECTOR, "button#open")
    driver.find_element(By.ID, "code").send_keys(WRONG_CODE)
    submit(driver, server, driver.find_element(By.ID, "open"), "/portal")
    assert response_status(driver) == 401
    error = driver.find_element(By.CSS_SELECTOR, "p.error[role=alert]")
    assert "Mã tra cứu không đúng" in error.text
    assert not driver.find_elements(By.CSS_SELECTOR, "table#violations")
    assert not driver.find_elements(By.CSS_SELECTOR, "#facility")
    screenshot(driver, "01b-portal-wrong-code.png")
    # Without a session the inspection page sends back to the code page.
    go(driver, server, "/portal/inspection")
    assert driver.current_url == server["url"] + "/portal"


def test_right_code_shows_the_violations(server, driver, entry):
    go(driver, server, "/portal")
    driver.find_element(By.ID, "code").send_keys(entry["code"])
    screenshot(driver, "01-portal-code.png")
    submit(driver, server, driver.find_element(By.ID, "open"), "/portal/inspection")
    assert driver.current_url == server["url"] + "/portal/inspection"
    assert driver.find_element(By.ID, "facility").text.strip() == entry["facility"]
    status = driver.find_element(By.ID, "verify-status")
    assert "success" in status.get_attribute("class").split(), status.text
    found = rows(driver)
    assert found, "no violation rows"
    for r in found:
        cells = r.find_elements(By.TAG_NAME, "td")
        item = r.get_attribute("data-item")
        assert cells[0].text.strip() == item
        assert cells[1].text.strip(), f"{item}: no violation text"
        assert cells[2].text.strip(), f"{item}: no legal basis"
        assert cells[3].text.strip(), f"{item}: no requirement"
        assert re.search(r"\d{2}/\d{2}/\d{4}", cells[4].text), f"{item}: no deadline in {cells[4].text!r}"
        assert re.search(r"Còn \d+ ngày|Quá hạn \d+ ngày|Hết hạn hôm nay|—", cells[4].text), cells[4].text
        assert row_status(r) in (OPEN, REPORTED, "Đã xác nhận khắc phục")
        link = r.find_element(By.LINK_TEXT, "Báo cáo khắc phục")
        assert link.get_attribute("href") == f"{server['url']}/portal/violations/{item}"
    # Every photo thumbnail is served (the portal shows only this inspection's photos).
    wait(driver, lambda d: d.execute_script("return [...document.images].every(i => i.complete)"))
    broken = driver.execute_script(
        "return [...document.images].filter(i => i.naturalWidth === 0).map(i => i.src)")
    assert not broken, broken
    screenshot(driver, "02-portal-violations.png")
    # On a phone, from the violations' heading down.
    screenshot(driver, "02b-portal-violations-phone.png", width=390, height=844, mobile=True,
               scroll_to="h2:has(+ .scroll > #violations)")


def gradient_jpeg(path):
    """A real 1200x900 photo-like JPEG without EXIF."""
    horizontal = Image.linear_gradient("L").rotate(90).resize((1200, 900))
    vertical = Image.linear_gradient("L").resize((1200, 900))
    blue = Image.new("L", (1200, 900), 140)
    img = Image.merge("RGB", (horizontal, vertical, blue))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=88)
    path.write_bytes(buf.getvalue())
    return path


def test_send_remediation_evidence_with_a_photo(server, driver, entry, tmp_path):
    open_portal(driver, server, entry["code"])
    target = next(r for r in rows(driver) if row_status(r) == OPEN)
    item = target.get_attribute("data-item")
    target.find_element(By.LINK_TEXT, "Báo cáo khắc phục").click()
    wait(driver, lambda d: d.current_url.endswith(f"/portal/violations/{item}"))
    assert_only_local(driver, server)
    assert OPEN in driver.find_element(By.ID, "status").text
    driver.find_element(By.ID, "sent_by").send_keys(SENT_BY)
    driver.find_element(By.ID, "text").send_keys(REPORT_TEXT)
    driver.find_element(By.ID, "photos").send_keys(str(gradient_jpeg(tmp_path / "che-chan.jpg")))
    submit(driver, server, driver.find_element(By.ID, "send"), "sent=true")
    assert driver.current_url == f"{server['url']}/portal/violations/{item}?sent=true"
    assert response_status(driver) == 200
    assert driver.find_element(By.CSS_SELECTOR, "p.success[role=alert]").text.startswith("Đã nhận báo cáo khắc phục")
    cards = [c for c in driver.find_elements(By.CSS_SELECTOR, ".report") if REPORT_TEXT in c.text]
    assert len(cards) == 1, [c.text for c in driver.find_elements(By.CSS_SELECTOR, ".report")]
    card = cards[0]
    assert SENT_BY in card.text
    img = card.find_element(By.TAG_NAME, "img")
    try:
        wait(driver, lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", img))
    except TimeoutException:
        pytest.fail(f"the report's thumbnail did not load: {img.get_attribute('src')}")
    assert img.get_attribute("src").startswith(server["url"] + "/portal/photos/")
    # The full-size photo behind the thumbnail is served too, normalised (no wider than sent).
    size = driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; const i = new Image();"
        "i.onload = () => done([i.naturalWidth, i.naturalHeight]); i.onerror = () => done(null);"
        "i.src = arguments[0];", card.find_element(By.TAG_NAME, "a").get_attribute("href"))
    assert size and 0 < size[0] <= 1200 and size[1] > 0, size
    assert REPORTED in driver.find_element(By.ID, "status").text
    screenshot(driver, "03-portal-evidence-sent.png")

    go(driver, server, "/portal/inspection")
    row = driver.find_element(By.CSS_SELECTOR, f"table#violations tr[data-item='{item}']")
    assert row_status(row) == REPORTED


def test_portal_links_are_served(server, driver, entry):
    """Every link on the establishment's pages answers 200 for its session."""
    open_portal(driver, server, entry["code"])
    pages = ["/portal/inspection", "/portal/minutes", "/portal/accident"]
    pages += [f"/portal/violations/{r.get_attribute('data-item')}" for r in rows(driver)[:1]]
    broken = {}
    for path in pages:
        go(driver, server, path)
        assert response_status(driver) == 200, path
        broken.update(broken_links(driver, server))
    assert not broken, broken


def broken_links(driver, server, skip=()):
    """Same-site links of the page that do not answer 200 (fetched with the page's cookies)."""
    statuses = driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; const skip = arguments[0];"
        "const hrefs = [...new Set([...document.querySelectorAll('a[href]')]"
        "  .map(a => new URL(a.getAttribute('href'), location.href).href))]"
        "  .filter(h => h.startsWith(location.origin) && !skip.some(s => h.startsWith(location.origin + s)));"
        "Promise.all(hrefs.map(h => fetch(h, {credentials: 'same-origin'}).then(r => [h, r.status], e => [h, String(e)])))"
        "  .then(done);", list(skip))
    return {f"{driver.current_url} -> {h}": s for h, s in statuses if s != 200}


def admin_login(driver, server):
    go(driver, server, "/admin")
    if driver.current_url.endswith("/admin/login"):
        driver.find_element(By.ID, "token").send_keys(server["token"])
        submit(driver, server, driver.find_element(By.ID, "login"), "/admin")
    wait(driver, lambda d: d.current_url == server["url"] + "/admin")


def number(cell):
    text = cell.text.strip().replace(".", "")
    assert text.isdigit(), f"not a number: {cell.text!r}"
    return int(text)


def test_admin_overview(server, driver):
    go(driver, server, "/admin")
    assert driver.current_url == server["url"] + "/admin/login"
    driver.find_element(By.ID, "token").send_keys("not-the-token")
    submit(driver, server, driver.find_element(By.ID, "login"), "/admin/login")
    assert response_status(driver) == 401
    assert driver.find_element(By.CSS_SELECTOR, "p.error[role=alert]").text

    admin_login(driver, server)
    assert ADMIN_NAME in driver.find_element(By.TAG_NAME, "main").text
    year = re.search(r"năm (\d{4})", driver.find_element(By.TAG_NAME, "h1").text)
    assert year, driver.find_element(By.TAG_NAME, "h1").text
    for t in ("4", "6", "8"):
        card = driver.find_element(By.ID, f"target-{t}")
        assert card.find_elements(By.TAG_NAME, "svg"), f"target {t}: no chart"
        assert card.find_element(By.TAG_NAME, "h3").text.startswith(f"Chỉ tiêu {t}")
        total = card.find_element(By.CSS_SELECTOR, f"table.figures tr[data-target='{t}'][data-unit='total']")
        cells = total.find_elements(By.CSS_SELECTOR, "th, td")
        numerator, denominator = number(cells[1]), number(cells[2])
        assert numerator <= denominator, (t, numerator, denominator)
        if t == "4":
            assert denominator > 0, f"target 4 has no denominator for {year.group(1)}"
        # The units' rows add up to the city's.
        units = card.find_elements(By.CSS_SELECTOR, f"table.figures tr[data-target='{t}']:not([data-unit='total'])")
        assert sum(number(u.find_elements(By.TAG_NAME, "td")[1]) for u in units) == numerator, t
        assert sum(number(u.find_elements(By.TAG_NAME, "td")[2]) for u in units) == denominator, t
    for table in ("inspections", "sections", "overdue", "uninspected"):
        assert driver.find_elements(By.CSS_SELECTOR, f"table#{table}"), table
    assert len(driver.find_elements(By.CSS_SELECTOR, "table#inspections tr")) > 1, "no inspection counted"
    assert number(driver.find_element(By.ID, "fatal-count")) >= 0
    screenshot(driver, "04-admin-overview.png")
    broken = broken_links(driver, server, skip=("/admin/logout",))
    assert not broken, broken


def test_admin_accidents(server, driver):
    admin_login(driver, server)
    go(driver, server, "/admin/accidents")
    assert response_status(driver) == 200
    found = driver.find_elements(By.CSS_SELECTOR, "table#accidents tr[data-accident][data-state]")
    assert found, "no accident in the register"
    states = [r.get_attribute("data-state") for r in found]
    assert set(states) <= {"by_employer", "concluded", "pending", "overdue", "concluded_late"}, states
    assert number(driver.find_element(By.ID, "overdue-count")) == states.count("overdue")
    screenshot(driver, "05-admin-accidents.png")


def account_sign_in(driver, server, login):
    """Signs out, then in with the demo account `login` through the account form."""
    go(driver, server, "/admin/logout")
    account = next(a for a in server["accounts"] if a["login"] == login)
    go(driver, server, "/admin/login")
    driver.find_element(By.ID, "account-login").send_keys(account["login"])
    driver.find_element(By.ID, "password").send_keys(account["password"])
    submit(driver, server, driver.find_element(By.ID, "account-submit"), "/admin")
    return account


def test_staff_accounts_roles_and_audit_log(server, driver):
    """A viewer signs in with a password and sees the overview but not the
    audit log; the administrator sees the log, with both sign-ins and
    their authors, and not the overview."""
    viewer = account_sign_in(driver, server, "lanhdao")
    assert driver.current_url == server["url"] + "/admin"
    assert viewer["name"] in driver.find_element(By.TAG_NAME, "main").text
    go(driver, server, "/admin/audit")
    assert response_status(driver) == 403
    assert "Không có quyền truy cập" in driver.find_element(By.TAG_NAME, "h1").text

    admin_account = account_sign_in(driver, server, "quantri")
    # The administrator's role has no overview: signing in leads to the accounts.
    assert driver.current_url == server["url"] + "/admin/accounts", driver.current_url
    go(driver, server, "/admin?year=2025")
    assert driver.current_url.endswith("/admin/accounts")
    go(driver, server, "/admin/audit")
    assert response_status(driver) == 200
    rows = driver.find_elements(By.CSS_SELECTOR, "table#audit tr[data-seq]")
    texts = [r.text for r in rows]
    for who in (viewer, admin_account):
        assert any("sign_in" in t and who["login"] in t for t in texts), (who["login"], texts)
    screenshot(driver, "07-audit-log.png")
    # Signed out again, so that the token sign-in of other tests starts clean.
    go(driver, server, "/admin/logout")
    assert driver.current_url.endswith("/admin/login")


def test_server_logged_no_errors(server):
    """Nothing the browser did made the server log an error (a page that failed
    can still look like one)."""
    log = re.sub(r"\x1b\[[0-9;]*m", "", server["log"].read_text(encoding="utf-8"))
    errors = [line for line in log.splitlines() if re.search(r"\bERROR\b", line)]
    assert not errors, errors
