"""The API through the real process: ``beholder serve`` (Socket Mode) with
``BEHOLDER_HTTP_PORT`` and ``BEHOLDER_API_TOKENS``, against the simulator and the fake Slack.

Settings come from the environment, the listener's URL from the log; every
answer is validated against /openapi.json, and the whole DEBUG log is searched
for the tokens.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.sim import faults
from tests.api.test_api import OTHER_TOKEN, TOKEN, call, conforms
from tests.conftest import API_PASSWORD, serve_process
from tests.support.fake_slack import FakeSlack


@pytest.fixture
def beholder_api(synced, fake: FakeSlack) -> Iterator[tuple[str, list[str]]]:
    """`beholder serve` running; yields (the listener's base URL, its log lines so far)."""
    env = {
        **synced,
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_APP_TOKEN": fake.app_token,
        "SLACK_API_URL": fake.api_url,
        "BEHOLDER_LOG_LEVEL": "DEBUG",
        "BEHOLDER_HTTP_PORT": "0",
        "BEHOLDER_API_TOKENS": f"{TOKEN}, {OTHER_TOKEN}",
    }
    with serve_process(env, ready=r"HTTP API at (http://\S+)") as served:
        fake.wait_for_connection(timeout=30)
        yield served.url, served.log
    assert served.returncode in (0, 130), served.output


def test_beholder_serve_answers_the_api_and_each_error_from_its_cause(beholder_api, network, fake):
    url, log = beholder_api
    assert url.startswith("http://127.0.0.1:")

    no_token = call(f"{url}/live/nadie.todavia", token=None)
    assert no_token.status == 401
    conforms(no_token)
    assert all(network.counters(n).total_connections == 0 for n in network.ports)

    reading = call(f"{url}/live/juan.perez")
    assert reading.status == 200
    body = conforms(reading)
    assert (body["download_mbps"], body["upload_mbps"]) == (45.2, 2.1)  # tx is download

    assert conforms(call(f"{url}/live/juan.peres"))["suggestions"] == ["juan.perez"]
    assert call(f"{url}/live/cliente1").status == 409

    network.set_fault("bras-sur", faults.FATAL)
    failed = [call(f"{url}/live/sofia.acuna").status for _ in range(3)]
    assert failed == [502, 502, 502]
    short_circuited = call(f"{url}/live/sofia.acuna")  # the breaker opened at 3
    assert short_circuited.status == 503
    assert int(conforms(short_circuited)["retry_after_s"]) >= 1

    network.set_fault("bras-norte", faults.STALL_LOGIN)
    timed_out = call(f"{url}/live/juan.perez")
    assert timed_out.status == 504
    assert conforms(timed_out)["node"] == "bras-norte"

    health = call(f"{url}/healthz", token=None)
    assert (health.status, conforms(health, "/healthz")["status"]) == (200, "ok")

    output = "".join(log)
    assert "Traceback" not in output
    for secret in (TOKEN, OTHER_TOKEN, API_PASSWORD, fake.bot_token, fake.app_token):
        assert secret not in output
    assert "by=api:1" in output  # the caller is its token's label
