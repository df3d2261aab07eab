"""E-mail addresses: internationalised ones welcome, normalised; junk refused with a reason."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from payments.api import schemas
from payments.api.schemas import Customer
from payments.emails import BadEmail, deliverable_form, normalise_email


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("пётр@почта.рф", "пётр@почта.рф"),
        ("  ivan@ПОЧТА.РФ ", "ivan@почта.рф"),
        ("Anna@Example.COM", "Anna@example.com"),
    ],
)
def test_addresses_are_stored_in_their_normalised_form(typed: str, stored: str) -> None:
    assert normalise_email(typed) == stored
    assert Customer(email=typed).email == stored
    assert schemas.TestUserIn(userId="test_user_1", email=typed).email == stored


@pytest.mark.parametrize("junk", ["junk", "a@b", "x@@y.ru", "пётр на почте", "a b@x.ru"])
def test_junk_is_refused_with_a_reason(junk: str) -> None:
    with pytest.raises(BadEmail):
        normalise_email(junk)
    with pytest.raises(ValidationError, match="not an e-mail address"):
        Customer(email=junk)


def test_an_internationalised_domain_goes_out_in_ascii() -> None:
    assert deliverable_form("ivan@почта.рф") == "ivan@xn--80a1acny.xn--p1ai"
    assert deliverable_form("пётр@почта.рф") == "пётр@почта.рф"  # needs SMTPUTF8 as it is
