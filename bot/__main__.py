"""The command line: `python -m bot …` (also installed as `dramawatch`).

run       connect to Discord and serve (the default)
sandbox   try the bot against a local, Discord-compatible sandbox: no token, no network
sync      register the slash commands with Discord (run after an upgrade; never automatic)
migrate   create or upgrade the database; --to postgresql://… copies SQLite into PostgreSQL
backup    copy the database while the bot runs
status    the bot processes, their shards and heartbeats, and the job queue
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import (
    Settings,
    SettingsError,
    configure_logging,
    ensure_database_dir,
    is_network_failure,
    load_settings,
)

EXIT_USAGE = 2


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"dramawatch: error: {message}", file=sys.stderr)
    return code


def _need_token(settings: Settings) -> str | None:
    if settings.token:
        return None
    return (
        "DISCORD_TOKEN is not set. Put your bot token in a .env file (copy .env.example) or the environment. "
        "No token? Try the bot locally with: python -m bot sandbox"
    )


# -- start-up failures ------------------------------------------------------------------------
TOKEN_REJECTED = "Discord rejected DISCORD_TOKEN (check the token in the Developer Portal → Bot)."
DEFAULT_GATEWAY = "wss://gateway.discord.gg"


class GatewayUnreachable(Exception):
    """The first connection to Discord's gateway failed (after a successful log-in)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _reason(error: BaseException) -> str:
    """What went wrong, briefly: for a failed connection, the operating system's words."""
    import aiohttp

    if isinstance(error, aiohttp.ClientConnectorError):
        error = error.os_error
    strerror = error.strerror if isinstance(error, OSError) else None
    return " ".join((strerror or str(error)).split()) or type(error).__name__


def _discord_failure(exc: BaseException, settings: Settings) -> tuple[str, int] | None:
    """One line (and the exit status) for a failure to reach or use Discord; None for anything else.

    discord.py raises these from `login` (the first REST call: unreachable, 401, 5xx) and from
    `connect` when it gives up (a gateway close it must not retry, such as 4004 for a bad token).
    Transient failures after log-in are retried by discord.py itself and logged one line each.
    """
    import aiohttp
    import discord

    def unreachable(what: str, setting: str | None) -> str:
        cause = exc.cause if isinstance(exc, GatewayUnreachable) else exc
        check = "check the network" + (f" and {setting}" if setting else "")
        return f"cannot reach {what} ({_reason(cause)}); {check}, then start again"

    if isinstance(exc, GatewayUnreachable):
        gateway = settings.gateway_url or DEFAULT_GATEWAY
        return unreachable(
            f"Discord's gateway at {gateway}", "DISCORD_GATEWAY_URL" if settings.gateway_url else None
        ), 1
    if isinstance(exc, discord.LoginFailure):
        return TOKEN_REJECTED, EXIT_USAGE
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return "Discord refused an intent this bot asked for; please report this as a bug.", EXIT_USAGE
    if isinstance(exc, discord.ConnectionClosed):
        if exc.code == 4004:  # authentication failed
            return TOKEN_REJECTED, EXIT_USAGE
        why = f": {exc.reason}" if exc.reason else ""
        return f"Discord closed the gateway connection (code {exc.code}{why}); start again in a while", 1
    if isinstance(exc, discord.GatewayNotFound):
        return "Discord's gateway could not be found (Discord may be having an outage); start again in a while", 1
    if isinstance(exc, discord.HTTPException):
        detail = f" ({exc.text})" if exc.text else ""
        return f"Discord answered HTTP {exc.status}{detail} while the bot was starting; start again in a while", 1
    setting = "DISCORD_API_BASE" if settings.api_base else None
    if isinstance(exc, aiohttp.ClientConnectorError):
        return unreachable(f"Discord at {exc.host}:{exc.port}", setting), 1
    if isinstance(exc, aiohttp.ClientError | TimeoutError):
        return unreachable(f"Discord at {settings.api_base or 'discord.com'}", setting), 1
    return None


def _start_failure(exc: BaseException, settings: Settings) -> int | None:
    """Print one line for a failure at start and return the exit status; None when `exc` is not one."""
    from bot.catalog import CatalogError
    from bot.scheduling.presence import NameInUse
    from bot.storage.database import StorageError

    if isinstance(exc, SettingsError | StorageError | NameInUse):
        return _fail(str(exc))
    if isinstance(exc, CatalogError):
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return _fail(f"the drama packs have {len(exc.problems)} problem(s) (listed above); fix them and start again")
    found = _discord_failure(exc, settings)
    return None if found is None else _fail(*found)


