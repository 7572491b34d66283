"""Lookups at catalog scale: /recap, /who and autocomplete through the sandbox, the search index in
process, and start to ready. Three benches in one script (each stores its own record):

  lookups  Through the sandbox, a generated catalog of 2,000 dramas / 40,000 characters (passed to the
           bot preloaded: the lookup path is the running bot's), over a copy of the 10,000-server state
           (bench/state.py) whose first server is the sandbox's: it follows 100 of the dramas, with a
           thread, two recap links and (every third episode) an approved community recap per episode.
           Lines: `/recap SLUG EP` (half on those followed dramas), `/who NAME` (names that resolve to one
           character, half with `drama:`), and autocomplete of `/recap drama:` and `/who name:`. Floors in
           the same run, one after each round of the real bot: a bare discord.py bot (bench/floor.py)
           answering every measured line with exactly what the real bot answered it (the same content
           and embeds, the same autocomplete choices: the same transport work). Every answer
           is checked: the recap names the episode and shows exactly the server's thread, recap links and
           community recaps; the card names the character; autocomplete answers at most 25 valid choices
           (25 for an empty query). The first lines after start are reported apart (cold). At the end of
           each round a moderator adds a drama with `/catalog add` (the sandbox's TVmaze fixture):
           from the pick to the "Added" message, then `/drama`, `/recap` and `/who` must answer for it.
  index    In process, 20,000 dramas and ~400,000 names: the search index's build time and memory, then
           `complete()` over what people type (prefixes, typos, Hangul, empty) and `lookup()`.
  startup  Start to ready in a fresh process: 2,000 dramas as TOML packs on disk and the 10,000-server
           state, the sandbox in this process, the bot alone in a `python` child connecting over
           loopback. Cold (a fresh database: every pack compiled), warm (the same database again), and
           after one pack was edited; the floor is the bare discord.py bot, which imports nothing else.
           The bot's modules are compiled to bytecode first, as an installed bot's are.

    python bench/lookups.py                      # all three (~4 min on this 2-core machine)
    python bench/lookups.py --parts lookups      # one of them (lookups ~1 min, index ~2 min, startup ~50 s)
    python bench/lookups.py --parts startup --dramas 20000 --characters 16 --record startup_20k   # ~9 min
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import cProfile
import gc
import io
import json
import logging
import pickle
import pstats
import random
import re
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
# Only the standard library at import time: the start-up child imports just what the bot needs.

SANDBOX_TOKEN = "sandbox.token.not-a-real-discord-token"  # as bot/sandbox/harness.py (not imported here)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rss_kb(field: str = "VmRSS") -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def maxrss_kb() -> int:
    """Peak RSS of this process (VmHWM: ru_maxrss would survive fork+exec and report a parent's peak)."""
    return rss_kb("VmHWM")


def ms_summary(values: list[float], digits: int = 3) -> dict[str, Any]:
    from common import percentile

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


# ================================================================================================
# lookups: through the sandbox
# ================================================================================================
def embed_text(response: dict[str, Any] | None) -> str:
    if not response:
        return ""
    parts = [response.get("content") or ""]
    for embed in response.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields") or []]
    return "\n".join(parts)


def recap_check(catalog: Any, manifest: dict[str, Any], slug: str, episode: int) -> Any:
    expected = manifest["episodes"].get(f"{slug}:{episode}", {"thread": None, "links": [], "community": []})
    title = catalog.dramas[slug].title
    synopsis = catalog.dramas[slug].episode(episode).synopsis
    # The synopsis is read from the database for the answer: its opening words must be in it.
    opening = synopsis[:40].rsplit(" ", 1)[0] if synopsis else "No synopsis for this episode yet."

    def check(result: dict[str, Any]) -> bool:
        text = embed_text(result.get("response"))
        threads = set(re.findall(r"<#(\d+)>", text))
        return (
            f"Episode {episode}" in text
            and opening in text
            and title.split(" ")[0] in text
            and threads == ({str(expected["thread"])} if expected["thread"] else set())
            and all(url in text for url in expected["links"])
            and (expected["links"] or "No recap links yet." in text)
            and all(name in text for name in expected["community"])
        )

    return check


def who_check(name: str) -> Any:
    def check(result: dict[str, Any]) -> bool:
        response = result.get("response") or {}
        return bool(response.get("embeds")) and name in embed_text(response)

    return check


def choices_check(valid: Any, typed: str) -> Any:
    def check(result: dict[str, Any]) -> bool:
        choices = (result.get("result") or {}).get("choices")
        if not isinstance(choices, list) or len(choices) > 25:
            return False
        if typed == "" and len(choices) != 25:
            return False
        return all(valid(str(c.get("value"))) for c in choices)

    return check


async def measure_lines(
    sandbox: Any, lines: list[tuple[str, Any]], checker: Any, cold: int = 0, kept: list[Any] | None = None
) -> tuple[list[float], list[float]]:
    """(cold samples, warm samples): each line run once, in order; every answer checked (and, with
    `kept`, every result kept there, in order)."""
    samples: list[float] = []
    interactions = sandbox.world.interactions
    for line, check in lines:
        result = await sandbox.run_line(line)
        if kept is not None:
            kept.append(result)
        record = next(reversed(interactions.values()))
        ok = result.get("error") is None and record.answered_at is not None and check(result)
        if checker.check(ok, f"{line!r}: {result.get('error') or embed_text(result.get('response'))[:120]}"):
            samples.append((record.answered_at - record.sent_at) * 1000)
    if not samples:
        checker.fail_now_if_wrong()
    return samples[:cold], samples[cold:]


def replay_lines(kept: dict[str, list[dict[str, Any]]], floor_of: dict[str, str]) -> dict[str, list[tuple[str, Any]]]:
    """The floor's lines: each answers exactly what the real bot answered a measured line with (the same
    content and embeds, or the same autocomplete choices), built into discord.py objects here, before
    any timing. Every floor answer is checked against the real one."""
    import discord
    import floor
    from discord import app_commands

    floor.REPLIES.clear()
    floor.REPLY_CHOICES.clear()
    out: dict[str, list[tuple[str, Any]]] = {}
    for kind, results in kept.items():
        replayed: list[tuple[str, Any]] = []
        for result in results:
            if kind.startswith("ac-"):
                choices = (result.get("result") or {}).get("choices") or []
                floor.REPLY_CHOICES.append([app_commands.Choice(name=c["name"], value=c["value"]) for c in choices])
                values = [c["value"] for c in choices]
                line = f":type /floorchoices i:{len(floor.REPLY_CHOICES) - 1} choice:x"

                def same_choices(r: dict[str, Any], want: list[Any] = values) -> bool:
                    return [c.get("value") for c in (r.get("result") or {}).get("choices") or []] == want

                replayed.append((line, same_choices))
            else:
                response = result.get("response") or {}
                embeds = [discord.Embed.from_dict(e) for e in response.get("embeds") or []]
                floor.REPLIES.append((response.get("content") or None, embeds, bool(response.get("ephemeral"))))
                text = embed_text(response)

                def same_reply(r: dict[str, Any], want: str = text) -> bool:
                    return embed_text(r.get("response")) == want

                replayed.append((f"/floorreply i:{len(floor.REPLIES) - 1}", same_reply))
        out[floor_of[kind]] = replayed
    return out


async def count_round_trips(sandbox_cls: Any, factory: Any, db: Path, lines: dict[str, list[str]]) -> dict[str, float]:
    """aiosqlite thread round trips per line (each a hop to the database thread and back), counted in a
    separate pass by wrapping aiosqlite's Connection._execute (not during the timing)."""
    from aiosqlite import core

    original = core.Connection._execute
    count = [0]

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return await original(self, fn, *args, **kwargs)

    out = {}
    async with sandbox_cls(db_path=db, now=datetime(2026, 11, 27, tzinfo=UTC), bot_factory=factory) as sandbox:
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


def in_process_breakdown(
    catalog: Any, lookups: Any, manifest: dict[str, Any], lines: dict[str, list[Any]]
) -> dict[str, Any]:
    """What a line's handler costs without Discord and without the database, called directly: the
    search, and building the reply (bot/ui). Medians and p99 in ms over the measured inputs."""
    from common import summary

    from bot.answers import CharacterCard, RecapAnswer
    from bot.ui.lookups import recap_reply, who_embed

    def timed(calls: list[Any]) -> dict[str, float]:
        samples = []
        for call in calls:
            started = time.perf_counter_ns()
            call()
            samples.append((time.perf_counter_ns() - started) / 1e6)
        return summary(samples)

    recaps = []
    for line, _ in lines["recap"][:400]:
        _, slug, episode = line.split()
        drama = catalog.dramas[slug]
        ep = drama.episode(int(episode))
        shown = manifest["episodes"].get(f"{slug}:{episode}", {"thread": None, "links": []})
        answer = RecapAnswer(
            drama=drama, episode=ep, guessed_from=None, aired=True, plain=False, thread_id=shown["thread"],
            links=[(f"{slug} recap", url, "Example Recaps") for url in shown["links"]], community=[],
        )  # fmt: skip
        recaps.append((slug, int(episode), answer))
    cards = []
    for drama in list(catalog.dramas.values())[:400]:
        character = next(iter(drama.characters.values()))
        cards.append(CharacterCard(catalog, drama, character, 0, False))
    return {
        "recap_search": timed([lambda s=s, e=e: lookups.episode(lookups.drama(s).drama, e) for s, e, _ in recaps]),
        "recap_render": timed([lambda a=a: recap_reply(a) for _, _, a in recaps]),
        "who_render": timed([lambda c=c: who_embed(c) for c in cards]),
        "ac_drama_search": timed(
            [
                lambda t=t: lookups.drama_choices(t)
                for t in dict.fromkeys(shlex.split(x)[-1].partition(":")[2] for x, _ in lines["ac-drama"][:400])
            ]
        ),
        "ac_who_search": timed(
            [
                lambda t=t: lookups.who_choices(t, "")
                for t in dict.fromkeys(shlex.split(x)[-1].partition(":")[2] for x, _ in lines["ac-who"][:400])
            ]
        ),
    }


async def catalog_add(sandbox: Any, checker: Any) -> float:
    """Seconds from a moderator's pick in `/catalog add`'s list to the bot's "Added" message; then the
    new drama must answer `/drama`, `/recap` and `/who` at once (no restart)."""
    results = [await sandbox.run_line(":as mod"), await sandbox.run_line('/catalog add query:"moonlight courier"')]
    started = time.perf_counter()
    picked = await sandbox.run_line(":pick Moonlight Courier (2026)")
    took = time.perf_counter() - started
    said = "\n".join(embed_text(x) for x in [picked.get("response"), *(picked.get("followups") or [])])
    checker.check("Added **Moonlight Courier**" in said, f"/catalog add: {said[:200]!r}")
    drama = embed_text((await sandbox.run_line("/drama drama:moonlight-courier")).get("response"))
    recap = embed_text((await sandbox.run_line("/recap drama:moonlight-courier episode:1")).get("response"))
    who = embed_text((await sandbox.run_line('/who name:"Han Seo-yun"')).get("response"))
    checker.check("Episodes (12)" in drama, f"/drama after /catalog add: {drama[:200]!r}")
    checker.check("Moonlight Courier · Episode 1" in recap, f"/recap after /catalog add: {recap[:200]!r}")
    checker.check("Baek Dal-im" in who, f"/who after /catalog add: {who[:200]!r}")
    results.append(await sandbox.run_line(":as member"))
    checker.check(all(r.get("error") is None for r in results), f"/catalog add: {[r.get('error') for r in results]}")
    return took


async def store_texts(path: Path, texts: list[tuple[str, Any]]) -> None:
    """The synopses into the bench's database, as a start that compiled the packs leaves them."""
    from bot.storage import Database
    from bot.storage.catalog import CatalogRepo

    db = await Database.open(path)
    try:
        await db.migrate()
        await CatalogRepo(db).save_texts(texts)
    finally:
        await db.close()


async def run_lookups(args: argparse.Namespace) -> None:
    from catalog_gen import GenConfig, build_catalog, catalog_stats
    from common import Checker, finish, summary, table
    from floor import bare_bot
    from state import BASE, state_copy

    from bot.catalog import Catalog, CatalogIndex
    from bot.catalog.search import normalise
    from bot.catalog.texts import split_texts
    from bot.client import Dramawatch
    from bot.lookups import Lookups
    from bot.sandbox.harness import Sandbox

    logging.basicConfig(level=logging.ERROR)
    checker = Checker()
    rng = random.Random(11)
    log(f"lookups: building the catalog in memory ({args.dramas} dramas × {args.characters} characters)")
    catalog = build_catalog(GenConfig(args.dramas, characters=args.characters))
    started = time.perf_counter()
    index = CatalogIndex(catalog)
    index_s = time.perf_counter() - started
    lookups = Lookups(catalog, index)
    # The bot holds its dramas as bot/catalog/texts.py makes them — synopses in the database, read
    # when an answer shows one, characters' texts compressed — and so does the bot measured here.
    split = {slug: split_texts(d) for slug, d in catalog.dramas.items()}
    running = Catalog({slug: slim for slug, (slim, _rows) in split.items()}, catalog.people)
    texts = [(slug, rows) for slug, (_slim, rows) in split.items()]
    dramas = [(d.slug, d.episode_count) for d in catalog.dramas.values()]
    n, cold = args.n, args.cold
    total = (n + cold) * args.rounds
    with tempfile.TemporaryDirectory() as tmp:
        manifest = await state_copy(Path(tmp) / "state.db", dramas)
        followed = sorted({key.split(":")[0] for key in manifest["episodes"]})
        slugs = list(catalog.dramas)
        lines: dict[str, list[tuple[str, Any]]] = {"recap": [], "who": [], "ac-drama": [], "ac-who": []}
        for i in range(total):
            slug = rng.choice(followed) if i % 2 == 0 else rng.choice(slugs)
            episode = rng.randint(1, catalog.dramas[slug].episode_count)
            lines["recap"].append((f"/recap {slug} {episode}", recap_check(catalog, manifest, slug, episode)))
        distinct_who = who_inputs(catalog, lookups, min(total, 600), rng)
        for i in range(total):
            name, slug = distinct_who[i % len(distinct_who)]
            shown = name if not re.search(r"[\uac00-\ud7a3]", name) else ""
            line = f"/who name:{shlex.quote(name)}" + (f" drama:{slug}" if slug else "")
            lines["who"].append((line, who_check(shown) if shown else who_check("")))
        drama_typed, who_typed = autocomplete_inputs(catalog, total, rng)
        lines["ac-drama"] = [
            (f":type /recap drama:{shlex.quote(t)}", choices_check(lambda v: v in catalog.dramas, t))
            for t in drama_typed
        ]
        lines["ac-who"] = [
            (f":type /who name:{shlex.quote(t)}", choices_check(lambda v: lookups.target(v) is not None, t))
            for t in who_typed
        ]

        fresh: list[Any] = [index]

        def factory(settings: Any, clock: Any) -> Any:
            # An index as a start reads it from the database: nothing of an earlier round in memory.
            return Dramawatch(settings, clock=clock, catalog=(running, fresh[0]), guild_ready_timeout=0.05)

        floor_of = {kind: f"floor-{kind}" for kind in lines}
        adds: list[float] = []
        samples: dict[str, list[float]] = {k: [] for k in [*lines, *floor_of.values()]}
        colds: dict[str, list[float]] = {k: [] for k in [*lines, *floor_of.values()]}
        for round_ in range(args.rounds):
            part = slice(round_ * (n + cold), (round_ + 1) * (n + cold))
            log(f"lookups: round {round_ + 1}/{args.rounds}: real")
            db = Path(tmp) / f"real{round_}.db"
            await state_copy(db, dramas)
            await store_texts(db, texts)
            fresh[0] = pickle.loads(pickle.dumps(index))  # noqa: S301 - our own object
            kept: dict[str, list[dict[str, Any]]] = {kind: [] for kind in lines}
            async with Sandbox(db_path=db, now=BASE, bot_factory=factory) as sandbox:
                for kind, kind_lines in lines.items():
                    first, rest = await measure_lines(sandbox, kind_lines[part], checker, cold, kept[kind])
                    colds[kind] += first
                    samples[kind] += rest
                adds.append(await catalog_add(sandbox, checker))
            log(f"lookups: round {round_ + 1}/{args.rounds}: floor (replaying the real bot's answers)")
            floor_lines = replay_lines(kept, floor_of)
            async with Sandbox(db_path=Path(tmp) / f"floor{round_}.db", now=BASE, bot_factory=bare_bot) as sandbox:
                for kind, kind_lines in floor_lines.items():
                    first, rest = await measure_lines(sandbox, kind_lines, checker, cold)
                    colds[kind] += first
                    samples[kind] += rest
        log("lookups: counting database round trips per line (separate pass)")
        db = Path(tmp) / "count.db"
        await state_copy(db, dramas)
        trips = await count_round_trips(Sandbox, factory, db, {k: [x for x, _ in v] for k, v in lines.items()})
    # Searches timed once per distinct input, on a copy of the index that has answered nothing yet.
    parts = in_process_breakdown(catalog, Lookups(catalog, pickle.loads(pickle.dumps(index))), manifest, lines)  # noqa: S301
    repeats = {}
    for kind in ("ac-drama", "ac-who"):
        typed = [normalise(shlex.split(x)[-1].partition(":")[2]) for x, _ in lines[kind]]
        rounds = [typed[r * (n + cold) : (r + 1) * (n + cold)] for r in range(args.rounds)]
        repeats[kind] = round(sum(len(t) - len(set(t)) for t in rounds) / len(typed), 3)
    figures: dict[str, Any] = {
        "dramas": len(catalog.dramas),
        "characters": catalog_stats(catalog)["characters"],
        "servers": manifest["servers"],
        "index_build_s": round(index_s, 2),
        "catalog_add_s": round(max(adds), 3),
        "catalog_add_all_s": [round(x, 3) for x in adds],
    }
    for part, row in parts.items():
        figures[f"{part}_median_ms"] = row["median"]
        figures[f"{part}_p99_ms"] = row["p99"]
    rows = []
    names = {
        "recap": "/recap SLUG EP",
        "who": "/who NAME [drama]",
        "ac-drama": "autocomplete /recap drama:",
        "ac-who": "autocomplete /who name:",
    }
    for kind in lines:
        row, base = summary(samples[kind]), summary(samples[floor_of[kind]])
        ratio = round(row["median"] / base["median"], 2)
        key = kind.replace("-", "_")
        figures[f"{key}_floor_median_ms"] = base["median"]
        figures[f"{key}_floor_p99_ms"] = base["p99"]
        figures[f"{key}_median_ms"] = row["median"]
        figures[f"{key}_p99_ms"] = row["p99"]
        figures[f"{key}_median_ratio"] = ratio
        figures[f"{key}_cold_median_ms"] = round(statistics.median(colds[kind]), 3) if colds[kind] else None
        figures[f"{key}_db_trips"] = trips.get(kind)
        if kind in repeats:
            figures[f"{key}_repeated_share"] = repeats[kind]
        for label, values, first, shown_ratio, trip in (
            (f"floor: {names[kind]}'s answers replayed", samples[floor_of[kind]], colds[floor_of[kind]], 1.0, "—"),
            (names[kind], samples[kind], colds[kind], ratio, trips.get(kind, "—")),
        ):
            measured = summary(values)
            cold_row = summary(first) if first else None
            rows.append([label, measured["median"], measured["p95"], measured["p99"], measured["max"], shown_ratio,
                         cold_row["median"] if cold_row else "—", trip])  # fmt: skip
    targets = {
        "recap_median_ratio": {"max": 1.5},
        "recap_p99_ms": {"max": 5.0},
        "who_median_ratio": {"max": 1.5},
        "who_p99_ms": {"max": 5.0},
        "ac_drama_median_ratio": {"max": 1.3},
        "ac_drama_p99_ms": {"max": 3.0},
        "ac_who_median_ratio": {"max": 1.3},
        "ac_who_p99_ms": {"max": 3.0},
        "catalog_add_s": {"max": 2.0},
    }
    notes = [
        f"`/catalog add` to usable, on the running bot with the {len(catalog.dramas):,} dramas: "
        f"{figures['catalog_add_s']} s at most over the rounds ({figures['catalog_add_all_s']}): from a "
        "moderator's pick in the list (the sandbox's TVmaze fixture on loopback answering) to the bot's "
        '"Added" message, with `/drama`, `/recap` and `/who` then checked to answer for the new drama.',
        f"`/recap` {figures['recap_median_ratio']}× the floor's median, p99 {figures['recap_p99_ms']} ms, "
        f"{figures['recap_db_trips']} database round trips per line; `/who` {figures['who_median_ratio']}×, "
        f"p99 {figures['who_p99_ms']} ms ({figures['who_db_trips']} trips).",
        f"Autocomplete: drama {figures['ac_drama_median_ratio']}× its floor (p99 "
        f"{figures['ac_drama_p99_ms']} ms), name {figures['ac_who_median_ratio']}× "
        f"(p99 {figures['ac_who_p99_ms']} ms).",
        "An index keeps its last 4,096 answers to autocomplete without a `drama:` filter (an index never "
        f"changes once built): in this run {figures['ac_drama_repeated_share']:.0%} of the drama lines and "
        f"{figures['ac_who_repeated_share']:.0%} of the name lines repeated what was typed earlier in the same "
        "round and were answered from them; every real round starts from an index that has answered nothing, "
        "and the in-process search figures below time each distinct input once, unkept.",
        f"The search index for {len(catalog.dramas):,} dramas was built in {figures['index_build_s']} s here "
        "(the bot reuses a stored one while the packs are unchanged: see `startup`).",
    ]
    notes.append(
        "Where the time over the floor goes (in process, no Discord, no database): building the `/recap` reply "
        f"(bot/ui) {figures['recap_render_median_ms']} ms median, its search {figures['recap_search_median_ms']} ms; "
        f"the `/who` card {figures['who_render_median_ms']} ms; autocomplete search: drama "
        f"{figures['ac_drama_search_median_ms']} ms median / {figures['ac_drama_search_p99_ms']} ms p99, name "
        f"{figures['ac_who_search_median_ms']} / {figures['ac_who_search_p99_ms']} ms. The rest is the command "
        "tree's work before and after (option parsing, checks, error handling) and the database trip; the "
        "floor sends the same reply, so neither the reply's size nor the sandbox's checking of it is in the "
        f"ratio. The floor's own p99 (/recap's: {figures['recap_floor_p99_ms']} ms) shows how much the "
        "machine's load moved the tails in this run."
    )
    notes.append(
        f"Database trips per line: `/recap` {figures['recap_db_trips']} (its one statement, `Feeds.recap_sources`: "
        "progress, threads, feed links, community recaps and the episode's synopsis, which the bot holds in the "
        f"database rather than in memory: bot/catalog/texts.py), `/who` {figures['who_db_trips']} (the "
        "character's description and facts are unpacked from the drama's compressed block in memory, about "
        "12 µs; the member's progress, which decides the facts shown, is read once per member and kept: "
        "bot/storage/progress.py). The check after every command for review outcomes a member has not heard "
        "is a lookup in memory (bot/community.py), not a trip."
    )
    finish(
        "lookups",
        figures=figures,
        targets=targets,
        checker=checker,
        title="/recap, /who and autocomplete through the sandbox, 2,000 dramas",
        how=__doc__.split("  index ")[0].split("process, and start to ready.")[1].strip(),
        notes=notes,
        tables=[
            table(
                "Latency through the sandbox, ms (warm; the first lines after each start are the cold column)",
                ["line", "median", "p95", "p99", "max", "× floor median", "cold median", "DB trips/line"],
                rows,
            )
        ],
    )


# ================================================================================================
# index: the search index in process
# ================================================================================================
def complete_queries(catalog: Any, count: int, rng: random.Random, who: bool) -> list[tuple[str, str, str]]:
    """(category, typed text, what was meant): 60 % prefixes of 1–6 characters, 15 % typos (one slip in a
    prefix of 4–8 characters), 15 % Hangul, 10 % empty. What was meant is the text without the slip."""
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
            out.append(("empty", "", ""))
        elif roll < 0.25 and korean:
            text = korean[: rng.randint(1, 3)]
            if rng.random() < 0.25:  # a syllable still being composed: a bare jamo at the end
                text = text[:-1] + rng.choice("ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅎ") if len(text) > 1 else text
            out.append(("hangul", text, text))
        elif roll < 0.40:
            meant = typed_prefix(name, rng, 4, 8)
            out.append(("typo", typo(meant, rng), meant))
        else:
            text = typed_prefix(name, rng)
            out.append(("prefix", text, text))
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


def run_part_b(args: argparse.Namespace, checker: Any) -> dict[str, Any]:
    from catalog_gen import GenConfig, build_catalog, catalog_stats

    from bot.catalog import CatalogIndex
    from bot.catalog.search import normalise

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
            "drama_prefix_keys": len(index.dramas._ids),
            "who_prefix_keys": len(index.who._ids),
            "who_fuzzy_keys": len(index.who._fuzzy_keys),
        },
        "complete": {},
        "lookup": {},
    }
    watch = GCWatch().__enter__()
    for name, idx, who in (("drama", index.dramas, False), ("who", index.who, True)):
        queries = complete_queries(catalog, args.queries, rng, who)
        # The search itself: no answer kept between calls (the running bot keeps its last 4,096
        # unfiltered ones; the lookups bench says how many of its lines they answered).
        idx._answers.SIZE = 0
        for _category, text, _meant in [q for q in queries if q[0] != "empty"][:200]:  # warm-up
            idx.complete(text)
        # The empty query is the same call every time: time the first few, count them for its whole share.
        empties = [i for i, (category, *_) in enumerate(queries) if category == "empty"]
        replicated = set(empties[args.empty_cap :])
        measured = [q for i, q in enumerate(queries) if i not in replicated]
        if profiler is not None:
            profiler.enable()
        samples, results = time_calls(lambda q, idx=idx: idx.complete(q[1]), measured)
        if profiler is not None:
            profiler.disable()
        for (category, text, _meant), hits in zip(measured, results, strict=True):
            checker.check(
                len(hits) <= 25 and (category not in ("prefix", "empty") or bool(hits)),
                f"complete({text!r}) on the {name} index: {len(hits)} hits",
            )
        # Typo recall: a slip still offers what was meant — at least one of the completions of the text
        # without the slip (their share of those completions is the overlap).
        # The baseline, on the same queries: what complete() offered before it tried the texts one slip
        # away — prefix completions, else close spellings only (`fuzzy`, WRatio).
        typos = [(q, hits) for q, hits in zip(measured, results, strict=True) if q[0] == "typo"]
        found, overlap, found_before, overlap_before = 0, 0.0, 0, 0.0
        for (_category, text, meant), hits in typos:
            wanted = {h.target for h in idx.complete(meant)}
            shared = wanted & {h.target for h in hits}
            found += bool(shared)
            overlap += len(shared) / len(wanted) if wanted else 1.0
            key = normalise(text)
            before = [h for _o, h in idx.ranked_completions(key, 25)] or (
                idx.fuzzy(key, 25, cutoff=75, narrow=True) if len(key) >= 3 else []
            )
            shared = wanted & {h.target for h in before}
            found_before += bool(shared)
            overlap_before += len(shared) / len(wanted) if wanted else 1.0
        empty_samples = [ms for (category, *_), ms in zip(measured, samples, strict=True) if category == "empty"]
        for i in range(len(replicated)):
            samples.append(empty_samples[i % len(empty_samples)])
        by_category: dict[str, list[float]] = {}
        fuzzy_used = 0
        for (category, *_), ms in zip(measured + [("empty", "", "")] * len(replicated), samples, strict=True):
            by_category.setdefault(category, []).append(ms)
        for hits in results:
            fuzzy_used += any(h.how == "fuzzy" for h in hits)
        row = ms_summary(samples)
        row["empty_measured"] = len(empties) - len(replicated)
        row["mean_hits"] = round(statistics.mean(len(r) for r in results), 1)
        row["share_with_fuzzy_fallback"] = round(fuzzy_used / len(results), 3)  # of the measured calls
        row["by_category"] = {c: ms_summary(v) for c, v in sorted(by_category.items())}
        row["typo_recall"] = round(found / len(typos), 3) if typos else None
        row["typo_overlap"] = round(overlap / len(typos), 3) if typos else None
        row["typo_recall_close_spellings_only"] = round(found_before / len(typos), 3) if typos else None
        row["typo_overlap_close_spellings_only"] = round(overlap_before / len(typos), 3) if typos else None
        report["complete"][name] = row

        exact_q = lookup_queries(catalog, args.lookups, rng, who, fuzzy=False)
        fuzzy_q = lookup_queries(catalog, args.fuzzy_lookups, rng, who, fuzzy=True)
        log(f"part b: timing lookup() on the {name} index")
        samples, results = time_calls(lambda q, idx=idx: idx.lookup(q), exact_q)
        for query, hits in zip(exact_q, results, strict=True):
            checker.check(bool(hits), f"lookup({query!r}) on the {name} index found nothing")
        hows: dict[str, int] = {}
        for hits in results:
            how = hits[0].how if hits else "none"
            hows[how] = hows.get(how, 0) + 1
        exact_row = ms_summary(samples)
        exact_row["answered_by"] = hows
        samples, results = time_calls(lambda q, idx=idx: idx.lookup(q), fuzzy_q, budget_s=args.fuzzy_budget)
        hows = {}
        fuzzy_samples = []
        for ms, hits in zip(samples, results, strict=True):
            how = hits[0].how if hits else "none"
            hows[how] = hows.get(how, 0) + 1
            if how in ("fuzzy", "none"):
                fuzzy_samples.append(ms)
        typo_row = ms_summary(samples)
        typo_row["answered_by"] = hows
        if fuzzy_samples:
            typo_row["fuzzy_path_only"] = ms_summary(fuzzy_samples)
        report["lookup"][name] = {"exact_forms": exact_row, "typos": typo_row}
        if who:  # "/who kim": a bare surname is a given-name key shared by a fifth of all names
            surnames = [rng.choice(["Kim", "Lee", "Park", "Choi", "Hong", "Baek", "Tak"]) for _ in range(30)]
            samples, results = time_calls(lambda q, idx=idx: idx.lookup(q), surnames, budget_s=args.fuzzy_budget)
            surname_row = ms_summary(samples)
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


