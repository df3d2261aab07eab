"""The sandbox checkout page: the payer's Pay and Decline at ``/sandbox/checkout/<id>``.

It looks like a payment page a customer can trust (the shop, the order's lines, the total, one
primary Pay button and a secondary Decline) and stays marked as a test. Its language is the
customer's: ``?lang=`` when the payer switched, else what the shop's ``describe`` says (the
customer's language), else ``lang`` in the payment's metadata, else the browser's
Accept-Language, else Russian. After Pay or Decline the payer lands back here and reads the
result, with a link back to the shop (the payment's return URL).
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from payments import i18n
from payments.yookassa.sandbox import texts
from payments.yookassa.sandbox.methods import SWITCH_REASONS, SavedMethods
from payments.yookassa.sandbox.texts import text

if TYPE_CHECKING:
    from payments.yookassa.sandbox.api import SandboxYooKassa

JSON = dict[str, Any]

CHECKOUT_PATH = "/sandbox/checkout/{payment_id}"
# YooKassa's reasons that mean "the time ran out" rather than "refused".
_EXPIRED = frozenset({"expired_on_confirmation", "expired_on_capture"})
_DECLINED = frozenset({"general_decline", "insufficient_funds", "card_expired", "fraud_suspected"})


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the order: a ticket type × quantity, or a plan; amount None: not shown."""

    title: str
    quantity: int | None = None
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderView:
    """What the shop says a payment buys, already in the customer's language."""

    shop: str
    language: str
    lines: Sequence[Line]
    reference: str | None = None  # the shop's order number
    details: Sequence[str] = ()  # e.g. the visit's date and time


# The shop's side: given the sandbox payment and the language the payer asked for (None: the
# customer's own), what it buys; None when the shop does not know the payment.
Describe = Callable[[JSON, str | None], Awaitable[OrderView | None]]


def setup(app: FastAPI, sandbox: SandboxYooKassa, describe: Describe | None = None) -> None:
    """Add the checkout page and its Pay and Decline buttons (hidden from OpenAPI)."""

    async def checkout_page(request: Request) -> HTMLResponse:
        """``GET /sandbox/checkout/{id}``: the payer's page with Pay and Decline."""
        payment = sandbox.lookup(request.path_params["payment_id"])
        asked = _asked_language(request.query_params.get("lang"))
        if payment is None:
            return _not_found_page(texts.language(asked, accept_language=_accept(request)))
        view = await describe(payment, asked) if describe is not None else None
        metadata = payment.get("metadata") or {}
        lang = (
            view.language
            if view is not None
            else texts.language(asked, metadata.get("lang"), accept_language=_accept(request))
        )
        saved = _saved_card(payment, lang, asked, sandbox.methods)
        body = _checkout_body(
            payment,
            view,
            lang,
            sandbox.return_url(payment["id"]),
            asked,
            sandbox.saves_method(payment["id"]),
        )
        if sandbox.saves_method(payment["id"]) and payment["status"] != "pending":
            body += saved
        refresh = payment["status"] == "waiting_for_capture"
        return _html(body, lang, text(lang, "title", shop=_shop(view, lang)), refresh=refresh)

    async def checkout_pay(request: Request) -> Response:
        """``POST /sandbox/checkout/{id}/pay``."""
        return await press(request, sandbox.pay)

    async def checkout_decline(request: Request) -> Response:
        """``POST /sandbox/checkout/{id}/decline``."""
        return await press(request, sandbox.decline)

    async def press(request: Request, action: Callable[[str], Awaitable[JSON]]) -> Response:
        payment_id = request.path_params["payment_id"]
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        asked = _asked_language(next(iter(form.get("lang", [])), None))
        payment = sandbox.lookup(payment_id)
        if payment is None:
            return _not_found_page(texts.language(asked, accept_language=_accept(request)))
        # A second press (or a stale tab) changes nothing; either way the page shows the result.
        if payment["status"] == "pending":
            await action(payment_id)
        # Relative: the payer stays on the host they came through (and within form-action).
        target = CHECKOUT_PATH.format(payment_id=payment_id) + (f"?lang={asked}" if asked else "")
        return RedirectResponse(target, status_code=303)

    async def checkout_method(request: Request) -> Response:
        """``POST /sandbox/checkout/{id}/method``: make the saved card's next charges fail."""
        payment_id = request.path_params["payment_id"]
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        asked = _asked_language(next(iter(form.get("lang", [])), None))
        method = (sandbox.lookup(payment_id) or {}).get("payment_method") or {}
        if method.get("id") in sandbox.methods.saved and sandbox.saves_method(payment_id):
            switch = next(iter(form.get("do", [])), "")
            reason = next(iter(form.get("reason", [])), "")
            if switch == "fail" and reason in SWITCH_REASONS:
                sandbox.methods.fail(method["id"], reason, n=None)
            elif switch == "revoke":
                sandbox.methods.revoke(method["id"])
            elif switch == "clear":
                sandbox.methods.clear(method["id"])
        target = CHECKOUT_PATH.format(payment_id=payment_id) + (f"?lang={asked}" if asked else "")
        return RedirectResponse(target, status_code=303)

    pages: list[tuple[str, Callable[[Request], Awaitable[Response]], str]] = [
        (CHECKOUT_PATH, checkout_page, "GET"),
        (CHECKOUT_PATH + "/method", checkout_method, "POST"),
        (CHECKOUT_PATH + "/pay", checkout_pay, "POST"),
        (CHECKOUT_PATH + "/decline", checkout_decline, "POST"),
    ]
    for path, endpoint, method in pages:
        app.add_api_route(path, endpoint, methods=[method], include_in_schema=False)


