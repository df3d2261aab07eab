"""Turn a legacy table of `key: (ru, en)` str.format templates into Fluent (.ftl) entries.

`scripts/texts_to_ftl.py` runs it on a module of bot/texts (e.g. after merging a branch that
added tuple texts); `t()` gives the same strings before and after. Plurals are not guessed:
give a message that shows a count a `{ $count -> [one] … *[other] … }` selector by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\w+)\}|[{}]")
# A continuation line starting with one of these would read as a variant, an attribute or
# indentation; such a first character goes in as a string literal.
SPECIAL_START = ("[", "*", ".", " ", "}")


def _literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'{{"{escaped}"}}'


def _line(text: str) -> str:
    """Return one line of a str.format template as Fluent pattern text."""
    out: list[str] = []
    position = 0
    for match in PLACEHOLDER.finditer(text):
        out.append(text[position : match.start()])
        token = match.group(0)
        if match.group(1):
            out.append(f"{{ ${match.group(1)} }}")
        elif token in ("{{", "{"):
            out.append(_literal("{"))
        else:
            out.append(_literal("}"))
        position = match.end()
    out.append(text[position:])
    line = "".join(out)
    if line.startswith(SPECIAL_START):
        line = _literal(line[0]) + line[1:]
    if line.endswith(" "):
        stripped = line.rstrip(" ")
        line = stripped + _literal(line[len(stripped) :])
    return line


def entry(key: str, template: str) -> str:
    """Return a Fluent message for one str.format template."""
    if not template:
        return f'{key} = {{""}}\n'
    lines = [_line(part) for part in template.split("\n")]
    if len(lines) == 1:
        return f"{key} = {lines[0]}\n"
    body = "\n".join(f"    {line}" if line else "" for line in lines)
    return f"{key} =\n{body}\n"


def to_ftl(
    texts: Mapping[str, Sequence[str]], languages: Sequence[str] = ("ru", "en")
) -> dict[str, str]:
    """Return the .ftl text of each language for a table of `key: (ru, en)` templates."""
    return {
        lang: "".join(entry(key, templates[index]) for key, templates in texts.items())
        for index, lang in enumerate(languages)
    }
