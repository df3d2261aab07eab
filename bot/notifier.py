"""TelegramNotifier: the Notifier port of payments/, spoken in the customer's language."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BufferedInputFile, InputMediaPhoto
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.keyboards import final_keyboard
from bot.keyboards_renewal import autorenew_notice, renewal_pay
from bot.texts import day, money, t, with_address
from db.repositories.users import mark_blocked
from payments.catalog import Catalog
from payments.ports import (
    IssuedTicket,
    PaymentCanceled,
    Recipient,
    RefundMade,
    RenewalFailed,
    SubscriptionActivated,
    SubscriptionEnded,
    SubscriptionReminder,
    TicketsIssued,
)
from payments.receipts import ticket_title
from payments.tickets.qr import qr_png
from payments.types import CancelReason, PaymentKind

log = logging.getLogger(__name__)

MEDIA_GROUP_LIMIT = 10
# Telegram's answer to an edit that changes nothing: a retried delivery made it already.
NOT_MODIFIED = "message is not modified"


def chat_id_of(user_id: str) -> int | None:
    """Return the Telegram chat of a user, or None for API-only users such as `test_user_1`."""
    return int(user_id) if user_id.isascii() and user_id.isdigit() else None


class TelegramNotifier:
    """Send payment news to customers; Telegram failures are logged, never raised.

    A subclass with `raises` set lets them through instead (the outbox's deliveries).
    """

    raises = False

    def __init__(
        self,
        *,
        bot: Bot,
        catalog: Catalog,
        tz: ZoneInfo,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        """Keep the bot, the catalog for titles, the shop time zone and the database."""
        self._bot = bot
        self._catalog = catalog
        self._tz = tz
        self._sessionmaker = sessionmaker

    async def _send(self, recipient: Recipient, text: str, **kwargs: Any) -> bool:
        chat_id = chat_id_of(recipient.user_id)
        if chat_id is None:
            return False
        try:
            await self._bot.send_message(chat_id, text, **kwargs)
        except TelegramAPIError as exc:
            if self.raises:
                raise
            if isinstance(exc, TelegramForbiddenError):
                log.info("user %s blocked the bot; marked", recipient.user_id)
                async with self._sessionmaker.begin() as session:
                    await mark_blocked(session, recipient.user_id)
            else:
                log.warning("could not message user %s: %s", recipient.user_id, exc)
            return False
        return True

    async def _close_pay_message(self, recipient: Recipient, text: str) -> None:
        """Replace the pay button message, so an old button cannot be pressed again."""
        await self._show_in_pay_message(recipient, text)

    async def _show_in_pay_message(self, recipient: Recipient, text: str, **kwargs: Any) -> bool:
        """Turn the pay message into `text` (its pay button gone); return whether it shows it.

        A retried delivery finds it shown already ("message is not modified"). A chat without
        a pay message (a Mini App purchase) or one whose pay message is gone cannot show it.
        """
        chat_id = chat_id_of(recipient.user_id)
        if chat_id is None or recipient.pay_message_id is None:
            return False
        try:
            await self._bot.edit_message_text(
                text=text, chat_id=chat_id, message_id=recipient.pay_message_id, **kwargs
            )
        except TelegramBadRequest as exc:
            if NOT_MODIFIED in exc.message:
                return True
            # Deleted or too old to edit: the news still goes out.
            log.debug("pay message of user %s not edited: %s", recipient.user_id, exc)
            return False
        except TelegramAPIError as exc:
            if self.raises:
                raise
            log.warning("pay message of user %s not edited: %s", recipient.user_id, exc)
            return False
        return True

    def _plan_title(self, code: str, lang: str) -> str:
        plan = self._catalog.plan(code)
        return plan.title(lang) if plan else code

    async def subscription_activated(self, note: SubscriptionActivated) -> None:
        """Close the pay message and confirm the new expiry date."""
        lang = note.recipient.language
        date = day(lang, note.expires_at.astimezone(self._tz).date())
        if note.amount is None:
            await self._send(
                note.recipient, t(lang, "subscription_granted", days=note.days, date=date)
            )
            return
        plan = self._plan_title(note.plan_code, lang)
        await self._close_pay_message(note.recipient, t(lang, "pay_message_paid", description=plan))
        text = t(lang, "subscription_paid", plan=plan, date=date)
        if note.late:
            text = f"{text}\n{t(lang, 'late_payment_plan')}"
        await self._send(note.recipient, text, reply_markup=final_keyboard(lang))

    async def payment_canceled(self, note: PaymentCanceled) -> None:
        """Retire the pay message, say why the payment ended and offer the next steps."""
        lang = note.recipient.language
        expired = note.reason == CancelReason.EXPIRED
        if expired:
            closing = t(lang, "pay_message_expired")
        elif note.reason == CancelReason.SOLD_OUT:
            closing = t(lang, "pay_message_sold_out")
        elif note.reason.startswith(CancelReason.PROVIDER):
            closing = t(lang, "pay_message_declined")
        else:
            closing = t(lang, "pay_message_canceled")
        await self._close_pay_message(note.recipient, closing)
        if note.reason == CancelReason.USER:
            return  # the customer pressed Cancel: the bot has answered already
        tickets = note.kind == PaymentKind.TICKETS
        if expired and tickets:
            text = t(lang, "tickets_hold_expired", order_id=note.order_id or note.payment_id)
            markup = final_keyboard(lang, again_payment_id=note.payment_id)
        elif expired:
            text = t(lang, "plan_payment_expired")
            markup = final_keyboard(lang, again_payment_id=note.payment_id)
        elif note.reason == CancelReason.SOLD_OUT:
            text, markup = t(lang, "tickets_sold_out_refund"), final_keyboard(lang)
        else:
            text = t(lang, "payment_canceled")
            markup = final_keyboard(lang, retry_payment_id=note.payment_id)
        await self._send(note.recipient, text, reply_markup=markup)

    async def tickets_issued(self, note: TicketsIssued) -> None:
        """Confirm the order in place of its pay message (the QR codes follow: `tickets_qr`).

        One Telegram call, not two: the pay message becomes the confirmation, its button gone,
        and the QR codes that follow are the new messages the customer is notified of. A sale
        rush's confirmations wait for the sending lane's ~29 calls a second, so each call less
        brings every customer's tickets sooner. A late payment (its order was canceled and the
        customer told so) is confirmed in a new message, below that news.
        """
        recipient = note.recipient
        if chat_id_of(recipient.user_id) is None or not note.tickets:
            return
        lang = recipient.language
        first = note.tickets[0]
        when = {"date": day(lang, first.visit_date), "time": first.slot_time}
        text = t(lang, "tickets_paid", order_id=note.order_id, count=len(note.tickets), **when)
        text, markup = self.where_and_when(text, lang), final_keyboard(lang)
        if note.late:
            await self._close_pay_message(
                recipient, t(lang, "pay_message_paid", description=note.order_id)
            )
            text = f"{t(lang, 'late_payment_reheld')}\n{text}"
        elif await self._show_in_pay_message(recipient, text, reply_markup=markup):
            return
        await self._send(recipient, text, reply_markup=markup)

    async def tickets_qr(self, note: TicketsIssued) -> None:
        """Send every ticket's QR code, in albums of up to ten (a row holds one album since
        `enqueue_tickets` splits them; rows written before it may hold several)."""
        chat_id = chat_id_of(note.recipient.user_id)
        if chat_id is None or not note.tickets:
            return
        lang = note.recipient.language
        # Drawing QR codes is CPU work: a worker thread, not the loop.
        pngs = await asyncio.to_thread(lambda: [qr_png(ticket.qr) for ticket in note.tickets])
        photos = [
            InputMediaPhoto(
                media=BufferedInputFile(png, f"ticket-{ticket.code}.png"),
                caption=self.ticket_caption(lang, ticket),
            )
            for ticket, png in zip(note.tickets, pngs, strict=True)
        ]
        for start in range(0, len(photos), MEDIA_GROUP_LIMIT):
            chunk = photos[start : start + MEDIA_GROUP_LIMIT]
            if len(chunk) == 1:
                await self._bot.send_photo(chat_id, chunk[0].media, caption=chunk[0].caption)
            else:
                await self._bot.send_media_group(chat_id, list(chunk))

    def where_and_when(self, text: str, lang: str) -> str:
        """Add the shop's address and opening hours (when the catalog has them) to a text."""
        return with_address(text, self._catalog.shop, lang)

    def ticket_caption(self, lang: str, ticket: IssuedTicket) -> str:
        """Caption a ticket's QR: type, date, time and the code the gate checks."""
        return t(
            lang,
            "ticket_caption",
            title=ticket_title(self._catalog, ticket.ticket_type, lang),
            date=f"{ticket.visit_date:%d.%m.%Y}",
            time=ticket.slot_time,
            code=ticket.code,
        )

    async def send_ticket(self, user_id: str, lang: str, ticket: IssuedTicket) -> None:
        """Send one ticket's QR again (from /my)."""
        chat_id = chat_id_of(user_id)
        if chat_id is None:
            return
        png = await asyncio.to_thread(qr_png, ticket.qr)
        photo = BufferedInputFile(png, f"ticket-{ticket.code}.png")
        await self._bot.send_photo(chat_id, photo, caption=self.ticket_caption(lang, ticket))

    async def subscription_reminder(self, note: SubscriptionReminder) -> None:
        """Remind about the coming expiry; for auto-renewal, give notice of the coming charge."""
        lang = note.recipient.language
        date = day(lang, note.expires_at.astimezone(self._tz).date())
        if not note.auto_renew or note.amount is None:
            await self._send(note.recipient, t(lang, "reminder", date=date))
            return
        plan = self._catalog.plan(note.plan_code or "")
        charge_at = note.charge_at or note.expires_at
        text = t(
            lang,
            "autorenew_notice",
            date=day(lang, charge_at.astimezone(self._tz).date()),
            price=money(note.amount, lang),
            card=note.method_title or "",
            plan=plan.title(lang) if plan else (note.plan_code or ""),
            period=t(lang, "autorenew_days", days=plan.days if plan else 30),
        )
        await self._send(note.recipient, text, reply_markup=autorenew_notice(lang))

    async def renewal_failed(self, note: RenewalFailed) -> None:
        """Say the renewal charge failed and why, the next try, the grace; offer to pay now."""
        lang = note.recipient.language
        price = money(note.amount, lang)
        lines = [
            t(
                lang,
                "autorenew_failed",
                plan=self._plan_title(note.plan_code, lang),
                price=price,
                reason=t(lang, "autorenew_reason", reason=note.reason),
            )
        ]
        if note.auto_renew_off:
            lines.append(t(lang, "autorenew_failed_off"))
        elif note.next_attempt_at is not None:
            when = day(lang, note.next_attempt_at.astimezone(self._tz).date())
            lines.append(t(lang, "autorenew_failed_next", date=when))
        else:
            lines.append(t(lang, "autorenew_failed_last"))
        if note.grace_until is not None:
            until = day(lang, note.grace_until.astimezone(self._tz).date())
            lines.append(t(lang, "autorenew_failed_grace", date=until))
        await self._send(
            note.recipient, "\n".join(lines), reply_markup=renewal_pay(lang, note.renewal_id, price)
        )

    async def subscription_ended(self, note: SubscriptionEnded) -> None:
        """Say the subscription ended."""
        await self._send(note.recipient, t(note.recipient.language, "subscription_ended"))

    async def refund_made(self, note: RefundMade) -> None:
        """Say how much comes back and what it changed: the tickets or the subscription."""
        lang = note.recipient.language
        if note.currency == "XTR":
            amount = t(lang, "stars_amount", stars=int(note.amount))
        else:
            amount = money(note.amount, lang)
        if note.kind == "tickets":
            key = "refund_tickets_full" if note.full else "refund_tickets_partial"
            text = t(lang, key, amount=amount, order_id=note.order_id or note.payment_id)
        elif note.subscription_ended:
            text = t(lang, "refund_subscription_ended", amount=amount)
        elif note.expires_at is not None:
            date = day(lang, note.expires_at.astimezone(self._tz).date())
            text = t(lang, "refund_subscription", amount=amount, date=date)
        else:
            text = t(lang, "refund_plain", amount=amount)
        await self._send(note.recipient, text)
