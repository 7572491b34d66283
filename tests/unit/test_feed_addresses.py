"""bot.feeds.fetch: an address that cannot be used is refused with a reason, never a crash.

`/feeds add` and `/feeds test` show these messages after "`url`: ", so each says what is wrong and what
is allowed. Name resolution is replaced by a fake (the real one encodes the name the same way first),
so no test here touches the network.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.feeds.fetch import Fetcher, FetchError, GuardedResolver, check_url

PORT_RULE = "a port is a whole number from 1 to 65535"


async def no_such_host(host: str, port: object, **_: object) -> list[Any]:
    host.encode("idna")  # what socket.getaddrinfo does first; raises UnicodeError for a bad name
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def check(url: str, allow_private: bool) -> None:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        loop.getaddrinfo = no_such_host  # type: ignore[method-assign,assignment]
        await check_url(url, allow_private)

    asyncio.run(run())


def refusal(url: str, allow_private: bool) -> FetchError:
    with pytest.raises(FetchError) as refused:
        check(url, allow_private)
    return refused.value


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://localhost:99999/", "99999"),
        ("http://localhost:65536/feed.xml", "65536"),
        ("https://[::1]:70000/feed.xml", "70000"),
        ("http://localhost:0/", "0"),
        ("http://localhost:-1/", r"\-1"),
        ("http://localhost:abc/", "abc"),
        ("http://a:b:c/", "c"),
    ],
)
def test_a_port_out_of_range_is_refused_saying_the_range(url: str, shown: str, allow_private: bool) -> None:
    refused = refusal(url, allow_private)
    assert str(refused) == f"the port {shown} is not allowed: {PORT_RULE}"
    assert refused.permanent


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1/feed.xml", "Invalid IPv6 URL"),
        ("http://[::1]x/", "Invalid IPv6 URL"),
        ("http://example.com\u2100/", "invalid characters under NFKC normalization"),
        ("http://\ud800/", "idna"),
    ],
)
def test_an_unreadable_address_is_refused_saying_what_is_allowed(url: str, reason: str, allow_private: bool) -> None:
    refused = refusal(url, allow_private)
    assert "is not a web address" in str(refused) and reason in str(refused)
    assert str(refused).endswith("give one like https://example.com/feed.xml")
    assert refused.permanent


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "a..example", ".example"])
def test_a_host_name_that_cannot_be_looked_up_is_refused(host: str) -> None:
    refused = refusal(f"http://{host}/feed.xml", False)
    assert "is not a valid host name" in str(refused) and refused.permanent


async def test_the_resolver_turns_an_unencodable_name_into_a_network_error() -> None:
    # aiohttp reports an OSError from the resolver as a connection error; a UnicodeError would escape.
    resolver = GuardedResolver(allow_private=True)
    try:
        with pytest.raises(OSError, match="is not a valid host name") as refused:
            await resolver.resolve("a" * 64 + ".example", 80)
        assert refused.value.strerror  # shown by aiohttp between brackets: never "[None]"
    finally:
        await resolver.close()


@pytest.fixture
async def redirector() -> AsyncIterator[str]:
    """A loopback server whose /go answers 302 to an address that cannot be parsed."""

    async def go(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "http://[::1/feed.xml"})

    app = web.Application()
    app.router.add_get("/go", go)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/go"
    finally:
        await runner.cleanup()


async def test_a_redirect_to_an_unreadable_address_is_a_fetch_error(redirector: str) -> None:
    fetcher = Fetcher(allow_private=True)
    try:
        with pytest.raises(FetchError, match="HTTP 302 to an invalid address"):
            await fetcher.fetch(redirector)
    finally:
        await fetcher.close()


AUTHORITY = st.one_of(
    st.text(max_size=30),
    st.builds(
        lambda host, port: f"{host}:{port}",
        st.sampled_from(["localhost", "127.0.0.1", "[::1]", "[::1", "::1]", "example.com", ""]),
        st.one_of(st.integers(-(10**6), 10**6).map(str), st.text(max_size=6)),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=80),
        st.builds(
            lambda scheme, authority, path: f"{scheme}://{authority}/{path}",
            st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
            AUTHORITY,
            st.text(max_size=20),
        ),
    ),
    st.booleans(),
)
@example("http://[::1/feed.xml", False)
@example("http://localhost:99999/", False)
@example("http://" + "a" * 64 + ".example/", False)
def test_any_text_is_a_usable_address_or_a_fetch_error(url: str, allow_private: bool) -> None:
    try:
        check(url, allow_private)
    except FetchError as refused:
        assert str(refused)
