"""Access control: who may ask, where; denied requests reach no router and are audited.

The rule (`decide`) and the settings are checked as pure functions; the rest runs
the real Bolt app against a fake Slack that also knows user groups.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.domain.readings import ReadingService
from bot.errors import ConfigError
from bot.slack import access, groups
from bot.slack.app import build_app
from bot.slack.ids import (
    ACTION_DIAG,
    ACTION_LIVE,
    ACTION_LIVE_STOP,
    ACTION_PICK,
    ACTION_REFRESH,
    COMMAND,
    SHORTCUT_MESSAGE,
)
from bot.slack.policy import Members, Policy, decide
from tests.conftest import audit_rows, slack_settings
from tests.support.clock import Clock
from tests.support.fake_slack import APP_ID, BOT_ID, TEAM_ID, FakeSlack

READING = "juan.perez en bras-norte: Bajada 45,2 Mbps"
SUPPORT, ESCALATIONS, OTHER = "C0SOP1", "C0ESC2", "C0RND3"
ANA, BETO, CARLA = "U0ANA1", "U0BETO2", "U0CARLA3"  # Carla is in the N2 group
N2 = "S0N2GRP"


class GroupsFake(FakeSlack):
    """The fake Slack plus ``usergroups.list`` and ``usergroups.users.list``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.usergroups: dict[str, tuple[str, list[str]]] = {N2: ("soporte-n2", [CARLA])}
        self._held: dict[str, threading.Event] = {}

    def hold(self, method: str) -> threading.Event:
        """Calls to `method` go unanswered until the returned event is set: a slow Slack."""
        return self._held.setdefault(method, threading.Event())

    async def _handle_api(self, request: web.Request) -> web.Response:
        held = self._held.get(request.match_info["method"])
        while held is not None and not held.is_set():
            await asyncio.sleep(0.01)
        return await super()._handle_api(request)

    def _methods(self):
        return {
            **super()._methods(),
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
        }

    def _usergroups_list(self, params: dict[str, Any]) -> dict[str, Any]:
        groups = [{"id": i, "handle": h, "name": h} for i, (h, _) in self.usergroups.items()]
        return {"ok": True, "usergroups": groups}

    def _usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.usergroups.get(str(params.get("usergroup", "")))
        if group is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(group[1])}


@pytest.fixture
def fake() -> Iterator[GroupsFake]:
    with GroupsFake() as f:
        yield f


def routers_untouched(sim_world) -> bool:
    return all(sim_world.network.counters(n).total_connections == 0 for n in sim_world.nodes)


def audited(sim_world, user: str, timeout: float = 5.0):
    """The audit entry of `user` (written just after the ack)."""
    entries = audit_rows(sim_world.inventory, 1, lambda e: e.slack_user == user, timeout)
    assert entries, f"no audit entry for {user}"
    return entries[0]


def nothing_public(fake) -> bool:
    return not fake.calls("chat.postMessage") and all(
        r.body.get("response_type") != "in_channel" and not r.body.get("replace_original")
        for r in fake.responses()
    )


# -- the rule --------------------------------------------------------------------------

RESTRICTED = Policy(frozenset({SUPPORT}), frozenset({ANA}), (N2,))


@pytest.mark.parametrize(
    ("policy", "user", "channel", "members", "expected"),
    [
        (Policy(), BETO, OTHER, None, (True, "open")),
        (Policy(channels=frozenset({SUPPORT})), BETO, SUPPORT, None, (True, "channel")),
        (Policy(channels=frozenset({SUPPORT})), BETO, OTHER, None, (False, "channel")),
        (RESTRICTED, ANA, SUPPORT, None, (True, "user")),
        (RESTRICTED, ANA, OTHER, None, (False, "channel")),
        (RESTRICTED, CARLA, SUPPORT, Members(frozenset({CARLA})), (True, "group")),
        (RESTRICTED, CARLA, OTHER, Members(frozenset({CARLA})), (False, "channel")),
        (RESTRICTED, BETO, SUPPORT, Members(frozenset({CARLA})), (False, "user")),
        (RESTRICTED, BETO, SUPPORT, Members(failed=(N2,)), (False, "unverified")),
        (RESTRICTED, ANA, SUPPORT, Members(failed=(N2,)), (True, "user")),
        (RESTRICTED, None, SUPPORT, Members(frozenset({CARLA})), (False, "user")),
        (Policy(users=frozenset({ANA})), ANA, OTHER, None, (True, "user")),
    ],
)
def test_decide(policy, user, channel, members, expected):
    decision = decide(policy, user, channel, members)
    assert (decision.allowed, decision.reason) == expected