def index_figures(report: dict[str, Any]) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "dramas": report["catalog"]["dramas"],
        "names": report["catalog"]["names"],
        "index_build_s": report["index_build_s"],
        "index_rss_mb": report["index_rss_mb"],
        "peak_rss_mb": report["peak_rss_mb"],
    }
    for name, row in report["complete"].items():
        figures[f"complete_{name}_median_ms"] = row["median_ms"]
        figures[f"complete_{name}_p99_ms"] = row["p99_ms"]
        figures[f"complete_{name}_typo_recall"] = row["typo_recall"]
        figures[f"complete_{name}_typo_overlap"] = row["typo_overlap"]
        figures[f"complete_{name}_typo_recall_baseline"] = row["typo_recall_close_spellings_only"]
        figures[f"complete_{name}_typo_overlap_baseline"] = row["typo_overlap_close_spellings_only"]
        figures[f"complete_{name}_typo_recall_gain"] = round(
            row["typo_recall"] - row["typo_recall_close_spellings_only"], 3
        )
        for category, sub in row["by_category"].items():
            figures[f"complete_{name}_{category}_p99_ms"] = sub["p99_ms"]
    for name, rows in report["lookup"].items():
        figures[f"lookup_{name}_exact_p99_ms"] = rows["exact_forms"]["p99_ms"]
        figures[f"lookup_{name}_typo_p99_ms"] = rows["typos"]["p99_ms"]
    return figures


