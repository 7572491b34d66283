"""bot.catalog.strict and `python -m bot catalog validate --strict`: what a shipped pack must not have.

Each rule refuses a pack that breaks it with `FILE: field: what`, a clean pack passes, and the
lenient (default) mode still accepts what users' own packs may have.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.catalog import load_catalog
from bot.catalog.strict import PLACEHOLDER_MARKERS, pack_strict_problems, strict_problems
from tests.unit.packs import write

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2024, 3, 12, 0, 0, tzinfo=UTC)  # episodes 1 and 2 have aired, episode 3 has not

# Passes --strict at NOW and today: episode 3 (no synopsis yet) airs in 2099.
CLEAN = """\
# Salt Flats: a small invented pack that passes --strict.
[drama]
slug = "salt-flats"
title = "Salt Flats"
year = 2024
timezone = "Asia/Seoul"
air_time = "21:00"
episode_count = 3

[[sources]]
id = "dramawatch"
name = "Dramawatch researched facts"
licence = "Project's own text (MIT)"

[[episodes]]
number = 1
air_date = "2024-03-09"
synopsis = "A salt farmer finds a letter in the drying shed."
source = "dramawatch"

[[episodes]]
number = 2
air_date = "2024-03-10"  # checked against the broadcaster's listing
synopsis = "She answers it, today, as a toddler watches."
source = "dramawatch"

[[episodes]]
number = 3
air_date = "2099-01-03"
synopsis = ""
source = "dramawatch"

