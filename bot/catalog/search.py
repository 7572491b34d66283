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
    weight: float = 0.0  # the target's weight in its index (ranks hits merged from two indexes)


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
SPAN_KEYS = 400  # a prefix's completions are looked for among at most this many keys


class _Postings:
    """Sorted keys, each naming a run of target numbers (its postings): one list of keys and two
    arrays, where a dict of keys to lists of targets held a few hundred bytes per key."""

    __slots__ = ("keys", "starts", "ids")

    def __init__(self, found: dict[str, dict[int, None]]) -> None:
        self.keys = sorted(found)
        self.starts = array("I", [0])
        self.ids = array("I")
        for key in self.keys:
            self.ids.extend(found[key])  # in the order met (the targets' order)
            self.starts.append(len(self.ids))

    def get(self, key: str) -> array[int]:
        at = bisect.bisect_left(self.keys, key)
        if at < len(self.keys) and self.keys[at] == key:
            return self.ids[self.starts[at] : self.starts[at + 1]]
        return array("I")

    def __getstate__(self) -> tuple[list[str], array[int], array[int]]:
        return self.keys, self.starts, self.ids

    def __setstate__(self, state: tuple[list[str], array[int], array[int]]) -> None:
        self.keys, self.starts, self.ids = state


class _Texts:
    """Many short strings as one UTF-8 block and their offsets: the n-th is decoded when asked for."""

    __slots__ = ("block", "at")

    def __init__(self, texts: Iterable[str]) -> None:
        encoded = [t.encode() for t in texts]
        self.block = b"".join(encoded)
        self.at = array("I", [0])
        for text in encoded:
            self.at.append(self.at[-1] + len(text))

    def __getitem__(self, n: int) -> str:
        return self.block[self.at[n] : self.at[n + 1]].decode()

    def __len__(self) -> int:
        return len(self.at) - 1

    def __getstate__(self) -> tuple[bytes, array[int]]:
        return self.block, self.at

    def __setstate__(self, state: tuple[bytes, array[int]]) -> None:
        self.block, self.at = state


_SEP = "\x1f"  # between a target's parts in its stored form
DECODED_KEPT = 50_000  # targets kept decoded per index (what is typed repeats: the same few thousand)


