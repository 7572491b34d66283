"""Lookups at catalog scale: /recap, /who and autocomplete, the search index, and start to ready.

Three parts, each against a baseline measured in the same run where the target has one:

  a  Through the sandbox, catalog of 2,000 dramas / 40,000 characters: INTERACTION_CREATE → callback
     for the bare discord.py floor bot (`/floor`, a fixed embed) and the real bot answering
     `/recap SLUG EP`, `/who NAME` (names that resolve to exactly one entry), and autocomplete of
     `/recap drama:` and `/who name:`; floor and real in alternating rounds (as bench/interactions.py).
     Target: median ≤ 1.3× floor, p99 ≤ 5 ms.
  b  In process, 20,000 dramas and ~400,000 names (characters + people): CatalogIndex build time and
     memory, then `complete()` over a realistic mix of what people type (1–6 character prefixes,
     typos, Hangul, empty) on the drama and /who indexes, and `lookup()` (exact forms, typos, a bare
     surname). Target: complete() p99 ≤ 2 ms.
  c  Start to ready with 2,000 dramas as TOML packs on disk and a database holding 10,000 servers of
     state: the sandbox server runs in this process and the bot alone in a fresh `python` process
     (clean memory) that connects to it over loopback; wall time from process start to on_ready, and
     the bot process's peak RSS; the same for the bare floor bot. Target: ≤ 1.5 s, peak RSS ≤ 250 MB.

Not a test: nothing asserts on time. The synthetic catalog comes from bench/catalog_gen.py (seeded).

    python bench/lookups.py                      # everything, full size (~4 min on 2 cores)
    python bench/lookups.py --parts a            # one part (a ~75 s, b ~2 min, c ~40 s)
    python bench/lookups.py --quick              # scaled down (~40 s)
    python bench/lookups.py --parts a,b --dramas 500 --big-dramas 5000 --json
    python bench/lookups.py --parts c --profile  # cProfile hot spots of each part as well
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import logging
import os
import pstats
import random
import resource
import shlex
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
# Only the standard library at import time: part c's child process imports just what the bot needs
# (the sandbox and bench/interactions.py, which imports it, stay out of the real bot's process).

SANDBOX_TOKEN = "sandbox.token.not-a-real-discord-token"  # as bot/sandbox/harness.py (not imported here)
TARGETS = {
    "a_median_ratio": 1.3,
    "a_p99_ms": 5.0,
    "b_complete_p99_ms": 2.0,
    "c_ready_s": 1.5,
    "c_peak_rss_mb": 250.0,
}


def code_version() -> str:
    """The commit measured, and whether bot/ or cogs/ had uncommitted changes."""
    import subprocess

    def git(*argv: str) -> str:
        try:
            return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "bot", "cogs")
    return commit + (" + uncommitted changes in bot/ or cogs/" if dirty else "")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rss_kb() -> int:
    """Current resident set size (KB), from /proc (Linux)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def maxrss_kb() -> int:
    """Peak RSS of this process (KB).

    /proc's VmHWM, not getrusage's ru_maxrss: on Linux ru_maxrss survives fork and exec, so a child
    spawned by this (large) benchmark process would report the parent's peak. Falls back to ru_maxrss.
    """
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux


def summary(values: list[float], digits: int = 3) -> dict[str, Any]:
    from interactions import percentile

    return {
        "n": len(values),
        "mean_ms": round(statistics.fmean(values), digits),
        "median_ms": round(statistics.median(values), digits),
        "p95_ms": round(percentile(values, 95), digits),
        "p99_ms": round(percentile(values, 99), digits),
        "max_ms": round(max(values), digits),
    }


def profile_text(profiler: cProfile.Profile, limit: int = 14) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(limit)
    total = stats.total_tt  # type: ignore[attr-defined]
    text = out.getvalue()
    start = text.find("   ncalls")
    return f"total {total:.3f} s\n" + (text[start:] if start >= 0 else text)


class GCWatch:
    """Counts the garbage collector's full (generation 2) collections and their pauses meanwhile."""

    def __enter__(self) -> GCWatch:
        self.pauses: list[float] = []
        self._started = 0.0
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((time.perf_counter() - self._started) * 1000)

    def report(self) -> dict[str, Any]:
        return {
            "full_collections": len(self.pauses),
            "max_pause_ms": round(max(self.pauses), 1) if self.pauses else 0.0,
            "total_pause_ms": round(sum(self.pauses), 1),
        }


