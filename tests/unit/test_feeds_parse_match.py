"""Recap feeds below the service: parsing hostile bytes, excerpts, title matching, and the fetcher's
address checks and redirect limit (against the loopback feed server)."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.client import load_index
from bot.feeds import fetch
from bot.feeds.fetch import MAX_REDIRECTS, Fetcher, FetchError, check_url, is_public
from bot.feeds.match import MAX_SPAN, match_title
from bot.feeds.parse import EXCERPT_LIMIT, Entry, ParseError, excerpt, parse_feed, strip_html
from bot.lookups import Lookups
from bot.settings import Settings
from tests.e2e.feedserver import FeedItem, FeedServer, rss

LOOKUPS = Lookups(*load_index(Settings()))  # the shipped catalog (data/packs)
DRAMAS = LOOKUPS.catalog.dramas
QOT = DRAMAS["queen-of-tears"]
CLOY = DRAMAS["crash-landing-on-you"]
MARK = "SECRETSCRIPTMARK"

VALID_RSS = rss(
    "Dramabeans",
    [
        FeedItem("Queen of Tears: Episode 1", "http://example.test/1", "<p>Hi <b>there</b></p><script>x()</script>"),
        FeedItem("Queen of Tears: Episodes 2-3", "http://example.test/2", "Plain & simple"),
        FeedItem("Lovely Runner: Episode 4", "http://example.test/3", "<div>One</div><div>Two</div>"),
    ],
)
VALID_ATOM = (
    b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom recaps</title>'
    b'<entry><title>Queen of Tears: Episode 2</title><link href="http://example.test/a2"/><id>tag:x,2024:2</id>'
    b"<updated>2024-04-14T00:00:00Z</updated><author><name>Kim</name></author>"
    b'<summary type="html">&lt;b&gt;bold&lt;/b&gt; text&lt;script&gt;x()&lt;/script&gt;</summary></entry></feed>'
)


def assert_parsed(result: object) -> None:
    """What parse_feed promises whenever it does not raise ParseError."""
    assert isinstance(result, tuple) and len(result) == 2
    title, entries = result
    assert title is None or (isinstance(title, str) and len(title) <= 200)
    assert isinstance(entries, list)
    for entry in entries:
        assert isinstance(entry, Entry)
        assert isinstance(entry.key, str) and 0 < len(entry.key) <= 500
        assert isinstance(entry.title, str) and len(entry.title) <= 300
        assert entry.link == "" or (entry.link.startswith(("http://", "https://")) and len(entry.link) <= 1000)
        assert isinstance(entry.author, str) and len(entry.author) <= 100
        assert entry.published is None or (isinstance(entry.published, datetime) and entry.published.tzinfo)
        assert isinstance(entry.summary, str)
        assert len(excerpt(entry.summary)) <= EXCERPT_LIMIT


def parses_or_refuses(body: bytes) -> None:
    try:
        result = parse_feed(body)
    except ParseError as error:
        assert str(error)
        return
    assert_parsed(result)


# -- parse_feed -----------------------------------------------------------------------------------------------
def test_valid_rss_and_atom_parse_into_entries() -> None:
    title, entries = parse_feed(VALID_RSS)
    assert title == "Dramabeans"
    assert [(e.title, e.link, e.summary) for e in entries] == [
        ("Lovely Runner: Episode 4", "http://example.test/3", "One Two"),
        ("Queen of Tears: Episodes 2-3", "http://example.test/2", "Plain & simple"),
        ("Queen of Tears: Episode 1", "http://example.test/1", "Hi there"),
    ]
    assert all(e.key == e.link and e.author == "A. Recapper" and e.published is not None for e in entries)
    title, (entry,) = parse_feed(VALID_ATOM)
    assert (title, entry.key, entry.link, entry.author, entry.summary) == (
        "Atom recaps",
        "tag:x,2024:2",
        "http://example.test/a2",
        "Kim",
        "bold text",
    )


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"", "not an RSS or Atom feed"),
        (b"<html><body><h1>Not a feed</h1></body></html>", "not an RSS or Atom feed"),
        (VALID_RSS[: len(VALID_RSS) // 2], "malformed or truncated"),
        (b'{"items": []}', "not"),
        # Unknown, non-ASCII-compatible or broken encoding declarations: still a ParseError.
        (b'<?xml version="1.0" encoding="utf-\xc7"?><rss version="2.0"><channel></channel></rss>', "not a valid"),
        (b'<?xml version="1.0" encoding="punycode"?>' + VALID_RSS.split(b"?>", 1)[1], "not a valid"),
        (b'<?xml version="1.0" encoding="utf\x008"?><rss version="2.0"><channel></channel></rss>', "not a valid"),
    ],
)
def test_what_is_not_a_feed_raises_parse_error_with_a_reason(body: bytes, needle: str) -> None:
    with pytest.raises(ParseError, match=needle):
        parse_feed(body)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=3000))
@example(b'<?xml version="1.0" encoding="utf-\xc7"?>\n<rss version="2.0"><channel><title>t</title></channel></rss>')
@example(b'<?xml version="1.0" encoding="\x06\xe0vQ"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>')
@example(b"\xef\xbb\xbf" + VALID_RSS)
@example(b"\xff\xfe" + VALID_RSS)
def test_parse_feed_on_arbitrary_bytes_returns_entries_or_raises_parse_error(body: bytes) -> None:
    parses_or_refuses(body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from([VALID_RSS, VALID_ATOM]),
    cut=st.integers(min_value=0),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=8),
)
def test_parse_feed_on_truncated_or_bit_flipped_feeds_never_raises_anything_else(
    base: bytes, cut: int, flips: list[tuple[int, int]]
) -> None:
    body = bytearray(base[: cut % (len(base) + 1)])
    for position, value in flips:
        if body:
            body[position % len(body)] = value
    parses_or_refuses(bytes(body))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from([VALID_RSS, VALID_ATOM]),
    where=st.integers(min_value=0),
    inserted=st.sampled_from(
        [
            b'<?xml version="1.0" encoding="x"?>',
            b"<!DOCTYPE x [",
            b"<![CDATA[",
            b"&#0;",
            b"&bogus;",
            b"\x00",
            b"</item>",
        ]
    ),
)
def test_parse_feed_on_feeds_with_hostile_insertions_never_raises_anything_else(
    base: bytes, where: int, inserted: bytes
) -> None:
    at = where % (len(base) + 1)
    parses_or_refuses(base[:at] + inserted + base[at:])


BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><rss version="2.0"><channel><title>&c;</title></channel></rss>'
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<rss version="2.0"><channel><title>&x;</title></channel></rss>'
)


@pytest.mark.parametrize("body", [BOMB, XXE], ids=["entity-expansion", "external-entity"])
def test_entity_declarations_and_external_references_are_refused(body: bytes) -> None:
    with pytest.raises(ParseError, match="refused"):
        parse_feed(body)


def test_rss_1_rdf_feeds_parse() -> None:
    body = (
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b"<channel><title>RDF recaps</title></channel>"
        b"<item><title>Queen of Tears: Episode 3</title><link>http://example.test/r3</link>"
        b"<dc:creator>Lee</dc:creator><dc:date>2024-04-14T09:00:00+09:00</dc:date>"
        b"<description>&lt;p&gt;Short&lt;/p&gt;</description></item></rdf:RDF>"
    )
    title, (entry,) = parse_feed(body)
    assert (title, entry.title, entry.link, entry.key, entry.author, entry.summary) == (
        "RDF recaps",
        "Queen of Tears: Episode 3",
        "http://example.test/r3",
        "http://example.test/r3",
        "Lee",
        "Short",
    )
    assert entry.published == datetime.fromisoformat("2024-04-14T00:00:00+00:00")


def test_atom_xhtml_content_is_plain_text_without_scripts() -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">&lt;b&gt;Bold&lt;/b&gt; recaps</title>'
        b'<entry><title>Queen of Tears: Episode 4</title><link rel="self" href="http://example.test/self"/>'
        b'<link href="http://example.test/a4"/><id>urn:4</id><published>2024-04-14T00:00:00Z</published>'
        b'<summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>One</p><script>'
        + MARK.encode()
        + b"</script><p>Two</p></div></summary></entry></feed>"
    )
    title, (entry,) = parse_feed(body)
    assert title == "Bold recaps" and entry.link == "http://example.test/a4" and entry.key == "urn:4"
    assert entry.summary == "One Two" and MARK not in entry.summary


def test_html_entities_and_undeclared_windows_1252_are_repaired() -> None:
    body = VALID_RSS.replace(b"Plain &amp; simple", b"Caf&eacute;&nbsp;night &bogus; \x93quoted\x94")
    _, entries = parse_feed(body.replace(b' encoding="utf-8"', b""))
    assert entries[1].summary == "Café night &bogus; “quoted”"


SAFE_TEXT = st.text(
    alphabet=st.characters(
        whitelist_categories=("L", "N", "Zs"),
        whitelist_characters=".,:;!?'\"()-–—…",
        # Not U+0080–U+00FF (kept from the feedparser days: it "repaired" text that looked double-encoded).
        blacklist_characters=[chr(c) for c in range(0x80, 0x100)],
        max_codepoint=0xFFFF,
    ),
    max_size=80,
)


@settings(max_examples=100, deadline=None)
@given(items=st.lists(st.tuples(SAFE_TEXT, SAFE_TEXT), min_size=1, max_size=5))
def test_item_titles_and_summaries_survive_the_round_trip(items: list[tuple[str, str]]) -> None:
    feed = [FeedItem(title, f"http://example.test/{i}", summary) for i, (title, summary) in enumerate(items)]
    _, entries = parse_feed(rss("t", feed))
    assert [e.title for e in reversed(entries)] == [" ".join(t.split()) for t, _ in items]
    assert [e.summary for e in reversed(entries)] == [" ".join(s.split()) for _, s in items]


# -- strip_html and excerpt -----------------------------------------------------------------------------------
TAGS = ("b", "i", "em", "strong", "span", "a", "p", "div", "li", "ul", "br", "img", "h2", "blockquote")
BLOCK = ("p", "br", "div", "li")  # strip_html puts a space where these start
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\n "), max_size=30)  # XML-safe


@st.composite
def html_fragment(draw: st.DrawFn, depth: int = 0) -> tuple[str, str]:
    """(markup, the text a reader sees) — scripts, styles and comments show nothing."""
    kind = draw(st.sampled_from(["text", "text", "element", "script", "comment"] if depth < 3 else ["text"]))
    if kind == "text":
        text = draw(TEXT)
        return html.escape(text, quote=False), text
    if kind == "script":
        tag = draw(st.sampled_from(["script", "style", "SCRIPT", "Style"]))
        return f"<{tag} type='text/x'>{MARK}{draw(TEXT).replace('<', ' ')}</{tag}>", ""
    if kind == "comment":
        return f"<!-- {MARK} {draw(TEXT).replace('-', ' ').replace('>', ' ')} -->", ""
    tag = draw(st.sampled_from(TAGS))
    attrs = "".join(
        f' {name}="{html.escape(value)}"'
        for name, value in draw(st.dictionaries(st.sampled_from(["href", "class", "title", "onclick"]), TEXT)).items()
    )
    children = draw(st.lists(html_fragment(depth + 1), max_size=4))
    inner_markup = "".join(m for m, _ in children)
    inner_text = "".join(t for _, t in children)
    lead = " " if tag in BLOCK else ""
    return f"<{tag}{attrs}>{inner_markup}</{tag}>", lead + inner_text


@st.composite
def html_document(draw: st.DrawFn) -> tuple[str, str]:
    parts = draw(st.lists(html_fragment(), max_size=6))
    return "".join(m for m, _ in parts), "".join(t for _, t in parts)


@settings(max_examples=300, deadline=None)
@given(html_document())
def test_strip_html_keeps_exactly_the_text_and_drops_tags_scripts_styles_comments(doc: tuple[str, str]) -> None:
    markup, text = doc
    stripped = strip_html(markup)
    assert stripped == " ".join(text.split())
    assert MARK not in stripped


@settings(max_examples=300, deadline=None)
@given(html_document())
def test_excerpt_of_html_is_short_and_has_no_tags(doc: tuple[str, str]) -> None:
    markup, text = doc
    short = excerpt(strip_html(markup))
    assert len(short) <= EXCERPT_LIMIT
    if "<" not in text:
        assert "<" not in short
    assert MARK not in short


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>Hi <b>there</b></p><script>evil()</script><style>p{color:red}</style>", "Hi there"),
        ("one<br>two<div>three</div><li>four</li>", "one two three four"),
        ("Tom &amp; Jerry &lt;3 &#8212; &eacute;", "Tom & Jerry <3 — é"),
        ('<a href="javascript:alert(1)" onclick="x()">link</a>', "link"),
        ("<SCRIPT>a()</SCRIPT>after<!-- hidden -->", "after"),
    ],
)
def test_strip_html_examples(markup: str, text: str) -> None:
    assert strip_html(markup) == text


@settings(max_examples=500)
@given(st.text(max_size=1000))
@example("x" * 5000)
@example(("word " * 200).strip())
@example("a" * 299 + " b")
def test_excerpt_never_exceeds_the_limit_and_is_a_prefix(text: str) -> None:
    normal = " ".join(text.split())
    short = excerpt(text)
    assert len(short) <= EXCERPT_LIMIT
    if len(normal) <= EXCERPT_LIMIT:
        assert short == normal
    else:
        assert short.endswith("…") and normal.startswith(short[:-1])


@settings(max_examples=100, deadline=None)
@given(html_document())
def test_feed_summaries_reach_the_entry_as_plain_text(doc: tuple[str, str]) -> None:
    markup, text = doc
    _, (entry,) = parse_feed(rss("t", [FeedItem("Queen of Tears: Episode 1", "http://example.test/1", markup)]))
    assert MARK not in entry.summary
    if "<" not in text:
        assert "<" not in entry.summary
    assert len(excerpt(entry.summary)) <= EXCERPT_LIMIT


# -- match_title ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("title", "slug", "first", "last"),
    [
        ("Queen of Tears: Episode 12", "queen-of-tears", 12, 12),
        ("Queen of Tears: Episodes 3-4", "queen-of-tears", 3, 4),
        ("Queen of Tears: Episode 16 (Final)", "queen-of-tears", 16, 16),
        ("Queen of Tears Episodes 3 & 4 Recap", "queen-of-tears", 3, 4),
        ("QoT: Ep 5", "queen-of-tears", 5, 5),
        ("[Recap] Queen of Tears: Episode 7", "queen-of-tears", 7, 7),
        ("Recap: Queen of Tears – Episode 9", "queen-of-tears", 9, 9),
        ("queen of tears episodes 1 to 8", "queen-of-tears", 1, 8),
        ("“Queen of Tears” Episode 2", "queen-of-tears", 2, 2),
        ("Crash Landing on You: Episode 3", "crash-landing-on-you", 3, 3),
        ("CLOY: E04", "crash-landing-on-you", 4, 4),
        ("Lovely Runner: Episodes 15-16", "lovely-runner", 15, 16),
        ("눈물의 여왕 13회 리뷰", "queen-of-tears", 13, 13),
        ("눈물의 여왕 13-14회", "queen-of-tears", 13, 14),
        ("[리뷰] 눈물의 여왕 제7화", "queen-of-tears", 7, 7),
        ("사랑의 불시착 3회", "crash-landing-on-you", 3, 3),
        ("Queen of Tears EP13", "queen-of-tears", 13, 13),
        ("Queen of Tears Ep. 13", "queen-of-tears", 13, 13),
        ("Queen of Tears E13 review", "queen-of-tears", 13, 13),
        ("Queen of Tears: Episodes 13 & 14", "queen-of-tears", 13, 14),
        ("Tangerines: Episode 5", "when-life-gives-you-tangerines", 5, 5),
    ],
)
def test_titles_that_match(title: str, slug: str, first: int, last: int) -> None:
    found = match_title(title, LOOKUPS)
    assert found is not None
    assert (found[0].slug, found[1], found[2]) == (slug, first, last)


@pytest.mark.parametrize(
    "title",
    [
        "Tears of the Sun: Episode 2",  # another show, near in spelling
        "Queen of Tears: Episode 17",  # past the last episode
        "Queen of Tears: Episode 0",
        "Queen of Tears news",  # no episode
        "Queen of Tears: Episodes 4-3",  # backwards
        "Queen of Tears: Episodes 1-9",  # more than MAX_SPAN episodes: not a recap of these
        "Queen of Tears: Episode 12345",
        "Queen of Tear: Episode 5",  # a typo is a guess
        # One word of a catalog title is another show: ENA's "Crash" (2024), JTBC's "Life" (2018).
        "Crash: Episode 4",
        "Life: Episode 3",
        "Queen: Episode 5",
        "Episode 5",
        "",
        "눈물의 여왕 리뷰",  # no episode
        "눈물의 여 13회",  # a near spelling is a guess
        "13회",
    ],
)
def test_titles_that_do_not_match(title: str) -> None:
    assert match_title(title, LOOKUPS) is None


def test_only_restricts_matches_to_that_drama() -> None:
    found = match_title("Queen of Tears: Episode 3", LOOKUPS, QOT)
    assert found is not None and (found[0].slug, found[1], found[2]) == ("queen-of-tears", 3, 3)
    found = match_title("QoT: Ep 5", LOOKUPS, QOT)
    assert found is not None and (found[0].slug, found[1]) == ("queen-of-tears", 5)
    assert match_title("Queen of Tears: Episode 3", LOOKUPS, CLOY) is None
    assert match_title("Crash Landing on You: Episode 3", LOOKUPS, QOT) is None
    assert match_title("Queen of Tears: Episode 17", LOOKUPS, QOT) is None
    found = match_title("Crash Landing on You: Episode 3", LOOKUPS, CLOY)
    assert found is not None and found[0] is CLOY


def check_match(title: str, only: object) -> None:
    found = match_title(title, LOOKUPS, only)  # type: ignore[arg-type]
    if found is None:
        return
    drama, first, last = found
    assert drama.slug in DRAMAS
    assert 1 <= first <= last <= drama.episode_count
    assert last - first < MAX_SPAN
    if only is not None:
        assert drama is only


NAMES = sorted(
    {n for d in DRAMAS.values() for n in (d.title, d.slug, *d.aliases)}
    | {w for d in DRAMAS.values() for w in d.title.split()}
    | {"Tears of the Sun", "The Queen", "Crash", "Life"}
)
SEPARATORS = st.sampled_from([": ", " ", " - ", " – ", ", ", " | ", ":", " — "])
WORDS = st.sampled_from(["Episode", "Episodes", "Ep", "Ep.", "E", "ep", "EPISODE", "episodes"])
JOINS = st.sampled_from(["-", "–", " & ", " and ", " to ", ", ", "+", " - "])


@st.composite
def recap_title(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["", "[Recap] ", "Recap: ", "Review - ", "[Spoilers] "]))
    name = draw(st.sampled_from(NAMES) | st.text(max_size=20))
    title = f"{prefix}{name}{draw(SEPARATORS)}{draw(WORDS)} {draw(st.integers(0, 99999))}"
    if draw(st.booleans()):
        title += f"{draw(JOINS)}{draw(st.integers(0, 99999))}"
    return title + draw(st.sampled_from(["", " (Final)", " Recap", "!", "0", "x"]))


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.text(max_size=300), recap_title()), st.sampled_from([None, *DRAMAS.values()]))
def test_match_title_never_raises_and_stays_within_the_drama(title: str, only: object) -> None:
    check_match(title, only)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(DRAMAS)), st.integers(1, 40), st.integers(0, 10), SEPARATORS, WORDS)
def test_the_drama_title_and_any_episode_in_range_always_match(
    slug: str, first: int, more: int, separator: str, word: str
) -> None:
    drama = DRAMAS[slug]
    last = first + more
    title = f"{drama.title}{separator}{word} {first}" + (f"-{last}" if more else "")
    found = match_title(title, LOOKUPS)
    if last <= drama.episode_count and more < MAX_SPAN:
        assert found is not None and (found[0], found[1], found[2]) == (drama, first, last), title
    else:
        assert found is None, title


# -- fetch: addresses -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),  # IPv4-mapped public
        ("127.0.0.1", False),  # loopback
        ("127.255.255.254", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("10.1.2.3", False),  # private
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("fd12:3456::1", False),  # unique local
        ("::ffff:10.0.0.1", False),  # IPv4-mapped private
        ("::ffff:192.168.0.1", False),
        ("169.254.169.254", False),  # link-local (cloud metadata)
        ("fe80::1", False),
        ("fe80::1%eth0", False),  # with a zone
        ("::ffff:169.254.169.254", False),
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
        ("0.0.0.0", False),  # unspecified
        ("::", False),
        ("224.0.0.1", False),  # multicast
        ("ff02::1", False),
        ("192.0.2.10", False),  # documentation
        ("2001:db8::1", False),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(address) is public


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("ftp://example.test/feed.xml", "only http:// and https://"),
        ("file:///etc/passwd", "only http:// and https://"),
        ("javascript:alert(1)", "only http:// and https://"),
        ("example.test/feed.xml", "no scheme"),
        ("http:///feed.xml", "no host"),
    ],
)
async def test_check_url_refuses_other_schemes_and_missing_hosts_even_when_private_is_allowed(
    url: str, needle: str
) -> None:
    for allow_private in (False, True):
        with pytest.raises(FetchError, match=needle) as refused:
            await check_url(url, allow_private)
        assert refused.value.permanent


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed.xml",
        "http://127.0.0.1:8080/feed.xml",
        "http://localhost/feed.xml",
        "https://LOCALHOST/feed.xml",
        "http://[::1]/feed.xml",
        "http://[::ffff:127.0.0.1]/feed.xml",
        "http://10.0.0.5/feed.xml",
        "http://192.168.0.1/rss",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/feed.xml",
        "http://0.0.0.0/feed.xml",
    ],
)
async def test_check_url_refuses_local_addresses_unless_allowed(url: str) -> None:
    with pytest.raises(FetchError, match="loopback, private, link-local or reserved") as refused:
        await check_url(url, False)
    assert refused.value.permanent
    await check_url(url, True)  # FEEDS_ALLOW_PRIVATE=1: accepted


async def test_check_url_accepts_public_addresses() -> None:
    await check_url("https://93.184.216.34/feed.xml", False)
    await check_url("http://[2606:4700:4700::1111]:8080/rss", False)


# -- fetch: redirects -----------------------------------------------------------------------------------------
@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer()

    async def chain(request: web.Request) -> web.Response:
        """/chain/N redirects N+1 times in all: /chain/N → … → /chain/0 → /chained.xml."""
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/chain/{n - 1}" if n > 0 else "/chained.xml")

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(str(request.url))  # to itself, absolute

    server.app.router.add_get("/chain/{n}", chain)
    server.app.router.add_get("/loop", loop)
    await server.start()
    server.add("chained", "Queen of Tears: Episode 1")
    try:
        yield server
    finally:
        await server.stop()


async def test_five_redirects_are_followed(feed_server: FeedServer) -> None:
    fetcher = Fetcher(allow_private=True)
    try:
        result = await fetcher.fetch(f"http://127.0.0.1:{feed_server.port}/chain/{MAX_REDIRECTS - 1}")
    finally:
        await fetcher.close()
    assert result.status == 200 and result.url.endswith("/chained.xml")
    assert parse_feed(result.body)[1][0].title == "Queen of Tears: Episode 1"
    assert feed_server.feed("chained").hits == 1


async def test_more_than_five_redirects_fail(feed_server: FeedServer) -> None:
    fetcher = Fetcher(allow_private=True)
    try:
        with pytest.raises(FetchError, match=f"more than {MAX_REDIRECTS} redirects"):
            await fetcher.fetch(f"http://127.0.0.1:{feed_server.port}/chain/{MAX_REDIRECTS}")
        with pytest.raises(FetchError, match=f"more than {MAX_REDIRECTS} redirects"):
            await fetcher.fetch(f"http://127.0.0.1:{feed_server.port}/loop")
    finally:
        await fetcher.close()
    assert feed_server.feed("chained").hits == 0


async def test_redirect_to_a_loopback_address_is_refused(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A public feed that redirects to a private address: the hop is checked before it is followed."""
    first = f"http://127.0.0.1:{feed_server.port}/redirect/chained.xml"  # stands in for a public address
    checked: list[str] = []

    async def first_hop_is_public(url: str, allow_private: bool) -> None:
        checked.append(url)
        if url != first:
            await check_url(url, allow_private)

    monkeypatch.setattr(fetch, "check_url", first_hop_is_public)
    fetcher = Fetcher(allow_private=False)
    try:
        with pytest.raises(FetchError, match="loopback, private") as refused:
            await fetcher.fetch(first)
    finally:
        await fetcher.close()
    assert refused.value.permanent
    assert checked == [first, f"http://127.0.0.1:{feed_server.port}/chained.xml"]
    assert feed_server.feed("chained").hits == 0  # the private target was never requested


async def test_a_name_that_resolves_to_loopback_is_refused_when_connecting(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: even if the name looked public when checked, the connection re-checks it."""

    async def looked_public(url: str, allow_private: bool) -> None:
        return None

    monkeypatch.setattr(fetch, "check_url", looked_public)
    url = f"http://localhost:{feed_server.port}/chained.xml"
    fetcher = Fetcher(allow_private=False)
    try:
        with pytest.raises(FetchError, match="Cannot connect to host localhost"):
            await fetcher.fetch(url)
    finally:
        await fetcher.close()
    assert feed_server.feed("chained").hits == 0
    allowed = Fetcher(allow_private=True)  # the same request goes through when private addresses are allowed
    try:
        assert (await allowed.fetch(url)).status == 200
    finally:
        await allowed.close()
    assert feed_server.feed("chained").hits == 1


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("bora@example.com (Bora)", "Bora"),
        ("Bora Kim <bora@example.com>", "Bora Kim"),
        ("bora@example.com", ""),
        ("A. Recapper", "A. Recapper"),
        ("  Mina  ", "Mina"),
    ],
)
def test_feed_authors_show_as_a_clean_name(raw: str, shown: str) -> None:
    from bot.ui.feeds import author_name

    assert author_name(raw) == shown
