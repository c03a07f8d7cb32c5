"""`beholder serve` and `beholder demo` as real processes, talking to the fake Slack.

The whole path an operator exercises: settings from the environment, the
inventory, the Socket Mode connection, a slash command, the router, the
reply. Every log line of the run is captured and searched for secrets.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator

import pytest

from tests.conftest import API_PASSWORD, beholder_argv
from tests.support.fake_slack import FakeSlack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        yield f


def slack_env(env: dict[str, str], fake: FakeSlack) -> dict[str, str]:
    return {
        **env,
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_APP_TOKEN": fake.app_token,
        "SLACK_API_URL": fake.api_url,
        # The noisiest level: librouteros logs every API word, /login included.
        "BEHOLDER_LOG_LEVEL": "DEBUG",
    }


def run_until_answered(env: dict[str, str], fake: FakeSlack, *args: str) -> tuple[dict, str]:
    """Start `beholder ARGS`, ask /consumo juan.perez, stop it with Ctrl-C."""
    process = subprocess.Popen(
        beholder_argv(*args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        fake.wait_for_connection(timeout=30)
        eid = fake.send_slash_command("juan.perez")
        fake.wait_for_ack(eid)
        [post] = fake.wait_for_responses(key=eid, timeout=10)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode in (0, 130), err
    return post.body, out + err


def test_serve_answers_consumo_and_logs_no_secret(synced, fake):
    body, output = run_until_answered(slack_env(synced, fake), fake, "serve")
    assert body["response_type"] == "in_channel"
    assert body["text"].startswith("juan.perez en bras-norte: Bajada 45,2 Mbps")
    assert "serving Slack over Socket Mode" in output
    assert "Traceback" not in output
    for secret in (API_PASSWORD, fake.bot_token, fake.app_token):
        assert secret not in output
    assert "[redacted]" in output  # the DEBUG run did try to log them


def test_json_logs_are_one_object_per_line(synced, fake):
    import json

    env = {**slack_env(synced, fake), "BEHOLDER_LOG_FORMAT": "json", "BEHOLDER_LOG_LEVEL": "INFO"}
    process = subprocess.Popen(
        beholder_argv("serve"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        fake.wait_for_connection(timeout=30)
        eid = fake.send_slash_command("juan.perez")
        fake.wait_for_responses(key=eid, timeout=10)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    events = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert any("consumo" in e["msg"] and "juan.perez" in e["msg"] for e in events)
    assert all({"ts", "level", "logger", "msg"} <= e.keys() for e in events)


def test_demo_serves_slack_when_tokens_are_set(env, fake):
    body, output = run_until_answered(slack_env(env, fake), fake, "demo")
    assert body["text"].startswith("juan.perez en bras-centro: Bajada")
    assert "¿Quisiste decir" in output  # the terminal part ran first
    assert "Traceback" not in output
