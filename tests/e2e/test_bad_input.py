"""Generated option values through the sandbox: never an unhandled error, never a ping.

`test_every_option_of_every_command` walks the bot's own command tree (`sandbox.bot.tree`), so a new
command or option is covered the day it lands: each option in turn gets hostile values (huge and
edge dates, unicode, markdown, mentions, URLs with bad ports or brackets; for numbers the whole range
Discord allows) while the other options hold ordinary values, then every option is hostile at once;
each value is sent as a moderator and as a member, and each must get a user-facing answer.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.sandbox.harness import Sandbox
from tests.e2e.conftest import PROBE, checked_sandbox, text_of

NASTY = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=50),
    st.sampled_from(
        [
            "",
            " ",
            "@everyone",
            "@here",
            "<@&1100000000000000012>",
            "<@1100000000000000101>",
            "**bold** __u__ ~~s~~ `code` ||spoiler||",
            "\u200b@\u200beveryone",
            "a" * 6000,
            "Asia/Seoul\u200b",
            "../../etc/passwd",
            "'; DROP TABLE guild_settings; --",
        ]
    ),
    st.builds(lambda a, b: a + "@everyone" + b, st.text(max_size=20), st.text(max_size=20)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=NASTY)
async def test_timezone_option_never_breaks_or_pings(sandbox: Sandbox, value: str) -> None:
    await sandbox.run_line(":as mod")
    result = await sandbox.run_command("settings timezone", name=value)
    if result["error"] and ("at least" in result["error"] or "at most" in result["error"]):
        return  # Discord's client refuses it before sending (1..64 characters), as the sandbox does
    assert result["error"] is None, result["error"]
    response = result["response"]
    assert response["ephemeral"]
    content = response["content"]
    assert "@everyone" not in content.replace("@\u200beveryone", "")
    assert "@here" not in content.replace("@\u200bhere", "")
    assert "<@&" not in content.replace("<@&\u200b", "")
    for request in result["requests"]:
        assert request["json"]["data"]["allowed_mentions"] == {"parse": []}
    # Either it was accepted as a real zone, or the setting is unchanged.
    repo = sandbox.bot.server_settings
    stored = (await repo.get(sandbox.world.guild_id)).timezone
    assert stored == "UTC" or f"`{stored}`" in content
    await repo.update(sandbox.world.guild_id, timezone=None)  # the next example starts from the default


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=NASTY)
async def test_timezone_autocomplete_stays_within_discord_limits(sandbox: Sandbox, value: str) -> None:
    await sandbox.run_line(":as mod")
    if len(value) > 64:
        value = value[:64]
    choices = await sandbox.autocomplete("/settings timezone name:" + shlex.quote(value))
    assert len(choices) <= 25
    for choice in choices:
        assert 1 <= len(choice["name"]) <= 100 and 1 <= len(choice["value"]) <= 100


MENTION = re.compile(r"@(everyone|here)|<@[!&]?\d+>")


def assert_no_ping(result: dict[str, Any]) -> None:
    """Nothing the bot wrote could ping: no raw @everyone/@here/role or user mention from user text,
    and every message-bearing request disables mentions."""
    response = result["response"] or {}
    texts = [response.get("content") or ""]
    for embed in response.get("embeds") or []:
        texts.append(str(embed))
    for text in texts:
        assert not MENTION.search(text), text
    for request in result["requests"]:
        payload = (request["json"] or {}).get("data", request["json"]) or {}
        if isinstance(payload, dict) and ("content" in payload or "embeds" in payload):
            assert payload.get("allowed_mentions") == {"parse": []}


LOOKUP_COMMANDS = [
    ("recap", "drama", {"episode": "3"}),
    ("who", "name", {}),
    ("who", "drama", {"name": "haein"}),
    ("drama", "drama", {}),
    ("progress set", "drama", {"episode": "3"}),
    ("progress clear", "drama", {}),
    ("discuss", "drama", {"episode": "2"}),
    ("follow add", "drama", {}),
    ("follow remove", "drama", {}),
]


@pytest.mark.parametrize(("path", "option", "others"), LOOKUP_COMMANDS, ids=lambda v: str(v))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=NASTY)
async def test_lookup_options_never_break_or_ping(
    sandbox: Sandbox, path: str, option: str, others: dict[str, str], value: str
) -> None:
    await sandbox.run_line(":as mod")
    result = await sandbox.run_command(path, **{option: value}, **others)
    if result["error"] and ("at least" in result["error"] or "at most" in result["error"]):
        return  # refused by Discord's client before sending (length limits), as the sandbox does
    assert result["error"] is None, result["error"]
    assert result["response"] is not None
    assert_no_ping(result)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(episode=st.integers(min_value=-5, max_value=20000))
async def test_recap_any_episode_number(sandbox: Sandbox, episode: int) -> None:
    result = await sandbox.run_command("recap", drama="queen-of-tears", episode=str(episode))
    if not 1 <= episode <= 9999:
        assert result["error"] and ("at least" in result["error"] or "at most" in result["error"])
        return
    assert result["error"] is None
    response = result["response"]
    if episode > 16:
        assert response["ephemeral"] and "1–16" in response["content"]
    else:
        assert response["embeds"][0]["title"].endswith(f"Episode {episode}")


@pytest.mark.parametrize("line", ["/recap drama:", "/who name:", "/drama drama:", "/who name:haein drama:"])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=NASTY)
async def test_lookup_autocomplete_stays_within_limits(sandbox: Sandbox, line: str, value: str) -> None:
    choices = await sandbox.autocomplete(line + shlex.quote(value[:100]))
    assert len(choices) <= 25
    for choice in choices:
        assert 1 <= len(choice["name"]) <= 100 and 1 <= len(str(choice["value"])) <= 100


# -- the edges named in the hardening issue -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "zone", "expected"),
    [
        ("9999-12-31 23:59", "America/New_York", "`start`: 9999-12-31 23:59 in America/New_York is too far ahead; "),
        ("9999-12-31 23:59", None, "`start`: 9999-12-31 23:59 in UTC is too far ahead; "),
        ("0001-01-01 00:00", "Asia/Tokyo", "`start`: 0001-01-01 00:00 in Asia/Tokyo is in the past; "),
    ],
)
async def test_a_start_at_the_edge_of_the_calendar_is_refused_saying_what_is_allowed(
    sandbox: Sandbox, start: str, zone: str | None, expected: str
) -> None:
    await sandbox.run_line(":as mod")
    options = {"drama": "queen-of-tears", "episodes": "1", "start": start} | ({"timezone": zone} if zone else {})
    result = await sandbox.run_command("watchparty schedule", **options)
    assert result["error"] is None, result["error"]
    content = result["response"]["content"]
    assert content.startswith(expected), content
    assert "a watch party starts at most 5 years from now" in content or "give a time in the future" in content
    assert not sandbox.world.events  # nothing was scheduled


@pytest.mark.parametrize("path", ["feeds add", "feeds test"])
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://[::1/feed.xml", "is not a web address (Invalid IPv6 URL); give one like https://example.com/feed.xml"),
        ("http://localhost:99999/", "`url`: the port 99999 is not allowed: a port is a whole number from 1 to 65535"),
        ("http://localhost:0/feed.xml", "`url`: the port 0 is not allowed: a port is a whole number from 1 to 65535"),
    ],
)
async def test_an_unusable_feed_address_is_refused_naming_url(
    sandbox: Sandbox, path: str, url: str, expected: str
) -> None:
    await sandbox.run_line(":as mod")
    result = await sandbox.run_command(path, url=url)
    assert result["error"] is None, result["error"]
    shown = text_of(result["response"]) + "".join(text_of(f) for f in result["followups"])
    assert shown.startswith("`url`: ") and expected in shown, shown
    listing = await sandbox.run_command("feeds list")
    assert listing["response"]["content"].startswith("No feeds yet")  # nothing was stored


# -- every option of every command ----------------------------------------------------------------------------
OptionType = discord.AppCommandOptionType
DISCORD_INTEGERS = (-(2**53), 2**53)  # the range Discord allows for an integer option without bounds
ROLES = ("mod", "member")
SENT: Counter[str] = Counter()  # commands sent, by path: proof that every command was exercised
TARGET_EXAMPLES = 6  # per option: that option hostile, the others ordinary
ALL_EXAMPLES = 10  # per command: every option hostile or ordinary at once

MENTIONS = [
    "@everyone",
    "@here",
    "<@&1100000000000000002>",  # the @everyone role, as a role mention
    "<@&1100000000000000012>",
    "<@1100000000000000101>",
    "<@!1100000000000000102>",
    "<#1100000000000001002>",
    "<@&99999999999999999999999>",
]
EDGE_DATES = [
    "9999-12-31 23:59",
    "0001-01-01 00:00",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "10000-01-01 00:00",
    "0000-00-00 00:00",
    "2026-02-29 20:00",
    "2028-02-29 20:00",
    "2026-13-45 25:61",
    "2026-03-08 02:30",  # the DST gap in New York
    "2026-11-01 01:30",  # the DST overlap in New York
    "1970-01-01 00:00",
    "2038-01-19 03:14",
    "２０２６-１２-０１ ２０:００",
    "٢٠٢٦-١٢-٠١ ٢٠:٠٠",
]
BAD_URLS = [
    "http://[::1/feed.xml",
    "http://localhost:99999/",
    "http://localhost:0/feed.xml",
    "http://localhost:-1/",
    "http://localhost:abc/",
    "https://[::1]:65536/feed.xml",
    "http://[::1]x:1/",
    "http://::1]:1/",
    "http://[]:1/",
    "http://u:p@127.0.0.1:1/feed.xml",
    "http://a..b:1/",
    "http://" + "a" * 64 + ".example:1/",
    "http://example.com\u2100/",
    "http://\ud800/",
    "http:///feed.xml",
    "http://127.0.0.1:1/%zz\x00 #?q=@everyone",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "ftp://127.0.0.1:1/feed.xml",
]
EDGE_TEXT = [
    "",
    " ",
    "\n",
    "**bold** __u__ ~~s~~ `code` ||spoiler|| > quote",
    "```\nunclosed code block",
    "[a link](https://example.com)",
    "# heading",
    "\u200b@\u200beveryone",
    "\u202eevil\u202c",
    "a" * 6000,
    "🙂" * 300,
    "Z̸̡̛͚a̶͎̓l̵̰̈g̸̣̈́o̷̫͝",
    "한국어 드라마",
    "ＱＵＥＥＮ",
    "Asia/Seoul\u200b",
    "../../etc/passwd",
    "'; DROP TABLE guild_settings; --",
    "%s %d {0} {name}",
    "0",
    "-1",
    "1-9999",
    "9999-1",
    "99999999999999999999999",
    "1e309",
    "nan",
    "-inf",
    "0x10",
    "١٢",
    "1d,1h,10m,5m,1m,1w",
    "99999w",
    "0m",
    "none",
]
# Every URL a generator builds either cannot be used or points at a closed port on loopback: nothing
# generated may reach the network or a real service.
AUTHORITIES = [
    "127.0.0.1:1",
    "[::1]:9",
    "localhost:1",
    "localhost:99999",
    "127.0.0.1:0",
    "[::1]:65536",
    "localhost:-1",
    "localhost:abc",
    "[::1:1",
    "::1]:1",
    "127.0.0.1:１",
    "127.0.0.1:٩",
    "a..b:1",
    "",
    ":1",
]


def _date_text(moment: datetime, separator: str) -> str:
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}{separator}{moment.hour:02d}:{moment.minute:02d}"


DATES = st.builds(
    _date_text,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
    st.sampled_from([" ", "T", "  "]),
)
URLS = st.builds(
    lambda scheme, authority, path: f"{scheme}://{authority}/{path}",
    st.sampled_from(["http", "https", "HTTP", "ftp", "javascript"]),
    st.sampled_from(AUTHORITIES),
    st.text(max_size=30),
)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=120),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Mn"]), max_size=40),
    st.sampled_from(EDGE_TEXT + EDGE_DATES + BAD_URLS + MENTIONS),
    DATES,
    URLS,
    st.builds(lambda a, m, b: a + m + b, st.text(max_size=10), st.sampled_from(MENTIONS), st.text(max_size=10)),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
# Given to every text option (cut to its length limits) whatever else is generated.
ALWAYS = ["9999-12-31 23:59", "0001-01-01 00:00", "http://[::1/feed.xml", "http://localhost:99999/", "@everyone"]
# Ordinary values for the text options that have neither choices nor autocomplete.
ORDINARY = {
    "url": "http://127.0.0.1:1/feed.xml",
    "episodes": "1",
    "start": "2026-12-05 20:00",
    "reminders": "1h",
    "value": "1h",
    "note": "Snacks welcome",
    "where": "Online",
}
# Run once in each fresh sandbox so that the options naming a party or a feed have one to name.
SEED = [
    "/watchparty schedule drama:queen-of-tears episodes:1 start:'2026-12-05 20:00'",
    f"/feeds add url:{ORDINARY['url']}",
]
MENTION_TOKEN = re.compile(r"@everyone|@here|<@[!&]?\d+>")


class Option:
    """One option of a slash command, as the bot declares it."""

    def __init__(self, parameter: app_commands.Parameter) -> None:
        self.name = parameter.display_name
        self.type = parameter.type
        self.required = parameter.required
        self.low = parameter.min_value  # for text: the length limits
        self.high = parameter.max_value
        self.choices = [str(c.value) for c in parameter.choices]
        self.channel_types = [t.value for t in parameter.channel_types]
        self.autocomplete = bool(parameter.autocomplete)

    def fit(self, text: str) -> str:
        """Text cut to the length limits Discord's client enforces before sending."""
        if self.high is not None:
            text = text[: int(self.high)]
        if self.low is not None and len(text) < self.low:
            text += "x" * (int(self.low) - len(text))
        return text