def typo(text: str, rng: random.Random) -> str:
    """One slip of the finger: swap, drop, double or replace a letter (never the first one)."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha() and i > 0]
    if not letters:
        return text
    i = rng.choice(letters)
    kind = rng.randrange(4)
    if kind == 0 and i + 1 < len(text) and text[i + 1].isalpha():
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + text[i] + text[i:]
    near = "aeiouyhn" if text[i].lower() in "aeiouy" else "bcdghjklmnprstwy"
    return text[:i] + rng.choice(near) + text[i + 1 :]


def typed_prefix(name: str, rng: random.Random, low: int = 1, high: int = 6) -> str:
    prefix = name[: rng.randint(low, high)]
    return prefix.lower() if rng.random() < 0.7 else prefix


# ================================================================================================
# Part a: through the sandbox
# ================================================================================================
def who_inputs(catalog: Any, lookups: Any, count: int, rng: random.Random) -> list[tuple[str, str | None]]:
    """(name, drama slug or None) for `/who` lines that resolve to exactly one entry: unique full
    names (romanised or Hangul), or a name with the drama option."""
    dramas = list(catalog.dramas.values())
    found: list[tuple[str, str | None]] = []
    tries = 0
    while len(found) < count and tries < count * 50:
        tries += 1
        drama = rng.choice(dramas)
        character = rng.choice(list(drama.characters.values()))
        scoped = rng.random() < 0.5
        name = character.name if rng.random() < 0.8 else character.name_ko or character.name
        try:
            hits = lookups.who(name, drama if scoped else None)
        except Exception:  # noqa: BLE001 - NotFound: not a usable line
            continue
        if len(hits) != 1 or hits[0].target != ("character", drama.slug, character.slug):
            continue
        found.append((name, drama.slug if scoped else None))
    return found


def autocomplete_inputs(catalog: Any, count: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """What people have typed so far in `/recap drama:` and `/who name:`: 10 % nothing, 15 % Hangul,
    15 % a typo, (for names) 15 % the given name, the rest a 1–6 character prefix."""
    dramas = list(catalog.dramas.values())
    people = list(catalog.people.values())
    drama_typed, who_typed = [], []
    for _ in range(count):
        drama = rng.choice(dramas)
        roll = rng.random()
        if roll < 0.1:
            typed = ""
        elif roll < 0.25:
            typed = drama.title_ko[: rng.randint(1, 3)]
        elif roll < 0.4:
            typed = typo(typed_prefix(drama.title, rng, 4, 8), rng)
        else:
            typed = typed_prefix(drama.title, rng)
        drama_typed.append(typed)
        character = rng.choice(list(drama.characters.values()))
        name = character.name if rng.random() < 0.8 else rng.choice(people).name
        roll = rng.random()
        if roll < 0.1:
            typed = ""
        elif roll < 0.25:
            typed = (character.name_ko or name)[: rng.randint(1, 3)]
        elif roll < 0.4:
            typed = typo(typed_prefix(name, rng, 4, 8), rng)
        elif roll < 0.55:
            typed = typed_prefix(name.split(" ", 1)[-1], rng)  # the given name, as people often type it
        else:
            typed = typed_prefix(name, rng)
        who_typed.append(typed)
    return drama_typed, who_typed


def in_process_lookups(lookups: Any, inputs: dict[str, list[Any]]) -> dict[str, Any]:
    """The search part of each line's handler, called directly: what the catalog costs per line."""
    calls = {
        "recap": lambda q: lookups.episode(lookups.drama(q[0]).drama, q[1]),
        "who": lambda q: lookups.who(q[0], lookups.drama(q[1]).drama if q[1] else None),
        "ac-drama": lambda q: lookups.drama_choices(q),
        "ac-who": lambda q: lookups.who_choices(q, ""),
    }
    out = {}
    for kind, fn in calls.items():
        samples, _ = time_calls(fn, inputs[kind])
        out[kind] = summary(samples)
    return out


async def measure_lines(sandbox: Any, lines: list[str], warmup: int, check: Any = None) -> list[float]:
    """As interactions.measure, over a list of different lines (each run once, in order)."""
    for line in lines[:warmup]:
        result = await sandbox.run_line(line)
        if result.get("error"):
            raise SystemExit(f"{line!r} failed during warm-up: {result['error']}")
        if check is not None:
            check(line, result)
    samples = []
    gc.collect()
    interactions = sandbox.world.interactions
    for line in lines:
        result = await sandbox.run_line(line)
        if result.get("error"):
            raise SystemExit(f"{line!r} failed during the benchmark: {result['error']}")
        record = next(reversed(interactions.values()))
        assert record.answered_at is not None
        samples.append((record.answered_at - record.sent_at) * 1000)
    return samples


def check_who(line: str, result: dict[str, Any]) -> None:
    response = result.get("response") or {}
    if not response.get("embeds") or "Several entries" in (response.get("content") or ""):
        raise SystemExit(f"{line!r} did not answer one character card: {response}")


def check_recap(line: str, result: dict[str, Any]) -> None:
    response = result.get("response") or {}
    if not response.get("embeds"):
        raise SystemExit(f"{line!r} did not answer an embed: {response}")


