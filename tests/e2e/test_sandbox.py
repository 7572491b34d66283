"""End-to-end: the real discord.py bot against the loopback sandbox, driven as a person would."""

from __future__ import annotations

import re

from bot.sandbox.harness import Sandbox
from tests.e2e.conftest import Driver, text_of


async def test_connects_identifies_and_syncs_commands(sandbox: Sandbox) -> None:
    assert sandbox.bot is not None and sandbox.bot.is_ready()
    assert sandbox.server.identifies == 1
    names = {c["name"] for c in sandbox.world.commands}
    assert {"help", "settings"} <= names
    settings = next(c for c in sandbox.world.commands if c["name"] == "settings")
    # Moderator commands are hidden from members by default (Manage Server).
    assert settings["default_member_permissions"] == str(1 << 5)
    assert {o["name"] for o in settings["options"]} == {
        "show",
        "channel",
        "modrole",
        "timezone",
        "threads",
        "reminders",
        "feeds",
        "hostrole",
        "check",
    }
    guild = sandbox.bot.get_guild(sandbox.world.guild_id)
    assert guild is not None and guild.name == "Drama Club"
    assert {c.name for c in guild.text_channels} >= {"general", "recaps", "discussions", "mods"}


async def test_help_lists_commands_and_hides_moderator_page_from_members(drive: Driver) -> None:
    response = await drive.reply("/help")
    assert response["type"] == 4 and response["ephemeral"]
    assert "/help" in text_of(response)
    assert "/settings" not in text_of(response)
    assert response["components"] == []  # no page buttons for members

    await drive.as_("mod")
    response = await drive.reply("/help")
    labels = [c["label"] for row in response["components"] for c in row["components"]]
    assert labels == ["Everyone", "Moderators"]


async def test_settings_refused_for_member_and_saved_for_mod(drive: Driver, sandbox: Sandbox) -> None:
    await drive.as_("member")
    refused = await drive.reply("/settings timezone name:Asia/Seoul")
    assert refused["ephemeral"]
    assert "Manage Server" in refused["content"] and "moderator" in refused["content"]
    settings = await sandbox.bot.server_settings.get(sandbox.world.guild_id)
    assert settings.timezone == "UTC"

    await drive.as_("mod")
    saved = await drive.reply("/settings timezone name:Asia/Seoul")
    assert saved["ephemeral"] and "Asia/Seoul" in saved["content"]
    shown = await drive.reply("/settings show")
    assert "`Asia/Seoul`" in text_of(shown)


async def test_mod_role_grants_moderator_commands(drive: Driver, sandbox: Sandbox) -> None:
    host_role = await sandbox.add_role("Watch Host", members=("member",))  # a role with no permissions
    await drive.as_("member")
    refused = await drive.reply("/settings show")
    assert "for moderators" in refused["content"]

    await drive.as_("admin")
    await drive.reply('/settings modrole role:"@Watch Host"')
    assert (await sandbox.bot.server_settings.get(sandbox.world.guild_id)).mod_role_id == host_role
    await drive.as_("member")
    allowed = await drive.reply("/settings show")
    assert f"<@&{host_role}>" in text_of(allowed)

    await drive.as_("admin")
    await drive.reply("/settings modrole")  # clears it
    await drive.as_("member")
    assert "for moderators" in (await drive.reply("/settings show"))["content"]


async def test_unknown_timezone_names_the_input_and_suggests(drive: Driver, sandbox: Sandbox) -> None:
    await drive.as_("mod")
    response = await drive.reply("/settings timezone name:Asia/Seol")
    assert response["ephemeral"]
    assert "`name`" in response["content"] and "Asia/Seoul" in response["content"]
    assert (await sandbox.bot.server_settings.get(sandbox.world.guild_id)).timezone == "UTC"


async def test_channel_setting_rejects_forum_for_recaps(drive: Driver, sandbox: Sandbox) -> None:
    await drive.as_("mod")
    response = await drive.reply("/settings channel kind:recaps channel:#episode-forum")
    assert "forum" in response["content"]
    forum = sandbox.world.channel_by_name("episode-forum")
    response = await drive.reply("/settings channel discussions #episode-forum")  # positional values
    assert "discussions" in response["content"]
    stored = await sandbox.bot.server_settings.get(sandbox.world.guild_id)
    assert stored.discussions_channel_id == int(forum["id"])
    assert stored.recaps_channel_id is None


async def test_autocomplete_offers_timezones(drive: Driver) -> None:
    await drive.as_("mod")
    result = await drive.ok(":type /settings timezone name:seoul")
    choices = result["result"]["choices"]
    assert choices[0] == {"name": "Asia/Seoul", "value": "Asia/Seoul"}
    assert len(choices) <= 25


async def test_persistent_button_works_after_restart(drive: Driver, sandbox: Sandbox) -> None:
    await drive.as_("mod")
    await drive.reply("/help")
    await drive.ok(":restart")
    assert sandbox.server.identifies == 2
    clicked = await drive.ok(":click Moderators")
    assert clicked["response"]["type"] == 7  # the help message was updated in place
    assert "/settings timezone" in text_of(clicked["response"])


async def test_modal_submit_round_trip_escapes_user_text(drive: Driver) -> None:
    opened = await drive.reply("/probe-modal")
    assert opened["type"] == 9 and opened["title"] == "Probe recap"
    submitted = await drive.ok(':submit Title="Hello @everyone **now**" Text="twelve chars"')
    content = submitted["response"]["content"]
    assert "12 characters" in content
    assert "@everyone" not in content and "**now**" not in content  # no ping, no markdown injection
    callback = submitted["requests"][0]["json"]
    assert callback["data"]["allowed_mentions"] == {"parse": []}


