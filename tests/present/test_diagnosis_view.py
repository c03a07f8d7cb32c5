"""A diagnosis in words: why a ping is missing, and a measurement cut at its deadline."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.assess import assessed
from bot.model import Diagnosis, PingResult, Reading, Secret, Session, Traffic
from bot.present.diagnosis import diagnosis_json, diagnosis_lines
from bot.present.lang import speaking


def _reading() -> Reading:
    return assessed(
        Reading(
            user="juan.perez",
            node="bras-norte",
            taken_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
            secret=Secret("juan.perez", "bras-norte"),
            session=Session("juan.perez", "", "AA:BB:CC:00:11:22", 86_400),
            traffic=Traffic(download_bps=2_000_000, upload_bps=100_000),
        )
    )


def test_a_ping_skipped_for_want_of_an_ip_is_not_blamed_on_the_router() -> None:
    """Regression: a ping skipped because the session has no IP read "el router no
    respondió a tiempo"; now it says the router gives no IP for the session, and
    the JSON carries the code ``no_address``."""
    diagnosis = Diagnosis("inconclusive", None, ping_unmeasured="no_address")
    with speaking("es"):
        shown = "\n".join(diagnosis_lines(diagnosis))
    assert "el router no da una IP para esta sesión" in shown
    assert "no respondió a tiempo" not in shown
    with speaking("es"):
        unanswered = "\n".join(diagnosis_lines(Diagnosis("inconclusive", None)))
    assert "no respondió a tiempo" in unanswered
    assert diagnosis_json(_reading(), diagnosis)["ping_unmeasured"] == "no_address"


def test_a_partial_measurement_says_so() -> None:
    """A diagnosis cut at its deadline says "medición parcial" (English: "Partial
    measurement"); its JSON says `partial` and how many probes were asked."""
    ping = PingResult("10.20.0.15", 4, 4, 5.0, 5.0, 5.0, asked=10)
    diagnosis = Diagnosis("healthy", ping, partial=True)
    with speaking("es"):
        assert any("Medición parcial" in line for line in diagnosis_lines(diagnosis))
    with speaking("en"):
        assert any("Partial measurement" in line for line in diagnosis_lines(diagnosis))
    with speaking("es"):
        whole = diagnosis_lines(Diagnosis("healthy", ping))
    assert not any("parcial" in line for line in whole)
    data = diagnosis_json(_reading(), diagnosis)
    assert data["partial"] is True
    assert (data["ping"]["sent"], data["ping"]["asked"]) == (4, 10)


def test_a_ping_the_router_refused_and_a_torch_not_measured_are_told_apart() -> None:
    """Regression: a ping the router answered with an error read "no respondió a
    tiempo", and a torch that could not measure read like one that saw no traffic
    ("sin tráfico, o no se pudo medir"). Each now has its own words and code."""
    refused = Diagnosis("inconclusive", None, ping_unmeasured="refused", torch_unmeasured=True)
    quiet = Diagnosis("inconclusive", None, ping_unmeasured="no_answer")
    with speaking("es"):
        shown, silent = "\n".join(diagnosis_lines(refused)), "\n".join(diagnosis_lines(quiet))
    assert "el router no pudo hacerlo" in shown
    assert "no respondió a tiempo" not in shown
    assert "Torch: no se pudo medir" in shown
    assert "Torch: sin tráfico en esos segundos" in silent
    data = diagnosis_json(_reading(), refused)
    assert (data["ping_unmeasured"], data["torch_unmeasured"]) == ("refused", True)
