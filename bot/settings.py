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
MAX_SHARDS = 4096  # far above what Discord recommends for the largest bots (1 per ~1,000 servers)
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
    shard_count: int | None = None  # SHARD_COUNT: Discord shards in all (None: not sharded)
    shard_ids: tuple[int, ...] | None = None  # SHARD_IDS: the shards this process runs (None: all)
    process_name: str | None = None  # PROCESS_NAME (None: made from the shards, or "main")
    job_lease_seconds: float = 60.0  # JOB_LEASE_SECONDS: a claimed job not renewed for this long is released
    home_shards: tuple[int, ...] | None = None  # the shards this process was started for, when it runs others now

    @property
    def sharded(self) -> bool:
        return self.shard_count is not None

    @property
    def my_shards(self) -> tuple[int, ...] | None:
        """The shards this process runs (None: not sharded: every server)."""
        if self.shard_count is None:
            return None
        return self.shard_ids if self.shard_ids is not None else tuple(range(self.shard_count))

    @property
    def name(self) -> str:
        """This process's name in the database (its job claims, its heartbeat)."""
        if self.process_name:
            return self.process_name
        shards = self.my_shards
        return "main" if shards is None else "shards-" + ",".join(map(str, shards))

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


def _shard_ids(raw: str, count: int) -> tuple[int, ...]:
    """SHARD_IDS: "0-3", "0,2" or "0-1,4"; each below SHARD_COUNT."""
    found: set[int] = set()
    for part in raw.split(","):
        first, dash, last = part.strip().partition("-")
        if not (first.isascii() and first.isdigit() and (not dash or (last.isascii() and last.isdigit()))):
            raise SettingsError(f"SHARD_IDS must be shard numbers and ranges such as 0-3 or 0,2, got {raw!r}")
        low, high = int(first), int(last) if dash else int(first)
        if low > high or high >= count:
            raise SettingsError(
                f"SHARD_IDS: {part.strip()!r} is not a range of shards below SHARD_COUNT ({count}); "
                f"use 0 to {count - 1}"
            )
        found.update(range(low, high + 1))
    return tuple(sorted(found))


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
    count_raw = get("SHARD_COUNT")
    if count_raw is not None and (
        not count_raw.isascii() or not count_raw.isdigit() or not 1 <= int(count_raw) <= MAX_SHARDS
    ):
        raise SettingsError(f"SHARD_COUNT must be a whole number of shards from 1 to {MAX_SHARDS}, got {count_raw!r}")
    shard_count = int(count_raw) if count_raw else None
    ids_raw = get("SHARD_IDS")
    if ids_raw is not None and shard_count is None:
        raise SettingsError("SHARD_IDS needs SHARD_COUNT (how many shards there are in all), e.g. SHARD_COUNT=4")
    shard_ids = _shard_ids(ids_raw, shard_count) if ids_raw is not None and shard_count is not None else None
    name_raw = get("PROCESS_NAME")
    if name_raw is not None and not (len(name_raw) <= 64 and all(c.isalnum() or c in "-_.,:" for c in name_raw)):
        raise SettingsError(f"PROCESS_NAME may have letters, digits and - _ . , : (64 at most), got {name_raw!r}")
    lease_raw = get("JOB_LEASE_SECONDS")
    try:
        lease = float(lease_raw) if lease_raw else Settings.job_lease_seconds
    except ValueError:
        lease = -1.0
    if not 1 <= lease <= 3600:
        raise SettingsError(f"JOB_LEASE_SECONDS must be a number of seconds from 1 to 3600, got {lease_raw!r}")
    return Settings(
        shard_count=shard_count,
        shard_ids=shard_ids,
        process_name=name_raw,
        job_lease_seconds=lease,
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

    def __init__(self, secret: str | None = None, process: str | None = None) -> None:
        # With several processes (shards), every line says which one wrote it: "[shards-0,1]".
        where = f"[{process}] " if process else ""
        super().__init__(f"%(asctime)s {where}%(levelname)-7s %(name)s: %(message)s")
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
    handler.setFormatter(
        LogFormatter(settings.token, settings.name if settings.sharded or settings.process_name else None)
    )
    handler.addFilter(RedactingFilter(settings.token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # discord.py is chatty at INFO about the gateway; keep it at WARNING unless debugging.
    if settings.log_level != "DEBUG":
        logging.getLogger("discord").setLevel(logging.WARNING)
