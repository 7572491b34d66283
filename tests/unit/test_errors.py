"""bot.errors: what each error tells the user, and the central handler's ephemeral replies."""

from __future__ import annotations

import logging
import re
from types import SimpleNamespace
from typing import Any

import discord
import pytest
import yarl
from discord import app_commands

from bot.errors import (
    BotMissingPermission,
    GuildOnly,
    InvalidInput,
    NotFound,
    NotModerator,
    UserError,
    describe,
    handle_interaction_error,
    new_error_id,
    permission_for_forbidden,
    unwrap,
)

GUILD_ID = 111111111111111111
CHANNEL_ID = 333333333333333333
USER_ID = 444444444444444444
ERROR_ID = re.compile(r"^[0-9a-f]{8}$")


# -- fakes ---------------------------------------------------------------------------------------------
def http_response(method: str, path: str, status: int = 403, reason: str = "Forbidden") -> SimpleNamespace:
    """What discord.HTTPException reads from aiohttp's ClientResponse: status, reason, method, url."""
    return SimpleNamespace(
        status=status, reason=reason, method=method, url=yarl.URL(f"https://discord.com/api/v10{path}")
    )


def forbidden(method: str, path: str, code: int = 50013) -> discord.Forbidden:
    return discord.Forbidden(http_response(method, path), {"code": code, "message": "Missing Permissions"})


def http_error() -> discord.HTTPException:
    return discord.HTTPException(http_response("POST", "/interactions/1/abc/callback", 500, "Server Error"), "boom")


def invoke_error(original: Exception) -> app_commands.CommandInvokeError:
    """A CommandInvokeError as discord.py raises it (`raise CommandInvokeError(...) from e`)."""
    command = SimpleNamespace(name="recap")
    try:
        try:
            raise original
        except Exception as exc:
            raise app_commands.CommandInvokeError(command, exc) from exc  # type: ignore[arg-type]
    except app_commands.CommandInvokeError as wrapped:
        return wrapped


class FakeResponse:
    def __init__(self, done: bool, fail: Exception | None = None) -> None:
        self._done = done
        self._fail = fail
        self.sent: list[tuple[str, bool]] = []
        self.autocompleted: list[list[Any]] = []

    def is_done(self) -> bool:
        return self._done

    async def send_message(self, content: str, *, ephemeral: bool = False) -> None:
        if self._fail is not None:
            raise self._fail
        self.sent.append((content, ephemeral))
        self._done = True

    async def autocomplete(self, choices: list[Any]) -> None:
        self.autocompleted.append(choices)
        self._done = True


class FakeFollowup:
    def __init__(self, fail: Exception | None = None) -> None:
        self._fail = fail
        self.sent: list[tuple[str, bool]] = []

    async def send(self, content: str, *, ephemeral: bool = False) -> None:
        if self._fail is not None:
            raise self._fail
        self.sent.append((content, ephemeral))


def fake_interaction(
    *,
    done: bool = False,
    kind: discord.InteractionType = discord.InteractionType.application_command,
    command: str | None = "settings timezone",
    fail: Exception | None = None,
) -> Any:
    return SimpleNamespace(
        id=555,
        type=kind,
        response=FakeResponse(done, fail),
        followup=FakeFollowup(fail),
        command=SimpleNamespace(qualified_name=command) if command else None,
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        user=SimpleNamespace(id=USER_ID),
    )


def replies(interaction: Any) -> list[tuple[str, bool]]:
    return interaction.response.sent + interaction.followup.sent


# -- describe ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "error",
    [
        UserError("Pick a channel I can post in."),
        InvalidInput("`episode`: must be between 1 and 16."),
        NotFound("No drama called `queen-of-tear`. Did you mean `queen-of-tears`?"),
    ],
)
def test_user_errors_are_shown_as_is(error: UserError) -> None:
    assert describe(error) == (error.message, False)


def test_not_moderator_and_guild_only_explain_themselves() -> None:
    message, unexpected = describe(NotModerator())
    assert not unexpected
    assert "Manage Server" in message and "/settings modrole" in message
    message, unexpected = describe(GuildOnly())
    assert not unexpected
    assert "in a server" in message
    # They are also the app_commands errors discord.py's checks expect.
    assert isinstance(NotModerator(), app_commands.CheckFailure)
    assert isinstance(GuildOnly(), app_commands.NoPrivateMessage)