async def run_part_a(args: argparse.Namespace) -> dict[str, Any]:
    from catalog_gen import GenConfig, build_catalog, catalog_stats
    from interactions import bare_bot, measure

    from bot.catalog import CatalogIndex
    from bot.client import Dramawatch
    from bot.lookups import Lookups
    from bot.sandbox.harness import Sandbox

    logging.basicConfig(level=logging.ERROR)
    rng = random.Random(11)
    log(f"part a: building the catalog in memory ({args.dramas} dramas × {args.characters} characters)")
    started = time.perf_counter()
    catalog = build_catalog(GenConfig(args.dramas, characters=args.characters))
    built = time.perf_counter() - started
    started = time.perf_counter()
    index = CatalogIndex(catalog)
    indexed = time.perf_counter() - started
    stats = catalog_stats(catalog)
    log(f"part a: {stats}; built in {built:.1f} s, indexed in {indexed:.1f} s")
    lookups = Lookups(catalog, index)

    n = args.n
    slugs = list(catalog.dramas)
    kinds = ["recap", "who", "ac-drama", "ac-who"]
    total = (n + args.warmup) * args.rounds
    inputs: dict[str, list[Any]] = {"recap": []}
    for _ in range(total):
        drama = catalog.dramas[rng.choice(slugs)]
        inputs["recap"].append((drama.slug, rng.randint(1, drama.episode_count)))
    distinct_who = who_inputs(catalog, lookups, min(total, 600), rng)
    inputs["who"] = [distinct_who[i % len(distinct_who)] for i in range(total)]
    inputs["ac-drama"], inputs["ac-who"] = autocomplete_inputs(catalog, total, rng)
    lines: dict[str, list[str]] = {
        "recap": [f"/recap {slug} {ep}" for slug, ep in inputs["recap"]],
        "who": [f"/who name:{shlex.quote(name)}" + (f" drama:{slug}" if slug else "") for name, slug in inputs["who"]],
        "ac-drama": [f":type /recap drama:{shlex.quote(typed)}" for typed in inputs["ac-drama"]],
        "ac-who": [f":type /who name:{shlex.quote(typed)}" for typed in inputs["ac-who"]],
    }

    def factory(settings: Any, clock: Any) -> Any:
        return Dramawatch(settings, clock=clock, catalog=(catalog, index), guild_ready_timeout=0.05)

    labels = {
        "floor": "floor /floor",
        "recap": "real /recap SLUG EP",
        "who": "real /who NAME [drama]",
        "ac-drama": "real :type /recap drama:…",
        "ac-who": "real :type /who name:…",
    }
    samples: dict[str, list[float]] = {k: [] for k in labels}
    watches: dict[str, GCWatch] = {}
    checks = {"recap": check_recap, "who": check_who}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            log(f"part a: round {round_ + 1}/{args.rounds}: floor")
            async with Sandbox(db_path=Path(tmp) / f"floor{round_}.db", bot_factory=bare_bot) as sandbox:
                with GCWatch() as watches[f"floor{round_}"]:
                    samples["floor"] += await measure(sandbox, "/floor", n, args.warmup)
            log(f"part a: round {round_ + 1}/{args.rounds}: real")
            async with Sandbox(db_path=Path(tmp) / f"real{round_}.db", bot_factory=factory) as sandbox:
                for kind in kinds:
                    chunk = lines[kind][round_ * (n + args.warmup) : (round_ + 1) * (n + args.warmup)]
                    warm, measured = chunk[: args.warmup], chunk[args.warmup :]
                    await measure_lines(sandbox, warm, len(warm), checks.get(kind))
                    with GCWatch() as watches[f"{kind}{round_}"]:
                        samples[kind] += await measure_lines(sandbox, measured, 0)
                if sandbox.errors:
                    raise SystemExit(f"the bot reported errors: {sandbox.errors[:3]}")
        context = await part_a_context(Path(tmp), catalog, index)
        context["in_process_ms"] = in_process_lookups(lookups, inputs)
        context["db_round_trips_per_line"] = await count_round_trips(Sandbox, factory, Path(tmp), lines)
        profiles: dict[str, str] = {}
        if args.profile:  # a separate pass: the profiler's overhead stays out of the figures above
            log("part a: profiling each kind of line (not counted in the figures)")
            async with Sandbox(db_path=Path(tmp) / "profile.db", bot_factory=factory) as sandbox:
                for kind in kinds:
                    chunk = lines[kind][: min(300, n)]
                    await measure_lines(sandbox, chunk[:20], 20)
                    profiler = cProfile.Profile()
                    profiler.enable()
                    await measure_lines(sandbox, chunk, 0)
                    profiler.disable()
                    profiles[kind] = profile_text(profiler, 12)
    floor_median = statistics.median(samples["floor"])
    rows = {}
    for kind, label in labels.items():
        row = summary(samples[kind])
        row["ratio_median_to_floor"] = round(statistics.median(samples[kind]) / floor_median, 2)
        if kind != "floor":
            row["median_target_met"] = row["ratio_median_to_floor"] <= TARGETS["a_median_ratio"]
            row["p99_target_met"] = row["p99_ms"] <= TARGETS["a_p99_ms"]
        pauses = [p for key, w in watches.items() if key.startswith(kind) for p in w.pauses]
        row["full_gc_collections"] = len(pauses)
        row["full_gc_max_pause_ms"] = round(max(pauses), 1) if pauses else 0.0
        rows[label] = row
    report: dict[str, Any] = {
        "catalog": stats,
        "catalog_build_s": round(built, 2),
        "index_build_s": round(indexed, 2),
        "distinct_who_lines": len(distinct_who),
        "rounds": args.rounds,
        "results": rows,
        "context": context,
    }
    if profiles:
        report["profiles"] = profiles
    return report


async def count_round_trips(sandbox_cls: Any, factory: Any, tmp: Path, lines: dict[str, list[str]]) -> dict[str, float]:
    """aiosqlite thread round trips per line (each is a hop to the database thread and back).

    Counted in a separate pass by wrapping aiosqlite's Connection._execute (not during the timing).
    """
    from aiosqlite import core

    original = core.Connection._execute
    count = [0]

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return await original(self, fn, *args, **kwargs)

    out = {}
    async with sandbox_cls(db_path=tmp / "count.db", bot_factory=factory) as sandbox:
        core.Connection._execute = counting  # type: ignore[method-assign]
        try:
            for kind, kind_lines in lines.items():
                count[0] = 0
                for line in kind_lines[:50]:
                    await sandbox.run_line(line)
                out[kind] = round(count[0] / min(50, len(kind_lines)), 1)
        finally:
            core.Connection._execute = original  # type: ignore[method-assign]
    return out


async def part_a_context(tmp: Path, catalog: Any, index: Any) -> dict[str, Any]:
    """What explains the figures: one aiosqlite round trip, and a full GC pass with the catalog loaded."""
    from bot.storage import Database
    from bot.storage.progress import ProgressRepo

    db = await Database.open(tmp / "context.db")
    try:
        await db.migrate()
        repo = ProgressRepo(db)
        await repo.set(1, 2, "some-drama", 3)
        hops = []
        for _ in range(1000):
            started = time.perf_counter()
            await repo.get(1, 2, "some-drama")
            hops.append((time.perf_counter() - started) * 1000)
    finally:
        await db.close()
    gc.collect()
    started = time.perf_counter()
    gc.collect()
    full = (time.perf_counter() - started) * 1000
    gc.freeze()
    started = time.perf_counter()
    gc.collect()
    frozen = (time.perf_counter() - started) * 1000
    gc.unfreeze()
    return {
        "progress_get_ms": summary(hops),
        "full_gc_ms": round(full, 1),
        "full_gc_after_freeze_ms": round(frozen, 1),
        "tracked_objects": len(gc.get_objects()),
    }


