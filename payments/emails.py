"""E-mail addresses a customer types: checked by email-validator, stored normalised.

Internationalised addresses (`пётр@почта.рф`) are welcome; the stored form is
email-validator's normalised one (lower-case Unicode domain, NFC). No DNS look-up happens:
the shop learns whether an address is deliverable when it sends the tickets.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_EMAIL_LENGTH = 254


class BadEmail(ValueError):
    """The text is not an e-mail address; the message says why (in English, for logs and APIs)."""


def normalise_email(text: str) -> str:
    """Return the normalised form of an e-mail address, or raise BadEmail."""
    candidate = text.strip()
    if len(candidate) > MAX_EMAIL_LENGTH:
        raise BadEmail(f"an e-mail address has at most {MAX_EMAIL_LENGTH} characters")
    try:
        checked = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadEmail(str(exc)) from exc
    return checked.normalized


def deliverable_form(address: str) -> str:
    """Return the ASCII form of an address when there is one (IDNA domain), else the address.

    `ivan@почта.рф` goes out as `ivan@xn--80a1acny.xn--p1ai`, which any SMTP server takes;
    a non-ASCII local part (`пётр@…`) needs a server that speaks SMTPUTF8.
    """
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return address
    return checked.ascii_email or checked.normalized