def leaf_commands(tree: app_commands.CommandTree[Any]) -> Iterator[tuple[str, list[Option]]]:
    """(path, options) of every slash command in the tree, subcommands included; the test-only probe
    extension (which crashes on purpose) is left out."""

    def walk(commands: list[Any]) -> Iterator[tuple[str, list[Option]]]:
        for command in commands:
            if isinstance(command, app_commands.Group):
                yield from walk(command.commands)
            elif isinstance(command, app_commands.Command) and command.module != PROBE:
                yield command.qualified_name, [Option(p) for p in command.parameters]

    yield from walk(list(tree.get_commands(type=discord.AppCommandType.chat_input)))


def nameable(option: Option, sandbox: Sandbox) -> list[str]:
    """What a channel, role, user or mentionable option can name here, an ordinary one first."""
    world = sandbox.world
    channels = [
        f"<#{c['id']}>"
        for c in world.channels.values()
        if not option.channel_types or c["type"] in option.channel_types
    ]
    roles = [f"<@&{role_id}>" for role_id in sorted(world.roles, key=lambda r: r != world.moderator_role)]
    users = [f"<@{user_id}>" for user_id in sorted(world.users, key=lambda u: u != world.alice)]
    by_type = {
        OptionType.channel: channels,
        OptionType.role: roles,
        OptionType.user: users,
        OptionType.mentionable: users + roles,
    }
    return by_type.get(option.type, [])


