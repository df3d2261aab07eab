"""The staff scanner in a real browser: Telegram's QR scanner fed signed ticket QRs, the answer
full screen in under a second, forged and other-day tickets refused before any request, and the
gate working through an outage (admitted from the signature, sent when the API is back)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from babel.dates import format_date
from playwright.async_api import Locator, Page, Request, Route, expect
from sqlalchemy import select

from db.models import Order, Payment, Ticket, User
from main import Service
from tests.browser.conftest import ADMIN_ID, DESKTOP, PHONE, STAFF_ID, MiniApp, Shots

pytestmark = pytest.mark.browser

CUSTOMER = 700_201
GATE = "/api/v2/app/gate"
_serial = itertools.count(1)


def today_of(service: Service) -> date:
    """The shop's today (its time zone), as the gate API says it."""
    return datetime.now(UTC).astimezone(service.settings.tz).date()


async def issue(
    service: Service,
    visit: date,
    *,
    ticket_type: str = "adult",
    slot: str = "14:00",
    test: bool = False,
    status: str = "valid",
) -> tuple[str, str]:
    """Put a paid ticket in the database; return its printed code and its signed QR content."""
    n = next(_serial)
    code = f"ZT-TEST-GATE-{n:04d}"
    order_id, payment_id = f"ZT-{visit:%Y%m%d}-{n:03d}", f"ZT_gate{n:09d}"
    async with service.sessionmaker.begin() as session:
        if await session.get(User, str(CUSTOMER)) is None:
            session.add(User(id=str(CUSTOMER), first_name="Anna", language="en"))
            await session.flush()
        price = Decimal("10.00") if test else Decimal("1000.00")
        session.add(
            Order(
                id=order_id,
                user_id=str(CUSTOMER),
                visit_date=visit,
                slot_time=slot,
                seats=1,
                seats_held=True,
                total=price,
                status="paid",
            )
        )
        await session.flush()
        session.add(
            Payment(
                id=payment_id,
                idempotence_key=payment_id,
                kind="tickets",
                user_id=str(CUSTOMER),
                order_id=order_id,
                amount=price,
                refunded_amount=Decimal("0.00"),
                status="succeeded",
                is_test=test,
                description="tickets",
                expires_at=datetime.now(UTC),
            )
        )
        await session.flush()
        session.add(
            Ticket(
                code=code,
                order_id=order_id,
                payment_id=payment_id,
                user_id=str(CUSTOMER),
                ticket_type=ticket_type,
                visit_date=visit,
                slot_time=slot,
                status=status,
            )
        )
    qr = service.payments.signer.content(code, visit, slot, ticket_type, is_test=test)
    return code, qr


async def ticket_row(service: Service, code: str) -> Ticket:
    """Read a ticket afresh."""
    async with service.sessionmaker() as session:
        return (await session.execute(select(Ticket).where(Ticket.code == code))).scalar_one()


def forge(qr: str) -> str:
    """Change one character in the middle of the signature."""
    body, _, sig = qr.rpartition(".")
    i = len(sig) // 2
    return f"{body}.{sig[:i]}{'B' if sig[i] == 'A' else 'A'}{sig[i + 1 :]}"


class Gate:
    """The scanner screen of one staff member's page, and the gate requests it made."""

    def __init__(self, page: Page, shots: Shots) -> None:
        """Watch the page's requests to the gate API."""
        self.page = page
        self.shots = shots
        self.requests: list[str] = []
        page.on("request", self._seen)
        self.result = page.locator(".gate-result")
        self.headline = page.locator(".gate-result-headline")
        self.detail = page.locator(".gate-result-detail")
        self.status = page.locator(".gate-status")

    def _seen(self, request: Request) -> None:
        if GATE in request.url and request.method == "POST":
            self.requests.append(request.url.rsplit("/", 1)[-1])

    async def scan(self, text: str) -> Locator:
        """Let Telegram's scanner read `text` (opening it if it is not open already, as it is
        after a green answer); return the answer once the new one is shown."""
        shown = await self.result.get_attribute("data-seq") or ""
        if not await self.page.evaluate("Boolean(window.__tg.scanCallback)"):
            opener = self.page.locator(".gate-result-next")
            if not await opener.is_visible():
                opener = self.page.locator(".gate-scan")
            await opener.click()
        await self.page.evaluate("text => window.__tg.scan(text)", text)
        await expect(self.result).not_to_have_attribute("data-seq", shown)
        await expect(self.result).to_be_visible()
        return self.result

    async def scanner_reopens(self) -> None:
        """Wait until Telegram's scanner is open again by itself (after a green answer)."""
        # Polled with evaluate: wait_for_function evaluates strings, which the page's CSP forbids.
        deadline = asyncio.get_running_loop().time() + 5
        while not await self.page.evaluate("Boolean(window.__tg.scanCallback)"):
            assert asyncio.get_running_loop().time() < deadline, "the scanner did not reopen"
            await asyncio.sleep(0.05)

    async def type_code(self, code: str) -> Locator:
        """Type a printed code into the manual field, as for a damaged screen."""
        if await self.result.is_visible():
            await self.page.locator(".gate-result-done").click()
        await self.page.locator("#gate-manual-code").fill(code)
        await self.page.locator(".gate-check").click()
        await expect(self.result).to_be_visible()
        return self.result

    async def haptic(self) -> list[str]:
        """The last haptic the page asked Telegram for."""
        haptics: list[list[str]] = await self.page.evaluate("window.__tg.haptics")
        return haptics[-1]

    async def answered_within_a_second(self) -> None:
        elapsed = int(await self.result.get_attribute("data-ms") or "99999")
        assert elapsed < 1000, f"the answer took {elapsed} ms"

    async def snap(self, name: str) -> None:
        """Screenshot the state at phone width (390 px) and on a desktop."""
        await self.shots.take(self.page, f"{name}-phone", full_page=False)
        await self.page.set_viewport_size(DESKTOP)
        await self.shots.take(self.page, f"{name}-desktop", full_page=False)
        await self.page.set_viewport_size(PHONE)


