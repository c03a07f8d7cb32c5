"""A clock for the code that takes one (``clock=``): tests move time by hand
instead of sleeping through a TTL or a cooldown."""

from __future__ import annotations


class Clock:
    """A monotonic clock the test moves by hand (``clock.now += seconds``).

    Safe to read from the bot's thread while the test moves it: a float is
    replaced whole."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
