"""The admin console's use-cases, one module per capability; never imports aiogram.

figures (sales), lookup (a payment and all about it), refunds (the admin's /refund) and
settlement (applying a refund once, whoever saw it first, dashboard refunds included), grants,
prices, capacity, checkin, export (CSV), broadcast (drafts, audience, progress, outcome; the
messages go through the outbox's sending lane). Each use-case takes only the collaborators it
uses; `audit` records every action and `results` holds what they share (`Refusal`). `console`
bundles them for wiring.

Every use-case takes the acting admin's Telegram id and returns a dataclass, or raises `Refusal`
(a reason the bot turns into a message, and an English note for the audit log). State changes
are conditional UPDATEs inside the use-case's transaction, the audit row is written in the same
transaction when the action changes something, and customers hear about it after commit.
"""
