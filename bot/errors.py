"""User-facing errors and the one central handler that turns any error into a clear ephemeral reply.

Raise a :class:`UserError` (or a subclass) from a command, view or modal with a message that says
what went wrong and what to do; the handler shows it as is. Anything else is unexpected: it is
logged with the command, the server and a short error id, and the user gets an apology with that id.
No traceback ever reaches a user.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

import discord
from discord import app_commands

log = logging.getLogger("bot.errors")


class UserError(app_commands.AppCommandError):
    """Something the user can fix. `message` is shown to them, ephemerally, as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(UserError):
    """An option value that is not allowed. Name the input and say what is allowed."""


class NotFound(UserError):
    """The thing asked for does not exist (unknown drama, episode out of range …)."""


class NotModerator(UserError, app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__(
            "This command is for moderators: you need the **Manage Server** permission "
            "or the server's moderator role (set with `/settings modrole`)."
        )


class GuildOnly(UserError, app_commands.NoPrivateMessage):
    def __init__(self) -> None:
        UserError.__init__(self, "This command works in a server, not in direct messages.")


class BotMissingPermission(UserError):
    """The bot lacks a Discord permission; names it and the channel."""

    def __init__(self, permission: str, channel_id: int | None = None) -> None:
        self.permission = permission
        self.channel_id = channel_id
        where = f" in <#{channel_id}>" if channel_id else " in this server"
        super().__init__(
            f"I don't have the **{permission}** permission{where}. "
            "Ask a server admin to grant it to my role, then try again."
        )


# REST routes -> the permission a 403 on them most likely means (method, path regex, permission),
# for a channel of unknown kind; `_BY_KIND` refines it once the channel is known (a thread, a forum).
# Scheduled events need Create Events since 23 Feb 2026 (Manage Events alone no longer lets a bot
# create them; the bot edits and deletes only events it created, which Create Events also covers):
# discord-api-docs change-log, "Permission Changes Going into Effect February 2026", and
# resources/guild-scheduled-event.mdx, Guild Scheduled Event Permissions Requirements.
_PERMISSION_BY_ROUTE: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"/channels/(\d+)/messages/\d+/threads$"), "Create Public Threads"),
    ("POST", re.compile(r"/channels/(\d+)/threads$"), "Create Public Threads"),
    ("PUT", re.compile(r"/channels/(\d+)/(messages/)?pins/\d+$"), "Pin Messages"),
    ("DELETE", re.compile(r"/channels/(\d+)/(messages/)?pins/\d+$"), "Pin Messages"),
    ("PUT", re.compile(r"/channels/(\d+)/messages/\d+/reactions/"), "Add Reactions"),
    ("POST", re.compile(r"/channels/(\d+)/messages$"), "Send Messages"),
    ("GET", re.compile(r"/channels/(\d+)/messages"), "Read Message History"),
    ("PATCH", re.compile(r"/channels/(\d+)/messages/\d+$"), "Manage Messages"),
    ("DELETE", re.compile(r"/channels/(\d+)/messages/\d+$"), "Manage Messages"),
    ("PATCH", re.compile(r"/channels/(\d+)$"), "Manage Threads"),
    ("DELETE", re.compile(r"/channels/(\d+)$"), "Manage Threads"),
    ("POST", re.compile(r"/guilds/\d+/scheduled-events$"), "Create Events"),
    ("PATCH", re.compile(r"/guilds/\d+/scheduled-events/\d+$"), "Create Events"),
    ("DELETE", re.compile(r"/guilds/\d+/scheduled-events/\d+$"), "Create Events"),
]
# (permission for an unknown channel, the kind of channel it turned out to be) -> the right name.
# In a thread, Send Messages in Threads (Send Messages is not inherited: topics/permissions.mdx,
# Inherited Permissions (Threads)); a forum post needs Send Messages (Create Public Threads is
# ignored: resources/channel.mdx, Start Thread in Forum or Media Channel); a channel's own settings
# (forum tags) need Manage Channels (Modify Channel, JSON Params (Guild channel)).
_BY_KIND: dict[tuple[str, str], str] = {
    ("Send Messages", "thread"): "Send Messages in Threads",
    ("Create Public Threads", "forum"): "Send Messages",
    ("Manage Threads", "forum"): "Manage Channels",
    ("Manage Threads", "channel"): "Manage Channels",
}


def _channel_kind(guild: discord.Guild | None, channel_id: int | None) -> str | None:
    if guild is None or channel_id is None:
        return None
    channel = guild.get_channel_or_thread(channel_id)
    if isinstance(channel, discord.Thread):
        return "thread"
    if isinstance(channel, discord.ForumChannel):
        return "forum"
    return "channel" if channel is not None else None