def run_index(args: argparse.Namespace) -> None:
    from common import Checker, finish

    checker = Checker()
    report = run_part_b(args, checker)
    figures = index_figures(report)
    targets = {
        "complete_drama_p99_ms": {"max": 5.0},
        "complete_who_p99_ms": {"max": 5.0},
        "complete_drama_typo_recall_gain": {"min": 0.0},
        "complete_who_typo_recall_gain": {"min": 0.0},
    }
    notes = [
        f"complete() p99: drama index {figures['complete_drama_p99_ms']} ms, who index "
        f"{figures['complete_who_p99_ms']} ms over {figures['names']:,} names (target ≤ 5 ms, stretch 2 ms); "
        f"index built in {figures['index_build_s']} s (+{figures['index_rss_mb']} MB).",
        "Typo recall: a typed prefix of 4–8 characters with one slip (a letter swapped, dropped, doubled or "
        "replaced, never the first) counts as recalled when its completions include at least one of the "
        "completions of the text without the slip (overlap: the share of those included). Names: "
        f"{figures['complete_who_typo_recall']:.0%} recalled, overlap {figures['complete_who_typo_overlap']:.0%}; "
        f"dramas: {figures['complete_drama_typo_recall']:.0%}, overlap {figures['complete_drama_typo_overlap']:.0%}. "
        "The baseline, on the same queries in this run, is what complete() did before it tried the texts one "
        "slip away (prefix completions, else close spellings only): names "
        f"{figures['complete_who_typo_recall_baseline']:.0%} / {figures['complete_who_typo_overlap_baseline']:.0%}, "
        f"dramas {figures['complete_drama_typo_recall_baseline']:.0%} / "
        f"{figures['complete_drama_typo_overlap_baseline']:.0%}. A slip that still leaves a prefix of other "
        'names ("kima" for "kimn") is completed as typed: no search can tell it was a slip.',
    ]
    finish(
        "index",
        figures=figures,
        targets=targets,
        checker=checker,
        title="The search index in process, 20,000 dramas / ~400,000 names",
        how="In process (no Discord, no database): the catalog generated in memory (names only), the "
        "product's `CatalogIndex` built from it, then `complete()` over 5,000 typed inputs per index "
        "(60 % prefixes of 1–6 characters, 15 % typos, 15 % Hangul, 10 % empty) and `lookup()` of exact "
        "forms and typos, each computed afresh (the index's memory of its last answers is off here). Every "
        "answer checked: at most 25 completions, some for a prefix or an empty query; every exact form found.",
        notes=notes,
    )


