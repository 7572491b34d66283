"""Interaction latency through the sandbox: the real bot's everyday replies against a bare floor.

For each interaction: the sandbox sends INTERACTION_CREATE → the bot's callback arrives (loopback,
one process). Two bots in alternating rounds, so drift hits both alike:

  floor  a bare discord.py bot (bench/floor.py) whose /floor answers a fixed embed
  real   Dramawatch over a copy of the 10,000-server state (bench/state.py), answering `/help` and
         `/settings show` (as a moderator)

Every measured answer is checked (`/help` lists the commands, `/settings show` shows the server's
settings); a wrong one makes the bench exit non-zero. No target of its own in DESIGN.md: the figures
show what the bot costs over discord.py for a reply with no search and one settings read.

    python bench/interactions.py [--n 1000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from common import Checker, finish, log, summary, table  # noqa: E402
from floor import bare_bot  # noqa: E402
from state import BASE, shipped_dramas, state_copy  # noqa: E402

from bot.sandbox.harness import Sandbox  # noqa: E402

Check = Callable[[str, dict[str, Any]], bool]


def text_of(response: dict[str, Any] | None) -> str:
    if not response:
        return ""
    parts = [response.get("content") or ""]
    for embed in response.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields") or []]
    return "\n".join(parts)


CHECKS: dict[str, Check] = {
    "/floor": lambda line, r: text_of(r.get("response")).startswith("\nDramawatch"),
    "/help": lambda line, r: "/recap" in text_of(r.get("response")) and "/watchparty" in text_of(r.get("response")),
    # The state gives the sandbox's server (the first of the 10,000) New York time.
    "/settings show": lambda line, r: "Time zone `America/New_York`" in text_of(r.get("response")),
}


async def measure(sandbox: Sandbox, line: str, n: int, warmup: int, checker: Checker) -> list[float]:
    """Latency of `n` runs of `line`, after `warmup` unmeasured ones; every answer is checked."""
    check = CHECKS[line]
    samples = []
    for i in range(warmup + n):
        if i == warmup:
            gc.collect()
        result = await sandbox.run_line(line)
        record = next(reversed(sandbox.world.interactions.values()))
        ok = result.get("error") is None and record.answered_at is not None and check(line, result)
        what = f"{line!r}: {result.get('error') or text_of(result.get('response'))[:80]}"
        if i >= warmup and checker.check(ok, what):
            samples.append((record.answered_at - record.sent_at) * 1000)  # type: ignore[operator]
    if not samples:
        checker.fail_now_if_wrong()
    return samples


async def run(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    checker = Checker()
    lines = ["/help", "/settings show"]
    samples: dict[str, list[float]] = {"/floor": [], **{line: [] for line in lines}}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            log(f"interactions: round {round_ + 1}/{args.rounds}: floor")
            async with Sandbox(db_path=Path(tmp) / f"floor{round_}.db", now=BASE, bot_factory=bare_bot) as sandbox:
                samples["/floor"] += await measure(sandbox, "/floor", args.n, args.warmup, checker)
            log(f"interactions: round {round_ + 1}/{args.rounds}: real")
            db = Path(tmp) / f"real{round_}.db"
            manifest = await state_copy(db, shipped_dramas())
            async with Sandbox(db_path=db, now=BASE) as sandbox:
                await sandbox.run_line(":as mod")
                for line in lines:
                    samples[line] += await measure(sandbox, line, args.n, args.warmup, checker)
    floor = summary(samples["/floor"])
    figures: dict[str, Any] = {"servers": manifest["servers"], "n_per_line": args.n * args.rounds}
    rows = []
    for line, values in samples.items():
        row = summary(values)
        key = line.strip("/").replace(" ", "_")
        figures[f"{key}_median_ms"] = row["median"]
        figures[f"{key}_p99_ms"] = row["p99"]
        ratio = round(statistics.median(values) / floor["median"], 2)
        if line != "/floor":
            figures[f"{key}_median_ratio"] = ratio
        rows.append([line if line != "/floor" else "floor /floor (fixed embed)", row["median"], row["p95"], row["p99"],
                     row["max"], ratio])  # fmt: skip
    finish(
        "interactions",
        figures=figures,
        targets={},
        checker=checker,
        title="Everyday replies through the sandbox",
        how=__doc__.split("\n\n    python")[0],
        notes=[
            f"`/help` costs {figures['help_median_ratio']}× and `/settings show` "
            f"{figures['settings_show_median_ratio']}× the floor's median ({floor['median']} ms)."
        ],
        tables=[table("Latency, ms", ["line", "median", "p95", "p99", "max", "× floor median"], rows)],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="measured interactions per line per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=50)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
