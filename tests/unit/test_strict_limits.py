"""Unit tests for the pieces behind the strict sandbox: bounded custom_ids and choice names, the
permission a 403 names by channel kind, and the documented rules' own checks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from unittest.mock import MagicMock

import discord
import pytest

from bot.errors import permission_for_forbidden
from bot.lookups import _episode_choice
from bot.permissions import INVITE_PERMISSIONS, missing_for
from bot.sandbox.spec import FORMATS, STRICTER, embed_size, stricter_problems
from bot.ui.ids import drama_key, drama_slug


def episode(number: int, title: str) -> SimpleNamespace:
    return SimpleNamespace(number=number, title=title, air_at=datetime(2026, 11, 27, tzinfo=UTC))


@pytest.mark.parametrize("title", ["", "Short", "x" * 100, "word " * 40, "한국어 제목 " * 20])
def test_an_episode_choice_name_fits_100_and_keeps_number_and_date(title: str) -> None:
    name = _episode_choice(episode(16, title), "2026-11-27")  # type: ignore[arg-type]
    assert 1 <= len(name) <= 100
    assert name.startswith("Episode 16") and name.endswith("· 2026-11-27")
    if len(title) > 80:
        assert "…" in name


def test_a_drama_key_is_short_for_any_slug_and_resolves_back() -> None:
    slugs = {"queen-of-tears": 1, "x" * 300: 2, "a-" * 60 + "z": 3}
    for slug in slugs:
        key = drama_key(slug)
        assert len(key) == 13 and slug not in key
        assert drama_slug(key, slugs) == slug
    assert drama_slug("queen-of-tears", slugs) == "queen-of-tears"  # a button from before the hash
    assert drama_slug(drama_key("gone"), slugs) is None


def test_the_invite_asks_for_create_events_and_pin_messages_not_manage_events() -> None:
    assert INVITE_PERMISSIONS.create_events and INVITE_PERMISSIONS.pin_messages
    assert not INVITE_PERMISSIONS.manage_events
    assert INVITE_PERMISSIONS.value == 2269718417361920
    old = discord.Permissions(2252134821252096)
    assert "Create Events" in missing_for("announcements", old)


def forbidden(method: str, path: str) -> discord.Forbidden:
    response = SimpleNamespace(status=403, reason="Forbidden", method=method, url=SimpleNamespace(path=path))
    return discord.Forbidden(response, {"code": 50013, "message": "Missing Permissions"})  # type: ignore[arg-type]


def guild_with(channel: object) -> discord.Guild:
    guild = MagicMock(spec=discord.Guild)
    guild.get_channel_or_thread.return_value = channel
    return guild  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("method", "path", "kind", "permission"),
    [
        ("POST", "/api/v10/channels/5/messages", discord.Thread, "Send Messages in Threads"),
        ("POST", "/api/v10/channels/5/messages", discord.TextChannel, "Send Messages"),
        ("PATCH", "/api/v10/channels/5", discord.ForumChannel, "Manage Channels"),
        ("PATCH", "/api/v10/channels/5", discord.Thread, "Manage Threads"),
        ("POST", "/api/v10/channels/5/threads", discord.ForumChannel, "Send Messages"),
        ("POST", "/api/v10/channels/5/threads", discord.TextChannel, "Create Public Threads"),
        ("POST", "/api/v10/guilds/1/scheduled-events", None, "Create Events"),
    ],
)
def test_a_403_names_the_permission_for_the_kind_of_channel(
    method: str, path: str, kind: type | None, permission: str
) -> None:
    channel = MagicMock(spec=kind) if kind else None
    named = permission_for_forbidden(forbidden(method, path), guild_with(channel))
    assert named.permission == permission


def test_every_stricter_rule_cites_the_developer_docs() -> None:
    assert len(STRICTER) >= 7
    for rule in STRICTER:
        assert rule.name and (".mdx" in rule.cites or "change-log" in rule.cites), rule


def test_embed_totals_count_what_discord_counts() -> None:
    embed = {
        "title": "t" * 10,
        "description": "d" * 20,
        "fields": [{"name": "n" * 3, "value": "v" * 4}],
        "footer": {"text": "f" * 5, "icon_url": "https://x.example/i.png"},
        "author": {"name": "a" * 6, "url": "https://x.example"},
        "url": "https://example.org/" + "u" * 500,  # links do not count
    }
    assert embed_size(embed) == 48
    assert stricter_problems("create_message", {"embeds": [embed]}) == []
    big = {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}
    (problem,) = stricter_problems("create_message", big)
    assert problem.code == "MAX_EMBED_SIZE_EXCEEDED"


@pytest.mark.parametrize(
    ("value", "fmt", "ok"),
    [
        ("2026-11-28T11:00:00+00:00", "date-time", True),
        ("2026-11-28T11:00:00.123Z", "date-time", True),
        ("2026-02-30T11:00:00Z", "date-time", False),
        ("2026-11-28 11:00", "date-time", False),
        (date(2026, 1, 1).isoformat(), "date-time", False),
        ("https://discord.com/events/1/2", "uri", True),
        ("attachment://calendar.ics", "uri", True),
        ("example.com/feed", "uri", False),
        ("https://", "uri", False),
        ("https://exa mple.com", "uri", False),
    ],
)
def test_formats(value: str, fmt: str, ok: bool) -> None:
    assert FORMATS.conforms(value, fmt) is ok
