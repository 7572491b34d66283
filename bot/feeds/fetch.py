"""Fetching feeds politely and safely.

Conditional GET (ETag / Last-Modified), a timeout, a 2 MB cap on the body counted after
decompression (so a gzip bomb stops at 2 MB), at most 5 redirects, a clear User-Agent, and
bounded concurrency across all feeds. Only http(s); hosts that resolve to loopback, private,
link-local or reserved addresses are refused — checked before every hop and again when the
connection resolves the name — unless FEEDS_ALLOW_PRIVATE=1.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

import aiohttp
import yarl
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver

from bot import __version__
from bot.text import quote

USER_AGENT = f"Dramawatch/{__version__} (self-hosted Discord bot; recap feed reader)"
MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT = aiohttp.ClientTimeout(total=20, connect=10, sock_read=15)
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"


class FetchError(Exception):
    """A fetch that failed; `permanent` for answers that will not change (404, 410, refused address)."""

    def __init__(self, message: str, *, permanent: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status


@dataclass(frozen=True)
class FetchResult:
    status: int  # 200 or 304
    body: bytes
    etag: str | None
    last_modified: str | None
    url: str


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv6Address) and ip.sixtofour is not None:
        ip = ip.sixtofour  # 6to4 wraps an IPv4 address, which may be private
    # is_global also rules out shared (carrier-grade NAT) and other special-purpose ranges.
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's default, but refuses non-public addresses (DNS rebinding included)."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = DefaultResolver()
        self._allow_private = allow_private

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
        try:
            results = await self._inner.resolve(host, port, family)
        except UnicodeError:  # a name that cannot be encoded for DNS (e.g. a label over 63 characters)
            raise OSError(errno.EINVAL, f"{host} is not a valid host name") from None
        if not self._allow_private:
            results = [r for r in results if is_public(r["host"])]
            if not results:
                raise OSError(errno.EACCES, f"{host} resolves only to private or local addresses; refused")
        return results

    async def close(self) -> None:
        await self._inner.close()


EXAMPLE = "like https://example.com/feed.xml"


def split_url(url: str) -> tuple[SplitResult, str, int | None]:
    """(parts, host, port) of a feed address, or a permanent FetchError that says what is wrong
    with it and what is allowed: the address is read before anything is resolved or fetched."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. "Invalid IPv6 URL" for an unclosed [
        raise FetchError(f"{quote(url, 80)} is not a web address ({exc}); give one {EXAMPLE}", permanent=True) from None
    if parts.scheme.lower() not in ("http", "https"):
        scheme = f"{quote(parts.scheme, 20)}:" if parts.scheme else "no scheme"
        raise FetchError(f"only http:// and https:// feeds are allowed, not {scheme}", permanent=True)
    try:
        port = parts.port
    except ValueError:
        raw = parts.netloc.rpartition("]")[2].rpartition(":")[2]
        raise FetchError(
            f"the port {quote(raw, 20)} is not allowed: a port is a whole number from 1 to 65535", permanent=True
        ) from None
    if port == 0:
        raise FetchError("the port 0 is not allowed: a port is a whole number from 1 to 65535", permanent=True)
    host = parts.hostname
    if not host:
        raise FetchError(f"the address has no host name; give one {EXAMPLE}", permanent=True)
    try:
        yarl.URL(url)  # what aiohttp will make of it: refuses hosts that cannot be encoded (IDNA)
    except ValueError as exc:
        raise FetchError(f"{quote(url, 80)} is not a web address ({exc}); give one {EXAMPLE}", permanent=True) from None
    return parts, host, port


async def check_url(url: str, allow_private: bool) -> None:
    """Refuse what must never be fetched, with a reason a moderator understands."""
    parts, host, port = split_url(url)
    if allow_private:
        return
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
        except UnicodeError:  # the name cannot be encoded for DNS (e.g. a label over 63 characters)
            raise FetchError(
                f"{quote(host, 80)} is not a valid host name; give an address {EXAMPLE}", permanent=True
            ) from None
        except OSError as exc:
            raise FetchError(f"cannot resolve {quote(host, 80)}: {exc.strerror or exc}") from None
        addresses = [str(info[4][0]) for info in infos]
    refused = [a for a in addresses if not is_public(a)]
    if refused:
        raise FetchError(
            f"{host} is a loopback, private, link-local or reserved address ({refused[0]}); refused", permanent=True
        )


class Fetcher:
    def __init__(self, *, allow_private: bool = False, concurrency: int = 32) -> None:
        self.allow_private = allow_private
        self._semaphore = asyncio.Semaphore(concurrency)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=64, resolver=GuardedResolver(self.allow_private))
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=TIMEOUT, headers={"User-Agent": USER_AGENT, "Accept": ACCEPT}
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        async with self._semaphore:
            try:
                return await self._fetch(url, etag, last_modified)
            except FetchError:
                raise
            except TimeoutError:
                raise FetchError("timed out") from None
            except aiohttp.ClientError as exc:
                raise FetchError(f"network error: {exc}") from None
            except OSError as exc:
                raise FetchError(f"network error: {exc.strerror or exc}") from None

    async def _fetch(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            await check_url(current, self.allow_private)
            headers = {}
            if current == url:
                if etag:
                    headers["If-None-Match"] = etag
                if last_modified:
                    headers["If-Modified-Since"] = last_modified
            async with self._client().get(current, headers=headers, allow_redirects=False) as response:
                if response.status in (301, 302, 303, 307, 308):
                    location = response.headers.get("Location")
                    if not location:
                        raise FetchError(f"HTTP {response.status} without a Location", status=response.status)
                    try:
                        current = urljoin(current, location)
                    except ValueError as exc:
                        raise FetchError(f"HTTP {response.status} to an invalid address ({exc})") from None
                    continue
                if response.status == 304:
                    return FetchResult(304, b"", etag, last_modified, current)
                if response.status in (404, 410):
                    raise FetchError(
                        f"the server says {response.status} {response.reason}: the feed is gone",
                        permanent=True,
                        status=response.status,
                    )
                if response.status >= 400:
                    raise FetchError(f"HTTP {response.status} {response.reason}", status=response.status)
                if response.content_length is not None and response.content_length > MAX_BYTES:
                    raise FetchError(f"the response is {response.content_length:,} bytes; at most {MAX_BYTES:,}")
                body = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):  # decompressed data
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise FetchError(
                            f"the feed is larger than {MAX_BYTES // (1024 * 1024)} MB (after decompression); refused"
                        )
                return FetchResult(
                    200, bytes(body), response.headers.get("ETag"), response.headers.get("Last-Modified"), current
                )
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")
