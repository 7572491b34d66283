"""What every bench shares: summaries, checks, the closing JSON line, and the stored results that
BENCHMARKS.md is generated from (bench/report.py).

A bench calls `finish(...)` once at the end: it prints one JSON line
`{"bench": NAME, "figures": {...}, "targets": {...}, "met": {...}}`, stores the full record in
bench/results/NAME.json (the previous record moves to NAME.prev.json, so the page can show that a
figure reproduced), and regenerates BENCHMARKS.md. A wrong answer is never a figure: `Checker`
counts every measured answer and `finish` exits non-zero when one was wrong.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from measure import percentile  # the bench folder is on the path of every bench script

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"


def summary(values: list[float], digits: int = 3) -> dict[str, float]:
    """n, median, p95, p99, max (milliseconds in, milliseconds out)."""
    return {
        "n": len(values),
        "median": round(statistics.median(values), digits),
        "p95": round(percentile(values, 95), digits),
        "p99": round(percentile(values, 99), digits),
        "max": round(max(values), digits),
    }


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Checker:
    """Counts measured answers and keeps the first few wrong ones (the bench then fails)."""

    def __init__(self) -> None:
        self.checked = 0
        self.wrong: list[str] = []

    def check(self, ok: bool, what: str) -> bool:
        self.checked += 1
        if not ok and len(self.wrong) < 20:
            self.wrong.append(what)
        elif not ok:
            self.wrong.append("…")
        return ok

    def fail_now_if_wrong(self) -> None:
        if self.wrong:
            raise SystemExit(f"{len(self.wrong)} wrong answer(s) while measuring, e.g.: {self.wrong[:5]}")


def code_version() -> str:
    def git(*argv: str) -> str:
        try:
            return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "bot", "cogs", "bench")
    return commit + (" + uncommitted changes" if dirty else "")


def met_of(figures: dict[str, Any], targets: dict[str, dict[str, float]]) -> dict[str, bool]:
    """Each target is {"max": x} (figure ≤ x) or {"min": x} (figure ≥ x), keyed by its figure."""
    met = {}
    for key, target in targets.items():
        value = figures.get(key)
        if value is None:
            met[key] = False
        elif "max" in target:
            met[key] = value <= target["max"]
        else:
            met[key] = value >= target["min"]
    return met


def finish(
    name: str,
    *,
    figures: dict[str, Any],
    targets: dict[str, dict[str, float]],
    checker: Checker,
    title: str,
    how: str,
    notes: list[str] | None = None,
    tables: list[dict[str, Any]] | None = None,
    store: bool = True,
) -> None:
    """Fail on a wrong answer; else print the JSON line, store the record, regenerate BENCHMARKS.md."""
    checker.fail_now_if_wrong()
    figures = {**figures, "answers_checked": checker.checked}
    met = met_of(figures, targets)
    record = {
        "bench": name,
        "figures": figures,
        "targets": targets,
        "met": met,
        "title": title,
        "how": how,
        "notes": notes or [],
        "tables": tables or [],
        "run": {
            "at": time.strftime("%Y-%m-%d %H:%M"),
            "code": code_version(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
    }
    if store:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{name}.json"
        if path.exists():
            path.replace(RESULTS / f"{name}.prev.json")
        path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        from report import write_page  # bench/report.py (this folder is on sys.path)

        write_page()
    print(json.dumps({"bench": name, "figures": figures, "targets": targets, "met": met}, ensure_ascii=False))


def table(title: str, columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {"title": title, "columns": columns, "rows": rows}
