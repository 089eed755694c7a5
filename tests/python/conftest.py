"""Puts the freshly generated bindings (scripts/test.sh writes them to
build/python, next to the library they call) on the import path."""

import os
import sys
from pathlib import Path

BINDINGS = Path(os.environ.get("KIEMTRA_PY_BINDINGS", Path(__file__).resolve().parents[2] / "build" / "python"))
sys.path.insert(0, str(BINDINGS))
