"""Bot API calls without files, sent as one JSON body instead of aiogram's multipart form.

aiogram builds every call as multipart/form-data: each field goes through `prepare_value`, a
recursive Python walk that JSON-encodes every nested value on its own. For a month calendar
(some forty buttons) that walk cost more than the call's HTTP exchange, and in a sale rush
building forms took about an eighth of the service's event loop. The Bot API takes
application/json for every call that uploads no file (core.telegram.org/bots/api, "Making
requests"), so a call without files is dumped by pydantic and encoded by one `json.dumps`
with the same fields and values as aiogram's form. A call with anything JSON cannot carry
as aiogram would (a file to upload, a date, a nested default that resolves to nothing)
returns None and goes as aiogram's form.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiogram.client.default import Default
from aiogram.types import TelegramObject
from aiohttp import FormData
from aiohttp.payload import BytesPayload, Payload

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod


class _NotJson(Exception):  # noqa: N818 - a signal inside `json_body`, never raised out of it
    """A value aiogram's form encodes in its own way (a file, a date): send the form."""


class JsonBody(FormData):
    """A call's JSON body where aiohttp expects a form: aiohttp posts what calling it returns."""

    def __init__(self, body: bytes) -> None:
        """Carry the encoded body.

        FormData's own __init__ is not called: it builds a multipart writer, whose boundary is
        a fresh uuid4 (a read of the system's random source), for a form this never becomes.
        """
        self._body = body

    def __call__(self) -> Payload:
        """Return the body as application/json."""
        return BytesPayload(self._body, content_type="application/json")


def json_body(bot: Bot, method: TelegramMethod[Any]) -> JsonBody | None:
    """Encode `method` as the JSON aiogram's form would carry, or None if it must be a form.

    As in aiogram's form, fields that are None (or resolve to None from the bot's defaults)
    and empty strings are left out.
    """

    def nested(value: object) -> object:
        if isinstance(value, Default):
            resolved = bot.default[value.name]
            if resolved is None:  # aiogram drops it; here it would be a null
                raise _NotJson
            return _plain(resolved)
        raise _NotJson  # a file, a date, a timedelta: aiogram's form has its own encoding

    fields: dict[str, object] = {}
    for key, value in method.model_dump(warnings=False, exclude_none=True).items():
        item = bot.default[value.name] if isinstance(value, Default) else value
        if item is None or item == "":
            continue
        fields[key] = _plain(item)
    try:
        encoded = json.dumps(fields, ensure_ascii=False, default=nested)
    except _NotJson:
        return None
    return JsonBody(encoded.encode())


def _plain(value: object) -> object:
    """A default's value as JSON takes it (a default may be a Telegram object)."""
    if isinstance(value, TelegramObject):
        return value.model_dump(warnings=False, exclude_none=True)
    return value


__all__ = ["JsonBody", "json_body"]
