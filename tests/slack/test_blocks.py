"""Rendering a reading: Spanish text, figures, Block Kit limits (pure functions)."""

from datetime import UTC, datetime

import pytest

from bot.domain.assess import assessed
from bot.errors import (
    InputError,
    NodeNotInInventory,
    RouterAuthFailed,
    RouterBusy,
    RouterProtocolError,
    RouterRefused,
    RouterTimeout,
    RouterTLSError,
    RouterUnreachable,
    UnknownUser,
)
from bot.model import Plan, QueueState, Reading, Secret, Session, Traffic
from bot.present import numbers
from bot.present.reading import reading_json
from bot.slack import blocks
from bot.slack.ids import ACTION_REFRESH

TAKEN = datetime(2026, 11, 28, 17, 32, 5, tzinfo=UTC)


def online(**changes):
    values = dict(
        user="juan.perez",
        node="bras-norte",
        taken_at=TAKEN,
        secret=Secret("juan.perez", "bras-norte", profile="plan-50M", comment="Pérez, Juan <vip>"),
        session=Session("juan.perez", "10.20.0.15", "AA:BB:CC:00:11:22", 2 * 86400 + 3 * 3600),
        traffic=Traffic(download_bps=45_200_000, upload_bps=2_100_000),
        queue=QueueState(plan=Plan(download_bps=50_000_000, upload_bps=10_000_000)),
    )
    values.update(changes)
    return assessed(Reading(**values))


def offline(**changes):
    secret = Secret(
        "carlos.lopez",
        "bras-sur",
        last_logged_out="2026-11-28 09:12:44",
        last_caller_id="AA:BB:CC:99:88:77",
        last_disconnect_reason="hung-up",
    )
    return assessed(
        Reading(user="carlos.lopez", node="bras-sur", taken_at=TAKEN, secret=secret, **changes)
    )


def all_text(message):
    return repr(message["blocks"]) + message["text"]


@pytest.mark.parametrize(
    ("bps", "text"),
    [
        (45_234_000, "45,2 Mbps"),
        (2_100_000, "2,10 Mbps"),
        (512_000_000, "512 Mbps"),
        (1_234_567_000, "1.235 Mbps"),
        (0, "0,00 Mbps"),
        (None, "s/d"),
    ],
)
def test_mbps_is_decimal_with_es_ar_comma(bps, text):
    assert numbers.mbps(bps) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (45, "45 s"),
        (3600 * 4 + 720, "4 h 12 min"),
        (2 * 86400 + 3 * 3600 + 59, "2 d 3 h"),
        (86400, "1 d"),
        (0, "0 s"),
        (None, "s/d"),
    ],
)
def test_duration(seconds, text):
    assert numbers.duration(seconds) == text


def test_percent_of_plan():
    reading = online()
    assert reading.download_pct == pytest.approx(90.4)
    assert reading.upload_pct == pytest.approx(21.0)


def test_summary_text_has_the_figures_for_notifications():
    text = blocks.reading_message(online(), UTC)["text"]
    assert text == (
        "juan.perez en bras-norte: Bajada 45,2 Mbps · 90 % de 50 Mbps; "
        "Subida 2,10 Mbps · 21 % de 10 Mbps."
    )


def test_reading_blocks_show_everything_an_operator_needs():
    message = blocks.reading_message(online(), UTC, requested_by="U0001")
    body = all_text(message)
    for expected in (
        "Bajada",
        "Subida",
        "45,2 Mbps",
        "90 %",
        "50/10 Mbps",
        "10.20.0.15",
        "AA:BB:CC:00:11:22",
        "2 d 3 h",
        "bras-norte",
        "<@U0001>",
        "<!date^",
    ):
        assert expected in body, expected
    [header] = [b for b in message["blocks"] if b["type"] == "header"]
    assert "juan.perez" in header["text"]["text"]


def test_router_comment_cannot_inject_markup():
    body = all_text(blocks.reading_message(online(), UTC))
    assert "&lt;vip&gt;" in body
    assert "<vip>" not in body


def test_refresh_button_carries_the_user():
    message = blocks.reading_message(online(user="20513"), UTC)
    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    refresh, live, diag = actions["elements"]
    assert (refresh["action_id"], refresh["value"]) == (ACTION_REFRESH, "20513")
    assert (live["action_id"], live["value"], live["text"]["text"]) == (
        "consumo_live",
        "20513",
        "En vivo 30 s",
    )
    assert (diag["action_id"], diag["value"], diag["text"]["text"]) == (
        "consumo_diag",
        "20513",
        "Diagnosticar",
    )
    offline_actions = [
        b for b in blocks.reading_message(offline(), UTC)["blocks"] if b["type"] == "actions"
    ]
    assert [e["action_id"] for e in offline_actions[0]["elements"]] == [ACTION_REFRESH]


def test_unknown_plan_is_said_not_guessed():
    reading = online(queue=None)
    message = blocks.reading_message(reading, UTC)
    assert "Plan desconocido" in message["text"]
    assert "sin cola dinámica" in all_text(message)
    assert reading_json(reading)["plan_download_bps"] is None


