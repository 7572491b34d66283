"""Small measuring helpers shared by the benchmark scripts (imported from the bench folder)."""

from __future__ import annotations

import resource
from pathlib import Path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def status_kb(field: str) -> int | None:
    """A field of /proc/self/status in kB (Linux), e.g. VmRSS or VmHWM (peak RSS); None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Linux: start VmHWM (peak RSS) afresh from the current RSS. False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def rss_mib(field: str = "VmRSS") -> float:
    kb = status_kb(field)
    return round((kb if kb is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024, 1)
