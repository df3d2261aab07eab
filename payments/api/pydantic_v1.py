"""A stand-in for pydantic's v1 package, which FastAPI imports only to refuse v1 models.

FastAPI imports `pydantic.v1` when it builds a route (our routers build theirs at import) to
tell a v1 model from a v2 one, and refuse it with a clear error. No model here or in our
dependencies is one (tests/unit/test_pydantic_v1.py reads every installed package for a use of
it), and the real package cost 1.4 MiB of idle memory and 13 ms of start-up: enough to put the
service over the 50 MiB it may take beyond a bare aiogram bot (`make bench`). The stand-in
answers FastAPI's check; whatever else is asked of it imports the real package.
"""

from __future__ import annotations

import importlib
import sys
import types

NAME = "pydantic.v1"


class _StandIn(types.ModuleType):
    """`pydantic.v1` as FastAPI's check needs it; anything else asked of it loads the real one."""

    class BaseModel:
        """No class derives from this one: FastAPI's `isinstance` and `issubclass` say no."""

    def __getattr__(self, name: str) -> object:
        if sys.modules.get(NAME) is self:
            del sys.modules[NAME]
        return getattr(importlib.import_module(NAME), name)


def spare_pydantic_v1() -> None:
    """Put the stand-in in place, unless the real package is loaded already."""
    if NAME not in sys.modules:
        sys.modules[NAME] = _StandIn(NAME)
