"""The sandbox as strict as Discord: each rule Discord documents that the OpenAPI schema does not
carry, checked by sending the violating request straight to the loopback Discord and reading the
answer Discord would give (status, JSON error code). No bot runs here: the requests are made as the
bot (the sandbox's world gives them the bot's permissions), with a plain aiohttp client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import discord
import pytest

from bot.permissions import INVITE_PERMISSIONS
from bot.sandbox.server import RateLimits, SandboxServer
from bot.sandbox.world import FORUM, REQUIRE_TAG_FLAG, InteractionRecord, World
from bot.scheduling import ManualClock

NOW = datetime(2026, 11, 27, tzinfo=UTC)
OLD_INVITE = discord.Permissions(2252134821252096)  # the README's integer before Create Events


class Raw:
    """The bot's REST calls, by hand: `await raw("POST", "/channels/1/messages", {...})`."""

    def __init__(self, server: SandboxServer, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.world = server.world
        self.session = session

    async def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any, Any]:
        async with self.session.request(
            method, self.server.api_base + path, json=body, headers={"Authorization": "Bot sandbox"}
        ) as response:
            data = await response.json() if response.content_type == "application/json" else None
            return response.status, data, response.headers

    def channel(self, name: str) -> int:
        found = self.world.channel_by_name(name)
        assert found is not None, name
        return int(found["id"])

    def bot_role(self, permissions: discord.Permissions) -> None:
        """The bot gets exactly `permissions` (its role; @everyone, which it also has, gets none)."""
        self.world.roles[self.world.bot_role]["permissions"] = str(permissions.value)
        self.world.roles[self.world.everyone_role]["permissions"] = "0"

    def violations(self) -> list[str]:
        found = list(self.server.violations)
        self.server.violations.clear()
        return found

    async def thread(self, channel: str = "general", archive: int = 60) -> int:
        status, thread, _ = await self(
            "POST",
            f"/channels/{self.channel(channel)}/threads",
            {"name": "ep 1", "type": 11, "auto_archive_duration": archive},
        )
        assert status == 200, thread
        return int(thread["id"])

    async def message(self, channel_id: int, **body: Any) -> dict[str, Any]:
        status, message, _ = await self("POST", f"/channels/{channel_id}/messages", body or {"content": "hi"})
        assert status == 200, message
        return dict(message)


@pytest.fixture
async def raw() -> AsyncIterator[Raw]:
    server = SandboxServer(World(ManualClock(NOW)))
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Raw(server, session)
    finally:
        await server.stop()


def without(permissions: discord.Permissions, **names: bool) -> discord.Permissions:
    return discord.Permissions(permissions.value & ~discord.Permissions(**names).value)


def error_code(data: Any) -> int | None:
    return data.get("code") if isinstance(data, dict) else None


# -- permissions: computed from the world's roles and overwrites ---------------------------------------------------
async def test_scheduled_events_need_create_events_since_february_2026(raw: Raw) -> None:
    guild = raw.world.guild_id
    event = {
        "name": "Watch party",
        "privacy_level": 2,
        "entity_type": 3,
        "scheduled_start_time": "2026-11-28T11:00:00+00:00",
        "scheduled_end_time": "2026-11-28T13:00:00+00:00",
        "entity_metadata": {"location": "Online"},
    }
    status, created, _ = await raw("POST", f"/guilds/{guild}/scheduled-events", event)
    assert status == 200 and created["creator_id"] == raw.world.bot_user["id"]  # the invite's permissions
    raw.bot_role(OLD_INVITE)  # Manage Events, no Create Events
    status, data, _ = await raw("POST", f"/guilds/{guild}/scheduled-events", event)
    assert (status, error_code(data)) == (403, 50013)
    # Its own event: Manage Events still edits it (Create Events or Manage Events, for the creator).
    status, _, _ = await raw("PATCH", f"/guilds/{guild}/scheduled-events/{created['id']}", {"name": "Renamed"})
    assert status == 200
    raw.bot_role(INVITE_PERMISSIONS)
    voice = {**event, "entity_type": 2, "channel_id": str(raw.channel("Watch Party")), "entity_metadata": None}
    raw.world.set_overwrite(
        raw.channel("Watch Party"),
        raw.world.bot_role,
        allow=discord.Permissions.none(),
        deny=discord.Permissions(connect=True),
    )
    status, data, _ = await raw("POST", f"/guilds/{guild}/scheduled-events", voice)
    assert (status, error_code(data)) == (403, 50013)  # a voice event also needs Connect there