async def open_scanner(miniapp: MiniApp, shots: Shots, device: str) -> Gate:
    """Open the Mini App as staff, go to "Scan tickets", name the device."""
    page = await miniapp.open(STAFF_ID, PHONE, language="en")
    await page.locator('button.tab[data-screen="scan"]').click()
    gate = Gate(page, shots)
    await expect(gate.status).to_have_text("Online")
    await page.locator("#gate-device").fill(device)
    return gate


async def staff_headers(http: httpx.AsyncClient, miniapp: MiniApp, user_id: int) -> dict[str, str]:
    """Sign in through the API as the Mini App does; return bearer headers."""
    verified = await http.post(
        "/api/v2/auth/verify", headers={"Authorization": f"tma {miniapp.init_data(user_id)}"}
    )
    assert verified.status_code == 200, verified.text
    return {"Authorization": f"Bearer {verified.json()['accessToken']}"}


def shop_time(service: Service, moment: datetime | None) -> str:
    assert moment is not None
    return moment.astimezone(service.settings.tz).strftime("%H:%M")


async def test_staff_scan_a_valid_a_used_a_forged_and_tomorrows_ticket(
    miniapp: MiniApp, shots: Shots
) -> None:
    service = miniapp.service
    today = today_of(service)
    valid_code, valid = await issue(service, today)
    _, child = await issue(service, today, ticket_type="child", slot="10:00")
    tomorrow = today + timedelta(days=1)
    _, later = await issue(service, tomorrow)
    _, test_qr = await issue(service, today, test=True)
    printed_code, _ = await issue(service, today)
    gate = await open_scanner(miniapp, shots, "Gate 2")
    await gate.snap("scanner")

    # A valid ticket: green at once, recorded once with who and which device.
    result = await gate.scan(valid)
    await expect(result).to_have_class("gate-result gate-result-ok")
    await expect(gate.headline).to_have_text("Admit 1 person")
    await expect(gate.detail).to_have_text("Adult, 14:00")
    await gate.answered_within_a_second()
    assert await gate.haptic() == ["notification", "success"]
    assert gate.requests == ["checkin"]
    # ... and the camera opens again by itself for the next visitor.
    await gate.scanner_reopens()
    row = await ticket_row(service, valid_code)
    assert (row.status, row.checked_in_by, row.checked_in_device) == ("used", STAFF_ID, "Gate 2")
    first_at = row.checked_in_at
    await gate.snap("valid")

    # The same again: red, with when and where it was first let in; nothing changes on the server.
    await gate.scan(valid)
    await expect(result).to_have_class("gate-result gate-result-bad")
    await expect(gate.headline).to_have_text("Already used")
    await expect(gate.detail).to_have_text(f"at {shop_time(service, first_at)} by Gate 2")
    assert await gate.haptic() == ["notification", "error"]
    assert (await ticket_row(service, valid_code)).checked_in_at == first_at
    await gate.snap("used")

    # Forged: one character of the signature, or the date, changed. Refused with no request.
    sent = len(gate.requests)
    for fake in (forge(child), child.replace(f".{today:%Y%m%d}.", f".{tomorrow:%Y%m%d}.")):
        await gate.scan(fake)
        await expect(result).to_have_class("gate-result gate-result-bad")
        await expect(gate.headline).to_have_text("Forged ticket")
        assert await gate.haptic() == ["notification", "error"]
    assert len(gate.requests) == sent, gate.requests
    await gate.snap("forged")

    # Tomorrow's ticket: red with its date (no request either: the QR says the day).
    await gate.scan(later)
    await expect(result).to_have_class("gate-result gate-result-bad")
    await expect(gate.headline).to_have_text(f"Ticket for {tomorrow:%B} {tomorrow.day}")
    assert len(gate.requests) == sent
    await gate.snap("tomorrow")

    await gate.scan(test_qr)
    await expect(gate.headline).to_have_text("Test ticket")
    await gate.snap("test-ticket")

    # The real child ticket still goes in: the forgeries did not spend it.
    await gate.scan(child)
    await expect(gate.headline).to_have_text("Admit 1 person")
    await expect(gate.detail).to_have_text("Child (3–13), 10:00")

    # A damaged screen: the printed code typed by hand, any case and spacing.
    await gate.type_code(printed_code.lower().replace("-", " "))
    await expect(gate.headline).to_have_text("Admit 1 person")
    assert (await ticket_row(service, printed_code)).checked_in_device == "Gate 2"
    await gate.snap("typed-code")
    assert gate.requests == ["checkin", "checkin", "checkin", "checkin"]
    assert miniapp.errors == []
    assert miniapp.outside == []


