"""`python -m bot sandbox`: the prompt, or `--json -c LINE …` for scripts and tests."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bot.catalog import CatalogError
from bot.settings import Settings


class SandboxUsageError(Exception):
    pass


def parse_now(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SandboxUsageError(f"--now: {text!r} is not an ISO time; use e.g. 2026-11-27T00:00:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def run_json(
    lines: list[str],
    db: str | None,
    now: datetime | None,
    catalog: Path | None = None,
    tvmaze: str | None = None,
    *,
    guilds: int = 1,
    shards: int | None = None,
) -> int:
    from bot.sandbox.harness import Sandbox

    failed = False
    sandbox = Sandbox(
        db_path=db, now=now, catalog_path=catalog, tvmaze_api_base=tvmaze, guilds=guilds, shard_count=shards
    )
    async with sandbox:
        if sandbox.violations:  # e.g. the command sync at start
            print(json.dumps({"input": "(start)", "result": None, "error": "; ".join(sandbox.violations)}))
            failed = True
        for line in lines:
            result = await sandbox.run_line(line)
            failed = failed or bool(result.get("error"))
            print(json.dumps(result, ensure_ascii=False), flush=True)
    return 1 if failed else 0


def tvmaze_base(settings: Settings) -> str | None:
    """TVMAZE_API_BASE when it is set; else None, and the sandbox serves its own invented shows."""
    return settings.tvmaze_api_base if settings.tvmaze_api_base != Settings.tvmaze_api_base else None


LOG_FILE = Path(tempfile.gettempdir()) / "dramawatch-sandbox.log"


def run_sandbox_cli(args: argparse.Namespace, settings: Settings) -> int:
    prompt = not args.json
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s" if prompt else "%(levelname)s %(name)s: %(message)s"
    if prompt:  # the prompt stays readable: the bot's log lines go to a file (`:logs` shows them)
        logging.basicConfig(level=logging.INFO, format=log_format, filename=LOG_FILE, filemode="w", encoding="utf-8")
    else:
        logging.basicConfig(level=logging.WARNING, format=log_format, stream=sys.stderr)
    logging.getLogger("discord").setLevel(logging.WARNING)
    # The sandbox's manual clock jumps hours at once: discord.py's "Can't keep up" then measures the
    # sandbox, not the bot.
    logging.getLogger("discord.gateway").addFilter(lambda record: "Can't keep up" not in record.getMessage())
    try:
        now = parse_now(args.now)
        if not 1 <= args.guilds <= 1000:
            raise SandboxUsageError(f"--guilds: give a number of servers from 1 to 1000, got {args.guilds}")
        if args.shards is not None and not 1 <= args.shards <= 64:
            raise SandboxUsageError(f"--shards: give a number of shards from 1 to 64, got {args.shards}")
    except SandboxUsageError as exc:
        print(f"dramawatch: error: {exc}", file=sys.stderr)
        return 2
    if args.lines and args.json:
        try:
            return asyncio.run(
                run_json(
                    args.lines,
                    args.db,
                    now,
                    settings.catalog_path,
                    tvmaze_base(settings),
                    guilds=args.guilds,
                    shards=args.shards,
                )
            )
        except CatalogError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            print(f"dramawatch: error: the drama packs have {len(exc.problems)} problem(s)", file=sys.stderr)
            return 2
    from bot.sandbox.prompt import run_prompt

    try:
        return asyncio.run(
            run_prompt(
                args.lines,
                args.db,
                now,
                as_json=args.json,
                catalog=settings.catalog_path,
                tvmaze=tvmaze_base(settings),
                log_path=LOG_FILE if prompt else None,
                guilds=args.guilds,
                shards=args.shards,
            )
        )
    except KeyboardInterrupt:
        return 0