def test_groups_are_looked_up_only_when_they_can_decide():
    assert not RESTRICTED.needs_groups(ANA, SUPPORT)  # listed by name
    assert not RESTRICTED.needs_groups(BETO, OTHER)  # wrong channel anyway
    assert RESTRICTED.needs_groups(BETO, SUPPORT)


def test_settings_parse_ids_and_handles():
    settings = Settings.from_env(
        {
            "BEHOLDER_ALLOWED_CHANNELS": f" {SUPPORT}, {ESCALATIONS} ,",
            "BEHOLDER_ALLOWED_USERS": ANA,
            "BEHOLDER_ALLOWED_USERGROUPS": f"{N2}, @Soporte-N2, guardia",
        }
    )
    assert settings.allowed_channels == {SUPPORT, ESCALATIONS}
    assert settings.allowed_users == {ANA}
    assert settings.allowed_usergroups == (N2, "@soporte-n2", "@guardia")
    assert Policy.from_settings(Settings()).open


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("BEHOLDER_ALLOWED_CHANNELS", "#soporte", "channel ids"),
        ("BEHOLDER_ALLOWED_CHANNELS", "general", "channel ids"),
        ("BEHOLDER_ALLOWED_USERS", "juan.perez", "member ids"),
        ("BEHOLDER_ALLOWED_USERS", f"{ANA} {BETO}", "member ids"),
        ("BEHOLDER_ALLOWED_USERGROUPS", "soporte n2", "user group ids"),
    ],
)
def test_settings_reject_names_where_ids_belong(name, value, says):
    with pytest.raises(ConfigError, match=says) as caught:
        Settings.from_env({name: value})
    assert name in str(caught.value)


# -- through Slack ---------------------------------------------------------------------


def test_open_config_answers_everyone_and_serve_warns(fake, start_serve, caplog):
    caplog.set_level(logging.INFO)
    start_serve()
    eid = fake.send_slash_command("juan.perez", user_id=BETO, channel_id=OTHER)
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["text"].startswith(READING)
    [warning] = [r for r in caplog.records if r.name == "bot.slack.access"]
    assert warning.levelno == logging.WARNING
    assert "open to everyone in the workspace" in warning.getMessage()


def test_restricted_serve_logs_the_policy_without_warning(fake, start_serve, caplog):
    caplog.set_level(logging.INFO)
    start_serve(allowed_channels=frozenset({SUPPORT}), allowed_usergroups=(N2,))
    [line] = [r for r in caplog.records if r.name == "bot.slack.access"]
    assert line.levelno == logging.INFO
    assert f"channels={SUPPORT}" in line.getMessage()


def test_allowed_user_in_allowed_channel_gets_the_reading(fake, start_bot):
    start_bot(allowed_channels=frozenset({SUPPORT}), allowed_users=frozenset({ANA}))
    eid = fake.send_slash_command("juan.perez", user_id=ANA, channel_id=SUPPORT)
    assert fake.wait_for_ack(eid).payload["text"].startswith("Consultando")
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["response_type"] == "in_channel"
    assert post.body["text"].startswith(READING)


def test_denied_by_channel(fake, start_bot, sim_world):
    start_bot(allowed_channels=frozenset({SUPPORT, ESCALATIONS}), allowed_users=frozenset({ANA}))
    eid = fake.send_slash_command("juan.perez", user_id=ANA, channel_id=OTHER)
    ack = fake.wait_for_ack(eid)
    assert ack.latency < 3
    text = ack.payload["text"]
    assert text.startswith("Beholder no atiende consultas en este canal")
    assert f"<#{SUPPORT}>" in text  # where to use it
    assert f"<#{ESCALATIONS}>" in text
    assert "quien administra Beholder" in text  # whom to ask
    assert ack.payload.get("response_type", "ephemeral") == "ephemeral"
    entry = audited(sim_world, ANA)
    assert (entry.outcome, entry.source, entry.channel, entry.query) == (
        "denied",
        "command",
        OTHER,
        "juan.perez",
    )
    assert fake.responses(key=eid) == []
    assert nothing_public(fake)
    assert routers_untouched(sim_world)


