"""A loopback RSS server for tests and benchmarks: items can be added while it runs, and each
path can be made to misbehave (304s, errors, slowness, garbage, oversized or gzip-bomb bodies)."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from aiohttp import web


@dataclass
class FeedItem:
    title: str
    link: str
    summary: str = ""
    author: str = "A. Recapper"
    published: datetime = field(default_factory=lambda: datetime(2024, 4, 14, 13, 0, tzinfo=UTC))


@dataclass
class FeedState:
    items: list[FeedItem] = field(default_factory=list)
    mode: str = "ok"  # ok | 500 | 404 | 410 | slow | html | malformed | truncated | huge | bomb
    hits: int = 0
    conditional_hits: int = 0

    def etag(self) -> str:
        digest = hashlib.sha1("|".join(i.link for i in self.items).encode()).hexdigest()[:16]
        return f'"{digest}"'


def rss(title: str, items: list[FeedItem]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>',
        f"<title>{escape(title)}</title><link>http://example.test/</link><description>recaps</description>",
    ]
    for item in reversed(items):  # newest first, like real feeds
        parts.append(
            f"<item><title>{escape(item.title)}</title><link>{escape(item.link)}</link>"
            f"<guid>{escape(item.link)}</guid><dc:creator>{escape(item.author)}</dc:creator>"
            f"<pubDate>{format_datetime(item.published)}</pubDate>"
            f"<description>{escape(item.summary)}</description></item>"
        )
    parts.append("</channel></rss>")
    return "\n".join(parts).encode()


class FeedServer:
    def __init__(self) -> None:
        self.feeds: dict[str, FeedState] = {}
        self.app = web.Application()
        self.app.router.add_get("/{name}.xml", self.serve)
        self.app.router.add_get("/redirect/{name}.xml", self.redirect)
        self.app.router.add_get("/page/{name}.html", self.page)
        self.pages: dict[str, list[tuple[str, str]]] = {}  # page name → (feed name, title) it links to
        self._runner: web.AppRunner | None = None
        self.port = 0

    def feed(self, name: str) -> FeedState:
        return self.feeds.setdefault(name, FeedState())

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}.xml"

    def add(self, name: str, title: str, link: str | None = None, summary: str = "") -> FeedItem:
        state = self.feed(name)
        item = FeedItem(
            title,
            link or f"http://example.test/{name}/{len(state.items) + 1}",
            summary,
            published=datetime(2024, 4, 14, tzinfo=UTC) + timedelta(minutes=len(state.items)),
        )
        state.items.append(item)
        return item

    async def start(self) -> FeedServer:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # noqa: SLF001
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def page_url(self, name: str, links: list[tuple[str, str]]) -> str:
        """A web page that declares these feeds (feed name, title) with <link rel="alternate">."""
        self.pages[name] = links
        return f"http://127.0.0.1:{self.port}/page/{name}.html"

    async def page(self, request: web.Request) -> web.Response:
        links = self.pages.get(request.match_info["name"], [])
        heads = "".join(
            f'<link rel="alternate" type="application/rss+xml" title="{title}" href="/{feed}.xml">'
            for feed, title in links
        )
        return web.Response(text=f"<html><head>{heads}</head><body>A blog</body></html>", content_type="text/html")

    async def redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/{request.match_info['name']}.xml")

    async def serve(self, request: web.Request) -> web.StreamResponse:
        state = self.feed(request.match_info["name"])
        state.hits += 1
        mode = state.mode
        if mode in ("500", "404", "410"):
            return web.Response(status=int(mode), text="nope")
        if mode == "slow":
            await asyncio.sleep(30)
        if mode == "html":
            return web.Response(text="<html><body><h1>Not a feed</h1></body></html>", content_type="text/html")
        body = rss(f"{request.match_info['name']} recaps", state.items)
        if mode == "malformed":
            return web.Response(
                body=b"<rss><channel><title>oops</title><item><title>x</item></rss>", content_type="application/rss+xml"
            )
        if mode == "truncated":
            return web.Response(body=body[: len(body) // 2], content_type="application/rss+xml")
        if mode == "huge":
            return web.Response(
                body=body + b"<!--" + b"x" * (3 * 1024 * 1024) + b"-->", content_type="application/rss+xml"
            )
        if mode == "bomb":
            payload = gzip.compress(b"<rss>" + b" " * (64 * 1024 * 1024), compresslevel=9)
            return web.Response(
                body=payload, headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
            )
        etag = state.etag()
        if request.headers.get("If-None-Match") == etag:
            state.conditional_hits += 1
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers={"ETag": etag, "Content-Type": "application/rss+xml"})