def print_part_a(report: dict[str, Any]) -> None:
    stats = report["catalog"]
    print(
        f"\nPart a: through the sandbox, {stats['dramas']:,} dramas / {stats['characters']:,} characters "
        f"/ {stats['people']:,} people ({report['rounds']} alternating rounds)"
    )
    print(
        f"{'bot / line':<28} {'n':>6} {'median ms':>10} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'× floor':>8}"
        f"  target (≤{TARGETS['a_median_ratio']}×, p99 ≤{TARGETS['a_p99_ms']:g} ms)"
    )
    for name, row in report["results"].items():
        verdict = ""
        if "median_target_met" in row:
            verdict = (
                f"  median {'met' if row['median_target_met'] else 'MISSED'}, "
                f"p99 {'met' if row['p99_target_met'] else 'MISSED'}"
            )
        print(
            f"{name:<28} {row['n']:>6} {row['median_ms']:>10.3f} {row['p95_ms']:>8.3f} {row['p99_ms']:>8.3f} "
            f"{row['max_ms']:>8.3f} {row['ratio_median_to_floor']:>8.2f}{verdict}"
        )
    gcs = {name: (row["full_gc_collections"], row["full_gc_max_pause_ms"]) for name, row in report["results"].items()}
    print(
        "full GC collections while measuring (count, longest pause ms): "
        + ", ".join(f"{k} {v}" for k, v in gcs.items())
    )
    ctx = report["context"]
    hop = ctx["progress_get_ms"]
    print(
        f"context: one ProgressRepo.get() through aiosqlite takes median {hop['median_ms']} ms "
        f"(p99 {hop['p99_ms']} ms); a full gc.collect() with the catalog and index loaded takes "
        f"{ctx['full_gc_ms']} ms ({ctx['tracked_objects']:,} tracked objects), {ctx['full_gc_after_freeze_ms']} ms "
        "after gc.freeze()"
    )
    print(f"database round trips (aiosqlite thread hops) per line: {ctx['db_round_trips_per_line']}")
    print("the search part of each handler, called directly in process (no Discord, no database):")
    for kind, row in ctx["in_process_ms"].items():
        print(
            f"  {kind:<9} median {row['median_ms']:.3f} ms, p95 {row['p95_ms']:.3f}, p99 {row['p99_ms']:.3f}, "
            f"max {row['max_ms']:.3f}"
        )
    for kind, text in report.get("profiles", {}).items():
        print(f"\ncProfile of the real bot's {kind} lines (separate pass; sandbox and bot share the loop):")
        print(text)


# ================================================================================================
# Part b: the search index in process
# ================================================================================================
def complete_queries(catalog: Any, count: int, rng: random.Random, who: bool) -> list[tuple[str, str]]:
    """(category, typed text): 60 % prefixes of 1–6 characters, 15 % typos, 15 % Hangul, 10 % empty."""
    dramas = list(catalog.dramas.values())
    people = list(catalog.people.values())
    out = []
    for _ in range(count):
        drama = rng.choice(dramas)
        if who:
            if rng.random() < 0.8:
                entry = rng.choice(list(drama.characters.values()))
            else:
                entry = rng.choice(people)
            names = [entry.name, entry.name.split(" ", 1)[-1], *entry.aliases]
            korean = entry.name_ko
        else:
            names = [drama.title, drama.title, *drama.aliases]
            korean = drama.title_ko
        name = rng.choice(names)
        roll = rng.random()
        if roll < 0.10:
            out.append(("empty", ""))
        elif roll < 0.25 and korean:
            text = korean[: rng.randint(1, 3)]
            if rng.random() < 0.25:  # a syllable still being composed: a bare jamo at the end
                text = text[:-1] + rng.choice("ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅎ") if len(text) > 1 else text
            out.append(("hangul", text))
        elif roll < 0.40:
            out.append(("typo", typo(typed_prefix(name, rng, 4, 8), rng)))
        else:
            out.append(("prefix", typed_prefix(name, rng)))
    return out


def lookup_queries(catalog: Any, count: int, rng: random.Random, who: bool, fuzzy: bool) -> list[str]:
    dramas = list(catalog.dramas.values())
    people = list(catalog.people.values())
    out = []
    for _ in range(count):
        drama = rng.choice(dramas)
        if who:
            entry = rng.choice(list(drama.characters.values())) if rng.random() < 0.8 else rng.choice(people)
            forms = [entry.name, entry.name.lower(), entry.slug, entry.name.replace("-", " "), entry.name_ko]
            forms += list(entry.aliases) + [entry.name.split(" ", 1)[-1]]
        else:
            forms = [drama.title, drama.slug, drama.title.lower(), drama.title_ko, *drama.aliases]
        text = rng.choice([f for f in forms if f])
        if fuzzy:
            text = typo(rng.choice([f for f in forms[:2] if f]), rng)
        out.append(text)
    return out


def time_calls(fn: Any, queries: list[Any], budget_s: float | None = None) -> tuple[list[float], list[Any]]:
    samples, results = [], []
    deadline = time.perf_counter() + budget_s if budget_s else None
    clock = time.perf_counter_ns
    for query in queries:
        start = clock()
        result = fn(query)
        samples.append((clock() - start) / 1e6)
        results.append(result)
        if deadline is not None and time.perf_counter() > deadline:
            break
    return samples, results


