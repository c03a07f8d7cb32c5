"""manifest.yml is valid for Slack and declares what the bot uses, and no more."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
#: Slack's published app-manifest schema (MIT, Slack Technologies: see the LICENSE
#: file beside it), kept in the repository so the suite needs nothing outside it.
SCHEMA = ROOT / "tests" / "data" / "slack" / "manifest.schema.1.0.0.json"


@pytest.fixture(scope="module")
def manifest():
    return yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))


def test_manifest_matches_slack_schema(manifest):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(manifest, schema)


def test_socket_mode_with_consumo_mentions_and_buttons(manifest):
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["event_subscriptions"]["bot_events"] == ["app_mention"]
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/consumo"
    assert command["usage_hint"]
    assert "url" not in command  # Socket Mode needs no request URL


def test_least_bot_scopes(manifest):
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == [
        "app_mentions:read",
        "channels:history",  # "@Beholder" alone in a thread reads its first message
        "chat:write",
        "commands",
        "files:write",  # live-view charts uploaded into the thread
        "groups:history",  # the same in private channels
        "usergroups:read",  # only to resolve BEHOLDER_ALLOWED_USERGROUPS
    ]


def test_message_shortcut_is_declared(manifest):
    from bot.slack.ids import SHORTCUT_MESSAGE

    [shortcut] = manifest["features"]["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", SHORTCUT_MESSAGE)


def test_doctor_checks_the_manifests_scopes(manifest):
    """`beholder doctor` compares the granted scopes with `MANIFEST_BOT_SCOPES` (the
    manifest is not installed with the package): they must be exactly the manifest's."""
    from bot.slack.tokens import ESSENTIAL_SCOPES, MANIFEST_BOT_SCOPES

    assert set(MANIFEST_BOT_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])
    assert set(MANIFEST_BOT_SCOPES) >= ESSENTIAL_SCOPES
