"""The catalog's search index, built once at start.

Lookup order: exact slug or name → normalised forms (case, hyphens, spaces, apostrophes,
accents; Hangul kept) → romanisation variants folded together ("Hyeon"/"Hyun", "Seong"/"Sung",
"hee"/"hui", "Soo"/"Su") → a given name on its own ("haein") → fuzzy (rapidfuzz).
Autocomplete is prefix search over sorted keys (bisect; the best of a span picked by each entry's
precomputed place); when nothing starts with what was typed, the completions of the texts one slip
away (a letter dropped, added, replaced or two swapped), then close spellings (rapidfuzz).
"""

from __future__ import annotations

import bisect
import functools
import heapq
import re
import unicodedata
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, Protocol

from rapidfuzz import fuzz, process

from bot.catalog.models import Catalog

Target = tuple[str, ...]  # ("drama", slug) | ("character", drama, slug) | ("person", slug)

# Hangul syllables, and jamo: NFKD turns compatibility jamo (ㅎ) into conjoining jamo (U+1100–U+11FF).
_KEEP = re.compile(r"[^0-9a-z\uac00-\ud7a3\u1100-\u11ff\u3131-\u318e]+")
_FOLDS = (("eo", "u"), ("oo", "u"), ("ee", "i"), ("ui", "i"), ("ou", "u"), ("sh", "s"))


@functools.lru_cache(maxsize=1 << 18)
def normalise(text: str) -> str:
    """Case, accents, spaces, hyphens, apostrophes and punctuation folded away; Hangul kept.

    Cached (names and their words repeat a great deal across a catalog), with a fast path for
    plain ASCII, where there is nothing to decompose."""
    if text.isascii():
        return _KEEP.sub("", text.lower())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _KEEP.sub("", unicodedata.normalize("NFC", stripped).casefold())


@functools.lru_cache(maxsize=1 << 18)
def fold(key: str) -> str:
    """Romanisation variants to one form: 'hyeonwoo' and 'hyunwoo' → 'hyunwu'."""
    for old, new in _FOLDS:
        key = key.replace(old, new)
    return key


