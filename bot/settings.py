"""The one place the environment (and `.env`) is read.

Every setting is parsed and checked here, once, at start. A bad value raises
:class:`SettingsError` with one line that names the variable and says what is allowed;
the CLI prints that line and exits with status 2. The token is never part of any message.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
DEFAULT_DATABASE_PATH = "data/dramawatch.db"
# The starter packs shipped with the source tree.
DEFAULT_CATALOG_PATH = Path(__file__).resolve().parent.parent / "data" / "packs"


class SettingsError(Exception):
    """A setting has a value the bot cannot use. The message names the variable."""


@dataclass(frozen=True)
class Settings:
    token: str | None = field(default=None, repr=False)
    database_path: Path = Path(DEFAULT_DATABASE_PATH)
    database_url: str | None = field(default=None, repr=False)  # postgresql://…; unset: SQLite at database_path
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    api_base: str | None = None
    gateway_url: str | None = None
    catalog_path: Path = DEFAULT_CATALOG_PATH
    feeds_allow_private: bool = False
    feeds_poll_seconds: int | None = None
    tvmaze_api_base: str = "https://api.tvmaze.com"
    catalog_add: str = "moderators"  # who may /catalog add|refresh|remove: "moderators" or "owner"
    catalog_add_guilds: frozenset[int] = frozenset()  # only moderators of these servers (empty: any server)

    @property
    def database(self) -> str | Path:
        """What the bot opens: DATABASE_URL when set (PostgreSQL), else the SQLite file DATABASE_PATH."""
        return self.database_url or self.database_path

    def __repr__(self) -> str:  # never show the token (or the database's password), even by accident
        token = "set" if self.token else "unset"
        database = "postgresql" if self.database_url else str(self.database_path)
        return (
            f"Settings(token={token}, database={database!r}, "
            f"dev_guild_id={self.dev_guild_id!r}, log_level={self.log_level!r}, "
            f"api_base={self.api_base!r}, gateway_url={self.gateway_url!r}, catalog_path={str(self.catalog_path)!r})"
        )


def _snowflake(name: str, raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not (0 < int(raw) < 2**64):
        raise SettingsError(f"{name} must be a Discord id (digits only, e.g. 123456789012345678), got {raw!r}")
    return int(raw)


def _url(name: str, raw: str, schemes: tuple[str, ...]) -> str:
    scheme, sep, rest = raw.partition("://")
    if not sep or scheme.lower() not in schemes or not rest or rest.startswith("/"):
        allowed = " or ".join(f"{s}://" for s in schemes)
        raise SettingsError(f"{name} must be a URL starting with {allowed}, got {raw!r}")
    return raw.rstrip("/")


def _database_path(name: str, raw: str) -> Path:
    path = Path(raw).expanduser()
    if path.exists() and path.is_dir():
        raise SettingsError(f"{name} points to a directory ({raw}); give a file path such as data/dramawatch.db")
    return path


def ensure_database_dir(path: Path, name: str = "DATABASE_PATH") -> None:
    """Create the database's directory on demand; fail with one clear line if we cannot write there."""
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"{name}: cannot create the directory {parent} ({exc.strerror})") from None
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise SettingsError(f"{name}: the database {path} is not writable by this user")


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Read settings from `environ` (default: the process environment) over the `.env` file.

    Real environment variables win over `.env`, as python-dotenv does by default.
    """
    values: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        raw = values.get(name)
        if raw is None:
            return None
        raw = raw.strip()
        return raw or None

    token = get("DISCORD_TOKEN")
    database_path = _database_path("DATABASE_PATH", get("DATABASE_PATH") or DEFAULT_DATABASE_PATH)
    url_raw = get("DATABASE_URL")
    if url_raw is not None and not url_raw.startswith(("postgresql://", "postgres://")):
        raise SettingsError(
            "DATABASE_URL must be a PostgreSQL URL such as postgresql://user@host:5432/dramawatch "
            "(leave it unset for SQLite at DATABASE_PATH)"
        )
    dev_guild_raw = get("DEV_GUILD_ID")
    dev_guild_id = _snowflake("DEV_GUILD_ID", dev_guild_raw) if dev_guild_raw else None
    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {get('LOG_LEVEL')!r}")
    api_raw = get("DISCORD_API_BASE")
    api_base = _url("DISCORD_API_BASE", api_raw, ("http", "https")) if api_raw else None
    gw_raw = get("DISCORD_GATEWAY_URL")
    gateway_url = _url("DISCORD_GATEWAY_URL", gw_raw, ("ws", "wss")) if gw_raw else None
    catalog_raw = get("CATALOG_PATH")
    catalog_path = Path(catalog_raw).expanduser() if catalog_raw else DEFAULT_CATALOG_PATH
    if catalog_raw and not catalog_path.exists():
        raise SettingsError(f"CATALOG_PATH: {catalog_raw} does not exist; give the folder of drama packs (*.toml)")
    allow_raw = (get("FEEDS_ALLOW_PRIVATE") or "0").lower()
    if allow_raw not in ("0", "1", "true", "false", "yes", "no"):
        raise SettingsError(f"FEEDS_ALLOW_PRIVATE must be 1 or 0, got {get('FEEDS_ALLOW_PRIVATE')!r}")
    tvmaze_raw = get("TVMAZE_API_BASE")
    tvmaze_api_base = _url("TVMAZE_API_BASE", tvmaze_raw, ("http", "https")) if tvmaze_raw else Settings.tvmaze_api_base
    catalog_add = (get("CATALOG_ADD") or "moderators").lower()
    if catalog_add not in ("moderators", "owner"):
        raise SettingsError(f"CATALOG_ADD must be moderators or owner, got {get('CATALOG_ADD')!r}")
    guilds_raw = get("CATALOG_ADD_GUILDS")
    catalog_add_guilds = frozenset(
        _snowflake("CATALOG_ADD_GUILDS", part.strip()) for part in (guilds_raw or "").split(",") if part.strip()
    )
    poll_raw = get("FEEDS_POLL_SECONDS")
    if poll_raw is not None and (not poll_raw.isascii() or not poll_raw.isdigit() or int(poll_raw) < 1):
        raise SettingsError(f"FEEDS_POLL_SECONDS must be a whole number of seconds (1 or more), got {poll_raw!r}")
    return Settings(
        feeds_allow_private=allow_raw in ("1", "true", "yes"),
        feeds_poll_seconds=int(poll_raw) if poll_raw else None,
        tvmaze_api_base=tvmaze_api_base,
        catalog_add=catalog_add,
        catalog_add_guilds=catalog_add_guilds,
        catalog_path=catalog_path,
        token=token,
        database_path=database_path,
        database_url=url_raw,
        dev_guild_id=dev_guild_id,
        log_level=log_level,
        api_base=api_base,
        gateway_url=gateway_url,
    )


class RedactingFilter(logging.Filter):
    """Replaces the token wherever it would appear in a log record."""

    def __init__(self, secret: str | None) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secret:
            message = record.getMessage()
            if self._secret in message:
                record.msg = message.replace(self._secret, "[token]")
                record.args = None
        return True


def is_network_failure(error: BaseException) -> bool:
    """A failure to reach or stay connected to Discord (retried by discord.py after log-in)."""
    import aiohttp  # loaded already whenever discord.py logs
    import discord

    transient = (
        OSError,
        TimeoutError,
        aiohttp.ClientError,
        discord.GatewayNotFound,
        discord.ConnectionClosed,
        discord.DiscordServerError,
    )
    return isinstance(error, transient)


class LogFormatter(logging.Formatter):
    """The log line format, with two rules.

    A network failure that discord.py logs with its traceback (it does so for every reconnect attempt,
    e.g. "Attempting a reconnect in 3.21s") is written as one warning line that names the failure: it
    is expected and retried, and a 70-line traceback per attempt would bury the log. And the token is
    replaced wherever it would appear, tracebacks included.
    """

    def __init__(self, secret: str | None = None) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        self._secret = secret

    def format(self, record: logging.LogRecord) -> str:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and record.name.startswith("discord") and is_network_failure(error):
            detail = " ".join(str(error).split()) or "no details"
            record = logging.makeLogRecord(
                {
                    **record.__dict__,
                    "msg": f"{record.getMessage()} (after {type(error).__name__}: {detail})",
                    "args": None,
                    "exc_info": None,
                    "exc_text": None,
                    "levelno": min(record.levelno, logging.WARNING),
                    "levelname": logging.getLevelName(min(record.levelno, logging.WARNING)),
                }
            )
        text = super().format(record)
        return text.replace(self._secret, "[token]") if self._secret else text


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(LogFormatter(settings.token))
    handler.addFilter(RedactingFilter(settings.token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # discord.py is chatty at INFO about the gateway; keep it at WARNING unless debugging.
    if settings.log_level != "DEBUG":
        logging.getLogger("discord").setLevel(logging.WARNING)
