"""ADR-005's HTTP API (`bot.api`) on the real listener, against the RouterOS simulator.

`serve_http` (what ``beholder serve --http`` runs) serves Slack's events and the
API's routes on one aiohttp app; it runs on its own thread and loop, on
127.0.0.1 port 0, and is asked over real HTTP. Every JSON answer is validated
against the schema ``/openapi.json`` gives for its path and status, so the
document cannot drift from what is served. Each error status comes from its
real cause: a simulator fault, the session caps, the breaker, the inventory.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from bot.api.routes import MAX_PATH, openapi_document
from bot.model import Node
from bot.routeros.breaker import CircuitBreaker
from bot.serve.http import EVENTS_PATH, serve_http
from bot.sim import faults
from tests.conftest import LoopThread, World, audit_rows, slack_settings

TOKEN = "tok-noc-dashboard-0123456789abcdef"
OTHER_TOKEN = "tok-ticketing-system-fedcba9876543210"
ORIGIN = "https://noc.example.net"

DOC = openapi_document()
_REGISTRY = Registry().with_resource("urn:beholder:openapi", DRAFT202012.create_resource(DOC))


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def call(
    url: str,
    *,
    token: str | None = TOKEN,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
) -> Answer:
    """One request; the answer parsed as JSON when it is JSON."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, got, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        status, got, raw = exc.code, dict(exc.headers), exc.read()
    is_json = got.get("Content-Type", "").startswith("application/json")
    return Answer(status, got, json.loads(raw) if is_json else raw.decode())


def conforms(answer: Answer, path: str = "/live/{pppoe_user}") -> Any:
    """`answer` is what /openapi.json says `path` answers with its status: the body
    matches the schema, and the headers it lists are there. Returns the body."""
    response = DOC["paths"][path]["get"]["responses"][str(answer.status)]
    for header in response.get("headers", {}):
        assert header in answer.headers, f"{header} missing from a {answer.status}"
    pointer = "/".join(["paths", path.replace("/", "~1"), "get", "responses", str(answer.status)])
    schema = {"$ref": f"urn:beholder:openapi#/{pointer}/content/application~1json/schema"}
    jsonschema.Draft202012Validator(schema, registry=_REGISTRY).validate(answer.body)
    return answer.body


def routers_untouched(sim_world) -> bool:
    return all(sim_world.network.counters(n).total_connections == 0 for n in sim_world.nodes)


@contextlib.contextmanager
def api_servers(fake, world: World, tmp_path) -> Iterator[Callable[..., str]]:
    """``start(**settings)`` runs `serve_http` over `world` on 127.0.0.1, port 0,
    and returns the listener's base URL; ``client`` overrides the router client's
    options. Every listener started is stopped on exit."""
    threads: list[LoopThread] = []

    def start(client: dict[str, Any] | None = None, **overrides: Any) -> str:
        overrides.setdefault("api_tokens", (TOKEN, OTHER_TOKEN))
        settings = slack_settings(
            fake,
            db_path=tmp_path / "beholder.db",
            slack_signing_secret="8f742231b10e8888abcd99yyyzzz85a5",
            **overrides,
        )
        ready: queue.Queue[str] = queue.Queue()
        router = world.client(**(client or {}))
        coro = serve_http(settings, "127.0.0.1", 0, router, on_ready=ready.put)
        threads.append(LoopThread(coro, "serve_http").start())
        return ready.get(timeout=10).removesuffix(EVENTS_PATH)

    try:
        yield start
    finally:
        for thread in threads:
            thread.stop()


@pytest.fixture
def start_api(fake, sim_world, tmp_path) -> Iterator[Callable[..., str]]:
    """``start_api(**settings)``: `api_servers` over the usual routers."""
    with api_servers(fake, sim_world, tmp_path) as start:
        yield start


# -- a reading -------------------------------------------------------------------------