def test_command_invoke_error_wrapping_a_user_error_is_unwrapped() -> None:
    inner = InvalidInput("`episode`: must be between 1 and 16.")
    wrapped = invoke_error(inner)
    assert unwrap(wrapped) is inner
    assert describe(wrapped) == (inner.message, False)


def test_transformer_error_caused_by_a_user_error_is_unwrapped() -> None:
    inner = InvalidInput("`when`: use a time like 20:00.")
    transformer = SimpleNamespace(_error_display_name="time")
    try:
        try:
            raise inner
        except InvalidInput as exc:
            raise app_commands.TransformerError("25:99", discord.AppCommandOptionType.string, transformer) from exc  # type: ignore[arg-type]
    except app_commands.TransformerError as wrapped:
        assert describe(wrapped) == (inner.message, False)


def test_plain_transformer_error_and_signature_mismatch_say_the_commands_may_be_out_of_date() -> None:
    transformer = SimpleNamespace(_error_display_name="time")
    error = app_commands.TransformerError("x", discord.AppCommandOptionType.string, transformer)  # type: ignore[arg-type]
    message, unexpected = describe(error)
    assert not unexpected and "out of date" in message
    mismatch = app_commands.CommandSignatureMismatch(SimpleNamespace(name="recap"))  # type: ignore[arg-type]
    message, unexpected = describe(mismatch)
    assert not unexpected and "out of date" in message


@pytest.mark.parametrize(
    ("method", "path", "permission", "where"),
    [
        ("POST", f"/channels/{123}/threads", "Create Public Threads", "<#123>"),
        ("POST", "/channels/123/messages/456/threads", "Create Public Threads", "<#123>"),
        ("PUT", "/channels/77/pins/456", "Pin Messages", "<#77>"),
        ("PUT", "/channels/77/messages/pins/456", "Pin Messages", "<#77>"),
        ("PUT", "/channels/77/messages/456/reactions/%F0%9F%91%8D/@me", "Add Reactions", "<#77>"),
        ("POST", "/channels/77/messages", "Send Messages", "<#77>"),
        ("PATCH", "/channels/77/messages/456", "Manage Messages", "<#77>"),
        ("PATCH", "/channels/77", "Manage Threads", "<#77>"),
        ("POST", f"/guilds/{GUILD_ID}/scheduled-events", "Create Events", "in this server"),
        ("DELETE", f"/guilds/{GUILD_ID}/scheduled-events/9", "Create Events", "in this server"),
    ],
)
def test_forbidden_names_the_permission_and_channel(method: str, path: str, permission: str, where: str) -> None:
    message, unexpected = describe(forbidden(method, path))
    assert not unexpected
    assert f"**{permission}**" in message
    assert where in message


def test_forbidden_inside_a_command_invoke_error() -> None:
    message, unexpected = describe(invoke_error(forbidden("POST", "/channels/123/threads")))
    assert not unexpected
    assert "Create Public Threads" in message and "<#123>" in message


def test_missing_access_means_the_bot_cannot_see_the_channel() -> None:
    result = permission_for_forbidden(forbidden("POST", "/channels/987/messages", code=50001))
    assert isinstance(result, BotMissingPermission)
    assert (result.permission, result.channel_id) == ("View Channel", 987)


def test_forbidden_on_an_unknown_route_still_gets_a_clear_message() -> None:
    result = permission_for_forbidden(forbidden("GET", "/users/@me/guilds"))
    assert result.channel_id is None
    assert "in this server" in result.message
    assert not describe(forbidden("GET", "/users/@me/guilds"))[1]


