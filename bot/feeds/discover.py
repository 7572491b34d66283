"""Finding the feeds an HTML page links to (`<link rel="alternate" type="application/rss+xml" …>`),
so a moderator can paste a recap site's address instead of its feed's."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json"}
MAX_FOUND = 10


@dataclass(frozen=True)
class Linked:
    url: str
    title: str


class _Links(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.found: list[Linked] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link" or len(self.found) >= MAX_FOUND:
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        rel = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower().split(";")[0].strip()
        href = values.get("href", "").strip()
        if "alternate" in rel and kind in FEED_TYPES - {"application/feed+json"} and href:
            try:
                url = urljoin(self.base, href)
            except ValueError:
                return
            if url.lower().startswith(("http://", "https://")) and all(f.url != url for f in self.found):
                self.found.append(Linked(url, values.get("title", "").strip()[:100]))


def linked_feeds(body: bytes, base: str) -> list[Linked]:
    """The RSS/Atom feeds an HTML page declares, in page order (at most ten); [] when none."""
    parser = _Links(base)
    try:
        parser.feed(body[: 512 * 1024].decode("utf-8", errors="replace"))
        parser.close()
    except (AssertionError, ValueError):  # html.parser on hostile markup
        pass
    return parser.found