def test_denied_by_user(fake, start_bot, sim_world):
    start_bot(allowed_users=frozenset({ANA}))
    eid = fake.send_slash_command("juan.perez", user_id=BETO, channel_id=SUPPORT)
    text = fake.wait_for_ack(eid).payload["text"]
    assert text.startswith("No tenés permiso para consultar a Beholder")
    assert "Pedile acceso a quien administra Beholder" in text
    assert audited(sim_world, BETO).outcome == "denied"
    assert nothing_public(fake)
    assert routers_untouched(sim_world)


def test_allowed_and_denied_by_group(fake, start_bot, sim_world):
    start_bot(allowed_usergroups=(N2,))
    eid = fake.send_slash_command("juan.perez", user_id=CARLA, channel_id=OTHER)
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["text"].startswith(READING)
    sim_world.network.reset_counters()
    eid = fake.send_slash_command("juan.perez", user_id=BETO, channel_id=OTHER)
    text = fake.wait_for_ack(eid).payload["text"]
    assert f"los integrantes de <!subteam^{N2}>" in text
    assert f"Pedí que te sumen a <!subteam^{N2}>" in text
    assert audited(sim_world, BETO).outcome == "denied"
    assert routers_untouched(sim_world)


def test_group_by_handle(fake, start_bot):
    start_bot(allowed_usergroups=("@soporte-n2",))
    eid = fake.send_slash_command("juan.perez", user_id=CARLA)
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["text"].startswith(READING)
    assert len(fake.calls("usergroups.list")) == 1  # the handle, resolved to its id
    [members] = fake.calls("usergroups.users.list")
    assert members.params["usergroup"] == N2


def test_group_members_are_cached(fake, start_bot):
    clock = Clock()
    start_bot(allowed_usergroups=(N2,), clock=clock)
    # Ten at once with a cold cache: one lookup, shared.
    eids: list[str] = []
    senders = [
        threading.Thread(
            target=lambda: eids.append(fake.send_slash_command("juan.perez", user_id=CARLA))
        )
        for _ in range(10)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    for eid in eids:
        fake.wait_for_responses(key=eid, timeout=10)
    eid = fake.send_slash_command("juan.perez", user_id=CARLA)
    fake.wait_for_responses(key=eid)
    assert len(fake.calls("usergroups.users.list")) == 1  # the clock has not moved
    # Within the TTL the cached members still decide, even once Slack changed them;
    # after it the group is asked again: a member removed in Slack loses access.
    fake.usergroups[N2] = ("soporte-n2", [])
    clock.now += groups.GROUP_TTL - 1
    eid = fake.send_slash_command("juan.perez", user_id=CARLA)
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["text"].startswith(READING)
    assert len(fake.calls("usergroups.users.list")) == 1
    clock.now += 1
    eid = fake.send_slash_command("juan.perez", user_id=CARLA)
    assert fake.wait_for_ack(eid).payload["text"].startswith("No tenés permiso")
    assert len(fake.calls("usergroups.users.list")) == 2


def test_group_resolution_failure_denies_with_a_clear_message(fake, start_bot, sim_world, caplog):
    caplog.set_level(logging.INFO)
    start_bot(allowed_usergroups=(N2,))
    fake.fail_next(
        "usergroups.users.list",
        status=200,
        headers={},
        body={"ok": False, "error": "missing_scope"},
    )
    eid = fake.send_slash_command("juan.perez", user_id=CARLA)
    text = fake.wait_for_ack(eid).payload["text"]
    assert text.startswith(f"No pude comprobar si integrás <!subteam^{N2}>")
    assert "Probá de nuevo en un minuto" in text
    assert audited(sim_world, CARLA).outcome == "denied"
    assert routers_untouched(sim_world)
    assert any("missing_scope" in r.getMessage() for r in caplog.records)
    # A failure is not cached: the next question asks Slack again, and gets in.
    eid = fake.send_slash_command("juan.perez", user_id=CARLA)
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["text"].startswith(READING)


def test_slow_group_lookup_still_acks_in_time(fake, start_bot):
    start_bot(allowed_usergroups=(N2,))
    # A 429 asking for 4 s: the app's client would wait, the ack cannot.
    fake.fail_next("usergroups.users.list", status=429, headers={"Retry-After": "4"})
    eid = fake.send_slash_command("juan.perez", user_id=CARLA)
    ack = fake.wait_for_ack(eid)
    assert ack.latency < 3
    assert ack.payload["text"].startswith("No pude comprobar")


def _resolver(fake: GroupsFake, *names: str) -> groups.GroupResolver:
    return groups.GroupResolver(AsyncWebClient(token=fake.bot_token, base_url=fake.api_url), names)


def test_a_slow_lookup_is_warned_about_once_not_once_per_request(fake, caplog):
    """Regression: every request that waited past the deadline for the same slow lookup
    logged its own "did not resolve" WARNING (one per request in an outage). Now the
    lookup is warned about once; all are still denied, and it then fills the cache."""
    slack = fake.hold("usergroups.users.list")
    resolver = _resolver(fake, N2)

    async def ask() -> tuple[list[groups.Members], groups.Members]:
        waiting = await asyncio.gather(*(resolver.members(0.05) for _ in range(10)))
        slack.set()
        return waiting, await resolver.members(5)

    waiting, after = asyncio.run(ask())
    assert all(m.failed == (N2,) and not m.users for m in waiting)
    late = [r for r in caplog.records if "did not resolve" in r.getMessage()]
    assert len(late) == 1
    assert late[0].levelno == logging.WARNING
    assert after.users == {CARLA}
    assert not after.failed
    assert len(fake.calls("usergroups.users.list")) == 1


def test_a_lookup_every_request_gave_up_on_fails_once_and_quietly(fake, caplog):
    """A lookup that outlived every request waiting for it and then failed: one
    WARNING says so, nothing else does (no "Task exception was never retrieved"
    from the loop), and the failure is not cached: the next request asks again."""
    slack = fake.hold("usergroups.users.list")
    fake.fail_next(
        "usergroups.users.list",
        status=200,
        headers={},
        body={"ok": False, "error": "team_not_found"},
    )
    resolver = _resolver(fake, N2)
    loop_errors: list[str] = []

    async def ask() -> groups.Members:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _, context: loop_errors.append(context["message"]))
        await asyncio.gather(*(resolver.members(0.05) for _ in range(3)))
        slack.set()
        while len(asyncio.all_tasks()) > 1:  # the orphaned lookup fails meanwhile
            await asyncio.sleep(0.01)
        return await resolver.members(5)

    after = asyncio.run(ask())
    assert loop_errors == []
    failed = [r for r in caplog.records if "could not resolve" in r.getMessage()]
    assert len(failed) == 1
    assert "team_not_found" in failed[0].getMessage()
    assert after.users == {CARLA}
    assert len(fake.calls("usergroups.users.list")) == 2