def test_discord_permission_errors() -> None:
    message, unexpected = describe(app_commands.BotMissingPermissions(["manage_threads", "send_messages"]))
    assert not unexpected
    assert "**Manage Threads, Send Messages**" in message
    message, unexpected = describe(app_commands.MissingPermissions(["manage_guild"]))
    assert not unexpected
    assert message == "You need the **Manage Guild** permission for this command."
    assert describe(app_commands.NoPrivateMessage()) == (GuildOnly().message, False)
    cooldown = app_commands.CommandOnCooldown(app_commands.Cooldown(1, 10.0), 3.2)
    assert describe(cooldown) == ("Slow down: try again in 3 s.", False)
    message, unexpected = describe(app_commands.CheckFailure())
    assert not unexpected and "can't use this command" in message


@pytest.mark.parametrize("error", [RuntimeError("db is on fire"), KeyError("x"), invoke_error(ValueError("bad"))])
def test_anything_else_is_unexpected(error: BaseException) -> None:
    assert describe(error) == ("", True)


def test_error_ids_are_eight_hex_characters() -> None:
    ids = {new_error_id() for _ in range(20)}
    assert all(ERROR_ID.match(i) for i in ids)
    assert len(ids) > 1


# -- handle_interaction_error ---------------------------------------------------------------------------
async def test_user_error_on_an_unanswered_interaction_is_an_ephemeral_response(
    caplog: pytest.LogCaptureFixture,
) -> None:
    interaction = fake_interaction(done=False)
    with caplog.at_level(logging.DEBUG, logger="bot.errors"):
        result = await handle_interaction_error(interaction, invoke_error(InvalidInput("`days`: 1 to 30.")))
    assert result is None
    assert interaction.response.sent == [("`days`: 1 to 30.", True)]
    assert interaction.followup.sent == []
    assert caplog.records == []  # the user's own mistake is not logged as an error


async def test_user_error_on_an_answered_interaction_is_an_ephemeral_followup() -> None:
    interaction = fake_interaction(done=True)
    result = await handle_interaction_error(interaction, NotModerator())
    assert result is None
    assert interaction.response.sent == []
    assert interaction.followup.sent == [(NotModerator().message, True)]


@pytest.mark.parametrize("done", [False, True])
async def test_unexpected_error_gets_an_id_and_is_logged(done: bool, caplog: pytest.LogCaptureFixture) -> None:
    interaction = fake_interaction(done=done)
    boom = RuntimeError("internal detail: /home/bot/secret.db")
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        error_id = await handle_interaction_error(interaction, invoke_error(boom))

    assert error_id is not None and ERROR_ID.match(error_id)
    sent = replies(interaction)
    assert len(sent) == 1
    content, ephemeral = sent[0]
    assert ephemeral is True
    assert f"`{error_id}`" in content
    assert "internal detail" not in content and "Traceback" not in content
    assert (interaction.followup.sent if done else interaction.response.sent) == sent

    [record] = [r for r in caplog.records if r.name == "bot.errors"]
    assert record.levelno == logging.ERROR
    logged = record.getMessage()
    assert error_id in logged
    assert "settings timezone" in logged
    assert str(GUILD_ID) in logged
    assert str(USER_ID) in logged
    assert record.exc_info is not None and record.exc_info[1] is boom  # the real error, unwrapped


async def test_where_names_the_component_and_a_missing_command_is_an_interaction(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        await handle_interaction_error(fake_interaction(command=None), RuntimeError("x"), where="rsvp button")
        await handle_interaction_error(fake_interaction(command=None), RuntimeError("y"))
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.errors"]
    assert " in rsvp button " in messages[0]
    assert " in interaction " in messages[1]


async def test_autocomplete_errors_answer_with_no_choices() -> None:
    interaction = fake_interaction(kind=discord.InteractionType.autocomplete)
    error_id = await handle_interaction_error(interaction, RuntimeError("index not loaded"))
    assert error_id is not None
    assert interaction.response.autocompleted == [[]]
    assert replies(interaction) == []


@pytest.mark.parametrize("done", [False, True])
async def test_a_failing_reply_does_not_propagate(done: bool, caplog: pytest.LogCaptureFixture) -> None:
    interaction = fake_interaction(done=done, fail=http_error())
    with caplog.at_level(logging.WARNING, logger="bot.errors"):
        result = await handle_interaction_error(interaction, UserError("nope"))
    assert result is None
    assert replies(interaction) == []
    assert "could not send an error reply (interaction 555)" in caplog.text
