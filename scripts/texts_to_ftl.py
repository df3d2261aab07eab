"""Move a legacy bot/texts module of `key: (ru, en)` tuples into the Fluent locale files.

    .venv/bin/python scripts/texts_to_ftl.py bot.texts.orders

appends its messages to payments/i18n/locales/ru/orders.ftl and en/orders.ftl (the file name
is the module's last part; --name overrides it) and checks that every key formats to the same
text as before. Then delete the module, drop it from `_TEXTS` in bot/texts/__init__.py, and
give the messages that show a count a plural selector by hand.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from payments import i18n  # noqa: E402
from payments.i18n.convert import to_ftl  # noqa: E402


def main() -> int:
    """Convert one module; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", help="e.g. bot.texts.orders")
    parser.add_argument("--name", help="the .ftl file name without extension")
    args = parser.parse_args()
    texts: dict[str, tuple[str, str]] = importlib.import_module(args.module).TEXTS
    name = args.name or args.module.rsplit(".", 1)[-1]
    clash = sorted(key for key in texts if i18n.has(key))
    if clash:
        print(f"already in the locale files: {', '.join(clash)}")
        return 1
    for lang, text in to_ftl(texts, (i18n.RU, i18n.EN)).items():
        path = i18n.LOCALES / lang / f"{name}.ftl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(text)
        print(f"{path}: {len(texts)} messages")
    i18n.languages.cache_clear()
    i18n._BUILT.clear()  # noqa: SLF001 - reread the files just written
    for key, pair in texts.items():
        for lang, template in zip((i18n.RU, i18n.EN), pair, strict=True):
            sample = {field: f"<{field}>" for field in re.findall(r"\{(\w+)\}", template)}
            if i18n.t(lang, key, **sample) != template.format(**sample):
                print(f"{key} ({lang}) reads differently after the move: check it")
                return 1
    print(f"now delete {args.module} and remove it from _TEXTS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
