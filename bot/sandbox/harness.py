"""The sandbox and the real bot, side by side in one process, talking over loopback.

`Sandbox` starts the loopback Discord, starts the real (unmodified) discord.py bot against it,
registers the commands (as the owner's `sync` would), and runs lines typed as in Discord. Each
line's result is a plain dict (the JSON the CLI prints; see `docs/sandbox.md`). The prompt, the
`--json` mode, the tests and the benchmarks all go through `Sandbox.run_line`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shlex
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
from discord.ext import commands

from bot.client import apply_endpoints, create_bot
from bot.sandbox.lines import CommandParser, LineError, parse_duration, split
from bot.sandbox.server import FailRule, RateLimits, SandboxServer
from bot.sandbox.tvmaze import TVmazeFixture
from bot.sandbox.world import FORUM, REQUIRE_TAG_FLAG, VOICE, InteractionRecord, World
from bot.scheduling import ManualClock
from bot.settings import Settings
from bot.storage.database import is_postgres_url

SANDBOX_TOKEN = "sandbox.token.not-a-real-discord-token"
ANSWER_TIMEOUT = 3.0  # Discord's own limit for the first answer to an interaction
SETTLE_TIMEOUT = 15.0
_INTERACTION_TASKS = (
    "CommandTree-invoker",
    "discord-ui-view-dispatch",
    "discord-ui-dynamic-item",
    "discord-ui-modal-dispatch",
    "discord.py: on_app_command_completion",  # listeners that still answer the interaction (follow-ups)
)

META_HELP = """\
Type commands as in Discord, e.g. /help or /settings timezone name:Asia/Seoul
(named options as name:value, "quoted values" with spaces, or values in order).
Meta lines:
  :as member|mod|admin|NAME     act as another user (member=alice, mod=mina, admin=sora)
  :in #channel | :in thread NAME   where your commands are typed
  :guild N                      type in the N-th server (with --guilds; 1 is "Drama Club")
  :type /cmd option:partial     show the autocomplete choices for the last option
  :click LABEL                  press a button on the latest message that has it
  :pick OPTION                  choose an option (by label) in the latest select menu offering it
  :submit field=value …         fill in and submit the open modal
  :advance 90m|2h|3d            move the sandbox clock; due jobs run, in order
  :messages #channel | :messages thread NAME
  :threads   :events   :now
  :fail METHOD PATH-GLOB STATUS [COUNT] [retry=SECONDS] [global]
                                make matching REST calls fail (e.g. :fail POST /channels/* 403);
                                a 429 is a real rate limit (Retry-After, Via), global with `global`
  :fail clear | :fail reconnect | :fail drop   clear faults, force a gateway RESUME, drop the socket
  :fail flap 30s                drop the gateway every 30 s of sandbox time while :advance runs
  :ratelimit on [N/SECONDS] | off   enforce per-route rate limits (default 5 per 1 s) and the global 50/s
  :perms TARGET [in #channel] +name -name …   change a role's (or, with a channel, an overwrite's)
                                permissions, e.g. :perms @Dramawatch -create_events
  :forum #channel require_tag on|off   whether the forum refuses posts without a tag
  :dms on|off                    whether you accept DMs from the bot; :dm [NAME] shows the bot's DMs
  :restart                      restart the bot over the same database
  :help                         this text"""


class _ErrorLogHandler(logging.Handler):
    """Collects errors discord.py only logs (e.g. exceptions in event handlers)."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "bot.errors":
            return  # interaction errors arrive through the bot's dramawatch_error event instead
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        self.sink.append(f"{record.name}: {text}")


TEXT_FILES = (".ics", ".txt", ".csv", ".json", ".md", ".toml")
TEXT_SHOWN = 64 * 1024  # characters of a text attachment put in the JSON (and shown by the prompt)


def attachment_view(attachment: dict[str, Any], files: dict[int, bytes]) -> dict[str, Any]:
    """An attachment as the sandbox shows it: name, type, size, and the text of a text file."""
    name = str(attachment.get("filename") or "")
    kind = str(attachment.get("content_type") or "")
    data = files.get(int(attachment["id"])) if str(attachment.get("id", "")).isdigit() else None
    text = None
    if data is not None and (kind.startswith("text/") or name.lower().endswith(TEXT_FILES)):
        text = data.decode("utf-8", errors="replace")[:TEXT_SHOWN]
    return {"filename": name, "content_type": kind, "size": attachment.get("size"), "text": text}


def message_view(message: dict[str, Any] | None, files: dict[int, bytes] | None = None) -> dict[str, Any] | None:
    if message is None:
        return None
    return {
        "id": message["id"],
        "content": message.get("content") or "",
        "embeds": message.get("embeds") or [],
        "components": message.get("components") or [],
        "ephemeral": bool(int(message.get("flags") or 0) & 64),
        "attachments": [attachment_view(a, files or {}) for a in message.get("attachments") or []],
    }


class Sandbox:
    def __init__(
        self,
        *,
        db_path: str | Path | None = None,
        now: datetime | None = None,
        extensions: list[str] | None = None,
        bot_factory: Callable[[Settings, ManualClock], commands.Bot] | None = None,
        catalog_path: str | Path | None = None,
        tvmaze_api_base: str | None = None,
        shard_count: int | None = None,
        guilds: int = 1,
    ) -> None:
        """`shard_count`: the sandbox's gateway asks for that many shards (GET /gateway/bot) and the
        bot runs them all (SHARD_COUNT), each server's events on its shard. `guilds`: how many
        servers the world has (each built like the first, on consecutive shards)."""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.shard_count = shard_count
        # A postgresql:// URL runs the bot on that PostgreSQL database (DATABASE_URL); else a SQLite file.
        self.db_url = str(db_path) if db_path is not None and is_postgres_url(str(db_path)) else None
        if db_path is None or self.db_url is not None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dramawatch-sandbox-")
            db_path = Path(self._tmp.name) / "sandbox.db"
        self.db_path = Path(db_path)
        self.clock = ManualClock(now or datetime.now(UTC).replace(microsecond=0))
        self.world = World(self.clock)
        for _ in range(guilds - 1):
            self.world.add_guild()
        self.server = SandboxServer(self.world)
        self.server.shard_count = shard_count or 1
        self.extensions = extensions
        self.bot_factory = bot_factory
        self.catalog_path = Path(catalog_path) if catalog_path else None
        # TVmaze for /catalog add: the given server (TVMAZE_API_BASE), else the shipped fixture of
        # invented shows on loopback (bot/sandbox/tvmaze.py), airing around the sandbox's "now".
        self.tvmaze: TVmazeFixture | None = None if tvmaze_api_base else TVmazeFixture(self.clock.now())
        self._tvmaze_api_base = tvmaze_api_base
        self.bot: Any = None  # Dramawatch, or what bot_factory made
        self._bot_task: asyncio.Task[None] | None = None
        self.user_id = self.world.alice
        self._settling: asyncio.Future[None] | None = None
        self.channel_id = next(int(c["id"]) for c in self.world.channels.values() if c["name"] == "general")
        self.errors: list[str] = []  # unexpected errors reported by the bot, never cleared
        self._log_handler = _ErrorLogHandler(self.errors)
        self.seen: list[dict[str, Any]] = []  # messages the current session has shown, oldest first
        self.open_modal: tuple[InteractionRecord, dict[str, Any]] | None = None
        self.flap_every: timedelta | None = None  # `:fail flap`: drop the gateway this often while advancing
        self.drops = 0  # gateway drops made by flapping

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> Sandbox:
        await self.server.start()
        if self.tvmaze is not None:
            await self.tvmaze.start()
        logging.getLogger("discord").addHandler(self._log_handler)
        logging.getLogger("bot").addHandler(self._log_handler)
        await self.start_bot()
        return self

    async def __aenter__(self) -> Sandbox:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def settings(self) -> Settings:
        settings = Settings(
            token=SANDBOX_TOKEN,
            database_path=self.db_path,
            database_url=self.db_url,
            shard_count=self.shard_count,
            log_level="WARNING",
            feeds_allow_private=True,  # the sandbox's feeds are on loopback
            api_base=self.server.api_base,
            gateway_url=self.server.gateway_url,
            tvmaze_api_base=self._tvmaze_api_base or (self.tvmaze.base if self.tvmaze else Settings.tvmaze_api_base),
        )
        return dataclasses.replace(settings, catalog_path=self.catalog_path) if self.catalog_path else settings

    async def start_bot(self) -> Any:
        settings = self.settings()
        apply_endpoints(settings)
        if self.bot_factory is not None:
            bot = self.bot_factory(settings, self.clock)
        else:
            # identify_wait=0: the sandbox does not limit how fast shards identify.
            bot = create_bot(
                settings, clock=self.clock, extensions=self.extensions, guild_ready_timeout=0.05, identify_wait=0.0
            )

        async def on_dramawatch_error(interaction: Any, error: BaseException, error_id: str) -> None:
            command = interaction.command.qualified_name if interaction.command else "interaction"
            self.errors.append(f"{command}: {type(error).__name__}: {error} (error id {error_id})")

        bot.add_listener(on_dramawatch_error)
        try:
            await bot.login(SANDBOX_TOKEN)  # runs setup_hook: database, catalog, extensions
            self._bot_task = asyncio.create_task(bot.connect(reconnect=True), name="sandbox-bot")
            ready = asyncio.create_task(bot.wait_until_ready())
            done, _ = await asyncio.wait({ready, self._bot_task}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
            if ready not in done:
                ready.cancel()
                if self._bot_task.done() and self._bot_task.exception():
                    raise RuntimeError(f"the bot stopped before it was ready: {self._bot_task.exception()}")
                raise RuntimeError("the bot did not become ready within 15 s")
        except BaseException:
            await bot.close()  # a half-started bot would keep the process alive (database thread)
            if self._bot_task is not None:
                await asyncio.wait({self._bot_task}, timeout=5)
                self._bot_task = None
            raise
        await bot.tree.sync()  # what the owner's `python -m bot sync` does once
        self.bot = bot
        return bot

    async def stop_bot(self) -> None:
        if self.bot is not None:
            await self.bot.close()
            self.bot = None
        if self._bot_task is not None:
            await asyncio.wait({self._bot_task}, timeout=5)
            self._bot_task = None

    async def restart_bot(self) -> Any:
        await self.stop_bot()
        return await self.start_bot()

    async def close(self) -> None:
        await self.stop_bot()
        await self.server.stop()
        if self.tvmaze is not None:
            await self.tvmaze.stop()
        logging.getLogger("discord").removeHandler(self._log_handler)
        logging.getLogger("bot").removeHandler(self._log_handler)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def add_role(self, name: str, *, members: tuple[str, ...] = ()) -> int:
        """Create a role with no permissions (as a server admin would) and give it to members."""
        role = self.world.add_role(name)
        await self.server.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(self.world.guild_id), "role": role})
        for who in members:
            user_id = self.world.user_id(who)
            if user_id is None:
                raise ValueError(f"no user {who!r}")
            self.world.members[user_id]["roles"].append(role["id"])
        return int(role["id"])

    async def set_role_permissions(self, role: str, permissions: discord.Permissions) -> dict[str, Any]:
        """Give a role exactly `permissions`, as a server admin would (the bot hears GUILD_ROLE_UPDATE).
        `role` is a name: "@everyone", "Moderator", "Dramawatch" (the bot's own role) …"""
        found = self.world.role_by_name(role)
        if found is None:
            raise LineError(f"no role {role!r}; roles: {', '.join(r['name'] for r in self.world.roles.values())}")
        found["permissions"] = str(permissions.value)
        await self.server.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(self.world.guild_id), "role": found})
        await self._let_bot_handle()
        return found

    async def set_overwrite(
        self,
        channel: str,
        target: str,
        *,
        allow: discord.Permissions | None = None,
        deny: discord.Permissions | None = None,
    ) -> dict[str, Any]:
        """Set a role's or member's overwrite on a channel (CHANNEL_UPDATE); `target` is @Role or a user."""
        found = self._channel_arg(channel)
        role = self.world.role_by_name(target)
        target_id = int(role["id"]) if role is not None else self.world.user_id(target)
        if target_id is None:
            raise LineError(f"no role or user {target!r}")
        none = discord.Permissions.none()
        updated = self.world.set_overwrite(int(found["id"]), target_id, allow=allow or none, deny=deny or none)
        await self.server.dispatch("CHANNEL_UPDATE", updated)
        await self._let_bot_handle()
        return updated

    async def set_require_tag(self, channel: str, required: bool = True) -> dict[str, Any]:
        """Turn a forum's REQUIRE_TAG flag on or off (CHANNEL_UPDATE)."""
        forum = self._channel_arg(channel)
        if forum["type"] != FORUM:
            raise LineError(f"#{forum['name']} is not a forum")
        flags = int(forum.get("flags") or 0)
        forum["flags"] = flags | REQUIRE_TAG_FLAG if required else flags & ~REQUIRE_TAG_FLAG
        await self.server.dispatch("CHANNEL_UPDATE", forum)
        await self._let_bot_handle()
        return forum

    @staticmethod
    async def _let_bot_handle() -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    async def delete_channel(self, channel_id: int) -> None:
        """Delete a channel or thread as a server admin would (the bot hears THREAD_DELETE)."""
        channel = self.world.channels.pop(channel_id)
        if "thread_metadata" in channel:
            await self.server.dispatch(
                "THREAD_DELETE",
                {
                    "id": channel["id"],
                    "guild_id": channel["guild_id"],
                    "parent_id": channel["parent_id"],
                    "type": channel["type"],
                },
            )
        else:
            await self.server.dispatch("CHANNEL_DELETE", channel)
        for _ in range(5):
            await asyncio.sleep(0)  # let the bot handle the event

    @property
    def violations(self) -> list[str]:
        return self.server.violations

    # -- interactions ---------------------------------------------------------------------------
    async def interact(
        self, type_: int, data: dict[str, Any], *, message: dict[str, Any] | None = None
    ) -> InteractionRecord:
        """Send one INTERACTION_CREATE as the current user in the current channel; wait for the bot."""
        world = self.world
        await self.server.tick()  # the clock may have moved: archive what is due first
        record = world.new_interaction(
            user_id=self.user_id, channel_id=self.channel_id, type_=type_, data=data, message=message
        )
        interaction_id = record.id
        answered = asyncio.Event()
        self.server.interaction_events[interaction_id] = answered
        record.sent_at = time.perf_counter()
        await self.server.dispatch("INTERACTION_CREATE", record.payload)
        try:
            await asyncio.wait_for(answered.wait(), ANSWER_TIMEOUT)
        except TimeoutError:
            pass
        await self._settle()
        return record

    async def _settle(self) -> None:
        """Wait until the bot has finished every interaction task it started. Interactions sent at
        once share one wait (it ends at a moment no such task is busy, which is what each of them
        waits for): a waiter per interaction, each watching every busy task, would cost the loop
        time quadratic in a burst's size, and the bot's answers would wait behind it."""
        if self._settling is None or self._settling.done():
            self._settling = asyncio.ensure_future(self._settle_once())
        await asyncio.shield(self._settling)

    async def _settle_once(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_TIMEOUT
        while loop.time() < deadline:
            for _ in range(3):
                await asyncio.sleep(0)
            busy = [t for t in asyncio.all_tasks() if not t.done() and t.get_name().startswith(_INTERACTION_TASKS)]
            if not busy:
                return
            await asyncio.wait(busy, timeout=max(0.0, deadline - loop.time()))

    # -- lines --------------------------------------------------------------------------------
    async def run_line(self, line: str) -> dict[str, Any]:
        """Run one typed line and return its result (see docs/sandbox.md for the shape)."""
        line = line.strip()
        start_requests = len(self.server.requests)
        start_violations = len(self.server.violations)
        start_errors = len(self.errors)
        start_warnings = len(self.server.warnings)
        result: dict[str, Any]
        try:
            if line.startswith("/"):
                result = await self._command(line)
            elif line.startswith(":"):
                result = await self._meta(line)
            elif line:
                result = await self._chat(line)
            else:
                raise LineError("type a command (/help), a meta line (:help) or a chat message")
        except LineError as exc:
            if line.startswith("/"):
                return {"input": line, "response": None, "followups": [], "requests": [], "error": str(exc)}
            return {"input": line, "result": None, "error": str(exc)}
        problems = self.server.violations[start_violations:] + self.errors[start_errors:]
        if "requests" in result or line.startswith("/"):
            result["requests"] = [r.as_dict() for r in self.server.requests[start_requests:]]
        result["error"] = result.get("error") or ("; ".join(problems) if problems else None)
        warnings = self.server.warnings[start_warnings:]
        if warnings:
            result["warnings"] = warnings
        return {"input": line, **{k: v for k, v in result.items() if k != "input"}}

    async def _chat(self, text: str) -> dict[str, Any]:
        """A plain line: a chat message from the current user where they are (`:in`), so members can
        be seen talking in a thread (which also keeps it from archiving, and reopens an archived one)."""
        world = self.world
        channel = world.channels.get(self.channel_id)
        if channel is None:
            raise LineError("the current channel is gone; move with :in #channel")
        if channel["type"] in (FORUM, VOICE):
            raise LineError(f"#{channel['name']} takes no chat messages; move with :in #channel or :in thread NAME")
        if world.is_thread(channel):
            meta = channel["thread_metadata"]
            if meta["locked"]:
                raise LineError(f"the thread {channel['name']!r} is locked")
            if meta["archived"]:
                world.set_archived(channel, False)
                await self.server.dispatch("THREAD_UPDATE", channel)
        author = world.users[self.user_id]
        message = world.new_message(self.channel_id, author, {"content": text[:2000]})
        world.store_message(message)
        await self.server.dispatch("MESSAGE_CREATE", message)
        self.seen.append(message)
        return {"result": {"said": {"channel": channel["name"], "author": author["username"], "content": text[:2000]}}}

    def _note_new_messages(self, start_counts: dict[int, int]) -> None:
        for channel_id, messages in self.world.messages.items():
            for message in messages[start_counts.get(channel_id, 0) :]:
                if message not in self.seen:
                    self.seen.append(message)

    def _counts(self) -> dict[int, int]:
        return {cid: len(msgs) for cid, msgs in self.world.messages.items()}

    def _interaction_result(self, record: InteractionRecord, start_counts: dict[int, int]) -> dict[str, Any]:
        self._note_new_messages(start_counts)
        callback = record.callback
        response: dict[str, Any] | None = None
        error = None
        if callback is None:
            error = f"the bot did not answer within {ANSWER_TIMEOUT:g} s"
        else:
            kind = callback.get("type")
            data = callback.get("data") or {}
            if kind == 9:
                response = {
                    "type": 9,
                    "content": "",
                    "embeds": [],
                    "components": data.get("components", []),
                    "ephemeral": True,
                    "attachments": [],
                    "title": data.get("title"),
                    "custom_id": data.get("custom_id"),
                }
                self.open_modal = (record, data)
            elif kind == 8:
                response = {
                    "type": 8,
                    "content": "",
                    "embeds": [],
                    "components": [],
                    "ephemeral": True,
                    "attachments": [],
                    "choices": data.get("choices", []),
                }
            else:
                shown = message_view(record.original, self.world.files) or {
                    "content": "",
                    "embeds": [],
                    "components": [],
                    "ephemeral": False,
                    "attachments": [],
                }
                shown.pop("id", None)
                response = {"type": kind, **shown}
            for message in [record.original, *record.followups]:
                if message is not None and message not in self.seen:
                    self.seen.append(message)
        followups = []
        for message in record.followups:
            if message is record.original:
                continue
            view = message_view(message, self.world.files)
            assert view is not None
            view.pop("id", None)
            followups.append(view)
        return {"response": response, "followups": followups, "requests": [], "error": error}

    async def _refuse_in_archived_thread(self) -> None:
        """Discord's client runs no application command in an archived thread (topics/threads.mdx,
        Active & Archived Threads); a message there would unarchive it first."""
        await self.server.tick()
        channel = self.world.channels.get(self.channel_id)
        if channel is not None and self.world.is_thread(channel) and channel["thread_metadata"]["archived"]:
            raise LineError(
                f"the thread {channel['name']!r} is archived: Discord runs no commands there (a message would "
                "unarchive it; the sandbox's members only type commands)"
            )

    async def _command(self, line: str) -> dict[str, Any]:
        parsed = CommandParser(self.world, self.user_id, self.world.guild_of(self.channel_id).id).parse(line)
        await self._refuse_in_archived_thread()
        start = self._counts()
        record = await self.interact(2, parsed.data)
        return self._interaction_result(record, start)

    async def run_command(self, path: str, **options: str) -> dict[str, Any]:
        """Run `/path` with named options given as raw strings (quoted for you): any text at all."""
        line = "/" + path + "".join(f" {name}:{shlex.quote(value)}" for name, value in options.items())
        return await self.run_line(line)

    async def autocomplete(self, line: str) -> list[dict[str, Any]]:
        parsed = CommandParser(self.world, self.user_id, self.world.guild_of(self.channel_id).id).parse(
            line, autocomplete=True
        )
        await self._refuse_in_archived_thread()
        record = await self.interact(4, parsed.data)
        if record.callback is None:
            raise LineError(f"the bot did not answer the autocomplete within {ANSWER_TIMEOUT:g} s")
        if record.callback.get("type") != 8:
            raise LineError(f"the bot answered autocomplete with callback type {record.callback.get('type')}")
        return list((record.callback.get("data") or {}).get("choices", []))

    def _find_button(self, label: str) -> tuple[dict[str, Any], dict[str, Any]]:
        wanted = label.strip().strip('"').casefold()
        for message in reversed(self.seen):
            for row in message.get("components") or []:
                for component in row.get("components", []) if row.get("type") == 1 else [row]:
                    if component.get("type") != 2:
                        continue
                    names = {
                        str(component.get("label") or "").casefold(),
                        str(component.get("custom_id", "")).casefold(),
                    }
                    emoji = (component.get("emoji") or {}).get("name")
                    if emoji:
                        names.add(emoji.casefold())
                    if wanted in names:
                        if component.get("disabled"):
                            raise LineError(f"the button {label!r} is disabled")
                        return message, component
        raise LineError(f"no button labelled {label!r} on the messages shown so far")

    async def click(self, label: str) -> dict[str, Any]:
        message, button = self._find_button(label)
        if "custom_id" not in button:
            raise LineError(f"{label!r} is a link button; it opens {button.get('url')}")
        start = self._counts()
        record = await self.interact(3, {"custom_id": button["custom_id"], "component_type": 2}, message=message)
        return self._interaction_result(record, start)

    def _find_select(self, wanted: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """(message, select menu, option) for the latest select offering an option labelled/valued `wanted`."""
        folded = wanted.strip().strip('"').casefold()
        for message in reversed(self.seen):
            for row in message.get("components") or []:
                for component in row.get("components", []) if row.get("type") == 1 else [row]:
                    if component.get("type") != 3:
                        continue
                    options = component.get("options", [])
                    exact = [
                        o
                        for o in options
                        if folded in (str(o.get("label", "")).casefold(), str(o.get("value", "")).casefold())
                    ]
                    starts = [o for o in options if str(o.get("label", "")).casefold().startswith(folded)]
                    if exact or starts:
                        return message, component, (exact or starts)[0]
        raise LineError(f"no select menu offers {wanted!r} on the messages shown so far")

    async def select(self, custom_id: str, values: list[str]) -> dict[str, Any]:
        """Choose `values` in the select menu `custom_id` on the latest message that has it."""
        for message in reversed(self.seen):
            for row in message.get("components") or []:
                for component in row.get("components", []):
                    if component.get("custom_id") == custom_id:
                        start = self._counts()
                        record = await self.interact(
                            3, {"custom_id": custom_id, "component_type": 3, "values": values}, message=message
                        )
                        return {"input": f":select {custom_id}", **self._interaction_result(record, start)}
        raise LineError(f"no select menu {custom_id!r} on the messages shown so far")

    async def pick(self, label: str) -> dict[str, Any]:
        message, menu, option = self._find_select(label)
        start = self._counts()
        record = await self.interact(
            3, {"custom_id": menu["custom_id"], "component_type": 3, "values": [option["value"]]}, message=message
        )
        return self._interaction_result(record, start)

    async def submit(self, fields: dict[str, str]) -> dict[str, Any]:
        if self.open_modal is None:
            raise LineError("no modal is open; a command or button opens one first")
        _record, modal = self.open_modal
        inputs: list[dict[str, Any]] = []  # every text input in the modal, in order

        def walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
            submitted = []
            for component in components:
                if component.get("type") == 1:
                    submitted.append({"type": 1, "components": walk(component.get("components", []))})
                elif component.get("type") == 18:
                    inner = component["component"]
                    inputs.append({**inner, "label": component.get("label")})
                    submitted.append({"type": 18, "component": walk([inner])[0]})
                elif component.get("type") == 4:
                    if not any(i["custom_id"] == component["custom_id"] for i in inputs):
                        inputs.append(component)
                    submitted.append({"type": 4, "custom_id": component["custom_id"], "value": ""})
            return submitted

        submitted = walk(modal.get("components", []))
        values: dict[str, str] = {}
        for key, value in fields.items():
            target = next(
                (
                    i
                    for i in inputs
                    if key.casefold() in (str(i.get("custom_id", "")).casefold(), str(i.get("label") or "").casefold())
                ),
                None,
            )
            if target is None:
                names = ", ".join(str(i.get("label") or i["custom_id"]) for i in inputs)
                raise LineError(f"the modal has no field {key!r}; fields: {names}")
            values[target["custom_id"]] = value
        for field_ in inputs:
            value = values.get(field_["custom_id"], "")
            if field_.get("required", True) and not value:
                raise LineError(f"the field {field_.get('label') or field_['custom_id']!r} is required")
            if len(value) > int(field_.get("max_length") or 4000):
                raise LineError(
                    f"the field {field_.get('label') or field_['custom_id']!r} takes at most "
                    f"{field_.get('max_length') or 4000} characters"
                )

        def fill(components: list[dict[str, Any]]) -> None:
            for component in components:
                if component["type"] == 1:
                    fill(component["components"])
                elif component["type"] == 18:
                    fill([component["component"]])
                elif component["type"] == 4:
                    component["value"] = values.get(component["custom_id"], "")

        fill(submitted)
        self.open_modal = None
        start = self._counts()
        record = await self.interact(5, {"custom_id": modal["custom_id"], "components": submitted})
        return self._interaction_result(record, start)

    # -- meta lines ---------------------------------------------------------------------------
    async def _meta(self, line: str) -> dict[str, Any]:
        word, _, rest = line[1:].partition(" ")
        word = word.lower()
        rest = rest.strip()
        world = self.world
        if word == "help":
            return {"result": {"help": META_HELP}}
        if word == "as":
            user_id = world.user_id(rest)
            if user_id is None:
                raise LineError(f"no user {rest!r}; use member, mod, admin, or alice, mina, sora")
            self.user_id = user_id
            return {"result": {"user": world.users[user_id]["username"]}}
        if word == "guild":
            order = list(world.guilds)
            if not rest.isdigit() or not 1 <= int(rest) <= len(order):
                raise LineError(f":guild takes a server's number, 1 to {len(order)}")
            guild = world.guilds[order[int(rest) - 1]]
            general = world.channel_by_name("general", guild.id)
            assert general is not None
            self.channel_id = int(general["id"])
            return {"result": {"guild": guild.name, "id": str(guild.id)}}
        if word == "in":
            channel = self._channel_arg(rest)
            self.channel_id = int(channel["id"])
            return {"result": {"channel": channel["name"], "id": channel["id"]}}
        if word == "type":
            return {"result": {"choices": await self.autocomplete(rest)}}
        if word == "click":
            return await self.click(rest)
        if word == "pick":
            return await self.pick(rest)
        if word == "submit":
            fields = {}
            for token in split(rest):
                key, sep, value = token.partition("=")
                if not sep:
                    raise LineError(f"write each field as field=value (got {token!r})")
                fields[key] = value
            return await self.submit(fields)
        if word == "advance":
            delta = parse_duration(rest)
            if self.bot is None:
                raise LineError("the bot is not running")
            start = self._counts()
            ran = await self._advance(self.clock.now() + delta)
            await self._settle()
            await self.server.tick()
            self._note_new_messages(start)
            return {"result": {"now": self.clock.now().isoformat(), "jobs_run": ran}, "requests": []}
        if word == "now":
            return {"result": {"now": self.clock.now().isoformat()}}
        if word == "messages":
            channel = self._channel_arg(rest or f"#{world.channels[self.channel_id]['name']}")
            messages = [self._message_summary(m) for m in world.messages.get(int(channel["id"]), [])]
            return {"result": {"channel": channel["name"], "messages": messages}}
        if word == "threads":
            await self.server.tick()
            threads = [
                {
                    "id": t["id"],
                    "name": t["name"],
                    "parent": world.channels.get(int(t["parent_id"]), {}).get("name"),
                    "messages": len(world.messages.get(int(t["id"]), [])),
                    "archived": t["thread_metadata"]["archived"],
                    "applied_tags": t.get("applied_tags", []),
                }
                for t in world.threads()
            ]
            return {"result": {"threads": threads}}
        if word == "events":
            return {"result": {"events": list(world.events.values())}}
        if word == "fail":
            return {"result": await self._fail(rest)}
        if word == "dms":
            if rest.lower() not in ("on", "off"):
                raise LineError("use :dms on or :dms off (whether the current user accepts DMs from the bot)")
            (world.dms_closed.discard if rest.lower() == "on" else world.dms_closed.add)(self.user_id)
            return {"result": {"user": world.users[self.user_id]["username"], "dms": rest.lower()}}
        if word == "dm":
            user_id = world.user_id(rest) if rest else self.user_id
            dm_channel = next(
                (c for c in world.dms.values() if user_id and int(c["recipients"][0]["id"]) == user_id), None
            )
            messages = (
                [self._message_summary(m) for m in world.messages.get(int(dm_channel["id"]), [])] if dm_channel else []
            )
            return {"result": {"user": world.users[user_id]["username"] if user_id else rest, "messages": messages}}
        if word == "restart":
            await self.restart_bot()
            return {"result": {"restarted": True}}
        if word == "ratelimit":
            return {"result": self._ratelimit(rest)}
        if word == "perms":
            return {"result": await self._perms(rest)}
        if word == "forum":
            parts = rest.split()
            if len(parts) != 3 or parts[1].lower() != "require_tag" or parts[2].lower() not in ("on", "off"):
                raise LineError("use :forum #channel require_tag on|off")
            forum = await self.set_require_tag(parts[0], parts[2].lower() == "on")
            return {"result": {"channel": forum["name"], "flags": forum["flags"]}}
        raise LineError(f"unknown meta line :{word}; type :help for the list")

    def _channel_arg(self, text: str) -> dict[str, Any]:
        world = self.world
        if text.lower().startswith("thread "):
            name = text[7:].strip().strip('"').casefold()
            for thread in world.threads():
                if thread["name"].casefold() == name or name in thread["name"].casefold():
                    return thread
            names = ", ".join(t["name"] for t in world.threads()) or "none yet"
            raise LineError(f"no thread named {text[7:].strip()!r}; threads: {names}")
        guild = world.guild_of(self.channel_id).id
        channel = world.channel_by_name(text.strip(), guild)
        if channel is None:
            names = ", ".join(
                "#" + c["name"]
                for c in world.channels.values()
                if "thread_metadata" not in c and c["guild_id"] == str(guild)
            )
            raise LineError(f"no channel {text!r}; channels: {names}")
        return channel

    def _message_summary(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": message["id"],
            "author": message["author"]["username"],
            "content": message.get("content") or "",
            "embeds": message.get("embeds") or [],
            "components": message.get("components") or [],
            "pinned": message.get("pinned", False),
            "timestamp": message["timestamp"],
        }

    async def _fail(self, rest: str) -> dict[str, Any]:
        parts = rest.split()
        if parts == ["clear"]:
            self.server.fail_rules.clear()
            self.flap_every = None
            return {"cleared": True}
        if parts == ["reconnect"]:
            await self.server.force_reconnect()
            return {"gateway": "reconnect requested"}
        if parts == ["drop"]:
            await self.server.drop_connections()
            return {"gateway": "dropped"}
        if len(parts) == 2 and parts[0] == "flap":
            self.flap_every = parse_duration(parts[1])
            return {"gateway": f"drops every {parts[1]} of sandbox time while advancing"}
        usage = (
            "use :fail METHOD PATH-GLOB STATUS [COUNT] [retry=SECONDS] [global], e.g. "
            ":fail POST /channels/*/threads 403 1; or :fail clear | reconnect | drop | flap 30s"
        )
        options = [p for p in parts[3:] if not p.isdigit()]
        numbers = [p for p in parts[3:] if p.isdigit()]
        if len(parts) < 3 or not parts[2].isdigit() or len(numbers) > 1:
            raise LineError(usage)
        retry_after, is_global = 0.05, False
        for option in options:
            if option == "global":
                is_global = True
            elif option.startswith("retry="):
                try:
                    retry_after = float(option[6:])
                except ValueError:
                    raise LineError(usage) from None
            else:
                raise LineError(usage)
        method = parts[0].upper()
        if method not in ("GET", "POST", "PUT", "PATCH", "DELETE", "*"):
            raise LineError(f"METHOD must be GET, POST, PUT, PATCH, DELETE or *, not {parts[0]!r}")
        count = int(numbers[0]) if numbers else None
        rule = FailRule(method, parts[1], int(parts[2]), count, retry_after=retry_after, global_=is_global)
        self.server.fail_rules.append(rule)
        shown: dict[str, Any] = {"method": rule.method, "path": rule.glob, "status": rule.status, "count": count}
        if rule.status == 429:
            shown.update(retry_after=retry_after, scope="global" if is_global else "user")
        return {"rule": shown}

    def _ratelimit(self, rest: str) -> dict[str, Any]:
        parts = rest.split()
        if parts == ["off"]:
            self.server.rate_limits = None
            return {"rate_limits": None}
        if not parts or parts[0] != "on" or len(parts) > 2:
            raise LineError("use :ratelimit on [REQUESTS/SECONDS] (default 5/1) or :ratelimit off")
        limits = RateLimits()
        if len(parts) == 2:
            per, _, window = parts[1].partition("/")
            try:
                limits = RateLimits(per_route=int(per), window=float(window or 1))
            except ValueError:
                raise LineError("write the limit as REQUESTS/SECONDS, e.g. 5/1") from None
        self.server.rate_limits = limits
        return {"rate_limits": {"per_route": limits.per_route, "window": limits.window}}

    async def _perms(self, rest: str) -> dict[str, Any]:
        tokens = split(rest)
        if not tokens:
            raise LineError("use :perms TARGET [in #channel] +name -name …, e.g. :perms @Dramawatch -create_events")
        target, changes = tokens[0], tokens[1:]
        channel = None
        if len(changes) >= 2 and changes[0] == "in":
            channel, changes = changes[1], changes[2:]
        allow, deny = discord.Permissions.none(), discord.Permissions.none()
        for change in changes:
            sign, name = change[:1], change[1:]
            if sign not in "+-" or not sign or name not in discord.Permissions.VALID_FLAGS:
                raise LineError(f"write each change as +name or -name with a permission name, not {change!r}")
            (allow if sign == "+" else deny).update(**{name: True})
        if channel is not None:
            updated = await self.set_overwrite(channel, target, allow=allow, deny=deny)
            return {"channel": updated["name"], "overwrites": updated["permission_overwrites"]}
        role = self.world.role_by_name(target)
        if role is None:
            raise LineError(f"no role {target!r}")
        value = (int(role["permissions"]) & ~deny.value) | allow.value
        updated = await self.set_role_permissions(target, discord.Permissions(value))
        return {"role": updated["name"], "permissions": updated["permissions"]}

    async def _advance(self, target: datetime) -> int:
        """Run the scheduler to `target`; with `:fail flap`, drop the gateway at every interval on the way
        (the bot RESUMEs each time) and wait for it to come back before going on."""
        if self.flap_every is None:
            return int(await self.bot.scheduler.advance_to(target))
        ran = 0
        while self.clock.now() < target:
            step = min(self.clock.now() + self.flap_every, target)
            ran += await self.bot.scheduler.advance_to(step)
            await self.server.tick()
            if step <= target:
                await self.server.drop_connections()
                self.drops += 1
                await self._until_resumed()
        return ran

    async def _until_resumed(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0
        while loop.time() < deadline:
            sessions = list(self.server.sessions.values())
            if sessions and all(s.ws is not None and not s.ws.closed for s in sessions[-1:]):
                return
            await asyncio.sleep(0.005)
