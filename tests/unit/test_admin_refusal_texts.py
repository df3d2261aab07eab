"""A text for every refusal of the admin use-cases (payments/admin/)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.texts import _TEXTS, EN, RU, t


def test_every_refusal_has_a_text_in_both_languages() -> None:
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in sorted(Path("payments/admin").glob("*.py"))
    )
    reasons = set(re.findall(r'Refusal\(\s*"(\w+)"', source))
    assert len(reasons) >= 15
    for reason in reasons:
        assert f"adm_no_{reason}" in _TEXTS, reason
        for lang in (RU, EN):
            assert t(lang, f"adm_no_{reason}", **dict.fromkeys(_fields(reason), "x"))


def _fields(reason: str) -> set[str]:
    ru, en = _TEXTS[f"adm_no_{reason}"]
    return set(re.findall(r"\{(\w+)\}", ru + en))