def test_live_reading_is_the_adrs_json_with_download_the_routers_tx(start_api, sim_world):
    """juan.perez: router tx 45.2 Mbps is the download, rx 2.1 the upload, on a 50/10
    plan; the verdict is the domain's (saturated, 90.4 %) with its Spanish sentence."""
    base = start_api()
    answer = call(f"{base}/live/juan.perez")
    assert answer.status == 200
    body = conforms(answer)
    assert body["user"] == "juan.perez"
    assert body["node"] == "bras-norte"
    assert body["online"] is True
    assert (body["download_mbps"], body["upload_mbps"]) == (45.2, 2.1)
    assert (body["plan_download_mbps"], body["plan_upload_mbps"]) == (50.0, 10.0)
    assert body["share_of_plan_pct"] == 90.4
    assert body["verdict"]["code"] == "saturated"
    assert body["verdict"]["sentence"].startswith("Usa el 90 % del plan (bajada)")
    assert body["session"] == {
        "address": "100.64.0.10",
        "mac": "AA:BB:CC:00:00:10",
        "uptime_s": 3 * 3600,
    }
    assert body["customer"] is None
    assert body["taken_at"].endswith("Z")
    assert body["also_on"] == []
    assert answer.headers["Cache-Control"] == "no-store"


def test_live_accepts_an_ip_or_a_url_encoded_mac_like_consumo(start_api):
    base = start_api()
    by_ip = call(f"{base}/live/100.64.0.10")
    by_mac = call(f"{base}/live/{quote('AA:BB:CC:00:00:10', safe='')}")
    assert (by_ip.status, by_mac.status) == (200, 200)
    assert by_ip.body["user"] == by_mac.body["user"] == "juan.perez"


def test_offline_user_has_no_session_and_no_rates(start_api):
    base = start_api()
    body = conforms(call(f"{base}/live/carlos.lopez"))
    assert body["online"] is False
    assert (body["session"], body["download_mbps"], body["upload_mbps"]) == (None, None, None)
    assert body["verdict"]["code"] == "offline"


def test_duplicated_user_names_the_other_node_and_its_language_follows_settings(start_api):
    """ana.martinez is configured on both routers and online on bras-sur."""
    from bot.present import lang

    lang.use("en")
    try:
        base = start_api()
        body = conforms(call(f"{base}/live/ana.martinez"))
    finally:
        lang.use("es")
    assert (body["node"], body["also_on"]) == ("bras-sur", ["bras-norte"])
    assert body["verdict"]["code"] == "moderate"
    assert body["verdict"]["sentence"].startswith("Moderate use (40% of the plan, download)")


def test_every_call_is_audited_with_source_api_and_the_tokens_label(start_api, sim_world):
    base = start_api()
    assert call(f"{base}/live/juan.perez", token=OTHER_TOKEN).status == 200
    assert call(f"{base}/live/juan.perez", token="not-a-configured-token-at-all").status == 401
    rows = audit_rows(sim_world.inventory, 2, lambda e: e.source == "api")
    assert sorted((r.outcome, r.slack_user) for r in rows) == [("denied", ""), ("ok", "api:2")]
    stored = repr(sim_world.inventory.audit())
    assert OTHER_TOKEN not in stored
    assert "not-a-configured-token-at-all" not in stored


# -- 401: no token, no router, no lookup ---------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="none"),
        pytest.param("Bearer not-a-configured-token-at-all", id="wrong"),
        pytest.param(f"Basic {TOKEN}", id="other-scheme"),
        pytest.param(f"Bearer {TOKEN[:-1]}", id="a-prefix"),
        pytest.param("Bearer " + "x" * 5000, id="huge"),
    ],
)
def test_without_a_valid_token_401_and_no_router_is_asked(start_api, sim_world, authorization):
    """A name missing from the inventory, which a lookup would pull from every router:
    refused with 401, no router got a connection."""
    base = start_api()
    headers = {} if authorization is None else {"Authorization": authorization}
    answer = call(f"{base}/live/nadie.todavia", token=None, headers=headers)
    assert answer.status == 401
    assert conforms(answer)["error"] == "unauthorized"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert routers_untouched(sim_world)


def test_api_is_off_without_tokens(start_api, sim_world):
    base = start_api(api_tokens=())
    answer = call(f"{base}/live/juan.perez")
    assert answer.status == 404
    assert conforms(answer)["error"] == "api_disabled"
    assert routers_untouched(sim_world)


# -- each error from its cause ---------------------------------------------------------------


def test_unknown_user_404_with_suggestions(start_api):
    base = start_api()
    answer = call(f"{base}/live/juan.peres")
    assert answer.status == 404
    body = conforms(answer)
    assert body["error"] == "not_found"
    assert "juan.perez" in body["suggestions"]
    assert "juan.peres" in body["message"]