def test_offline_shows_last_logout_reason_and_mac():
    message = blocks.reading_message(offline(), UTC)
    body = all_text(message)
    assert "sin sesión PPPoE activa" in message["text"]
    for expected in (
        "2026-11-28 09:12:44",
        "se cortó el enlace con la CPE (hung-up)",
        "AA:BB:CC:99:88:77",
    ):
        assert expected in body


def test_duplicate_user_is_flagged():
    body = all_text(blocks.reading_message(online(also_on=("bras-sur",)), UTC))
    assert "duplicado" in body
    assert "bras-sur" in body


def test_unreachable_duplicate_is_flagged():
    failure = RouterTimeout("bras-sur", seconds=5)
    body = all_text(
        blocks.reading_message(offline(also_on=("bras-sur",), unavailable=(failure,)), UTC)
    )
    assert "No se pudo consultar *bras-sur*" in body


def test_block_kit_limits_hold_for_huge_values():
    reading = online(
        user="u" * 64, secret=Secret("u" * 64, "n", comment="x" * 5000, profile="p" * 3000)
    )
    message = blocks.reading_message(reading, UTC)
    for block in message["blocks"]:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
    assert len(message["blocks"]) <= 50


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (InputError("", "empty"), "Uso: `/consumo"),
        (
            UnknownUser("juan.peres", ("juan.perez", "juana.perez")),
            "¿Quisiste decir: `juan.perez`, `juana.perez`?",
        ),
        (UnknownUser("zzz"), "No encontré `zzz` en ningún router"),
        (NodeNotInInventory("x.y", "bras-viejo"), "*bras-viejo*, pero ese nodo no figura"),
        (
            RouterTimeout("bras-norte", user="x.y", seconds=5),
            "no respondió a tiempo (5 s) al consultar `x.y`",
        ),
        (
            RouterRefused("bras-norte", user="x.y"),
            "rechazó la conexión a la API al consultar `x.y`",
        ),
        (RouterAuthFailed("bras-norte", user="x.y"), "rechazó el usuario o la contraseña"),
        (RouterTLSError("bras-norte", user="x.y"), "API-SSL"),
        (RouterProtocolError("bras-norte", user="x.y"), "cortó la sesión"),
        (RouterUnreachable("bras-norte", user="x.y"), "No hay conexión con el router *bras-norte*"),
    ],
)
def test_every_error_says_what_and_what_to_do(error, expected):
    message = blocks.error_message(error)
    assert expected in message["text"]
    assert "Traceback" not in message["text"]


def with_customer(**changes):
    from bot.model import Connection

    customer = Connection("juan.perez", "1001", "Juan Pérez", 50_000_000, 10_000_000, "activo")
    values = {"customer": customer, "linked": True}
    values.update(changes)
    return online(**values)


def test_linked_customer_is_shown():
    body = all_text(blocks.reading_message(with_customer(), UTC))
    assert "Cliente *Juan Pérez* (N.º 1001)" in body
    assert ":warning:" not in body


def test_unlinked_secret_says_no_vinculado():
    body = all_text(blocks.reading_message(online(linked=False), UTC))
    assert "*No vinculado*" in body


def test_no_management_data_no_line():
    assert "vinculado" not in all_text(blocks.reading_message(online(), UTC))


def test_plan_mismatch_is_flagged():
    from bot.model import Connection

    customer = Connection("juan.perez", "1001", "Juan Pérez", 100_000_000, 20_000_000, "activo")
    reading = with_customer(customer=customer)
    body = all_text(blocks.reading_message(reading, UTC))
    assert (
        "El plan del sistema de gestión (100/20 Mbps) no coincide con la cola del router (50/10 Mbps)"
        in body
    )
    assert reading_json(reading)["warnings"] == ["plan_mismatch"]


def test_suspended_customer_online_is_flagged():
    from bot.model import Connection

    customer = Connection("juan.perez", "1001", "Juan Pérez", 50_000_000, 10_000_000, "Suspendido")
    body = all_text(blocks.reading_message(with_customer(customer=customer), UTC))
    assert "figura «Suspendido» en el sistema de gestión, pero tiene la sesión PPPoE activa" in body
    offline_body = all_text(blocks.reading_message(offline(customer=customer, linked=True), UTC))
    assert "Suspendido»" not in offline_body


def test_candidates_message_has_one_button_per_subscriber():
    from bot.errors import AmbiguousQuery
    from bot.model import Hit

    err = AmbiguousQuery(
        "perez", (Hit("juan.perez", "name"), Hit("ana.perez", "comment", "Pérez, Ana <x>"))
    )
    message = blocks.candidates_message(err)
    buttons = [b["accessory"]["value"] for b in message["blocks"] if "accessory" in b]
    assert buttons == ["juan.perez", "ana.perez"]
    assert "&lt;x&gt;" in repr(message["blocks"])
    assert "«perez» coincide con 2 abonados" in message["text"]