[[characters]]
slug = "yoon-ha-ri"
name = "Yoon Ha-ri"
billing = "main"
description = \"\"\"A salt farmer
who keeps to herself.\"\"\"
"""


def pack(tmp_path: Path, old: str = "", new: str = "", text: str = CLEAN) -> Path:
    """CLEAN (or `text`) with `old`, which must occur exactly once, replaced by `new`, in tmp_path/salt-flats.toml."""
    if old:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return write(tmp_path, "salt-flats.toml", text)


def loads_leniently(path: Path) -> None:
    catalog, problems = load_catalog([path])
    assert problems == [] and len(catalog) == 1


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CATALOG_PATH", "DISCORD_TOKEN", "DATABASE_PATH")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


# -- the clean pack ------------------------------------------------------------------------------------------
def test_a_clean_pack_passes(tmp_path: Path) -> None:
    path = pack(tmp_path)
    loads_leniently(path)
    assert strict_problems([path], now=NOW) == []
    assert strict_problems([tmp_path], now=NOW) == []  # a folder too
    assert strict_problems([path], now=datetime.now(UTC)) == []


# -- (a) an aired episode without a synopsis -----------------------------------------------------------------
@pytest.mark.parametrize(
    "new",
    ['synopsis = ""', 'synopsis = "   "', ""],
    ids=["empty", "blank", "left-out"],
)
def test_an_aired_episode_without_a_synopsis_is_refused(tmp_path: Path, new: str) -> None:
    path = pack(tmp_path, 'synopsis = "She answers it, today, as a toddler watches."', new)
    loads_leniently(path)  # fine for a user's pack
    assert strict_problems([path], now=NOW) == [
        f"{path}: episodes[2].synopsis: is empty, but the episode aired on 2024-03-10; "
        "a shipped pack needs a synopsis for every aired episode"
    ]


def test_aired_is_relative_to_now(tmp_path: Path) -> None:
    path = pack(tmp_path)
    # Episode 3 airs 2099-01-03 21:00 in Seoul = 12:00 UTC: its empty synopsis is fine until then.
    assert strict_problems([path], now=datetime(2099, 1, 3, 11, 59, tzinfo=UTC)) == []
    (problem,) = strict_problems([path], now=datetime(2099, 1, 3, 12, 0, tzinfo=UTC))
    assert problem.startswith(f"{path}: episodes[3].synopsis: is empty, but the episode aired on 2099-01-03")


def test_a_release_without_a_synopsis_says_released(tmp_path: Path) -> None:
    text = CLEAN.replace('air_time = "21:00"\n', "")  # no time slot: every episode is a release
    path = pack(tmp_path, 'synopsis = "A salt farmer finds a letter in the drying shed."', 'synopsis = ""', text=text)
    (problem,) = strict_problems([path], now=NOW)
    assert problem.startswith(f"{path}: episodes[1].synopsis: is empty, but the episode was released on 2024-03-09")


def test_now_must_be_timezone_aware(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        strict_problems([pack(tmp_path)], now=datetime(2024, 3, 12))


# -- (b) placeholder markers ---------------------------------------------------------------------------------
def test_the_documented_marker_list() -> None:
    assert PLACEHOLDER_MARKERS == (
        "placeholder",
        "TODO",
        "TBD",
        "TBA",
        "FIXME",
        "XXX",
        "unverified",
        "pending research",
        "lorem ipsum",
    )
    docs = (REPO / "docs" / "data-packs.md").read_text(encoding="utf-8")
    for marker in PLACEHOLDER_MARKERS:
        assert f"`{marker}`" in docs, marker


@pytest.mark.parametrize(
    ("old", "new", "field", "what"),
    [
        (
            "# Salt Flats: a small invented pack that passes --strict.",
            "# TODO: check every date below",
            "line 1",
            'the comment has the placeholder marker "TODO"',
        ),
        (
            "# checked against the broadcaster's listing",
            "# date unverified, pending   research",
            "episodes[2].air_date",
            'the comment on line 23 has the placeholder markers "unverified", "pending research"',
        ),
        (
            "A salt farmer finds a letter in the drying shed.",
            "Placeholder synopsis.",
            "episodes[1].synopsis",
            'line 18 has the placeholder marker "Placeholder"',
        ),
        (
            'title = "Salt Flats"',
            'title = "Salt Flats"  # fixme',
            "drama.title",
            'the comment on line 4 has the placeholder marker "fixme"',
        ),
        ("who keeps to herself.", "who keeps to herself (tbd).", "characters[yoon-ha-ri].description", "line 38"),
        ("[[sources]]", "[[sources]]  # TBA", "sources[0]", "the comment on line 10"),
        ('id = "dramawatch"', 'id = "dramawatch"\nattribution = "Lorem ipsum"', "sources[0].attribution", "line 12"),
        (
            "number = 3",
            'number = 3\ntitle = "TODOs"',
            "episodes[3].title",
            'line 29 has the placeholder marker "TODOs"',
        ),
    ],
    ids=["own-line", "trailing-comment", "synopsis", "drama", "multi-line-string", "header", "source", "plural"],
)
def test_a_placeholder_marker_is_refused(tmp_path: Path, old: str, new: str, field: str, what: str) -> None:
    path = pack(tmp_path, old, new)
    loads_leniently(path)  # fine for a user's pack
    (problem,) = strict_problems([path], now=NOW)
    assert problem.startswith(f"{path}: {field}: {what}"), problem
    assert problem.endswith("a shipped pack states only checked facts (say less rather than mark a gap)")


def test_words_that_only_contain_a_marker_are_not_markers(tmp_path: Path) -> None:
    path = pack(tmp_path, "who keeps to herself.", "who toots on Mastodon, todays, xxxl, tbar, tbdx.")
    assert strict_problems([path], now=NOW) == []


def test_markers_are_found_in_a_pack_that_does_not_load(tmp_path: Path) -> None:
    text = "[drama]\nslug = 'x'  # TODO\n"  # missing every other field, yet the marker is reported in the same pass
    problems = pack_strict_problems(text, "broken.toml", None, now=NOW)
    assert problems == [
        'broken.toml: drama.slug: the comment on line 2 has the placeholder marker "TODO"; '
        "a shipped pack states only checked facts (say less rather than mark a gap)"
    ]
    assert pack_strict_problems("not = [valid toml  # TBD", "bad.toml", None, now=NOW)[0].startswith(
        "bad.toml: not: the comment on line 1"
    )


# -- (c) a dated episode without a source --------------------------------------------------------------------
def test_a_dated_episode_without_a_source_is_refused(tmp_path: Path) -> None:
    path = pack(
        tmp_path,
        'air_date = "2024-03-09"\nsynopsis = "A salt farmer finds a letter in the drying shed."\nsource = "dramawatch"',
        'air_date = "2024-03-09"\nsynopsis = "A salt farmer finds a letter in the drying shed."',
    )
    loads_leniently(path)  # fine for a user's pack
    assert strict_problems([path], now=NOW) == [
        f"{path}: episodes[1].source: is missing; an episode with an air date (2024-03-09) must name the "
        "[[sources]] entry its facts come from"
    ]


# -- (d) a source no [[sources]] entry defines: the loader refuses it in both modes --------------------------
def test_an_undefined_source_is_refused_in_both_modes(tmp_path: Path) -> None:
    path = pack(
        tmp_path,
        'air_date = "2099-01-03"\nsynopsis = ""\nsource = "dramawatch"',
        'air_date = "2099-01-03"\nsynopsis = ""\nsource = "rumour-mill"',
    )
    for args in (("catalog", "validate", str(path)), ("catalog", "validate", "--strict", str(path))):
        result = run_cli(tmp_path, *args)
        assert result.returncode == 1, result.stdout + result.stderr
        assert result.stdout.splitlines() == [
            f"{path}: episodes[3].source: 'rumour-mill' is not one of the pack's sources (dramawatch)"
        ]


# -- the command line ----------------------------------------------------------------------------------------
def test_cli_clean_pack_passes_with_and_without_strict(tmp_path: Path) -> None:
    path = pack(tmp_path)
    for args in (("catalog", "validate", str(tmp_path)), ("catalog", "validate", "--strict", str(tmp_path))):
        result = run_cli(tmp_path, *args)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith(f"{tmp_path}: OK — 1 drama(s), 3 episodes")
    assert path.exists()


def test_cli_strict_refuses_what_the_lenient_mode_accepts(tmp_path: Path) -> None:
    path = pack(tmp_path, 'synopsis = "She answers it, today, as a toddler watches."', 'synopsis = ""  # TBD')
    lenient = run_cli(tmp_path, "catalog", "validate", str(path))
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    assert "OK" in lenient.stdout

    strict = run_cli(tmp_path, "catalog", "validate", "--strict", str(path))
    assert strict.returncode == 1
    lines = strict.stdout.splitlines()
    assert len(lines) == 2, strict.stdout
    assert lines[0].startswith(f"{path}: episodes[2].synopsis: the comment on line 24 has the placeholder marker")
    assert lines[1].startswith(f"{path}: episodes[2].synopsis: is empty, but the episode aired on 2024-03-10")
    assert "2 strict problem(s)" in strict.stderr and "Traceback" not in strict.stderr


def test_cli_strict_lists_normal_and_strict_problems_together(tmp_path: Path) -> None:
    path = pack(tmp_path, "episode_count = 3", "episode_count = 3\nepisode_cuont = 3  # TODO")
    result = run_cli(tmp_path, "catalog", "validate", "--strict", str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}: drama.episode_cuont: is not a known field (a typo?)",
        f'{path}: drama.episode_cuont: the comment on line 9 has the placeholder marker "TODO"; '
        "a shipped pack states only checked facts (say less rather than mark a gap)",
    ]
    assert "the bot will not start" in result.stderr and "1 strict problem(s)" in result.stderr


# -- the shipped packs ---------------------------------------------------------------------------------------
def test_the_shipped_packs_pass_strict() -> None:
    result = run_cli(REPO, "catalog", "validate", "--strict", "data/packs")
    assert result.returncode == 0, f"the shipped packs fail --strict:\n{result.stdout}{result.stderr}"