class NameIndex:
    """Names → targets. Held compactly, because a large catalog's index stays in memory and is read
    back at every start: targets are numbered, their labels and parts kept as blocks of text (_Texts),
    and every key's targets as runs of numbers in arrays (_Postings); only the sorted keys are Python
    strings (bisected at C speed on every keystroke). At 400,000 names it holds well under half the
    memory that dicts of targets per key took, and is read back several times as fast."""

    def __init__(self, entries: Iterable[tuple[Target, str, Iterable[str], float]]) -> None:
        """`entries`: (target, label shown to people, names and aliases, weight for ranking)."""
        number: dict[Target, int] = {}
        targets: list[Target] = []
        labels: list[str] = []
        weights: list[float] = []
        # Ordered sets while building (dict keys): a list membership test here was quadratic.
        exact: dict[str, dict[int, None]] = {}
        folded: dict[str, dict[int, None]] = {}
        tokens: dict[str, dict[int, None]] = {}
        prefix: dict[str, dict[int, None]] = {}
        for target, label, names, weight in entries:
            n = number.get(target)
            if n is None:
                n = number[target] = len(targets)
                targets.append(target)
                labels.append(label)
                weights.append(weight)
            else:
                labels[n], weights[n] = label, weight
            for name in names:
                if not name:
                    continue
                full, words = name_keys(name)
                for key in full:
                    exact.setdefault(key, {})[n] = None
                    folded.setdefault(fold(key), {})[n] = None
                    prefix.setdefault(key, {})[n] = None
                for key in words:
                    tokens.setdefault(fold(key), {})[n] = None
                    prefix.setdefault(key, {})[n] = None
        self._targets = _Texts(_SEP.join(t) for t in targets)
        self._labels = _Texts(labels)
        self._weights = array("d", weights)
        self._folded = _Postings(folded)
        self._tokens = _Postings(tokens)
        # Prefix search: the sorted keys (exact names, and single words of longer ones), each with
        # its targets in the targets' order (a run in `_ids`); `_full` marks the entries whose key
        # is a whole name (an exact match), not one word of it.
        self._keys = sorted(prefix)
        self._starts = array("I", [0])
        self._ids = array("I")
        full_flags = bytearray()
        for key in self._keys:
            run = sorted(prefix[key], key=targets.__getitem__)  # as (key, target) pairs sorted
            whole = exact.get(key, {})
            self._ids.extend(run)
            full_flags.extend(1 if n in whole else 0 for n in run)
            self._starts.append(len(self._ids))
        self._full = bytes(full_flags)
        self._fuzzy_keys = sorted(exact)
        # Each prefix entry's place in the order completions are offered in — heaviest first, then the
        # shortest key, then the label — so a query's best completions are the entries of its span
        # with the smallest places, found without building a sort key per entry (see _best_in).
        entry_lengths = [
            len(key) for u, key in enumerate(self._keys) for _ in range(self._starts[u + 1] - self._starts[u])
        ]
        ids = self._ids
        by_place = sorted(range(len(ids)), key=lambda i: (-weights[ids[i]], entry_lengths[i], labels[ids[i]], i))
        self._places = array("I", bytes(4 * len(ids)))
        for place, i in enumerate(by_place):
            self._places[i] = place
        self._entry_at = array("I", by_place)  # place → entry
        # Best first, once: what an empty autocomplete query shows.
        self._ranked = array("I", sorted(range(len(targets)), key=lambda n: (-weights[n], labels[n])))
        self._derived()

    def _derived(self) -> None:
        """What is made again on use, not stored: buckets for close spellings, kept answers, and
        target → number (only an overlay index is asked that, see has())."""
        self._buckets: dict[str, list[str]] = {}  # see _bucket
        self._lengths: dict[str, tuple[list[int], list[str], list[int]]] = {}  # see _by_length
        self._answers = Answers()
        self._numbers: dict[Target, int] | None = None
        self._decoded: dict[int, tuple[Target, str]] = {}  # see _parts

    def __getstate__(self) -> dict[str, Any]:
        derived = ("_buckets", "_lengths", "_answers", "_numbers", "_decoded")
        return {k: v for k, v in self.__dict__.items() if k not in derived}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._derived()

    def __len__(self) -> int:
        return len(self._targets)

    # -- targets ---------------------------------------------------------------------------------
    def _parts(self, n: int) -> tuple[Target, str]:
        """Target number `n`'s target and label, decoded from the blocks once and kept (up to
        DECODED_KEPT of them, then the kept ones are let go and the count starts again)."""
        found = self._decoded.get(n)
        if found is None:
            if len(self._decoded) >= DECODED_KEPT:
                self._decoded.clear()
            found = self._decoded[n] = (tuple(self._targets[n].split(_SEP)), self._labels[n])
        return found

    def _target(self, n: int) -> Target:
        return self._parts(n)[0]

    def _label(self, n: int) -> str:
        return self._parts(n)[1]

    def targets(self) -> list[Target]:
        """Every target, in the order they were given."""
        return [self._target(n) for n in range(len(self._targets))]

    def has(self, target: Target) -> bool:
        """Whether `target` is in this index. Its first call maps every target: for small indexes."""
        if self._numbers is None:
            self._numbers = {t: n for n, t in enumerate(self.targets())}
        return target in self._numbers

    def _hit(self, n: int, score: float, how: str) -> Hit:
        target, label = self._parts(n)
        return Hit(target=target, label=label, score=score, how=how, weight=self._weights[n])

    def _hits(self, numbers: Iterable[int], score: float, how: str) -> list[Hit]:
        weights, label = self._weights, self._label
        ranked = sorted(dict.fromkeys(numbers), key=lambda n: (-weights[n], label(n)))
        return [self._hit(n, score, how) for n in ranked]

    def _key_at(self, key: str) -> int:
        """The position of `key` among the sorted keys, or -1."""
        at = bisect.bisect_left(self._keys, key)
        return at if at < len(self._keys) and self._keys[at] == key else -1

    def exact(self, key: str) -> list[int]:
        """The numbers of the targets a whole name of which is this normalised key."""
        at = self._key_at(key)
        if at < 0:
            return []
        start, end = self._starts[at], self._starts[at + 1]
        return sorted(self._ids[i] for i in range(start, end) if self._full[i])

    def lookup(self, query: str, limit: int = 10) -> list[Hit]:
        """Best matches for a whole query, most certain first; empty when nothing is close."""
        key = normalise(query)
        if not key:
            return []
        if found := self.exact(key):
            return self._hits(found, 100, "exact")[:limit]
        folded = fold(key)
        if found_folded := self._folded.get(folded):
            return self._hits(found_folded, 99, "folded")[:limit]
        if found_word := self._tokens.get(folded):
            return self._hits(found_word, 95, "given-name")[:limit]
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
        best: dict[int, float] = {}
        for choice, score in self._close(key, bucket, choices, limit * 3, cutoff):
            for n in self.exact(choice):
                best[n] = max(best.get(n, 0), score)
        weights, label = self._weights, self._label
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], -weights[kv[0]], label(kv[0])))
        return [self._hit(n, s, "fuzzy") for n, s in ranked[:limit]]

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
                found = [start] if self.exact(start) else []
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

    def _shown(self, n: int, allow: set[Target] | None, hidden: Callable[[Target], bool] | None) -> bool:
        if allow is None and hidden is None:
            return True
        target = self._target(n)
        return (allow is None or target in allow) and not (hidden and hidden(target))

    def _ranked_hit(self, n: int, rank: int, score: float, how: str) -> tuple[tuple[Any, ...], Hit]:
        hit = self._hit(n, score, how)
        return (rank > 0, -hit.weight, rank, hit.label), hit

    def ranked_completions(
        self, key: str, limit: int, allow: set[Target] | None = None, hidden: Callable[[Target], bool] | None = None
    ) -> list[tuple[tuple[Any, ...], Hit]]:
        """Prefix completions of a normalised key with their sort order (so two indexes' results
        can be merged exactly as one index would order them); `hidden` targets are skipped."""
        if not key:
            chosen: list[tuple[tuple[Any, ...], Hit]] = []
            for n in self._ranked:
                if self._shown(n, allow, hidden):
                    hit = self._hit(n, 0, "prefix")
                    chosen.append(((-hit.weight, hit.label), hit))
                    if len(chosen) >= limit:
                        break
            return chosen
        span = self._span(key)
        if span is None:
            return []
        return self._best_in(span, limit, allow, hidden) or self._ranked_over(
            [span], limit, allow, hidden, 100, "prefix"
        )

    def _entries(self, span: tuple[int, int, int]) -> tuple[int, int]:
        """The entries of a span: its keys' runs, at most SPAN_KEYS of them."""
        first, last, _size = span
        start = self._starts[first]
        return start, min(self._starts[last], start + SPAN_KEYS)

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
        first, _last, size = span
        keys, starts, ids, places, entry_at = self._keys, self._starts, self._ids, self._places, self._entry_at
        start, end = self._entries(span)
        # The entries whose key is exactly what was typed come first in the span, and first in the answer.
        whole = min(starts[first + 1], end) if len(keys[first]) == size else start
        room = 2 * limit + 8
        exact = sorted(places[start:whole])  # sorting ints: C speed
        rest = sorted(places[whole:end])
        chosen: dict[int, int] = {}
        for part in (exact, rest):
            for place in part[:room]:
                i = entry_at[place]
                n = ids[i]
                if n in chosen or not self._shown(n, allow, hidden):
                    continue
                chosen[n] = len(keys[bisect.bisect_right(starts, i) - 1]) - size
                if len(chosen) == limit:
                    break
            if len(chosen) < limit and len(part) > room:
                return []  # not enough among those looked at: rank the span in full
            if len(chosen) == limit:
                break
        return [self._ranked_hit(n, rank, 100, "prefix") for n, rank in chosen.items()]

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
        """(first, end, len(key)): the sorted keys starting with `key` (at most SPAN_KEYS), or None."""
        keys = self._keys
        first = bisect.bisect_left(keys, key)
        if first >= len(keys) or not keys[first].startswith(key):
            return None
        end = bisect.bisect_left(keys, key + "\U0010ffff", first, min(first + SPAN_KEYS, len(keys)))
        return first, end, len(key)

    def _ranked_over(
        self,
        spans: list[tuple[int, int, int]],
        limit: int,
        allow: set[Target] | None,
        hidden: Callable[[Target], bool] | None,
        score: float,
        how: str,
    ) -> list[tuple[tuple[Any, ...], Hit]]:
        keys, starts, ids = self._keys, self._starts, self._ids
        seen: dict[int, int] = {}  # target → its shortest completion's extra length
        shown: dict[int, bool] = {}
        for span in spans:
            first, last, size = span
            _start, end = self._entries(span)
            for u in range(first, last):
                rank = len(keys[u]) - size
                for i in range(starts[u], min(starts[u + 1], end)):
                    n = ids[i]
                    ok = shown.get(n)
                    if ok is None:
                        ok = shown[n] = self._shown(n, allow, hidden)
                    if not ok:
                        continue
                    known = seen.get(n)
                    if known is None or rank < known:
                        seen[n] = rank
        # Ordered by (an exact key first, weight, extra length, label): the label (decoded) only for
        # the targets that can still be among the first `limit`.
        weights, label = self._weights, self._label
        unlabelled = {n: (rank > 0, -weights[n], rank) for n, rank in seen.items()}
        if len(unlabelled) > limit:
            cut = heapq.nsmallest(limit, unlabelled.values())[-1]
            unlabelled = {n: order for n, order in unlabelled.items() if order <= cut}
        orders = {n: (*order, label(n)) for n, order in unlabelled.items()}
        ranked = heapq.nsmallest(limit, orders, key=orders.__getitem__)
        return [self._ranked_hit(n, seen[n], score, how) for n in ranked]


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
        by_drama: dict[str, dict[int, None]] = {}
        for n, target in enumerate(self.who.targets()):
            if target[0] == "character":
                by_drama.setdefault(target[1], {})[n] = None
            else:
                for role in catalog.roles(target[1]):
                    by_drama.setdefault(role.drama.slug, {})[n] = None
        # Target numbers in the who index, made into a set of targets when asked for.
        self._by_drama: dict[str, array[int]] = {slug: array("I", held) for slug, held in by_drama.items()}

    def who_in(self, drama_slug: str) -> set[Target]:
        return {self.who._target(n) for n in self._by_drama.get(drama_slug, ())}


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
        return (target[0] != "person" and target[1] in self.hidden) or self.overlay.has(target)

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
        hits.sort(key=lambda h: (-h.score, -h.weight, h.label))
        return hits[:limit]

    def fuzzy(self, key: str, limit: int = 10, *, cutoff: float = 70, narrow: bool = False) -> list[Hit]:
        hits = self.overlay.fuzzy(key, limit, cutoff=cutoff, narrow=narrow) + [
            h for h in self.base.fuzzy(key, limit * 2, cutoff=cutoff, narrow=narrow) if not self._hidden(h.target)
        ]
        hits.sort(key=lambda h: (-h.score, -h.weight, h.label))
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
