"""Parsing what a person types in the sandbox: slash-command lines and option values.

`/settings channel kind:recaps channel:#recaps` — named options (`name:value`, values quoted with
"…" when they hold spaces), or positional values in declared order. Values are checked the way
Discord's client checks them before sending (required options, choices, lengths, ranges, types).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.sandbox.world import World

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
TYPE_NAMES = {
    STRING: "text",
    INTEGER: "a whole number",
    BOOLEAN: "true or false",
    USER: "a user",
    CHANNEL: "a channel",
    ROLE: "a role",
    MENTIONABLE: "a user or role",
    NUMBER: "a number",
    ATTACHMENT: "a file",
}


class LineError(Exception):
    """The line cannot be sent: says what is wrong and what is allowed."""


@dataclass
class ParsedCommand:
    name: str  # full path, e.g. "settings channel"
    data: dict[str, Any]
    focused: str | None = None
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict)


def split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise LineError(f"cannot read the line: {exc} (close every quote)") from None


def parse_duration(text: str) -> timedelta:
    """`90m`, `2h`, `3d`, `1h30m`, `45s`."""
    parts = re.findall(r"(\d+)\s*([smhdw])", text.strip().lower())
    if not parts or "".join(f"{n}{u}" for n, u in parts) != re.sub(r"\s+", "", text.strip().lower()):
        raise LineError(f"{text!r} is not a duration; use forms like 90m, 2h, 3d or 1h30m")
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    total = timedelta()
    for number, unit in parts:
        total += timedelta(**{units[unit]: int(number)})
    return total


def _find(options: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((o for o in options if o["name"] == name), None)


class CommandParser:
    def __init__(self, world: World, user_id: int, guild_id: int | None = None) -> None:
        """`guild_id`: the server the command is typed in (its channels, roles and members)."""
        self.world = world
        self.user_id = user_id
        self.guild_id = guild_id or world.guild_id

    def parse(self, line: str, *, autocomplete: bool = False) -> ParsedCommand:
        if not line.startswith("/"):
            raise LineError("a command starts with /")
        tokens = split(line[1:])
        if not tokens:
            raise LineError("type a command name after /, e.g. /help")
        commands = [c for c in self.world.commands if c.get("type", 1) == 1]
        command = _find(commands, tokens[0].lower())
        if command is None:
            known = ", ".join(sorted("/" + c["name"] for c in commands))
            raise LineError(f"unknown command /{tokens[0]}; the commands are: {known}")
        path = [command["name"]]
        options = command.get("options") or []
        rest = tokens[1:]
        nesting: list[dict[str, Any]] = []
        while any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in options):
            subs = [o for o in options if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
            names = "|".join(o["name"] for o in subs)
            if not rest:
                raise LineError(f"/{' '.join(path)} needs a subcommand: {names}")
            sub = _find(subs, rest[0].lower())
            if sub is None:
                raise LineError(f"/{' '.join(path)} has no subcommand {rest[0]!r}; choose one of {names}")
            nesting.append({"name": sub["name"], "type": sub["type"], "options": []})
            path.append(sub["name"])
            options = sub.get("options") or []
            rest = rest[1:]
        values, focused = self._assign(options, rest, path, autocomplete)
        resolved: dict[str, dict[str, Any]] = {}
        built = []
        for option in options:
            if option["name"] not in values:
                continue
            raw = values[option["name"]]
            entry: dict[str, Any] = {"name": option["name"], "type": option["type"]}
            if autocomplete and option["name"] == focused:
                entry["value"] = raw
                entry["focused"] = True
            else:
                entry["value"] = self._convert(option, raw, resolved)
            built.append(entry)
        # Nest the options under the subcommand (group) chain.
        leaf_options: list[dict[str, Any]] = built
        for level in reversed(nesting):
            level["options"] = leaf_options
            leaf_options = [level]
        data: dict[str, Any] = {
            "id": command["id"],
            "name": command["name"],
            "type": 1,
            "options": leaf_options,
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return ParsedCommand(" ".join(path), data, focused, resolved)

    def _assign(
        self, options: list[dict[str, Any]], tokens: list[str], path: list[str], autocomplete: bool
    ) -> tuple[dict[str, str], str | None]:
        values: dict[str, str] = {}
        focused: str | None = None
        positional: list[str] = []
        for token in tokens:
            name, sep, value = token.partition(":")
            if sep and _find(options, name.lower()) is not None:
                values[name.lower()] = value
                focused = name.lower()
            else:
                positional.append(token)
        free = [o for o in options if o["name"] not in values]
        if len(positional) > len(free):
            names = ", ".join(o["name"] for o in options) or "none"
            raise LineError(
                f"/{' '.join(path)} takes the options {names}; {len(positional)} value(s) were given without a "
                f"name and only {len(free)} option(s) are left"
            )
        for option, value in zip(free, positional, strict=False):
            values[option["name"]] = value
            focused = option["name"]
        if not autocomplete:
            missing = [o["name"] for o in options if o.get("required") and o["name"] not in values]
            if missing:
                raise LineError(f"/{' '.join(path)} needs {', '.join(missing)}")
        elif focused is None:
            raise LineError(f"type an option to autocomplete, e.g. :type /{' '.join(path)} name:…")
        return values, focused

    def _convert(self, option: dict[str, Any], raw: str, resolved: dict[str, dict[str, Any]]) -> Any:
        kind = option["type"]
        name = option["name"]
        value: Any
        # A choice picked by the name Discord's client shows (`archive:"1 week"`): its value is sent.
        for choice in option.get("choices") or []:
            if str(choice.get("name", "")).casefold() == raw.strip().casefold() and str(choice["value"]) != raw:
                return choice["value"]
        if kind == STRING:
            value = raw
            if len(value) > 6000:
                raise LineError(f"{name}: at most 6000 characters")
            if "min_length" in option and len(value) < option["min_length"]:
                raise LineError(f"{name}: at least {option['min_length']} character(s)")
            if "max_length" in option and len(value) > option["max_length"]:
                raise LineError(f"{name}: at most {option['max_length']} character(s)")
        elif kind in (INTEGER, NUMBER):
            try:
                value = int(raw) if kind == INTEGER else float(raw)
            except ValueError:
                if option.get("choices"):
                    listed = ", ".join(str(c["name"]) for c in option["choices"])
                    raise LineError(f"{name}: choose one of {listed}") from None
                raise LineError(f"{name}: {raw!r} is not {TYPE_NAMES[kind]}") from None
            if "min_value" in option and value < option["min_value"]:
                raise LineError(f"{name}: at least {option['min_value']}")
            if "max_value" in option and value > option["max_value"]:
                raise LineError(f"{name}: at most {option['max_value']}")
        elif kind == BOOLEAN:
            folded = raw.lower()
            if folded not in ("true", "false", "yes", "no"):
                raise LineError(f"{name}: use true or false")
            value = folded in ("true", "yes")
        elif kind == CHANNEL:
            value = self._channel(option, raw, resolved)
        elif kind == ROLE:
            value = self._role(name, raw, resolved)
        elif kind == USER:
            value = self._user(name, raw, resolved)
        elif kind == MENTIONABLE:
            try:
                value = self._user(name, raw, resolved)
            except LineError:
                value = self._role(name, raw, resolved)
        else:
            raise LineError(f"{name}: {TYPE_NAMES.get(kind, 'this kind of option')} cannot be typed in the sandbox")
        choices = option.get("choices")
        if choices and kind in (STRING, INTEGER, NUMBER) and value not in [c["value"] for c in choices]:
            allowed = ", ".join(
                str(c["value"]) if str(c["name"]) == str(c["value"]) else f"{c['name']} ({c['value']})" for c in choices
            )
            raise LineError(f"{name}: choose one of {allowed}")
        return value

    def _channel(self, option: dict[str, Any], raw: str, resolved: dict[str, dict[str, Any]]) -> str:
        world = self.world
        text = raw.strip()
        channel = None
        match = re.fullmatch(r"<#(\d+)>", text)
        if match or text.isdigit():
            channel = world.channels.get(int(match.group(1) if match else text))
        else:
            channel = world.channel_by_name(text, self.guild_id)
        if channel is None:
            names = ", ".join(
                "#" + c["name"]
                for c in world.channels.values()
                if "thread_metadata" not in c and c.get("guild_id") == str(self.guild_id)
            )
            raise LineError(f"{option['name']}: no channel {raw!r}; channels: {names}")
        allowed = option.get("channel_types")
        if allowed and channel["type"] not in allowed:
            raise LineError(f"{option['name']}: #{channel['name']} is not a channel of the allowed kind")
        perms = world.permissions(self.user_id, guild_id=self.guild_id)
        entry: dict[str, Any] = {
            k: channel[k] for k in ("id", "name", "type", "parent_id", "guild_id", "flags") if k in channel
        }
        entry["permissions"] = str(perms.value)
        if "thread_metadata" in channel:
            entry["thread_metadata"] = channel["thread_metadata"]
        channel_id: str = channel["id"]  # snowflakes are strings in the world's payloads
        resolved.setdefault("channels", {})[channel_id] = entry
        return channel_id

    def _role(self, name: str, raw: str, resolved: dict[str, dict[str, Any]]) -> str:
        text = raw.strip()
        match = re.fullmatch(r"<@&(\d+)>", text)
        role = self.world.roles.get(int(match.group(1) if match else text)) if (match or text.isdigit()) else None
        role = role or self.world.role_by_name(text, self.guild_id)
        if role is None:
            names = ", ".join("@" + r["name"].lstrip("@") for r in self.world.roles.values())
            raise LineError(f"{name}: no role {raw!r}; roles: {names}")
        role_id: str = role["id"]
        resolved.setdefault("roles", {})[role_id] = role
        return role_id

    def _user(self, name: str, raw: str, resolved: dict[str, dict[str, Any]]) -> str:
        text = raw.strip()
        match = re.fullmatch(r"<@!?(\d+)>", text)
        user_id = int(match.group(1)) if match else self.world.user_id(text)
        if user_id is None or user_id not in self.world.users:
            raise LineError(f"{name}: no user {raw!r}; users: member (alice), mod (mina), admin (sora)")
        resolved.setdefault("users", {})[str(user_id)] = self.world.users[user_id]
        guild = self.world.guilds[self.guild_id]
        if user_id not in guild.members:
            raise LineError(f"{name}: {raw!r} is not a member of {guild.name}")
        member = {k: v for k, v in guild.members[user_id].items() if k != "user"}
        member["permissions"] = str(self.world.permissions(user_id, guild_id=self.guild_id).value)
        resolved.setdefault("members", {})[str(user_id)] = member
        return str(user_id)
