"""Bodies and answers of the Mini App's auto-renewal API: camelCase on the wire."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from pydantic.alias_generators import to_camel


class _Out(BaseModel):
    """Snake-case attributes, camelCase JSON (FastAPI writes answers by alias)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class AutoRenewOut(_Out):
    """A subscription's auto-renewal: on or off, the saved card, the coming charge."""

    on: bool
    card: str | None = Field(
        examples=["Карта *4444"], description="The saved card's title; null: none kept"
    )
    next_charge_at: str | None = Field(
        examples=["2026-12-31T10:15:00Z"], description="When the renewal is charged; null: off"
    )
    next_charge_amount: str | None = Field(examples=["499.00"])
    state: Literal["retrying", "lapsed"] | None = Field(
        default=None, description="retrying: the last renewal charge was declined"
    )


class AutoRenewEnvelope(_Out):
    """The auto-renewal after a switch."""

    auto_renew: AutoRenewOut


class RenewalTermsOut(_Out):
    """The terms a customer must see before turning auto-renewal on, in their language."""

    plan: str = Field(examples=["monthly"])
    version: str = Field(
        examples=["renew-terms-v1"], description="Send it back as `termsVersion` to agree"
    )
    text: str
    amount: str = Field(examples=["499.00"], description="Charged at each renewal")
    days: int = Field(examples=[30], description="The period each renewal adds")
    next_charge_at: str = Field(examples=["2026-12-31T10:15:00Z"])


class AutoRenewIn(BaseModel):
    """POST /api/v2/app/subscription/auto-renew."""

    model_config = ConfigDict(extra="forbid")

    on: StrictBool
    termsVersion: str | None = Field(  # noqa: N815
        default=None,
        max_length=32,
        description="Required to turn it on: the `version` of the terms shown again",
    )
