"""One question, one reply: shared by the command, the mention and the button.

Turns a user name into the message to post, whatever happens: a reading, or a
Spanish explanation. Nothing raised here reaches Slack as a traceback.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import tzinfo

from bot.errors import AmbiguousQuery, BeholderError, InputError, InventoryError
from bot.readings import ReadingService
from bot.slack import blocks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    """What the listeners need, handed in by `build_app`."""

    readings: ReadingService
    tz: tzinfo


@dataclass(frozen=True)
class Reply:
    message: blocks.Message
    #: "reading", "fault" (a router failed), "not_found" or "error" (ours).
    kind: str

    @property
    def public(self) -> bool:
        """A reading or a router fault is news for the whole channel; a typo,
        an unknown name or our own bug is only for the operator who asked."""
        return self.kind in {"reading", "fault"}


async def consult(
    deps: Deps, query: str, requested_by: str | None, *, exact: bool = False
) -> Reply:
    """Read the subscriber `query` designates and render the outcome.

    `exact`: `query` is a PPPoE user name taken from a button, not typed text.
    Never raises (but cancellation).
    """
    user = query
    started = time.monotonic()
    try:
        if exact:
            reading = await deps.readings.read_user(query)
        else:
            reading = await deps.readings.read(query)
    except AmbiguousQuery as exc:
        _log(user, requested_by, started, f"ambiguous ({len(exc.hits)} candidates)")
        return Reply(blocks.candidates_message(exc), "not_found")
    except (InputError, InventoryError) as exc:
        _log(user, requested_by, started, f"not-found ({type(exc).__name__})")
        return Reply(blocks.error_message(exc), "not_found")
    except BeholderError as exc:
        _log(user, requested_by, started, f"failed ({exc})")
        return Reply(blocks.error_message(exc), "fault")
    except Exception:
        log.exception("consumo user=%s: unexpected error", user)
        return Reply(blocks.unexpected_message(user), "error")
    _log(
        user,
        requested_by,
        started,
        f"ok user={reading.user} node={reading.node} online={reading.online}",
    )
    return Reply(blocks.reading_message(reading, deps.tz, requested_by), "reading")


def _log(user: str, requested_by: str | None, started: float, outcome: str) -> None:
    elapsed = (time.monotonic() - started) * 1000
    log.info("consumo query=%r by=%s %s %.0fms", user, requested_by, outcome, elapsed)