def run_part_b(args: argparse.Namespace) -> dict[str, Any]:
    from catalog_gen import GenConfig, build_catalog, catalog_stats

    from bot.catalog import CatalogIndex

    rng = random.Random(22)
    config = GenConfig(
        args.big_dramas, characters=args.big_characters, people_per_drama=args.big_people_per_drama, text=False
    )
    log(
        f"part b: building {args.big_dramas:,} dramas × {args.big_characters} characters in memory "
        "(names only: the index reads no synopses)"
    )
    gc.collect()
    rss0 = rss_kb()
    started = time.perf_counter()
    catalog = build_catalog(config)
    built = time.perf_counter() - started
    gc.collect()
    rss1 = rss_kb()
    stats = catalog_stats(catalog)
    profiler = cProfile.Profile() if args.profile else None
    log(f"part b: {stats} in {built:.1f} s; building CatalogIndex")
    started = time.perf_counter()
    index = CatalogIndex(catalog)
    index_s = time.perf_counter() - started
    build_kind = "product"
    gc.collect()
    rss2 = rss_kb()
    log(f"part b: index built in {index_s:.1f} s (+{(rss2 - rss1) / 1024:.0f} MB); timing complete()")

    report: dict[str, Any] = {
        "catalog": stats,
        "catalog_build_s": round(built, 2),
        "catalog_rss_mb": round((rss1 - rss0) / 1024, 1),
        "index_build_s": round(index_s, 2),
        "index_build_kind": build_kind,
        "index_rss_mb": round((rss2 - rss1) / 1024, 1),
        "index_keys": {
            "drama_prefix_keys": len(index.dramas._prefix_keys),
            "who_prefix_keys": len(index.who._prefix_keys),
            "who_fuzzy_keys": len(index.who._fuzzy_keys),
        },
        "complete": {},
        "lookup": {},
    }
    watch = GCWatch().__enter__()
    for name, idx, who in (("drama", index.dramas, False), ("who", index.who, True)):
        queries = complete_queries(catalog, args.queries, rng, who)
        for _category, text in [q for q in queries if q[0] != "empty"][:200]:  # warm-up
            idx.complete(text)
        # The empty query is the same call every time: time the first few, count them for its whole share.
        empties = [i for i, (category, _) in enumerate(queries) if category == "empty"]
        replicated = set(empties[args.empty_cap :])
        measured = [q for i, q in enumerate(queries) if i not in replicated]
        if profiler is not None:
            profiler.enable()
        samples, results = time_calls(lambda q, idx=idx: idx.complete(q[1]), measured)
        if profiler is not None:
            profiler.disable()
        empty_samples = [ms for (category, _), ms in zip(measured, samples, strict=True) if category == "empty"]
        for i in range(len(replicated)):
            samples.append(empty_samples[i % len(empty_samples)])
        by_category: dict[str, list[float]] = {}
        fuzzy_used = 0
        for (category, _), ms in zip(measured + [("empty", "")] * len(replicated), samples, strict=True):
            by_category.setdefault(category, []).append(ms)
        for hits in results:
            fuzzy_used += any(h.how == "fuzzy" for h in hits)
        row = summary(samples)
        row["empty_measured"] = len(empties) - len(replicated)
        row["target_met"] = row["p99_ms"] <= TARGETS["b_complete_p99_ms"]
        row["mean_hits"] = round(statistics.mean(len(r) for r in results), 1)
        row["share_with_fuzzy_fallback"] = round(fuzzy_used / len(results), 3)  # of the measured calls
        row["by_category"] = {c: summary(v) for c, v in sorted(by_category.items())}
        report["complete"][name] = row

        exact_q = lookup_queries(catalog, args.lookups, rng, who, fuzzy=False)
        fuzzy_q = lookup_queries(catalog, args.fuzzy_lookups, rng, who, fuzzy=True)
        log(f"part b: timing lookup() on the {name} index")
        samples, results = time_calls(lambda q, idx=idx: idx.lookup(q), exact_q)
        hows: dict[str, int] = {}
        for hits in results:
            how = hits[0].how if hits else "none"
            hows[how] = hows.get(how, 0) + 1
        exact_row = summary(samples)
        exact_row["answered_by"] = hows
        samples, results = time_calls(lambda q, idx=idx: idx.lookup(q), fuzzy_q, budget_s=args.fuzzy_budget)
        hows = {}
        fuzzy_samples = []
        for ms, hits in zip(samples, results, strict=True):
            how = hits[0].how if hits else "none"
            hows[how] = hows.get(how, 0) + 1
            if how in ("fuzzy", "none"):
                fuzzy_samples.append(ms)
        typo_row = summary(samples)
        typo_row["answered_by"] = hows
        if fuzzy_samples:
            typo_row["fuzzy_path_only"] = summary(fuzzy_samples)
        report["lookup"][name] = {"exact_forms": exact_row, "typos": typo_row}
        if who:  # "/who kim": a bare surname is a given-name key shared by a fifth of all names
            surnames = [rng.choice(["Kim", "Lee", "Park", "Choi", "Hong", "Baek", "Tak"]) for _ in range(30)]
            samples, results = time_calls(lambda q, idx=idx: idx.lookup(q), surnames, budget_s=args.fuzzy_budget)
            surname_row = summary(samples)
            surname_row["answered_by"] = {"given-name": sum(1 for r in results if r and r[0].how == "given-name")}
            report["lookup"][name]["bare_surname"] = surname_row
    watch.__exit__()
    report["gc_during_queries"] = watch.report()
    report["peak_rss_mb"] = round(maxrss_kb() / 1024, 1)
    if profiler is not None:
        report["profile"] = profile_text(profiler)
    del index, catalog
    gc.collect()
    return report


def print_part_b(report: dict[str, Any]) -> None:
    stats = report["catalog"]
    print(
        f"\nPart b: in-process index, {stats['dramas']:,} dramas, {stats['names']:,} names "
        f"({stats['characters']:,} characters + {stats['people']:,} people)"
    )
    print(
        f"catalog built in memory {report['catalog_build_s']} s (+{report['catalog_rss_mb']} MB RSS); "
        f"CatalogIndex built in {report['index_build_s']} s with the {report['index_build_kind']} "
        f"(+{report['index_rss_mb']} MB RSS; peak RSS of this process {report['peak_rss_mb']} MB); "
        f"keys: {report['index_keys']}"
    )
    who = report["complete"].get("who", {})
    if who:
        print(
            f"(the empty query is timed {who['empty_measured']} times per index and counted for its 10 % share; "
            "categories: prefix = 1–6 characters of a name, typo = 4–8 characters with one slip, hangul = 1–3 "
            "syllables, some ending in a bare jamo)"
        )
    print(
        f"{'query':<34} {'n':>6} {'median ms':>10} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        f"  target (p99 ≤ {TARGETS['b_complete_p99_ms']:g} ms)"
    )

    def line(name: str, row: dict[str, Any], extra: str = "") -> None:
        print(
            f"{name:<34} {row['n']:>6} {row['median_ms']:>10.3f} {row['p95_ms']:>8.3f} {row['p99_ms']:>8.3f} "
            f"{row['max_ms']:>8.3f}{extra}"
        )

    for name, row in report["complete"].items():
        verdict = "met" if row["target_met"] else "MISSED"
        line(
            f"complete() {name}",
            row,
            f"  {verdict}; {row['mean_hits']} hits avg, fuzzy fallback in {row['share_with_fuzzy_fallback']:.0%}",
        )
        for category, sub in row["by_category"].items():
            line(f"  {category}", sub)
    for name, rows in report["lookup"].items():
        line(f"lookup() {name}, exact forms", rows["exact_forms"], f"  {rows['exact_forms']['answered_by']}")
        line(f"lookup() {name}, typos", rows["typos"], f"  {rows['typos']['answered_by']}")
        if "fuzzy_path_only" in rows["typos"]:
            line("  of which the fuzzy path", rows["typos"]["fuzzy_path_only"])
        if "bare_surname" in rows:
            line(f"lookup() {name}, bare surname", rows["bare_surname"], f"  {rows['bare_surname']['answered_by']}")
    gcw = report["gc_during_queries"]
    print(
        f"full GC collections while timing: {gcw['full_collections']}, longest pause {gcw['max_pause_ms']} ms, "
        f"total {gcw['total_pause_ms']} ms"
    )
    if "profile" in report:
        print("\ncProfile of the complete() queries (both indexes):")
        print(report["profile"])


