"""What the bot needs where, named the way Discord's settings name it."""

from __future__ import annotations

import discord

# What each configured channel is used for, as (Permissions attribute, label in Discord's UI).
NEEDED_IN_CHANNEL: dict[str, list[tuple[str, str]]] = {
    "recaps": [
        ("view_channel", "View Channel"),
        ("send_messages", "Send Messages"),
        ("embed_links", "Embed Links"),
    ],
    "discussions": [
        ("view_channel", "View Channel"),
        ("send_messages", "Send Messages"),
        ("create_public_threads", "Create Public Threads"),
        ("send_messages_in_threads", "Send Messages in Threads"),
        ("embed_links", "Embed Links"),
        ("pin_messages", "Pin Messages"),
    ],
    "announcements": [
        ("view_channel", "View Channel"),
        ("send_messages", "Send Messages"),
        ("embed_links", "Embed Links"),
        # Watch parties announced here also get a Discord event. Since 23 Feb 2026 a bot needs Create
        # Events for that; Manage Events alone no longer lets it (discord-api-docs change-log,
        # "Permission Changes Going into Effect February 2026").
        ("create_events", "Create Events"),
    ],
    "mods": [("view_channel", "View Channel"), ("send_messages", "Send Messages")],
}

# The permissions integer for the invite link (README): everything above — Create Events (1 << 44)
# for watch party events (the bot edits and deletes only events it created, which Create Events
# covers, so Manage Events is not asked for) — plus Read Message History (finding its own messages
# again: starters, and posts a crash left unrecorded) and Manage Threads (pinning the index post in a
# forum, unarchiving old episode threads to update their links). Manage Channels is optional: only
# to create forum tags.
INVITE_PERMISSIONS = discord.Permissions(
    manage_threads=True,
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    pin_messages=True,
    create_events=True,
)
INVITE_INTEGER = INVITE_PERMISSIONS.value  # 2269718417361920, the README's `permissions=`


def missing_for(kind: str, permissions: discord.Permissions) -> list[str]:
    """Labels of the permissions a channel of this kind needs that `permissions` lacks."""
    if permissions.administrator:
        return []
    return [label for attr, label in NEEDED_IN_CHANNEL[kind] if not getattr(permissions, attr, False)]
