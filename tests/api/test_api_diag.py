"""``GET /diag/{pppoe_user}`` on the real listener (`serve_http`), against the simulator.

The same token, errors and audit as ``/live``; the body is the reading's JSON plus
`diagnosis` (code and sentence), `ping` and `top`, validated against the schema
``/openapi.json`` gives for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.serve.http import EVENTS_PATH
from tests.api.test_api import OTHER_TOKEN, api_servers, call, conforms
from tests.conftest import audit_rows
from tests.slack.test_http_mode import post, slash_command
from tests.support.diag_world import NODE

DIAG = "/diag/{pppoe_user}"


@pytest.fixture
def start_api(fake, diag_world, tmp_path) -> Iterator[Callable[..., str]]:
    """``start_api(**settings)``: `api_servers` over `diag_world`."""
    with api_servers(fake, diag_world, tmp_path) as start:
        yield start


def test_diag_of_a_lossy_last_mile_is_the_readings_json_plus_the_diagnosis(start_api, diag_world):
    """lossy (30 % loss / 45 ms; 4 probes, so 1 lost): 200 with the reading's fields,
    `diagnosis` last_mile with its Spanish sentence, `ping` 3 of 4 back at ~45 ms;
    audited as ``diag`` from ``api``; nothing left running on the router."""
    base = start_api(ping_count=4)
    answer = call(f"{base}/diag/lossy")
    assert answer.status == 200
    body = conforms(answer, DIAG)
    assert (body["user"], body["node"], body["online"]) == ("lossy", NODE, True)
    assert body["verdict"]["code"] == "low"
    assert body["diagnosis"]["code"] == "last_mile"
    assert body["diagnosis"]["sentence"].startswith("Problema en la última milla (pérdida 25 %")
    ping = body["ping"]
    assert (ping["sent"], ping["received"], ping["loss_pct"]) == (4, 3, 25.0)
    assert ping["rtt_avg_ms"] == pytest.approx(45, abs=5)
    assert answer.headers["Cache-Control"] == "no-store"
    assert diag_world.network.counters(NODE).unbounded_commands == 0
    diag_world.quiet()
    [row] = audit_rows(diag_world.inventory, 1)
    assert (row.outcome, row.source, row.slack_user) == ("diag", "api", "api:1")


def test_diag_of_a_saturated_subscriber_names_the_dominant_flow(start_api):
    base = start_api(ping_count=1)
    body = conforms(call(f"{base}/diag/busy", token=OTHER_TOKEN), DIAG)
    assert body["diagnosis"]["code"] == "dominant_flow"
    assert "203.0.113.9 tcp/1935 (RTMP)" in body["diagnosis"]["sentence"]
    first = body["top"][0]
    assert (first["remote"], first["protocol"], first["port"]) == ("203.0.113.9", "tcp", 1935)
    assert [flow["port"] for flow in body["top"]] == [1935, 443, 53]


def test_diag_of_an_offline_subscriber_is_the_reading_without_a_diagnosis(start_api, diag_world):
    base = start_api(ping_count=1)
    body = conforms(call(f"{base}/diag/gone"), DIAG)
    assert body["online"] is False
    assert (body["diagnosis"], body["ping"], body["top"]) == (None, None, [])
    sent = [words[0] for words in diag_world.network.counters(NODE).commands if words]
    assert "/ping" not in sent


def test_diag_refuses_without_a_token_and_asks_no_router(start_api, diag_world):
    """401 (with WWW-Authenticate) and a ``denied`` audit row: no router asked."""
    base = start_api()
    answer = call(f"{base}/diag/lossy", token=None)
    assert answer.status == 401
    conforms(answer, DIAG)
    assert diag_world.network.counters(NODE).total_connections == 0
    [row] = audit_rows(diag_world.inventory, 1)
    assert (row.outcome, row.source) == ("denied", "api")


def test_diag_errors_have_lives_shapes(start_api, diag_world):
    """A typo is a 404 with suggestions, text that cannot be a user a 400; a router
    refusing Beholder's login a 502 naming the node."""
    base = start_api(ping_count=1)
    typo = call(f"{base}/diag/bussy")
    assert typo.status == 404
    assert conforms(typo, DIAG)["suggestions"] == ["busy"]
    assert conforms(call(f"{base}/diag/%20"), DIAG)["error"] == "bad_request"
    diag_world.network.set_fault(NODE, "bad_credentials")
    failed = call(f"{base}/diag/lossy")
    assert failed.status == 502
    assert conforms(failed, DIAG)["node"] == NODE


def test_slack_and_the_api_asking_at_once_share_one_diagnosis(fake, start_api, diag_world):
    """In one `serve` process, Slack and the HTTP API diagnose through the same
    `DiagnosisService`: the same subscriber diagnosed from a slash command and from
    ``GET /diag`` at once costs his router one ping and one torch, and both get the
    diagnosis. (Each read takes 0.3 s at the router here, so the two overlap.)"""
    base = start_api(ping_count=1)
    diag_world.network.set_latency(NODE, 0.3)
    diag_world.network.reset_counters()
    with ThreadPoolExecutor(2) as pool:
        slash = pool.submit(post, base + EVENTS_PATH, slash_command(fake, "busy diag", key="d1"))
        api = pool.submit(call, f"{base}/diag/busy")
        assert slash.result()[0] == 200
        answer = api.result()
    [reply] = fake.wait_for_responses(key="d1", timeout=10)
    diag_world.network.set_latency(NODE, 0.0)
    assert answer.status == 200
    assert answer.body["diagnosis"]["code"] == "dominant_flow"
    assert reply.body["text"].startswith("La mayor parte es 203.0.113.9 tcp/1935 (RTMP)")
    sent = [words[0] for words in diag_world.network.counters(NODE).commands]
    assert (sent.count("/ping"), sent.count("/tool/torch")) == (1, 1)
    diag_world.quiet()