# ================================================================================================
# startup: start to ready, fresh processes
# ================================================================================================
async def child_start(kind: str, packs: Path, db: Path, api_base: str, gateway_url: str) -> dict[str, Any]:
    """In a fresh process: the bot alone (or the floor), connecting to the sandbox run by the parent.
    The floor imports discord.py and bench/floor.py only (nothing of the bot, nothing of the sandbox)."""
    logging.basicConfig(level=logging.ERROR)
    if kind == "floor":
        import discord
        import yarl
        from floor import bare_bot

        imported = time.time()
        discord.http.Route.BASE = api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
        bot: Any = bare_bot()
    else:
        from bot.client import Dramawatch, apply_endpoints
        from bot.settings import Settings

        imported = time.time()
        settings = Settings(
            token=SANDBOX_TOKEN, database_path=db, log_level="WARNING", api_base=api_base, gateway_url=gateway_url,
            catalog_path=packs,
        )  # fmt: skip
        apply_endpoints(settings)
        bot = Dramawatch(settings, guild_ready_timeout=0.05)
    ready_at: list[float] = []
    ready = asyncio.Event()

    async def on_ready() -> None:
        if not ready_at:
            ready_at.extend([time.time(), rss_kb(), maxrss_kb()])
            ready.set()

    bot.add_listener(on_ready, "on_ready")
    await bot.login(SANDBOX_TOKEN)
    task = asyncio.create_task(bot.connect(reconnect=False))
    await asyncio.wait_for(ready.wait(), 600)
    result = {"kind": kind, "imports_done_epoch": imported, "ready_epoch": ready_at[0],
              "rss_at_ready_kb": ready_at[1], "peak_rss_kb": ready_at[2]}  # fmt: skip
    if kind != "floor":
        result["dramas_loaded"] = len(bot.catalog)
    await bot.close()
    await asyncio.wait({task}, timeout=5)
    return result


