"""The interactive sandbox prompt: type lines as in Discord and see what the bot answers, drawn with rich.

`render_result` draws one `Sandbox.run_line` result (messages as panels, embeds as nested panels,
buttons as `[ Label ]`, modals as forms, meta results as short lines or tables). Everything that
comes from the bot or from users is turned into `rich.text.Text` objects, never parsed as rich
markup, so `[bold]` in a message stays literal. Spoilers (`||…||`) stay hidden until `:reveal`.

`run_prompt` is `python -m bot sandbox` without `--json -c`: a line-editing prompt over a `Sandbox`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.style import Style
from rich.table import Table
from rich.text import Text

SPOILER_HIDDEN = "▒▒▒▒ (spoiler)"
HISTORY_FILE = Path("~/.dramawatch_sandbox_history")
MAX_OTHER_POSTS = 5  # bot posts made elsewhere during one line that are drawn in full

PROMPT_HELP = """\
Prompt only:
  :reveal                       show the spoilers in the last result
  :requests                     show or hide the REST calls the bot made
  :quit                         leave (or Ctrl+D)"""

BUTTON_STYLES = {
    1: "bold white on blue",  # primary
    2: "white on grey35",  # secondary
    3: "bold white on green4",  # success
    4: "bold white on red3",  # danger
    5: "bright_blue",  # link
    6: "bold white on magenta",  # premium
}
SELECT_KINDS = {3: "", 5: "a user", 6: "a role", 7: "a user or role", 8: "a channel"}
EVENT_STATUS = {1: "scheduled", 2: "active", 3: "completed", 4: "cancelled"}
MENTION_STYLE = Style(color="bright_blue", bold=True)
TIMESTAMP_STYLE = Style(bgcolor="grey23")
CODE_STYLE = Style(color="bright_cyan", bgcolor="grey15")
BOT_STYLE = Style(color="magenta", bold=True)


# -- Discord markdown --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    names: Mapping[str, str]
    now: datetime
    reveal: bool


# Line prefixes (headings, subtext, quotes) are swapped for private-use characters before the
# inline pass, so they survive it (or vanish inside a hidden spoiler) and are styled afterwards.
_LINE_MARKS = {"\ue001": "# ", "\ue002": "## ", "\ue003": "### ", "\ue004": "-# ", "\ue005": "> ", "\ue006": ">>> "}
_LINE_MARK_CHARS = re.compile("[\ue001-\ue006]")
_HEADING = re.compile(r"(#{1,3}|-#) (?=\S)")
_INLINE = re.compile(
    r"(?P<esc>\\[^\w\s])"
    r"|```(?:(?P<lang>[\w+-]*)\n)?(?P<block>.*?)```"
    r"|``(?P<code2>.+?)``|`(?P<code1>[^`]+)`"
    r"|\|\|(?P<spoiler>.+?)\|\|"
    r"|\*\*(?P<bold>.+?)\*\*"
    r"|__(?P<under>.+?)__"
    r"|~~(?P<strike>.+?)~~"
    r"|\*(?P<em1>[^\s*](?:.*?[^\s\\*])?)\*"
    r"|(?<![^\W_])_(?P<em2>[^_\n]+?)_(?![^\W_])"
    r"|<(?P<mkind>@!?|@&|#)(?P<mid>\d+)>"
    r"|<t:(?P<ts>-?\d+)(?::(?P<tsstyle>[tTdDfFR]))?>"
    r"|<a?:(?P<emoji>\w+):\d+>"
    r"|\[(?P<ltext>[^\]\n]+)\]\(<?(?P<lurl>https?://[^)\s>]+)>?\)"
    r"|(?P<everyone>@everyone|@here)",
    re.DOTALL,
)


def _mark_lines(text: str) -> str:
    out = []
    in_fence = False
    for line in _LINE_MARK_CHARS.sub("", text).split("\n"):
        if not in_fence:
            heading = _HEADING.match(line)
            if heading:
                mark = {"#": "\ue001", "##": "\ue002", "###": "\ue003", "-#": "\ue004"}[heading.group(1)]
                line = mark + line[heading.end() :]
            elif line.startswith(">>> "):
                line = "\ue006" + line[4:]
            elif line.startswith("> "):
                line = "\ue005" + line[2:]
        if line.count("```") % 2:
            in_fence = not in_fence
        out.append(line)
    return "\n".join(out)


def _unmark(text: str) -> str:
    return _LINE_MARK_CHARS.sub(lambda m: _LINE_MARKS[m.group()], text)


def _label(names: Mapping[str, str], key: str, sigil: str) -> str:
    name = names.get(key)
    if not name:
        return f"{sigil}{key}"
    return name if name.startswith(sigil) else sigil + name


def _inline(text: str, ctx: _Context) -> Text:
    out = Text()
    pos = 0
    for match in _INLINE.finditer(text):
        if match.start() > pos:
            out.append(text[pos : match.start()])
        pos = match.end()
        group = match.lastgroup
        value = match.group(group) if group else ""
        if group == "esc":
            out.append(value[1])
        elif group in ("block", "lang"):
            code = _unmark(match.group("block") or "").strip("\n")
            out.append(code, style=CODE_STYLE)
        elif group in ("code1", "code2"):
            out.append(_unmark(value), style=CODE_STYLE)
        elif group == "spoiler":
            if ctx.reveal:
                out.append_text(_styled(_inline(value, ctx), Style(bgcolor="grey30")))
            else:
                out.append(SPOILER_HIDDEN, style="reverse")
        elif group == "bold":
            out.append_text(_styled(_inline(value, ctx), "bold"))
        elif group == "under":
            out.append_text(_styled(_inline(value, ctx), "underline"))
        elif group == "strike":
            out.append_text(_styled(_inline(value, ctx), "strike"))
        elif group in ("em1", "em2"):
            out.append_text(_styled(_inline(value, ctx), "italic"))
        elif group == "mid":
            kind = match.group("mkind")
            sigil = "#" if kind == "#" else "@"
            out.append(_label(ctx.names, value, sigil), style=MENTION_STYLE)
        elif group in ("ts", "tsstyle"):
            out.append(format_timestamp(int(match.group("ts")), match.group("tsstyle"), ctx.now), style=TIMESTAMP_STYLE)
        elif group == "emoji":
            out.append(f":{value}:")
        elif group in ("ltext", "lurl"):
            url = match.group("lurl")
            label = _inline(match.group("ltext"), ctx)
            label.stylize(Style(color="bright_blue", underline=True, link=url))
            out.append_text(label)
            out.append(f" ({url})", style="dim")
        elif group == "everyone":
            out.append(value, style=MENTION_STYLE)
        else:  # pragma: no cover - every alternative is named
            out.append(match.group())
    if pos < len(text):
        out.append(text[pos:])
    return out


def _styled(text: Text, style: str | Style) -> Text:
    text.stylize(style)
    return text


def _markdown(text: str, ctx: _Context, style: str | Style = "") -> Text:
    rendered = _inline(_mark_lines(text), ctx)
    lines = []
    quoting = False
    for line in rendered.split("\n", allow_blank=True):
        mark = line.plain[:1]
        if mark in _LINE_MARKS:
            line = line[1:]
        if mark == "\ue006":
            quoting = True
        if mark == "\ue001":
            line.stylize("bold underline")
        elif mark in ("\ue002", "\ue003"):
            line.stylize("bold")
        elif mark == "\ue004":
            line.stylize("dim")
        if quoting or mark == "\ue005":
            line = Text("▌ ", style="grey50") + line
        lines.append(line)
    result = Text("\n").join(lines)
    # Leftover marks (inside inline code spanning lines, say) go back to what was typed.
    result = _replace_marks(result)
    if style:
        result.stylize(style)
    return result


def _replace_marks(text: Text) -> Text:
    if not _LINE_MARK_CHARS.search(text.plain):
        return text
    out = Text()
    for piece in text.divide(m.start() for m in _LINE_MARK_CHARS.finditer(text.plain)):
        mark = piece.plain[:1]
        if mark in _LINE_MARKS:
            out.append(_LINE_MARKS[mark])
            piece = piece[1:]
        out.append_text(piece)
    return out


# -- timestamps ---------------------------------------------------------------------------------


def _relative(moment: datetime, now: datetime) -> str:
    delta = (moment - now).total_seconds()
    seconds = abs(delta)
    if seconds < 45:
        phrase = "a few seconds"
    elif seconds < 90:
        phrase = "a minute"
    elif seconds < 45 * 60:
        phrase = f"{round(seconds / 60)} minutes"
    elif seconds < 90 * 60:
        phrase = "an hour"
    elif seconds < 22 * 3600:
        phrase = f"{round(seconds / 3600)} hours"
    elif seconds < 36 * 3600:
        phrase = "a day"
    elif seconds < 26 * 86400:
        phrase = f"{round(seconds / 86400)} days"
    elif seconds < 45 * 86400:
        phrase = "a month"
    elif seconds < 320 * 86400:
        phrase = f"{round(seconds / (30.44 * 86400))} months"
    elif seconds < 548 * 86400:
        phrase = "a year"
    else:
        phrase = f"{round(seconds / (365.25 * 86400))} years"
    return f"in {phrase}" if delta > 0 else f"{phrase} ago"


def _long_date(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def format_timestamp(seconds: int, style: str | None, now: datetime | None = None) -> str:
    """A Discord `<t:…:style>` timestamp as readable UTC text (relative to `now` for style R)."""
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return f"<t:{seconds}{':' + style if style else ''}>"
    if style == "t":
        return f"{moment:%H:%M} UTC"
    if style == "T":
        return f"{moment:%H:%M:%S} UTC"
    if style == "d":
        return f"{moment:%Y-%m-%d}"
    if style == "D":
        return _long_date(moment)
    if style == "F":
        return f"{moment:%A}, {_long_date(moment)} {moment:%H:%M} UTC"
    if style == "R":
        return _relative(moment, now or datetime.now(UTC))  # as Discord shows it (bots add the date themselves)
    return f"{_long_date(moment)} {moment:%H:%M} UTC"


def _parse_iso(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _iso_plain(value: str) -> str:
    moment = _parse_iso(value)
    return f"{moment:%a} {moment:%Y-%m-%d %H:%M} UTC" if moment else value


def _iso_text(value: str | None, now: datetime) -> Text:
    """An ISO time from a payload as a UTC date, and how far it is from now."""
    if not value:
        return Text("—", style="dim")
    moment = _parse_iso(value)
    if moment is None:
        return Text(value)
    text = Text(_iso_plain(value))
    text.append(f" ({_relative(moment, now)})", style="dim")
    return text


# -- messages, embeds, components ---------------------------------------------------------------


def _color(value: Any) -> str:
    if isinstance(value, int) and 0 < value <= 0xFFFFFF:
        return f"#{value:06x}"
    return "grey50"


def _embed(embed: Mapping[str, Any], ctx: _Context) -> Panel:
    parts: list[RenderableType] = []
    author = embed.get("author") or {}
    if author.get("name"):
        parts.append(Text(str(author["name"]), style="bold"))
    if embed.get("title"):
        title = _markdown(str(embed["title"]), ctx, "bold")
        if embed.get("url"):
            title.stylize(Style(link=str(embed["url"])))
            title.append(f"  {embed['url']}", style="dim")
        parts.append(title)
    if embed.get("description"):
        parts.append(_markdown(str(embed["description"]), ctx))
    fields = list(embed.get("fields") or [])
    row: list[Mapping[str, Any]] = []

    def flush() -> None:
        if len(row) == 1:
            parts.append(_field(row[0], ctx))
        elif row:
            grid = Table.grid(padding=(0, 3))
            for _ in row:
                grid.add_column(max_width=40)
            grid.add_row(*(_field(f, ctx) for f in row))
            parts.append(grid)
        row.clear()

    for field_ in fields:
        if field_.get("inline") and len(row) < 3:
            row.append(field_)
            continue
        flush()
        if field_.get("inline"):
            row.append(field_)
        else:
            parts.append(_field(field_, ctx))
    flush()
    for key in ("image", "thumbnail", "video"):
        media = embed.get(key) or {}
        if media.get("url"):
            parts.append(Text(f"[{key}: {media['url']}]", style="dim"))
    footer = Text(style="dim")
    if (embed.get("footer") or {}).get("text"):
        footer.append(str(embed["footer"]["text"]))
    if embed.get("timestamp"):
        if footer:
            footer.append(" • ")
        footer.append_text(_iso_text(str(embed["timestamp"]), ctx.now))
    if footer:
        parts.append(footer)
    if not parts:
        parts.append(Text("(empty embed)", style="dim"))
    return Panel(Group(*_spaced(parts)), border_style=_color(embed.get("color")), expand=False, padding=(0, 1))


def _spaced(parts: list[RenderableType]) -> list[RenderableType]:
    """A blank line between the blocks of an embed, as Discord leaves a little room."""
    out: list[RenderableType] = []
    for index, part in enumerate(parts):
        if index:
            out.append(Text(""))
        out.append(part)
    return out


def _field(field_: Mapping[str, Any], ctx: _Context) -> Text:
    text = _markdown(str(field_.get("name") or ""), ctx, "bold")
    text.append("\n")
    text.append_text(_markdown(str(field_.get("value") or ""), ctx))
    return text


def _button(button: Mapping[str, Any]) -> Text:
    label = str(button.get("label") or "")
    emoji = (button.get("emoji") or {}).get("name")
    if emoji:
        label = f"{emoji} {label}".strip()
    style_number = int(button.get("style") or 2)
    disabled = bool(button.get("disabled"))
    text = Text()
    if style_number == 5:
        text.append(f"[ {label} ↗ ]", style="dim" if disabled else "bold bright_blue")
        if button.get("url"):
            text.append(f" {button['url']}", style="dim")
        return text
    style = BUTTON_STYLES.get(style_number, BUTTON_STYLES[2])
    if disabled:
        style = "grey50 on grey19"
    text.append(f"[ {label} ]", style=style)
    return text


def _select(select: Mapping[str, Any], ctx: _Context) -> Text:
    kind = int(select.get("type") or 3)
    text = Text("▾ ", style="bold")
    placeholder = select.get("placeholder") or (f"Pick {SELECT_KINDS[kind]}" if SELECT_KINDS.get(kind) else "Choose…")
    text.append(str(placeholder), style="dim" if select.get("disabled") else "bold")
    low, high = select.get("min_values", 1), select.get("max_values", 1)
    if high and high != 1:
        text.append(f"  (pick {low}–{high})", style="dim")
    if select.get("disabled"):
        text.append("  (disabled)", style="dim")
    if select.get("options") and not select.get("disabled"):
        text.append("  choose with :pick LABEL", style="dim")
    for option in select.get("options") or []:
        text.append("\n  ")
        text.append("● " if option.get("default") else "○ ", style="dim")
        emoji = (option.get("emoji") or {}).get("name")
        if emoji:
            text.append(f"{emoji} ")
        text.append(str(option.get("label") or option.get("value") or ""))
        if option.get("description"):
            text.append(f" — {option['description']}", style="dim")
    return text


def _components(components: list[Mapping[str, Any]], ctx: _Context) -> list[RenderableType]:
    out: list[RenderableType] = []
    for component in components:
        kind = component.get("type")
        if kind == 1:
            children = list(component.get("components") or [])
            buttons = [c for c in children if c.get("type") == 2]
            if buttons:
                out.append(Text(" ").join(_button(b) for b in buttons))
            out.extend(_components([c for c in children if c.get("type") != 2], ctx))
        elif kind == 2:
            out.append(_button(component))
        elif kind in SELECT_KINDS:
            out.append(_select(component, ctx))
        elif kind == 10:  # text display
            out.append(_markdown(str(component.get("content") or ""), ctx))
        elif kind == 9:  # section: text displays plus one accessory
            out.extend(_components(list(component.get("components") or []), ctx))
            if component.get("accessory"):
                out.extend(_components([component["accessory"]], ctx))
        elif kind == 17:  # container
            inner = _components(list(component.get("components") or []), ctx)
            out.append(Panel(Group(*inner), border_style=_color(component.get("accent_color")), expand=False))
        elif kind == 14:  # separator
            out.append(Text("─" * 24, style="grey42"))
        elif kind in (11, 12, 13):  # thumbnail, media gallery, file
            items = component.get("items") or [component]
            for item in items:
                media = item.get("media") or item.get("file") or {}
                out.append(Text(f"[media: {media.get('url', '?')}]", style="dim"))
        elif kind == 4:  # a text input outside a modal: show it as a field
            out.append(_text_input(component, component.get("label")))
        else:
            out.append(Text(f"(component type {kind})", style="dim"))
    return out


def _message_body(message: Mapping[str, Any], ctx: _Context, empty: str = "(empty message)") -> Group:
    parts: list[RenderableType] = []
    if message.get("content"):
        parts.append(_markdown(str(message["content"]), ctx))
    for embed in message.get("embeds") or []:
        parts.append(_embed(embed, ctx))
    parts.extend(_components(list(message.get("components") or []), ctx))
    for attachment in message.get("attachments") or []:
        size = attachment.get("size")
        about = f" ({int(size):,} bytes)" if isinstance(size, int) else ""
        parts.append(Text(f"📎 {attachment.get('filename') or 'attachment'}{about}", style="bold"))
        if attachment.get("text"):  # a text file (an .ics calendar): shown as it is
            parts.append(Text(str(attachment["text"]).rstrip(), style="dim"))
    if not parts:
        parts.append(Text(empty, style="dim italic"))
    return Group(*parts)


def _message_panel(
    message: Mapping[str, Any], ctx: _Context, note: str, *, author: str = "Dramawatch", empty: str = "(empty message)"
) -> Panel:
    title = Text(author, style=BOT_STYLE)
    if note:
        title.append(f" · {note}", style="dim")
    subtitle = Text("only you can see this", style="dim italic") if message.get("ephemeral") else None
    return Panel(
        _message_body(message, ctx, empty),
        title=title,
        title_align="left",
        subtitle=subtitle,
        subtitle_align="left",
        border_style="grey50",
        expand=False,
        padding=(0, 1),
    )


def _text_input(component: Mapping[str, Any], label: Any) -> Text:
    text = Text(str(label or component.get("custom_id") or "field"), style="bold")
    if component.get("required", True):
        text.append(" *", style="red")
    details = ["paragraph" if component.get("style") == 2 else "short"]
    if component.get("min_length"):
        details.append(f"at least {component['min_length']}")
    if component.get("max_length"):
        details.append(f"up to {component['max_length']} characters")
    text.append(f"  ({', '.join(details)})", style="dim")
    if component.get("value"):
        text.append("\n  ")
        text.append(str(component["value"]))
    elif component.get("placeholder"):
        text.append("\n  ")
        text.append(str(component["placeholder"]), style="dim italic")
    return text


def _modal_inputs(components: list[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], Any]]:
    found: list[tuple[Mapping[str, Any], Any]] = []
    for component in components:
        kind = component.get("type")
        if kind == 1:
            found.extend(_modal_inputs(list(component.get("components") or [])))
        elif kind == 18:
            inner = component.get("component") or {}
            found.append((inner, component.get("label")))
        elif kind == 4:
            found.append((component, component.get("label")))
    return found


def _submit_key(component: Mapping[str, Any], label: Any) -> str:
    name = str(label or component.get("custom_id") or "field")
    if re.fullmatch(r"[\w.-]+", name):
        return name.lower()
    return '"' + name.replace('"', "") + '"'


def _modal_panel(response: Mapping[str, Any], ctx: _Context) -> Panel:
    parts: list[RenderableType] = []
    inputs = _modal_inputs(list(response.get("components") or []))
    for component, label in inputs:
        if component.get("type") == 4:
            parts.append(_text_input(component, label))
        else:
            head = Text(str(label or ""), style="bold")
            parts.append(Group(head, *_components([component], ctx)))
    texts = [c for c in response.get("components") or [] if c.get("type") == 10]
    parts[:0] = [_markdown(str(c.get("content") or ""), ctx) for c in texts]
    hint = Text("fill it in with ", style="dim")
    example = " ".join(
        f"{_submit_key(c, label)}=…" for c, label in inputs if c.get("type") == 4 and c.get("required", True)
    ) or " ".join(f"{_submit_key(c, label)}=…" for c, label in inputs[:2])
    hint.append(f":submit {example}".rstrip(), style="bold cyan")
    parts.append(hint)
    title = Text("Dramawatch", style=BOT_STYLE)
    title.append(" · form: ", style="dim")
    title.append(str(response.get("title") or "(untitled)"), style="bold")
    return Panel(Group(*_spaced(parts)), title=title, title_align="left", border_style="cyan", expand=False)


_RESPONSE_NOTES: dict[int | None, str] = {  # keyed by the interaction response type
    4: "reply",
    5: "deferred, then replied",
    6: "acknowledged the click",
    7: "updated the message",
}


def _choices(choices: list[Mapping[str, Any]]) -> RenderableType:
    if not choices:
        return Text("no autocomplete choices", style="dim")
    text = Text(f"{len(choices)} autocomplete choice{'s' if len(choices) != 1 else ''}:", style="dim")
    width = len(str(len(choices)))
    for number, choice in enumerate(choices, 1):
        text.append(f"\n{number:>{width}}. ")
        name, value = str(choice.get("name", "")), choice.get("value")
        text.append(name, style="bold")
        if value is not None and str(value) != name:
            text.append(f"  → {value}", style="dim")
    return text


def _response(response: Mapping[str, Any], ctx: _Context) -> RenderableType:
    kind = response.get("type")
    if kind == 9:
        return _modal_panel(response, ctx)
    if kind == 8:
        return _choices(list(response.get("choices") or []))
    empty = "(Dramawatch is thinking… and never finished)" if kind == 5 else "(no visible reply)"
    if kind == 6 and not (response.get("content") or response.get("embeds") or response.get("components")):
        return Text("Dramawatch acknowledged the click without changing anything", style="dim italic")
    return _message_panel(response, ctx, _RESPONSE_NOTES.get(kind, f"response type {kind}"), empty=empty)


# -- meta results -------------------------------------------------------------------------------


def _summary(message: Mapping[str, Any], ctx: _Context) -> Text:
    text = _markdown(str(message.get("content") or ""), ctx) if message.get("content") else Text()
    for embed in message.get("embeds") or []:
        if text:
            text.append("\n")
        text.append("▣ ", style=_color(embed.get("color")))
        text.append_text(_markdown(str(embed.get("title") or embed.get("description") or "(embed)"), ctx, "bold"))
        if embed.get("fields"):
            text.append(f"  ({len(embed['fields'])} fields)", style="dim")
    labels = [
        str(c.get("label") or (c.get("emoji") or {}).get("name") or "")
        for row in message.get("components") or []
        for c in row.get("components") or []
        if c.get("type") == 2
    ]
    if labels:
        if text:
            text.append("\n")
        text.append(" ".join(f"[ {label} ]" for label in labels), style="dim")
    return text or Text("(empty)", style="dim")


def _table(title: str, *columns: str) -> Table:
    table = Table(title=Text(title, style="bold"), title_justify="left", header_style="bold dim", box=None)
    table.show_edge = False
    for column in columns:
        table.add_column(column)
    return table


def _messages_table(result: Mapping[str, Any], ctx: _Context) -> RenderableType:
    # `:messages` names a channel; `:dm` names the user whose DMs with the bot these are.
    place = f"#{result['channel']}" if result.get("channel") else f"DMs with {result.get('user') or '?'}"
    messages = list(result.get("messages") or [])
    if not messages:
        return Text(f"{place}: no messages", style="dim")
    count = f"{len(messages)} message{'s' if len(messages) != 1 else ''}"
    table = _table(f"{place} — {count}", "when", "who", "message")
    for message in messages:
        when = str(message.get("timestamp") or "")
        try:
            stamp = datetime.fromisoformat(when).astimezone(UTC)
            when_text = Text(f"{stamp:%m-%d %H:%M}", style="dim")
        except ValueError:
            when_text = Text(when, style="dim")
        who = Text(str(message.get("author") or "?"), style="bold")
        if message.get("pinned"):
            who.append(" (pinned)", style="yellow")
        table.add_row(when_text, who, _summary(message, ctx))
    return table


def _threads_table(result: Mapping[str, Any], ctx: _Context) -> RenderableType:
    threads = list(result.get("threads") or [])
    if not threads:
        return Text("no threads yet", style="dim")
    table = _table(
        f"{len(threads)} thread{'s' if len(threads) != 1 else ''}", "thread", "in", "messages", "state", "tags"
    )
    for thread in threads:
        tags = ", ".join(ctx.names.get(str(t), str(t)) for t in thread.get("applied_tags") or [])
        table.add_row(
            Text(str(thread.get("name") or "?"), style="bold"),
            Text(f"#{thread.get('parent') or '?'}"),
            Text(str(thread.get("messages", 0)), justify="right"),
            Text("archived", style="dim") if thread.get("archived") else Text("open", style="green"),
            Text(tags),
        )
    return table


def _events_table(result: Mapping[str, Any], ctx: _Context) -> RenderableType:
    events = list(result.get("events") or [])
    if not events:
        return Text("no scheduled events", style="dim")
    table = _table(
        f"{len(events)} scheduled event{'s' if len(events) != 1 else ''}", "event", "starts", "status", "where"
    )
    for event in events:
        where = ((event.get("entity_metadata") or {}).get("location")) or (
            _label(ctx.names, str(event["channel_id"]), "#") if event.get("channel_id") else "—"
        )
        name = Text(str(event.get("name") or "?"), style="bold")
        if event.get("description"):
            name.append("\n")
            name.append_text(_markdown(str(event["description"]), ctx, "dim"))
        table.add_row(
            name,
            _iso_text(event.get("scheduled_start_time"), ctx.now),
            Text(EVENT_STATUS.get(event.get("status") or 0, str(event.get("status")))),
            Text(str(where)),
        )
    return table


def _meta(result: Any, ctx: _Context) -> RenderableType | None:
    if result is None:
        return None
    if not isinstance(result, Mapping):
        return Text(str(result))
    keys = set(result)
    if "help" in keys:
        return Text(str(result["help"]))
    if "messages" in keys:
        return _messages_table(result, ctx)
    if "threads" in keys:
        return _threads_table(result, ctx)
    if "events" in keys:
        return _events_table(result, ctx)
    if "choices" in keys:
        return _choices(list(result["choices"] or []))
    if keys == {"said"}:
        return None  # a chat line: the message itself is shown below, as posted
    if keys == {"user"}:
        return Text.assemble(("you are now ", "dim"), (str(result["user"]), "bold cyan"))
    if keys == {"channel", "id"}:
        return Text.assemble(("now typing in ", "dim"), (f"#{result['channel']}", "bold cyan"))
    if "jobs_run" in keys:
        jobs = result["jobs_run"]
        return Text.assemble(
            ("clock moved to ", "dim"),
            (_iso_plain(str(result.get("now"))), "bold"),
            (f" — {jobs} job{'s' if jobs != 1 else ''} ran", "dim"),
        )
    if keys == {"now"}:
        return Text.assemble(("sandbox time: ", "dim"), (_iso_plain(str(result["now"])), "bold"))
    if keys == {"restarted"}:
        return Text("the bot restarted over the same database", style="dim")
    if keys == {"cleared"}:
        return Text("faults cleared: REST calls succeed again", style="dim")
    if keys == {"gateway"}:
        return Text(f"gateway: {result['gateway']}", style="dim")
    if keys == {"rule"} and isinstance(result["rule"], Mapping):
        rule = result["rule"]
        count = rule.get("count")
        times = "every time" if count is None else f"{count} time{'s' if count != 1 else ''}"
        wait = f", retry after {rule['retry_after']} s ({rule.get('scope')})" if "retry_after" in rule else ""
        return Text(
            f"fault added: {rule.get('method')} {rule.get('path')} → {rule.get('status')} ({times}{wait})",
            style="yellow",
        )
    text = Text()
    for index, (key, value) in enumerate(result.items()):
        if index:
            text.append("  ")
        text.append(f"{key}: ", style="dim")
        text.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str))
    return text


# -- requests and errors ------------------------------------------------------------------------

_TOKEN_PATHS = (
    (re.compile(r"^/interactions/(\d+)/[^/]+/"), r"/interactions/\1/…/"),
    (re.compile(r"^/webhooks/(\d+)/[^/]+"), r"/webhooks/\1/…"),
)


def _short_path(path: str) -> str:
    for pattern, replacement in _TOKEN_PATHS:
        path = pattern.sub(replacement, path)
    return path


def _requests(requests: list[Mapping[str, Any]]) -> Text:
    if not requests:
        return Text("no REST requests", style="dim")
    text = Text(style="dim")
    for index, request in enumerate(requests):
        if index:
            text.append("\n")
        text.append(f"  {str(request.get('method', '?')):<6} {_short_path(str(request.get('path', '?')))}")
    return text


def error_line(message: str) -> Text:
    return Text.assemble(("error: ", "bold red"), (" ".join(str(message).split()) or "unknown error", "red"))


# -- the public entry point ---------------------------------------------------------------------


def render_result(
    result: dict[str, Any],
    console: Console,
    *,
    show_requests: bool = False,
    reveal: bool = False,
    names: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> None:
    """Draw one `Sandbox.run_line` result: the reply and follow-ups, a meta result, requests, the error.

    names maps ids (as strings) to labels for mentions; now is what `<t:…:R>` is relative to;
    reveal shows spoilers instead of hiding them.
    """
    ctx = _Context(names or {}, now or datetime.now(UTC), reveal)
    if "response" in result or "followups" in result:
        response = result.get("response")
        if response is not None:
            console.print(_response(response, ctx))
        for followup in result.get("followups") or []:
            console.print(_message_panel(followup, ctx, "follow-up"))
    elif "result" in result:
        rendered = _meta(result.get("result"), ctx)
        if rendered is not None:
            console.print(rendered)
    if show_requests and "requests" in result:
        console.print(_requests(list(result.get("requests") or [])))
    for warning in result.get("warnings") or []:
        console.print(Text(f"⚠ {warning}", style="yellow"))
    if result.get("error"):
        console.print(error_line(str(result["error"])))


def render_post(
    message: Mapping[str, Any],
    console: Console,
    *,
    where: str,
    names: Mapping[str, str] | None = None,
    now: datetime | None = None,
    reveal: bool = False,
) -> None:
    """Draw a message the bot posted in a channel (not as an interaction reply)."""
    ctx = _Context(names or {}, now or datetime.now(UTC), reveal)
    author = str(
        (message.get("author") or {}).get("global_name") or (message.get("author") or {}).get("username") or "?"
    )
    verb = "sent as" if where.startswith("a DM") else "posted in"
    console.print(_message_panel(message, ctx, f"{verb} {where}", author=author))


# -- the prompt ---------------------------------------------------------------------------------


def sandbox_names(sandbox: Any) -> dict[str, str]:
    """Labels for every user, channel, thread, role and forum tag in the sandbox, by id."""
    world = sandbox.world
    names: dict[str, str] = {}
    for user_id, user in world.users.items():
        names[str(user_id)] = str(user.get("username") or user.get("global_name") or user_id)
    for channel_id, channel in world.channels.items():
        names[str(channel_id)] = str(channel.get("name") or channel_id)
        for tag in channel.get("available_tags") or []:
            names[str(tag.get("id"))] = str(tag.get("name"))
    for role_id, role in world.roles.items():
        names[str(role_id)] = str(role.get("name") or role_id)
    return names


class _LineReader:
    """input() in a worker thread, with readline history and Ctrl+C clearing the line.

    The event loop keeps running while a line is typed. With GNU readline on a terminal, Ctrl+C
    is a key while reading (the terminal's interrupt character is off), bound to end the line
    with a `^C` marker; such a line is dropped, as a shell does.
    """

    INTERRUPT_MARK = "^C"

    def __init__(self, history: Path | None) -> None:
        self.tty = sys.stdin.isatty() and sys.stdout.isatty()
        self.history = history.expanduser() if history else None
        self.readline: Any = None
        self.keyed_interrupt = False
        self.interrupted = False  # set by the SIGINT handler while a line is being read
        if not self.tty:
            return
        try:
            import readline
        except ImportError:
            return
        self.readline = readline
        with contextlib.suppress(Exception):
            readline.set_auto_history(False)
            readline.set_history_length(1000)
        if self.history is not None:
            with contextlib.suppress(OSError):
                readline.read_history_file(self.history)
        if "libedit" not in (readline.__doc__ or ""):
            try:
                import termios  # noqa: F401

                readline.parse_and_bind(r'"\C-c": "\C-e^C\C-m"')
                self.keyed_interrupt = True
            except Exception:
                self.keyed_interrupt = False

    def _blocking_read(self, prompt: str) -> str:
        if not self.keyed_interrupt:
            return input(prompt)
        import termios

        fd = sys.stdin.fileno()
        try:
            saved = termios.tcgetattr(fd)
        except termios.error:
            return input(prompt)
        # readline turns ISIG on while it reads, so switch off the interrupt character itself:
        # Ctrl+C then reaches readline as a key (bound above) instead of as SIGINT.
        quiet = [list(item) if isinstance(item, list) else item for item in saved]
        try:
            disabled = os.fpathconf(fd, "PC_VDISABLE")
        except (OSError, ValueError):
            disabled = 0  # _POSIX_VDISABLE on Linux
        quiet[6][termios.VINTR] = bytes([disabled & 0xFF])
        try:
            termios.tcsetattr(fd, termios.TCSANOW, quiet)
            return input(prompt)
        finally:
            termios.tcsetattr(fd, termios.TCSANOW, saved)

    async def read(self, prompt: str) -> str:
        """One line; EOFError at the end, KeyboardInterrupt when the line was abandoned with Ctrl+C."""
        self.interrupted = False
        line = await asyncio.to_thread(self._blocking_read, prompt)
        if self.interrupted or (self.keyed_interrupt and line.endswith(self.INTERRUPT_MARK)):
            raise KeyboardInterrupt
        if self.readline is not None and line.strip():
            with contextlib.suppress(Exception):
                length = self.readline.get_current_history_length()
                if not length or self.readline.get_history_item(length) != line:
                    self.readline.add_history(line)
        return line

    def close(self) -> None:
        if self.readline is not None and self.history is not None:
            with contextlib.suppress(OSError):
                self.readline.write_history_file(self.history)


class _Session:
    def __init__(self, sandbox: Any, console: Console, as_json: bool) -> None:
        self.sandbox = sandbox
        self.console = console
        self.as_json = as_json
        self.show_requests = False
        self.last: tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]] | None = None
        self.reading = False
        self.line_task: asyncio.Future[dict[str, Any]] | None = None
        self.cancelled_by_us = False
        self.reader: _LineReader | None = None
        self.log_path: Path | None = None  # where the bot's log lines go (shown by :logs)

    def show_logs(self, line: str) -> None:
        """`:logs [N]`: the last N (default 20) lines of the bot's log, which stays out of the prompt."""
        _word, _, count = line.partition(" ")
        wanted = int(count) if count.strip().isdigit() else 20
        if self.log_path is None or not self.log_path.exists():
            self.console.print(Text("no log yet", style="dim"))
            return
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-wanted:]
        self.console.print(Text("\n".join(lines) or "the log is empty", style="dim"))

    # -- display --------------------------------------------------------------------------------
    def where(self) -> tuple[str, str]:
        world = self.sandbox.world
        user = world.users.get(self.sandbox.user_id, {}).get("username", "?")
        channel = world.channels.get(self.sandbox.channel_id, {}).get("name", "?")
        return str(user), str(channel)

    def prompt(self, colour: bool) -> str:
        user, channel = self.where()
        if not colour:
            return f"{user} #{channel}> "
        # \001 … \002 tell readline the colour codes take no room on the line.
        return f"\001\033[1;36m\002{user}\001\033[0m\002 \001\033[1m\002#{channel}\001\033[0m\002> "

    def welcome(self) -> None:
        user, channel = self.where()
        text = Text()
        text.append("Dramawatch sandbox", style=BOT_STYLE)
        text.append(" — the real bot in a loopback Discord server, ")
        text.append("Drama Club", style="bold")
        text.append(".\nYou are ")
        text.append(user, style="bold cyan")
        text.append(" (a member) in ")
        text.append(f"#{channel}", style="bold")
        text.append(". Type commands as in Discord, e.g. ")
        text.append("/help", style="bold")
        text.append(".\n")
        text.append(":help", style="bold")
        text.append(" lists meta lines (")
        text.append(":as mod", style="bold")
        text.append(", ")
        text.append(":click LABEL", style="bold")
        text.append(", ")
        text.append(":advance 2h", style="bold")
        text.append(", …). Ctrl+D or ")
        text.append(":quit", style="bold")
        text.append(" leaves.")
        if self.log_path is not None:
            text.append(f"\nThe bot's log goes to {self.log_path}; ")
            text.append(":logs", style="bold")
            text.append(" shows its latest lines.")
        self.console.print(Panel(text, border_style="magenta", expand=False))

    def echo(self, line: str) -> None:
        user, channel = self.where()
        self.console.print(Text.assemble((user, "bold cyan"), (f" #{channel}> ", "bold"), (line, "")))

    def show(self, result: dict[str, Any], posts: list[tuple[str, dict[str, Any]]], *, reveal: bool = False) -> None:
        names = sandbox_names(self.sandbox)
        now = self.sandbox.clock.now()
        render_result(result, self.console, show_requests=self.show_requests, reveal=reveal, names=names, now=now)
        for where, message in posts[:MAX_OTHER_POSTS]:
            render_post(message, self.console, where=where, names=names, now=now, reveal=reveal)
        if len(posts) > MAX_OTHER_POSTS:
            places = sorted({where for where, _ in posts[MAX_OTHER_POSTS:]})
            self.console.print(
                Text(
                    f"… and {len(posts) - MAX_OTHER_POSTS} more posts in {', '.join(places)} (see :messages)",
                    style="dim",
                )
            )

    # -- running lines --------------------------------------------------------------------------
    def _counts(self) -> dict[int, int]:
        return {cid: len(msgs) for cid, msgs in self.sandbox.world.messages.items()}

    def _posts_since(self, counts: dict[int, int]) -> list[tuple[str, dict[str, Any]]]:
        """Messages the bot posted in channels during the line, other than interaction replies."""
        world = self.sandbox.world
        app_id = str(world.app_id)
        posts = []
        for channel_id, messages in world.messages.items():
            for message in messages[counts.get(channel_id, 0) :]:
                if message.get("interaction_metadata") or str(message.get("webhook_id") or "") == app_id:
                    continue
                dm = world.dms.get(channel_id)
                if dm is not None:  # a direct message: name its recipient, not a channel id
                    recipient = (dm.get("recipients") or [{}])[0]
                    posts.append((f"a DM to {recipient.get('username', '?')}", message))
                    continue
                channel = world.channels.get(channel_id, {})
                prefix = "thread " if "thread_metadata" in channel else "#"
                posts.append((f"{prefix}{channel.get('name', channel_id)}", message))
        return posts

    async def _run(self, line: str) -> dict[str, Any]:
        self.cancelled_by_us = False
        self.line_task = asyncio.ensure_future(self.sandbox.run_line(line))
        try:
            return await self.line_task
        except asyncio.CancelledError:
            if not self.cancelled_by_us:
                raise
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            return {"input": line, "error": "interrupted (Ctrl+C); the sandbox may be half-way through this line"}
        finally:
            self.line_task = None

    def on_sigint(self) -> None:
        if self.line_task is not None and not self.line_task.done():
            self.cancelled_by_us = True
            self.line_task.cancel()
        elif self.reader is not None and self.reading:
            self.reader.interrupted = True
            self.console.print(Text("^C — press Enter to drop this line, Ctrl+D to quit", style="dim"))

    async def handle(self, line: str) -> bool:
        """Run one line; False when the person asked to leave."""
        line = line.strip()
        if not line:
            return True
        if line.lower() in (":quit", ":exit", ":q"):
            return False
        if not self.as_json:
            if line.lower() == ":reveal":
                if self.last is None:
                    self.console.print(Text("nothing to reveal yet", style="dim"))
                else:
                    self.show(*self.last, reveal=True)
                return True
            if line.lower().split(" ")[0] == ":logs":
                self.show_logs(line)
                return True
            if line.lower() == ":requests":
                self.show_requests = not self.show_requests
                state = "shown after each line" if self.show_requests else "hidden"
                self.console.print(Text(f"REST requests: {state}", style="dim"))
                return True
        counts = self._counts()
        try:
            result = await self._run(line)
        except Exception as exc:  # a line must never end the prompt
            result = {"input": line, "result": None, "error": f"{type(exc).__name__}: {exc}"}
        if self.as_json:
            print(json.dumps(result, ensure_ascii=False, default=str), flush=True)
            return True
        if line.lower() == ":help" and isinstance(result.get("result"), dict) and "help" in result["result"]:
            result = {**result, "result": {**result["result"], "help": f"{result['result']['help']}\n{PROMPT_HELP}"}}
        try:
            posts = self._posts_since(counts)
            self.last = (result, posts)
            self.show(result, posts)
        except Exception as exc:  # a rendering bug must not end the prompt either
            self.console.print(error_line(f"could not draw the result: {type(exc).__name__}: {exc}"))
        return True