# ================================================================================================
# Part c: start to ready, in fresh subprocesses
# ================================================================================================
async def build_database(path: Path, servers: int, progress_rows: int, slugs: list[str]) -> dict[str, int]:
    from bot.storage import Database

    rng = random.Random(33)
    db = await Database.open(path)
    try:
        await db.migrate()
        now = int(time.time() * 1000)
        settings_rows = []
        for i in range(servers):
            guild = 1200000000000000000 + i
            settings_rows.append((guild, "timezone", json.dumps("Asia/Seoul" if i % 3 else "America/New_York"), now))
            settings_rows.append((guild, "mod_role_id", json.dumps(1300000000000000000 + i), now))
            for kind in ("recaps", "discussions", "announcements", "mods"):
                if rng.random() < 0.7:
                    settings_rows.append((guild, f"{kind}_channel_id", json.dumps(1400000000000000000 + i), now))
        progress = {
            (1200000000000000000 + rng.randrange(servers), 1500000000000000000 + rng.randrange(servers * 5), s)
            for s in (rng.choice(slugs) for _ in range(progress_rows))
        }
        async with db.transaction():
            await db.executemany(
                "INSERT INTO guild_settings (guild_id, key, value, updated_at) VALUES (?, ?, ?, ?)", settings_rows
            )
            await db.executemany(
                "INSERT INTO progress (guild_id, user_id, drama, episode, updated_at) VALUES (?, ?, ?, ?, ?)",
                [(g, u, s, rng.randint(1, 16), now) for g, u, s in progress],
            )
        await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return {"servers": servers, "settings_rows": len(settings_rows), "progress_rows": len(progress)}
    finally:
        await db.close()


async def child_start(kind: str, packs: Path, db: Path, api_base: str, gateway_url: str) -> dict[str, Any]:
    """In a fresh process: the bot alone, connecting to the sandbox run by the parent process.

    Times from just before the bot is created to on_ready (the parent adds the time from process
    start); peak RSS is this process's own, so the sandbox's memory is not in it.
    """
    import bot.client
    from bot.client import Dramawatch, apply_endpoints
    from bot.scheduling import ManualClock
    from bot.settings import Settings

    imported = time.time()
    marks: dict[str, float] = {}
    product_load_index = bot.client.load_index

    def timed_load_index(settings: Any) -> Any:  # runs in setup_hook's worker thread
        started = time.perf_counter()
        loaded = product_load_index(settings)
        marks["load_index_s"] = time.perf_counter() - started
        marks["rss_after_load_index_kb"] = rss_kb()
        return loaded

    bot.client.load_index = timed_load_index  # setup_hook looks the name up at call time

    class TimedDramawatch(Dramawatch):
        async def setup_hook(self) -> None:
            started = time.perf_counter()
            await super().setup_hook()
            marks["setup_hook_s"] = time.perf_counter() - started
            marks["rss_after_setup_hook_kb"] = rss_kb()

    settings = Settings(
        token=SANDBOX_TOKEN,
        database_path=db,
        log_level="WARNING",
        api_base=api_base,
        gateway_url=gateway_url,
        catalog_path=packs,
    )
    apply_endpoints(settings)
    logging.basicConfig(level=logging.ERROR)
    if kind == "floor":
        from interactions import bare_bot  # imports the sandbox harness too: see the report's note

        imported = time.time()
    created_epoch = time.time()
    created = time.perf_counter()
    if kind == "real":
        bot: Any = TimedDramawatch(settings, guild_ready_timeout=0.05)
    else:
        bot = bare_bot(settings, ManualClock(datetime.now(UTC)))
    ready_at: list[float] = []
    ready = asyncio.Event()

    async def on_ready() -> None:
        if not ready_at:
            ready_at.extend([time.perf_counter(), time.time(), rss_kb(), maxrss_kb()])
            ready.set()

    bot.add_listener(on_ready, "on_ready")
    await bot.login(SANDBOX_TOKEN)
    task = asyncio.create_task(bot.connect(reconnect=False))
    await asyncio.wait_for(ready.wait(), 300)
    result: dict[str, Any] = {
        "kind": kind,
        "created_to_ready_s": ready_at[0] - created,
        "imports_done_epoch": imported,
        "created_epoch": created_epoch,
        "ready_epoch": ready_at[1],
        "rss_at_ready_kb": ready_at[2],
        "peak_rss_kb": ready_at[3],
        **marks,
    }
    if kind == "real":
        result["dramas_loaded"] = len(bot.catalog)
    await bot.close()
    await asyncio.wait({task}, timeout=5)
    return result