async def test_the_gate_admits_from_the_signature_offline_and_sends_the_queue_when_back(
    miniapp: MiniApp, shots: Shots
) -> None:
    service = miniapp.service
    today = today_of(service)
    code, qr = await issue(service, today)
    other_code, other = await issue(service, today, ticket_type="child")
    _, early = await issue(service, today)
    _, refunded = await issue(service, today, status="refunded")
    # The scanner opens between the two check-ins, which can take longer than the server's
    # keep-alive: a reused idle connection could be closed just as the second one is sent.
    fresh = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=service.base_url, limits=fresh) as http:
        headers = await staff_headers(http, miniapp, ADMIN_ID)

        async def at_gate_1(qr: str) -> None:
            answer = await http.post(
                f"{GATE}/checkin", json={"qr": qr, "device": "Gate 1"}, headers=headers
            )
            assert answer.json()["admitted"] is True

        # `early` goes in at another gate before this phone loads today's list…
        await at_gate_1(early)
        gate = await open_scanner(miniapp, shots, "Gate 3")
        # …`other` after it: this phone cannot know.
        await at_gate_1(other)
    page = gate.page
    early_at = (await ticket_row(service, early.split(".")[1])).checked_in_at

    async def unreachable(route: Route) -> None:
        await route.abort("internetdisconnected")

    await page.route("**/api/**", unreachable)
    result = await gate.scan(qr)
    await expect(result).to_have_class("gate-result gate-result-ok")
    await expect(gate.headline).to_have_text("Admit 1 person")
    await expect(page.locator(".gate-result-note")).to_have_text("Checked offline by its signature")
    await gate.answered_within_a_second()
    await expect(gate.status).to_have_text("Offline · 1 check-in queued")
    await gate.snap("offline-admitted")

    # The same ticket again while offline: this phone remembers letting it in.
    await gate.scan(qr)
    await expect(gate.headline).to_have_text("Already used")
    await expect(gate.detail).to_contain_text("by Gate 3")
    await gate.snap("offline-used")

    # Today's list, loaded while online, answers for other gates' and refunded tickets.
    await gate.scan(early)
    await expect(gate.headline).to_have_text("Already used")
    await expect(gate.detail).to_have_text(f"at {shop_time(service, early_at)} by Gate 1")
    await gate.scan(refunded)
    await expect(gate.headline).to_have_text("Refunded")
    await gate.snap("offline-refunded")

    # A forgery is still caught offline; `other` is let in a second time (nobody could know).
    await gate.scan(forge(qr))
    await expect(gate.headline).to_have_text("Forged ticket")
    await gate.scan(other)
    await expect(gate.headline).to_have_text("Admit 1 person")
    await expect(gate.status).to_have_text("Offline · 2 check-ins queued")
    assert (await ticket_row(service, code)).status == "valid"

    # The API is back: the queue goes out by itself, the ticket is used once, by us, when scanned.
    await page.unroute("**/api/**", unreachable)
    await expect(gate.status).to_have_text("Online", timeout=15_000)
    row = await ticket_row(service, code)
    assert (row.status, row.checked_in_by, row.checked_in_device) == ("used", STAFF_ID, "Gate 3")
    assert await page.evaluate("JSON.parse(localStorage.getItem('zt.gate.queue'))") == []
    # …and the ticket let in twice is told, with the first admission.
    first = await ticket_row(service, other_code)
    warnings = page.locator(".gate-warnings")
    await expect(warnings).to_be_visible()
    await expect(warnings.locator("li")).to_have_text(
        f"{other_code} (Child (3–13), 14:00) was let in twice while offline; "
        f"first at {shop_time(service, first.checked_in_at)} by Gate 1."
    )
    await page.locator(".gate-result-done").click()
    await gate.snap("back-online-twice")
    assert first.checked_in_device == "Gate 1"
    assert miniapp.errors == []


