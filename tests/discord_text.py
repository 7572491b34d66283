"""Reading bot output the way Discord's client renders it, independently of bot.ui.limits.

Used by the unit and end-to-end tests to check what a person would actually see: which text is
behind spoiler bars, whether the bars are balanced, and whether any markdown or mention survived.
Discord's rules (simple-markdown): a backslash escapes the next character when it is neither a
letter/digit nor whitespace; a bare URL is a link with no markdown inside; `||…||` is a spoiler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Discord finds a spoiler's closing bars before any link inside it, so a URL here never spans a "|".
URL = re.compile(r"https?://[^\s<|]+[^<.,:;\"')\]\s|]")
BRACKETED_URL = re.compile(r"<https?://[^ >|]+>")  # Discord's <link> syntax: ends at the ">"
# What the bot's own templates may write unescaped: bold, spoiler bars, code spans of command names,
# the mentions/timestamps it builds from ids, and masked links to http(s) URLs.
TEMPLATE_MENTION = re.compile(r"<(?:@[!&]?\d+|#\d+|t:-?\d+(?::[tTdDfFR])?)>")
TEMPLATE_LINK = re.compile(r"\[(?:\\[^0-9A-Za-z\s]|[^\[\]\\])*\]\(https?://[^\s()<>]+\)")
TEMPLATE_CODE = re.compile(r"`[/\w :.…#-]+`")

LIMITS = {
    "title": 256,
    "description": 4096,
    "field_name": 256,
    "field_value": 1024,
    "fields": 25,
    "footer": 2048,
    "author": 256,
    "total": 6000,
    "content": 2000,
}


@dataclass
class Reading:
    plain: str = ""  # visible without clicking anything
    hidden: list[str] = field(default_factory=list)  # each spoiler's text, as rendered
    balanced: bool = True  # every `||` opened is closed
    raw: list[str] = field(default_factory=list)  # unescaped markdown characters not from a template
    mentions: list[str] = field(default_factory=list)  # active mentions, channel links and timestamps


def escapable(ch: str) -> bool:
    return not ch.isalnum() and not ch.isspace()


def read(text: str) -> Reading:
    """Render `text`: plain text, spoiler contents, balance, and raw markdown characters left over."""
    out = Reading()
    current: list[str] = []
    inside = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and escapable(text[i + 1]):
            current.append(text[i + 1])
            i += 2
            continue
        url = BRACKETED_URL.match(text, i) or URL.match(text, i)
        if url and (i == 0 or not text[i - 1].isalnum()):
            current.append(url.group().strip("<>"))
            i = url.end()
            continue
        for pattern in (TEMPLATE_MENTION, TEMPLATE_LINK, TEMPLATE_CODE):
            match = pattern.match(text, i)
            if match:
                if pattern is TEMPLATE_MENTION:
                    out.mentions.append(match.group())
                current.append(match.group())
                i = match.end()
                break
        else:
            if text.startswith("||", i):
                if inside:
                    out.hidden.append("".join(current))
                else:
                    out.plain += "".join(current)
                current = []
                inside = not inside
                i += 2
                continue
            if text.startswith("**", i):
                i += 2
                continue
            if ch in "*_~`|[]<>":
                out.raw.append(ch)
            elif (i == 0 or text[i - 1] == "\n") and re.match(r"#{1,3} |-# |- |\d+\. ", text[i:]):
                out.raw.append(ch)
            current.append(ch)
            i += 1
    if inside:
        out.balanced = False
        out.hidden.append("".join(current))  # Discord shows an unclosed `||` as plain text
        out.plain += "||" + "".join(current)
    else:
        out.plain += "".join(current)
    return out


def embed_problems(embeds: list[dict[str, Any]], content: str | None = None) -> list[str]:
    """Every Discord limit a message's embeds (as sent: dicts) and content break."""
    problems = []
    if content is not None and len(content) > LIMITS["content"]:
        problems.append(f"content {len(content)}")
    total = 0
    for embed in embeds:
        parts = {
            "title": embed.get("title") or "",
            "description": embed.get("description") or "",
            "footer": (embed.get("footer") or {}).get("text") or "",
            "author": (embed.get("author") or {}).get("name") or "",
        }
        for key, value in parts.items():
            if len(value) > LIMITS[key]:
                problems.append(f"{key} {len(value)}")
            total += len(value)
        fields = embed.get("fields") or []
        if len(fields) > LIMITS["fields"]:
            problems.append(f"{len(fields)} fields")
        for f in fields:
            if not f["name"] or not f["value"]:
                problems.append("an empty field")
            if len(f["name"]) > LIMITS["field_name"]:
                problems.append(f"field name {len(f['name'])}")
            if len(f["value"]) > LIMITS["field_value"]:
                problems.append(f"field value {len(f['value'])}")
            total += len(f["name"]) + len(f["value"])
    if total > LIMITS["total"]:
        problems.append(f"total {total}")
    return problems


def texts_of(embeds: list[dict[str, Any]], content: str | None = None) -> list[str]:
    """Every markdown text of a message (embed titles, descriptions, field names and values, content)."""
    texts = [content or ""]
    for embed in embeds:
        texts += [embed.get("title") or "", embed.get("description") or ""]
        for f in embed.get("fields") or []:
            texts += [f["name"], f["value"]]
    return texts