async def spawn_start(kind: str, packs: Path, db: Path) -> dict[str, Any]:
    """A fresh sandbox here, the bot in a fresh `python` process connecting to it over loopback."""
    from bot.sandbox.server import SandboxServer
    from bot.sandbox.world import World
    from bot.scheduling import ManualClock

    server = SandboxServer(World(ManualClock(datetime.now(UTC).replace(microsecond=0))))
    await server.start()
    try:
        spawned = time.time()
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--child",
            kind,
            "--child-packs",
            str(packs),
            "--child-db",
            str(db),
            "--child-api",
            server.api_base,
            "--child-gateway",
            server.gateway_url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 300)
    finally:
        await server.stop()
    if proc.returncode != 0:
        raise SystemExit(f"the {kind} child failed:\n{err.decode()[-3000:]}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["process_to_ready_s"] = result["ready_epoch"] - spawned
    result["process_to_imports_done_s"] = result.pop("imports_done_epoch") - spawned
    result["process_to_created_s"] = result.pop("created_epoch") - spawned
    result.pop("ready_epoch")
    return result


def run_part_c(args: argparse.Namespace) -> dict[str, Any]:
    from catalog_gen import GenConfig, write_packs

    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="dramawatch-bench-") as tmp:
        packs = Path(tmp) / "packs"
        log(f"part c: writing {args.dramas} packs")
        started = time.perf_counter()
        files = write_packs(packs, GenConfig(args.dramas, characters=args.characters))
        report["packs"] = len(files)
        report["packs_mb"] = round(sum(f.stat().st_size for f in files) / 1e6, 1)
        report["packs_written_s"] = round(time.perf_counter() - started, 2)
        log(f"part c: building the database: {args.servers:,} servers")
        db = Path(tmp) / "state.db"
        report["database"] = asyncio.run(build_database(db, args.servers, args.progress_rows, [f.stem for f in files]))
        report["database"]["mb"] = round(db.stat().st_size / 1e6, 1)
        runs: dict[str, list[dict[str, Any]]] = {"floor": [], "real": []}
        for i in range(args.starts):
            for kind in ("floor", "real"):
                log(f"part c: start {i + 1}/{args.starts}: {kind} bot in a fresh process")
                runs[kind].append(asyncio.run(spawn_start(kind, packs, db)))
        rows = {}
        for kind, results in runs.items():
            row: dict[str, Any] = {"runs": len(results)}
            keys = (
                "process_to_ready_s",
                "created_to_ready_s",
                "process_to_imports_done_s",
                "setup_hook_s",
                "load_index_s",
            )
            for key in keys:
                values = [r[key] for r in results if key in r]
                if values:
                    row[key] = round(statistics.median(values), 3)
                    row[key + "_all"] = [round(v, 3) for v in values]
            row["peak_rss_mb"] = round(max(r["peak_rss_kb"] for r in results) / 1024, 1)
            row["rss_at_ready_mb"] = round(max(r["rss_at_ready_kb"] for r in results) / 1024, 1)
            if kind == "real":
                row["dramas_loaded"] = results[0]["dramas_loaded"]
                row["rss_after_setup_hook_mb"] = round(max(r["rss_after_setup_hook_kb"] for r in results) / 1024, 1)
                row["rss_after_load_index_mb"] = round(max(r["rss_after_load_index_kb"] for r in results) / 1024, 1)
            rows[kind] = row
        # The first start builds the compiled catalog cache (cold); later starts load it (warm).
        real = runs["real"]
        rows["real"]["cold_process_to_ready_s"] = round(real[0]["process_to_ready_s"], 3)
        rows["real"]["cold_peak_rss_mb"] = round(real[0]["peak_rss_kb"] / 1024, 1)
        if len(real) > 1:
            warm = real[1:]
            rows["real"]["process_to_ready_s"] = round(statistics.median(r["process_to_ready_s"] for r in warm), 3)
            rows["real"]["created_to_ready_s"] = round(statistics.median(r["created_to_ready_s"] for r in warm), 3)
            rows["real"]["peak_rss_mb"] = round(max(r["peak_rss_kb"] for r in warm) / 1024, 1)
        for key in ("created_to_ready_s", "process_to_ready_s", "peak_rss_mb"):
            rows["real"][f"ratio_{key}"] = round(rows["real"][key] / rows["floor"][key], 2)
        rows["real"]["ready_target_met"] = rows["real"]["process_to_ready_s"] <= TARGETS["c_ready_s"]
        rows["real"]["rss_target_met"] = rows["real"]["peak_rss_mb"] <= TARGETS["c_peak_rss_mb"]
        report["results"] = rows
        if args.profile:
            log("part c: profiling load_index() in this process")
            from bot.client import load_index
            from bot.settings import Settings

            settings = Settings(catalog_path=packs)
            profiler = cProfile.Profile()
            started = time.perf_counter()
            profiler.enable()
            load_index(settings)
            profiler.disable()
            report["profile_load_index_s"] = round(time.perf_counter() - started, 2)
            report["profile"] = profile_text(profiler, 20)
            report["profile_phases"] = load_phases(packs)
    return report


def load_phases(packs: Path) -> dict[str, float]:
    """Wall time of each phase of load_index() without a profiler: read, TOML parse, validate, index."""
    import tomllib

    from bot.catalog import CatalogIndex
    from bot.catalog.loader import pack_files, parse_pack
    from bot.catalog.models import Catalog

    phases = {"read_s": 0.0, "toml_parse_s": 0.0, "validate_build_s": 0.0}
    dramas = {}
    people: dict[str, Any] = {}
    for file in pack_files(packs):
        t0 = time.perf_counter()
        raw = file.read_bytes()
        t1 = time.perf_counter()
        data = tomllib.loads(raw.decode())
        t2 = time.perf_counter()
        drama, pack_people, _ = parse_pack(data, str(file))
        t3 = time.perf_counter()
        phases["read_s"] += t1 - t0
        phases["toml_parse_s"] += t2 - t1
        phases["validate_build_s"] += t3 - t2
        assert drama is not None
        dramas[drama.slug] = drama
        for person in pack_people:
            people.setdefault(person.slug, person)
    t0 = time.perf_counter()
    catalog = Catalog(dict(sorted(dramas.items())), people)
    t1 = time.perf_counter()
    CatalogIndex(catalog)
    t2 = time.perf_counter()
    phases["catalog_roles_s"] = t1 - t0
    phases["index_build_s"] = t2 - t1
    return {k: round(v, 3) for k, v in phases.items()}