def hostile(option: Option, sandbox: Sandbox) -> st.SearchStrategy[str] | None:
    """Values for `option` that Discord's client would send; None when none can be typed here."""
    if option.choices:
        return st.sampled_from(option.choices)
    if option.type is OptionType.string:
        return HOSTILE_TEXT.map(option.fit)
    if option.type in (OptionType.integer, OptionType.number):
        low = int(option.low) if option.low is not None else DISCORD_INTEGERS[0]
        high = int(option.high) if option.high is not None else DISCORD_INTEGERS[1]
        edges = sorted({low, high, *(min(max(n, low), high) for n in (-1, 0, 1))})
        if option.type is OptionType.integer:
            return st.one_of(st.sampled_from(edges), st.integers(low, high)).map(str)
        return st.floats(low, high, allow_nan=False).map(repr)
    if option.type is OptionType.boolean:
        return st.sampled_from(["true", "false"])
    named = nameable(option, sandbox)
    return st.sampled_from(named) if named else None  # an attachment cannot be typed in the sandbox


async def ordinary(sandbox: Sandbox, path: str, option: Option) -> str | None:
    """A value a moderator would give `option`: what its autocomplete offers first, else a plain one."""
    if option.choices:
        return option.choices[0]
    if option.autocomplete:
        offered = await sandbox.autocomplete(f"/{path} {option.name}:")
        if offered:
            return str(offered[0]["value"])
    if option.type is OptionType.string:
        return option.fit(ORDINARY.get(option.name, "x"))
    if option.type in (OptionType.integer, OptionType.number):
        low = option.low if option.low is not None else 1
        return str(int(min(max(1, low), option.high if option.high is not None else max(1, low))))
    if option.type is OptionType.boolean:
        return "false"
    named = nameable(option, sandbox)
    return named[0] if named else None


