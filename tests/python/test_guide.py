"""The app developers' guide (docs/apps.md) shows tested code only: every
code block that names a file (```kotlin tests/kotlin/App.kt) must appear in
that file line for line (indentation aside), and those files are the ones
the Kotlin, Swift and Python binding tests compile and run."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```(\w+) (\S+)\n(.*?)^```", re.M | re.S)


def _lines(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_every_quoted_block_is_in_its_tested_file():
    guide = (ROOT / "docs" / "apps.md").read_text(encoding="utf-8")
    blocks = BLOCK.findall(guide)
    assert {lang for lang, _, _ in blocks} >= {"kotlin", "swift", "python"}
    for lang, path, body in blocks:
        source = _lines((ROOT / path).read_text(encoding="utf-8"))
        quoted = _lines(body)
        assert quoted, f"empty {lang} block quoting {path}"
        n = len(quoted)
        assert any(source[i:i + n] == quoted for i in range(len(source) - n + 1)), (
            f"the {lang} block quoting {path} is not in that file:\n" + "\n".join(quoted))
