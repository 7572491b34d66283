"""BENCHMARKS.md, generated from bench/results/*.json: nothing in it is typed by hand.

Each bench stores its last record (bench/results/NAME.json) and the one before (NAME.prev.json);
the page shows both side by side, so whether a figure reproduced is there to read.

    python bench/report.py     # regenerate the page from the stored results
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PAGE = HERE.parent / "BENCHMARKS.md"
ORDER = ["rsvp", "scheduler", "shared_queue", "feeds", "lookups", "interactions", "startup", "index"]

INTRO = """\
# Benchmarks

**Generated** by `python -m bench all` (or any one bench script) from `bench/results/*.json` by
`bench/report.py`: do not edit this page by hand. Each bench runs the path the running bot takes, with
state of the stated size (a database of 10,000 servers with settings, progress, follows, episode
threads, feeds and their items, recap links, community recaps, watch parties with RSVPs, and ~100,000
pending jobs: `bench/state.py`), checks **every** answer it measures (a wrong one makes the bench exit
non-zero instead of printing a figure), compares with a floor that does the same transport work and
nothing else, measured in the same run, and ends with one JSON line
`{"bench": NAME, "figures": {...}, "targets": {...}, "met": {...}}`.

"Previous run" is the record the same bench stored the time before: a figure that differs a lot
between the two columns did not reproduce. Benchmarks are scripts, never tests: the figures move with
the machine and with whatever else runs on it (the load average at the start of each run is shown).
"""


def _load(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _target_text(target: dict[str, float]) -> str:
    return f"≤ {_fmt(target['max'])}" if "max" in target else f"≥ {_fmt(target['min'])}"


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def render(records: dict[str, tuple[dict[str, Any], dict[str, Any] | None]]) -> str:
    names = [n for n in ORDER if n in records] + sorted(n for n in records if n not in ORDER)
    out = [INTRO, "## Targets\n"]
    out.append(_row(["bench", "figure", "target", "this run", "previous run", "met (this / previous)"]))
    out.append(_row(["---", "---", "---", "---:", "---:", "---"]))
    for name in names:
        record, prev = records[name]
        for key, target in record["targets"].items():
            before = prev["figures"].get(key) if prev else None
            met_before = prev["met"].get(key) if prev else None
            out.append(
                _row(
                    [
                        name,
                        f"`{key}`",
                        _target_text(target),
                        _fmt(record["figures"].get(key)),
                        _fmt(before),
                        f"{_fmt(record['met'].get(key))} / {_fmt(met_before)}",
                    ]
                )
            )
    out.append("")
    for name in names:
        record, prev = records[name]
        run = record["run"]
        out.append(f"## {record['title']} (`{name}`)\n")
        out.append(record["how"].strip() + "\n")
        prev_run = prev["run"] if prev else None
        out.append(
            f"This run: {run['at']}, code {run['code']}, {run['cpus']} CPUs, Python {run['python']}, load average "
            f"{run['load_average'][0]} at the start."
            + (
                f" Previous run: {prev_run['at']}, code {prev_run['code']}, load average {prev_run['load_average'][0]}."
                if prev_run
                else " No previous run stored."
            )
            + "\n"
        )
        if record.get("notes"):
            out.append("What the figures say:\n")
            out.extend(f"- {note}" for note in record["notes"])
            out.append("")
        for extra in record.get("tables", []):
            out.append(f"{extra['title']}:\n")
            out.append(_row(extra["columns"]))
            out.append(_row(["---"] + ["---:"] * (len(extra["columns"]) - 1)))
            out.extend(_row([_fmt(c) if not isinstance(c, str) else c for c in row]) for row in extra["rows"])
            out.append("")
        out.append("All figures:\n")
        out.append(_row(["figure", "this run", "previous run"]))
        out.append(_row(["---", "---:", "---:"]))
        for key, value in record["figures"].items():
            out.append(_row([f"`{key}`", _fmt(value), _fmt(prev["figures"].get(key) if prev else None)]))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_page() -> Path:
    records: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {}
    for path in sorted(RESULTS.glob("*.json")):
        if path.name.endswith(".prev.json"):
            continue
        record = _load(path)
        if record is not None:
            records[record["bench"]] = (record, _load(path.with_name(path.stem + ".prev.json")))
    PAGE.write_text(render(records), encoding="utf-8")
    return PAGE


if __name__ == "__main__":
    print(write_page())
