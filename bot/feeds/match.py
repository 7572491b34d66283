"""Matching recap titles to (drama, episodes): "Queen of Tears: Episodes 3-4", "… Episode 16 (Final)"."""

from __future__ import annotations

import re

from bot.catalog import Drama
from bot.lookups import Lookups

_EPISODES = re.compile(
    r"(?P<show>.+?)[\s:,|\-–—]+(?:episodes?|eps?\.?|e)\s*(?P<a>\d{1,4})"
    r"(?:\s*(?:-|–|—|&|\+|and|to|,)\s*(?:episode\s*|ep\.?\s*)?(?P<b>\d{1,4}))?(?!\d)",
    re.IGNORECASE,
)
# Korean titles: "눈물의 여왕 13회 리뷰", "눈물의 여왕 13-14회", "눈물의 여왕 제13화".
_KOREAN = re.compile(
    r"(?P<show>.+?)[\s:,|\-–—]*(?:제\s*)?(?P<a>\d{1,4})\s*(?:회|화)?\s*(?:[-~–—]\s*(?P<b>\d{1,4})\s*)?(?:회|화)",
)
_PREFIX = re.compile(r"^\s*(?:recap|review|\[[^\]]*\])\s*[:\-–—]?\s*", re.IGNORECASE)
MAX_SPAN = 8


def match_title(title: str, lookups: Lookups, only: Drama | None = None) -> tuple[Drama, int, int] | None:
    """(drama, first, last) for a recap's title, by the catalog's names, Korean titles and aliases —
    "Queen of Tears: Episodes 3-4", "QoT EP13", "Ep. 13", "E13", "눈물의 여왕 13회 리뷰", "13-14회" —
    or None. Never a fuzzy guess: a wrong match would post a recap of another show."""
    found = _EPISODES.search(title) or _KOREAN.search(title)
    if not found:
        return None
    show = _PREFIX.sub("", found.group("show")).strip(" \"'“”‘’")
    first = int(found.group("a"))
    last = int(found.group("b") or first)
    if not show or last < first or last - first >= MAX_SPAN:
        return None
    if only is not None and show.casefold() in (only.title.casefold(), only.slug, *map(str.casefold, only.aliases)):
        drama = only
    else:
        # Exact or normalised names and aliases only: a fuzzy guess could post a recap of another show.
        hits = lookups.index.dramas.lookup(show, limit=2)
        if len(hits) != 1 or hits[0].how not in ("exact", "folded"):  # not one word of a title ("Crash")
            return None
        drama = lookups.catalog.dramas[hits[0].target[1]]
    if only is not None and drama.slug != only.slug:
        return None
    if first < 1 or last > drama.episode_count:
        return None
    return drama, first, last
