"""The Mini App's page asks for every module of its shell and first screen at once.

A module's imports are found only when it arrives, so without `<link rel="modulepreload">` the
shop's screen waits for one round trip per level of imports (main.js, fluent's index, its
bundle, the resolver, ...): on a phone's network that is most of the wait before the calendar.
The list in index.html is written by hand; this test keeps it equal to what the modules import.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from payments.miniapp import STATIC

# `import {a} from "./x.js"`, `import "./x.js"`, `export {a} from "./x.js"` (over several lines
# too); not `import("./x.js")`, which loads a screen only when it is opened.
STATIC_IMPORT = re.compile(r'^\s*(?:import|export)\b[^;()]*?["\'](\.{1,2}/[^"\']+)["\']', re.M)
SCREEN = re.compile(r'(\w+): \{ load: \(\) => import\("\./([\w-]+\.js)"\)')
HOME = re.compile(r'^const HOME = "(\w+)";', re.M)
PRELOAD = re.compile(r'<link rel="modulepreload" href="([^"]+)">')


def imports_of(module: str) -> set[str]:
    """The modules one module imports statically, as paths under static/."""
    source = (STATIC / module).read_text(encoding="utf-8")
    folder = PurePosixPath(module).parent
    found = set()
    for target in STATIC_IMPORT.findall(source):
        path = Path(STATIC / folder / target).resolve().relative_to(STATIC.resolve())
        found.add(path.as_posix())
    return found


def closure(*roots: str) -> set[str]:
    """Every module the roots need before they run, the roots included."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(imports_of(module))
    return seen


def test_the_page_preloads_exactly_the_modules_of_the_shell_and_its_first_screen() -> None:
    main = (STATIC / "js" / "main.js").read_text(encoding="utf-8")
    home = HOME.search(main)
    assert home, "main.js names no HOME screen"
    screens = dict(SCREEN.findall(main))
    assert home.group(1) in screens, f"the home screen {home.group(1)} has no module"
    wanted = closure("js/main.js", f"js/{screens[home.group(1)]}") - {"js/main.js"}

    page = (STATIC / "index.html").read_text(encoding="utf-8")
    preloaded = PRELOAD.findall(page)
    assert len(preloaded) == len(set(preloaded)), "a module is preloaded twice"
    assert set(preloaded) == wanted, (
        f"missing: {sorted(wanted - set(preloaded))}, extra: {sorted(set(preloaded) - wanted)}"
    )
    # The graph is deep enough to matter: main.js alone reaches fluent's modules.
    assert {"js/i18n.js", "vendor/fluent-bundle/resolver.js", "js/calendar.js"} <= wanted
    for href in preloaded:
        assert (STATIC / href).is_file(), href