def message_payloads(body: Any) -> Iterator[dict[str, Any]]:
    """The message bodies in a REST request: an interaction callback's data, a message, a forum post."""
    if not isinstance(body, dict):
        return
    for candidate in (body, body.get("data"), body.get("message")):
        if isinstance(candidate, dict) and ("content" in candidate or "embeds" in candidate):
            yield candidate


def check_answer(result: dict[str, Any], typed: list[str]) -> None:
    """A user-facing answer: no unexpected error (no error id), no ping, no echoed mention."""
    assert result["error"] is None, result["error"]
    response = result["response"]
    assert response is not None, "no response"
    shown = "\n".join(text_of(m) for m in [response, *result["followups"]])
    assert shown.strip() or response["type"] == 9, "an empty answer"  # 9: a modal opened
    assert "error id" not in shown, shown
    for token in {t for value in typed for t in MENTION_TOKEN.findall(value)}:  # typed text is echoed inert
        assert token not in shown, f"echoed {token!r}: {shown}"
    for request in result["requests"]:
        if request["method"] != "POST":
            continue  # an edit never pings
        for payload in message_payloads(request["json"]):
            assert payload.get("allowed_mentions") == {"parse": []}, (request["method"], request["path"], payload)


async def send_as_each_role(sandbox: Sandbox, path: str, options: list[Option], values: dict[str, str]) -> None:
    typed = [values[o.name] for o in options if o.name in values and o.type is OptionType.string]
    for role in ROLES:
        SENT[path] += 1
        await sandbox.run_line(f":as {role}")
        result = await sandbox.run_command(path, **values)
        try:
            check_answer(result, typed)
        except AssertionError as exc:
            raise AssertionError(f"/{path} as {role} with {values!r}: {exc}") from None


