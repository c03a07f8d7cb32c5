"""The API's JSON: a reading, an error, a refusal, as ``openapi.json`` describes them.

Renderers, like `bot.present.reading`: the domain decided what the reading
means (`Reading.judged`), the words come from the active language's catalog,
and these functions only put both into JSON. Which HTTP status an error gets
is decided here too, from the error's type: it is part of the API's shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.errors import (
    AmbiguousQuery,
    BeholderError,
    InputError,
    InventoryUnavailable,
    NodeNotInInventory,
    PullDeferred,
    RouterBusy,
    RouterCircuitOpen,
    RouterError,
    RouterTimeout,
    UnknownUser,
)
from bot.model import Diagnosis, Reading
from bot.present import diagnosis as diagnosis_texts
from bot.present import errors as error_texts
from bot.present.lang import t
from bot.present.markup import plain
from bot.present.reading import verdict_lines

#: Bits per second in one Mbps: the ADR's unit.
BPS_PER_MBPS = 1_000_000


def live_body(reading: Reading) -> dict[str, Any]:
    """``GET /live/{user}``'s answer: decimal Mbps (two decimals), download = the
    router's tx (`bot.model.Traffic`), the verdict as a code and a sentence."""
    traffic, plan, session, customer = (
        reading.traffic,
        reading.plan,
        reading.session,
        reading.customer,
    )
    verdict = reading.judged.verdict
    return {
        "user": reading.user,
        "node": reading.node,
        "online": reading.online,
        "download_mbps": mbps(traffic.download_bps if traffic else None),
        "upload_mbps": mbps(traffic.upload_bps if traffic else None),
        "plan_download_mbps": mbps(plan.download_bps if plan else None),
        "plan_upload_mbps": mbps(plan.upload_bps if plan else None),
        "share_of_plan_pct": None if verdict.share_pct is None else round(verdict.share_pct, 1),
        "verdict": {"code": verdict.kind, "sentence": plain(verdict_lines(reading)[0])},
        "session": None
        if session is None
        else {
            "address": session.address or None,
            "mac": session.caller_id or None,
            "uptime_s": session.uptime_s,
        },
        "customer": None
        if customer is None
        else {
            "id": customer.customer_id or None,
            "name": customer.customer_name or None,
            "status": customer.status or None,
            "plan_download_mbps": mbps(customer.plan_download_bps),
            "plan_upload_mbps": mbps(customer.plan_upload_bps),
        },
        "taken_at": utc_text(reading.taken_at),
        "also_on": list(reading.also_on),
    }


def diag_body(reading: Reading, diagnosis: Diagnosis | None) -> dict[str, Any]:
    """``GET /diag/{user}``'s answer: `live_body` plus `diagnosis` (the verdict as a
    code and a sentence; null offline) and what was measured, `ping` and `top`, as
    ``beholder diag --json`` has them (`bot.present.diagnosis.measured_json`)."""
    body = live_body(reading)
    body["diagnosis"] = (
        None
        if diagnosis is None
        else {
            "code": diagnosis.verdict,
            "sentence": plain(diagnosis_texts.verdict_line(diagnosis)),
        }
    )
    body.update(diagnosis_texts.measured_json(diagnosis))
    return body


def mbps(bps: int | None) -> float | None:
    """Bits per second → Mbps with two decimals (None stays None)."""
    return None if bps is None else round(bps / BPS_PER_MBPS, 2)


def utc_text(when: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``: what a browser's ``new Date()`` reads everywhere."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Answer:
    """An HTTP answer in JSON: status, body and the headers it needs."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def refusal(status: int, code: str, message_key: str, **values: object) -> Answer:
    """A request refused before any reading: the catalog's sentence and a code."""
    return Answer(status, {"error": code, "message": plain(t(message_key, **values))})


# -- the refusals, each with its status: nothing was read, no router asked ----------------


def unauthorized() -> Answer:
    answer = refusal(401, "unauthorized", "api.unauthorized")
    answer.headers["WWW-Authenticate"] = 'Bearer realm="beholder"'
    return answer


def kind_refused() -> Answer:
    return refusal(403, "forbidden", "api.kind")


def api_disabled() -> Answer:
    return refusal(404, "api_disabled", "api.disabled")


def no_such_route(path: str) -> Answer:
    return refusal(404, "no_such_route", "api.not_found", path=path[:80])


def method_not_allowed(method: str) -> Answer:
    answer = refusal(405, "method_not_allowed", "api.method", method=method[:20], allowed="GET")
    answer.headers["Allow"] = "GET, HEAD"
    return answer


def body_not_allowed() -> Answer:
    return refusal(400, "body_not_allowed", "api.body")


def path_too_long(limit: int) -> Answer:
    return refusal(414, "too_long", "api.too_long", limit=limit)


def too_many_connections(limit: int, retry_s: int) -> Answer:
    answer = refusal(503, "too_many_connections", "api.connections", limit=limit, seconds=retry_s)
    answer.headers["Retry-After"] = str(retry_s)
    return answer


def error_answer(err: BeholderError) -> Answer:
    """What a reading that failed answers: 404 + ``suggestions`` (unknown user),
    409 + ``candidates`` (ambiguous), 504 (the router timed out), 503 +
    ``Retry-After`` (our sessions to it busy, its breaker open, the routers not
    asked for fair use, the inventory unavailable), 502 (another router fault),
    400 (text that cannot be a user)."""
    body: dict[str, Any] = {"message": plain(error_texts.error(err))}
    retry_s: float | None = None
    match err:
        case InputError():
            status, code = 400, "bad_request"
        case PullDeferred():
            status, code, retry_s = 503, "not_pulled", err.retry_in_s
            body["suggestions"] = list(err.suggestions)
        case UnknownUser():
            status, code = 404, "not_found"
            body["suggestions"] = list(err.suggestions)
        case AmbiguousQuery():
            status, code = 409, "ambiguous"
            body["candidates"] = [
                {"user": hit.name, "matched_by": hit.how, "detail": hit.detail or None}
                for hit in err.hits
            ]
        case NodeNotInInventory():
            status, code = 404, "node_missing"
            body["node"] = err.node
        case InventoryUnavailable():
            status, code, retry_s = 503, "inventory_unavailable", 30.0
        case RouterBusy():
            status, code, retry_s = 503, "router_busy", err.seconds
            body["node"] = err.node
        case RouterCircuitOpen():
            status, code, retry_s = 503, "router_circuit_open", err.retry_in_s
            body["node"] = err.node
        case RouterTimeout():
            status, code = 504, "router_timeout"
            body["node"] = err.node
        case RouterError():
            status, code = 502, "router_error"
            body["node"] = err.node
            body["kind"] = type(err).__name__
        case _:
            status, code = 500, "error"
    headers = {}
    if retry_s is not None:
        seconds = max(1, math.ceil(retry_s))
        headers["Retry-After"] = str(seconds)
        body["retry_after_s"] = seconds
    return Answer(status, {"error": code, **body}, headers)


def unexpected_answer(query: str) -> Answer:
    """Our own bug: logged whole by the caller; the client gets one sentence."""
    return Answer(500, {"error": "internal", "message": plain(error_texts.unexpected(query))})