async def test_pinning_needs_pin_messages_not_manage_messages(raw: Raw) -> None:
    general = raw.channel("general")
    message = await raw.message(general)
    raw.bot_role(without(INVITE_PERMISSIONS | discord.Permissions(manage_messages=True), pin_messages=True))
    status, data, _ = await raw("PUT", f"/channels/{general}/messages/pins/{message['id']}")
    assert (status, error_code(data)) == (403, 50013)
    raw.bot_role(INVITE_PERMISSIONS)
    status, _, _ = await raw("PUT", f"/channels/{general}/messages/pins/{message['id']}")
    assert status == 204


async def test_threads_need_send_messages_in_threads_and_manage_threads(raw: Raw) -> None:
    thread = await raw.thread()
    raw.bot_role(without(INVITE_PERMISSIONS, send_messages_in_threads=True))
    status, data, _ = await raw("POST", f"/channels/{thread}/messages", {"content": "hi"})
    assert (status, error_code(data)) == (403, 50013)  # Send Messages is not inherited by threads
    assert (await raw("POST", f"/channels/{raw.channel('general')}/messages", {"content": "hi"}))[0] == 200
    raw.bot_role(without(INVITE_PERMISSIONS, manage_threads=True))
    status, data, _ = await raw("PATCH", f"/channels/{thread}", {"locked": True})
    assert (status, error_code(data)) == (403, 50013)
    status, _, _ = await raw("PATCH", f"/channels/{thread}", {"name": "renamed"})  # the creator may rename
    assert status == 200


async def test_forum_settings_need_manage_channels(raw: Raw) -> None:
    forum = raw.channel("episode-forum")
    raw.bot_role(INVITE_PERMISSIONS)  # the invite does not include Manage Channels (optional)
    status, data, _ = await raw("PATCH", f"/channels/{forum}", {"available_tags": [{"name": "Episode 1"}]})
    assert (status, error_code(data)) == (403, 50013)


async def test_overwrites_apply_in_discords_order(raw: Raw) -> None:
    recaps, general = raw.channel("recaps"), raw.channel("general")
    none = discord.Permissions.none()
    raw.world.set_overwrite(recaps, raw.world.guild_id, allow=none, deny=discord.Permissions(view_channel=True))
    status, data, _ = await raw("POST", f"/channels/{recaps}/messages", {"content": "hi"})
    assert (status, error_code(data)) == (403, 50001)  # can't see it: Missing Access
    raw.world.set_overwrite(recaps, raw.world.bot_role, allow=discord.Permissions(view_channel=True), deny=none)
    assert (await raw("POST", f"/channels/{recaps}/messages", {"content": "hi"}))[0] == 200  # a role allow wins
    bot = int(raw.world.bot_user["id"])
    raw.world.set_overwrite(general, raw.world.bot_role, allow=none, deny=discord.Permissions(send_messages=True))
    assert (await raw("POST", f"/channels/{general}/messages", {"content": "hi"}))[1]["code"] == 50013
    raw.world.set_overwrite(general, bot, allow=discord.Permissions(send_messages=True), deny=none)
    assert (await raw("POST", f"/channels/{general}/messages", {"content": "hi"}))[0] == 200  # the member's wins
    raw.world.set_overwrite(general, bot, allow=none, deny=discord.Permissions(read_message_history=True))
    status, history, _ = await raw("GET", f"/channels/{general}/messages?limit=10")
    assert (status, history) == (200, [])  # no Read Message History: an empty list, not an error


# -- threads: auto-archive and what an archived thread refuses -----------------------------------------------------
async def test_idle_threads_archive_and_refuse_edits_until_a_message_unarchives_them(raw: Raw) -> None:
    thread = await raw.thread(archive=60)
    first = await raw.message(thread)
    raw.world.clock.advance(timedelta(minutes=59))
    assert (await raw("PATCH", f"/channels/{thread}/messages/{first['id']}", {"content": "edited"}))[0] == 200
    raw.world.clock.advance(timedelta(minutes=61))  # an hour since the last activity (the edit is none)
    status, data, _ = await raw("PATCH", f"/channels/{thread}/messages/{first['id']}", {"content": "again"})
    assert (status, error_code(data)) == (400, 50083)
    assert raw.world.channels[thread]["thread_metadata"]["archived"]
    status, data, _ = await raw("PUT", f"/channels/{thread}/messages/{first['id']}/reactions/%E2%AD%90/@me")
    assert (status, error_code(data)) == (400, 50083)
    status, data, _ = await raw("PATCH", f"/channels/{thread}", {"name": "renamed"})
    assert (status, error_code(data)) == (400, 50083)  # only an edit that unarchives it
    await raw.message(thread)  # a new message unarchives an unlocked thread
    assert not raw.world.channels[thread]["thread_metadata"]["archived"]
    assert (await raw("PATCH", f"/channels/{thread}/messages/{first['id']}", {"content": "again"}))[0] == 200


