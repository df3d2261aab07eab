"""The service keeps pydantic's v1 package unloaded; nothing installed needs more than its stand-in.

FastAPI imports `pydantic.v1` only to refuse v1 models. Importing payments.api gives it a
stand-in (payments/api/pydantic_v1.py), whose `BaseModel` would be wrong for a package that
really builds v1 models: these tests read every installed package and our tree for one.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

from tests.python_probe import ROOT, run_probe

USES_V1 = re.compile(r"pydantic\.v1|from pydantic import[^\n]*\bv1\b")
# FastAPI's check and pydantic itself; our project's files are read from the tree below.
ALLOWED = {"fastapi", "pydantic", "zooticket-bot"}
OURS_ALLOWED = {
    "payments/api/pydantic_v1.py",
    "tests/unit/test_pydantic_v1.py",
    "tests/unit/test_lazy_imports.py",  # checks that the real package stays unloaded
}

_PROBE = """
import sys
from payments.api.pydantic_v1 import spare_pydantic_v1

spare_pydantic_v1()
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

class Seat(BaseModel):
    row: int

app = FastAPI()

@app.post("/seat", response_model=Seat)
def seat(body: Seat) -> Seat:
    return body

client = TestClient(app)
answer = client.post("/seat", json={"row": "x"})
assert answer.status_code == 422, answer.text
assert client.post("/seat", json={"row": 3}).json() == {"row": 3}
assert "pydantic.v1.main" not in sys.modules, "FastAPI loaded the real pydantic.v1"
print("spared")

# Anything but FastAPI's check gets the real package.
from pydantic.v1 import validator
import pydantic.v1
assert "pydantic.v1.main" in sys.modules
assert pydantic.v1.BaseModel.__module__ == "pydantic.v1.main", pydantic.v1.BaseModel
print("real", validator.__module__)
"""


def test_fastapi_validates_without_pydantic_v1_and_other_names_load_the_real_one() -> None:
    done = run_probe(_PROBE, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["spared", "real", "pydantic.v1.class_validators"]


def test_no_installed_package_builds_pydantic_v1_models() -> None:
    users: set[str] = set()
    for dist in importlib.metadata.distributions():
        for file in dist.files or ():
            path = Path(str(file.locate()))
            text = path.read_text("utf-8", errors="replace") if path.suffix == ".py" else ""
            if USES_V1.search(text):
                users.add(dist.metadata["Name"])
    assert users - ALLOWED == set()
    ours = {
        str(path.relative_to(ROOT))
        for folder in ("bot", "db", "handlers", "payments", "scripts", "tests")
        for path in (ROOT / folder).rglob("*.py")
        if USES_V1.search(path.read_text("utf-8"))
    }
    ours |= {
        p
        for p in ("main.py", "service.py", "settings.py")
        if USES_V1.search((ROOT / p).read_text("utf-8"))
    }
    assert ours <= OURS_ALLOWED, ours - OURS_ALLOWED
