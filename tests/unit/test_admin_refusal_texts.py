"""A text for every refusal of the admin use-cases (payments/admin/)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.texts import EN, RU, t
from payments import i18n


def test_every_refusal_has_a_text_in_both_languages() -> None:
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in sorted(Path("payments/admin").glob("*.py"))
    )
    reasons = set(re.findall(r'Refusal\(\s*"(\w+)"', source))
    assert len(reasons) >= 15
    for reason in reasons:
        key = f"adm_no_{reason}"
        assert i18n.has(key), reason
        for lang in (RU, EN):
            assert t(lang, key, **dict.fromkeys(i18n.placeholders(lang, key), "x"))