async def test_missing_permission_reaches_user_naming_permission_and_channel(drive: Driver, sandbox: Sandbox) -> None:
    await drive.ok(":fail POST /channels/*/threads 403 1")
    response = await drive.reply("/probe-thread")
    general = sandbox.world.channel_by_name("general")
    assert response["ephemeral"]
    assert "Create Public Threads" in response["content"] and f"<#{general['id']}>" in response["content"]
    # The fault was used up: the next try works and opens the thread.
    response = await drive.reply("/probe-thread")
    assert response["content"].startswith("Opened")
    assert [t["name"] for t in sandbox.world.threads()] == ["probe"]


async def test_forced_resume_loses_no_interaction(drive: Driver, sandbox: Sandbox) -> None:
    await drive.ok(":fail reconnect")
    response = await drive.reply("/help")  # sent while the client is reconnecting
    assert "/help" in text_of(response)
    assert sandbox.server.resumes >= 1
    await drive.ok(":fail drop")
    response = await drive.reply("/help")
    assert "/help" in text_of(response)
    assert sandbox.server.resumes >= 2
    assert sandbox.server.identifies == 1  # resumed, never re-identified


async def test_deferred_reply_and_followups(drive: Driver) -> None:
    result = await drive.ok("/probe-defer")
    assert result["response"]["type"] == 5
    assert result["response"]["content"] == "done after thinking"
    assert [f["content"] for f in result["followups"]] == ["a second, private note"]
    assert result["followups"][0]["ephemeral"]


async def test_unexpected_error_gets_apology_with_id_and_is_reported(drive: Driver, sandbox: Sandbox) -> None:
    result = await drive.line("/probe-crash")
    content = result["response"]["content"]
    match = re.search(r"error id `([0-9a-f]{8})`", content)
    assert match and result["response"]["ephemeral"]
    assert "Traceback" not in content and "probe crash" not in content
    assert result["error"] and match.group(1) in result["error"]
    assert len(sandbox.errors) == 1
    sandbox.errors.clear()


async def test_advance_runs_due_jobs_in_order_on_the_shared_clock(drive: Driver, sandbox: Sandbox) -> None:
    await drive.reply("/probe-remind minutes:90 n:2")
    await drive.reply("/probe-remind minutes:30 n:1")
    result = await drive.ok(":advance 1h")
    assert result["result"]["jobs_run"] == 1
    result = await drive.ok(":advance 1h")
    assert result["result"]["jobs_run"] == 1
    messages = (await drive.ok(":messages #general"))["result"]["messages"]
    assert [m["content"] for m in messages] == ["Reminder 1 (due 00:30)", "Reminder 2 (due 01:30)"]


async def test_bad_lines_are_refused_before_anything_is_sent(drive: Driver, sandbox: Sandbox) -> None:
    before = len(sandbox.server.requests)
    for line, expected in [
        ("/nope", "unknown command /nope"),
        ("/settings", "needs a subcommand"),
        ("/settings timezone", "needs name"),
        ('/settings timezone name:"Asia', "close every quote"),
        ("/settings channel kind:everything channel:#general", "choose one of"),
        (":advance soon", "not a duration"),
        (":as nobody", "no user"),
    ]:
        result = await drive.line(line)
        assert result["error"] and expected in result["error"], (line, result)
    assert len(sandbox.server.requests) == before


async def test_every_message_the_bot_sends_disables_mentions(drive: Driver, sandbox: Sandbox) -> None:
    await drive.reply("/help")
    await drive.as_("mod")
    await drive.reply("/settings show")
    await drive.reply("/probe-thread")
    bodies = [r.json for r in sandbox.server.requests if isinstance(r.json, dict)]
    payloads = [b.get("data", b) for b in bodies if "data" in b or "content" in b or "embeds" in b]
    assert payloads
    for payload in payloads:
        if "content" in payload or "embeds" in payload:
            assert payload.get("allowed_mentions") == {"parse": []}, payload


async def test_a_plain_line_is_a_chat_message_in_the_current_channel_or_thread(drive: Driver, sandbox: Sandbox) -> None:
    said = await drive.ok("hello everyone")
    assert said["result"]["said"] == {"channel": "general", "author": "alice", "content": "hello everyone"}
    general = sandbox.world.messages[int(sandbox.world.channel_by_name("general")["id"])]
    assert general[-1]["content"] == "hello everyone" and general[-1]["author"]["username"] == "alice"
    await drive.ok("/probe-thread")
    await drive.ok(":in thread probe")
    await drive.ok("so good")
    (thread,) = [t for t in sandbox.world.threads() if t["name"] == "probe"]
    assert [m["content"] for m in sandbox.world.messages[int(thread["id"])]][-1] == "so good"
    await drive.ok(":in #episode-forum")
    refused = await drive.line("in a forum?")
    assert refused["error"] and "takes no chat messages" in refused["error"]


async def test_a_choice_is_typed_by_the_name_discord_shows(drive: Driver, sandbox: Sandbox) -> None:
    await drive.as_("mod")
    week = await drive.reply('/settings threads archive:"1 week"')
    assert "1 week" in week["content"]
    assert (await sandbox.bot.server_settings.get(sandbox.world.guild_id)).thread_archive_minutes == 10080
    wrong = await drive.line('/settings threads archive:"2 weeks"')
    assert wrong["error"] and "choose one of 1 hour, 24 hours, 3 days, 1 week" in wrong["error"]
