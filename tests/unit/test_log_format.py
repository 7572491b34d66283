"""bot.settings.LogFormatter: discord.py's reconnect attempts are one line each; the token never shows."""

from __future__ import annotations

import logging
import sys

import aiohttp
import discord
import pytest

from bot.settings import LogFormatter, is_network_failure

TOKEN = "MTAx.fake.t0k3n-for-tests"


def record(name: str, error: BaseException, message: str = "Attempting a reconnect in %.2fs") -> logging.LogRecord:
    try:
        raise error
    except BaseException:
        exc_info = sys.exc_info()
    args = (3.21,) if "%" in message else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, args, exc_info)


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 1)"),
        TimeoutError(),
        aiohttp.ServerDisconnectedError(),
        discord.GatewayNotFound(),  # type: ignore[no-untyped-call]
    ],
)
def test_a_network_failure_discord_logs_is_one_warning_line(error: BaseException) -> None:
    assert is_network_failure(error)
    text = LogFormatter().format(record("discord.client", error))
    assert "\n" not in text and "Traceback" not in text
    assert " WARNING discord.client: Attempting a reconnect in 3.21s (after " in text
    assert f"(after {type(error).__name__}: " in text


def test_the_failure_is_named_even_without_a_message() -> None:
    text = LogFormatter().format(record("discord.client", TimeoutError()))
    assert text.endswith("(after TimeoutError: no details)")


def test_a_bug_keeps_its_traceback() -> None:
    text = LogFormatter().format(record("discord.client", KeyError("boom"), "Ignoring exception in on_ready"))
    assert " ERROR   discord.client: Ignoring exception in on_ready\nTraceback" in text
    assert "KeyError: 'boom'" in text


def test_a_network_failure_logged_by_the_bot_itself_keeps_its_traceback() -> None:
    text = LogFormatter().format(record("bot.feeds.service", ConnectionResetError(104, "reset"), "feed failed"))
    assert "Traceback" in text


def test_the_token_is_replaced_even_in_a_traceback() -> None:
    error = RuntimeError(f"bad header Authorization: Bot {TOKEN}")
    text = LogFormatter(TOKEN).format(record("bot.client", error, f"token was {TOKEN}"))
    assert TOKEN not in text
    assert "Bot [token]" in text and "token was [token]" in text
