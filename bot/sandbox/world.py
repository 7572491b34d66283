"""The sandbox's state: one guild with channels, roles, users, messages, threads and events.

Payloads are kept in Discord's own JSON shapes so the server can hand them out as is.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import discord

from bot.permissions import INVITE_PERMISSIONS
from bot.scheduling import Clock

DISCORD_EPOCH_MS = 1420070400000

# Channel types (Discord API): text, voice, category, announcement, forum, public thread.
TEXT, VOICE, FORUM, PUBLIC_THREAD = 0, 2, 15, 11
THREAD_TYPES = (10, 11, 12)

# Channel flags (resources/channel.mdx, Channel Flags).
PINNED_FLAG = 1 << 1  # a forum post pinned to the top of its forum
REQUIRE_TAG_FLAG = 1 << 4  # a forum that refuses posts without a tag

# Discord dedupes `enforce_nonce` "in the past few minutes", per author (resources/message.mdx,
# Create Message, enforce_nonce). The sandbox takes the short end: a repeat within 2 sandbox minutes.
NONCE_WINDOW = timedelta(minutes=2)

EVERYONE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    read_message_history=True,
    use_application_commands=True,
    connect=True,
    speak=True,
)
MODERATOR_PERMISSIONS = discord.Permissions(
    manage_guild=True, manage_threads=True, manage_events=True, manage_messages=True
)
# What the README's invite link grants, plus the optional Manage Channels (forum tags).
BOT_PERMISSIONS = INVITE_PERMISSIONS | discord.Permissions(manage_channels=True)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "+00:00")


@dataclass
class InteractionRecord:
    """One interaction the sandbox sent, and everything the bot answered to it."""

    id: int
    token: str
    type: int
    user_id: int
    channel_id: int
    payload: dict[str, Any]
    callback: dict[str, Any] | None = None  # the body of the interaction callback
    original: dict[str, Any] | None = None  # the original response message, as last edited
    followups: list[dict[str, Any]] = field(default_factory=list)
    message_id: int | None = None  # the message a component interaction came from
    sent_at: float = 0.0  # perf_counter when INTERACTION_CREATE was sent
    answered_at: float | None = None  # perf_counter when the callback arrived
    created: datetime | None = None  # sandbox time when INTERACTION_CREATE was sent
    invalidated: bool = False  # the 3 s deadline passed unanswered: the token no longer works


@dataclass
class GuildState:
    """One server of the world: its roles and members (channels carry their guild_id)."""

    id: int
    name: str
    everyone_role: int
    moderator_role: int
    bot_role: int
    owner_id: int
    members: dict[int, dict[str, Any]]


class World:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._counter = itertools.count(1)
        self.app_id = 1100000000000000001
        self.guild_id = 1100000000000000002
        self.bot_user = self._user(1100000000000000003, "Dramawatch", bot=True)
        self.users: dict[int, dict[str, Any]] = {}
        self.members: dict[int, dict[str, Any]] = {}
        self.roles: dict[int, dict[str, Any]] = {}
        self.channels: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, list[dict[str, Any]]] = {}
        self.events: dict[int, dict[str, Any]] = {}
        self.commands: list[dict[str, Any]] = []
        self.interactions: dict[int, InteractionRecord] = {}
        # (author id, nonce) -> (the message, when it was created); see NONCE_WINDOW
        self.nonces: dict[tuple[int, str], tuple[dict[str, Any], datetime]] = {}
        self.thread_activity: dict[int, datetime] = {}  # thread id -> last activity (auto-archive)
        self.aliases: dict[str, int] = {}
        self.files: dict[int, bytes] = {}  # attachment id -> content
        self.dms: dict[int, dict[str, Any]] = {}  # DM channel id -> channel (bot ↔ one user)
        self.dms_closed: set[int] = set()  # users who don't accept DMs from server members
        self.role_guild: dict[int, int] = {}  # role id -> its server (the default one unless noted)
        self._build_default()
        self.guilds: dict[int, GuildState] = {
            self.guild_id: GuildState(
                self.guild_id,
                "Drama Club",
                self.everyone_role,
                self.moderator_role,
                self.bot_role,
                self.owner_id,
                self.members,
            )
        }

    # -- ids and basic payloads ---------------------------------------------------------------
    def snowflake(self) -> int:
        ms = int(self.clock.now().timestamp() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._counter) & 0x3FFFFF)

    def new_interaction(
        self, *, user_id: int, channel_id: int, type_: int, data: dict[str, Any], message: dict[str, Any] | None = None
    ) -> InteractionRecord:
        """A new interaction by `user_id` in `channel_id`, recorded, with the INTERACTION_CREATE payload
        Discord would send (discord-api-docs, interactions/receiving-and-responding.mdx, Interaction
        Object): the member and channel carry the user's permissions there."""
        permissions = str(self.permissions(user_id, channel_id).value)
        channel = dict(self.channels[channel_id], permissions=permissions)
        guild = self.guild_of(channel_id)
        member = dict(guild.members[user_id], permissions=permissions)
        interaction_id = self.snowflake()
        token = f"aW50ZXJhY3Rpb246{interaction_id}:{secrets.token_hex(16)}"
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.app_id),
            "type": type_,
            "token": token,
            "version": 1,
            "data": data,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "channel_id": str(channel_id),
            "channel": channel,
            "member": member,
            "app_permissions": str(self.bot_permissions(channel_id).value),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 26214400,
        }
        if message is not None:
            payload["message"] = message
        record = InteractionRecord(
            id=interaction_id,
            token=token,
            type=type_,
            user_id=user_id,
            channel_id=channel_id,
            payload=payload,
            message_id=int(message["id"]) if message else None,
        )
        self.interactions[interaction_id] = record
        record.created = self.clock.now()
        return record

    @staticmethod
    def _user(user_id: int, name: str, bot: bool = False) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": str(user_id),
            "username": name.lower(),
            "global_name": name,
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
        }
        if bot:
            user["bot"] = True
        return user

    def add_role(self, name: str, permissions: discord.Permissions | None = None) -> dict[str, Any]:
        role_id = self.snowflake()
        self._add_role(role_id, name, permissions or discord.Permissions.none(), len(self.roles))
        return self.roles[role_id]

    def _add_role(
        self,
        role_id: int,
        name: str,
        permissions: discord.Permissions,
        position: int,
        *,
        guild: int | None = None,
        **extra: Any,
    ) -> int:
        self.role_guild[role_id] = guild or self.guild_id
        self.roles[role_id] = {
            "id": str(role_id),
            "name": name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "position": position,
            "permissions": str(permissions.value),
            "managed": False,
            "mentionable": False,
            "flags": 0,
            **extra,
        }
        return role_id

    def _add_member(self, user: dict[str, Any], roles: list[int], alias: str | None = None) -> int:
        user_id = int(user["id"])
        self.users[user_id] = user
        self.members[user_id] = self._member(user, roles)
        if alias:
            self.aliases[alias] = user_id
        self.aliases[user["username"]] = user_id
        return user_id

    @staticmethod
    def _member(user: dict[str, Any], roles: list[int]) -> dict[str, Any]:
        return {
            "user": user,
            "roles": [str(r) for r in roles],
            "joined_at": "2026-01-01T00:00:00.000000+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
        }

    def add_guild(self, name: str | None = None) -> int:
        """Another server, built like the default one (the same users: alice, mina the moderator, sora
        the owner; the same channels). Consecutive servers' ids fall on consecutive shards."""
        gid = self.guild_id + (len(self.guilds) << 22)
        everyone = self._add_role(gid, "@everyone", EVERYONE_PERMISSIONS, 0, guild=gid)
        moderator = self._add_role(gid + 10, "Moderator", MODERATOR_PERMISSIONS, 2, guild=gid)
        bot_role = self._add_role(
            gid + 11, "Dramawatch", BOT_PERMISSIONS, 1, guild=gid, managed=True, tags={"bot_id": self.bot_user["id"]}
        )
        members = {
            user_id: self._member(self.users[user_id], roles)
            for user_id, roles in (
                (self.alice, []),
                (self.mina, [moderator]),
                (self.sora, []),
                (int(self.bot_user["id"]), [bot_role]),
            )
        }
        self.guilds[gid] = GuildState(
            gid, name or f"Drama Club {len(self.guilds) + 1}", everyone, moderator, bot_role, self.sora, members
        )
        for position, channel in enumerate(("general", "recaps", "discussions", "mods")):
            self.add_channel(channel, TEXT, position, guild=gid)
        self.add_channel("episode-forum", FORUM, 4, guild=gid)
        self.add_channel("Watch Party", VOICE, 5, guild=gid)
        return gid

    def guild_of(self, channel_id: int | None) -> GuildState:
        """The server a channel (or thread) belongs to; the default one for a DM or no channel."""
        channel = self.channels.get(channel_id) if channel_id is not None else None
        gid = int(channel["guild_id"]) if channel is not None and channel.get("guild_id") else self.guild_id
        return self.guilds.get(gid) or self.guilds[self.guild_id]

    def add_channel(self, name: str, type_: int, position: int, *, guild: int | None = None, **extra: Any) -> int:
        channel_id = 1100000000000001000 + len(self.channels) + 1
        payload: dict[str, Any] = {
            "id": str(channel_id),
            "guild_id": str(guild or self.guild_id),
            "type": type_,
            "name": name,
            "position": position,
            "permission_overwrites": [],
            "parent_id": None,
            "nsfw": False,
            "flags": 0,
        }
        if type_ == TEXT:
            payload.update({"topic": None, "last_message_id": None, "rate_limit_per_user": 0})
        if type_ == FORUM:
            payload.update(
                {
                    "topic": None,
                    "available_tags": [],
                    "default_reaction_emoji": None,
                    "default_sort_order": None,
                    "default_forum_layout": 0,
                    "rate_limit_per_user": 0,
                }
            )
        if type_ == VOICE:
            payload.update({"bitrate": 64000, "user_limit": 0, "rtc_region": None})
        payload.update(extra)
        self.channels[channel_id] = payload
        self.messages[channel_id] = []
        return channel_id

    def _build_default(self) -> None:
        g = self.guild_id
        self.everyone_role = self._add_role(g, "@everyone", EVERYONE_PERMISSIONS, 0)
        self.moderator_role = self._add_role(g + 10, "Moderator", MODERATOR_PERMISSIONS, 2)
        self.bot_role = self._add_role(
            g + 11, "Dramawatch", BOT_PERMISSIONS, 1, managed=True, tags={"bot_id": self.bot_user["id"]}
        )
        self.alice = self._add_member(self._user(1100000000000000101, "alice"), [], "member")
        self.mina = self._add_member(self._user(1100000000000000102, "mina"), [self.moderator_role], "mod")
        self.sora = self._add_member(self._user(1100000000000000103, "sora"), [], "admin")
        self.owner_id = self.sora
        self._add_member(self.bot_user, [self.bot_role])
        for position, name in enumerate(("general", "recaps", "discussions", "mods")):
            self.add_channel(name, TEXT, position)
        self.add_channel("episode-forum", FORUM, 4)
        self.add_channel("Watch Party", VOICE, 5)

    # -- lookups ------------------------------------------------------------------------------
    def channel_by_name(self, name: str, guild_id: int | None = None) -> dict[str, Any] | None:
        """A channel of the server (default: the first one) by name."""
        name = name.lstrip("#").casefold()
        gid = str(guild_id or self.guild_id)
        for channel in self.channels.values():
            if channel["name"].casefold() == name and channel.get("guild_id") == gid:
                return channel
        return None

    def role_by_name(self, name: str, guild_id: int | None = None) -> dict[str, Any] | None:
        name = name.lstrip("@").casefold()
        gid = guild_id or self.guild_id
        for role_id, role in self.roles.items():
            if role["name"].casefold().lstrip("@") == name and self.role_guild.get(role_id, self.guild_id) == gid:
                return role
        return None

    def user_id(self, name: str) -> int | None:
        name = name.lstrip("@").casefold()
        if name.isdigit() and int(name) in self.users:
            return int(name)
        return self.aliases.get(name)

    def permissions(
        self, user_id: int, channel_id: int | None = None, *, guild_id: int | None = None
    ) -> discord.Permissions:
        """A member's permissions, in a channel when one is given (its overwrites applied).

        Discord's algorithm (topics/permissions.mdx, Permission Overwrites): the owner and
        Administrator have everything; else @everyone's permissions | every role's; then in the
        channel @everyone's overwrite (deny, then allow), the member's roles' overwrites (all denies,
        then all allows), the member's own overwrite. A thread uses its parent's overwrites
        (Inherited Permissions (Threads)); without View Channel nothing else in the channel counts
        (Implicit Permissions).
        """
        guild = self.guild_of(channel_id) if channel_id is not None else self.guilds[guild_id or self.guild_id]
        if user_id == guild.owner_id:
            return discord.Permissions.all()
        member = guild.members.get(user_id)
        if member is None:
            return discord.Permissions.none()
        value = int(self.roles[guild.everyone_role]["permissions"])
        roles = [int(r) for r in member["roles"]]
        for role_id in roles:
            value |= int(self.roles[role_id]["permissions"])
        if value & discord.Permissions(administrator=True).value:
            return discord.Permissions.all()
        channel = self.channels.get(channel_id) if channel_id is not None else None
        if channel is not None and channel.get("type") in THREAD_TYPES:
            channel = self.channels.get(int(channel["parent_id"]))
        if channel is None:
            return discord.Permissions(value)
        overwrites = {int(o["id"]): o for o in channel.get("permission_overwrites") or []}
        everyone = overwrites.get(guild.id)
        if everyone is not None:
            value = (value & ~int(everyone["deny"])) | int(everyone["allow"])
        allow = deny = 0
        for role_id in roles:
            overwrite = overwrites.get(role_id)
            if overwrite is not None:
                allow |= int(overwrite["allow"])
                deny |= int(overwrite["deny"])
        value = (value & ~deny) | allow
        own = overwrites.get(user_id)
        if own is not None and int(own.get("type", 1)) == 1:
            value = (value & ~int(own["deny"])) | int(own["allow"])
        if not value & discord.Permissions(view_channel=True).value:
            return discord.Permissions.none()
        return discord.Permissions(value)

    def bot_permissions(self, channel_id: int | None = None) -> discord.Permissions:
        return self.permissions(int(self.bot_user["id"]), channel_id)

    def set_overwrite(
        self, channel_id: int, target_id: int, *, allow: discord.Permissions, deny: discord.Permissions
    ) -> dict[str, Any]:
        """Set a role's (or member's) overwrite on a channel, as a server admin would; returns the channel."""
        channel = self.channels[channel_id]
        kind = 0 if target_id in self.roles else 1
        rest = [o for o in channel["permission_overwrites"] if int(o["id"]) != target_id]
        entry = {"id": str(target_id), "type": kind, "allow": str(allow.value), "deny": str(deny.value)}
        channel["permission_overwrites"] = [*rest, entry]
        return channel

    def is_thread(self, channel: dict[str, Any] | None) -> bool:
        return channel is not None and channel.get("type") in THREAD_TYPES

    # -- threads: activity and auto-archive ------------------------------------------------------------
    def touch_thread(self, thread_id: int) -> None:
        """Activity in a thread: a message, an unarchive, a new auto-archive time (topics/threads.mdx,
        Active & Archived Threads)."""
        self.thread_activity[thread_id] = self.clock.now()

    def archive_due(self) -> list[dict[str, Any]]:
        """Archive every thread idle for its auto_archive_duration; returns those just archived.

        A pinned forum post never auto-archives (topics/threads.mdx, Forum and Media Channel Thread
        Fields). Discord may archive earlier in a full server; the sandbox archives exactly on time.
        """
        now = self.clock.now()
        archived = []
        for thread in self.threads():
            meta = thread["thread_metadata"]
            if meta["archived"] or int(thread.get("flags") or 0) & PINNED_FLAG:
                continue
            since = self.thread_activity.get(int(thread["id"]))
            if since is None:
                continue
            due = since + timedelta(minutes=int(meta["auto_archive_duration"]))
            if now >= due:
                self.set_archived(thread, True, at=due)
                archived.append(thread)
        return archived

    def set_archived(self, thread: dict[str, Any], archived: bool, *, at: datetime | None = None) -> None:
        meta = thread["thread_metadata"]
        meta["archived"] = archived
        meta["archive_timestamp"] = iso(at or self.clock.now())
        if archived:
            thread["flags"] = int(thread.get("flags") or 0) & ~PINNED_FLAG  # archiving unpins a post
        else:
            self.touch_thread(int(thread["id"]))

    # -- nonces ----------------------------------------------------------------------------------------
    def recent_nonce(self, author_id: int, nonce: str) -> dict[str, Any] | None:
        """The author's message created with this nonce within NONCE_WINDOW, if any."""
        found = self.nonces.get((author_id, nonce))
        if found is None:
            return None
        message, at = found
        return message if self.clock.now() - at <= NONCE_WINDOW else None

    def remember_nonce(self, author_id: int, nonce: str, message: dict[str, Any]) -> None:
        self.nonces[(author_id, nonce)] = (message, self.clock.now())

    def threads(self) -> list[dict[str, Any]]:
        return [c for c in self.channels.values() if c["type"] in THREAD_TYPES]

    # -- gateway payloads ---------------------------------------------------------------------
    def guild_payload(self, guild_id: int | None = None) -> dict[str, Any]:
        guild = self.guilds[guild_id or self.guild_id]
        gid = str(guild.id)
        return {
            "id": gid,
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "large": False,
            "unavailable": False,
            "member_count": len(guild.members),
            "joined_at": "2026-01-01T00:00:00.000000+00:00",
            "roles": [r for rid, r in self.roles.items() if self.role_guild.get(rid, self.guild_id) == guild.id],
            "emojis": [],
            "stickers": [],
            "members": list(guild.members.values()),
            "channels": [c for c in self.channels.values() if c["type"] not in (10, 11, 12) and c["guild_id"] == gid],
            "threads": [t for t in self.threads() if not t["thread_metadata"]["archived"] and t["guild_id"] == gid],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [e for e in self.events.values() if e.get("guild_id") == gid],
            "soundboard_sounds": [],
        }

    def application_payload(self) -> dict[str, Any]:
        owner = self.users[self.owner_id]
        return {
            "id": str(self.app_id),
            "name": "Dramawatch",
            "description": "",
            "icon": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": owner,
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
        }

    # -- messages -----------------------------------------------------------------------------
    def new_message(
        self, channel_id: int, author: dict[str, Any], body: dict[str, Any], **extra: Any
    ) -> dict[str, Any]:
        message_id = self.snowflake()
        message = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": author,
            "content": body.get("content") or "",
            "timestamp": iso(self.clock.now()),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": body.get("attachments", []),
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": int(body.get("flags") or 0),
            "nonce": body.get("nonce"),
            "allowed_mentions": body.get("allowed_mentions"),
        }
        message.update(extra)
        if "guild_id" not in message and channel_id in self.channels and channel_id not in self.dms:
            message["guild_id"] = str(self.guild_of(channel_id).id)
        return message

    def store_message(self, message: dict[str, Any]) -> None:
        channel_id = int(message["channel_id"])
        self.messages.setdefault(channel_id, []).append(message)
        channel = self.channels.get(channel_id)
        if channel is not None:
            channel["last_message_id"] = message["id"]
            if self.is_thread(channel):
                self.touch_thread(channel_id)
            if "message_count" in channel:
                channel["message_count"] += 1
                channel["total_message_sent"] = channel.get("total_message_sent", 0) + 1

    def find_message(self, channel_id: int, message_id: int) -> dict[str, Any] | None:
        for message in self.messages.get(channel_id, []):
            if int(message["id"]) == message_id:
                return message
        return None
