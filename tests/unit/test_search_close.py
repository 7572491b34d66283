"""NameIndex._close answers exactly what rapidfuzz's `process.extract` with WRatio answers over the
index's own keys (normalised, one token each), scores and order, for what people type: typos,
prefixes with a typo, long and short queries, in small buckets and the whole key list."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

from bot.catalog.search import NameIndex, normalise

SYLLABLES = "ji min seo yeon hae in hong baek hyun woo kim lee park choi jung soo ah eun ha na ri".split()


def names(rng: random.Random, count: int) -> list[str]:
    return [
        " ".join("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))) for _ in range(2))
        for _ in range(count)
    ]


RNG = random.Random(5)
INDEX = NameIndex((("person", f"p{i}"), name, (name,), 1.0) for i, name in enumerate(names(RNG, 3000)))
KEYS = INDEX._fuzzy_keys


def expected(key: str, choices: list[str], limit: int, cutoff: float) -> list[tuple[str, float]]:
    return [(c, s) for c, s, _ in process.extract(key, choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=cutoff)]


def typo(text: str, rng: random.Random) -> str:
    if len(text) < 2:
        return text
    i = rng.randrange(1, len(text))
    return rng.choice([text[:i] + text[i + 1 :], text[:i] + "x" + text[i:], text[:i] + "e" + text[i + 1 :]])


@settings(max_examples=200, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(2, 30), st.sampled_from([70.0, 75.0, 85.0, 95.0]))
def test_close_equals_wratio_extract(rng: random.Random, length: int, cutoff: float) -> None:
    source = rng.choice(KEYS)
    key = normalise(typo(source[: max(2, min(length, len(source)))], rng))
    for bucket, choices in (("", KEYS), (key[:2], INDEX._bucket(key[:2]))):
        for limit in (3, 30, 75):
            assert INDEX._close(key, bucket, choices, limit, cutoff) == expected(key, choices, limit, cutoff), (
                key,
                bucket,
                limit,
                cutoff,
            )


def test_kept_answers_are_the_answers_and_are_not_pickled() -> None:
    import pickle

    queries = ["", "a", "ji", "jimin", "hae", "kimm", "zzzz", "ji", "a", "", "jimin"]
    fresh = [INDEX.complete(q) for q in queries]  # repeats come from memory the second time
    again = [INDEX.complete(q) for q in queries]
    rebuilt = NameIndex((("person", f"p{i}"), n, (n,), 1.0) for i, n in enumerate(names(random.Random(5), 3000)))
    assert fresh == again == [rebuilt.complete(q) for q in queries]
    assert INDEX.complete("ji", allow={("person", "p1")}) == rebuilt.complete("ji", allow={("person", "p1")})
    copy = pickle.loads(pickle.dumps(INDEX))
    assert "_answers" not in INDEX.__getstate__() and copy.complete("jimin") == fresh[3]


WEIGHTED = NameIndex(
    (("person", f"w{i}"), f"{name} ({i % 7})", (name,), float(i % 4)) for i, name in enumerate(names(RNG, 3000))
)


@settings(max_examples=200, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 6), st.sampled_from([1, 5, 25]), st.booleans())
def test_best_completions_by_place_equal_the_full_ranking(
    rng: random.Random, length: int, limit: int, filtered: bool
) -> None:
    """A span's best completions picked by their precomputed places are what ranking every entry of
    the span gives, in the same order (or nothing, and the span is ranked in full)."""
    key = rng.choice(WEIGHTED._fuzzy_keys)[:length]
    span = WEIGHTED._span(key)
    assert span is not None
    allow = {("person", f"w{i}") for i in range(0, 3000, 2)} if filtered else None
    best = WEIGHTED._best_in(span, limit, allow, None)
    full = WEIGHTED._ranked_over([span], limit, allow, None, 100, "prefix")
    assert best == full or (best == [] and filtered)
    assert WEIGHTED.ranked_completions(key, limit, allow) == full