def fuzz(
    runner: asyncio.Runner,
    sandbox: Sandbox,
    path: str,
    options: list[Option],
    values: st.SearchStrategy[dict[str, str]],
    max_examples: int,
    explicit: list[dict[str, str]],
) -> None:
    """Run a hypothesis test that sends the generated values, on the sandbox's own event loop."""

    def send(values: dict[str, str]) -> None:
        runner.run(send_as_each_role(sandbox, path, options, values))

    send.__name__ = send.__qualname__ = f"send_{path.replace(' ', '_')}"
    test: Callable[[], None] = given(values=values)(send)
    for case in explicit:
        test = example(values=case)(test)
    settings(max_examples=max_examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))(test)()


def fuzz_command(runner: asyncio.Runner, sandbox: Sandbox, path: str, options: list[Option]) -> None:
    usual: dict[str, str] = {}
    for option in options:
        value = runner.run(ordinary(sandbox, path, option))
        if value is not None:
            usual[option.name] = value
    required = {o.name: st.just(usual[o.name]) for o in options if o.required and o.name in usual}
    if not options:
        runner.run(send_as_each_role(sandbox, path, options, {}))
        return
    for option in options:  # this option hostile, the required others ordinary
        strategy = hostile(option, sandbox)
        if strategy is None:
            continue
        base = {name: value for name, value in usual.items() if name in required and name != option.name}
        explicit = [{**base, option.name: option.fit(v)} for v in ALWAYS] if option.type is OptionType.string else []
        shape = st.fixed_dictionaries({**required, option.name: strategy})
        fuzz(runner, sandbox, path, options, shape, TARGET_EXAMPLES, explicit if not option.choices else [])
    mixed = {
        o.name: st.one_of(s, st.just(usual[o.name])) if o.name in usual else s
        for o in options
        if (s := hostile(o, sandbox)) is not None
    }
    shape = st.fixed_dictionaries(
        {n: s for n, s in mixed.items() if n in required},
        optional={n: s for n, s in mixed.items() if n not in required},
    )
    fuzz(runner, sandbox, path, options, shape, ALL_EXAMPLES, [])


