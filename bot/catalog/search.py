"""The catalog's search index, built once at start.

Lookup order: exact slug or name → normalised forms (case, hyphens, spaces, apostrophes,
accents; Hangul kept) → romanisation variants folded together ("Hyeon"/"Hyun", "Seong"/"Sung",
"hee"/"hui", "Soo"/"Su") → a given name on its own ("haein") → fuzzy (rapidfuzz).
Autocomplete is prefix search over sorted keys (bisect), with a fuzzy fallback for typos.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

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


@dataclass(frozen=True, slots=True)
class Hit:
    target: Target
    label: str
    score: float
    how: str  # exact | folded | given-name | prefix | fuzzy


FULL_SCAN_LIMIT = 50_000  # above this many keys, fuzzy matching only looks at keys sharing two first letters


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
        self.exact: dict[str, tuple[Target, ...]] = {k: tuple(v) for k, v in exact.items()}
        self.folded: dict[str, tuple[Target, ...]] = {k: tuple(v) for k, v in folded.items()}
        self.tokens: dict[str, tuple[Target, ...]] = {k: tuple(v) for k, v in tokens.items()}
        ordered = sorted(prefix)
        self._prefix_keys = [k for k, _ in ordered]
        self._prefix_targets = [t for _, t in ordered]
        self._fuzzy_keys = sorted(self.exact)
        self._fuzzy_by_start: dict[str, list[str]] = {}
        for key in self._fuzzy_keys:
            self._fuzzy_by_start.setdefault(key[:2], []).append(key)
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
            return self._hits(self.exact[key], 100, "exact")[:limit]
        folded = fold(key)
        if folded in self.folded:
            return self._hits(self.folded[folded], 99, "folded")[:limit]
        if folded in self.tokens:
            return self._hits(self.tokens[folded], 95, "given-name")[:limit]
        return self.fuzzy(key, limit)

    def fuzzy(self, key: str, limit: int = 10, *, cutoff: float = 70, narrow: bool = False) -> list[Hit]:
        """Close spellings. Small indexes are scanned whole; large ones (or `narrow`) only where the
        first two letters agree, which keeps a typo's cost bounded as the catalog grows."""
        if not key:
            return []
        if narrow or len(self._fuzzy_keys) > FULL_SCAN_LIMIT:
            choices = self._fuzzy_by_start.get(key[:2], [])
        else:
            choices = self._fuzzy_keys
        found = process.extract(key, choices, scorer=fuzz.WRatio, limit=limit * 3, score_cutoff=cutoff)
        best: dict[Target, float] = {}
        for choice, score, _ in found:
            for target in self.exact[choice]:
                best[target] = max(best.get(target, 0), score)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], -self.weights[kv[0]], self.labels[kv[0]]))
        return [Hit(target=t, label=self.labels[t], score=s, how="fuzzy") for t, s in ranked[:limit]]

    def complete(self, query: str, limit: int = 25, allow: set[Target] | None = None) -> list[Hit]:
        """Autocomplete: names starting with what was typed; close spellings only when none does."""
        key = normalise(query)
        hits = [hit for _order, hit in self.ranked_completions(key, limit, allow)]
        if not hits and len(key) >= 3:
            for hit in self.fuzzy(key, limit, cutoff=75, narrow=True):
                if allow is None or hit.target in allow:
                    hits.append(hit)
        return hits[:limit]

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
        start = bisect.bisect_left(self._prefix_keys, key)
        seen: dict[Target, tuple[int, float]] = {}
        for i in range(start, min(start + 400, len(self._prefix_keys))):
            candidate = self._prefix_keys[i]
            if not candidate.startswith(key):
                break
            target = self._prefix_targets[i]
            if (allow is not None and target not in allow) or (hidden and hidden(target)):
                continue
            rank = len(candidate) - len(key)
            if target not in seen or rank < seen[target][0]:
                seen[target] = (rank, self.weights[target])
        orders = {t: (seen[t][0] > 0, -seen[t][1], seen[t][0], self.labels[t]) for t in seen}
        ranked = sorted(seen, key=lambda t: orders[t])[:limit]
        return [(orders[t], Hit(target=t, label=self.labels[t], score=100, how="prefix")) for t in ranked]


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
        self._by_drama: dict[str, set[Target]] = {}
        for target in self.who.labels:
            if target[0] == "character":
                self._by_drama.setdefault(target[1], set()).add(target)
            else:
                for role in catalog.roles(target[1]):
                    self._by_drama.setdefault(role.drama.slug, set()).add(target)

    def who_in(self, drama_slug: str) -> set[Target]:
        return self._by_drama.get(drama_slug, set())


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


class LayeredNames:
    """A large stored index with a small overlay of the dramas that changed since it was built.

    Targets of changed or removed dramas (`hidden`) are skipped in the base; the overlay holds their
    current names. Results are merged in the order a single index would give them."""

    def __init__(self, base: NameIndex, overlay: NameIndex, hidden: frozenset[str]) -> None:
        self.base = base
        self.overlay = overlay
        self.hidden = hidden

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

    def complete(self, query: str, limit: int = 25, allow: set[Target] | None = None) -> list[Hit]:
        key = normalise(query)
        ranked = self.overlay.ranked_completions(key, limit, allow) + self.base.ranked_completions(
            key, limit, allow, self._hidden
        )
        ranked.sort(key=lambda pair: pair[0])
        hits = [hit for _order, hit in ranked[:limit]]
        if not hits and len(key) >= 3:
            hits = [h for h in self.fuzzy(key, limit, cutoff=75, narrow=True) if allow is None or h.target in allow]
        return hits[:limit]


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
