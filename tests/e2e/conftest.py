"""End-to-end fixtures: the sandbox and the real bot, ready in well under a second.

Teardown fails the test on any error the bot reported (app-command errors, view/modal errors,
anything discord.py only logged) and on any REST request that breaks Discord's OpenAPI spec.
A test that provokes an error on purpose asserts on it and then clears `sandbox.errors`.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import Catalog, load_catalog_or_raise
from bot.client import discover_extensions
from bot.sandbox.harness import Sandbox
from bot.settings import DEFAULT_CATALOG_PATH
from tests.e2e.feedserver import FeedServer

PROBE = "tests.e2e.probe_cog"
DEFAULT_NOW = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


class Driver:
    """Small helpers over Sandbox.run_line for readable tests."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def line(self, text: str) -> dict[str, Any]:
        return await self.sandbox.run_line(text)

    async def ok(self, text: str) -> dict[str, Any]:
        result = await self.sandbox.run_line(text)
        assert result["error"] is None, f"{text!r} failed: {result['error']}"
        return result

    async def reply(self, text: str) -> dict[str, Any]:
        """The response of a command line that must succeed."""
        result = await self.ok(text)
        assert result["response"] is not None, f"{text!r} got no response"
        return result["response"]

    async def as_(self, who: str) -> None:
        await self.ok(f":as {who}")


@functools.cache
def shipped() -> Catalog:
    """The shipped packs as their files say, texts and all: what the bot's answers must show (the
    running bot holds its dramas without their synopses and with their characters' texts compressed,
    filling them back in when it shows them)."""
    return load_catalog_or_raise([DEFAULT_CATALOG_PATH])


def text_of(response: dict[str, Any]) -> str:
    """Everything a person would read in a response: content and embed text."""
    parts = [response.get("content") or ""]
    for embed in response.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for field in embed.get("fields") or []:
            parts += [field["name"], field["value"]]
        parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(parts)


@asynccontextmanager
async def checked_sandbox(
    tmp_path: Path, now: datetime = DEFAULT_NOW, *, probe: bool = True, **options: Any
) -> AsyncIterator[Sandbox]:
    """A started sandbox + bot (`options`: more of Sandbox's, e.g. shard_count); on exit, fails on
    any reported error or spec violation."""
    extensions = [*discover_extensions(), PROBE] if probe else discover_extensions()
    sb = Sandbox(db_path=options.pop("db_path", tmp_path / "bot.db"), now=now, extensions=extensions, **options)
    await sb.start()
    try:
        yield sb
    finally:
        errors, violations = list(sb.errors), list(sb.violations)
        await sb.close()
    assert not errors, f"the bot reported errors: {errors}"
    assert not violations, f"requests broke Discord's OpenAPI spec: {violations}"


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with checked_sandbox(tmp_path) as sb:
        yield sb


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    """A feed server on loopback (add items with `feeds.add`)."""
    server = await FeedServer().start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def drive(sandbox: Sandbox) -> Driver:
    return Driver(sandbox)