def _asked_language(value: str | None) -> str | None:
    return value if value in i18n.languages() else None


def _accept(request: Request) -> str | None:
    return request.headers.get("accept-language")


def _shop(view: OrderView | None, lang: str) -> str:
    return view.shop if view is not None else text(lang, "sandbox_shop")


def _checkout_body(  # noqa: PLR0913 - the page's parts, each used once
    payment: JSON,
    view: OrderView | None,
    lang: str,
    return_url: str,
    asked: str | None,
    saves: bool = False,
) -> str:
    esc = html.escape
    pid = esc(payment["id"])
    amount = texts.money(Decimal(payment["amount"]["value"]), lang)
    shop = _shop(view, lang)
    head = [
        '<header class="shop">',
        f'<div class="logo" aria-hidden="true">{esc(shop[:1].upper())}</div><div>',
        f"<h1>{esc(shop)}</h1>",
    ]
    if view is not None and view.reference:
        head.append(f'<p class="ref">{esc(text(lang, "order", order=view.reference))}</p>')
    head.append("</div></header>")
    status: str = payment["status"]
    if status != "pending":
        return "".join(head) + _result(payment, lang, amount, return_url)
    lines = view.lines if view is not None else [Line(payment.get("description") or shop)]
    parts = [*head, '<ul class="lines">']
    for line in lines:
        quantity = f' <span class="q">× {line.quantity}</span>' if line.quantity else ""
        money = texts.money(line.amount, lang) if line.amount is not None else ""
        parts.append(
            f'<li><span class="what">{esc(line.title)}{quantity}</span>'
            f'<span class="sum">{esc(money)}</span></li>'
        )
    parts.append("</ul>")
    for detail in view.details if view is not None else ():
        parts.append(f'<p class="detail">{esc(detail)}</p>')
    keep = f'<input type="hidden" name="lang" value="{asked}">' if asked else ""
    if saves:  # save_payment_method: the payer reads what they agree to before paying
        parts.append(f'<p class="save-card" data-save="1">{esc(text(lang, "save_card"))}</p>')
    parts += [
        f'<div class="total"><span>{esc(text(lang, "total"))}</span>'
        f'<strong class="amount">{esc(amount)}</strong></div>',
        f'<form method="post" action="/sandbox/checkout/{pid}/pay">{keep}'
        f'<button type="submit" class="pay">{esc(text(lang, "pay", amount=amount))}</button>'
        "</form>",
        f'<form method="post" action="/sandbox/checkout/{pid}/decline">{keep}'
        f'<button type="submit" class="decline">{esc(text(lang, "decline"))}</button></form>',
        f'<p class="note">{esc(text(lang, "card_note"))}</p>',
        f'<p class="note">{esc(text(lang, "payment_ref", payment=payment["id"]))}</p>',
    ]
    other = "ru" if lang == "en" else "en"
    parts.append(
        f'<p class="switch"><a href="/sandbox/checkout/{pid}?lang={other}">'
        f"{esc(text(lang, 'switch'))}</a></p>"
    )
    return "".join(parts)


