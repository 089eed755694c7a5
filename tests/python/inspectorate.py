"""Sets up an inspectorate with the real server's admin commands and starts
the real server binary on a free loopback port: the one launcher behind the
Python, Kotlin and Swift binding tests.

Each *world* is an inspection of its own: a template, two inspectors (Lan, a
member, and Hùng, the leader), their delegation, an establishment, the
assigned inspection and one enrolment code per inspector. Tests that share a
server take one world each, so they cannot see each other's records.

From Python: `with serve(tmp_path, ["main"]) as s: s["worlds"]["main"]["inspection"]`.

From another language's test runner (Kotlin's JUnit, Swift's XCTest):

    python3 tests/python/inspectorate.py --workdir DIR --worlds walk,cancel -- CMD ARGS...

runs CMD with the server up and these in its environment (WORLD upper-cased):
`KIEMTRA_URL`, `KIEMTRA_WORKDIR` (an empty folder for the stores),
`KIEMTRA_PHOTOS` (three different camera JPEGs, `:`-separated), `KIEMTRA_<WORLD>_INSPECTION`,
`KIEMTRA_<WORLD>_LAN`, `KIEMTRA_<WORLD>_HUNG` (inspector ids) and
`KIEMTRA_<WORLD>_LAN_CODE`, `KIEMTRA_<WORLD>_HUNG_CODE`; exits with CMD's
status and stops the server.
"""

import argparse
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("KIEMTRA_SERVER_BIN", str(ROOT / "target" / "debug" / "kiemtra-server"))


def admin(data, *args):
    out = subprocess.run([SERVER, "admin", "--data", str(data), *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def photo_jpeg(color=(30, 120, 200)):
    """A camera-sized JPEG (the photo pipeline makes an image and a thumbnail of it)."""
    from PIL import Image

    img = Image.new("RGB", (1200, 900), color)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def _world(data, tmp, index):
    lan = admin(data, "create-inspector", "--name", "Nguyễn Thị Lan", "--title", "Thanh tra viên", "--agency", "Sở Nội vụ")
    hung = admin(data, "create-inspector", "--name", "Trần Văn Hùng", "--title", "Chánh Thanh tra", "--agency", "Sở Nội vụ")
    delegation = admin(data, "create-delegation", "--name", f"Đoàn kiểm tra số {index + 2}",
                       "--decision", f"Quyết định số {88 + index}/QĐ-SNV", "--leader", hung, "--member", lan)
    tax = f"0200333{index:03d}"
    csv = tmp / f"co-so-{index}.csv"
    csv.write_text(
        "kind,name,tax_code,street,unit,sector,workforce,high_risk\n"
        f"enterprise,Công ty TNHH May Hải Phòng {index + 1},{tax},Số 9 Lê Lợi,hp.le-chan,Dệt may,420,true\n",
        encoding="utf-8",
    )
    admin(data, "import-facilities", str(csv), "--quiet")
    facility = next(line.split("\t")[0] for line in admin(data, "list-facilities").splitlines()
                    if line.split("\t")[1] == tax)
    inspection = admin(data, "assign", "--delegation", delegation, "--facility", facility,
                       "--template", "osh-general@1", "--date", "2025-05-06")
    codes = {"lan": admin(data, "enrol-code", "--inspector", lan), "hung": admin(data, "enrol-code", "--inspector", hung)}
    return {"inspection": inspection, "lan": lan, "hung": hung, "codes": codes}


@contextlib.contextmanager
def serve(tmp, worlds):
    """Sets up `worlds` (names) in a server data folder under `tmp`, starts
    the server and yields {"url", "worlds": {name: world}}; kills it after."""
    tmp = Path(tmp)
    data = tmp / "server"
    admin(data, "publish-template", str(ROOT / "core" / "templates" / "osh-general-v1.json"))
    units = tmp / "xa-phuong.json"
    units.write_text(
        '{"format": "kiemtra-admin-units/1", "units": [{"code": "hp.p-le-chan", "name_vi": "Phường Lê Chân",'
        ' "kind": "phường", "level": "commune", "valid_from": "2025-07-01"}]}',
        encoding="utf-8",
    )
    admin(data, "publish-units", str(units))
    made = {name: _world(data, tmp, i) for i, name in enumerate(worlds)}
    proc = subprocess.Popen([SERVER, "serve", "--data", str(data), "--addr", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        yield {"url": "http://" + line.removeprefix("listening on "), "worlds": made}
    finally:
        proc.kill()
        proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True, help="a folder for the server data, the stores and the photo")
    parser.add_argument("--worlds", required=True, help="comma-separated world names")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run")
    work = Path(args.workdir).resolve()
    # A fresh folder each run: a store left from an earlier run would be enrolled elsewhere.
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    setup = Path(tempfile.mkdtemp(dir=work, prefix="server-"))
    stores = work / "stores"
    stores.mkdir()
    photos = []
    for i in range(3):
        photos.append(work / f"photo-{i + 1}.jpg")
        photos[-1].write_bytes(photo_jpeg((30 + 60 * i, 120, 200)))
    with serve(setup, args.worlds.split(",")) as s:
        env = dict(os.environ, KIEMTRA_URL=s["url"], KIEMTRA_WORKDIR=str(stores), KIEMTRA_PHOTOS=":".join(map(str, photos)))
        for name, w in s["worlds"].items():
            p = f"KIEMTRA_{name.upper()}_"
            env.update({p + "INSPECTION": w["inspection"], p + "LAN": w["lan"], p + "HUNG": w["hung"],
                        p + "LAN_CODE": w["codes"]["lan"], p + "HUNG_CODE": w["codes"]["hung"]})
        return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