def test_every_option_of_every_command(tmp_path: Path) -> None:
    """Hostile values to every option of every command in the bot's tree, as a moderator and as a
    member: always a user-facing answer, never an error id, never a ping. Each top-level command (a
    group with its subcommands) runs in a fresh sandbox; every failure is gathered before the end."""
    failures: list[str] = []
    timings: list[str] = []
    SENT.clear()
    with asyncio.Runner() as runner:
        probe = checked_sandbox(tmp_path / "tree")
        sandbox = runner.run(probe.__aenter__())
        commands = list(leaf_commands(sandbox.bot.tree))
        runner.run(probe.__aexit__(None, None, None))
        assert len(commands) >= 20, [path for path, _ in commands]
        groups: dict[str, list[tuple[str, list[Option]]]] = {}
        for path, options in commands:
            groups.setdefault(path.split()[0], []).append((path, options))
        for name, members in groups.items():
            started = time.perf_counter()
            context = checked_sandbox(tmp_path / name)
            sandbox = runner.run(context.__aenter__())
            try:
                runner.run(sandbox.run_line(":as mod"))
                for line in SEED:
                    runner.run(sandbox.run_line(line))
                for path, options in members:
                    try:
                        fuzz_command(runner, sandbox, path, options)
                    except Exception as exc:  # noqa: BLE001 - gathered: one run shows every command that fails
                        notes = "\n".join(getattr(exc, "__notes__", []))
                        failures.append(f"/{path}: {exc}\n{notes}")
            finally:
                try:
                    runner.run(context.__aexit__(None, None, None))
                except AssertionError as exc:
                    failures.append(f"/{name} (after the run): {exc}")
            sent = ", ".join(f"/{path} {SENT[path]}" for path, _ in members)
            timings.append(f"/{name}: {time.perf_counter() - started:.2f} s; commands sent: {sent}")
    print("\n".join(timings))  # shown with -s
    assert not failures, "\n\n".join(failures)
    assert all(SENT[path] >= len(ROLES) * (1 + len(options)) for path, options in commands), SENT