def test_ambiguous_query_409_with_candidates(start_api):
    base = start_api()
    answer = call(f"{base}/live/cliente1")
    assert answer.status == 409
    names = [c["user"] for c in conforms(answer)["candidates"]]
    assert "cliente10" in names


def test_text_that_cannot_be_a_user_400(start_api, sim_world):
    base = start_api()
    answer = call(f"{base}/live/{quote('juan' + chr(7), safe='')}")
    assert answer.status == 400
    assert conforms(answer)["error"] == "bad_request"
    assert routers_untouched(sim_world)


def test_stalled_router_504_within_the_deadline(start_api, sim_world):
    base = start_api(client={"timeout": 0.5})
    sim_world.network.set_fault("bras-norte", faults.STALL_LOGIN)
    answer = call(f"{base}/live/juan.perez")
    assert answer.status == 504
    body = conforms(answer)
    assert (body["error"], body["node"]) == ("router_timeout", "bras-norte")


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        pytest.param(faults.BAD_CREDENTIALS, "RouterAuthFailed", id="auth"),
        pytest.param("refused", "RouterRefused", id="refused"),
        pytest.param(faults.FATAL, "RouterProtocolError", id="fatal"),
    ],
)
def test_router_fault_502_naming_the_node_and_the_fault(start_api, sim_world, fault, kind):
    if fault == "refused":
        with socket.socket() as probe:  # a port where nothing listens
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        sim_world.inventory.upsert_nodes([Node("bras-norte", "127.0.0.1", port)])
    else:
        sim_world.network.set_fault("bras-norte", fault)
    base = start_api()
    answer = call(f"{base}/live/juan.perez")
    assert answer.status == 502
    body = conforms(answer)
    assert (body["error"], body["node"], body["kind"]) == ("router_error", "bras-norte", kind)
    assert "s3cr3t" not in json.dumps(body)


def test_open_breaker_503_with_retry_after(start_api, sim_world):
    """After one failure (threshold 1) the router is short-circuited: 503 with the
    seconds until it is asked again, and no connection is made."""
    breaker = CircuitBreaker(threshold=1, cooldown=30.0)
    base = start_api(client={"breaker": breaker})
    sim_world.network.set_fault("bras-norte", faults.FATAL)
    assert call(f"{base}/live/juan.perez").status == 502
    sim_world.network.reset_counters()
    answer = call(f"{base}/live/juan.perez")
    assert answer.status == 503
    body = conforms(answer)
    assert body["error"] == "router_circuit_open"
    assert 1 <= int(answer.headers["Retry-After"]) <= 30
    assert body["retry_after_s"] == int(answer.headers["Retry-After"])
    assert sim_world.network.counters("bras-norte").total_connections == 0


