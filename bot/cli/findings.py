"""What ``beholder doctor`` found: one line per check, and the report of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.errors import BeholderError
from bot.present import errors as error_texts
from bot.present import lang, markup
from bot.present.terminal import TERMINAL_LINE_LIMIT, terminal


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    """One check's outcome: one line of the report."""

    level: Level
    #: What was checked: ``settings``, ``slack bot token``, ``node bras-norte``…
    subject: str
    #: What was found and, unless ok, what to do.
    text: str


def report(findings: Sequence[Finding]) -> str:
    """The lines, then how many of each level."""
    lines = [
        terminal(f"{f.level.value:<4}  {f.subject}: {f.text}", TERMINAL_LINE_LIMIT)
        for f in findings
    ]
    counts = {level: sum(f.level is level for f in findings) for level in Level}
    lines.append(", ".join(f"{counts[level]} {level.value}" for level in Level))
    return "\n".join(lines)


def words(exc: BeholderError) -> str:
    """A failure as the English catalog says it (what happened, what to do), on one line."""
    with lang.speaking("en"):
        return " ".join(markup.plain(error_texts.error(exc)).split())
