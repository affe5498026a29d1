"""Settings, read from the environment.

Every setting has a documented default that suits the embedded (SQLite) mode;
production sets them explicitly. The README lists each one.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # refused in production

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """The environment does not describe a runnable portal."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment at start-up."""

    env: str
    instance_path: Path

    @property
    def production(self) -> bool:
        return self.env == "production"


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that do not name a driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def development_encryption_key(secret_key: str) -> str:
    """The Fernet key derived from ``secret_key`` (HKDF-SHA256), for development and tests only."""
    derived = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"kommunalportal data encryption key",
    ).derive(secret_key.encode())
    return base64.urlsafe_b64encode(derived).decode()


def data_encryption_keys(raw: str, *, secret_key: str, production: bool) -> list[str]:
    """``DATA_ENCRYPTION_KEYS`` as a list: the first key encrypts, every key decrypts.

    Each key is a Fernet key (32 bytes, URL-safe base64). Unset, development and
    tests use a key derived from ``secret_key``; production refuses to start.
    """
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if not keys:
        if production:
            raise ConfigurationError(
                "PORTAL_ENV=production needs DATA_ENCRYPTION_KEYS: one or more Fernet keys, "
                "comma-separated, the first encrypts; make one with "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
            )
        return [development_encryption_key(secret_key)]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (binascii.Error, ValueError) as exc:
            raise ConfigurationError(
                f"DATA_ENCRYPTION_KEYS: key {position} is not a Fernet key "
                "(32 bytes in URL-safe base64, 44 characters)"
            ) from exc
    return keys


def load_config(instance_path: Path) -> dict[str, object]:
    """Build the Flask config mapping from the environment."""
    env = os.environ.get("PORTAL_ENV", "development").strip().lower()
    production = env == "production"
    secret_key = os.environ.get("SECRET_KEY", "")
    if production and (not secret_key or secret_key == DEFAULT_SECRET_KEY or len(secret_key) < 32):
        raise ConfigurationError(
            "PORTAL_ENV=production needs SECRET_KEY: set it to a random value of at least "
            "32 characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
    encryption_keys = data_encryption_keys(
        os.environ.get("DATA_ENCRYPTION_KEYS", ""), secret_key=secret_key or DEFAULT_SECRET_KEY,
        production=production,
    )
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'portal.db'}"
    storage_dir = Path(os.environ.get("STORAGE_DIR") or instance_path / "storage")
    return {
        "PORTAL_ENV": env,
        "DEMO_MODE": _bool(os.environ.get("DEMO_MODE"), default=not production),
        "SECRET_KEY": secret_key or DEFAULT_SECRET_KEY,
        "DATA_ENCRYPTION_KEYS": encryption_keys,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "STORAGE_DIR": str(storage_dir),
        "FORMS_DIR": os.environ.get("FORMS_DIR") or str(PROJECT_ROOT / "forms"),
        # Unset: instance/formspec-cache (off under TESTING); set but empty: no cache.
        **{key: os.environ[key] for key in ("FORMSPEC_CACHE_DIR",) if key in os.environ},
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 50 * 1024 * 1024),
        "MAX_FORM_MEMORY_SIZE": _int("MAX_FORM_MEMORY_SIZE", 2 * 1024 * 1024),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "").rstrip("/"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _bool(os.environ.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _bool(os.environ.get("MAIL_USE_SSL")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "portal@localhost"),
        "MAIL_ENABLED": _bool(os.environ.get("MAIL_ENABLED"), default=production),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool(os.environ.get("RATELIMIT_ENABLED"), default=True),
        # The public pages' cache (app.pagecache): SimpleCache keeps pages in each process,
        # RedisCache (with CACHE_REDIS_URL) shares them, NullCache turns the cache off.
        "CACHE_TYPE": os.environ.get("CACHE_TYPE", "SimpleCache"),
        "CACHE_REDIS_URL": os.environ.get("CACHE_REDIS_URL", ""),
        "CACHE_DEFAULT_TIMEOUT": _int("CACHE_DEFAULT_TIMEOUT", 300),
        "CACHE_THRESHOLD": _int("CACHE_THRESHOLD", 2000),
        "CACHE_KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "kp:page:"),
        "DRAFT_LIFETIME_DAYS": _int("DRAFT_LIFETIME_DAYS", 30),
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 30),
        "STAFF_LOGIN_MAX_FAILURES_PER_ACCOUNT": _int("STAFF_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5),
        "STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS": _int("STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
        "STAFF_LOGIN_WINDOW_MINUTES": _int("STAFF_LOGIN_WINDOW_MINUTES", 15),
        "STAFF_LOGIN_LOCKOUT_MINUTES": _int("STAFF_LOGIN_LOCKOUT_MINUTES", 15),
        "STAFF_LOGIN_RATE_LIMIT": os.environ.get("STAFF_LOGIN_RATE_LIMIT", "30 per minute"),
        "SESSION_COOKIE_SECURE": _bool(os.environ.get("SESSION_COOKIE_SECURE"), default=production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "BABEL_DEFAULT_LOCALE": "de",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Berlin",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        "PROXY_FIX": _int("PROXY_FIX", 1 if production else 0),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
    }