async def _check_database(settings: Settings) -> None:
    """Fail before connecting anywhere when the database cannot be used (one line, exit 2)."""
    from bot.storage import Database

    if settings.database_url is None:
        ensure_database_dir(settings.database_path, "DATABASE_PATH")
    db = await Database.open(settings.database)
    await db.close()


# -- run -------------------------------------------------------------------------------------
async def _run_bot(settings: Settings) -> None:
    from bot.client import Dramawatch, apply_endpoints, serve

    await _check_database(settings)
    apply_endpoints(settings)

    async def connect(bot: Dramawatch) -> None:
        try:
            await bot.connect(reconnect=True)
        except AttributeError as exc:
            # discord.py retries a lost gateway connection (one log line per attempt), but when the
            # very first connection fails its retry reads the sequence of a socket that never opened.
            # That is a start-up failure: report the network error behind it as one.
            cause = exc.__context__
            if bot.ws is not None or cause is None or not is_network_failure(cause):
                raise
            raise GatewayUnreachable(cause) from None

    assert settings.token is not None
    await serve(settings, settings.token, connect=connect)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    problem = _need_token(settings)
    if problem:
        return _fail(problem)
    configure_logging(settings)
    try:
        asyncio.run(_run_bot(settings))
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        code = _start_failure(exc, settings)
        if code is None:
            raise
        return code
    return 0


# -- sync ------------------------------------------------------------------------------------
async def _sync(settings: Settings, guild_id: int | None) -> int:
    import discord

    from bot.client import Dramawatch, apply_endpoints

    await _check_database(settings)
    apply_endpoints(settings)
    bot = Dramawatch(settings, start_scheduler=False)
    async with bot:
        assert settings.token is not None
        await bot.login(settings.token)
        if guild_id is not None:
            guild = discord.Object(id=guild_id)
            bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
            where = f"server {guild_id} (visible there at once)"
        else:
            synced = await bot.tree.sync()
            where = "every server (global commands can take a few minutes to appear)"
    print(f"Registered {len(synced)} command(s) for {where}: {', '.join('/' + c.name for c in synced)}")
    return 0


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    import discord

    problem = _need_token(settings)
    if problem:
        return _fail(problem)
    configure_logging(settings)
    guild_id = args.guild if args.guild is not None else (settings.dev_guild_id if args.dev else None)
    try:
        return asyncio.run(_sync(settings, guild_id))
    except discord.LoginFailure:
        return _fail(TOKEN_REJECTED)
    except discord.HTTPException as exc:
        return _fail(f"Discord refused the command sync: {exc.status} {exc.text}", 1)
    except Exception as exc:
        code = _start_failure(exc, settings)
        if code is None:
            raise
        return code


# -- migrate / backup ------------------------------------------------------------------------
async def _migrate(target: str | Path) -> tuple[list[int], int, str]:
    from bot.storage import Database

    db = await Database.open(target)
    try:
        applied = await db.migrate()
        return applied, await db.version(), db.path
    finally:
        await db.close()


async def _copy_to(source: Path, url: str) -> tuple[str, list[tuple[str, int, int]]]:
    from bot.storage.database import SqliteDatabase
    from bot.storage.postgres import PostgresDatabase
    from bot.storage.transfer import copy_database

    def progress(table: str, rows: int) -> None:
        print(f"  {table}: {rows:,} rows copied", file=sys.stderr)

    origin = await SqliteDatabase.connect(source)
    try:
        target = await PostgresDatabase.connect(url)
        try:
            counted = await copy_database(origin, target, progress)
            return target.path, [(c.table, c.source, c.target) for c in counted]
        finally:
            await target.close()
    finally:
        await origin.close()


def _is_url(text: str) -> bool:
    return text.startswith(("postgresql://", "postgres://"))


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.database import StorageError

    if args.to is not None:
        return _migrate_to(args, settings)
    target: str | Path = (args.db if _is_url(args.db) else Path(args.db)) if args.db else settings.database
    try:
        if isinstance(target, Path):
            ensure_database_dir(target, "--db" if args.db else "DATABASE_PATH")
        applied, version, where = asyncio.run(_migrate(target))
    except (SettingsError, StorageError) as exc:
        return _fail(str(exc))
    if applied:
        print(f"{where}: applied migration(s) {', '.join(f'{n:04d}' for n in applied)}; now at version {version}.")
    else:
        print(f"{where}: already up to date (version {version}); nothing changed.")
    return 0


