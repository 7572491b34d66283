"""Feed post templates and title filters (/feeds edit)."""

from __future__ import annotations

import dataclasses

import pytest

from bot.errors import InvalidInput
from bot.feeds.service import parse_words, passes_filters
from bot.storage.feeds import Feed
from bot.ui.feeds import SAMPLE_ITEM, check_template, render_template

FEED = Feed(
    id=1,
    guild_id=1,
    url="http://example.test/feed.xml",
    drama=None,
    channel_id=None,
    title=None,
    etag=None,
    last_modified=None,
    state="active",
    disabled_reason=None,
    failures=0,
    primed=True,
    last_success=None,
    last_error=None,
    next_poll=None,
    items_posted=0,
    items_unmatched=0,
)


@pytest.mark.parametrize("bad", ["{plot}", "{title", "title}", "{title!r}", "{title:>10}", "{}", "{0}"])
def test_bad_templates_are_refused_naming_the_option(bad: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_template(bad)
    assert refused.value.message.startswith("`template`:") and "`{source}`" in refused.value.message


def test_template_renders_escaped_values() -> None:
    item = dataclasses.replace(SAMPLE_ITEM, title="**Big** @everyone", author="bora@example.com (Bora)")
    text = render_template(check_template("{title} by {author}, ep {episode} {{x}}"), item, None, "src")
    assert text == "\\*\\*Big\\*\\* @\u200beveryone by Bora, ep 12 {x}"


def test_filters_include_and_exclude_case_insensitively() -> None:
    feed = dataclasses.replace(FEED, include_words=parse_words("Recap, episode", "include"), exclude_words="preview")
    assert passes_filters(feed, "Queen of Tears EPISODE 3")
    assert not passes_filters(feed, "Queen of Tears Episode 4 Preview")
    assert not passes_filters(feed, "Queen of Tears thoughts")
    assert parse_words("none", "include") is None
    with pytest.raises(InvalidInput, match="`exclude`"):
        parse_words(" , ", "exclude")