def _saved_card(payment: JSON, lang: str, asked: str | None, methods: SavedMethods) -> str:
    """A paid payment's saved card and the sandbox's switches for its later charges."""
    esc = html.escape
    method = payment.get("payment_method") or {}
    if not method.get("saved") or method.get("id") not in methods.saved:
        return ""
    pid = esc(payment["id"])
    keep = f'<input type="hidden" name="lang" value="{asked}">' if asked else ""
    if method["id"] in methods.revoked:
        state = text(lang, "card_revoked")
    else:
        failing = methods.failing(method["id"])
        state = text(lang, "card_failing", reason=failing) if failing else text(lang, "card_ok")
    options = "".join(f'<option value="{r}">{r}</option>' for r in SWITCH_REASONS)
    action = f"/sandbox/checkout/{pid}/method"
    return (
        f'<section class="saved-card"><p class="save-card" data-saved="1">'
        f"{esc(text(lang, 'card_saved', last4=(method.get('card') or {}).get('last4', '')))}</p>"
        f'<p class="note card-state">{esc(state)}</p>'
        f'<form method="post" action="{action}" class="switch-form">{keep}'
        '<input type="hidden" name="do" value="fail">'
        f'<select name="reason" aria-label="reason">{options}</select>'
        f'<button type="submit" class="decline fail-charges">{esc(text(lang, "card_fail"))}'
        "</button></form>"
        f'<form method="post" action="{action}">{keep}<input type="hidden" name="do" '
        f'value="revoke"><button type="submit" class="decline revoke">'
        f"{esc(text(lang, 'card_revoke'))}</button></form>"
        f'<form method="post" action="{action}">{keep}<input type="hidden" name="do" '
        f'value="clear"><button type="submit" class="decline clear">'
        f"{esc(text(lang, 'card_clear'))}</button></form></section>"
    )


def _result(payment: JSON, lang: str, amount: str, return_url: str) -> str:
    """The result of Pay or Decline: a headline the payer cannot misread, and the way back."""
    esc = html.escape
    status: str = payment["status"]
    if status == "succeeded":
        icon, mark, title, note = "ok", "✓", "succeeded", "succeeded_note"
    elif status == "waiting_for_capture":
        icon, mark, title, note = "wait", "…", "waiting", "waiting_note"
    else:
        reason = (payment.get("cancellation_details") or {}).get("reason", "")
        title = "expired" if reason in _EXPIRED else "declined" if reason in _DECLINED else ""
        icon, mark, title, note = "fail", "✕", title or "canceled", "canceled_note"
    parts = [
        f'<section class="result" data-status="{esc(status)}">',
        f'<div class="icon {icon}" aria-hidden="true">{mark}</div>',
        f'<h2 class="headline">{esc(text(lang, title))}</h2>',
        f'<p class="amount small">{esc(amount)}</p>',
        f'<p class="note">{esc(text(lang, note))}</p>',
    ]
    # Only http(s) links: a javascript: return URL must not become clickable here.
    if return_url.startswith(("https://", "http://")):
        parts.append(f'<a class="back" href="{esc(return_url)}">{esc(text(lang, "back"))}</a>')
    parts.append(f'<p class="note">{esc(text(lang, "payment_ref", payment=payment["id"]))}</p>')
    parts.append("</section>")
    return "".join(parts)


