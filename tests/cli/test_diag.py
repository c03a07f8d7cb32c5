"""`beholder diag`, run as a real subprocess against the simulator: a reading, then
the last mile (a bounded /ping) and the top flows (a bounded /tool/torch)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from bot.inventory.store import Inventory
from bot.sim.model import MBPS, RouterConfig
from bot.sim.network import SimNetwork
from tests.conftest import API_PASSWORD, API_USER, beholder
from tests.support.diag_world import FAST_SECOND, diag_config


def _config() -> RouterConfig:
    return diag_config(API_USER, API_PASSWORD)


@pytest.fixture
def diag_env(env: dict[str, str], tmp_path) -> Iterator[tuple[SimNetwork, dict[str, str]]]:
    """`env` with the inventory synced from one simulated router whose torch
    samples come fast (its "second" is 10 ms)."""
    with SimNetwork([_config()]) as network:
        network.call("bras-diag", lambda sim: setattr(sim, "monitor_interval", FAST_SECOND))
        csv = tmp_path / "nodes.csv"
        csv.write_text(f"name,host,port\nbras-diag,127.0.0.1,{network.port('bras-diag')}\n")
        for args in (("nodes", "import", str(csv)), ("sync",)):
            result = beholder(env, *args)
            assert result.returncode == 0, result.stderr
        network.reset_counters()
        yield network, env


def _nothing_left_running(network: SimNetwork) -> None:
    """No unbounded /ping or /tool/torch reached the router, and every session the
    (ended) process opened is closed once the router has seen the sockets close."""
    assert network.counters("bras-diag").unbounded_commands == 0
    for _ in range(200):
        if network.counters("bras-diag").active_sessions == 0:
            break
        time.sleep(0.01)
    assert network.counters("bras-diag").active_sessions == 0


def test_lossy_last_mile_gives_the_last_mile_verdict_with_its_figures(diag_env) -> None:
    """A 30 % loss / 45 ms path to the session IP: the JSON says ``last_mile`` with
    10 probes sent, 7 back, ~30 % loss and ~45 ms; the audit row says ``diag``. The
    router saw two logins, one session at a time: the reading's, then one for the
    ping and the torch together."""
    network, env = diag_env
    result = beholder(env, "diag", "lossy", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["user"], data["online"], data["diagnosis"]) == ("lossy", True, "last_mile")
    ping = data["ping"]
    assert (ping["sent"], ping["received"], ping["asked"]) == (10, 7, 10)
    assert data["partial"] is False
    assert ping["loss_pct"] == pytest.approx(30, abs=3)
    assert ping["rtt_avg_ms"] == pytest.approx(45, abs=5)
    assert ping["rtt_min_ms"] <= ping["rtt_avg_ms"] <= ping["rtt_max_ms"]
    counters = network.counters("bras-diag")
    assert (counters.logins, counters.peak_sessions) == (2, 1)
    _nothing_left_running(network)
    with Inventory(env["BEHOLDER_DB"]) as inventory:
        [entry] = inventory.audit(None, None, 10)
    assert (entry.source, entry.outcome, entry.pppoe_user) == ("cli", "diag", "lossy")


def test_saturated_subscriber_names_the_dominant_flow(diag_env) -> None:
    """A saturated subscriber with one RTMP flow over half his traffic: the terminal
    view names it (remote, port and its name), the JSON lists it first in `top`."""
    network, env = diag_env
    env = {**env, "BEHOLDER_PING_COUNT": "3"}
    shown = beholder(env, "diag", "busy")
    assert shown.returncode == 0, shown.stderr
    assert "La mayor parte es 203.0.113.9 tcp/1935 (RTMP)" in shown.stdout
    data = json.loads(beholder(env, "diag", "busy", "--json").stdout)
    assert data["diagnosis"] == "dominant_flow"
    assert data["verdict"] == "saturated"
    assert data["ping"]["sent"] == 3
    first = data["top"][0]
    assert (first["remote"], first["protocol"], first["port"]) == ("203.0.113.9", "tcp", 1935)
    assert first["download_bps"] == pytest.approx(40 * MBPS, rel=0.05)
    assert [flow["port"] for flow in data["top"]] == [1935, 443, 53]
    _nothing_left_running(network)


def test_offline_subscriber_gets_the_reading_and_no_diagnosis(diag_env) -> None:
    """Offline: nothing is pinged or torched; the reading says so, `diagnosis` is null."""
    network, env = diag_env
    result = beholder(env, "diag", "gone", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["online"], data["diagnosis"], data["ping"], data["top"]) == (
        False,
        None,
        None,
        [],
    )
    sent = [words[0] for words in network.counters("bras-diag").commands if words]
    assert "/ping" not in sent
    assert "/tool/torch" not in sent


def test_session_without_an_ip_is_diagnosed_without_its_ping(diag_env) -> None:
    """Regression: a session address that is not an IP made `RouterClient.ping` raise
    ValueError and `beholder diag` end in a traceback; now the ping is not measured,
    not sent, the JSON says why (``no_address``), and the rest of the diagnosis stands."""
    network, env = diag_env
    result = beholder(env, "diag", "noip", "--json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(result.stdout)
    assert (data["online"], data["ping"], data["diagnosis"]) == (True, None, "inconclusive")
    assert (data["ping_unmeasured"], data["partial"]) == ("no_address", False)
    sent = [words[0] for words in network.counters("bras-diag").commands if words]
    assert "/ping" not in sent
    assert "/tool/torch" in sent
    _nothing_left_running(network)


def test_unknown_user_is_one_line_and_an_exit_code(diag_env) -> None:
    """A typo ends like consumo's: exit 3, the suggestion, no traceback, no stdout."""
    _, env = diag_env
    result = beholder(env, "diag", "bussy")
    assert result.returncode == 3
    assert "busy" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
