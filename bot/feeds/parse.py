"""Parsing feeds with feedparser (off the event loop) and making short, safe excerpts."""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import html
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from xml.sax import SAXException

import feedparser

EXCERPT_LIMIT = 300


class ParseError(Exception):
    pass


@dataclass(frozen=True)
class Entry:
    key: str
    title: str
    link: str
    author: str
    published: datetime | None
    summary: str  # plain text, not yet cut


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("p", "br", "div", "li"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def strip_html(text: str) -> str:
    parser = _Text()
    try:
        parser.feed(text)
        parser.close()
    except Exception:  # noqa: BLE001 - malformed markup: fall back to a crude strip
        return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", text)).split())
    return " ".join("".join(parser.parts).split())


def excerpt(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """At most `limit` characters, cut at a word boundary: a teaser, never the article."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + "…"


def _when(entry: feedparser.FeedParserDict) -> datetime | None:
    for field in ("published_parsed", "updated_parsed"):
        parsed = entry.get(field)
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, ValueError):
                return None
    return None


def parse_feed(body: bytes) -> tuple[str | None, list[Entry]]:
    """Blocking: call through `parse` (a worker thread). Raises ParseError for what is not a feed."""
    try:
        parsed = feedparser.parse(io.BytesIO(body), sanitize_html=True, resolve_relative_uris=False)
    except Exception as exc:  # noqa: BLE001 - feedparser raises on some garbage (e.g. encoding="utf-\xc7")
        raise ParseError(f"not a valid RSS or Atom feed ({type(exc).__name__}: {str(exc)[:120]})") from None
    problem = parsed.get("bozo_exception")
    if not parsed.get("version"):
        if problem is not None:
            raise ParseError(f"not a valid RSS or Atom feed ({type(problem).__name__}: {str(problem)[:120]})")
        raise ParseError("not an RSS or Atom feed (an HTML page?)")
    if isinstance(problem, SAXException):
        raise ParseError(f"malformed or truncated XML ({str(problem)[:120]})")
    entries = []
    for raw in parsed.entries:
        title = " ".join(str(raw.get("title", "")).split())
        link = str(raw.get("link", "")).strip()
        if not link.startswith(("http://", "https://")):
            link = ""
        key = str(raw.get("id") or link or "") or hashlib.sha1(f"{title}\n{link}".encode()).hexdigest()
        summary = strip_html(str(raw.get("summary", "")))
        author = " ".join(str(raw.get("author", "")).split())
        entries.append(Entry(key[:500], title[:300], link[:1000], author[:100], _when(raw), summary))
    title = parsed.feed.get("title")
    return (" ".join(str(title).split())[:200] if title else None), entries


async def parse(body: bytes) -> tuple[str | None, list[Entry]]:
    return await asyncio.to_thread(parse_feed, body)