def test_a_handle_lookup_failure_is_warned_about_by_group_name(fake, caplog):
    """Regression: usergroups.list failing logged a WARNING for a pseudo user group
    " handles" on top of one per group. Now each group it denies is named once."""
    fake.usergroups["S0GUARD"] = ("guardia", [BETO])
    fake.fail_next(
        "usergroups.list", status=200, headers={}, body={"ok": False, "error": "missing_scope"}
    )
    members = asyncio.run(_resolver(fake, "@soporte-n2", "@guardia").members(5))
    assert members.failed == ("@soporte-n2", "@guardia")
    assert not members.users
    warned = [r.getMessage() for r in caplog.records if "could not resolve" in r.getMessage()]
    assert len(warned) == 2
    assert "@soporte-n2: missing_scope" in warned[0]
    assert "@guardia: missing_scope" in warned[1]


def test_a_cancelled_lookup_denies_its_group_instead_of_raising(fake):
    """Regression: a group lookup cancelled mid-flight (as when the loop shuts down)
    made `members` raise CancelledError into every request waiting for it. Now its
    group is reported failed (denied), and the next request asks Slack again."""
    slack = fake.hold("usergroups.users.list")
    resolver = _resolver(fake, N2)

    async def ask() -> tuple[groups.Members, groups.Members]:
        waiting = asyncio.ensure_future(resolver.members(5))
        while not any(t.get_name() == f"user group {N2}" for t in asyncio.all_tasks()):
            await asyncio.sleep(0.01)
        [lookup] = [t for t in asyncio.all_tasks() if t.get_name() == f"user group {N2}"]
        lookup.cancel()
        denied = await waiting
        slack.set()
        return denied, await resolver.members(5)

    denied, after = asyncio.run(ask())
    assert denied.failed == (N2,)
    assert not denied.users
    assert after.users == {CARLA}
    assert not after.failed


