"""What every benchmark here reports with: a measure/result/target table whose
missed targets make the script exit non-zero, and the figures in it.

Each benchmark is run as a script (``python bench/NAME.py``), so this folder is
on ``sys.path`` and they import it as ``benchkit``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field


@dataclass
class Results:
    """Rows of (measure, result, target, met); a row without a target is information."""

    rows: list[tuple[str, str, str, bool]] = field(default_factory=list)

    def add(self, what: str, value: str, target: str = "", ok: bool = True) -> None:
        self.rows.append((what, value, target, ok))

    @property
    def ok(self) -> bool:
        return all(ok for *_, ok in self.rows)

    def table(self) -> str:
        lines = ["| measure | result | target | |", "| --- | --- | --- | --- |"]
        for what, value, target, ok in self.rows:
            mark = ("ok" if ok else "**MISSED**") if target else ""
            lines.append(f"| {what} | {value} | {target} | {mark} |")
        return "\n".join(lines)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def report(results: Results, header: str) -> int:
    """Print the header line and the table; the exit status (1 when a target was missed)."""
    print(header)
    print(results.table())
    if not results.ok:
        print("a target was missed", file=sys.stderr)
    return 0 if results.ok else 1
