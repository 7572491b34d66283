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
    ],
    "mods": [("view_channel", "View Channel"), ("send_messages", "Send Messages")],
}

# The permissions integer for the invite link (README): everything above plus Manage Events
# (watch party events), Read Message History (finding its own starter messages again) and Manage
# Threads (pinning the index post in a forum). Manage Channels is optional: only to create forum tags.
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
    manage_events=True,
)


def missing_for(kind: str, permissions: discord.Permissions) -> list[str]:
    """Labels of the permissions a channel of this kind needs that `permissions` lacks."""
    if permissions.administrator:
        return []
    return [label for attr, label in NEEDED_IN_CHANNEL[kind] if not getattr(permissions, attr, False)]
