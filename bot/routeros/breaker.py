"""A short circuit breaker per router.

During an outage every operator asks at once; without this, each question to
a dead router would wait out the full deadline and hold one of its sessions.
After `threshold` consecutive failures the router is *open* for `cooldown`
seconds: questions fail at once with `RouterCircuitOpen`, saying since when and
why. Then one question is let through (half-open): success closes the circuit,
failure opens it again. Pure state; the clock is injected for tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.errors import RouterAuthFailed, RouterCircuitOpen, RouterError


@dataclass
class _State:
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False
    last: RouterError | None = None


class CircuitBreaker:
    def __init__(
        self,
        threshold: int = 3,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self._states: dict[str, _State] = {}

    def before(self, node: str, user: str | None = None) -> None:
        """Raise `RouterCircuitOpen` if `node` should not be asked right now."""
        state = self._states.get(node)
        if state is None or state.opened_at is None:
            return
        elapsed = self.clock() - state.opened_at
        if elapsed >= self.cooldown and not state.probing:
            state.probing = True  # this caller is the probe
            return
        raise RouterCircuitOpen(
            node,
            f"open after {state.failures} failures; last: {state.last}",
            user=user,
            since_s=elapsed,
            retry_in_s=max(0.0, self.cooldown - elapsed),
            cause=state.last,
        )

    def success(self, node: str) -> None:
        self._states.pop(node, None)

    def failure(self, node: str, error: RouterError) -> None:
        """Count a failure. Bad credentials do not open the circuit: the router
        answers at once, and the fix is configuration, not waiting."""
        if isinstance(error, RouterAuthFailed | RouterCircuitOpen):
            return
        state = self._states.setdefault(node, _State())
        state.failures += 1
        state.last = error
        if state.probing or state.failures >= self.threshold:
            state.opened_at = self.clock()
        state.probing = False

    def release(self, node: str) -> None:
        """The call ended without a verdict (cancelled): let another probe through."""
        state = self._states.get(node)
        if state is not None:
            state.probing = False

    def states(self) -> dict[str, str]:
        """Each router whose circuit is not closed: "open" (questions refused) or
        "half_open" (the cooldown is over: the next question, or the one in flight,
        is the probe). For ``/metrics``, which may ask from its own thread: the table
        is copied in one step (atomic under the GIL) and each state read once."""
        now = self.clock()
        states = {}
        for node, state in list(self._states.items()):
            opened_at, probing = state.opened_at, state.probing
            if opened_at is not None:
                late = probing or now - opened_at >= self.cooldown
                states[node] = "half_open" if late else "open"
        return states

    def is_open(self, node: str) -> bool:
        state = self._states.get(node)
        return state is not None and state.opened_at is not None