async def spawn_start(kind: str, packs: Path, db: Path) -> dict[str, Any]:
    from bot.sandbox.server import SandboxServer
    from bot.sandbox.world import World
    from bot.scheduling import ManualClock

    server = SandboxServer(World(ManualClock(datetime(2026, 11, 27, tzinfo=UTC))))
    await server.start()
    try:
        spawned = time.time()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--child", kind, "--child-packs", str(packs), "--child-db", str(db),
            "--child-api", server.api_base, "--child-gateway", server.gateway_url,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 900)
    finally:
        await server.stop()
    if proc.returncode != 0:
        raise SystemExit(f"the {kind} child failed:\n{err.decode()[-3000:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    result["process_to_ready_s"] = round(result.pop("ready_epoch") - spawned, 3)
    result["process_to_imports_s"] = round(result.pop("imports_done_epoch") - spawned, 3)
    return result


def character_blocks(catalog: Any) -> tuple[int, int]:
    """(compressed, raw) bytes of the dramas' character blocks, as the running bot holds them."""
    import zlib

    from bot.catalog.texts import split_texts

    packed = [split_texts(d)[0].character_texts for d in catalog.dramas.values()]
    return sum(map(len, packed)), sum(len(zlib.decompress(b)) for b in packed if b)


async def run_startup_async(args: argparse.Namespace) -> None:
    from catalog_gen import GenConfig, catalog_stats, write_packs
    from common import Checker, finish, met_of, table
    from state import shift_jobs, state_copy

    checker = Checker()
    with tempfile.TemporaryDirectory(prefix="dramawatch-bench-") as tmp:
        packs = Path(tmp) / "packs"
        # The bot's modules as an installed bot has them, compiled to bytecode (pip compiles at install;
        # a source checkout under PYTHONDONTWRITEBYTECODE, as on the benchmark machine, would compile
        # them again at every start, which is not the bot's cost). The floor's discord.py is compiled.
        for folder in ("bot", "cogs"):
            compileall.compile_dir(ROOT / folder, quiet=1)
        log(f"startup: writing {args.dramas} packs")
        files = await asyncio.to_thread(write_packs, packs, GenConfig(args.dramas, characters=args.characters))
        packs_mb = round(sum(f.stat().st_size for f in files) / 1e6, 1)
        db = Path(tmp) / "state.db"
        from catalog_gen import build_catalog

        catalog = await asyncio.to_thread(build_catalog, GenConfig(args.dramas, characters=args.characters))
        blocks = await asyncio.to_thread(character_blocks, catalog)
        stats = catalog_stats(catalog)
        manifest = await state_copy(db, [(d.slug, d.episode_count) for d in catalog.dramas.values()])
        await shift_jobs(db, int(time.time() * 1000))  # the bot runs on the system clock
        del catalog
        runs: dict[str, dict[str, Any]] = {}
        log("startup: floor bot (discord.py only)")
        runs["floor"] = await spawn_start("floor", packs, Path(tmp) / "floor.db")
        log("startup: real bot, cold (every pack compiled into a fresh database)")
        runs["cold"] = await spawn_start("real", packs, db)
        for i in range(args.warm):
            log(f"startup: real bot, warm {i + 1}/{args.warm}")
            runs[f"warm{i}"] = await spawn_start("real", packs, db)
        edited = files[len(files) // 2]
        text = edited.read_text(encoding="utf-8")
        edited.write_text(text.replace('synopsis = "', 'synopsis = "(edited) ', 1), encoding="utf-8")
        log("startup: real bot after one pack edit")
        runs["edited"] = await spawn_start("real", packs, db)
    for name, run in runs.items():
        if name != "floor":
            checker.check(run.get("dramas_loaded") == args.dramas, f"{name}: {run.get('dramas_loaded')} dramas loaded")
    warm = [runs[f"warm{i}"] for i in range(args.warm)]
    warm_s = statistics.median(r["process_to_ready_s"] for r in warm)
    figures: dict[str, Any] = {
        "dramas": args.dramas,
        "packs_mb": packs_mb,
        "servers": manifest["servers"],
        "database_mb": manifest["mb"],
        "floor_ready_s": runs["floor"]["process_to_ready_s"],
        "floor_peak_rss_mb": round(runs["floor"]["peak_rss_kb"] / 1024, 1),
        "cold_ready_s": runs["cold"]["process_to_ready_s"],
        "cold_peak_rss_mb": round(runs["cold"]["peak_rss_kb"] / 1024, 1),
        "warm_ready_s": round(warm_s, 3),
        "warm_ready_all_s": [r["process_to_ready_s"] for r in warm],
        "warm_peak_rss_mb": round(max(r["peak_rss_kb"] for r in warm) / 1024, 1),
        "edited_ready_s": runs["edited"]["process_to_ready_s"],
        "edited_peak_rss_mb": round(runs["edited"]["peak_rss_kb"] / 1024, 1),
        "warm_imports_s": round(statistics.median(r["process_to_imports_s"] for r in warm), 3),
        "names": stats["names"],
        "character_blocks_mb": round(blocks[0] / 1e6, 1),
        "character_blocks_ratio": round(blocks[1] / blocks[0], 1),
        "character_blocks_mb_at_2_4x": round(blocks[1] / 2.4 / 1e6, 1),
    }
    big = args.dramas >= 20_000  # the second scale: ≤ 3 s and ≤ 500 MB, the start after an edit included
    seconds, megabytes = (3.0, 500.0) if big else (1.5, 200.0)
    targets = {
        "warm_ready_s": {"max": seconds},
        "edited_ready_s": {"max": seconds},
        "warm_peak_rss_mb": {"max": megabytes},
        "edited_peak_rss_mb": {"max": megabytes},
    }
    if not big:  # at 2,000 dramas the very first start is held to the same (it is not: see the notes)
        targets |= {"cold_ready_s": {"max": seconds}, "cold_peak_rss_mb": {"max": megabytes}}
    names = figures["names"]
    notes = [
        f"Process start to ready with {args.dramas:,} packs and {manifest['servers']:,} servers of state: cold "
        f"{figures['cold_ready_s']} s, warm {figures['warm_ready_s']} s, after one pack edit "
        f"{figures['edited_ready_s']} s; the floor (discord.py alone) {figures['floor_ready_s']} s (the machine's "
        "own speed: compare runs on different machines through it).",
        "The design (docs/architecture.md, The live catalog): each pack compiled once into the database; a start "
        "parses only changed packs and reuses the stored search index, with the changed dramas in a small "
        "overlay index. 'Cold' here is the very first start on a fresh database (every pack parsed and the "
        "index built); the target's cold start is the start after one pack edit ('edited').",
        "Memory: the dramas are held without their synopses (table catalog_texts, read when an answer shows "
        "one) and with their characters' descriptions and facts in one zlib block per drama (unpacked for a "
        "`/who` card); each pack's repeated names and slugs are one object and people are held once, not once "
        "per pack; the search index holds numbered targets, its labels as text blocks and each key's targets as "
        "runs of numbers in arrays; the compiled packs are read a page of 100 at a time and the stored index "
        "before them, so "
        "their bytes never add to the peak (at 2,000 dramas it was 315 MB before these changes). The generated "
        f"texts compress better than real ones (the character blocks here {figures['character_blocks_ratio']}×, "
        f"{figures['character_blocks_mb']} MB; the shipped packs' 2.4×): with real texts of the same length they "
        f"would take about {figures['character_blocks_mb_at_2_4x']} MB. The first start on a fresh database "
        f"parses every pack and writes their synopses, once ({figures['cold_ready_s']} s here).",
    ]
    missed = [key for key, ok in met_of(figures, targets).items() if not ok]
    if missed:
        notes.append(
            f"Missed here: {', '.join(f'`{key}`' for key in missed)}. "
            + (
                "At this scale the dramas themselves, as Python objects (about 230 per drama), are what fill "
                "the memory and most of the start's time (reading them back); the search index no longer does "
                "(numbered targets, text blocks and arrays: docs/architecture.md; the peak was 1,013 MB with an "
                "index of dicts). The next step is to keep the compiled dramas as bytes and decode a drama when "
                "first asked for, with the people and the cast held apart for the roles."
                if big
                else "See docs/architecture.md, The live catalog."
            )
        )
    finish(
        args.record,
        figures=figures,
        targets=targets,
        checker=checker,
        title=f"Start to ready, {args.dramas:,} dramas ({names:,} names) + 10,000 servers",
        how=__doc__.split("  startup  ")[1].split("\n\n")[0].strip().replace("2,000", f"{args.dramas:,}"),
        notes=notes,
        tables=[
            table(
                "Start to ready (fresh process each)",
                ["start", "process → ready s", "imports s", "RSS at ready MB", "peak RSS MB"],
                [
                    [
                        name,
                        r["process_to_ready_s"],
                        r["process_to_imports_s"],
                        round(r["rss_at_ready_kb"] / 1024, 1),
                        round(r["peak_rss_kb"] / 1024, 1),
                    ]
                    for name, r in runs.items()
                ],
            )  # fmt: skip
        ],
    )


# ================================================================================================
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="lookups,index,startup", help="which benches, e.g. lookups,startup")
    parser.add_argument("--dramas", type=int, default=2000, help="dramas for lookups and startup")
    parser.add_argument("--characters", type=int, default=20, help="characters per drama (lookups, startup)")
    parser.add_argument("--big-dramas", type=int, default=20000, help="dramas for index")
    parser.add_argument("--big-characters", type=int, default=16, help="characters per drama in index")
    parser.add_argument("--big-people-per-drama", type=float, default=4.1, help="actor pool per drama in index")
    parser.add_argument("--n", type=int, default=400, help="measured lines per kind per round (lookups)")
    parser.add_argument("--cold", type=int, default=20, help="first lines per kind after a start, reported apart")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--queries", type=int, default=5000, help="complete() queries per index")
    parser.add_argument("--lookups", type=int, default=5000, help="exact lookup() queries per index")
    parser.add_argument("--fuzzy-lookups", type=int, default=300, help="typo lookup() queries per index")
    parser.add_argument("--fuzzy-budget", type=float, default=6.0, help="seconds at most for typo lookups per index")
    parser.add_argument("--empty-cap", type=int, default=5, help="times the (identical) empty query is timed")
    parser.add_argument("--warm", type=int, default=2, help="warm starts (startup)")
    parser.add_argument("--record", default="startup", help="the name startup's record is stored under")
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["real", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--child-packs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-api", help=argparse.SUPPRESS)
    parser.add_argument("--child-gateway", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = asyncio.run(child_start(args.child, args.child_packs, args.child_db, args.child_api,
                                         args.child_gateway))  # fmt: skip
        print(json.dumps(result))
        return
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if "lookups" in parts:
        asyncio.run(run_lookups(args))
    if "index" in parts:
        run_index(args)
    if "startup" in parts:
        asyncio.run(run_startup_async(args))


if __name__ == "__main__":
    main()