async def test_a_locked_archived_thread_stays_shut_without_manage_threads(raw: Raw) -> None:
    thread = await raw.thread(archive=60)
    assert (await raw("PATCH", f"/channels/{thread}", {"locked": True}))[0] == 200
    raw.world.clock.advance(timedelta(hours=2))
    raw.bot_role(without(INVITE_PERMISSIONS, manage_threads=True))
    status, data, _ = await raw("POST", f"/channels/{thread}/messages", {"content": "hi"})
    assert (status, error_code(data)) == (400, 50083)
    status, data, _ = await raw("PATCH", f"/channels/{thread}", {"archived": False})
    assert (status, error_code(data)) == (403, 50013)
    raw.bot_role(INVITE_PERMISSIONS)
    assert (await raw("PATCH", f"/channels/{thread}", {"archived": False}))[0] == 200


async def test_a_pinned_forum_post_never_archives_and_a_forum_has_one(raw: Raw) -> None:
    forum = raw.channel("episode-forum")
    posts = []
    for n in (1, 2):
        body = {"name": f"post {n}", "auto_archive_duration": 60, "message": {"content": "x"}}
        status, post, _ = await raw("POST", f"/channels/{forum}/threads", body)
        assert status == 200
        posts.append(int(post["id"]))
    assert (await raw("PATCH", f"/channels/{posts[0]}", {"flags": 2}))[0] == 200
    status, data, _ = await raw("PATCH", f"/channels/{posts[1]}", {"flags": 2})
    assert (status, error_code(data)) == (400, 30047)
    raw.world.clock.advance(timedelta(days=8))
    await raw("GET", f"/channels/{forum}")  # any request lets the sandbox archive what is due
    assert not raw.world.channels[posts[0]]["thread_metadata"]["archived"]
    assert raw.world.channels[posts[1]]["thread_metadata"]["archived"]


# -- interactions: the 3 s deadline, 15-minute tokens, follow-ups after a defer ------------------------------------
def interaction(raw: Raw, *, seconds_ago: float = 0.0) -> InteractionRecord:
    world = raw.world
    interaction_id = world.snowflake()
    record = InteractionRecord(
        id=interaction_id,
        token=f"token{interaction_id}",
        type=2,
        user_id=world.alice,
        channel_id=raw.channel("general"),
        payload={},
        created=world.clock.now() - timedelta(seconds=seconds_ago),
    )
    world.interactions[interaction_id] = record
    return record


async def callback(raw: Raw, record: InteractionRecord, body: dict[str, Any]) -> tuple[int, Any, Any]:
    return await raw("POST", f"/interactions/{record.id}/{record.token}/callback?with_response=1", body)


async def test_an_initial_response_after_three_seconds_is_refused_and_a_violation(raw: Raw) -> None:
    late = interaction(raw, seconds_ago=3.5)
    status, data, _ = await callback(raw, late, {"type": 4, "data": {"content": "late"}})
    assert (status, error_code(data)) == (404, 10062)
    (violation,) = raw.violations()
    assert "3.5 s after the interaction" in violation
    status, data, _ = await raw("POST", f"/webhooks/{raw.world.app_id}/{late.token}?wait=1", {"content": "x"})
    assert (status, error_code(data)) == (404, 10015)  # its token was invalidated
    on_time = interaction(raw, seconds_ago=2.0)
    assert (await callback(raw, on_time, {"type": 4, "data": {"content": "ok"}}))[0] == 200


async def test_tokens_expire_after_fifteen_sandbox_minutes(raw: Raw) -> None:
    record = interaction(raw)
    assert (await callback(raw, record, {"type": 5}))[0] == 200
    raw.world.clock.advance(timedelta(minutes=14))
    followup = f"/webhooks/{raw.world.app_id}/{record.token}?wait=1"
    assert (await raw("POST", followup, {"content": "in time"}))[0] == 200
    raw.world.clock.advance(timedelta(minutes=2))
    status, data, _ = await raw("POST", followup, {"content": "too late"})
    assert (status, error_code(data)) == (401, 50027)


