"""Making user-supplied text safe to echo: no mentions, no markdown, no invisible characters.

`escape` is the one escaper: every piece of user, feed or catalog text that goes into markdown is
escaped by it exactly once (`quote` = `clean` + `escape`). What comes out renders in Discord as the
text that went in. Limits on the result (Discord's) are enforced afterwards, in `bot.ui.limits`.
"""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Like discord.utils.escape_mentions, but for ids of any length: Discord renders <@&123> as a mention too.
_MENTION = re.compile(r"@(everyone|here|[!&]?[0-9]+)")
# A bare URL, as Discord's client finds one (it renders no markdown inside a link).
URL = re.compile(r"(?<![^\W_])https?://[^\s<]+[^<.,:;\"')\]\s]")  # not inside a word
# Markdown (and mention/timestamp/emoji syntax, which all start with "<"): escaped anywhere.
_MARKDOWN = re.compile(r"([\\*_~`|<>\[\]])")
# Headings, subtext, lists and block quotes only start a line.
_LINE_START = re.compile(r"(?m)^([ \t]*)([#+-])")
_NUMBERED = re.compile(r"(?m)^([ \t]*\d+)\.(?=[ \t]|$)")  # also at the end: text may follow it
# Inside a URL a backslash would become part of the address, so markdown is percent-encoded instead;
# the URL is then written as <URL>, so it ends exactly there (Discord would read a bare one on into
# the backslash that escapes the next character, and the character after it would be live again).
_URL_UNSAFE = {
    ">": "%3E",
    "|": "%7C",
    "*": "%2A",
    "_": "%5F",
    "~": "%7E",
    "`": "%60",
    "\\": "%5C",
    "[": "%5B",
    "]": "%5D",
    "@": "%40",
}


def clean(text: str, limit: int = 100) -> str:
    """Strip control and zero-width characters, fold whitespace, cap the length."""
    text = _INVISIBLE.sub("", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


# Anything one of the patterns above could act on (a markdown character, a line starting as a
# heading, list or numbered item, a mention, a URL): a text with none of it comes out as it went in.
_NEEDS_WORK = re.compile(r"[\\*_~`|<>\[\]@]|https?://|(?m:^)[ \t]*(?:[#+-]|\d+\.(?=[ \t]|$))")


def _escape_plain(text: str) -> str:
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _LINE_START.sub(r"\1\\\2", text)
    text = _NUMBERED.sub(r"\1\\.", text)
    return _MENTION.sub("@\u200b\\1", text)


def _escape_url(url: str) -> str:
    return "".join(_URL_UNSAFE.get(ch, ch) for ch in url)


def escape(text: str) -> str:
    """Markdown and mentions made inert, once: Discord shows exactly `text`, formats nothing, pings no one.

    Backslashes are escaped too, so a user's own backslash cannot escape what follows. Links stay
    clickable: inside a URL, markdown characters are percent-encoded instead (the same address), and
    the URL is bracketed, `<https://…>`, Discord's link syntax that ends where the brackets do.
    Not idempotent on purpose: escape a text once, where it enters markdown, and never again.
    """
    if not _NEEDS_WORK.search(text):
        return text  # the common case (names, titles): one search instead of five passes
    out: list[str] = []
    start = 0
    for match in URL.finditer(text):
        out.append(_escape_plain(text[start : match.start()]))
        out.append(f"<{_escape_url(match.group())}>")
        start = match.end()
    out.append(_escape_plain(text[start:]))
    return "".join(out)


def quote(text: str, limit: int = 100) -> str:
    """User text made inert for echoing in a reply: cleaned, capped at `limit` characters, then escaped."""
    cleaned = clean(text, limit)
    if not cleaned:
        return "(empty)"
    return escape(cleaned)


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 minute`, `3 minutes`, `1 party`/`2 parties` (give `many` when adding "s" is wrong)."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"


def duration(minutes: int) -> str:
    """`1 hour`, `24 hours` → `1 day`, `3 days`, `1 week`, `90 minutes`: the largest whole unit."""
    for unit, size in (("week", 10080), ("day", 1440), ("hour", 60)):
        if minutes and minutes % size == 0:
            return plural(minutes // size, unit)
    return plural(minutes, "minute")