def test_our_sessions_to_a_router_all_taken_503_busy(start_api, sim_world):
    """One session allowed to bras-norte, held by a stalled question: the other
    question, queued behind it until its deadline, is 503 busy (Retry-After), the
    one holding the session 504."""
    base = start_api(client={"timeout": 0.5, "max_sessions": 1})
    sim_world.network.set_fault("bras-norte", faults.STALL_LOGIN)
    answers: dict[str, Answer] = {}

    def ask(user: str) -> None:
        answers[user] = call(f"{base}/live/{user}")

    threads = [threading.Thread(target=ask, args=(u,)) for u in ("juan.perez", "20513")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(a.status for a in answers.values()) == [503, 504]
    [busy] = [a for a in answers.values() if a.status == 503]
    assert conforms(busy)["error"] == "router_busy"
    assert int(busy.headers["Retry-After"]) >= 1


# -- bounds: methods, bodies, lengths ----------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_405_json_with_allow(start_api, sim_world, method):
    base = start_api()
    answer = call(
        f"{base}/live/juan.perez", method=method, data=b"" if method != "DELETE" else None
    )
    assert answer.status == 405
    assert answer.headers["Allow"] == "GET, HEAD"
    assert conforms(answer)["error"] == "method_not_allowed"
    assert routers_untouched(sim_world)


def test_a_get_with_a_body_is_refused_unread(start_api, sim_world):
    base = start_api()
    answer = call(f"{base}/live/juan.perez", data=b"x" * 1000, method="GET")
    assert answer.status == 400
    assert conforms(answer)["error"] == "body_not_allowed"
    assert routers_untouched(sim_world)


def test_a_path_past_its_limit_414_before_any_lookup(start_api, sim_world):
    base = start_api()
    answer = call(f"{base}/live/{'a' * MAX_PATH}")
    assert answer.status == 414
    assert conforms(answer)["error"] == "too_long"
    assert routers_untouched(sim_world)


# -- CORS ------------------------------------------------------------------------------------


def test_cors_is_off_unless_origins_are_named(start_api):
    base = start_api()
    answer = call(f"{base}/live/juan.perez", headers={"Origin": ORIGIN})
    assert answer.status == 200
    assert "Access-Control-Allow-Origin" not in answer.headers
    preflight = call(
        f"{base}/live/juan.perez",
        token=None,
        method="OPTIONS",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_cors_answers_only_the_named_origins(start_api, sim_world):
    base = start_api(api_cors_origins=(ORIGIN,))
    preflight = call(
        f"{base}/live/juan.perez",
        token=None,
        method="OPTIONS",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert preflight.headers["Access-Control-Allow-Headers"] == "Authorization"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET"
    assert routers_untouched(sim_world)  # a preflight carries no token and asks nothing
    answer = call(f"{base}/live/juan.perez", headers={"Origin": ORIGIN})
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    stranger = call(f"{base}/live/juan.perez", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    refused = call(
        f"{base}/live/juan.perez",
        token=None,
        method="OPTIONS",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert refused.status == 403
    assert "Access-Control-Allow-Origin" not in refused.headers


# -- the document, /healthz, one listener -------------------------------------------------------


def test_openapi_json_is_the_shipped_document(start_api):
    base = start_api()
    answer = call(f"{base}/openapi.json", token=None)
    assert answer.status == 200
    assert answer.body == DOC
    assert answer.body["openapi"].startswith("3.1")
    assert {"/live/{pppoe_user}", "/healthz", "/metrics", "/openapi.json"} <= set(DOC["paths"])


def test_healthz_over_http_mode_checks_the_loop_and_the_inventory(start_api):
    base = start_api()
    answer = call(f"{base}/healthz", token=None)
    assert answer.status == 200
    body = conforms(answer, "/healthz")
    assert body["status"] == "ok"
    assert body["checks"]["inventory"]["secrets"] > 0
    assert "slack" not in body["checks"]  # over HTTP, Slack calls us


def _api_questions(text: str, outcome: str) -> float:
    families = {f.name: f for f in text_string_to_metric_families(text)}
    return sum(
        sample.value
        for sample in families["beholder_questions"].samples
        if sample.name == "beholder_questions_total"
        and sample.labels == {"source": "api", "outcome": outcome}
    )


def test_metrics_over_http_parse_without_a_token_and_count_the_apis_questions(start_api):
    """GET /metrics on the same listener, open like /healthz: Prometheus text that
    prometheus_client's own parser reads, every family named beholder_…, and the
    API's answered question counted under source "api"."""
    base = start_api()
    before = call(f"{base}/metrics", token=None)
    assert before.status == 200
    assert before.headers["Content-Type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(before.body)}
    assert names
    assert all(name.startswith("beholder_") for name in names), names
    assert call(f"{base}/live/juan.perez").status == 200
    after = call(f"{base}/metrics", token=None)
    assert _api_questions(after.body, "ok") == _api_questions(before.body, "ok") + 1


def test_an_unknown_path_is_a_json_404(start_api):
    base = start_api()
    answer = call(f"{base}/admin", token=None)
    assert answer.status == 404
    assert answer.body["error"] == "no_such_route"


# -- whatever the path holds ---------------------------------------------------------------


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(min_size=1, max_size=160))
# Regression: a newline in the user (`/live/%0A`) fell outside the route's `.+` and
# got aiohttp's plain-text 404 instead of a documented JSON answer.
@example(text="\n")
@example(text="juan\nperez")
def test_any_text_in_the_path_gets_a_documented_json_answer(start_api_once, text):
    """Control characters, newlines, quotes, slashes, 160 characters, any script: the
    answer is one of the documented statuses with its documented body, never a 500."""
    answer = call(f"{start_api_once}/live/{quote(text, safe='')}")
    assert answer.status in {200, 400, 404, 409, 414, 503}, answer.body
    conforms(answer)


@pytest.fixture
def start_api_once(start_api) -> str:
    return start_api()
