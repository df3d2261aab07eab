"""Every filter and handler of the bot's routers runs on the event loop.

aiogram hands a filter or handler that is not a coroutine function (a plain function, a bare
`F.text`) to a worker thread on every update it is checked for: on /my that was two thread
hops per update before the command's own handler ran (bot/filters.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject

from handlers import get_routers


def _callables(router: Router) -> Iterator[tuple[str, CallableObject]]:
    for event, observer in router.observers.items():
        for check in observer._handler.filters or []:
            yield f"{router.name} {event} router filter {check.callback!r}", check
        for handler in observer.handlers:
            yield f"{router.name} {event} {handler.callback!r}", handler
            for check in handler.filters or []:
                yield f"{router.name} {event} {handler.callback!r} filter {check.callback!r}", check
    for sub in router.sub_routers:
        yield from _callables(sub)


def test_no_filter_or_handler_is_sent_to_a_worker_thread() -> None:
    found = [name for router in get_routers() for name, c in _callables(router)]
    assert len(found) > 100  # the walk reached the handlers and their filters
    in_threads = [
        name for router in get_routers() for name, c in _callables(router) if not c.awaitable
    ]
    assert in_threads == []