@functools.lru_cache(maxsize=1 << 17)
def name_keys(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(full keys, single-word keys) for a name: 'Hong Hae-in' → ({'honghaein', 'haeinhong'}, {'hong', 'haein'})."""
    full = {normalise(name)}
    words = [normalise(w) for w in re.split(r"\s+", name.strip()) if normalise(w)]
    if len(words) > 1:
        full.add("".join(words[1:] + words[:1]))  # given name first, as in English order
    tokens = {w for w in words if len(w) >= 2} if len(words) > 1 else set()
    full.discard("")
    return frozenset(full), frozenset(tokens - full)


class Hit(NamedTuple):  # a tuple: made 25 at a time per keystroke, in half the time of a frozen dataclass
    target: Target
    label: str
    score: float
    how: str  # exact | folded | given-name | prefix | fuzzy


class Answers:
    """The last answers of an index to queries without a filter (what many members type alike: "ha",
    "kim"), dropped oldest first. An index never changes once built (a catalog change builds a new
    one), so an answer kept is the answer."""

    SIZE = 4096

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[str, int], list[Hit]] = OrderedDict()

    def get(self, key: str, limit: int) -> list[Hit] | None:
        found = self._kept.get((key, limit))
        if found is not None:
            self._kept.move_to_end((key, limit))
            return list(found)
        return None

    def keep(self, key: str, limit: int, hits: list[Hit]) -> list[Hit]:
        self._kept[(key, limit)] = list(hits)
        if len(self._kept) > self.SIZE:
            self._kept.popitem(last=False)
        return hits


_SLIP_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


def _slips(key: str) -> set[str]:
    """The texts one slip away from `key` with its first letter kept: a letter dropped, two swapped,
    one replaced, or one added before the end (one added at the end only lengthens the prefix)."""
    out: set[str] = set()
    for i in range(1, len(key)):
        head, here, tail = key[:i], key[i], key[i + 1 :]
        out.add(head + tail)
        if tail:
            out.add(head + tail[0] + here + tail[1:])
        for letter in _SLIP_LETTERS:
            out.add(head + letter + tail)
            out.add(head + letter + here + tail)
    out.discard(key)
    return out


FULL_SCAN_LIMIT = 50_000  # above this many keys, fuzzy matching only looks at keys sharing two first letters

Found = Target | list[Target]  # what a key names: one target (most keys, held bare), or several


def _each(found: Found) -> list[Target] | tuple[Target]:
    return (found,) if isinstance(found, tuple) else found


def _found(targets: dict[Target, None]) -> Found:
    return next(iter(targets)) if len(targets) == 1 else list(targets)


class NameIndex:
    def __init__(self, entries: Iterable[tuple[Target, str, Iterable[str], float]]) -> None:
        """`entries`: (target, label shown to people, names and aliases, weight for ranking)."""
        self.labels: dict[Target, str] = {}
        self.weights: dict[Target, float] = {}
        # Ordered sets while building (dict keys): a list membership test here was quadratic.
        exact: dict[str, dict[Target, None]] = {}
        folded: dict[str, dict[Target, None]] = {}
        tokens: dict[str, dict[Target, None]] = {}
        prefix: set[tuple[str, Target]] = set()
        for target, label, names, weight in entries:
            self.labels[target] = label
            self.weights[target] = weight
            for name in names:
                if not name:
                    continue
                full, words = name_keys(name)
                for key in full:
                    exact.setdefault(key, {})[target] = None
                    folded.setdefault(fold(key), {})[target] = None
                    prefix.add((key, target))
                for key in words:
                    tokens.setdefault(fold(key), {})[target] = None
                    prefix.add((key, target))
        # Held compactly (the index of a large catalog is kept in memory): a key naming one target
        # holds it bare, not in a tuple of one; the keys sharing two first letters are found in the
        # sorted keys when first needed (_bucket), not kept in lists of their own.
        self.exact: dict[str, Found] = {k: _found(v) for k, v in exact.items()}
        self.folded: dict[str, Found] = {k: _found(v) for k, v in folded.items()}
        self.tokens: dict[str, Found] = {k: _found(v) for k, v in tokens.items()}
        ordered = sorted(prefix)
        self._prefix_keys = [k for k, _ in ordered]
        self._prefix_targets = [t for _, t in ordered]
        # Each prefix entry's place in the order completions are offered in — heaviest first, then the
        # shortest key, then the label — so a query's best completions are the entries of its span
        # with the smallest places, found without building a sort key per entry (see _best_in).
        labels, weights = self.labels, self.weights
        by_place = sorted(
            range(len(ordered)),
            key=lambda i: (-weights[ordered[i][1]], len(ordered[i][0]), labels[ordered[i][1]], i),
        )
        self._places = array("I", bytes(4 * len(ordered)))
        for place, i in enumerate(by_place):
            self._places[i] = place
        self._entry_at = array("I", by_place)  # place → entry
        self._fuzzy_keys = sorted(self.exact)
        self._buckets: dict[str, list[str]] = {}  # see _bucket
        self._lengths: dict[str, tuple[list[int], list[str], list[int]]] = {}  # see _by_length
        self._answers = Answers()
        # Best first, once: what an empty autocomplete query shows.
        self._ranked = sorted(self.labels, key=lambda t: (-self.weights[t], self.labels[t]))

    def __len__(self) -> int:
        return len(self.labels)

    def _hits(self, targets: Iterable[Target], score: float, how: str) -> list[Hit]:
        unique = dict.fromkeys(targets)
        ranked = sorted(unique, key=lambda t: (-self.weights[t], self.labels[t]))
        return [Hit(target=t, label=self.labels[t], score=score, how=how) for t in ranked]

    def lookup(self, query: str, limit: int = 10) -> list[Hit]:
        """Best matches for a whole query, most certain first; empty when nothing is close."""
        key = normalise(query)
        if not key:
            return []
        if key in self.exact:
            return self._hits(_each(self.exact[key]), 100, "exact")[:limit]
        folded = fold(key)
        if folded in self.folded:
            return self._hits(_each(self.folded[folded]), 99, "folded")[:limit]
        if folded in self.tokens:
            return self._hits(_each(self.tokens[folded]), 95, "given-name")[:limit]
        return self.fuzzy(key, limit)

    def fuzzy(self, key: str, limit: int = 10, *, cutoff: float = 70, narrow: bool = False) -> list[Hit]:
        """Close spellings. Small indexes are scanned whole; large ones (or `narrow`) only where the
        first two letters agree, which keeps a typo's cost bounded as the catalog grows."""
        if not key:
            return []
        if narrow or len(self._fuzzy_keys) > FULL_SCAN_LIMIT:
            bucket = key[:2]
            choices = self._bucket(bucket)
        else:
            bucket, choices = "", self._fuzzy_keys
        best: dict[Target, float] = {}
        for choice, score in self._close(key, bucket, choices, limit * 3, cutoff):
            for target in _each(self.exact[choice]):
                best[target] = max(best.get(target, 0), score)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], -self.weights[kv[0]], self.labels[kv[0]]))
        return [Hit(target=t, label=self.labels[t], score=s, how="fuzzy") for t, s in ranked[:limit]]

    def _close(self, key: str, bucket: str, choices: list[str], limit: int, cutoff: float) -> list[tuple[str, float]]:
        """What `process.extract(key, choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=cutoff)`
        answers, at a third of the cost. Keys and the query are one token each (normalised: no
        spaces), and for one token WRatio is the plain ratio, or — where one string is 1.5 to 8 times
        as long as the other — the larger of it and 0.9 × the partial ratio (its token-based terms
        never exceed these). So: the ratio over every key, then the partial ratio only over the keys
        of those lengths (the bucket kept sorted by length). Same scores, same order (ties in `choices`
        order); tests/unit/test_search_close.py compares the two."""
        # rapidfuzz turns a score cutoff into a distance bound with some rounding: ask a little below
        # it and keep what truly reaches it.
        slack = 0.01
        found: dict[int, float] = {
            i: score
            for _c, score, i in process.extract(
                key, choices, scorer=fuzz.ratio, limit=None, score_cutoff=cutoff - slack
            )
            if score >= cutoff
        }
        if cutoff <= 90:
            lengths, by_length, position = self._by_length(bucket, choices)
            n = len(key)
            # Lengths L with 1.5 <= L/n <= 8 (longer keys), then with 1.5 <= n/L <= 8 (shorter ones).
            for low, high in (((3 * n + 1) // 2, 8 * n + 1), ((n + 7) // 8, (2 * n) // 3 + 1)):
                start, end = bisect.bisect_left(lengths, low), bisect.bisect_left(lengths, high)
                if start >= end:
                    continue
                for _c, partial, j in process.extract(
                    key, by_length[start:end], scorer=fuzz.partial_ratio, limit=None, score_cutoff=cutoff / 0.9 - slack
                ):
                    score = partial * 0.9
                    i = position[start + j]
                    if score >= cutoff and score > found.get(i, 0.0):
                        found[i] = score
        ranked = sorted(found.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [(choices[i], score) for i, score in ranked]

    def _bucket(self, start: str) -> list[str]:
        """The keys starting with `start` (two letters), in order; found in the sorted keys on first
        use and kept."""
        found = self._buckets.get(start)
        if found is None:
            keys = self._fuzzy_keys
            if len(start) < 2:  # a one-letter key is its own bucket
                found = [start] if start in self.exact else []
            else:
                low = bisect.bisect_left(keys, start)
                found = keys[low : bisect.bisect_left(keys, start + "\U0010ffff", low)]
            self._buckets[start] = found
        return found

    def _by_length(self, bucket: str, choices: list[str]) -> tuple[list[int], list[str], list[int]]:
        """The bucket's keys sorted by length: (lengths, keys, each key's index in `choices`); made
        on a bucket's first use and kept."""
        found = self._lengths.get(bucket)
        if found is None:
            order = sorted(range(len(choices)), key=lambda i: len(choices[i]))
            found = self._lengths[bucket] = ([len(choices[i]) for i in order], [choices[i] for i in order], order)
        return found

    def __getstate__(self) -> dict[str, Any]:
        derived = ("_buckets", "_lengths", "_answers")  # made again on use
        return {k: v for k, v in self.__dict__.items() if k not in derived}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._buckets = {}
        self._lengths = {}
        self._answers = Answers()

    def complete(self, query: str, limit: int = 25, allow: set[Target] | None = None) -> list[Hit]:
        """Autocomplete: names starting with what was typed; close spellings only when none does."""
        key = normalise(query)
        if allow is None and (kept := self._answers.get(key, limit)) is not None:
            return kept
        hits = [hit for _order, hit in self.ranked_completions(key, limit, allow)]
        if not hits and len(key) >= 3:
            hits = [hit for _order, hit in self.ranked_slips(key, limit, allow)]
        if not hits and len(key) >= 3:
            for hit in self.fuzzy(key, limit, cutoff=75, narrow=True):
                if allow is None or hit.target in allow:
                    hits.append(hit)
        return self._answers.keep(key, limit, hits[:limit]) if allow is None else hits[:limit]

    def ranked_completions(
        self, key: str, limit: int, allow: set[Target] | None = None, hidden: Callable[[Target], bool] | None = None
    ) -> list[tuple[tuple[Any, ...], Hit]]:
        """Prefix completions of a normalised key with their sort order (so two indexes' results
        can be merged exactly as one index would order them); `hidden` targets are skipped."""
        if not key:
            chosen: list[tuple[tuple[Any, ...], Hit]] = []
            for target in self._ranked:
                if (allow is None or target in allow) and not (hidden and hidden(target)):
                    order = (-self.weights[target], self.labels[target])
                    chosen.append((order, Hit(target=target, label=self.labels[target], score=0, how="prefix")))
                    if len(chosen) >= limit:
                        break
            return chosen
        span = self._span(key)
        if span is None:
            return []
        return self._best_in(span, limit, allow, hidden) or self._ranked_over(
            [span], limit, allow, hidden, 100, "prefix"
        )

    def _best_in(
        self,
        span: tuple[int, int, int],
        limit: int,
        allow: set[Target] | None,
        hidden: Callable[[Target], bool] | None,
    ) -> list[tuple[tuple[Any, ...], Hit]]:
        """The span's best `limit` completions by their precomputed places (the key typed in full
        first), as `_ranked_over` orders them; empty when filtering or repeats leave too few of the
        entries looked at (the caller then ranks the whole span)."""
        start, end, size = span
        keys, targets, places, entry_at = self._prefix_keys, self._prefix_targets, self._places, self._entry_at
        # The entries whose key is exactly what was typed come first in the span, and first in the answer.
        whole = bisect.bisect_right(keys, keys[start], start, end) if len(keys[start]) == size else start
        room = 2 * limit + 8
        exact = sorted(places[start:whole])  # sorting ints: C speed
        rest = sorted(places[whole:end])
        chosen: dict[Target, int] = {}
        for part in (exact, rest):
            for place in part[:room]:
                i = entry_at[place]
                target = targets[i]
                if target in chosen or (allow is not None and target not in allow) or (hidden and hidden(target)):
                    continue
                chosen[target] = len(keys[i]) - size
                if len(chosen) == limit:
                    break
            if len(chosen) < limit and len(part) > room:
                return []  # not enough among those looked at: rank the span in full
            if len(chosen) == limit:
                break
        weights, labels = self.weights, self.labels
        return [
            ((rank > 0, -weights[t], rank, labels[t]), Hit(target=t, label=labels[t], score=100, how="prefix"))
            for t, rank in chosen.items()
        ]

    def ranked_slips(
        self, key: str, limit: int, allow: set[Target] | None = None, hidden: Callable[[Target], bool] | None = None
    ) -> list[tuple[tuple[Any, ...], Hit]]:
        """Completions of the texts one slip away from a normalised key — a letter dropped, added,
        replaced, or two swapped, past the first letter — in the order of `ranked_completions`: what
        autocomplete offers when nothing starts with what was typed ("chooi" → Choi …). Each such text
        is a bisection in the sorted keys; only Latin letters and digits are tried (a Hangul key is
        matched by close spelling instead, `fuzzy`)."""
        if not key.isascii() or len(key) < 2:
            return []
        spans = [span for text in _slips(key) if (span := self._span(text))]
        return self._ranked_over(spans, limit, allow, hidden, 90, "fuzzy")

    def _span(self, key: str) -> tuple[int, int, int] | None:
        """(start, end, len(key)) of the keys starting with `key` (at most 400 of them), or None."""
        keys = self._prefix_keys
        start = bisect.bisect_left(keys, key)
        if start >= len(keys) or not keys[start].startswith(key):
            return None
        end = bisect.bisect_left(keys, key + "\U0010ffff", start, min(start + 400, len(keys)))
        return start, end, len(key)

    def _ranked_over(
        self,
        spans: list[tuple[int, int, int]],
        limit: int,
        allow: set[Target] | None,
        hidden: Callable[[Target], bool] | None,
        score: float,
        how: str,
    ) -> list[tuple[tuple[Any, ...], Hit]]:
        keys, targets = self._prefix_keys, self._prefix_targets
        seen: dict[Target, int] = {}  # target → its shortest completion's extra length
        for start, end, size in spans:
            for i in range(start, end):
                target = targets[i]
                if (allow is not None and target not in allow) or (hidden and hidden(target)):
                    continue
                rank = len(keys[i]) - size
                known = seen.get(target)
                if known is None or rank < known:
                    seen[target] = rank
        weights, labels = self.weights, self.labels
        orders = {t: (rank > 0, -weights[t], rank, labels[t]) for t, rank in seen.items()}
        ranked = heapq.nsmallest(limit, seen, key=orders.__getitem__)
        return [(orders[t], Hit(target=t, label=labels[t], score=score, how=how)) for t in ranked]


BILLING_WEIGHT = {"main": 3.0, "supporting": 2.0, "guest": 1.0}


class CatalogIndex:
    """The two indexes members search: dramas, and characters + people (for /who)."""

    def __init__(self, catalog: Catalog) -> None:
        self.dramas = NameIndex(
            (("drama", d.slug), f"{d.title} ({d.year})", (d.slug, d.title, d.title_ko, *d.aliases), float(d.year))
            for d in catalog.dramas.values()
        )

        def who_entries() -> Iterable[tuple[Target, str, Iterable[str], float]]:
            for drama in catalog.dramas.values():
                for c in drama.characters.values():
                    label = f"{c.name} — {drama.title}"
                    yield (
                        ("character", drama.slug, c.slug),
                        label,
                        (c.slug, c.name, c.name_ko, *c.aliases),
                        BILLING_WEIGHT.get(c.billing, 1.0),
                    )
            for p in catalog.people.values():
                roles = catalog.roles(p.slug)
                label = f"{p.name} (actor)" if not roles else f"{p.name} — actor, {roles[0].drama.title}"
                yield ("person", p.slug), label, (p.slug, p.name, p.name_ko, *p.aliases), 1.5

        self.who = NameIndex(who_entries())
        by_drama: dict[str, dict[Target, None]] = {}
        for target in self.who.labels:
            if target[0] == "character":
                by_drama.setdefault(target[1], {})[target] = None
            else:
                for role in catalog.roles(target[1]):
                    by_drama.setdefault(role.drama.slug, {})[target] = None
        # Tuples, made into a set when asked for: a set per drama held four times the memory.
        self._by_drama: dict[str, tuple[Target, ...]] = {slug: tuple(held) for slug, held in by_drama.items()}

    def who_in(self, drama_slug: str) -> set[Target]:
        return set(self._by_drama.get(drama_slug, ()))


class Names(Protocol):
    """What lookups need of a name index (a NameIndex, or a layered pair of them)."""

    def lookup(self, query: str, limit: int = 10) -> list[Hit]: ...

    def fuzzy(self, key: str, limit: int = 10, *, cutoff: float = 70, narrow: bool = False) -> list[Hit]: ...

    def complete(self, query: str, limit: int = 25, allow: set[Target] | None = None) -> list[Hit]: ...


class SearchIndex(Protocol):
    """What lookups need of the catalog's index: a CatalogIndex, or a LayeredIndex."""

    @property
    def dramas(self) -> Names: ...

    @property
    def who(self) -> Names: ...

    def who_in(self, drama_slug: str) -> set[Target]: ...


_TIERS = {"exact": 3, "folded": 2, "given-name": 1, "fuzzy": 0, "prefix": 0}


# NameIndex.ranked_completions or NameIndex.ranked_slips: (index, key, limit, allow, hidden) → ranked pairs
_Ranked = Callable[
    [NameIndex, str, int, set[Target] | None, Callable[[Target], bool] | None], list[tuple[tuple[Any, ...], Hit]]
]


class LayeredNames:
    """A large stored index with a small overlay of the dramas that changed since it was built.

    Targets of changed or removed dramas (`hidden`) are skipped in the base; the overlay holds their
    current names. Results are merged in the order a single index would give them."""

    def __init__(self, base: NameIndex, overlay: NameIndex, hidden: frozenset[str]) -> None:
        self.base = base
        self.overlay = overlay
        self.hidden = hidden
        self._answers = Answers()

    def _hidden(self, target: Target) -> bool:
        return (target[0] != "person" and target[1] in self.hidden) or target in self.overlay.labels

    def _weight(self, target: Target) -> float:
        return self.overlay.weights.get(target, self.base.weights.get(target, 0.0))

    def lookup(self, query: str, limit: int = 10) -> list[Hit]:
        found = self.overlay.lookup(query, limit)
        wide = self.base.lookup(query, limit + 50)
        base = [h for h in wide if not self._hidden(h.target)]
        if wide and not base and wide[0].how != "fuzzy":  # only hidden names matched: look for close ones
            base = [h for h in self.base.fuzzy(normalise(query), limit + 50) if not self._hidden(h.target)]
        hits = found + base
        if not hits:
            return []
        best = max(_TIERS[h.how] for h in hits)
        hits = [h for h in hits if _TIERS[h.how] == best]
        hits.sort(key=lambda h: (-h.score, -self._weight(h.target), h.label))
        return hits[:limit]

    def fuzzy(self, key: str, limit: int = 10, *, cutoff: float = 70, narrow: bool = False) -> list[Hit]:
        hits = self.overlay.fuzzy(key, limit, cutoff=cutoff, narrow=narrow) + [
            h for h in self.base.fuzzy(key, limit * 2, cutoff=cutoff, narrow=narrow) if not self._hidden(h.target)
        ]
        hits.sort(key=lambda h: (-h.score, -self._weight(h.target), h.label))
        return hits[:limit]

    def _merged(self, ranked: _Ranked, key: str, limit: int, allow: set[Target] | None) -> list[Hit]:
        """The overlay's and the base's ranked answers (the base's hidden targets skipped), in order."""
        pairs = ranked(self.overlay, key, limit, allow, None) + ranked(self.base, key, limit, allow, self._hidden)
        pairs.sort(key=lambda pair: pair[0])
        return [hit for _order, hit in pairs[:limit]]

    def complete(self, query: str, limit: int = 25, allow: set[Target] | None = None) -> list[Hit]:
        key = normalise(query)
        if allow is None and (kept := self._answers.get(key, limit)) is not None:
            return kept
        hits = self._merged(NameIndex.ranked_completions, key, limit, allow)
        if not hits and len(key) >= 3:
            hits = self._merged(NameIndex.ranked_slips, key, limit, allow)
        if not hits and len(key) >= 3:
            hits = [h for h in self.fuzzy(key, limit, cutoff=75, narrow=True) if allow is None or h.target in allow]
        return self._answers.keep(key, limit, hits[:limit]) if allow is None else hits[:limit]


class LayeredIndex:
    """A stored CatalogIndex plus an overlay CatalogIndex of the dramas changed since (see LayeredNames)."""

    def __init__(self, base: CatalogIndex, overlay: CatalogIndex, hidden: frozenset[str]) -> None:
        self.base = base
        self.overlay = overlay
        self.hidden = hidden
        self._dramas = LayeredNames(base.dramas, overlay.dramas, hidden)
        self._who = LayeredNames(base.who, overlay.who, hidden)

    @property
    def dramas(self) -> LayeredNames:
        return self._dramas

    @property
    def who(self) -> LayeredNames:
        return self._who

    def who_in(self, drama_slug: str) -> set[Target]:
        if drama_slug in self.hidden:
            return self.overlay.who_in(drama_slug)
        return self.base.who_in(drama_slug)