def test_denied_mention_is_answered_only_to_its_author(fake, start_bot, sim_world):
    start_bot(allowed_channels=frozenset({SUPPORT}))
    fake.send_app_mention(
        "<@UBOT> consumo juan.perez",
        channel=ESCALATIONS,
        user=BETO,
        ts="1700000100.000200",
        thread_ts="1700000000.000100",
    )
    [call] = fake.wait_for_calls("chat.postEphemeral")
    assert (call.params["channel"], call.params["user"]) == (ESCALATIONS, BETO)
    assert call.params["thread_ts"] == "1700000000.000100"
    assert call.params["text"].startswith("Beholder no atiende consultas en este canal")
    entry = audited(sim_world, BETO)
    assert (entry.outcome, entry.source, entry.query) == ("denied", "mention", "juan.perez")
    assert nothing_public(fake)
    assert routers_untouched(sim_world)


def test_denied_button_click_keeps_the_message_and_tells_the_clicker(fake, start_bot, sim_world):
    start_bot(allowed_users=frozenset({ANA}))
    eid = fake.send_block_action(ACTION_REFRESH, "juan.perez", user_id=BETO)
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["response_type"] == "ephemeral"
    assert post.body["replace_original"] is False
    assert post.body["text"].startswith("No tenés permiso")
    entry = audited(sim_world, BETO)
    assert (entry.outcome, entry.source) == ("denied", "button")
    assert nothing_public(fake)
    assert routers_untouched(sim_world)


# -- deny by default: every kind of request, whatever listener it is for -----------------

OTHER_TEAM, OTHER_APP = "T0OTHER9", "A0OTHER9"
Payload = tuple[str, dict[str, Any]]  # (Socket Mode envelope type, payload)


def _click(action_id: str) -> Callable[..., Payload]:
    def build(user: str, channel: str, response_url: str, team: str, app: str) -> Payload:
        return "interactive", {
            "type": "block_actions",
            "user": {"id": user, "username": "x", "team_id": team},
            "api_app_id": app,
            "team": {"id": team, "domain": "isp"},
            "container": {"type": "message", "message_ts": "1700000000.000100"},
            "channel": {"id": channel, "name": "x"},
            "trigger_id": "1.2.3",
            "response_url": response_url,
            "message": {"type": "message", "ts": "1700000000.000100", "text": "x"},
            "actions": [
                {"action_id": action_id, "block_id": "b", "type": "button", "value": "juan.perez"}
            ],
        }

    return build


def _event(event: dict[str, Any], team: str, app: str) -> Payload:
    return "events_api", {
        "team_id": team,
        "api_app_id": app,
        "type": "event_callback",
        "event": {"team": team, "ts": "1700000000.000300", **event},
        "event_id": f"Ev{uuid.uuid4().hex[:10]}",
        "event_time": 1_700_000_000,
        "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}],
    }


#: Every kind of request, as Slack sends it, and the audit `source` it is denied as.
KINDS: dict[str, tuple[Callable[..., Payload], str]] = {
    "command": (
        lambda user, channel, url, team, app: (
            "slash_commands",
            {
                "team_id": team,
                "api_app_id": app,
                "channel_id": channel,
                "user_id": user,
                "command": COMMAND,
                "text": "juan.perez",
                "response_url": url,
                "trigger_id": "1.2.3",
            },
        ),
        "command",
    ),
    "mention": (
        lambda user, channel, url, team, app: _event(
            {"type": "app_mention", "user": user, "channel": channel, "text": "<@UBOT> juan.perez"},
            team,
            app,
        ),
        "mention",
    ),
    "refresh button": (_click(ACTION_REFRESH), "button"),
    "pick button": (_click(ACTION_PICK), "button"),
    "live button": (_click(ACTION_LIVE), "button"),
    "stop button": (_click(ACTION_LIVE_STOP), "button"),
    "diag button": (_click(ACTION_DIAG), "button"),
    "unnamed button (no rule)": (_click("consumo_export"), "action:consumo_export"),
    "message shortcut": (
        lambda user, channel, url, team, app: (
            "interactive",
            {
                "type": "message_action",
                "callback_id": SHORTCUT_MESSAGE,
                "trigger_id": "1.2.3",
                "team": {"id": team, "domain": "isp"},
                "user": {"id": user, "name": "x", "team_id": team},
                "channel": {"id": channel, "name": "x"},
                "message": {"type": "message", "ts": "1700000000.000200", "text": "juan.perez"},
                "message_ts": "1700000000.000200",
                "response_url": url,
            },
        ),
        "shortcut",
    ),
    "view submission": (
        lambda user, channel, url, team, app: (
            "interactive",
            {
                "type": "view_submission",
                "team": {"id": team, "domain": "isp"},
                "user": {"id": user, "team_id": team},
                "api_app_id": app,
                "view": {
                    "id": "V1",
                    "type": "modal",
                    "team_id": team,
                    "callback_id": "consumo_view",
                    "state": {"values": {}},
                },
            },
        ),
        "view",
    ),
    "message event (no rule)": (
        lambda user, channel, url, team, app: _event(
            {"type": "message", "user": user, "channel": channel, "text": "juan.perez"}, team, app
        ),
        "event:message",
    ),
    "bot message event (no rule)": (
        lambda user, channel, url, team, app: _event(
            {
                "type": "message",
                "subtype": "bot_message",
                "bot_id": "B0WORKFLOW",
                "user": user,
                "channel": channel,
                "text": "juan.perez",
            },
            team,
            app,
        ),
        "event:message",
    ),
}


