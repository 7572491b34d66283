"""Run the benchmarks and regenerate BENCHMARKS.md.

    python -m bench all                  # every bench, one after another, each in a fresh process
    python -m bench rsvp scheduler       # some of them
    python -m bench report               # only regenerate BENCHMARKS.md from bench/results/

Each bench prints its figures and ends with one JSON line
`{"bench": NAME, "figures": {...}, "targets": {...}, "met": {...}}`; this command prints those lines
again at the end, and exits non-zero if a bench failed (a wrong answer, or a crash).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name → (script, arguments); lookups.py holds three benches
BENCHES: dict[str, tuple[str, list[str]]] = {
    "rsvp": ("rsvp.py", []),
    "scheduler": ("scheduler.py", []),
    "shared_queue": ("shared_queue.py", []),
    "feeds": ("feeds.py", []),
    "lookups": ("lookups.py", ["--parts", "lookups"]),
    "interactions": ("interactions.py", []),
    "startup": ("lookups.py", ["--parts", "startup"]),
    "startup_20k": (
        "lookups.py",
        ["--parts", "startup", "--dramas", "20000", "--characters", "16", "--record", "startup_20k"],
    ),
    "index": ("lookups.py", ["--parts", "index"]),
}


def main(argv: list[str]) -> int:
    wanted = argv or ["all"]
    if wanted == ["report"]:
        sys.path.insert(0, str(HERE))
        from report import write_page

        print(write_page())
        return 0
    names = list(BENCHES) if "all" in wanted else wanted
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown bench(es) {unknown}; choose from {list(BENCHES)}, all, report", file=sys.stderr)
        return 2
    lines: list[str] = []
    failed: list[str] = []
    for name in names:
        script, extra = BENCHES[name]
        print(f"== {name} ({script} {' '.join(extra)})", file=sys.stderr, flush=True)
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(HERE / script), *extra], cwd=HERE, stdout=subprocess.PIPE, text=True, check=False
        )
        out = proc.stdout.strip().splitlines()
        last = out[-1] if out else ""
        print(f"== {name}: exit {proc.returncode} after {time.perf_counter() - started:.0f} s", file=sys.stderr)
        try:
            json.loads(last)
        except ValueError:
            last = ""
        if proc.returncode != 0 or not last:
            failed.append(name)
        else:
            lines.append(last)
    for line in lines:
        print(line)
    if failed:
        print(f"failed: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