def _migrate_to(args: argparse.Namespace, settings: Settings) -> int:
    """`migrate --to postgresql://…`: copy the SQLite database into PostgreSQL, counts checked."""
    from bot.storage.database import StorageError

    if not _is_url(args.to):
        return _fail(f"--to takes a PostgreSQL URL such as postgresql://user@host:5432/dramawatch, got {args.to!r}")
    if args.db and _is_url(args.db):
        return _fail("--db names the SQLite file to copy from when --to is given; it cannot be a URL")
    source = Path(args.db) if args.db else settings.database_path
    if not source.is_file():
        return _fail(f"there is no SQLite database at {source} to copy (set DATABASE_PATH or --db)")
    try:
        where, counted = asyncio.run(_copy_to(source, args.to))
    except StorageError as exc:
        return _fail(str(exc), 1)
    width = max(len(table) for table, _, _ in counted)
    print(f"Copied {source} into {where}. Rows per table (SQLite → PostgreSQL), every count checked:")
    for table, before, after in sorted(counted):
        print(f"  {table:<{width}}  {before:>9,} → {after:,}")
    print("Set DATABASE_URL to that URL and start the bot: it runs on PostgreSQL from now on.")
    return 0


async def _backup(source: Path, destination: Path) -> None:
    from bot.storage import Database

    db = await Database.open(source)
    try:
        await db.backup(destination)
    finally:
        await db.close()


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.database import StorageError

    if settings.database_url is not None and not args.db:
        return _fail("DATABASE_URL is a PostgreSQL database: back it up with pg_dump (this copies SQLite files)")
    source = Path(args.db) if args.db else settings.database_path
    destination = Path(args.path)
    if not source.is_file():
        return _fail(f"there is no database at {source} to back up (set DATABASE_PATH or --db)")
    if destination.exists() and not args.force:
        return _fail(f"{destination} already exists; choose another path or pass --force to overwrite it")
    if destination.exists():
        destination.unlink()
    try:
        ensure_database_dir(destination, "PATH")
        asyncio.run(_backup(source, destination))
    except (SettingsError, StorageError) as exc:
        return _fail(str(exc))
    print(f"Backed up {source} to {destination} ({destination.stat().st_size:,} bytes).")
    return 0


# -- catalog ----------------------------------------------------------------------------------
def cmd_catalog_validate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.catalog import load_catalog

    path = Path(args.path) if args.path else settings.catalog_path
    catalog, problems = load_catalog([path])
    strict: list[str] = []
    if args.strict:
        from datetime import UTC, datetime

        from bot.catalog.strict import strict_problems

        strict = strict_problems([path], now=datetime.now(UTC))
    if problems or strict:
        for problem in problems + strict:
            print(problem)
        if problems:
            print(
                f"{len(problems)} problem(s) in {path}; the bot will not start until they are fixed.", file=sys.stderr
            )
        if strict:
            print(f"{len(strict)} strict problem(s) in {path}; a shipped pack must have none.", file=sys.stderr)
        return 1
    episodes = sum(d.episode_count for d in catalog.dramas.values())
    characters = sum(len(d.characters) for d in catalog.dramas.values())
    print(
        f"{path}: OK — {len(catalog)} drama(s), {episodes} episodes, {characters} characters, "
        f"{len(catalog.people)} people."
    )
    return 0


