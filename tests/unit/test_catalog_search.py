"""bot.catalog.search: normalising and folding names, lookups and autocomplete over the fixture catalog."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.catalog import CatalogIndex, load_catalog
from bot.catalog.search import NameIndex, fold, name_keys, normalise
from bot.lookups import Lookups
from tests.unit.packs import GOOD, load_good, long_pack, write

CATALOG = load_good()
INDEX = CatalogIndex(CATALOG)

HAE_RIM = ("character", "moonlit-orchard", "kang-hae-rim")
JUN_HYEOK = ("character", "moonlit-orchard", "seo-jun-hyeok")
GWANG_IL = ("character", "moonlit-orchard", "yoon-gwang-il")
YE_JIN = ("character", "paper-lanterns", "kang-ye-jin")
HYEON_SEOK = ("character", "paper-lanterns", "do-hyeon-seok")
TAE_SUNG = ("person", "oh-tae-sung")
HA_NEUL = ("person", "baek-ha-neul")
SEO_AH = ("person", "lee-seo-ah")


def targets(hits: list) -> list[tuple[str, ...]]:
    return [h.target for h in hits]


# -- normalise and fold ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kang Hae-rim", "kanghaerim"),
        ("KANG HAE RIM", "kanghaerim"),
        ("  kang   hae-rim  ", "kanghaerim"),
        ("Kang‐Hae‐rim", "kanghaerim"),  # Unicode hyphens
        ("O'Brien", "obrien"),
        ("Kang’s diary", "kangsdiary"),  # a curly apostrophe
        ("Café Señorita", "cafesenorita"),
        ("Ｋａｎｇ", "kang"),  # full-width letters
        ("Episode 12!", "episode12"),
        ("강해림", "강해림"),
        ("달빛 과수원", "달빛과수원"),
        ("Kang Hae-rim (강해림)", "kanghaerim강해림"),
        ("", ""),
        ("-- '' --", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_normalise_keeps_lone_hangul_jamo() -> None:
    # Compatibility jamo (typed mid-syllable) come out of NFKD as conjoining jamo; they must not vanish.
    assert normalise("ㅎㅎ") != ""
    assert normalise("ㅎㅎ") == normalise(" ㅎ-ㅎ ")
    assert normalise("ㅎㅎ") != normalise("ㅋㅋ")


@pytest.mark.parametrize(
    ("one", "other"),
    [("Hyeon", "Hyun"), ("Seong", "Sung"), ("Hee", "Hui"), ("Soo", "Su"), ("Jun-hyeok", "Junhyuk"), ("Hee", "Hi")],
)
def test_fold_unifies_romanisation_variants(one: str, other: str) -> None:
    assert fold(normalise(one)) == fold(normalise(other))


def test_fold_keeps_different_names_apart() -> None:
    assert fold("haerim") != fold("yejin")
    assert fold("hyun") != fold("hyon")
    assert fold("sung") != fold("sang")


def test_name_keys() -> None:
    assert name_keys("Kang Hae-rim") == ({"kanghaerim", "haerimkang"}, {"kang", "haerim"})
    assert name_keys("Rimi") == ({"rimi"}, set())
    assert name_keys("강해림") == ({"강해림"}, set())


# -- lookup ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "how"),
    [
        ("kang-hae-rim", "exact"),  # the slug
        ("Kang Hae-rim", "exact"),
        ("kang hae rim", "exact"),
        ("KangHaeRim", "exact"),
        ("Hae-rim Kang", "exact"),  # given name first
        ("강해림", "exact"),
        ("Rimi", "exact"),  # an alias
        ("Haerim", "given-name"),
        ("hae rim", "given-name"),
        ("Hae-Rim", "given-name"),
        ("Kang Hae-ri", "fuzzy"),  # typos
        ("Kang Haerm", "fuzzy"),
    ],
)
def test_who_lookup_finds_kang_hae_rim(query: str, how: str) -> None:
    hits = INDEX.who.lookup(query)
    assert targets(hits)[:1] == [HAE_RIM]
    assert hits[0].how == how
    assert hits[0].label == "Kang Hae-rim — Moonlit Orchard"


@pytest.mark.parametrize(
    ("query", "target"),
    [
        ("Seo Jun-hyuk", JUN_HYEOK),  # Hyeok / Hyuk
        ("Do Hyun-seok", HYEON_SEOK),  # Hyeon / Hyun
        ("oh tae seong", TAE_SUNG),  # Sung / Seong
        ("junhyeok", JUN_HYEOK),
        ("Haneul", HA_NEUL),
        ("윤광일", GWANG_IL),
        ("오태성", TAE_SUNG),
    ],
)
def test_who_lookup_variants(query: str, target: tuple[str, ...]) -> None:
    assert targets(INDEX.who.lookup(query)) == [target]


def test_folded_matches_are_reported_as_folded() -> None:
    hits = INDEX.who.lookup("Do Hyun-seok")
    assert (hits[0].how, hits[0].score) == ("folded", 99)


def test_a_shared_family_name_finds_both() -> None:
    hits = INDEX.who.lookup("kang")
    assert set(targets(hits)) == {HAE_RIM, YE_JIN}
    assert all(h.how == "given-name" for h in hits)


@pytest.mark.parametrize("query", ["qqqqqqq", "zzxxyv", "", "   ", "!!!"])
def test_nonsense_finds_nothing(query: str) -> None:
    assert INDEX.who.lookup(query) == []
    assert INDEX.dramas.lookup(query) == []


@pytest.mark.parametrize(
    "query", ["moonlit-orchard", "Moonlit Orchard", "moonlit orchard", "MOONLIT-ORCHARD", "달빛 과수원", "Orchard Moon"]
)
def test_drama_lookup(query: str) -> None:
    hits = INDEX.dramas.lookup(query)
    assert targets(hits) == [("drama", "moonlit-orchard")]
    assert hits[0].how == "exact"
    assert hits[0].label == "Moonlit Orchard (2024)"


def test_drama_lookup_typo() -> None:
    hits = INDEX.dramas.lookup("Papr Lanterns")
    assert targets(hits)[:1] == [("drama", "paper-lanterns")]
    assert hits[0].how == "fuzzy"


def test_lookup_respects_the_limit() -> None:
    assert len(INDEX.who.lookup("kang", limit=1)) == 1


# -- complete ----------------------------------------------------------------------------------------------------
def test_complete_prefix_best_first() -> None:
    # "seo" is Seo Jun-hyeok's whole family name, but only the start of Lee Seo-ah's given name.
    hits = INDEX.who.complete("seo")
    assert targets(hits)[:2] == [JUN_HYEOK, SEO_AH]
    assert all(h.how == "prefix" for h in hits[:2])
    # Among partial matches, a main character outranks an actor.
    assert targets(INDEX.who.complete("h"))[0] == HAE_RIM


def test_complete_matches_hangul_and_aliases() -> None:
    assert targets(INDEX.who.complete("강"))[:2] == [HAE_RIM, YE_JIN]
    assert targets(INDEX.who.complete("rim")) == [HAE_RIM]
    assert targets(INDEX.dramas.complete("달빛")) == [("drama", "moonlit-orchard")]


def test_complete_falls_back_to_fuzzy_for_typos() -> None:
    hits = INDEX.who.complete("kang haerm")
    assert targets(hits)[:1] == [HAE_RIM]
    assert hits[0].how == "fuzzy"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("kang haeri", "kang hae-ri"),  # (a prefix) nothing wrong: plain completion
        ("kagn hae", "kang hae"),  # two letters swapped
        ("kan hae", "kang hae"),  # one dropped
        ("kanng hae", "kang hae"),  # one doubled
        ("kamg hae", "kang hae"),  # one replaced
        ("moonlti", "moonlit"),
    ],
)
def test_complete_after_a_slip_offers_what_starts_with_the_text_meant(typed: str, meant: str) -> None:
    """One slip past the first letter: autocomplete offers the completions of the text without it
    (each text one slip away is looked up in the sorted keys), not only names close as a whole."""
    for names in (INDEX.who, INDEX.dramas):
        wanted = targets(names.complete(meant))
        got = names.complete(typed)
        assert set(wanted) <= set(targets(got)), (typed, names)
        if wanted and typed != meant.replace("-", ""):
            assert all(h.how in ("fuzzy", "prefix") for h in got)


def test_slips_are_one_edit_away_and_keep_the_first_letter() -> None:
    from rapidfuzz.distance import DamerauLevenshtein

    from bot.catalog.search import _slips

    slips = _slips("kang")
    assert {"kng", "kagn", "kanng", "kamg", "kbang"} <= slips and "kang" not in slips
    assert all(s[0] == "k" and DamerauLevenshtein.distance("kang", s) == 1 for s in slips)
    assert "ang" not in slips and "kangx" not in slips  # the first letter stays; nothing added at the end


def test_complete_with_an_empty_query_lists_everything_up_to_the_limit() -> None:
    hits = INDEX.who.complete("")
    assert len(hits) == len(INDEX.who) == 10
    assert targets(hits)[:2] == [HAE_RIM, YE_JIN]  # main characters first
    assert len(INDEX.who.complete("  ", limit=3)) == 3
    assert targets(INDEX.dramas.complete("")) == [("drama", "moonlit-orchard"), ("drama", "paper-lanterns")]


def test_complete_allow_restricts_results() -> None:
    lanterns = INDEX.who_in("paper-lanterns")
    assert lanterns == {YE_JIN, HYEON_SEOK, TAE_SUNG, HA_NEUL}
    assert TAE_SUNG in INDEX.who_in("moonlit-orchard")  # he is in both
    assert INDEX.who_in("nothing") == set()
    assert targets(INDEX.who.complete("kang", allow=lanterns)) == [YE_JIN]
    assert set(targets(INDEX.who.complete("", allow=lanterns))) == lanterns
    assert all(h.target in lanterns for h in INDEX.who.complete("kang haerm", allow=lanterns))
    assert INDEX.who.complete("kang", allow=set()) == []


def many_people(count: int) -> NameIndex:
    return NameIndex(
        (("person", f"park-min-{i}"), f"Park Min {i:02d}", [f"Park Min {i:02d}"], 10.0 if i == 37 else 1.0)
        for i in range(count)
    )


def test_complete_returns_at_most_the_limit_best_first() -> None:
    index = many_people(60)
    hits = index.complete("park")
    assert len(hits) == 25
    assert hits[0].target == ("person", "park-min-37")  # the heaviest first
    assert [h.label for h in hits[1:4]] == ["Park Min 00", "Park Min 01", "Park Min 02"]
    assert len(index.complete("park", limit=5)) == 5
    assert len(index.complete("", limit=25)) == 25
    # Prefix matches only (40–49, heaviest then by label): close spellings are not mixed in...
    hits = index.complete("parkmin4")
    assert targets(hits) == [("person", f"park-min-{i}") for i in range(40, 50)]
    assert {h.how for h in hits} == {"prefix"}
    # ...they answer only when nothing starts with what was typed (a typo).
    typo = index.complete("parkmni4")
    assert typo and {h.how for h in typo} == {"fuzzy"} and len(typo) <= 25


def test_choices_fit_discord_limits(tmp_path: Path) -> None:
    title = "A" + " very long title" * 6  # 97 characters; the label adds the year
    catalog, problems = load_catalog([GOOD, write(tmp_path, "long.toml", long_pack("long-one", 2, title=title))])
    assert problems == []
    lookups = Lookups(catalog, CatalogIndex(catalog))
    choices = lookups.drama_choices("a very")
    assert choices[0] == (f"{title} (2024)"[:100], "long-one")
    assert all(len(name) <= 100 and len(value) <= 100 for name, value in lookups.drama_choices(""))
    assert all(len(name) <= 100 and len(value) <= 100 for name, value in lookups.who_choices(""))


# -- never raises ------------------------------------------------------------------------------------------------
@settings(max_examples=300)
@given(text=st.text(max_size=120), limit=st.integers(min_value=1, max_value=30))
def test_lookup_and_complete_never_raise(text: str, limit: int) -> None:
    for index in (INDEX.who, INDEX.dramas):
        assert len(index.lookup(text, limit=limit)) <= limit
        assert len(index.complete(text, limit=limit)) <= limit
        allow = INDEX.who_in("paper-lanterns")
        assert all(h.target in allow for h in index.complete(text, limit=limit, allow=allow))


def test_keys_naming_one_or_several_targets_find_them_all() -> None:
    """A key naming one target or several (runs of target numbers in the index's compact form):
    lookups, folds, given names and close spellings give every target either way."""
    twins = NameIndex(
        [
            (("person", "a"), "Kim Min-seo (a)", ("Kim Min-seo",), 2.0),
            (("person", "b"), "Kim Min-seo (b)", ("Kim Min-seo",), 1.0),
            (("person", "c"), "Park Hyeon-woo", ("Park Hyeon-woo",), 1.0),
            (("person", "d"), "Q", ("Q",), 1.0),
        ]
    )
    assert [twins._target(n) for n in twins.exact("kimminseo")] == [("person", "a"), ("person", "b")]
    assert [twins._target(n) for n in twins.exact("parkhyeonwoo")] == [("person", "c")]
    assert twins.exact("minseo") == []  # one word of a name is not a whole name
    assert targets(twins.lookup("kim min-seo")) == [("person", "a"), ("person", "b")]
    assert targets(twins.lookup("Park Hyunwoo")) == [("person", "c")]  # folded
    assert targets(twins.lookup("minseo")) == [("person", "a"), ("person", "b")]  # a given name
    assert targets(twins.lookup("kim minsoe")) == [("person", "a"), ("person", "b")]  # a typo
    assert targets(twins.fuzzy("parkhyeonwo", narrow=True)) == [("person", "c")]
    assert targets(twins.fuzzy("q", narrow=True)) == [("person", "d")]  # a one-letter key is its own bucket
    assert twins._bucket("pa") == ["parkhyeonwoo"] and twins._bucket("zz") == []
