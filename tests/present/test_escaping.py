"""Everything shown in Slack is escaped: no value from outside becomes live markup.

Router, CSV and operator text (PPPoE names, node names, comments, IPs, MACs,
customer names, what was typed) goes into every kind of message Beholder posts
with Slack's control sequences in it. Whatever the message, none survives as a
mention, a link or formatting: ``<`` ``>`` ``&`` arrive as entities, and mrkdwn
markers (``*_~`` and backticks) only inside code spans, where Slack formats nothing.
`markup.literal` is the one function that does it; its own properties come last.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.assess import assessed
from bot.domain.live import LiveView
from bot.errors import (
    AmbiguousQuery,
    BeholderError,
    ConfigError,
    InputError,
    InventoryError,
    InventoryUnavailable,
    NodeNotInInventory,
    PullDeferred,
    RouterAuthFailed,
    RouterBusy,
    RouterCertificateError,
    RouterCircuitOpen,
    RouterProtocolError,
    RouterRefused,
    RouterReplyTooLarge,
    RouterTimeout,
    RouterTLSError,
    RouterUnreachable,
    UnknownUser,
    UserNotConfirmed,
)
from bot.model import (
    Connection,
    Diagnosis,
    Flow,
    Hit,
    Match,
    PingResult,
    Plan,
    QueueState,
    Reading,
    Sample,
    Secret,
    Session,
    Traffic,
)
from bot.present import live as live_texts
from bot.present import markup
from bot.present.terminal import terminal
from bot.slack import blocks
from bot.slack.listeners import live as slack_live
from tests.support.fake_slack import FakeSlack

#: A value carrying every Slack control sequence an attacker (or a careless admin) could type.
HOSTILE = "<!channel> <@U123> <https://x|y> & *b* _i_ ~s~ `c`"
#: What must never come out of a value: a broadcast, a mention, a link.
LIVE_MARKUP = ("<!channel", "<@U123", "<https://x")
#: The value's mrkdwn, which may only appear inside a code span.
FORMATTING = ("*b*", "_i_", "~s~", "`c`")
#: How the value looks once escaped (proof that it did reach the message).
ESCAPED = "&lt;!channel&gt;"
TAKEN = datetime(2026, 11, 28, 17, 32, 5, tzinfo=UTC)
PLAN = Plan(50_000_000, 10_000_000)

_CODE_SPAN = re.compile(r"`[^`\n]*`")
_BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def shown_texts(message: Any, mrkdwn: bool = True) -> Iterator[tuple[str, bool]]:
    """Every text Slack renders in a message: (text, whether it is mrkdwn).
    The top-level ``text`` is mrkdwn; text objects say their type."""
    if isinstance(message, dict):
        if message.get("type") in ("plain_text", "mrkdwn") and isinstance(message.get("text"), str):
            yield message["text"], message["type"] == "mrkdwn"
            return
        for key, item in message.items():
            if key == "text" and isinstance(item, str):
                yield item, mrkdwn
            elif key not in ("value", "action_id", "block_id"):
                yield from shown_texts(item, mrkdwn)
    elif isinstance(message, list):
        for item in message:
            yield from shown_texts(item, mrkdwn)


def assert_inert(text: str, mrkdwn: bool = True) -> None:
    for sequence in LIVE_MARKUP:
        assert sequence not in text, text
    assert not _BARE_AMPERSAND.search(text), text
    if mrkdwn:
        outside_code = _CODE_SPAN.sub("", text)
        for fragment in FORMATTING:
            assert fragment not in outside_code, text


def check(message: Any, *, carries_value: bool = True) -> None:
    found = list(shown_texts(message))
    assert found
    for text, mrkdwn in found:
        assert_inert(text, mrkdwn)
    if carries_value:
        assert any(ESCAPED in text for text, _ in found), found


# -- every kind of message, with the hostile value in every field ------------------------


def online(**changes: object) -> Reading:
    values: dict[str, object] = dict(
        user=HOSTILE,
        node=HOSTILE,
        taken_at=TAKEN,
        secret=Secret(HOSTILE, HOSTILE, profile=HOSTILE, comment=HOSTILE),
        session=Session(HOSTILE, HOSTILE, HOSTILE, 3600),
        traffic=Traffic(45_200_000, 2_100_000),
        queue=QueueState(plan=PLAN),
        also_on=(HOSTILE, HOSTILE),
        unavailable=(RouterTimeout(HOSTILE, "x", user=HOSTILE, seconds=5),),
    )
    values.update(changes)
    return assessed(Reading(**values))  # type: ignore[arg-type]


def offline(**changes: object) -> Reading:
    secret = Secret(
        HOSTILE,
        HOSTILE,
        last_logged_out=HOSTILE,
        last_caller_id=HOSTILE,
        last_disconnect_reason=HOSTILE,
        comment=HOSTILE,
    )
    values: dict[str, object] = dict(
        user=HOSTILE, node=HOSTILE, taken_at=TAKEN, secret=secret, also_on=(HOSTILE,)
    )
    values.update(changes)
    return assessed(Reading(**values))  # type: ignore[arg-type]


def readings() -> list[Reading]:
    customer = Connection(HOSTILE, HOSTILE, HOSTILE, 300_000_000, 30_000_000, HOSTILE)
    suspended = Connection(HOSTILE, HOSTILE, HOSTILE, None, None, "suspendido")
    return [
        *(
            online(match=Match(HOSTILE, how, HOSTILE, HOSTILE), customer=customer, linked=True)
            for how in ("ip", "mac", "key", "name", "comment", "pulled")
        ),
        online(customer=suspended, linked=True),
        online(linked=False, queue=None),
        offline(),
        offline(secret=Secret(HOSTILE, HOSTILE, disabled=True)),
    ]


def errors() -> list[BeholderError]:
    router = [
        kind(HOSTILE, HOSTILE, user=HOSTILE)
        for kind in (
            RouterUnreachable,
            RouterRefused,
            RouterAuthFailed,
            RouterTLSError,
            RouterProtocolError,
        )
    ]
    return [
        *router,
        RouterTimeout(HOSTILE, user=HOSTILE, seconds=5),
        RouterBusy(HOSTILE, user=HOSTILE, seconds=2, sessions=4),
        RouterCircuitOpen(
            HOSTILE, user=HOSTILE, since_s=3, retry_in_s=27, cause=RouterRefused(HOSTILE)
        ),
        InputError(HOSTILE, "invalid"),
        UnknownUser(HOSTILE, (HOSTILE, HOSTILE)),
        UnknownUser(HOSTILE),
        NodeNotInInventory(HOSTILE, HOSTILE),
        InventoryError(HOSTILE),
        ConfigError(HOSTILE),
        # The kinds "Trust" and "Bounded" added: a certificate refused (pinned or not), a
        # reply past its ceiling, routers not asked or not answering, a damaged file.
        RouterCertificateError(HOSTILE, HOSTILE, user=HOSTILE),
        RouterCertificateError(HOSTILE, user=HOSTILE, pinned="a" * 64, presented="b" * 64),
        *(
            RouterReplyTooLarge(HOSTILE, user=HOSTILE, kind=kind, ceiling=16)
            for kind in ("rows", "bytes", "words", "field", "empty")
        ),
        UserNotConfirmed(HOSTILE, (HOSTILE,), unchecked=(RouterRefused(HOSTILE, user=HOSTILE),)),
        *(
            PullDeferred(HOSTILE, (HOSTILE,), reason=r, limit=5, retry_in_s=30)
            for r in ("rate", "busy")
        ),
        *(
            InventoryUnavailable(HOSTILE, reason, HOSTILE)
            for reason in ("corrupt", "read_only", "cannot_open", "locked", "full", "io")
        ),
    ]


def live_views() -> list[LiveView]:
    samples = [Sample(0, TAKEN, Traffic(44_000_000, 2_000_000)), Sample(1, TAKEN, None)]

    def view(**changes: object) -> LiveView:
        values: dict[str, object] = dict(
            id="v1",
            user=HOSTILE,
            node=HOSTILE,
            seconds=30,
            plan=PLAN,
            started_by="U0001",
            samples=list(samples),
            watchers=["U0002"],
        )
        values.update(changes)
        return LiveView(**values)  # type: ignore[arg-type]

    failure = RouterTimeout(HOSTILE, user=HOSTILE, seconds=5)
    return [
        view(),
        *(view(outcome=o) for o in ("completed", "stopped", "offline", "cancelled", "failed")),
        view(outcome="failed", error=failure),
    ]


def test_readings_in_every_state_are_inert():
    """Online, offline, disabled, duplicated, a node unavailable, found by each kind of
    match, with a customer (name, id, status), its plan or suspension warnings."""
    for reading in readings():
        check(blocks.reading_message(reading, UTC, requested_by="U0001"))


def test_errors_candidates_and_notes_are_inert():
    """Every error kind (router faults naming the node and user, what was typed, unknown
    users with suggestions, nodes missing), the candidates list, the ack and our own
    failure; the access denial, which holds no outside value, too."""
    for err in errors():
        check(blocks.error_message(err))
    hits = (Hit(HOSTILE, "name", HOSTILE), Hit(HOSTILE, "key"))
    check(blocks.candidates_message(AmbiguousQuery(HOSTILE, hits)))
    check(blocks.unexpected_message(HOSTILE))
    check(blocks.consulting_message(HOSTILE))
    for reason in ("channel", "user", "unverified", "kind"):
        check(
            blocks.denied_message(reason, ["C0123ABCD"], ["S0123ABCD"], True),
            carries_value=False,
        )


def test_diagnoses_are_inert():
    """A diagnosis of every verdict, its ping address and its flows' remote addresses
    and protocols from the router, the offline note and the "Diagnosticando…" state."""
    flow = Flow(HOSTILE, HOSTILE, 1935, 40_000_000, 900_000)
    portless = Flow(HOSTILE, HOSTILE, None, 1_000, 0)
    ping = PingResult(HOSTILE, 10, 7, 40.0, 45.0, 50.0, 4.0)
    for diagnosis in (
        Diagnosis("last_mile", ping, (flow, portless)),
        Diagnosis("dominant_flow", ping, (flow,), dominant=flow),
        Diagnosis("healthy", ping, ()),
        Diagnosis("inconclusive", None, ()),
    ):
        check(blocks.diagnosis_message(online(), diagnosis, UTC, requested_by="U0001"))
    check(blocks.diagnosis_message(offline(), None, UTC))
    check(blocks.diagnosing_message(HOSTILE))


def test_live_views_and_their_notes_are_inert():
    """The live message running and however it ended, the chart's comment, title and
    alt text, and the notes about a view (offline, busy, node full)."""
    for view in live_views():
        check(blocks.live_message(view))
        assert_inert(live_texts.live_report(view))  # the chart's initial_comment (mrkdwn)
        for plain_text in (live_texts.live_chart_title(view), live_texts.live_chart_alt(view)):
            assert_inert(plain_text, mrkdwn=False)
            assert ESCAPED in plain_text
        check(
            blocks.live_note_message(live_texts.live_busy(view, "https://isp.slack.com/p1", None))
        )
    check(blocks.live_note_message(live_texts.live_offline(HOSTILE, HOSTILE)))
    check(blocks.live_note_message(live_texts.live_node_full(HOSTILE, 2)))


def test_the_chart_posted_to_slack_is_inert():
    """The end of a live view through the real Slack client and the fake Slack: the
    final message, and the PNG's title and initial_comment. The PPPoE name in the
    comment was posted unescaped before (the bug this pins)."""
    view = live_views()[1]
    with FakeSlack() as fake:

        async def finish() -> None:
            client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
            posted = await client.chat_postMessage(channel="C0001", text="live")
            view.ref = slack_live.LiveRef("C0001", posted["ts"], posted["ts"])
            await slack_live._finish(client, view, UTC)

        asyncio.run(finish())
        [update] = fake.calls("chat.update")
        check({"text": update.params["text"], "blocks": update.params["blocks"]})
        [upload] = fake.files
    assert_inert(upload.initial_comment)
    assert ESCAPED in upload.initial_comment
    assert_inert(upload.title, mrkdwn=False)


# -- the one escaping function -----------------------------------------------------------


def _decoded(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@settings(max_examples=300, deadline=None)
@given(st.text(), st.sampled_from(["text", "plain", "code", "bold"]))
def test_literal_leaves_nothing_live_and_keeps_the_value(value, style):
    """No ``<``, ``>`` nor bare ``&`` out of any value; decoding the entities gives the
    value back (a backtick inside a code span, which Slack cannot show, as ˋ); a value
    with mrkdwn markers is exactly one code span."""
    shown = markup.literal(value, style)
    assert "<" not in shown
    assert ">" not in shown
    assert not _BARE_AMPERSAND.search(shown)
    if style == "text":
        assert _decoded(shown) == value
        return
    has_markers = any(c in value for c in "*_~`")
    if style == "code" or has_markers:
        assert shown.startswith("`")
        assert shown.endswith("`")
        assert "`" not in shown[1:-1]
        assert _decoded(shown[1:-1]) == value.replace("`", markup.BACKTICK_SHOWN)
    elif style == "bold":
        assert _decoded(shown) == f"*{value}*"
    else:
        assert _decoded(shown) == value


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="*_~`\n")))
def test_terminals_get_back_what_the_router_has(value):
    """`plain`, for the CLI and the demo, undoes the escaping: the operator's terminal
    shows the name as typed, ``&`` and ``<`` included."""
    assert markup.plain(markup.literal(value)) == value
    assert markup.plain(markup.literal(value, "bold")) == value


_OBEYED = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))


@settings(max_examples=200, deadline=None)
@given(st.text(), st.integers(min_value=2, max_value=300))
def test_terminal_text_holds_nothing_a_terminal_obeys(value, limit):
    """`terminal` (what the CLI prints of router, CSV and certificate text)
    leaves no control, format, separator or surrogate character and never exceeds
    its limit; text without any, short enough, is printed unchanged."""
    shown = terminal(value, limit)
    assert len(shown) <= limit
    assert not [c for c in shown if unicodedata.category(c) in _OBEYED]
    if len(value) <= limit and not [c for c in value if unicodedata.category(c) in _OBEYED]:
        assert shown == value
