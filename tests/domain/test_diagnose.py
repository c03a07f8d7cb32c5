"""The diagnosis' verdict from what ping and torch measured (`bot.domain.diagnose.judge`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.assess import assessed
from bot.domain.diagnose import Thresholds, judge
from bot.model import Flow, PingResult, Plan, QueueState, Reading, Secret, Session, Traffic

PLAN = Plan(download_bps=50_000_000, upload_bps=10_000_000)


def _reading(download_bps: int) -> Reading:
    return assessed(
        Reading(
            user="juan.perez",
            node="bras-norte",
            taken_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
            secret=Secret("juan.perez", "bras-norte"),
            session=Session("juan.perez", "10.20.0.15", "AA:BB:CC:00:11:22", 86_400),
            traffic=Traffic(download_bps=download_bps, upload_bps=100_000),
            queue=QueueState(plan=PLAN),
        )
    )


SATURATED = _reading(48_000_000)
LOW = _reading(2_000_000)
CLEAN = PingResult("10.20.0.15", 10, 10, 1.0, 1.5, 2.0, 0.3)


def _flow(remote: str, download_bps: int) -> Flow:
    return Flow(remote, "tcp", 443, download_bps, 0)


@pytest.mark.parametrize(
    ("ping", "verdict"),
    [
        (PingResult("10.20.0.15", 50, 49, 1.0, 1.0, 1.0), "last_mile"),  # 2 % loss
        (PingResult("10.20.0.15", 10, 10, 29.0, 30.0, 31.0), "last_mile"),  # 30 ms
        (PingResult("10.20.0.15", 10, 0), "last_mile"),  # nothing came back
        (PingResult("10.20.0.15", 100, 99, 1.0, 29.9, 31.0), "healthy"),  # 1 %, 29.9 ms
        (None, "inconclusive"),  # the ping could not be measured
    ],
)
def test_the_last_mile_is_blamed_from_the_default_thresholds(ping, verdict) -> None:
    """Loss ≥ 2 % or average RTT ≥ 30 ms blame the last mile; just under both, on a
    link used little, the link is healthy; no ping, no conclusion."""
    assert judge(LOW, ping, []).verdict == verdict


def test_thresholds_are_settings() -> None:
    """Raised thresholds (5 %, 100 ms) let the same 2 % / 30 ms link pass as healthy."""
    ping = PingResult("10.20.0.15", 50, 49, 29.0, 30.0, 31.0)
    assert judge(LOW, ping, [], Thresholds(loss_pct=5, rtt_ms=100)).verdict == "healthy"


def test_a_saturated_link_names_the_flow_over_half_its_traffic() -> None:
    """Saturated, one flow over half of the traffic: `dominant_flow`, that flow named;
    exactly half is not "over half" (inconclusive), nor is any flow on a low link."""
    big, small = _flow("203.0.113.9", 30_000_001), _flow("151.101.1.1", 30_000_000)
    diagnosis = judge(SATURATED, CLEAN, [big, small])
    assert (diagnosis.verdict, diagnosis.dominant) == ("dominant_flow", big)
    half = [_flow("203.0.113.9", 30_000_000), small]
    assert judge(SATURATED, CLEAN, half).verdict == "inconclusive"
    assert judge(LOW, CLEAN, [big, small]).verdict == "healthy"


def test_the_last_mile_comes_before_a_dominant_flow_and_top_keeps_five() -> None:
    """A lossy path on a saturated link with a dominant flow still says last mile;
    `top` keeps the five busiest flows, busiest first."""
    flows = [_flow(f"203.0.113.{i}", 10_000_000 - i) for i in range(8)]
    lossy = PingResult("10.20.0.15", 10, 7, 40.0, 45.0, 50.0, 4.0)
    diagnosis = judge(SATURATED, lossy, flows)
    assert diagnosis.verdict == "last_mile"
    assert diagnosis.top == tuple(flows[:5])
