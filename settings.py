"""Typed settings: every key of SPEC §3, read from the environment and `.env`, failing fast.

Imports nothing of ours: `main.py` loads them and hands plain values to the parts (handlers take
the object itself). `python -m settings KEY...` prints values, so the Makefile can hand
`DATABASE_URL` to `python -m db.migrate`.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import sys
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from settings_values import (
    SEED_BYTES,
    YOOKASSA_NETWORKS,
    AppEnv,
    LogFormat,
    Network,
    format_validation_error,
    normalise_database_url,
    seed_bytes,
    split_csv,
)

__all__ = [
    "SEED_BYTES",
    "YOOKASSA_NETWORKS",
    "AppEnv",
    "ConfigError",
    "LogFormat",
    "Network",
    "Settings",
    "load_settings",
]

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "your-super-secret-jwt-key-here"}
MIN_PRODUCTION_SECRET_LENGTH = 32
_TOKEN_RE = re.compile(r"^[0-9]+:[A-Za-z0-9_-]+$")
_WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook accepts


class ConfigError(Exception):
    """Bad configuration: one line that names the key and what is wrong."""


class Settings(BaseSettings):
    """Every setting of the service; see `.env.example` for what each key means."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
    )

    APP_ENV: AppEnv = AppEnv.DEVELOPMENT

    BOT_TOKEN: SecretStr | None = None
    TELEGRAM_API_BASE: str = "https://api.telegram.org"
    TELEGRAM_WEBHOOK_URL: str | None = None
    TELEGRAM_WEBHOOK_SECRET: SecretStr | None = None

    DATABASE_URL: str = "sqlite+aiosqlite:///./data/zooticket.db"
    # PostgreSQL: connections this instance opens at most, each kept once opened (not for SQLite).
    DATABASE_POOL_SIZE: int = Field(default=20, ge=1, le=500)
    REDIS_URL: str | None = None

    HTTP_HOST: str = "127.0.0.1"
    HTTP_PORT: int = Field(default=8080, ge=0, le=65535)
    PUBLIC_BASE_URL: str = "http://127.0.0.1:8080"
    SHUTDOWN_GRACE_SECONDS: int = Field(default=25, ge=1, le=3600)
    # The sending lanes: messages a second over all chats (Telegram allows about 30), shared
    # by the instances whose lanes run (payments/outbox/senders.py).
    OUTBOX_RATE: float = Field(default=29.0, gt=0, le=1000)
    # Off: this instance only writes the outbox; other instances (with it on) send.
    OUTBOX_SENDER: bool = True
    # YooKassa notifications applied at a time; the rest wait their turn, customers' answers
    # first (payments/loop_turns.py).
    WEBHOOK_CONCURRENCY: int = Field(default=1, ge=1, le=64)
    # Seconds a notification not yet started waits while more customers than a few are being
    # answered at once (0: it does not wait for them).
    WEBHOOK_YIELD_SECONDS: float = Field(default=10.0, ge=0, le=60)
    # Prometheus /metrics: a listener of its own (None: none), and optionally on the public port.
    METRICS_HOST: str = "127.0.0.1"
    METRICS_PORT: int | None = Field(default=None, ge=0, le=65535)
    METRICS_PUBLIC: bool = False

    YOOKASSA_SHOP_ID: str | None = None
    YOOKASSA_SECRET_KEY: SecretStr | None = None
    YOOKASSA_API_URL: str = "https://api.yookassa.ru/v3"
    YOOKASSA_TRUSTED_NETWORKS: Annotated[list[Network], NoDecode] = Field(
        default_factory=lambda: [ipaddress.ip_network(n) for n in YOOKASSA_NETWORKS]
    )
    YOOKASSA_TIMEOUT_SECONDS: float = Field(default=15.0, gt=0, le=120)
    # Calls to YooKassa in flight at once (each in a worker thread, made only when needed): a
    # sale's checkouts, re-fetches and captures all go through them.
    YOOKASSA_CONCURRENCY: int = Field(default=64, ge=1, le=256)
    TRUSTED_PROXIES: Annotated[list[Network], NoDecode] = Field(default_factory=list)

    JWT_SECRET: SecretStr | None = None
    # Base64 of a 32-byte Ed25519 seed that signs ticket QRs; unset: drawn once, kept in the DB.
    TICKET_SIGNING_KEY: SecretStr | None = None
    JWT_TTL_MINUTES: int = Field(default=60, gt=0, le=60 * 24 * 30)
    INIT_DATA_MAX_AGE_SECONDS: int = Field(default=86400, gt=0)
    # /docs and /openapi.json; unset = on in development, off in production.
    API_DOCS_ENABLED: bool | None = None

    ADMIN_IDS: Annotated[list[int], NoDecode] = Field(default_factory=list)
    # Gate staff: may check tickets in (chat /checkin and the Mini App's scanner), nothing else.
    STAFF_IDS: Annotated[list[int], NoDecode] = Field(default_factory=list)
    TEST_USER_IDS: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["1272270574"])

    CATALOG_PATH: Path | None = None

    PAYMENT_TTL_MINUTES: int = Field(default=15, gt=0, le=60 * 24)
    PENDING_PAYMENTS_LIMIT: int = Field(default=10, gt=0)
    PENDING_PAYMENTS_WINDOW_MINUTES: int = Field(default=5, gt=0)
    RECEIPT_FALLBACK_EMAIL_DOMAIN: str = "burlive.ru"

    # Auto-renewal: charge this long before the end; retry a decline after these days; access
    # is kept this many days after the end while a declined renewal is retried.
    RENEWAL_LEAD_HOURS: int = Field(default=24, gt=0, le=24 * 14)
    RENEWAL_RETRY_DAYS: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [1, 3, 5])
    RENEWAL_GRACE_DAYS: int = Field(default=3, ge=0, le=60)

    SMTP_HOST: str | None = None
    SMTP_PORT: int = Field(default=587, gt=0, le=65535)
    SMTP_USER: str | None = None
    SMTP_PASSWORD: SecretStr | None = None
    SMTP_FROM: str | None = None
    SMTP_TLS: bool = True

    TIMEZONE: str = "Europe/Moscow"
    LOG_LEVEL: str = "INFO"
    LOG_FORMAT: LogFormat = LogFormat.TEXT

    _jwt_secret_generated: bool = PrivateAttr(default=False)

    @field_validator(
        "BOT_TOKEN",
        "TELEGRAM_WEBHOOK_URL",
        "TELEGRAM_WEBHOOK_SECRET",
        "REDIS_URL",
        "YOOKASSA_SHOP_ID",
        "YOOKASSA_SECRET_KEY",
        "JWT_SECRET",
        "TICKET_SIGNING_KEY",
        "CATALOG_PATH",
        "SMTP_HOST",
        "SMTP_USER",
        "SMTP_PASSWORD",
        "SMTP_FROM",
        "API_DOCS_ENABLED",
        "METRICS_PORT",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("BOT_TOKEN")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("expected a bot token like 123456:ABC-DEF from @BotFather")
        return value

    @field_validator("TICKET_SIGNING_KEY")
    @classmethod
    def _check_signing_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            seed_bytes(value.get_secret_value())
        return value

    @field_validator("TELEGRAM_WEBHOOK_SECRET")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET_RE.fullmatch(value.get_secret_value()):
            raise ValueError("expected 1-256 characters of A-Z a-z 0-9 _ - (Telegram's rule)")
        return value

    @field_validator("DATABASE_URL")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("TELEGRAM_API_BASE", "PUBLIC_BASE_URL", "YOOKASSA_API_URL")
    @classmethod
    def _check_http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("TELEGRAM_WEBHOOK_URL")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value

    @field_validator("YOOKASSA_TRUSTED_NETWORKS", "TRUSTED_PROXIES", mode="before")
    @classmethod
    def _parse_networks(cls, value: Any) -> Any:
        items = split_csv(value)
        if not isinstance(items, list):
            return items
        try:
            return [ipaddress.ip_network(str(item), strict=False) for item in items]
        except ValueError as exc:
            raise ValueError(f"expected comma-separated CIDRs: {exc}") from exc

    @field_validator("RENEWAL_RETRY_DAYS", mode="before")
    @classmethod
    def _parse_retry_days(cls, value: Any) -> Any:
        days = split_csv(value)
        if isinstance(days, list) and not all(0 < int(d) <= 60 for d in days):  # noqa: PLR2004
            raise ValueError("each retry day must be between 1 and 60")
        return days

    @field_validator("ADMIN_IDS", "STAFF_IDS", "TEST_USER_IDS", mode="before")
    @classmethod
    def _parse_ids(cls, value: Any) -> Any:
        return split_csv(value)

    @field_validator("TIMEZONE")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("LOG_LEVEL")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("RECEIPT_FALLBACK_EMAIL_DOMAIN")
    @classmethod
    def _check_domain(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$", value):
            raise ValueError(f"expected a mail domain like example.com, got {value!r}")
        return value.lower()

    @model_validator(mode="after")
    def _check_pairs(self) -> Settings:
        if (self.YOOKASSA_SHOP_ID is None) != (self.YOOKASSA_SECRET_KEY is None):
            missing = (
                "YOOKASSA_SECRET_KEY" if self.YOOKASSA_SECRET_KEY is None else "YOOKASSA_SHOP_ID"
            )
            raise ValueError(f"{missing}: set both YooKassa credentials or neither")
        if self.TELEGRAM_WEBHOOK_URL and self.BOT_TOKEN is None:
            raise ValueError("BOT_TOKEN: webhook mode needs a bot token")
        if self.CATALOG_PATH is not None and not self.CATALOG_PATH.is_file():
            raise ValueError(f"CATALOG_PATH: no such file {str(self.CATALOG_PATH)!r}")
        if self.JWT_SECRET is None and not self.is_production:
            # Development only: tokens die with the process, which is what a developer expects.
            self.JWT_SECRET = SecretStr(secrets.token_urlsafe(48))
            self._jwt_secret_generated = True
        return self

    # ---- derived values -------------------------------------------------------------------

    @property
    def is_production(self) -> bool:
        """Return whether this is a production deployment."""
        return self.APP_ENV is AppEnv.PRODUCTION

    @property
    def sandbox(self) -> bool:
        """Return whether payments run against the embedded sandbox (no credentials)."""
        return self.YOOKASSA_SHOP_ID is None

    @property
    def api_docs(self) -> bool:
        """Return whether the API serves /docs and /openapi.json."""
        if self.API_DOCS_ENABLED is None:
            return not self.is_production
        return self.API_DOCS_ENABLED

    @property
    def bot_enabled(self) -> bool:
        """Return whether the Telegram bot part runs."""
        return self.BOT_TOKEN is not None

    @property
    def tz(self) -> ZoneInfo:
        """Return the shop time zone."""
        return ZoneInfo(self.TIMEZONE)

    @property
    def smtp_enabled(self) -> bool:
        """Return whether ticket e-mails are sent."""
        return self.SMTP_HOST is not None

    @property
    def jwt_secret_generated(self) -> bool:
        """Return whether JWT_SECRET was drawn at random for this process."""
        return self._jwt_secret_generated

    @property
    def ticket_signing_seed(self) -> bytes | None:
        """Return the 32-byte seed of TICKET_SIGNING_KEY, or None to use the database's."""
        if self.TICKET_SIGNING_KEY is None:
            return None
        return seed_bytes(self.TICKET_SIGNING_KEY.get_secret_value())

    @property
    def is_sqlite(self) -> bool:
        """Return whether the database is SQLite."""
        return self.DATABASE_URL.startswith("sqlite")

    def secret_values(self) -> list[str]:
        """Return the configured secrets and passwords, for masking in logs."""
        values = [
            secret.get_secret_value()
            for secret in (
                self.BOT_TOKEN,
                self.TELEGRAM_WEBHOOK_SECRET,
                self.YOOKASSA_SECRET_KEY,
                self.JWT_SECRET,
                self.SMTP_PASSWORD,
                self.TICKET_SIGNING_KEY,
            )
            if secret is not None
        ]
        for url in (self.DATABASE_URL, self.REDIS_URL):
            password = make_url(url).password if url else None
            if password:
                values.append(str(password))
        return values

    def check_production(self) -> None:
        """Refuse to run production with sandbox payments or missing or placeholder secrets."""
        if not self.is_production:
            return
        if self.BOT_TOKEN is None:
            raise ConfigError("BOT_TOKEN: required when APP_ENV=production")
        if self.JWT_SECRET is None:
            raise ConfigError("JWT_SECRET: required when APP_ENV=production")
        jwt_secret = self.JWT_SECRET.get_secret_value()
        if (
            jwt_secret.lower() in PLACEHOLDER_SECRETS
            or len(jwt_secret) < MIN_PRODUCTION_SECRET_LENGTH
        ):
            raise ConfigError(
                f"JWT_SECRET: use a random value of at least {MIN_PRODUCTION_SECRET_LENGTH} "
                "characters in production"
            )
        if self.YOOKASSA_SHOP_ID is None or self.YOOKASSA_SECRET_KEY is None:
            raise ConfigError(
                "YOOKASSA_SHOP_ID: required when APP_ENV=production (sandbox payments are refused)"
            )
        if self.TELEGRAM_WEBHOOK_URL and self.TELEGRAM_WEBHOOK_SECRET is None:
            raise ConfigError("TELEGRAM_WEBHOOK_SECRET: required for webhook mode in production")


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment, raising ConfigError with a one-line message."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc)) from None
    settings.check_production()
    return settings


def load_or_exit() -> Settings:
    """Read settings; on bad configuration print one line and exit 2 (no traceback)."""
    try:
        return load_settings()
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        raise SystemExit(2) from None


def main(argv: list[str]) -> int:
    """Print the named settings, one a line; exit 2 on bad configuration or an unknown key."""
    settings = load_or_exit()
    unknown = [key for key in argv if key not in Settings.model_fields]
    if unknown:
        sys.stderr.write(f"unknown setting(s): {', '.join(unknown)}\n")
        return 2
    for key in argv:
        sys.stdout.write(f"{getattr(settings, key)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