async def test_a_followup_after_a_public_defer_edits_it_and_ignores_ephemeral(raw: Raw) -> None:
    record = interaction(raw)
    assert (await callback(raw, record, {"type": 5}))[0] == 200  # public "thinking…"
    followup = f"/webhooks/{raw.world.app_id}/{record.token}?wait=1"
    status, first, _ = await raw("POST", followup, {"content": "an error", "flags": 64})
    assert status == 200 and first["id"] == record.original["id"]  # the thinking message, edited
    assert not first["flags"] & 64  # shown to everyone, whatever the follow-up asked
    status, second, _ = await raw("POST", followup, {"content": "private", "flags": 64})
    assert second["id"] != first["id"] and second["flags"] & 64  # later follow-ups are their own messages


# -- message bodies: limits the schema does not carry ----------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "where", "code"),
    [
        ({"content": "x" * 2001}, "content", "BASE_TYPE_MAX_LENGTH"),
        (
            {"embeds": [{"title": "t", "description": "d" * 3000}, {"description": "e" * 3000}]},
            "embeds",
            "MAX_EMBED_SIZE_EXCEEDED",
        ),
        (
            {
                "content": "six rows",
                "components": [
                    {"type": 1, "components": [{"type": 2, "style": 2, "label": "b", "custom_id": f"b{i}"}]}
                    for i in range(6)
                ],
            },
            "components",
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            {
                "content": "twins",
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {"type": 2, "style": 2, "label": "a", "custom_id": "dw:same"},
                            {"type": 2, "style": 2, "label": "b", "custom_id": "dw:same"},
                        ],
                    }
                ],
            },
            "components",
            "COMPONENT_CUSTOM_ID_DUPLICATED",
        ),
        ({"embeds": [{"title": "t", "url": "not a link"}]}, "embeds", "URL_TYPE_INVALID_URL"),
        ({"embeds": [{"title": "t", "timestamp": "yesterday"}]}, "embeds", "DATE_TIME_TYPE_PARSE"),
    ],
)
async def test_message_bodies_over_discords_limits_are_refused(
    raw: Raw, body: dict[str, Any], where: str, code: str
) -> None:
    status, data, _ = await raw("POST", f"/channels/{raw.channel('general')}/messages", body)
    assert (status, error_code(data)) == (400, 50035)
    assert where in data["errors"] and code in str(data["errors"][where])
    assert raw.violations()  # and the test that made it fails
    assert raw.world.messages[raw.channel("general")] == []


async def test_autocomplete_choices_and_forum_tags_over_the_documented_limits(raw: Raw) -> None:
    record = interaction(raw)
    record.type = 4
    choices = [{"name": "n" * 101, "value": "v"}, {"name": "ok", "value": "v" * 101}]
    status, data, _ = await callback(raw, record, {"type": 8, "data": {"choices": choices}})
    assert (status, error_code(data)) == (400, 50035)
    assert set(data["errors"]["data"]["choices"]) == {"0", "1"}
    forum = raw.channel("episode-forum")
    status, data, _ = await raw("PATCH", f"/channels/{forum}", {"available_tags": [{"name": "t" * 21}]})
    assert (status, error_code(data)) == (400, 50035)
    status, data, _ = await raw(
        "POST",
        f"/guilds/{raw.world.guild_id}/scheduled-events",
        {"name": "x", "privacy_level": 2, "entity_type": 3, "scheduled_start_time": "tomorrow at eight"},
    )
    assert (status, error_code(data)) == (400, 50035)
    refused = [v for v in raw.violations() if "Must be" in v or "Could not parse" in v]
    assert len(refused) == 4  # (the schema's own check adds its word on the same bodies)


# -- forums: tags required, pins ----------------------------------------------------------------------------
async def test_a_tag_required_forum_refuses_an_untagged_post(raw: Raw) -> None:
    forum_id = raw.channel("episode-forum")
    forum = raw.world.channels[forum_id]
    assert forum["type"] == FORUM
    forum["flags"] = REQUIRE_TAG_FLAG
    status, data, _ = await raw("PATCH", f"/channels/{forum_id}", {"available_tags": [{"name": "Episode 1"}]})
    assert status == 200
    tag = data["available_tags"][0]["id"]
    post = {"name": "Episode 1", "message": {"content": "hi"}}
    status, data, _ = await raw("POST", f"/channels/{forum_id}/threads", post)
    assert (status, error_code(data)) == (400, 40067)
    status, data, _ = await raw("POST", f"/channels/{forum_id}/threads", {**post, "applied_tags": ["123"]})
    assert (status, error_code(data)) == (400, 50035)  # not one of the forum's tags
    status, data, _ = await raw("POST", f"/channels/{forum_id}/threads", {**post, "applied_tags": [tag]})
    assert status == 200 and data["applied_tags"] == [tag]