def test_circuit_open_says_since_when_and_when_it_retries():
    from bot.errors import RouterCircuitOpen

    err = RouterCircuitOpen(
        "bras-norte", user="x.y", since_s=12, retry_in_s=18, cause=RouterTimeout("bras-norte")
    )
    text = blocks.error_message(err)["text"]
    assert "*bras-norte* falló recién (no respondió a tiempo), hace 12 s al consultar `x.y`" in text
    assert "dentro de 18 s" in text


@pytest.mark.parametrize(
    ("download", "upload", "kind", "text"),
    [
        (
            47_000_000,
            1_000_000,
            "saturated",
            "Usa el 94 % del plan (bajada): está saturando su propio enlace.",
        ),
        (42_500_000, 1_000_000, "saturated", "Usa el 85 % del plan (bajada)"),
        (42_000_000, 1_000_000, "moderate", "Uso moderado (84 % del plan, bajada)"),
        (10_000_000, 1_000_000, "moderate", "Uso moderado (20 % del plan, bajada)"),
        (9_900_000, 1_000_000, "low", "Uso bajo (20 % del plan): el problema no es consumo"),
        (
            1_500_000,
            300_000,
            "low",
            "Uso bajo (3 % del plan): el problema no es consumo; revisar señal, WiFi o la CPE.",
        ),
        (1_000_000, 9_500_000, "saturated", "Usa el 95 % del plan (subida)"),
    ],
)
def test_verdict_thresholds(download, upload, kind, text):
    from bot.domain.assess import verdict

    reading = online(traffic=Traffic(download_bps=download, upload_bps=upload))
    assert verdict(reading).kind == kind
    assert text in blocks.reading_message(reading, UTC)["blocks"][1]["text"]["text"]


def test_verdict_offline_disabled_and_unknown_plan():
    from bot.domain.assess import verdict

    assert verdict(offline()).kind == "offline"
    disabled = assessed(
        Reading(
            user="carlos.lopez",
            node="bras-sur",
            taken_at=TAKEN,
            secret=Secret("carlos.lopez", "bras-sur", disabled=True),
        )
    )
    assert "deshabilitado" in blocks.reading_message(disabled, UTC)["blocks"][1]["text"]["text"]
    assert verdict(online(queue=None)).kind == "unknown_plan"


def test_verdict_signs_queue_drops_and_recent_reconnect():
    reading = online(
        session=Session("juan.perez", "10.0.0.1", "AA:BB:CC:00:11:22", 120),
        queue=QueueState(plan=Plan(50_000_000, 10_000_000), dropped_download=1234),
    )
    text = blocks.reading_message(reading, UTC)["blocks"][1]["text"]["text"]
    assert "La cola del plan está descartando paquetes (1.234 en esta sesión)." in text
    assert "Reconectó hace 2 min: puede ser un enlace inestable." in text


def test_queued_bytes_without_drops_are_not_called_dropping():
    """Regression: any queued bytes marked the queue as dropping, and the verdict
    said "is dropping packets (0 in this session)". Queued bytes with nothing
    dropped are normal shaping: no sign at all."""
    from bot.domain.assess import verdict

    shaping = online(
        queue=QueueState(plan=Plan(50_000_000, 10_000_000), queued_bytes_download=4500)
    )
    assert "queue_dropping" not in verdict(shaping).signs
    assert "descartando" not in all_text(blocks.reading_message(shaping, UTC))
    dropping = online(
        queue=QueueState(
            plan=Plan(50_000_000, 10_000_000), queued_bytes_download=4500, dropped_download=7
        )
    )
    assert verdict(dropping).signs == ("queue_dropping",)
    assert verdict(dropping).dropped == 7


@pytest.mark.parametrize("typed", ["x` <!channel>", "<!here>", "<@U0BOSS>", "a&b <#C1|general>"])
def test_echoed_operator_text_cannot_mention_anyone(typed):
    """Regression (found by the fuzz test): errors echoed `<!channel>` unescaped,
    so the bot itself notified the whole channel."""
    for message in (blocks.error_message(UnknownUser(typed)), blocks.consulting_message(typed)):
        rendered = message["text"] + repr(message.get("blocks", []))
        assert "<!" not in rendered
        assert "<@" not in rendered
        assert "<#" not in rendered


def test_control_characters_are_not_echoed():
    message = blocks.error_message(InputError("juan\x1b[31m\x00", "invalid"))
    assert "\x1b" not in message["text"]
    assert "\x00" not in message["text"]
    assert "juan�[31m�" in message["text"]


def test_a_diagnosis_that_failed_still_shows_the_reading_and_why():
    """The reading stood but its diagnosis could not run: the message is the
    reading, with a warning first that says the diagnosis failed and the fault's
    own sentence (which router, what to do), in the notification text too."""
    busy = RouterBusy("bras-norte", "x", user="juan.perez", seconds=5, sessions=4)
    message = blocks.diagnosis_message(online(), None, UTC, failed=busy)
    assert message["text"].startswith(":warning: No se pudo diagnosticar. ")
    assert "bras-norte" in message["text"].split("\n")[0]
    shown = all_text(message)
    assert "No se pudo diagnosticar" in shown
    assert "45,2 Mbps" in shown  # the reading's download is still there
    assert "no hay nada que diagnosticar" not in shown