async def test_a_customer_has_no_scanner_and_the_gate_api_refuses_them(
    miniapp: MiniApp, shots: Shots
) -> None:
    page = await miniapp.open(CUSTOMER, PHONE, language="en", path="/app/?screen=scan")
    await expect(page.locator("nav.tabs .tab")).to_have_text(["Tickets", "Plans", "My tickets"])
    await shots.take(page, "customer-asks-for-the-scanner")
    assert await page.locator(".gate").count() == 0
    service = miniapp.service
    _, qr = await issue(service, today_of(service))
    async with httpx.AsyncClient(base_url=service.base_url) as http:
        headers = await staff_headers(http, miniapp, CUSTOMER)
        listed = await http.get(GATE, headers=headers)
        checkin = await http.post(f"{GATE}/checkin", json={"qr": qr}, headers=headers)
        sync = await http.post(
            f"{GATE}/sync",
            json={"checkins": [{"qr": qr, "scannedAt": "2026-01-01T10:00:00Z"}]},
            headers=headers,
        )
    assert [r.status_code for r in (listed, checkin, sync)] == [403, 403, 403]
    assert miniapp.errors == []


async def test_the_scanner_speaks_russian_and_renews_a_token_that_expired_on_shift(
    miniapp: MiniApp, shots: Shots
) -> None:
    service = miniapp.service
    today = today_of(service)
    tomorrow = today + timedelta(days=1)
    _, later = await issue(service, tomorrow)
    code, valid = await issue(service, today)
    _, offline_qr = await issue(service, today)
    page = await miniapp.open(STAFF_ID, PHONE, language="ru", path="/app/?screen=scan")
    gate = Gate(page, shots)
    await expect(gate.status).to_have_text("В сети")

    await gate.scan(later)
    date_ru = format_date(tomorrow, "d MMMM", locale="ru")
    await expect(gate.headline).to_have_text(f"Билет на {date_ru}")
    await gate.snap("tomorrow-ru")

    # The shift outlived the token: the first check-in is refused as unauthorised once; the
    # scanner signs in again with Telegram's init data and the ticket still goes in.
    refused: list[str] = []

    async def expired_once(route: Route) -> None:
        if refused:
            await route.continue_()
            return
        refused.append(route.request.url)
        await route.fulfill(status=401, json={"message": "Invalid or expired token"})

    await page.route(f"**{GATE}/checkin", expired_once)
    await gate.scan(valid)
    await expect(gate.headline).to_have_text("Впустить: 1 человек")
    await expect(gate.detail).to_have_text("Взрослый, 14:00")
    assert len(refused) == 1
    assert (await ticket_row(service, code)).checked_in_by == STAFF_ID
    await gate.snap("valid-ru")

    await page.route("**/api/**", lambda route: route.abort("internetdisconnected"))
    await gate.scan(offline_qr)
    await expect(gate.status).to_have_text("Нет связи · в очереди 1 проход")
    await expect(page.locator(".gate-result-note")).to_have_text("Проверен без связи, по подписи")
    await gate.snap("offline-ru")
    assert miniapp.errors == []


NO_ED25519 = """
const importKey = crypto.subtle.importKey.bind(crypto.subtle);
crypto.subtle.importKey = (format, key, algorithm, ...rest) =>
  (algorithm && algorithm.name === "Ed25519")
    ? Promise.reject(new DOMException("Algorithm: Unrecognized name", "NotSupportedError"))
    : importKey(format, key, algorithm, ...rest);
"""


async def test_a_webview_without_ed25519_leaves_the_signature_to_the_server(
    miniapp: MiniApp, shots: Shots
) -> None:
    service = miniapp.service
    code, qr = await issue(service, today_of(service))
    page = await miniapp.open(STAFF_ID, PHONE, language="en")
    await page.context.add_init_script(NO_ED25519)
    await page.goto(service.base_url + "/app/?screen=scan")
    gate = Gate(page, shots)
    await expect(gate.status).to_have_text("Online")
    await gate.scan(forge(qr))
    await expect(gate.headline).to_have_text("Forged ticket")
    assert gate.requests == ["checkin"]
    await gate.scan(qr)
    await expect(gate.headline).to_have_text("Admit 1 person")
    assert (await ticket_row(service, code)).status == "used"
    assert miniapp.errors == []