async def test_a_channel_holds_at_most_250_pins(raw: Raw) -> None:
    general = raw.channel("general")
    for _ in range(250):
        message = raw.world.new_message(general, raw.world.bot_user, {"content": "old"})
        message["pinned"] = True
        raw.world.store_message(message)
    fresh = await raw.message(general)
    status, data, _ = await raw("PUT", f"/channels/{general}/messages/pins/{fresh['id']}")
    assert (status, error_code(data)) == (400, 30003)


# -- nonces: deduped for minutes, per author ------------------------------------------------------------------
async def test_a_nonce_is_deduped_for_two_minutes_per_author_and_never_fetched(raw: Raw) -> None:
    general, recaps = raw.channel("general"), raw.channel("recaps")
    body = {"content": "once", "nonce": "n-1", "enforce_nonce": True}
    first = await raw.message(general, **body)
    assert (await raw.message(recaps, **body))["id"] == first["id"]  # per author, not per channel
    raw.world.clock.advance(timedelta(minutes=3))
    again = await raw.message(general, **body)
    assert again["id"] != first["id"]  # the window has passed: a second message
    status, history, _ = await raw("GET", f"/channels/{general}/messages?limit=10")
    assert status == 200 and [m["id"] for m in history] == [again["id"], first["id"]]
    assert all("nonce" not in m for m in history)  # only the create answer and MESSAGE_CREATE carry it


# -- rate limits and invalid requests ------------------------------------------------------------------------
async def test_an_injected_429_looks_like_discords(raw: Raw) -> None:
    from bot.sandbox.server import FailRule

    raw.server.fail_rules.append(FailRule("POST", "/channels/*/messages", 429, 1, retry_after=0.25))
    status, data, headers = await raw("POST", f"/channels/{raw.channel('general')}/messages", {"content": "x"})
    assert status == 429 and data["retry_after"] == 0.25 and data["global"] is False
    assert headers["Via"] and headers["Retry-After"] == "1" and headers["X-RateLimit-Scope"] == "user"
    raw.server.fail_rules.append(FailRule("*", "*", 429, 1, retry_after=0.5, global_=True))
    status, data, headers = await raw("GET", f"/channels/{raw.channel('general')}")
    assert status == 429 and data["global"] is True and headers["X-RateLimit-Global"] == "true"


async def test_per_route_buckets_announce_themselves_and_refuse_the_next(raw: Raw) -> None:
    raw.server.rate_limits = RateLimits(per_route=2, window=30.0)
    general, recaps = raw.channel("general"), raw.channel("recaps")
    for remaining in ("1", "0"):
        status, _, headers = await raw("POST", f"/channels/{general}/messages", {"content": "x"})
        assert status == 200 and headers["X-RateLimit-Remaining"] == remaining and headers["X-RateLimit-Bucket"]
    status, data, headers = await raw("POST", f"/channels/{general}/messages", {"content": "x"})
    assert status == 429 and 0 < data["retry_after"] <= 30 and headers["X-RateLimit-Scope"] == "user"
    assert (await raw("POST", f"/channels/{recaps}/messages", {"content": "x"}))[0] == 200  # another channel
    assert raw.server.rate_limited == 1


async def test_invalid_requests_are_counted_and_warned_about_before_the_ban(raw: Raw) -> None:
    raw.server.invalid_limit = 10
    raw.bot_role(without(INVITE_PERMISSIONS, send_messages=True))
    general = raw.channel("general")
    for _ in range(7):
        assert (await raw("POST", f"/channels/{general}/messages", {"content": "x"}))[0] == 403
    assert raw.server.warnings == []
    await raw("POST", f"/channels/{general}/messages", {"content": "x"})
    (warning,) = raw.server.warnings
    assert "8 invalid requests" in warning and "10" in warning
    for _ in range(2):
        await raw("POST", f"/channels/{general}/messages", {"content": "x"})
    (violation,) = raw.violations()
    assert "Discord bans the IP" in violation
    raw.world.clock.advance(timedelta(minutes=11))
    await raw("POST", f"/channels/{general}/messages", {"content": "x"})
    assert raw.server.invalid_requests == 1  # the window moved on
