"""The sandbox checkout page: the payer's Pay and Decline at ``/sandbox/checkout/<id>``."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

if TYPE_CHECKING:
    from payments.yookassa.sandbox.api import SandboxYooKassa

JSON = dict[str, Any]

CHECKOUT_PATH = "/sandbox/checkout/{payment_id}"
_STATUS_TEXT = {
    "pending": "waiting for the payer",
    "waiting_for_capture": "authorized; the shop has to capture or cancel it",
    "succeeded": "paid",
    "canceled": "canceled",
}


def setup(app: FastAPI, sandbox: SandboxYooKassa) -> None:
    """Add the checkout page and its Pay and Decline buttons (hidden from OpenAPI)."""

    async def checkout_page(request: Request) -> HTMLResponse:
        """``GET /sandbox/checkout/{id}``: the payer's page with Pay and Decline."""
        payment = sandbox.lookup(request.path_params["payment_id"])
        if payment is None:
            return _not_found_page()
        return _html(_checkout_body(payment, sandbox.return_url(payment["id"])))

    async def checkout_pay(request: Request) -> Response:
        """``POST /sandbox/checkout/{id}/pay``."""
        return await press(request.path_params["payment_id"], sandbox.pay)

    async def checkout_decline(request: Request) -> Response:
        """``POST /sandbox/checkout/{id}/decline``."""
        return await press(request.path_params["payment_id"], sandbox.decline)

    async def press(payment_id: str, action: Callable[[str], Awaitable[JSON]]) -> Response:
        payment = sandbox.lookup(payment_id)
        if payment is None:
            return _not_found_page()
        if payment["status"] != "pending":
            # A second press (or a stale tab) changes nothing: show the status.
            return RedirectResponse(sandbox.checkout_url(payment_id), status_code=303)
        await action(payment_id)
        target = sandbox.return_url(payment_id) or sandbox.checkout_url(payment_id)
        return RedirectResponse(target, status_code=303)

    pages: list[tuple[str, Callable[[Request], Awaitable[Response]], str]] = [
        (CHECKOUT_PATH, checkout_page, "GET"),
        (CHECKOUT_PATH + "/pay", checkout_pay, "POST"),
        (CHECKOUT_PATH + "/decline", checkout_decline, "POST"),
    ]
    for path, endpoint, method in pages:
        app.add_api_route(path, endpoint, methods=[method], include_in_schema=False)


def _checkout_body(payment: JSON, return_url: str) -> str:
    esc = html.escape
    pid = esc(payment["id"])
    parts = [
        "<h1>Test payment</h1>",
        f'<p class="desc">{esc(payment.get("description", "(no description)"))}</p>',
        f'<p class="amount">{esc(payment["amount"]["value"])} '
        f"{esc(payment['amount']['currency'])}</p>",
        f'<p class="meta">Payment {pid} in the sandbox shop. Nothing is charged.</p>',
    ]
    status: str = payment["status"]
    if status == "pending":
        parts += [
            f'<form method="post" action="/sandbox/checkout/{pid}/pay">'
            '<button type="submit" class="pay">Pay</button></form>',
            f'<form method="post" action="/sandbox/checkout/{pid}/decline">'
            '<button type="submit" class="decline">Decline</button></form>',
        ]
        return "".join(parts)
    text = _STATUS_TEXT.get(status, status)
    if status == "canceled":
        text += f" ({payment.get('cancellation_details', {}).get('reason', 'unknown')})"
    parts.append(f'<p class="status">Status: <b>{esc(status)}</b> — {esc(text)}</p>')
    # Only http(s) links: a javascript: return URL must not become clickable here.
    if return_url.startswith(("https://", "http://")):
        parts.append(f'<p><a href="{esc(return_url)}">Back to the shop</a></p>')
    return "".join(parts)


def _html(body: str, status_code: int = 200) -> HTMLResponse:
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex"><title>SANDBOX checkout</title><style>'
        "body{font-family:sans-serif;max-width:34rem;margin:1.5rem auto;padding:0 1rem}"
        ".banner{background:#b00020;color:#fff;font-size:1.6rem;font-weight:bold;"
        "text-align:center;padding:1rem;border-radius:.5rem}"
        ".amount{font-size:2rem;font-weight:bold}.meta{color:#555;font-size:.9rem}"
        "form{display:inline-block}button{font-size:1.2rem;padding:.6rem 2rem;margin:.3rem}"
        '</style></head><body><div class="banner">SANDBOX — no real money</div>'
        f"{body}</body></html>"
    )
    headers = {
        "Cache-Control": "no-store",
        # Defence in depth on top of escaping: no scripts, no external resources.
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    }
    return HTMLResponse(page, status_code=status_code, headers=headers)


def _not_found_page() -> HTMLResponse:
    return _html(
        "<h1>Payment not found</h1><p>No such sandbox payment. The sandbox keeps payments in "
        "memory, so a restart of the service forgets them.</p>",
        status_code=404,
    )
