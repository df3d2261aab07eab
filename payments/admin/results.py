"""What every admin use-case shares: the `Refusal` it raises, and how it names a customer."""

from __future__ import annotations

from db.models import User


class Refusal(Exception):
    """An admin action refused: `reason` names the message, `values` fill it, `note` is logged."""

    def __init__(self, reason: str, note: str, **values: object) -> None:
        """Keep the reason, the English note for the audit log and the values for the text."""
        super().__init__(note)
        self.reason = reason
        self.note = note
        self.values = values


def display_name(user: User | None, user_id: str) -> str:
    """Return a customer's name and @username as an admin sees them, or their id."""
    if user is None:
        return user_id
    parts = [p for p in (user.first_name, user.last_name) if p]
    if user.username:
        parts.append(f"@{user.username}")
    return " ".join(parts) or user_id
