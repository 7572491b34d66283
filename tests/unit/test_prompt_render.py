"""The sandbox prompt's rendering (`bot.sandbox.prompt.render_result`) and one end-to-end prompt run."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bot.sandbox.prompt import render_result, run_prompt

NOW = datetime(2023, 11, 14, 12, 0, tzinfo=UTC)
NAMES = {"111": "general", "222": "alice", "333": "Moderator", "444": "@everyone"}


def message(
    content: str = "",
    *,
    embeds: list[dict[str, Any]] | None = None,
    components: list[dict[str, Any]] | None = None,
    ephemeral: bool = False,
    type_: int = 4,
) -> dict[str, Any]:
    return {
        "input": "/test",
        "response": {
            "type": type_,
            "content": content,
            "embeds": embeds or [],
            "components": components or [],
            "ephemeral": ephemeral,
        },
        "followups": [],
        "requests": [{"method": "POST", "path": "/interactions/1/secret-token/callback", "json": {}}],
        "error": None,
    }


def render(result: dict[str, Any], **options: Any) -> str:
    console = Console(record=True, width=100)
    render_result(result, console, names=NAMES, now=NOW, **options)
    return console.export_text()


def test_spoilers_are_hidden_until_revealed() -> None:
    result = message("Episode 12: ||the twin dies|| and **more**")
    hidden = render(result)
    assert "the twin dies" not in hidden
    assert "▒▒▒▒ (spoiler)" in hidden
    assert "Episode 12:" in hidden and "more" in hidden and "**" not in hidden
    shown = render(result, reveal=True)
    assert "the twin dies" in shown
    assert "▒▒▒▒" not in shown


def test_spoilers_inside_embeds_and_code_spanning_lines_stay_hidden() -> None:
    embed = {
        "title": "Recap",
        "description": "||first line\nsecond `line`||",
        "fields": [{"name": "Twist", "value": "||the butler||", "inline": False}],
    }
    text = render(message(embeds=[embed]))
    assert "first line" not in text and "second" not in text and "butler" not in text
    assert text.count("▒▒▒▒ (spoiler)") == 2


def test_embed_title_fields_and_footer() -> None:
    embed = {
        "title": "Dramawatch settings — Drama Club",
        "description": "Server **settings**",
        "color": 0xE0457B,
        "fields": [
            {"name": "Time zone", "value": "`UTC` (default)", "inline": True},
            {"name": "Moderator role", "value": "not set", "inline": True},
            {"name": "Channels", "value": "**recaps**: not set", "inline": False},
        ],
        "footer": {"text": "Change with /settings"},
    }
    text = render(message(embeds=[embed], ephemeral=True))
    for expected in (
        "Dramawatch settings — Drama Club",
        "Server settings",
        "Time zone",
        "UTC (default)",
        "Moderator role",
        "not set",
        "Channels",
        "recaps: not set",
        "Change with /settings",
    ):
        assert expected in text
    assert "only you can see this" in text
    # The two inline fields sit side by side on one line.
    assert any("Time zone" in line and "Moderator role" in line for line in text.splitlines())


def test_buttons_selects_and_link_buttons() -> None:
    components = [
        {
            "type": 1,
            "components": [
                {"type": 2, "style": 2, "label": "Everyone", "custom_id": "a", "disabled": True},
                {"type": 2, "style": 1, "label": "Moderators", "custom_id": "b"},
                {"type": 2, "style": 5, "label": "Docs", "url": "https://example.org/docs"},
            ],
        },
        {
            "type": 1,
            "components": [
                {
                    "type": 3,
                    "custom_id": "s",
                    "placeholder": "Pick a show",
                    "options": [
                        {"label": "Queen of Tears", "value": "qot", "description": "2024"},
                        {"label": "Moving", "value": "mv"},
                    ],
                }
            ],
        },
    ]
    text = render(message("Pick one", components=components))
    assert "[ Everyone ]" in text and "[ Moderators ]" in text
    assert "Docs" in text and "https://example.org/docs" in text
    assert "Pick a show" in text and "Queen of Tears — 2024" in text and "Moving" in text


def test_error_is_one_red_line_and_requests_are_optional() -> None:
    result = {"input": ":bogus", "result": None, "error": "unknown meta line :bogus; type :help for the list"}
    text = render(result)
    assert text.strip() == "error: unknown meta line :bogus; type :help for the list"
    with_requests = message("hi")
    assert "/callback" not in render(with_requests)
    shown = render(with_requests, show_requests=True)
    assert "POST" in shown and "/interactions/1/…/callback" in shown and "secret-token" not in shown


def test_timestamps_are_readable_utc() -> None:
    text = render(
        message(
            "Starts <t:1700000000:F>\nshort <t:1700000000:t>, date <t:1700000000:d>\n"
            "soon <t:1699970400:R>\nwas <t:1699876800:R>\nplain <t:1700000000>"
        )
    )
    assert "Tuesday, 14 November 2023 22:13 UTC" in text
    assert "short 22:13 UTC" in text
    assert "date 2023-11-14" in text
    soon = next(line for line in text.splitlines() if "soon" in line)
    assert "soon in 2 hours" in soon and "UTC" not in soon  # relative to NOW, 2023-11-14 12:00 UTC
    assert "was a day ago" in text
    assert "plain 14 November 2023 22:13 UTC" in text
    assert "<t:" not in text


def test_mentions_are_resolved() -> None:
    text = render(message("Hi <@222> and <@!222>, see <#111>, ping <@&333> <@&444>; unknown <@999>"))
    assert "Hi @alice and @alice, see #general, ping @Moderator @everyone; unknown @999" in text
    assert "<@" not in text and "<#" not in text


def test_user_text_is_not_rich_markup() -> None:
    text = render(message(r"[bold]x[/bold] [red]y [link=https://e.org]z :smile: \*literal\*"))
    assert "[bold]x[/bold] [red]y [link=https://e.org]z :smile: *literal*" in text
    embed = {
        "title": "[b]T[/b]",
        "fields": [{"name": "[i]n", "value": "[/]v", "inline": False}],
        "footer": {"text": "[dim]f"},
    }
    text = render(message(embeds=[embed]))
    for literal in ("[b]T[/b]", "[i]n", "[/]v", "[dim]f"):
        assert literal in text


def test_modal_shows_fields_and_submit_hint() -> None:
    result = {
        "input": "/party create",
        "response": {
            "type": 9,
            "title": "New watch party",
            "custom_id": "m",
            "content": "",
            "embeds": [],
            "ephemeral": True,
            "components": [
                {
                    "type": 1,
                    "components": [
                        {
                            "type": 4,
                            "custom_id": "show",
                            "label": "Show",
                            "style": 1,
                            "required": True,
                            "max_length": 100,
                        }
                    ],
                },
                {
                    "type": 18,
                    "label": "Start time",
                    "component": {
                        "type": 4,
                        "custom_id": "start",
                        "style": 1,
                        "required": True,
                        "placeholder": "2026-12-01 20:00",
                    },
                },
                {
                    "type": 18,
                    "label": "Notes",
                    "component": {"type": 4, "custom_id": "notes", "style": 2, "required": False},
                },
            ],
        },
        "followups": [],
        "requests": [],
        "error": None,
    }
    text = render(result)
    assert "New watch party" in text
    assert "Show" in text and "up to 100 characters" in text and "Start time" in text and "Notes" in text
    assert "2026-12-01 20:00" in text
    assert ':submit show=… "Start time"=…' in text


def test_meta_results() -> None:
    choices = {
        "input": ":type /x",
        "result": {
            "choices": [{"name": "Asia/Seoul", "value": "Asia/Seoul"}, {"name": "Tokyo", "value": "Asia/Tokyo"}]
        },
        "error": None,
    }
    text = render(choices)
    assert "1. Asia/Seoul" in text and "2. Tokyo  → Asia/Tokyo" in text
    messages = {
        "input": ":messages #general",
        "error": None,
        "result": {
            "channel": "general",
            "messages": [
                {
                    "id": "1",
                    "author": "dramawatch",
                    "content": "Party at <t:1700000000:t> ||secret||",
                    "embeds": [{"title": "Watch party", "fields": []}],
                    "components": [],
                    "pinned": True,
                    "timestamp": "2023-11-14T12:00:00.000+00:00",
                }
            ],
        },
    }
    text = render(messages)
    assert "#general" in text and "dramawatch" in text and "Party at 22:13 UTC" in text
    assert "secret" not in text and "Watch party" in text and "pinned" in text
    threads = {
        "input": ":threads",
        "error": None,
        "result": {
            "threads": [
                {
                    "id": "5",
                    "name": "Ep 3 discussion",
                    "parent": "episode-forum",
                    "messages": 4,
                    "archived": False,
                    "applied_tags": [],
                }
            ]
        },
    }
    text = render(threads)
    assert "Ep 3 discussion" in text and "#episode-forum" in text and "open" in text
    events = {
        "input": ":events",
        "error": None,
        "result": {
            "events": [
                {
                    "id": "9",
                    "name": "Watch: Moving ep 1",
                    "scheduled_start_time": "2023-11-15T12:00:00+00:00",
                    "status": 1,
                    "entity_metadata": {"location": "#general"},
                    "description": None,
                }
            ]
        },
    }
    text = render(events)
    assert "Watch: Moving ep 1" in text and "2023-11-15 12:00 UTC" in text and "in a day" in text
    assert "scheduled" in text
    assert "you are now mina" in render({"input": ":as mod", "result": {"user": "mina"}, "error": None})


def test_followups_after_the_response() -> None:
    result = message("first", type_=5)
    result["followups"] = [{"content": "second", "embeds": [], "components": [], "ephemeral": False}]
    text = render(result)
    assert text.index("first") < text.index("second")
    assert "follow-up" in text


async def test_run_prompt_end_to_end(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    typed = ["/help", ":as mod", "/settings show", ":reveal"]

    def fake_input(prompt: str = "") -> str:
        if not typed:
            raise EOFError
        return typed.pop(0)

    monkeypatch.setattr(builtins, "input", fake_input)
    code = await run_prompt([], None, None, history=None)
    out = capsys.readouterr().out
    assert code == 0
    assert "Dramawatch" in out
    assert "Drama Club" in out
    assert "you are now mina" in out
    assert "Time zone" in out  # /settings show, as a moderator
    assert "error:" not in out


async def test_the_log_stays_out_of_the_prompt_and_logs_shows_its_end(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = tmp_path / "sandbox.log"
    log.write_text("first line\nsecond line\nthird line\n", encoding="utf-8")
    typed = [":logs 2", "hello from alice"]

    def fake_input(prompt: str = "") -> str:
        if not typed:
            raise EOFError
        return typed.pop(0)

    monkeypatch.setattr(builtins, "input", fake_input)
    assert await run_prompt([], None, None, history=None, log_path=log) == 0
    out = capsys.readouterr().out
    assert str(log) in out and "second line" in out and "third line" in out and "first line" not in out
    assert "error:" not in out  # a plain line is a chat message, not an error
