"""Must-show 1: a customer buys 2 adult + 1 child tickets in the Mini App for a day picked in
the calendar, pays in the sandbox, and finds three QR codes in "My tickets" that decode (zxing)
to signed tickets the gate admits on their day; at desktop width in English and at 390 px in
Russian."""

from __future__ import annotations

import base64
import re
from datetime import date, datetime, time, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from playwright.async_api import Page, ViewportSize, expect

from db.models import SlotInventory, User
from main import Service
from payments.tickets.rules import TicketRules
from tests.browser.conftest import DESKTOP, PHONE, STAFF_ID, MiniApp, RunningClock, Shots
from tests.qr import read_qr

pytestmark = pytest.mark.browser

CUSTOMER = 700_201
EMAIL = "anna@example.com"
SPACES = re.compile(r"\s+")  # thin and no-break spaces included
# The signed content: ZT1.<code>.<yyyymmdd>.<HHMM>.<type>.<flag>.<sig> (contract.md).
QR_CONTENT = re.compile(
    r"^ZT1\.(ZT-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\.(\d{8})\.(\d{4})\.(\w+)\.p\.([\w-]+)$"
)

TEXTS = {
    "en": {
        "total": "2,500 ₽",
        "pay": "Pay 2,500 ₽",
        "paid": "Payment successful",
        "show": "Show my tickets",
        "sold_out": "sold out",
        "closed": "closed",
        "adult": "Adult",
    },
    "ru": {
        "total": "2 500 ₽",
        "pay": "Оплатить 2 500 ₽",
        "paid": "Оплата прошла",
        "show": "Показать мои билеты",
        "sold_out": "нет мест",
        "closed": "закрыто",
        "adult": "Взрослый",
    },
}


def plain(text: str) -> str:
    """Collapse every kind of space to one ASCII space, as a reader sees it."""
    return SPACES.sub(" ", text).strip()


async def prepare(service: Service, language: str) -> tuple[date, date, date]:
    """A known customer with an e-mail; a sold-out day and a day closed by an admin."""
    rules = TicketRules(service.catalog, service.settings.tz)
    today = rules.today(service.clock.now())
    visit, sold_out, closed = (today + timedelta(days=n) for n in (2, 3, 4))
    async with service.sessionmaker.begin() as session:
        session.add(User(id=str(CUSTOMER), first_name="Anna", language=language, email=EMAIL))
        for slot in service.catalog.tickets.slots:
            session.add(SlotInventory(visit_date=sold_out, slot_time=slot, capacity=5, held=5))
            session.add(
                SlotInventory(
                    visit_date=closed, slot_time=slot, capacity=0, held=0, capacity_overridden=True
                )
            )
    return visit, sold_out, closed


def code_in(content: str) -> str:
    """The ticket code a signed QR carries."""
    match = QR_CONTENT.match(content)
    assert match, f"not a signed ticket QR: {content!r}"
    return match.group(1)


def verify(content: str, public_key: str) -> None:
    """Check the QR's Ed25519 signature with the gate's public key, as the scanner does."""
    signed, _, signature = content.rpartition(".")
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(public_key + "=="))
    key.verify(base64.urlsafe_b64decode(signature + "=="), signed.encode())


async def show_month_of(page: Page, day: date) -> None:
    """Page the calendar forward until the day is in it."""
    cell = page.locator(f'.day[data-date="{day.isoformat()}"]')
    for _ in range(3):
        if await cell.count():
            return
        await page.locator(".month .next").click()
    await expect(cell).to_have_count(1)


async def staff_headers(client: httpx.AsyncClient, miniapp: MiniApp) -> dict[str, str]:
    signed = await client.post(
        "/api/v2/auth/verify", headers={"Authorization": f"tma {miniapp.init_data(STAFF_ID)}"}
    )
    assert signed.status_code == 200, signed.text
    return {"Authorization": f"Bearer {signed.json()['accessToken']}"}