def send_kind(
    fake: FakeSlack, kind: str, user: str, channel: str, team: str = TEAM_ID, app: str = APP_ID
) -> str:
    eid = str(uuid.uuid4())
    envelope, payload = KINDS[kind][0](user, channel, fake.response_url(eid), team, app)
    return fake.send_envelope(
        envelope,
        payload,
        accepts_response_payload=envelope == "slash_commands",
        envelope_id=eid,
        response_key=eid,
    )


def test_every_kind_of_request_is_denied_outside_the_lists(fake, start_bot, sim_world):
    """Beto, not allowed, in a channel not allowed: each kind of request (the command,
    a mention, each button, the message shortcut, a view, an event without a rule) is
    acked, reaches no router, posts nothing in the channel and is audited as denied.
    The message shortcut is the bug this pins: it was let through and answered."""
    start_bot(allowed_channels=frozenset({SUPPORT}), allowed_users=frozenset({ANA}))
    sent = {kind: send_kind(fake, kind, BETO, OTHER) for kind in KINDS}
    for eid in sent.values():
        fake.wait_for_ack(eid)
    entries = audit_rows(sim_world.inventory, len(KINDS))
    assert sorted(e.source for e in entries) == sorted(source for _, source in KINDS.values())
    assert {(e.outcome, e.slack_user) for e in entries} == {("denied", BETO)}
    assert routers_untouched(sim_world)
    assert nothing_public(fake)
    assert not fake.calls("chat.update")
    assert not fake.files
    # The shortcut's author is told why, privately, through its response_url.
    [told] = fake.wait_for_responses(key=sent["message shortcut"])
    assert told.body["response_type"] == "ephemeral"
    assert told.body["text"].startswith("Beholder no atiende consultas en este canal")


