"""Stored values in the admin's words: statuses, cancel reasons, cohorts, events, ids.

Each value has a text key (bot/texts/admin_screens.py); one without a key is shown as stored,
so a status added tomorrow is still shown, only not translated.
"""

from __future__ import annotations

from bot.texts import t

_EVENT_PREFIXES = ("repeat", "late", "superseded", "mismatch")


def _word(lang: str, key: str, value: str) -> str:
    try:
        return t(lang, key)
    except LookupError:  # a value with no words yet: shown as stored
        return value


def payment_status(lang: str, status: str, reason: str | None = None) -> str:
    """Say a payment's status, and why it was canceled: `отменён: бронь истекла`."""
    word = _word(lang, f"adm_status_{status}", status)
    if not reason:
        return word
    return t(lang, "adm_status_with_reason", status=word, reason=cancel_reason(lang, reason))


def cancel_reason(lang: str, reason: str) -> str:
    """Say why a payment was canceled; YooKassa's reasons (`provider:<reason>`) too."""
    kind, _, detail = reason.partition(":")
    if kind == "provider":
        said = _word(lang, f"adm_provider_reason_{detail or 'unknown'}", detail)
        return t(lang, "adm_reason_provider", reason=said)
    return _word(lang, f"adm_reason_{reason}", reason)


def subscription_status(lang: str, status: str | None) -> str:
    """Say a subscription's status."""
    return "—" if status is None else _word(lang, f"adm_sub_status_{status}", status)


def renewal_status(lang: str, status: str) -> str:
    """Say a renewal's status: `запланировано`, `повтор`, `оплачено`."""
    return _word(lang, f"adm_rn_status_{status}", status)


def renewal_state(lang: str, state: str) -> str:
    """Say a subscription's renewal state: `повторяем списание`, `закончилась после отказов`."""
    return _word(lang, f"adm_rn_state_{state}", state)


def refund_status(lang: str, status: str) -> str:
    """Say a refund's status."""
    return _word(lang, f"adm_refund_state_{status}", status)


def cohort(lang: str, value: str | None) -> str:
    """Say a cohort: `новые клиенты`."""
    return "—" if value is None else _word(lang, f"adm_cohort_{value}", value)


def cohort_and_code(lang: str, value: str) -> str:
    """Say a cohort with the code /setprice takes: `новые клиенты (new)`."""
    word = cohort(lang, value)
    return word if word == value else f"{word} ({value})"


def source(lang: str, value: str) -> str:
    """Say who recorded an event: `бот`, `уведомление ЮKassa`."""
    return _word(lang, f"adm_source_{value}", value)


def event(lang: str, value: str) -> str:
    """Say what happened: `оплачен`, `оплачен (повторно)`, `не совпадает с ЮKassa (...)`."""
    prefix, _, rest = value.partition(":")
    if rest and prefix in _EVENT_PREFIXES:
        inner = _word(lang, f"adm_event_{rest}", payment_status(lang, rest))
        return t(lang, f"adm_event_{prefix}", event=inner)
    return _word(lang, f"adm_event_{value}", value)


def status_change(lang: str, before: str | None, after: str | None) -> str:
    """Say a status change: `ожидает оплаты → оплачен`, `теперь: ожидает оплаты`, or ''."""
    if not after or after == before:
        return ""
    if before is None:
        return t(lang, "adm_event_now", after=payment_status(lang, after))
    return t(
        lang,
        "adm_event_change",
        before=payment_status(lang, before),
        after=payment_status(lang, after),
    )


def action(lang: str, value: str) -> str:
    """Say what an admin did: `возврат`, `подтверждение возврата`."""
    return _word(lang, f"adm_action_{value}", value)


def result(lang: str, value: str) -> str:
    """Say an admin action's result when it is a state (`ждёт подтверждения`); notes as stored."""
    return _word(lang, f"adm_result_{value.replace(' ', '_')}", value)


def ids(lang: str, payment_id: str, order_id: str | None, provider_id: str | None) -> str:
    """Put a payment's ids side by side: any of them finds it again."""
    if order_id:
        return t(
            lang,
            "adm_ids_order",
            order_id=order_id,
            payment_id=payment_id,
            provider_id=provider_id or "—",
        )
    return t(lang, "adm_ids_payment", payment_id=payment_id, provider_id=provider_id or "—")
