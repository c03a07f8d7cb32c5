"""BEHOLDER_LANG: both catalogs alike, and every message rendered in each language.

`every_message` drives the real functions (`bot.present`, `bot.slack.blocks`, the
chart, the demo's terminal renderer, the end of a Slack live view) through every
case they have: readings online / offline / with a customer / with warnings /
duplicated, every error in `bot.errors`, ambiguous candidates, access denied,
usage and live views. Under each language it must use every key of the catalog
and leave no ``{placeholder}`` behind, nor a word of the other language.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import string
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from PIL import ImageDraw
from slack_sdk.errors import SlackClientError

from bot import errors
from bot.api import shapes as api_shapes
from bot.cli import demo
from bot.config import LANGUAGES, Settings
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
    RouterError,
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
from bot.model import Flow as DiagFlow
from bot.present import diagnosis as diagnosis_texts
from bot.present import errors as error_texts
from bot.present import lang, numbers
from bot.present import live as live_texts
from bot.present import reading as reading_texts
from bot.present.chart import render_chart
from bot.present.lang import en, es
from bot.slack import blocks
from bot.slack.listeners import live as slack_live
from tests.conftest import beholder

TAKEN = datetime(2026, 11, 28, 17, 32, 5, tzinfo=UTC)
PLAN = Plan(download_bps=50_000_000, upload_bps=10_000_000)
JUAN = Connection("juan.perez", "1001", "Juan Perez", 50_000_000, 10_000_000, "active")

#: Words that only the Spanish catalog may produce, and only the English one.
SPANISH_ONLY = (
    "Bajada",
    "Subida",
    "Consultando",
    "router no respondió",
    "Muestra",
    "sesión",
    "Actualizar",
    "Detener",
    "En vivo",
    "Probá",
    "Plan desconocido",
    "segundos",
    "s/d",
    "Usuario",
    "usuario",
    "abonado",
    "de",
    "en",
    "del",
    "que",
    "por",
    "hace",
    "Sin",
    "no encontré",
)
ENGLISH_ONLY = (
    "Download",
    "Upload",
    "Checking",
    "didn't",
    "Refresh",
    "Sample",
    "session",
    "Live",
    "seconds",
    "n/a",
    "user",
    "the",
    "of",
    "on",
    "for",
    "No active",
)


@pytest.fixture(autouse=True)
def spanish_again() -> Iterator[None]:
    """Each test may switch language; the next one starts in Spanish."""
    yield
    lang.use("es")


# -- the catalogs ----------------------------------------------------------------------


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_both_catalogs_have_the_same_keys_and_placeholders():
    assert set(es.MESSAGES) == set(en.MESSAGES)
    for key, template in es.MESSAGES.items():
        assert fields(template) == fields(en.MESSAGES[key]), key


def test_spanish_is_the_default_and_unknown_languages_are_refused():
    assert lang.current() == "es"
    assert numbers.mbps(1_234_567_000) == "1.235 Mbps"
    lang.use("en")
    assert lang.current() == "en"
    assert numbers.mbps(1_234_567_000) == "1,235 Mbps"
    assert numbers.mbps(45_234_000) == "45.2 Mbps"
    assert numbers.duration(2 * 604_800 + 86_400) == "2 w 1 d"
    with pytest.raises(ValueError, match="es or en"):
        lang.use("fr")
    assert lang.current() == "en"


def test_beholder_lang_setting():
    assert Settings.from_env({}).lang == "es"
    assert Settings.from_env({"BEHOLDER_LANG": " EN "}).lang == "en"
    with pytest.raises(ConfigError, match="BEHOLDER_LANG must be es or en"):
        Settings.from_env({"BEHOLDER_LANG": "pt"})


# -- every message, rendered by the real functions ---------------------------------------------


def online(**changes: object) -> Reading:
    values: dict[str, object] = dict(
        user="juan.perez",
        node="bras-norte",
        taken_at=TAKEN,
        secret=Secret("juan.perez", "bras-norte", profile="plan-50M", comment="Perez, Juan <vip>"),
        session=Session("juan.perez", "10.20.0.15", "AA:BB:CC:00:11:22", 2 * 86400 + 3 * 3600),
        traffic=Traffic(download_bps=45_200_000, upload_bps=2_100_000),
        queue=QueueState(plan=PLAN),
    )
    values.update(changes)
    return assessed(Reading(**values))  # type: ignore[arg-type]


def offline(**changes: object) -> Reading:
    secret = Secret(
        "carlos.lopez",
        "bras-sur",
        last_logged_out="2026-11-28 09:12:44",
        last_caller_id="AA:BB:CC:99:88:77",
        last_disconnect_reason="hung-up",
    )
    values: dict[str, object] = dict(
        user="carlos.lopez", node="bras-sur", taken_at=TAKEN, secret=secret
    )
    values.update(changes)
    return assessed(Reading(**values))  # type: ignore[arg-type]


def diagnoses() -> list[Diagnosis]:
    """One of each verdict, with and without a ping and flows."""
    lossy = PingResult("10.20.0.15", 10, 7, 41.2, 45.0, 49.9, 3.1)
    clean = PingResult("10.20.0.15", 10, 10, 1.0, 1.2, 2.0, 0.2)
    silent = PingResult("10.20.0.15", 10, 0)
    rtmp = DiagFlow("203.0.113.9", "tcp", 1935, 40_000_000, 900_000)
    flows = (
        rtmp,
        DiagFlow("8.8.8.8", "udp", 53, 20_000, 10_000),
        DiagFlow("10.0.0.1", "icmp", None, 1, 1),
    )
    return [
        Diagnosis("last_mile", lossy, flows),
        Diagnosis("last_mile", silent),
        Diagnosis("dominant_flow", clean, flows, dominant=rtmp),
        Diagnosis("healthy", clean),
        Diagnosis("inconclusive", None),
        Diagnosis("inconclusive", None, flows, ping_unmeasured="no_address"),
        Diagnosis("inconclusive", None, ping_unmeasured="refused", torch_unmeasured=True),
        Diagnosis("last_mile", PingResult("10.20.0.15", 4, 3, asked=10), partial=True),
    ]


def readings() -> list[Reading]:
    timeout = RouterTimeout("bras-centro", "x", user="juan.perez", seconds=5)
    return [
        # saturating, found by IP, linked to an active customer
        online(match=Match("juan.perez", "ip", "10.20.0.15", "10.20.0.15"), customer=JUAN),
        # low use, the management system sells another plan
        online(
            traffic=Traffic(3_000_000, 500_000),
            match=Match("juan.perez", "key", "", "juanperez"),
            customer=Connection("juan.perez", "1001", "Juan Perez", 300_000_000, 30_000_000),
            linked=True,
        ),
        # moderate upload, suspended yet online, dropping, just reconnected
        online(
            traffic=Traffic(2_000_000, 6_000_000),
            session=Session("juan.perez", "10.20.0.15", "AA:BB:CC:00:11:22", 120),
            queue=QueueState(plan=PLAN, dropped_download=12_345),
            match=Match("juan.perez", "name", "Perez, Juan", "perez"),
            customer=Connection("juan.perez", "", "", None, None, "suspendido"),
            linked=True,
        ),
        # no dynamic queue, not linked, found by the comment
        online(
            queue=None,
            match=Match("juan.perez", "comment", "Perez, Juan", "perez"),
            linked=False,
            customer=None,
        ),
        # the session ended during the reading, found by MAC, duplicated, one node unknown
        online(
            traffic=None,
            match=Match("juan.perez", "mac", "AA:BB:CC:00:11:22", "aabbcc001122"),
            also_on=("bras-sur",),
            unavailable=(timeout,),
        ),
        # offline, pulled from the routers, duplicated, one node unavailable
        offline(
            match=Match("carlos.lopez", "pulled", "", "carlos.lopez"),
            also_on=("bras-norte", "bras-centro"),
            unavailable=(timeout,),
        ),
        # disabled, with no data from the router
        offline(secret=Secret("carlos.lopez", "bras-sur", disabled=True)),
    ]


def every_error() -> list[BeholderError]:
    hits = (Hit("maria.gomez", "name", "Gomez, Maria - Belgrano 123"), Hit("pedro.gomez", "key"))
    router_errors: list[RouterError] = []
    for user in ("juan.perez", None):
        router_errors += [
            RouterError("bras-norte", "x", user=user),
            RouterUnreachable("bras-norte", "x", user=user),
            RouterRefused("bras-norte", "x", user=user),
            RouterTimeout("bras-norte", "x", user=user, seconds=5),
            RouterBusy("bras-norte", "x", user=user, seconds=2.5, sessions=4),
            RouterAuthFailed("bras-norte", "x", user=user),
            RouterTLSError("bras-norte", "x", user=user),
            RouterCertificateError("bras-norte", "x", user=user),
            RouterCertificateError(
                "bras-norte", "x", user=user, pinned="ab" * 32, presented="cd" * 32
            ),
            RouterProtocolError("bras-norte", "x", user=user),
            RouterReplyTooLarge("bras-norte", "x", user=user, kind="rows", ceiling=16),
            RouterReplyTooLarge("bras-norte", "x", user=user, kind="bytes", ceiling=1 << 20),
            RouterReplyTooLarge("bras-norte", "x", user=user, kind="bytes", ceiling=64 << 10),
            RouterReplyTooLarge("bras-norte", "x", user=user, kind="words", ceiling=1024),
            RouterReplyTooLarge("bras-norte", "x", user=user, kind="empty", ceiling=4),
            RouterReplyTooLarge("bras-norte", "x", user=user, kind="field", ceiling=4096),
            RouterCircuitOpen("bras-norte", "x", user=user, since_s=12, retry_in_s=18),
        ]
    causes = (
        RouterTimeout("bras-norte", seconds=5),
        RouterRefused("bras-norte"),
        RouterUnreachable("bras-norte"),
        RouterTLSError("bras-norte"),
        RouterCertificateError("bras-norte"),
        RouterProtocolError("bras-norte"),
        RouterReplyTooLarge("bras-norte", kind="rows", ceiling=200_000),
    )
    router_errors += [
        RouterCircuitOpen("bras-norte", user="juan.perez", since_s=3, retry_in_s=27, cause=c)
        for c in causes
    ]
    return [
        BeholderError("x"),
        ConfigError("missing MIKROTIK_PASSWORD"),
        InputError("", "empty"),
        InputError("x" * 300, "too_long"),
        InputError("juan perez!!\x07", "invalid"),
        InventoryError("there is no node named 'bras-oeste'"),
        UnknownUser("juan.peres", ("juan.perez", "juana.perez")),
        UnknownUser("zzz"),
        UserNotConfirmed(
            "alta.nueva",
            unchecked=(
                RouterTimeout("bras-sur", seconds=5),
                RouterBusy("bras-este", seconds=5, sessions=4),
                RouterCircuitOpen("bras-oeste", cause=RouterRefused("bras-oeste")),
                RouterCircuitOpen("bras-centro"),
            ),
        ),
        PullDeferred("alta.nueva", ("alta.nuevo",), reason="rate", limit=5, retry_in_s=42.3),
        PullDeferred("alta.nueva", reason="busy", limit=4, retry_in_s=5),
        AmbiguousQuery("gomez", hits),
        NodeNotInInventory("juan.perez", "bras-oeste"),
        *(
            InventoryUnavailable("/srv/beholder.db", reason, "database disk image is malformed")
            for reason in ("corrupt", "read_only", "cannot_open", "locked", "full", "io")
        ),
        *router_errors,
    ]


def sample(offset: float, download: int | None, upload: int = 0) -> Sample:
    traffic = None if download is None else Traffic(download, upload)
    return Sample(offset, TAKEN, traffic)


def live_views() -> list[LiveView]:
    samples = [sample(0, 44_000_000, 2_000_000), sample(1.02, 47_500_000, 2_400_000)]
    samples.append(sample(2.01, 40_100_000, 1_900_000))

    def view(**changes: object) -> LiveView:
        values: dict[str, object] = dict(
            id="v1",
            user="juan.perez",
            node="bras-norte",
            seconds=30,
            plan=PLAN,
            started_by="U0001",
            samples=list(samples),
            watchers=["U0002", "U0003"],
        )
        values.update(changes)
        return LiveView(**values)  # type: ignore[arg-type]

    timeout = RouterTimeout("bras-norte", "x", user="juan.perez", seconds=5)

    def queued(dropped: int) -> list[Sample]:
        """The samples, their queue's download drops growing by `dropped` in all."""
        grows = [0, dropped // 2, dropped]
        return [
            Sample(s.offset_s, s.taken_at, s.traffic, QueueState(PLAN, 500 + d, 7))
            for s, d in zip(samples, grows, strict=True)
        ]

    return [
        view(),
        view(samples=[], plan=None, started_by=None, watchers=[]),
        view(samples=[*samples, sample(3.0, None)], plan=None),
        view(outcome="completed"),
        view(outcome="stopped", stopped_by="U0002"),
        view(outcome="stopped"),
        view(outcome="offline", samples=[*samples, sample(3.0, None)]),
        view(outcome="cancelled", samples=[], plan=None, started_by=None, watchers=[]),
        view(outcome="failed", error=timeout),
        view(outcome="failed"),
        view(outcome="completed", samples=queued(12_345)),
        view(outcome="stopped", samples=queued(1)),
    ]


class FakeSlackClient:
    """Just what the end of a live view calls; the upload may fail."""

    def __init__(self, upload_fails: bool = False) -> None:
        self.upload_fails = upload_fails
        self.calls: list[dict[str, object]] = []

    async def chat_update(self, **kwargs: object) -> None:
        self.calls.append(kwargs)

    async def chat_postMessage(self, **kwargs: object) -> None:
        self.calls.append(kwargs)

    async def files_upload_v2(self, **kwargs: object) -> None:
        if self.upload_fails:
            raise SlackClientError("no files:write")
        self.calls.append({k: v for k, v in kwargs.items() if k != "file"})


def strings(value: object) -> Iterator[str]:
    """Every string in a message (dicts and lists walked; ids and action names skipped)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in {"action_id", "block_id", "type", "value", "channel", "ts"}:
                yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


def every_message() -> list[str]:
    """Each sentence Beholder can say, rendered in the active language."""
    out: list[str] = []
    for bps in (None, 0, 2_100_000, 45_234_000, 1_234_567_000):
        out.append(numbers.mbps(bps))
    out += [numbers.percent(None), numbers.percent(90.4), numbers.plan_label(None)]
    for seconds in (None, 0, 45, 4 * 3600 + 720, 2 * 86400 + 3 * 3600, 2 * 604_800 + 86_400):
        out.append(numbers.duration(seconds))
    codes = [k.removeprefix("disconnect.") for k in es.MESSAGES if k.startswith("disconnect.")]
    out += [reading_texts.disconnect_reason(code) for code in [*codes, "", "weird-code"]]

    for reading in readings():
        out += [reading_texts.summary(reading), *reading_texts.verdict_lines(reading)]
        out += reading_texts.reading_lines(reading, UTC)
        message = blocks.reading_message(reading, UTC, requested_by="U0001")
        out += strings(message)
        out.append(demo.render(message))
        out.append(demo.render(blocks.reading_message(reading, UTC, requested_by="U0DEMO"), True))
    out += strings(blocks.consulting_message("juan.perez"))
    for diagnosis in diagnoses():
        out += diagnosis_texts.diagnosis_lines(diagnosis)
        out += strings(blocks.diagnosis_message(readings()[0], diagnosis, UTC, "U0001"))
    out += strings(blocks.diagnosis_message(offline(), None, UTC))
    busy = RouterBusy("bras-centro", "x", user="juan.perez", seconds=5, sessions=4)
    out += strings(blocks.diagnosis_message(readings()[0], None, UTC, failed=busy))
    out += strings(blocks.diagnosing_message("juan.perez"))

    for err in every_error():
        out.append(error_texts.error(err))
        out.append(api_shapes.error_answer(err).body["message"])
        out += strings(blocks.error_message(err))
        if isinstance(err, AmbiguousQuery):
            out += strings(blocks.candidates_message(err))
            out.append(demo.render(blocks.candidates_message(err), ephemeral=True))
    out += [error_texts.unexpected("juan.perez"), error_texts.unexpected(None)]
    out += strings(blocks.unexpected_message("juan.perez"))
    out += strings(blocks.usage_message())
    out += strings(blocks.help_message(3, 120))

    for reason, channels, groups, listed in (
        ("channel", ["C0123ABCD"], [], False),
        ("channel", ["C0123ABCD", "C0456EFGH", "C0789IJKL"], ["S0123ABCD"], True),
        ("unverified", [], ["S0123ABCD", "@soporte-n2"], False),
        ("user", [], ["S0123ABCD"], True),
        ("user", [], ["@soporte-n2"], False),
        ("user", [], [], True),
        ("kind", ["C0123ABCD"], [], True),
    ):
        out += strings(blocks.denied_message(reason, channels, groups, listed))

    out += [
        answer.body["message"]
        for answer in (
            api_shapes.unauthorized(),
            api_shapes.kind_refused(),
            api_shapes.api_disabled(),
            api_shapes.no_such_route("/admin"),
            api_shapes.method_not_allowed("POST"),
            api_shapes.body_not_allowed(),
            api_shapes.path_too_long(512),
            api_shapes.too_many_connections(256, 5),
        )
    ]

    for view in live_views():
        out += [
            live_texts.live_title(view),
            live_texts.live_progress(view),
            live_texts.live_now(view, "download"),
            live_texts.live_now(view, "upload"),
            live_texts.live_spread(view, "download"),
            live_texts.live_ended(view),
            live_texts.live_summary(view),
            live_texts.live_requested(view),
            live_texts.live_report(view),
            live_texts.live_chart_alt(view),
            live_texts.live_busy(view, "https://example.slack.com/archives/C1/p1"),
            live_texts.live_busy(view, None, "C0123ABCD"),
            live_texts.live_busy(view, None),
        ]
        out += strings(blocks.live_message(view))
    out += [
        live_texts.live_full(1),
        live_texts.live_full(5),
        live_texts.live_node_full("bras-norte", 1),
        live_texts.live_node_full("bras-norte", 2),
        live_texts.live_offline("carlos.lopez", "bras-sur"),
        live_texts.live_not_in_channel(),
        live_texts.live_not_posted("ServerDisconnectedError"),
        live_texts.live_no_spare_session(),
        live_texts.live_closing(),
        live_texts.live_already_over(),
        live_texts.live_chart_failed(),
        live_texts.live_usage(120),
        error_texts.nothing_in_message(),
        error_texts.invite_needed(),
    ]
    out += strings(blocks.live_note_message(live_texts.live_already_over()))
    out += strings(blocks.nothing_in_message())
    out += strings(blocks.invite_needed())
    out += strings(blocks.live_button("juan.perez"))

    out += chart_words()
    out += live_end_words()
    return out


def chart_words() -> list[str]:
    """The words drawn on the chart (with and without samples and plan)."""
    drawn: list[str] = []
    original = ImageDraw.ImageDraw.text

    def text(self: ImageDraw.ImageDraw, xy: object, words: str, *args: object, **kw: object):
        drawn.append(words)
        return original(self, xy, words, *args, **kw)  # type: ignore[arg-type]

    ImageDraw.ImageDraw.text = text  # type: ignore[method-assign]
    try:
        samples = [sample(0, 44_000_000, 2_000_000), sample(1, 47_500_000, 2_400_000)]
        render_chart(samples, Plan(1_500_000, 512_000), user="juan.perez", node="bras-norte")
        render_chart([], None, user="juan.perez", node="bras-norte", subtitle="x")
    finally:
        ImageDraw.ImageDraw.text = original  # type: ignore[method-assign]
    return drawn


def live_end_words() -> list[str]:
    """What the end of a Slack live view posts: the final update and the chart upload."""
    out: list[str] = []
    for upload_fails in (False, True):
        view = live_views()[3]
        view.user = "juan perez/"  # made safe for a file name
        view.ref = slack_live.LiveRef("C0123ABCD", "1.0", "1.0")
        client = FakeSlackClient(upload_fails)
        asyncio.run(slack_live._finish(client, view, UTC))  # type: ignore[arg-type]
        view.user = ""  # nothing left: the file name falls back on a word
        asyncio.run(slack_live._finish(client, view, UTC))  # type: ignore[arg-type]
        for call in client.calls:
            out += strings(call)
    return out


class Recording(dict[str, str]):
    """A catalog that remembers which keys were read."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__(messages)
        self.used: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.used.add(key)
        return super().__getitem__(key)


def words(text: str, vocabulary: tuple[str, ...]) -> list[str]:
    """Those of `vocabulary` in `text` as words (RouterOS codes like ``user-request`` aside)."""
    return [w for w in vocabulary if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]


#: Slack's date syntax carries a literal ``{time_secs}``; router data is not ours.
_SLACK_DATE = re.compile(r"<!date\^[^>]*>")


@pytest.mark.parametrize(
    ("code", "foreign"), [("es", ENGLISH_ONLY), ("en", SPANISH_ONLY)], ids=["es", "en"]
)
def test_every_message_renders_in_each_language(code, foreign, monkeypatch):
    catalog = Recording(dict(lang.CATALOGS[code]))
    monkeypatch.setitem(lang.CATALOGS, code, catalog)
    lang.use(code)

    out = every_message()

    assert catalog.used == set(catalog), f"never rendered: {sorted(set(catalog) - catalog.used)}"
    text = _SLACK_DATE.sub("", "\n".join(out))
    assert not re.findall(r"\{\w*[^}\s]*\}", text)
    assert words(text, foreign) == []


def test_spanish_output_is_what_it_always_was():
    """Spot checks of exact Spanish (the other test files hold many more)."""
    reading = readings()[0]
    assert reading_texts.summary(reading) == (
        "juan.perez en bras-norte: Bajada 45,2 Mbps · 90 % de 50 Mbps; "
        "Subida 2,10 Mbps · 21 % de 10 Mbps."
    )
    assert reading_texts.verdict_lines(readings()[2])[1] == (
        "La cola del plan está descartando paquetes (12.345 en esta sesión)."
    )
    assert error_texts.error(RouterTimeout("bras-norte", user="juan.perez", seconds=5)).startswith(
        "El router *bras-norte* no respondió a tiempo (5 s) al consultar `juan.perez`."
    )


def test_english_reading(monkeypatch):
    lang.use("en")
    reading = readings()[0]
    assert reading_texts.summary(reading) == (
        "juan.perez on bras-norte: Download 45.2 Mbps · 90% of 50 Mbps; "
        "Upload 2.10 Mbps · 21% of 10 Mbps."
    )
    message = blocks.reading_message(reading, UTC)
    body = "\n".join(strings(message))
    for expected in ("*Download*", "*Upload*", "*Connected for*\n2 d 3 h", "Refresh", "Live 30 s"):
        assert expected in body, expected
    assert reading_texts.verdict_lines(readings()[2])[1] == (
        "The plan's queue is dropping packets (12,345 this session)."
    )


def test_every_error_type_is_covered():
    kinds = {
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, BeholderError)
    }
    assert kinds == {type(err) for err in every_error()}


