"""`DiagnosisService`, the one way every edge asks for a diagnosis, against the
simulator through real TCP (the routers of `tests.support.diag_world`)."""

from __future__ import annotations

import asyncio

from bot.domain.diagnose import DiagnosisService
from bot.domain.readings import ReadingService
from bot.errors import RouterBusy
from bot.model import Asker
from tests.conftest import audit_rows
from tests.support.diag_world import LOSSY, NODE


def test_askers_of_the_same_subscriber_at_once_share_one_diagnosis(diag_world) -> None:
    """Three operators clicking "Diagnosticar" on the same ticket at once: the router
    gets one /ping and one /tool/torch, not three of each (seconds each); every
    asker gets the diagnosis, and each question has its own audit row."""
    service = DiagnosisService(
        ReadingService(diag_world.inventory, diag_world.client()), ping_count=2
    )
    diag_world.network.reset_counters()

    async def three() -> list:
        askers = [Asker(f"U00{i}", "C0001", "button") for i in range(3)]
        return await asyncio.gather(*(service.ask("busy", a, exact=True) for a in askers))

    answers = asyncio.run(three())
    assert [a.outcome for a in answers] == ["diag"] * 3
    assert {a.diagnosis.verdict for a in answers} == {"dominant_flow"}
    sent = [words[0] for words in diag_world.network.counters(NODE).commands]
    assert (sent.count("/ping"), sent.count("/tool/torch")) == (1, 1)
    rows = audit_rows(diag_world.inventory, 3, lambda e: e.outcome == "diag")
    assert sorted(e.slack_user for e in rows) == ["U000", "U001", "U002"]
    diag_world.quiet()


def test_a_later_question_gets_a_diagnosis_of_its_own(diag_world) -> None:
    """Sharing lasts while a diagnosis runs: asked again after it ended, the router
    is probed again (a diagnosis is never served from a cache)."""
    service = DiagnosisService(
        ReadingService(diag_world.inventory, diag_world.client()), ping_count=1
    )
    diag_world.network.reset_counters()
    for _ in range(2):
        assert asyncio.run(service.ask("busy", Asker("U001", "C0001", "button"))).diagnosis
    sent = [words[0] for words in diag_world.network.counters(NODE).commands]
    assert sent.count("/tool/torch") == 2
    diag_world.quiet()


def test_a_diagnosis_that_fails_keeps_the_reading_and_says_why(diag_world) -> None:
    """The reading stood, but the diagnosis could not run (both of the router's
    diagnosis turns held by other diagnoses until the deadline): the answer keeps
    the reading to show, says why the diagnosis failed (RouterBusy), and the audit
    records the failure."""
    client = diag_world.client(timeout=0.3)
    service = DiagnosisService(ReadingService(diag_world.inventory, client), ping_count=1)
    node = diag_world.nodes[NODE]

    async def while_busy():
        # Two long pings (50 probes, 10 s by design) hold both diagnosis turns.
        holding = [
            asyncio.create_task(client.probe(node, "lossy", LOSSY, 50, 0.2, 1)) for _ in range(2)
        ]
        await asyncio.sleep(0.05)
        try:
            return await service.ask("busy", Asker("U001", "C0001", "command"))
        finally:
            for task in holding:
                task.cancel()
            await asyncio.gather(*holding, return_exceptions=True)

    answer = asyncio.run(while_busy())
    assert answer.error is None
    assert answer.shown is not None
    assert answer.shown.user == "busy"
    assert isinstance(answer.diag_error, RouterBusy)
    assert answer.outcome == "failed:RouterBusy"
    [entry] = audit_rows(diag_world.inventory, 1, lambda e: e.pppoe_user == "busy")
    assert entry.outcome == "failed:RouterBusy"
    diag_world.quiet()