@pytest.mark.parametrize(
    ("width", "viewport", "language"),
    [("desktop", DESKTOP, "en"), ("phone", PHONE, "ru")],
    ids=["desktop-en", "phone-ru"],
)
async def test_a_customer_buys_three_tickets_and_the_gate_admits_their_qr_codes(
    miniapp: MiniApp,
    shots: Shots,
    running_clock: RunningClock,
    width: str,
    viewport: ViewportSize,
    language: str,
) -> None:
    words = TEXTS[language]
    service = miniapp.service
    visit, sold_out, closed = await prepare(service, language)
    page = await miniapp.open(CUSTOMER, viewport, language=language)
    await expect(page.locator("html")).to_have_attribute("lang", language)

    # The calendar: closed and sold-out days are marked and cannot be picked.
    await expect(page.locator(".day.open").first).to_be_visible()
    await show_month_of(page, sold_out)
    sold_out_cell = page.locator(f'.day[data-date="{sold_out.isoformat()}"]')
    await expect(sold_out_cell).to_have_class(re.compile(r"\bsold-out\b"))
    await expect(sold_out_cell).to_be_disabled()
    await expect(sold_out_cell.locator(".mark")).to_have_text(words["sold_out"])
    await show_month_of(page, closed)
    closed_cell = page.locator(f'.day[data-date="{closed.isoformat()}"]')
    await expect(closed_cell).to_have_class(re.compile(r"\bclosed\b"))
    await expect(closed_cell.locator(".mark")).to_have_text(words["closed"])
    if visit.month != closed.month:
        await page.locator(".month .prev").click()
    await shots.take(page, f"1-calendar-{width}")

    # A day, then its slots with free seats, then 12:00.
    await page.locator(f'.day[data-date="{visit.isoformat()}"]').click()
    slot = page.locator('.slot[data-time="12:00"]')
    await expect(slot.locator(".free")).to_contain_text("100")
    await shots.take(page, f"2-slots-{width}")
    await slot.click()

    # Ticket types with plus and minus, a running total, the e-mail we know.
    adult = page.locator('.line[data-type="adult"]')
    child = page.locator('.line[data-type="child"]')
    await expect(adult.locator(".title")).to_have_text(words["adult"])
    for _ in range(3):
        await adult.locator(".plus").click()
    await adult.locator(".minus").click()
    await child.locator(".plus").click()
    await expect(adult.locator("output")).to_have_text("2")
    await expect(child.locator("output")).to_have_text("1")
    assert plain(await page.locator(".total .money").inner_text()) == words["total"]
    await expect(page.locator('input[type="email"]')).to_have_value(EMAIL)
    main_button = page.locator("#tg-main-button")
    await expect(main_button).to_be_visible()
    assert plain(await main_button.inner_text()) == words["pay"]
    sideways = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert sideways <= 0, f"the page scrolls sideways by {sideways}px"
    await shots.take(page, f"3-tickets-{width}")

    # Pay: the app opens the sandbox's page through Telegram; the customer pays there.
    await main_button.click()
    await page.wait_for_function("() => window.__tg.opened.length === 1")
    opened = await page.evaluate("window.__tg.opened[0].url")
    assert opened.startswith(f"{service.base_url}/sandbox/checkout/"), opened
    await expect(page.locator(".waiting")).to_be_visible()
    await shots.take(page, f"4-waiting-{width}")
    checkout = await page.context.new_page()
    await checkout.goto(opened)
    await checkout.locator("button.pay").click()
    await shots.take(checkout, f"5-sandbox-paid-{width}")

    # Back in the app: the result, found by polling the payment's status.
    await expect(page.locator(".result.paid h1")).to_have_text(words["paid"], timeout=15_000)
    await expect(main_button).to_have_text(words["show"])
    await shots.take(page, f"6-paid-{width}")
    assert ["notification", "success"] in await page.evaluate("window.__tg.haptics")

    # My tickets: three QR codes, each big enough to scan from a phone.
    await main_button.click()
    qrs = page.locator(".ticket.upcoming img.qr")
    await expect(qrs).to_have_count(3)
    await page.wait_for_function(
        "() => [...document.querySelectorAll('.ticket.upcoming img.qr')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    await shots.take(page, f"7-my-tickets-{width}")
    contents = []
    for index in range(3):
        image = qrs.nth(index)
        await image.scroll_into_view_if_needed()
        box = await image.bounding_box()
        assert box is not None
        assert box["width"] >= 260, f"the QR is {box['width']}px wide"
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= viewport["width"]
        png = await image.screenshot(path=shots.folder / f"8-qr-{index + 1}-{width}.png")
        found = read_qr(png)
        assert len(found) == 1, f"QR {index + 1} does not decode"
        contents.append(found[0])
    ticket_codes = {code_in(text) for text in contents}
    assert len(ticket_codes) == 3, contents
    shown = await page.locator(".ticket.upcoming .code").all_inner_texts()
    assert set(shown) == ticket_codes
    assert await page.locator(".ticket.upcoming .when").first.inner_text()

    # What the phone shows is the server's signed ticket: the signature checks out with the
    # gate's key, and on the visit day the gate admits each once.
    async with httpx.AsyncClient(base_url=service.base_url) as client:
        headers = await staff_headers(client, miniapp)
        gate = await client.get("/api/v2/app/gate", headers=headers)
        assert gate.status_code == 200, gate.text
        running_clock.shift_to(datetime.combine(visit, time(11, 50), tzinfo=service.settings.tz))
        for text in contents:
            verify(text, gate.json()["publicKey"])
            answer = await client.post(
                "/api/v2/app/gate/checkin",
                json={"qr": text, "device": "Gate 1"},
                headers=headers,
            )
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["admitted"] is True, body
            assert body["ticket"]["code"] in ticket_codes
            assert body["ticket"]["visitDate"] == visit.isoformat()
            assert body["ticket"]["visitTime"] == "12:00"
        again = await client.post(
            "/api/v2/app/gate/checkin",
            json={"qr": contents[0], "device": "Gate 2"},
            headers=headers,
        )
        assert again.json()["admitted"] is False
        assert again.json()["reason"] == "used"

    # A customer never sees the staff entry, and nothing went to another host.
    assert await page.locator('.tab[data-screen="scan"]').count() == 0
    assert miniapp.outside == []
    assert miniapp.errors == []