def test_a_button_access_control_does_not_name_is_refused(fake, start_bot, sim_world):
    """A listener added later for a new button (here: ``consumo_export``) does not run
    until `access.BUTTONS` names its action id, even for an allowed user in an allowed
    channel with open access: the click is acked, audited as denied, and its author
    told privately; a named button (Diagnosticar) still reaches its listener."""
    runner = start_bot()
    ran: list[dict[str, Any]] = []

    async def on_export(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        ran.append(body)

    runner.app.action("consumo_export")(on_export)
    eid = send_kind(fake, "unnamed button (no rule)", ANA, SUPPORT)
    [told] = fake.wait_for_responses(key=eid)
    assert told.body["response_type"] == "ephemeral"
    [entry] = audit_rows(sim_world.inventory, 1)
    assert (entry.outcome, entry.source) == ("denied", "action:consumo_export")
    assert ran == []
    assert routers_untouched(sim_world)
    eid = send_kind(fake, "diag button", ANA, SUPPORT)
    assert fake.wait_for_responses(key=eid)[0].body["text"].startswith("Diagnosticando")


def test_a_kind_without_a_rule_is_refused_even_for_allowed_users(fake, start_bot, sim_world):
    """A listener added later for a new kind of request (here: plain messages) does not
    run until access control knows that kind, even for an allowed user in an allowed
    channel, and even with open access; a bot's or workflow's message too (the bug
    this pins: any event with a ``bot_id`` skipped the check)."""
    runner = start_bot()
    ran: list[dict[str, Any]] = []

    async def on_message(event: dict[str, Any]) -> None:
        ran.append(event)

    runner.app.event("message")(on_message)
    for kind in ("message event (no rule)", "bot message event (no rule)"):
        fake.wait_for_ack(send_kind(fake, kind, ANA, SUPPORT))
    assert [e.outcome for e in audit_rows(sim_world.inventory, 2)] == ["denied", "denied"]
    eid = send_kind(fake, "command", ANA, SUPPORT)  # a known kind still goes through
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["text"].startswith(READING)
    assert ran == []


def test_the_kinds_table_covers_every_listener_the_app_registers(fake, sim_world):
    """Each listener `build_app` registers answers one of the KINDS above, and each of
    those is a kind with an access rule: a listener for anything else (a select menu's
    options, say) leaves this test failing until the table and `guarded` cover it."""
    app = build_app(slack_settings(fake), ReadingService(sim_world.inventory, sim_world.client()))

    async def kinds_of(listener: Any) -> list[str]:
        found = []
        for kind, (build, _) in KINDS.items():
            body = build(ANA, SUPPORT, "https://hooks.invalid/x", TEAM_ID, APP_ID)[1]
            request = AsyncBoltRequest(body=body, mode="socket_mode")
            if await listener.async_matches(req=request, resp=BoltResponse(status=200)):
                found.append(kind)
        return found

    listeners = list(app._async_listeners)
    assert len(listeners) >= 8  # command, mention, 5 buttons, shortcut
    for listener in listeners:
        kinds = asyncio.run(kinds_of(listener))
        assert kinds, f"no row of KINDS for {listener.ack_function.__qualname__}"
        for kind in kinds:
            body = KINDS[kind][0](ANA, SUPPORT, "", TEAM_ID, APP_ID)[1]
            request = access.guarded(body)
            assert request is not None, kind
            assert request.known, kind
            assert request.source == KINDS[kind][1]

    # The check can fail: a listener for select-menu options matches no row.
    async def options(ack: Any) -> None:
        await ack()

    app.options("consumo_options")(options)
    assert asyncio.run(kinds_of(app._async_listeners[-1])) == []


def _mention(**extra: Any) -> dict[str, Any]:
    event = {"type": "app_mention", "user": ANA, "channel": SUPPORT, "text": "<@UBOT> x"}
    return _event({**event, **extra}, TEAM_ID, APP_ID)[1]


def _message(**extra: Any) -> dict[str, Any]:
    event = {"type": "message", "user": ANA, "channel": SUPPORT, "text": "juan.perez"}
    return _event({**event, **extra}, TEAM_ID, APP_ID)[1]


@pytest.mark.parametrize(
    ("body", "unchecked"),
    [
        (_mention(bot_id="B0THIS"), True),  # the mention listener ignores bots
        (_mention(subtype="message_changed"), True),  # and edits
        (_mention(), False),
        (_message(bot_id="B0WORKFLOW"), False),
        (_message(subtype="bot_message", bot_id="B0WORKFLOW"), False),
        (
            _event({"type": "reaction_added", "user": ANA, "bot_id": "B0X"}, TEAM_ID, APP_ID)[1],
            False,
        ),
        ({"type": "url_verification", "challenge": "x"}, True),
    ],
)
def test_only_what_the_listeners_ignore_skips_the_access_check(body, unchecked):
    """Regression: `guarded` waved through (None, unchecked) any event with a
    ``bot_id`` whatever its type, so a later ``message`` listener would have run
    for bot- and workflow-authored messages in any channel. Only a bot's or an
    edited ``app_mention`` (and Slack's handshakes) skip the check; any other event
    with a ``bot_id`` is a kind without a rule, refused."""
    request = access.guarded(body)
    if unchecked:
        assert request is None
    else:
        assert request is not None
        assert request.known == (body["event"]["type"] == "app_mention")


# -- requests from another workspace or app are dropped -----------------------------------


@pytest.mark.parametrize(
    ("kind", "foreign"),
    [
        *(
            (kind, foreign)
            for kind in ("command", "mention", "refresh button")
            for foreign in ("team", "app")
        ),
        ("message shortcut", "team"),  # Slack sends message shortcuts without api_app_id
    ],
)
def test_requests_from_another_workspace_or_app_are_dropped(
    fake, start_bot, sim_world, caplog, kind, foreign
):
    """With access open to everyone, a request whose team_id or api_app_id is not this
    installation's (learned from auth.test) is acked and dropped: no
    router, no reply, no audit; one WARNING names the foreign ids."""
    caplog.set_level(logging.INFO)
    start_bot()
    ids = {"team": OTHER_TEAM} if foreign == "team" else {"app": OTHER_APP}
    ack = fake.wait_for_ack(send_kind(fake, kind, ANA, SUPPORT, **ids))
    assert not (ack.payload or {}).get("text")
    # Ours, sent after it, is answered: the foreign one had every chance to be too.
    eid = send_kind(fake, "command", ANA, SUPPORT)
    [post] = fake.wait_for_responses(key=eid)
    assert post.body["text"].startswith(READING)
    assert [p.key for p in fake.responses()] == [eid]
    assert not fake.calls("chat.postMessage")
    assert not fake.calls("chat.postEphemeral")
    assert [e.source for e in audit_rows(sim_world.inventory, 1)] == ["command"]
    assert sum(sim_world.network.counters(n).total_connections for n in sim_world.nodes) == 1
    [warning] = [r for r in caplog.records if r.getMessage().startswith("request dropped")]
    assert warning.levelno == logging.WARNING
    assert (OTHER_TEAM if foreign == "team" else OTHER_APP) in warning.getMessage()
    assert not fake.calls("bots.info")  # auth.test named the app: no users:read needed


def _auth_test_without_app_id(fake: FakeSlack) -> None:
    """auth.test as Slack answered it before it named the bot's app."""
    fake.fail_next(
        "auth.test",
        status=200,
        headers={},
        body={"ok": True, "team_id": TEAM_ID, "user_id": "U0BOT", "bot_id": BOT_ID},
    )


def test_an_auth_test_without_app_id_falls_back_to_bots_info(fake, sim_world):
    """Where auth.test gives no app_id, bots.info (granted users:read) tells it."""
    app = build_app(slack_settings(fake), ReadingService(sim_world.inventory, sim_world.client()))
    _auth_test_without_app_id(fake)
    installation = asyncio.run(access.identify(app))
    assert (installation.team_id, installation.app_id) == (TEAM_ID, APP_ID)
    [bots_info] = fake.calls("bots.info")
    assert bots_info.params["bot"] == BOT_ID


def test_without_an_app_id_requests_are_still_checked_by_team(fake, sim_world, caplog):
    """Neither auth.test nor bots.info (no users:read) names the app: serve starts with a
    WARNING saying so, and another workspace's requests are still dropped."""
    app = build_app(slack_settings(fake), ReadingService(sim_world.inventory, sim_world.client()))
    _auth_test_without_app_id(fake)
    fake.fail_next(
        "bots.info", status=200, headers={}, body={"ok": False, "error": "missing_scope"}
    )
    installation = asyncio.run(access.identify(app))
    assert installation.app_id is None
    assert any("checked by team only" in r.getMessage() for r in caplog.records)
    assert installation.foreign({"team_id": OTHER_TEAM, "api_app_id": APP_ID}) is not None
    assert installation.foreign({"team_id": TEAM_ID, "api_app_id": OTHER_APP}) is None


def test_serve_does_not_start_when_slack_cannot_be_reached(fake, sim_world):
    """Regression: auth.test's connection reset at start (Slack or a proxy unreachable)
    escaped `identify` as aiohttp's ServerDisconnectedError, a traceback from
    ``beholder serve``, instead of the ConfigError saying what to check."""
    app = build_app(slack_settings(fake), ReadingService(sim_world.inventory, sim_world.client()))
    fake.drop_next("auth.test", times=2)  # slack_sdk retries a reset once
    with pytest.raises(ConfigError, match=r"ServerDisconnectedError.*reachable"):
        asyncio.run(access.identify(app))
    # Not kept: asked again, Slack answers and the installation is learned.
    assert asyncio.run(access.identify(app)).team_id == TEAM_ID


def test_serve_does_not_start_without_knowing_its_workspace(fake, sim_world):
    """auth.test refused (a revoked token): a ConfigError saying what to check, instead
    of serving requests it cannot tell apart from another workspace's."""
    app = build_app(slack_settings(fake), ReadingService(sim_world.inventory, sim_world.client()))
    fake.fail_next("auth.test", status=200, headers={}, body={"ok": False, "error": "invalid_auth"})
    with pytest.raises(ConfigError, match=r"invalid_auth.*SLACK_BOT_TOKEN"):
        asyncio.run(access.identify(app))
