"""Interaction latency through the sandbox: the real bot against a bare discord.py floor.

Measures, for each interaction, the time from the sandbox sending INTERACTION_CREATE to the bot's
callback arriving back at the sandbox (both on loopback, one process). Two bots, in the same run,
in alternating rounds so drift hits both alike:

  floor  a bare discord.py bot whose one command answers a fixed embed (discord.py's own cost)
  real   Dramawatch answering /help (and any other lines given with --line)

Prints median, p95, p99 per bot and the ratio real/floor. Not a test: nothing asserts on time.

    python bench/interactions.py [--n 1000] [--rounds 2] [--line "/help"] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import discord
from discord.ext import commands

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.sandbox.harness import Sandbox  # noqa: E402
from bot.scheduling import ManualClock  # noqa: E402
from bot.settings import Settings  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import percentile  # noqa: E402

FIXED_EMBED = discord.Embed(title="Dramawatch", description="A fixed embed.", colour=0xE0457B)


def bare_bot(settings: Settings, clock: ManualClock) -> commands.Bot:
    intents = discord.Intents.none()
    intents.guilds = True
    bot = commands.Bot(
        command_prefix=commands.when_mentioned,
        intents=intents,
        help_command=None,
        allowed_mentions=discord.AllowedMentions.none(),
        guild_ready_timeout=0.05,
    )

    @bot.tree.command(name="floor", description="Answer a fixed embed.")
    async def floor(interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message(embed=FIXED_EMBED, ephemeral=True)

    return bot


async def measure(sandbox: Sandbox, line: str, n: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        await sandbox.run_line(line)
    samples = []
    gc.collect()
    for _ in range(n):
        start = len(sandbox.world.interactions)
        result = await sandbox.run_line(line)
        if result.get("error"):
            raise SystemExit(f"{line!r} failed during the benchmark: {result['error']}")
        record = list(sandbox.world.interactions.values())[start]
        assert record.answered_at is not None
        samples.append((record.answered_at - record.sent_at) * 1000)
    return samples


async def run(n: int, rounds: int, lines: list[str], warmup: int) -> dict[str, Any]:
    logging.basicConfig(level=logging.ERROR)
    samples: dict[str, list[float]] = {"floor /floor": []}
    for line in lines:
        samples[f"real {line}"] = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(rounds):
            async with Sandbox(db_path=Path(tmp) / f"floor{round_}.db", bot_factory=bare_bot) as sandbox:
                samples["floor /floor"] += await measure(sandbox, "/floor", n, warmup)
            async with Sandbox(db_path=Path(tmp) / f"real{round_}.db") as sandbox:
                await sandbox.run_line(":as mod")
                for line in lines:
                    samples[f"real {line}"] += await measure(sandbox, line, n, warmup)
    floor_median = statistics.median(samples["floor /floor"])
    report = {}
    for name, values in samples.items():
        report[name] = {
            "n": len(values),
            "median_ms": round(statistics.median(values), 3),
            "p95_ms": round(percentile(values, 95), 3),
            "p99_ms": round(percentile(values, 99), 3),
            "ratio_median_to_floor": round(statistics.median(values) / floor_median, 2),
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="measured interactions per bot per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--line", action="append", dest="lines", help="a line for the real bot (default /help)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    report = asyncio.run(run(args.n, args.rounds, args.lines or ["/help"], args.warmup))
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{'bot / line':<28} {'n':>6} {'median ms':>10} {'p95 ms':>8} {'p99 ms':>8} {'× floor':>8}")
    for name, row in report.items():
        print(
            f"{name:<28} {row['n']:>6} {row['median_ms']:>10.3f} {row['p95_ms']:>8.3f} {row['p99_ms']:>8.3f} "
            f"{row['ratio_median_to_floor']:>8.2f}"
        )


if __name__ == "__main__":
    main()