def cmd_catalog_list(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console
    from rich.table import Table

    from bot.catalog import load_catalog

    path = Path(args.path) if args.path else settings.catalog_path
    catalog, problems = load_catalog([path])
    table = Table(title=f"Dramas in {path}")
    for column in ("slug", "title", "year", "network", "episodes", "characters", "first aired"):
        table.add_column(column)
    for drama in catalog.dramas.values():
        first = f"{drama.episodes[0].air_at:%Y-%m-%d}" if drama.episodes else "—"
        table.add_row(
            drama.slug,
            drama.display_title,
            str(drama.year),
            drama.network or "—",
            str(drama.episode_count),
            str(len(drama.characters)),
            first,
        )
    Console().print(table)
    if problems:
        print(f"{len(problems)} problem(s): run `python -m bot catalog validate` for the list.", file=sys.stderr)
        return 1
    return 0


def cmd_catalog_import_tvmaze(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from bot.catalog.tvmaze import ImportFailure, InvalidPack, import_tvmaze

    out = Path(args.out) if args.out else settings.catalog_path
    if not args.query and args.id is None:
        return _fail("give the show's title (QUERY) or its TVmaze id (--id)", 2)
    api_base = (args.api_base or settings.tvmaze_api_base).rstrip("/")
    scheme, sep, rest = api_base.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest:
        return _fail(f"--api-base must be a URL starting with http:// or https://, got {args.api_base!r}", 1)
    console = Console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    # A live progress line on a terminal; nothing on a pipe or in a log (errors stay one line).
    progress = Progress(*columns, console=console, transient=True) if console.is_terminal else None
    task = progress.add_task(f"Importing {args.query!r} from TVmaze", total=None) if progress else None
    try:
        with progress or contextlib.nullcontext():
            result = asyncio.run(
                import_tvmaze(
                    args.query or "",
                    out,
                    show_id=args.id,
                    slug=args.slug,
                    api_base=api_base,
                    dry_run=args.dry_run,
                    progress=(lambda message: progress.update(task, description=message))
                    if progress and task is not None
                    else None,
                )
            )
    except InvalidPack as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return _fail(str(exc), 1)
    except ImportFailure as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return _fail("interrupted; nothing was written", 130)
    show = f"TVmaze show {result.show_id} ({result.show_name})"
    if not result.changes:
        print(f"{result.path} is up to date with {show}; nothing changed.")
    elif args.dry_run:
        print(f"Dry run: importing {show} into {result.path} would make {len(result.changes)} change(s):")
        for line in result.changes + [f"note: {n}" for n in result.notes]:
            print(f"  - {line}")
        print(result.diff, end="")
        print("(dry run: nothing was written)")
    else:
        if result.created:
            print(f"Created {result.path} from {show}:")
        else:
            print(f"Updated {result.path} from {show}, {len(result.changes)} change(s):")
        for line in result.changes + [f"note: {n}" for n in result.notes]:
            print(f"  - {line}")
        print(f"Data from TVmaze ({result.credit_url}), CC BY-SA 4.0; the bot loads the pack on its next start.")
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    import json
    from datetime import UTC, datetime, timedelta

    from bot.status import read_status, render
    from bot.storage.database import StorageError

    if settings.database_url is None and not settings.database_path.is_file():
        return _fail(f"there is no database at {settings.database_path} (set DATABASE_URL or DATABASE_PATH)")
    try:
        status = asyncio.run(
            read_status(settings.database, datetime.now(UTC), timedelta(seconds=settings.job_lease_seconds))
        )
    except StorageError as exc:
        return _fail(str(exc))
    print(json.dumps(status.as_json()) if args.json else render(status))
    return 0


def cmd_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    from bot.sandbox.cli import run_sandbox_cli

    return run_sandbox_cli(args, settings)


# -- parser ----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dramawatch",
        description="Dramawatch: a Discord bot for drama watch communities.",
        epilog="Settings come from the environment or a .env file; see .env.example.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="connect to Discord and serve (default)",
        description="Connect to Discord with DISCORD_TOKEN and serve until stopped (Ctrl+C).",
    )
    run.set_defaults(func=cmd_run)

    sandbox = sub.add_parser(
        "sandbox",
        help="try the bot on a local Discord-compatible sandbox (no token, no network)",
        description="Start a loopback Discord (guild 'Drama Club') and the real bot connected to it. "
        "Without -c, opens a prompt: type commands as in Discord (/help) and meta lines (:help).",
    )
    sandbox.add_argument(
        "--db",
        metavar="PATH|URL",
        help="the bot's database: a SQLite file or a postgresql:// URL (default: a temporary file)",
    )
    sandbox.add_argument("--now", metavar="ISO-TIME", help="start the sandbox clock here, e.g. 2026-11-27T00:00:00Z")
    sandbox.add_argument(
        "--guilds", type=int, default=1, metavar="N", help="how many servers the sandbox has (each like the first)"
    )
    sandbox.add_argument(
        "--shards", type=int, metavar="N", help="run the bot sharded, N shards (the sandbox's gateway asks for N)"
    )
    sandbox.add_argument("--json", action="store_true", help="print one JSON object per line run")
    sandbox.add_argument(
        "-c",
        dest="lines",
        action="append",
        metavar="LINE",
        default=[],
        help="run LINE (repeatable), then exit",
    )
    sandbox.set_defaults(func=cmd_sandbox)

    sync = sub.add_parser(
        "sync",
        help="register slash commands with Discord",
        description="Register the application commands. Globally by default; with --guild (or --dev and "
        "DEV_GUILD_ID) in one server, where they appear at once.",
    )
    group = sync.add_mutually_exclusive_group()
    group.add_argument("--guild", type=int, metavar="ID", help="sync to this server only")
    group.add_argument("--dev", action="store_true", help="sync to DEV_GUILD_ID only")
    sync.set_defaults(func=cmd_sync)

    migrate = sub.add_parser(
        "migrate",
        help="create or upgrade the database",
        description="Apply the database migrations; running it again changes nothing. With --to, copy a SQLite "
        "database into PostgreSQL instead.",
    )
    migrate.add_argument(
        "--db",
        metavar="PATH|URL",
        help="database file or postgresql:// URL (default: DATABASE_URL, else DATABASE_PATH)",
    )
    migrate.add_argument(
        "--to",
        metavar="URL",
        help="copy the SQLite database (--db, else DATABASE_PATH) into this empty PostgreSQL database, "
        "checking every table's row count",
    )
    migrate.set_defaults(func=cmd_migrate)

    status = sub.add_parser(
        "status",
        help="show the bot processes, their shards and heartbeats, and the job queue",
        description="Read from the database (DATABASE_URL or DATABASE_PATH): each process's shards, gateway "
        "latency, last heartbeat and running jobs, and how many jobs are due. A process is stale when its "
        "heartbeat is older than JOB_LEASE_SECONDS.",
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(func=cmd_status)

    backup = sub.add_parser(
        "backup",
        help="copy the database (safe while the bot runs)",
        description="Make an online copy of the database with SQLite's backup API.",
    )
    backup.add_argument("path", metavar="PATH", help="where to write the copy")
    backup.add_argument("--db", metavar="PATH", help="database file (default: DATABASE_PATH)")
    backup.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    backup.set_defaults(func=cmd_backup)
    catalog = sub.add_parser(
        "catalog",
        help="check and list the drama packs",
        description="Work with the drama packs (data/packs/*.toml, or CATALOG_PATH).",
    )
    catalog_sub = catalog.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    validate = catalog_sub.add_parser(
        "validate",
        help="check every pack; list every problem",
        description="Validate packs; prints `file: field: what is wrong` lines and exits 1 when there is any problem.",
    )
    validate.add_argument("path", nargs="?", metavar="PATH", help="a pack file or folder (default: CATALOG_PATH)")
    validate.add_argument(
        "--strict",
        action="store_true",
        help="also refuse what a shipped pack must not have: aired episodes without a synopsis, dated "
        "episodes without a source, placeholder markers (see docs/data-packs.md)",
    )
    validate.set_defaults(func=cmd_catalog_validate)
    listing = catalog_sub.add_parser("list", help="show the dramas that load", description="Show the loaded dramas.")
    listing.add_argument("path", nargs="?", metavar="PATH", help="a pack file or folder (default: CATALOG_PATH)")
    listing.set_defaults(func=cmd_catalog_list)
    importer = catalog_sub.add_parser(
        "import",
        help="build or update a pack from an online catalog",
        description="Build or update a drama pack from an online catalog.",
    )
    importer_sub = importer.add_subparsers(dest="import_source", metavar="SOURCE", required=True)
    tvmaze = importer_sub.add_parser(
        "tvmaze",
        help="import a show from TVmaze (data CC BY-SA 4.0)",
        description="Find QUERY on TVmaze and write its episodes, air times, cast and crew to a pack "
        "(OUT/SLUG.toml). Re-importing updates dates, new episodes and cast, keeps hand-written text, "
        "and lists every change. TVmaze's data is CC BY-SA 4.0 and credited in the pack.",
    )
    tvmaze.add_argument(
        "query", metavar="QUERY", nargs="?", help="the show's title, as you would search for it on TVmaze"
    )
    tvmaze.add_argument(
        "--id", type=int, metavar="ID", help="the TVmaze show id (when the title matches several shows)"
    )
    tvmaze.add_argument("--slug", help="the drama's slug (default: from its title, or the pack already holding it)")
    tvmaze.add_argument("--out", metavar="DIR", help="the packs folder (default: CATALOG_PATH)")
    tvmaze.add_argument(
        "--api-base", metavar="URL", help="TVmaze's API (default: TVMAZE_API_BASE, else https://api.tvmaze.com)"
    )
    tvmaze.add_argument("--dry-run", action="store_true", help="show the changes and the diff; write nothing")
    tvmaze.set_defaults(func=cmd_catalog_import_tvmaze)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["run", *(argv or [])])
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _fail(str(exc))
    code: int = args.func(args, settings)
    return code


if __name__ == "__main__":
    sys.exit(main())