_STYLE = (
    "*{box-sizing:border-box}"
    "body{margin:0;background:#f2f3f5;color:#1d1d1f;"
    "font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif}"
    ".banner{background:#fff4d6;color:#5c4100;border-bottom:1px solid #efd28a;"
    "padding:.55rem 1rem;text-align:center;font-size:.9rem}"
    ".banner b{background:#b3261e;color:#fff;border-radius:.3rem;padding:.1rem .45rem;"
    "margin-right:.45rem;font-size:.75rem;letter-spacing:.05em}"
    "main{max-width:28rem;margin:1.25rem auto;padding:0 1rem}"
    ".card{background:#fff;border-radius:1rem;padding:1.25rem;"
    "box-shadow:0 1px 3px rgba(0,0,0,.08),0 8px 24px rgba(0,0,0,.06)}"
    ".shop{display:flex;align-items:center;gap:.75rem}"
    ".logo{flex:none;width:2.75rem;height:2.75rem;border-radius:.8rem;background:#1f7a4d;"
    "color:#fff;display:grid;place-items:center;font-weight:700;font-size:1.3rem}"
    "h1{font-size:1.2rem;margin:0}.ref{color:#6e6e73;font-size:.9rem;margin:0}"
    ".lines{list-style:none;margin:1rem 0 0;padding:0;border-top:1px solid #ececf0}"
    ".lines li{display:flex;justify-content:space-between;gap:1rem;padding:.65rem 0;"
    "border-bottom:1px solid #ececf0}"
    ".q{color:#6e6e73;white-space:nowrap}.sum{white-space:nowrap}"
    ".detail{color:#3a3a3c;margin:.75rem 0 0;font-size:.95rem}"
    ".total{display:flex;justify-content:space-between;align-items:baseline;gap:1rem;"
    "margin:1rem 0 1.25rem;font-size:1.05rem}"
    ".amount{font-size:1.8rem;font-weight:700;white-space:nowrap}"
    "form{margin:0}"
    "button,.back{display:block;width:100%;font:inherit;font-weight:600;text-align:center;"
    "border-radius:.8rem;padding:.9rem 1rem;cursor:pointer;text-decoration:none}"
    ".pay{background:#1f7a4d;color:#fff;border:0;font-size:1.1rem}"
    ".pay:hover{background:#19663f}"
    ".decline{background:#fff;color:#1d1d1f;border:1px solid #c7c7cc;margin-top:.6rem}"
    ".back{background:#1f7a4d;color:#fff;margin-top:1rem}"
    ".note{color:#6e6e73;font-size:.85rem;margin:.9rem 0 0;overflow-wrap:anywhere}"
    ".switch{text-align:center;margin:1rem 0 0;font-size:.9rem}"
    ".switch a{color:#1f5fa8}"
    ".result{text-align:center;margin-top:1.25rem}"
    ".icon{width:3.5rem;height:3.5rem;border-radius:50%;display:grid;place-items:center;"
    "margin:0 auto .75rem;font-size:1.8rem;color:#fff}"
    ".ok{background:#1f7a4d}.fail{background:#b3261e}.wait{background:#a46f00}"
    ".headline{font-size:1.45rem;margin:0}.amount.small{font-size:1.2rem;margin:.4rem 0 0}"
    ".save-card{background:#eaf5ee;color:#174d31;border-radius:.8rem;padding:.7rem .9rem;"
    "margin:0 0 1rem;font-size:.92rem}"
    ".saved-card{margin-top:1.25rem;border-top:1px solid #ececf0;padding-top:1rem}"
    "select{width:100%;font:inherit;padding:.6rem;border-radius:.6rem;margin-top:.6rem}"
)


def _html(
    body: str, lang: str, title: str, *, status_code: int = 200, refresh: bool = False
) -> HTMLResponse:
    esc = html.escape
    page = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        + ('<meta http-equiv="refresh" content="2">' if refresh else "")
        + f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>"
        f'<div class="banner" role="note"><b>SANDBOX</b> {esc(text(lang, "banner"))}</div>'
        f'<main><div class="card">{body}</div></main></body></html>'
    )
    headers = {
        "Cache-Control": "no-store",
        # Defence in depth on top of escaping: no scripts, no external resources.
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'"
        ),
    }
    return HTMLResponse(page, status_code=status_code, headers=headers)


def _not_found_page(lang: str) -> HTMLResponse:
    body = (
        f"<h1>{html.escape(text(lang, 'not_found'))}</h1>"
        f'<p class="note">{html.escape(text(lang, "not_found_note"))}</p>'
    )
    return _html(body, lang, text(lang, "not_found"), status_code=404)