def permission_for_forbidden(error: discord.Forbidden, guild: discord.Guild | None = None) -> BotMissingPermission:
    """Name the permission and channel behind a 403 from Discord, from the request that got it
    (and, given the guild, the kind of channel: a thread or a forum needs other permissions)."""
    response = getattr(error, "response", None)
    method = str(getattr(response, "method", "") or "").upper()
    path = getattr(getattr(response, "url", None), "path", "") or ""
    if error.code == 50001:  # Missing Access: the bot cannot see the channel at all
        match = re.search(r"/channels/(\d+)", path)
        return BotMissingPermission("View Channel", int(match.group(1)) if match else None)
    for route_method, pattern, permission in _PERMISSION_BY_ROUTE:
        match = pattern.search(path)
        if route_method == method and match:
            channel = int(match.group(1)) if match.groups() and match.group(1) else None
            kind = _channel_kind(guild, channel)
            return BotMissingPermission(_BY_KIND.get((permission, kind or ""), permission), channel)
    return BotMissingPermission("permission this needs", None)


def new_error_id() -> str:
    return secrets.token_hex(4)


def unwrap(error: BaseException) -> BaseException:
    """The error that actually happened, inside discord.py's invoke wrappers."""
    while isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError) and error.__cause__:
        error = error.__cause__
    return error


OUT_OF_DATE = (
    "This command is out of date: Discord still shows it, but this bot no longer has it in that form. "
    "Ask whoever hosts the bot to run `python -m bot sync`; the menu updates within a minute after that."
)
_stale_warned: set[str] = set()


def describe(error: BaseException, guild: discord.Guild | None = None) -> tuple[str, bool]:
    """(message for the user, whether it was unexpected). A pure function, easy to test."""
    original = unwrap(error)
    if isinstance(original, UserError):
        return original.message, False
    if isinstance(original, app_commands.CommandNotFound):
        return OUT_OF_DATE, False
    if isinstance(original, discord.Forbidden):
        return permission_for_forbidden(original, guild).message, False
    if isinstance(original, app_commands.BotMissingPermissions):
        perms = ", ".join(p.replace("_", " ").title() for p in original.missing_permissions)
        return BotMissingPermission(perms).message, False
    if isinstance(original, app_commands.MissingPermissions):
        perms = ", ".join(p.replace("_", " ").title() for p in original.missing_permissions)
        return f"You need the **{perms}** permission for this command.", False
    if isinstance(original, app_commands.NoPrivateMessage):
        return GuildOnly().message, False
    if isinstance(original, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {original.retry_after:.0f} s.", False
    if isinstance(original, app_commands.CheckFailure):
        return "You can't use this command here.", False
    if isinstance(original, app_commands.TransformerError | app_commands.CommandSignatureMismatch):
        return (
            "Discord sent this command in a form I don't know (the commands may be out of date); "
            "try again in a minute.",
            False,
        )
    return "", True


NOT_DONE = "⚠️ That didn't work; the reason was sent to you privately."


async def reply_ephemeral(interaction: discord.Interaction[Any], content: str) -> None:
    """Answer whether or not the interaction was already answered; never raises.

    After a public defer ("Dramawatch is thinking…" seen by everyone), Discord turns the first
    follow-up into that public message and ignores its ephemeral flag (discord-api-docs,
    interactions/receiving-and-responding.mdx, Create Followup Message). So the thinking message is
    first closed with a neutral public line, and the reason then goes out as a private follow-up.
    """
    try:
        if interaction.type is discord.InteractionType.autocomplete:
            if not interaction.response.is_done():
                await interaction.response.autocomplete([])
            return
        if not interaction.response.is_done():
            await interaction.response.send_message(content, ephemeral=True)
            return
        deferred = getattr(interaction.response, "type", None)
        if deferred is discord.InteractionResponseType.deferred_channel_message:
            original = await interaction.original_response()
            if original.flags.loading and not original.flags.ephemeral:
                await interaction.edit_original_response(content=NOT_DONE)
        await interaction.followup.send(content, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not send an error reply (interaction %s): %s", interaction.id, exc)


async def handle_interaction_error(
    interaction: discord.Interaction[Any], error: BaseException, *, where: str | None = None
) -> str | None:
    """The central handler for commands, autocomplete, views and modals.

    Returns the error id for an unexpected error (after logging it), else None.
    """
    message, unexpected = describe(error, getattr(interaction, "guild", None))
    original = unwrap(error)
    if isinstance(original, app_commands.CommandNotFound):
        name = " ".join([*original.parents, original.name])
        if name not in _stale_warned:  # once per command name: a stale menu is clicked again and again
            _stale_warned.add(name)
            log.warning("interaction for /%s, which this bot doesn't have: run `python -m bot sync`", name)
    error_id: str | None = None
    if unexpected:
        error_id = new_error_id()
        command = where or (interaction.command.qualified_name if interaction.command else "interaction")
        log.error(
            "error %s in %s (guild %s, channel %s, user %s)",
            error_id,
            command,
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id if interaction.user else None,
            exc_info=unwrap(error),
        )
        message = (
            f"Sorry, something went wrong on my side (error id `{error_id}`). "
            "It has been logged; the server's moderators can pass the id to whoever hosts the bot."
        )
    await reply_ephemeral(interaction, message)
    return error_id


def handle_listener_error(event: str, error: BaseException) -> str:
    """An event listener (not an interaction) raised: log it once with an error id; returns the id."""
    error_id = new_error_id()
    logging.getLogger("bot.listeners").error("error %s in listener %s", error_id, event, exc_info=error)
    return error_id
