"""Headless Chromium for the browser tests, and the real server binary to
point it at.

Chromium and its driver are Debian's (/usr/bin/chromium,
/usr/bin/chromedriver, installed by scripts/setup.sh): Selenium is told
where both are and to stay offline, so nothing is downloaded at test time.
Screenshots are kept as test artifacts in build/screenshots/."""

import base64
import io
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from PIL import Image

# Before selenium is imported: Selenium Manager must never try the network.
os.environ["SE_OFFLINE"] = "true"

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("KIEMTRA_SERVER_BIN", str(ROOT / "target" / "debug" / "kiemtra-server"))
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

DESKTOP_WIDTH = 1280
# Longest page kept whole in a screenshot.
MAX_HEIGHT = 16000


def admin(data, *args):
    """Runs `kiemtra-server admin --data DATA ARGS…` and returns its output."""
    out = subprocess.run([SERVER, "admin", "--data", str(data), *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


class Server:
    """`kiemtra-server serve` on a free loopback port; its log goes to `log`."""

    def __init__(self, data, log, *extra):
        self.log = Path(log)
        with open(self.log, "a", encoding="utf-8") as err:
            self.proc = subprocess.Popen(
                [SERVER, "serve", "--data", str(data), "--addr", "127.0.0.1:0", *extra],
                stdout=subprocess.PIPE, stderr=err, text=True,
            )
        try:
            line = self._first_line(timeout=120)
        except BaseException:
            self.stop()
            raise
        assert line.startswith("listening on "), f"{line!r}; log in {self.log}"
        self.url = "http://" + line.removeprefix("listening on ")

    def _first_line(self, timeout):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise AssertionError(f"the server printed nothing in {timeout} s; log in {self.log}")
        return self.proc.stdout.readline().strip()

    def stop(self):
        """SIGTERM and wait (the server flushes its database on the way out)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


class Browser:
    """One headless Chromium with a fresh profile, quit (and the profile
    removed) by `quit`."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="kiemtra-chromium-")
        options = webdriver.ChromeOptions()
        for a in CHROMIUM_ARGS:
            options.add_argument(a)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.binary_location = CHROMIUM
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
        self.driver.set_window_size(DESKTOP_WIDTH, 2400)
        self.driver.set_page_load_timeout(30)

    def quit(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def wait(driver, condition, timeout=10, message=""):
    return WebDriverWait(driver, timeout).until(condition, message)


def images_loaded(driver):
    """Whether every image of the page has finished loading (or failing)."""
    return driver.execute_script("return [...document.images].every(i => i.complete)")


def screenshot(driver, name, width=DESKTOP_WIDTH, height=None, mobile=False, scroll_to=None):
    """Saves a PNG of the page to build/screenshots/NAME: `width` wide and,
    without `height`, as tall as the whole document (the viewport is resized
    to it, so the capture is one real rendering, not stitched). With a
    `height`, the viewport from the top, or from the element `scroll_to` (a
    CSS selector) when given."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    metrics = {"width": width, "height": height or 900, "deviceScaleFactor": 1, "mobile": mobile}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        if height is None:
            h = driver.execute_script(
                "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)")
            metrics["height"] = min(int(h), MAX_HEIGHT)
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        if scroll_to:
            driver.execute_script("document.querySelector(arguments[0]).scrollIntoView(true)", scroll_to)
        else:
            driver.execute_script("window.scrollTo(0, 0)")
        # Lazy images in the newly visible part start loading now.
        wait(driver, images_loaded, message=f"images of {driver.current_url} did not load")
        time.sleep(0.1)
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    png = base64.b64decode(shot["data"])
    with Image.open(io.BytesIO(png)) as img:
        assert img.format == "PNG" and img.width == width, (name, img.format, img.size)
    path = SCREENSHOTS / name
    path.write_bytes(png)
    return path


def requested_urls(driver):
    """Every URL the current page loaded: the document and its resources."""
    return driver.execute_script(
        "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
        ".map(e => e.name)")


def response_status(driver):
    """The HTTP status of the current document."""
    return driver.execute_script("return performance.getEntriesByType('navigation')[0].responseStatus")