# -- the command line ------------------------------------------------------------------------


def test_beholder_lang_en_makes_the_cli_speak_english(synced):
    result = beholder({**synced, "BEHOLDER_LANG": "en"}, "consumo", "juan.perez")
    assert result.returncode == 0, result.stderr
    assert "Download:" in result.stdout
    assert "45.2 Mbps · 90% of 50 Mbps" in result.stdout
    assert "Bajada" not in result.stdout

    result = beholder({**synced, "BEHOLDER_LANG": "en"}, "consumo", "carlos.lopez")
    assert "NO ACTIVE PPPoE SESSION" in result.stdout

    result = beholder({**synced, "BEHOLDER_LANG": "en"}, "consumo", "juan.peres")
    assert result.returncode == 3
    assert "I couldn't find `juan.peres`" in result.stderr
    assert "Did you mean" in result.stderr


def test_spanish_stays_the_cli_default(synced):
    result = beholder(synced, "consumo", "juan.perez")
    assert "Bajada:" in result.stdout
    assert "Download" not in result.stdout


def test_unknown_beholder_lang_is_a_clear_error(env):
    result = beholder({**env, "BEHOLDER_LANG": "fr"}, "consumo", "juan.perez")
    assert result.returncode == 2
    assert "BEHOLDER_LANG must be es or en" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_settings_accept_exactly_the_languages_there_are_catalogs_for():
    """BEHOLDER_LANG is checked in bot.config, below the catalogs: a language added
    to one list and not the other would pass the check and fail at the first reply."""
    assert tuple(lang.CATALOGS) == LANGUAGES
    for code in LANGUAGES:
        assert Settings.from_env({"BEHOLDER_LANG": code}).lang == code
