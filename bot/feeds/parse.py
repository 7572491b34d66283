"""Parsing feeds (off the event loop) and making short, safe excerpts.

Only what the bot uses is read — the feed's title and, per item, title, link, id, date, author and
summary — from RSS 2.0/0.9x, RSS 1.0 (RDF) and Atom, with a strict XML parser that refuses entity
declarations and external references (defusedxml over the standard library's expat: no billion
laughs, no XXE). Markup in summaries is reduced to plain text here, by our own stripper, so no HTML
ever reaches Discord. Two repairs for real-world feeds before giving up: HTML named entities
(``&eacute;``, ``&nbsp;``) that XML does not define, and bodies that are not UTF-8 and say nothing
about their encoding (read as Windows-1252).
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import html.entities
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XMLError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

EXCERPT_LIMIT = 300

ATOM = "{http://www.w3.org/2005/Atom}"
RSS1 = "{http://purl.org/rss/1.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
RDF_ROOT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"
_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]{0,31});")
_XML_ENTITIES = {b"amp", b"lt", b"gt", b"quot", b"apos"}
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>")
_FEED_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:rss|feed|RDF)[\s>/]")


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
    if "<" not in text and "&" not in text:
        return " ".join(text.split())
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


# -- reading the XML ------------------------------------------------------------------------------------------
def _html_entity(match: re.Match[bytes]) -> bytes:
    name = match.group(1)
    if name in _XML_ENTITIES:
        return match.group(0)
    text = html.entities.html5.get(name.decode("ascii") + ";")
    if text is None:
        return b"&amp;" + name + b";"  # unknown: keep it as text
    return "".join(f"&#{ord(ch)};" for ch in text).encode("ascii")


def _tree(body: bytes) -> Element:
    """The document's root element; ParseError for what is not well-formed (after the two repairs)."""
    attempts = [body]
    if b"&" in body:
        attempts.append(_ENTITY.sub(_html_entity, body))
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        head = _DECLARATION.match(body)
        if head is None or b"encoding" not in head.group(0):
            text = body.decode("cp1252", errors="replace").encode("utf-8")
            attempts.append(_ENTITY.sub(_html_entity, text))
    first: Exception | None = None
    for attempt in attempts:
        try:
            root = fromstring(attempt)
        except DefusedXmlException as exc:
            raise ParseError(f"not a valid RSS or Atom feed (refused: {type(exc).__name__})") from None
        except XMLError as exc:
            first = first or exc
            if exc.code == 18:  # XML_ERROR_UNKNOWN_ENCODING: no repair helps
                break
            continue
        except (ValueError, LookupError, UnicodeError, OverflowError) as exc:
            raise ParseError(f"not a valid RSS or Atom feed ({type(exc).__name__}: {str(exc)[:120]})") from None
        if not isinstance(root, Element):  # pragma: no cover - fromstring always gives an Element
            raise ParseError("not an RSS or Atom feed")
        return root
    assert first is not None
    if not body.strip() or _FEED_ROOT.search(body[:4096]) is None:
        raise ParseError("not an RSS or Atom feed (an HTML page?)")
    if getattr(first, "code", None) in (18, 19, 20, 32):  # unknown/incorrect encoding, bad declarations
        raise ParseError(f"not a valid RSS or Atom feed ({str(first)[:120]})")
    raise ParseError(f"not a valid RSS or Atom feed: malformed or truncated XML ({str(first)[:120]})")


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(element: Element | None) -> str:
    if element is None:
        return ""
    if element.get("type", "").lower() == "xhtml":
        return " ".join(_visible(element))
    return "".join(element.itertext())


def _visible(element: Element) -> Iterator[str]:
    """The text of an XHTML subtree without scripts and styles (Atom type="xhtml")."""
    if element.text:
        yield element.text
    for child in element:
        if _local(child.tag).lower() not in ("script", "style"):
            if _local(child.tag).lower() in ("p", "br", "div", "li"):
                yield " "
            yield from _visible(child)
        if child.tail:
            yield child.tail


def _plain(element: Element | None) -> str:
    """Element text as plain text: markup in it (escaped HTML, CDATA) is stripped."""
    raw = _text(element)
    if element is not None and element.get("type", "").lower() == "xhtml":
        return " ".join(raw.split())
    return strip_html(raw)


def _date(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text) if text[:4].isdigit() else parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _child(element: Element, *names: str) -> Element | None:
    for name in names:
        found = element.find(name)
        if found is not None:
            return found
    return None


def _entry(title: str, link: str, key: str, author: str, published: datetime | None, summary: str) -> Entry:
    title = " ".join(title.split())
    link = link.strip()
    if not link.startswith(("http://", "https://")):
        link = ""
    key = key.strip() or link or hashlib.sha1(f"{title}\n{link}".encode()).hexdigest()
    author = " ".join(author.split())
    return Entry(key[:500], title[:300], link[:1000], author[:100], published, summary)


def _rss_items(items: list[Element]) -> list[Entry]:
    entries = []
    for item in items:
        published = _date(_text(_child(item, "pubDate", f"{DC}date", f"{RSS1}date")))
        entries.append(
            _entry(
                _plain(_child(item, "title", f"{RSS1}title", f"{DC}title")),
                _text(_child(item, "link", f"{RSS1}link")),
                _text(item.find("guid")),
                _text(_child(item, "author", f"{DC}creator")),
                published,
                _plain(_child(item, "description", f"{RSS1}description", f"{DC}description")),
            )
        )
    return entries


def _atom_link(entry: Element) -> str:
    links = entry.findall(f"{ATOM}link")
    for link in links:
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href", "")
    return next((link.get("href", "") for link in links if link.get("href")), "")


def _atom_entries(feed: Element) -> list[Entry]:
    entries = []
    for entry in feed.findall(f"{ATOM}entry"):
        author = entry.find(f"{ATOM}author/{ATOM}name")
        entries.append(
            _entry(
                _plain(entry.find(f"{ATOM}title")),
                _atom_link(entry),
                _text(entry.find(f"{ATOM}id")),
                _text(author),
                _date(_text(_child(entry, f"{ATOM}published", f"{ATOM}updated"))),
                _plain(_child(entry, f"{ATOM}summary", f"{ATOM}content")),
            )
        )
    return entries


def parse_feed(body: bytes) -> tuple[str | None, list[Entry]]:
    """Blocking: call through `parse` (a worker thread). Raises ParseError for what is not a feed."""
    root = _tree(body)
    tag = root.tag if isinstance(root.tag, str) else ""
    if _local(tag) == "rss":
        channel = root.find("channel")
        if channel is None:
            raise ParseError("not an RSS or Atom feed (an RSS document without a channel)")
        title_element = channel.find("title")
        entries = _rss_items(channel.findall("item"))
    elif tag == RDF_ROOT:
        channel = root.find(f"{RSS1}channel")
        if channel is None:
            channel = root.find("channel")
        title_element = channel.find(f"{RSS1}title") if channel is not None else None
        entries = _rss_items(root.findall(f"{RSS1}item") or root.findall("item"))
    elif tag in (f"{ATOM}feed", "feed"):
        ns = ATOM if tag.startswith("{") else ""
        title_element = root.find(f"{ns}title")
        entries = _atom_entries(root) if ns else []
    else:
        raise ParseError("not an RSS or Atom feed (an HTML page?)")
    title = _plain(title_element) if title_element is not None else ""
    return (title[:200] or None), entries


async def parse(body: bytes) -> tuple[str | None, list[Entry]]:
    return await asyncio.to_thread(parse_feed, body)