def print_part_c(report: dict[str, Any]) -> None:
    db = report["database"]
    print(
        f"\nPart c: start to ready in a fresh process, {report['packs']:,} packs on disk "
        f"({report['packs_mb']} MB TOML) "
        f"+ database with {db['servers']:,} servers ({db['settings_rows']:,} settings rows, "
        f"{db['progress_rows']:,} progress rows, {db['mb']} MB)"
    )
    print(
        f"{'bot':<6} {'runs':>4} {'process→ready s':>16} {'imports s':>10} {'bot()→ready s':>14} "
        f"{'setup_hook s':>13} {'load_index s':>13} {'RSS@ready MB':>13} {'peak RSS MB':>12}"
        f"  target (≤ {TARGETS['c_ready_s']:g} s, ≤ {TARGETS['c_peak_rss_mb']:g} MB)"
    )
    for kind, row in report["results"].items():
        verdict = ""
        if kind == "real":
            verdict = (
                f"  ready {'met' if row['ready_target_met'] else 'MISSED'}, "
                f"RSS {'met' if row['rss_target_met'] else 'MISSED'}"
            )
        print(
            f"{kind:<6} {row['runs']:>4} {row['process_to_ready_s']:>16.3f} {row['process_to_imports_done_s']:>10.3f} "
            f"{row['created_to_ready_s']:>14.3f} {row.get('setup_hook_s', float('nan')):>13.3f} "
            f"{row.get('load_index_s', float('nan')):>13.3f} "
            f"{row['rss_at_ready_mb']:>13.1f} {row['peak_rss_mb']:>12.1f}{verdict}"
        )
    real = report["results"]["real"]
    print(
        f"real, first (cold) start, which builds the catalog cache: process→ready "
        f"{real['cold_process_to_ready_s']:.3f} s, peak RSS {real['cold_peak_rss_mb']:.1f} MB; the row above is "
        "the median of the later (warm) starts"
    )
    print(
        f"ratio real/floor: process→ready {real['ratio_process_to_ready_s']}×, "
        f"bot()→ready {real['ratio_created_to_ready_s']}×, peak RSS {real['ratio_peak_rss_mb']}×"
    )
    print(
        "(the sandbox runs in the benchmark's process; each bot runs alone in a fresh process and connects to it "
        "over loopback, so RSS is the bot's own. The floor's process also imports the sandbox modules, because "
        "bare_bot lives in bench/interactions.py.)"
    )
    if "profile" in report:
        print(f"\nload_index() phases without a profiler: {report['profile_phases']}")
        print(f"cProfile of load_index() ({report['profile_load_index_s']} s under the profiler):")
        print(report["profile"])


# ================================================================================================
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="a,b,c", help="which parts to run, e.g. a,c")
    parser.add_argument("--quick", action="store_true", help="scaled down: a quick look, not the targets' sizes")
    parser.add_argument("--dramas", type=int, help="dramas for parts a and c (default 2,000)")
    parser.add_argument("--characters", type=int, default=20, help="characters per drama in parts a and c")
    parser.add_argument("--big-dramas", type=int, help="dramas for part b (default 20,000)")
    parser.add_argument("--big-characters", type=int, default=16, help="characters per drama in part b")
    parser.add_argument(
        "--big-people-per-drama",
        type=float,
        default=4.1,
        help="actor pool per drama in part b (16 + ~4 → ~400,000 names at 20,000 dramas)",
    )
    parser.add_argument("--n", type=int, help="measured interactions per kind per round in part a (default 400)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--queries", type=int, help="complete() queries per index in part b (default 5000)")
    parser.add_argument("--lookups", type=int, help="exact lookup() queries per index in part b (default 5000)")
    parser.add_argument("--fuzzy-lookups", type=int, default=300, help="typo lookup() queries per index")
    parser.add_argument("--fuzzy-budget", type=float, default=6.0, help="seconds at most for typo lookups per index")
    parser.add_argument("--empty-cap", type=int, default=5, help="times the (identical) empty query is timed")
    parser.add_argument("--servers", type=int, help="servers of state in part c (default 10,000)")
    parser.add_argument("--progress-rows", type=int, help="progress rows in part c (default 100,000)")
    parser.add_argument(
        "--starts",
        type=int,
        default=3,
        help="fresh-process starts per bot in part c (the first is cold: it builds the catalog cache)",
    )
    parser.add_argument("--profile", action="store_true", help="also print cProfile hot spots per part")
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON at the end")
    parser.add_argument("--child", choices=["real", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--child-packs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-api", help=argparse.SUPPRESS)
    parser.add_argument("--child-gateway", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        result = asyncio.run(
            child_start(args.child, args.child_packs, args.child_db, args.child_api, args.child_gateway)
        )
        print(json.dumps(result))
        return

    quick = args.quick
    args.dramas = args.dramas or (300 if quick else 2000)
    args.big_dramas = args.big_dramas or (2000 if quick else 20000)
    args.n = args.n or (200 if quick else 400)
    args.queries = args.queries or (1000 if quick else 5000)
    args.lookups = args.lookups or (1000 if quick else 5000)
    args.servers = args.servers or (1000 if quick else 10000)
    args.progress_rows = args.progress_rows or (10000 if quick else 100000)
    if quick:
        args.rounds = min(args.rounds, 1)
        args.starts = min(args.starts, 1)
        args.fuzzy_lookups = min(args.fuzzy_lookups, 100)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}

    started = time.perf_counter()
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": sys.platform},
        "code": code_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "targets": TARGETS,
    }
    if "a" in parts:
        report["a"] = asyncio.run(run_part_a(args))
        print_part_a(report["a"])
    if "b" in parts:
        report["b"] = run_part_b(args)
        print_part_b(report["b"])
    if "c" in parts:
        report["c"] = run_part_c(args)
        print_part_c(report["c"])
    report["wall_s"] = round(time.perf_counter() - started, 1)
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(
        f"\n(total {report['wall_s']} s; code {report['code']}; {os.cpu_count()} CPUs; load average "
        f"{report['load_average_at_start'][0]} at start, {report['load_average_at_end'][0]} at end)"
    )
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
