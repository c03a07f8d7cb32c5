"""A reading is assessed once by the domain; Slack, the terminal and --json only show that."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.domain.assess import assessed
from bot.domain.live import LiveView
from bot.model import (
    Assessment,
    Connection,
    Plan,
    QueueState,
    Reading,
    Sample,
    Secret,
    Session,
    Traffic,
    Verdict,
)
from bot.present import live as live_texts
from bot.present.reading import reading_json, reading_lines
from bot.slack import blocks

TAKEN = datetime(2026, 11, 28, 17, 32, 5, tzinfo=UTC)
PLAN = Plan(50_000_000, 10_000_000)
SUSPENDED = Connection("juan.perez", "1001", "Juan Pérez", 50_000_000, 10_000_000, "suspendido")


def reading(**changes: object) -> Reading:
    values: dict[str, object] = dict(
        user="juan.perez",
        node="bras-norte",
        taken_at=TAKEN,
        secret=Secret("juan.perez", "bras-norte", profile="plan-50M"),
        session=Session("juan.perez", "10.20.0.15", "AA:BB:CC:00:11:22", 2 * 86400),
        traffic=Traffic(download_bps=3_000_000, upload_bps=500_000),
        queue=QueueState(plan=PLAN),
    )
    values.update(changes)
    return Reading(**values)  # type: ignore[arg-type]


def sections(message: dict) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section" and "text" in b]


def test_every_view_shows_the_domains_verdict_without_judging_again():
    """The figures say "low use", the assessment says "saturated, upload, 97 %":
    Slack, the terminal and --json all show the assessment, so none of them
    decides on its own."""
    judged = replace(
        assessed(reading()),
        assessment=Assessment(Verdict("saturated", 97.0, "upload"), 6.0, 97.0, ()),
    )

    slack = sections(blocks.reading_message(judged, UTC))[0]
    terminal = reading_lines(judged, UTC)[1]

    assert slack == "*Usa el 97 % del plan (subida): está saturando su propio enlace.*"
    assert terminal == "  » Usa el 97 % del plan (subida): está saturando su propio enlace."
    assert reading_json(judged)["verdict"] == "saturated"
    assert reading_json(judged)["upload_pct"] == 97.0


def test_warnings_come_from_the_domains_codes():
    """A suspended customer online is warned about because the domain said so
    (its code), in the --json codes, in Slack and on the terminal alike."""
    flagged = assessed(reading(customer=SUSPENDED, linked=True))
    silenced = replace(flagged, assessment=replace(flagged.judged, warnings=()))

    assert reading_json(flagged)["warnings"] == ["suspended_online"]
    assert any("figura «suspendido»" in s for s in sections(blocks.reading_message(flagged, UTC)))
    assert not any("figura" in s for s in sections(blocks.reading_message(silenced, UTC)))
    assert not any("figura" in line for line in reading_lines(silenced, UTC))


def test_terminal_shows_a_warning_whole_and_slack_adds_its_emoji():
    """Regression: the terminal view dropped each warning's first word
    (``note.split(" ", 1)[1]``, meant to cut the ``:warning:`` the catalog text
    began with). Now the catalog holds the words, Slack adds the emoji and the
    terminal prints the words whole."""
    flagged = assessed(reading(customer=SUSPENDED, linked=True, also_on=("bras-sur",)))
    words = (
        "El cliente figura «suspendido» en el sistema de gestión, "
        "pero tiene la sesión PPPoE activa."
    )

    lines = reading_lines(flagged, UTC)
    slack = sections(blocks.reading_message(flagged, UTC))

    assert "  " + words in lines
    assert (
        "  Usuario duplicado: `juan.perez` también está configurado en bras-sur. "
        + ("La sesión que cuenta es la de bras-norte.")
        in lines
    )
    assert ":warning: " + words in slack
    assert any(s.startswith(":warning: Usuario duplicado: `juan.perez`") for s in slack)


def test_a_reading_the_domain_did_not_assess_is_refused():
    """A renderer handed a reading without its assessment says so, rather
    than judge it itself."""
    with pytest.raises(ValueError, match="not assessed"):
        blocks.reading_message(reading(), UTC)


def test_live_view_gives_the_last_second_with_its_shares_of_the_plan():
    """`LiveView.now`: the domain's figures for the last second; the sentence
    only formats them, and says "s/d" once the session is gone."""
    view = LiveView("v1", "juan.perez", "bras-norte", 30, plan=PLAN)
    view.samples.append(Sample(0.0, TAKEN, Traffic(45_200_000, 2_100_000)))

    now = view.now

    assert now is not None
    assert (now.download_pct, now.upload_pct) == (pytest.approx(90.4), pytest.approx(21.0))
    assert live_texts.live_now(view, "download") == "45,2 Mbps · 90 % de 50 Mbps"
    assert live_texts.live_now(view, "upload") == "2,10 Mbps · 21 % de 10 Mbps"
    view.samples.append(Sample(1.0, TAKEN, None))
    assert view.now is None
    assert live_texts.live_now(view, "download") == "s/d"


def test_the_end_of_a_live_view_says_how_many_packets_the_queue_dropped():
    """The final message (its text, its blocks, the chart's comment) says how many
    packets the plan's queue dropped during the view, the domain's number; a view
    during which it dropped none says nothing about it."""
    view = LiveView("v1", "juan.perez", "bras-norte", 3, plan=PLAN, outcome="completed")
    view.samples += [
        Sample(float(i), TAKEN, Traffic(45_200_000, 2_100_000), QueueState(PLAN, dropped, 0))
        for i, dropped in enumerate([10_000, 10_000, 10_000])
    ]
    message = blocks.live_message(view)
    assert "descartó" not in str(message) + live_texts.live_report(view)

    view.samples[-1] = replace(view.samples[-1], queue=QueueState(PLAN, 11_234, 0))
    said = (
        "La cola del plan descartó 1.234 paquetes durante la vista en vivo: "
        "el tráfico superó por momentos la velocidad del plan."
    )
    message = blocks.live_message(view)
    assert live_texts.live_ended(view) == f"Terminó: 3 muestras en 3 s. {said}"
    assert said in message["text"]
    assert any(said in str(block) for block in message["blocks"])
    assert said in live_texts.live_report(view)