def _install_sigint(session: _Session) -> Any:
    """Ctrl+C interrupts the running line (or the line being typed), not the whole prompt."""
    loop = asyncio.get_running_loop()
    try:
        previous = signal.getsignal(signal.SIGINT)
        loop.add_signal_handler(signal.SIGINT, session.on_sigint)
    except (NotImplementedError, RuntimeError, ValueError, AttributeError):
        return None

    def restore() -> None:
        with contextlib.suppress(Exception):
            loop.remove_signal_handler(signal.SIGINT)
        with contextlib.suppress(Exception):
            signal.signal(signal.SIGINT, previous)

    return restore


async def run_prompt(
    lines: list[str],
    db: str | None,
    now: datetime | None,
    *,
    as_json: bool = False,
    catalog: str | Path | None = None,
    tvmaze: str | None = None,
    console: Console | None = None,
    history: Path | None = HISTORY_FILE,
    log_path: Path | None = None,
    guilds: int = 1,
    shards: int | None = None,
) -> int:
    """The interactive sandbox: run `lines` first, then read lines until Ctrl+D or :quit.

    catalog is the drama packs folder for the bot (None: the settings' default); tvmaze is
    TVMAZE_API_BASE (None: the sandbox's own fixture of invented shows); console and history (the
    readline history file, None for none) are there for tests.
    """
    from bot.sandbox.harness import Sandbox

    console = console or Console(highlight=False)
    sandbox = Sandbox(
        db_path=db, now=now, catalog_path=catalog, tvmaze_api_base=tvmaze, guilds=guilds, shard_count=shards
    )
    try:
        await sandbox.start()
    except Exception as exc:
        with contextlib.suppress(Exception):
            await sandbox.close()
        problems = [str(p) for p in getattr(exc, "problems", None) or []] or [f"{type(exc).__name__}: {exc}"]
        if as_json:
            print(json.dumps({"input": "(start)", "result": None, "error": "; ".join(problems)}))
        else:
            console.print(error_line("the sandbox did not start:"))
            for problem in problems:
                console.print(Text(f"  {problem}", style="red"))
        return 1
    session = _Session(sandbox, console, as_json)
    session.log_path = log_path
    restore_sigint = _install_sigint(session)
    reader: _LineReader | None = None
    try:
        if as_json:
            if sandbox.violations:
                print(json.dumps({"input": "(start)", "result": None, "error": "; ".join(sandbox.violations)}))
        else:
            session.welcome()
            if sandbox.violations:
                console.print(error_line("; ".join(sandbox.violations)))
        for line in lines:
            if not as_json:
                session.echo(line)
            if not await session.handle(line):
                return 0
        reader = _LineReader(history)
        session.reader = reader
        while True:
            # On a terminal the prompt names who and where you are; piped input is echoed instead.
            prompt = session.prompt(colour=not as_json) if reader.tty else ""
            session.reading = True
            try:
                line = await reader.read(prompt)
            except EOFError:
                if reader.tty:
                    console.print()
                break
            except KeyboardInterrupt:
                continue
            finally:
                session.reading = False
            if not reader.tty and not as_json and line.strip():
                session.echo(line.strip())
            if not await session.handle(line):
                break
    finally:
        if reader is not None:
            reader.close()
        if restore_sigint is not None:
            restore_sigint()
        await sandbox.close()
    return 0
