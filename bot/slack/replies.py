"""One question, one reply: shared by the command, the mention and the buttons.

Turns what the operator asked into the message to post, whatever happens: a
reading, or a Spanish explanation; and records the question in the audit.
Nothing raised here reaches Slack as a traceback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import tzinfo

from bot.domain.diagnose import DiagnosisService
from bot.domain.live_registry import MIN_SECONDS, LiveRegistry
from bot.domain.readings import ReadingService
from bot.errors import AmbiguousQuery, BeholderError, InputError, InventoryError, RouterBusy
from bot.model import Asker
from bot.slack import blocks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    """What the listeners need, handed in by `build_app`."""

    readings: ReadingService
    tz: tzinfo
    #: The app's running live views: one registry per app, which `serve` shuts down.
    live_views: LiveRegistry
    #: Diagnoses, asked through `readings` (`DiagnosisService.from_settings`).
    diagnoses: DiagnosisService


@dataclass(frozen=True)
class Reply:
    message: blocks.Message
    #: "reading", "fault" (a router failed), "busy" (our own queue to it is
    #: full), "not_found" or "error" (ours).
    kind: str

    @property
    def public(self) -> bool:
        """A reading or a router fault is news for the whole channel; a typo,
        an unknown name or our own bug is only for the operator who asked."""
        return self.kind in {"reading", "fault"}


async def consult(deps: Deps, query: str, asker: Asker, *, exact: bool = False) -> Reply:
    """Ask the domain about `query` (it times, logs and audits the question), and
    render the answer as the reply for Slack.

    `exact`: `query` is a PPPoE user name taken from a button, not typed text.
    Never raises (but cancellation).
    """
    answer = await deps.readings.ask(query, asker, exact=exact)
    if answer.reading is not None:
        return Reply(blocks.reading_message(answer.reading, deps.tz, asker.user), "reading")
    return failed_reply(query, answer.error)


async def diagnose(deps: Deps, query: str, asker: Asker, *, exact: bool = False) -> Reply:
    """Ask the domain for a diagnosis of `query` (the reading, then the last mile and
    the top flows; it times, logs and audits the whole), rendered for Slack: the
    reading with its diagnosis, or the same replies as `consult` for what failed.
    Never raises (but cancellation).
    """
    answer = await deps.diagnoses.ask(query, asker, exact=exact)
    reading = answer.shown
    if reading is not None:
        message = blocks.diagnosis_message(
            reading, answer.diagnosis, deps.tz, asker.user, failed=answer.diag_error
        )
        return Reply(message, "reading")
    return failed_reply(query, answer.error)


def failed_reply(query: str, error: BaseException | None) -> Reply:
    """The reply to a question that got no reading: who sees it depends on why."""
    if isinstance(error, AmbiguousQuery):
        return Reply(blocks.candidates_message(error), "not_found")
    if isinstance(error, InputError | InventoryError):
        return Reply(blocks.error_message(error), "not_found")
    if isinstance(error, RouterBusy):
        # Beholder's own queue to that router is full: news for the asker alone
        # (a burst of clicks would otherwise fill the channel with "ocupado").
        return Reply(blocks.error_message(error), "busy")
    if isinstance(error, BeholderError):
        return Reply(blocks.error_message(error), "fault")
    return Reply(blocks.unexpected_message(query), "error")


def help_message(deps: Deps) -> blocks.Message:
    """``/consumo ayuda``: every way to ask, with this app's live view bounds."""
    return blocks.help_message(MIN_SECONDS, deps.live_views.max_seconds)
