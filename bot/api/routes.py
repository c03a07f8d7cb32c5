"""The route table and its handlers, on an aiohttp application `bot.serve` listens with.

Every route goes through `Api.guarded`, in this order, before its handler runs:
the method (GET and HEAD; OPTIONS is a CORS preflight when origins are
configured; anything else 405 with ``Allow``), the path's length, no body,
then the access policy (`bot.api.policy.decide`: a kind without a rule is
refused, ``live`` needs a token). So a request refused with 401 has asked no
router and looked nobody up. Every answer is JSON (``/metrics`` excepted: the
Prometheus text format).

``GET /live/{user}`` asks the same `ReadingService` as Slack (one deadline,
the session caps, coalescing, the breakers), ``GET /diag/{user}`` the same
`DiagnosisService`; both write every call to the audit with source ``api`` and
the token's label; refused ones too, up to 60 a minute (`RefusalAudit`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from aiohttp import web

from bot import metrics as prometheus
from bot.api import policy, shapes
from bot.api.health import Health
from bot.api.shapes import Answer, diag_body, error_answer, live_body, unexpected_answer
from bot.config import Settings
from bot.domain.diagnose import DiagnosisService
from bot.domain.readings import (
    MAX_QUERY_LENGTH,
    ReadingService,
    clean_query,
    outcome_of,
)
from bot.errors import BeholderError, InputError
from bot.model import Asker, Reading

log = logging.getLogger(__name__)

#: Longest request path read, characters (the query is 100 at most, URL-encoded
#: up to three times longer): past it 414, before anything else.
MAX_PATH = 512
#: How long a browser may keep a preflight's answer, seconds.
PREFLIGHT_MAX_AGE_S = 600
#: The audit's source for every API call.
SOURCE = "api"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RouteHandler = Callable[[web.Request, policy.Decision], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """One row of the route table: the path, the policy's kind, the handler's name."""

    path: str
    kind: str
    handler: str
    #: Browsers may call it from a page of a configured origin (CORS).
    cors: bool = False


#: Every route other than Slack's, each through `Api.guarded`.
ROUTES = (
    # [\s\S], not ".": a user's text may hold a newline (%0A), refused by the handler
    # with a JSON 400 instead of matching no route at all.
    Route(r"/live/{user:[\s\S]+}", "live", "live", cors=True),
    Route(r"/diag/{user:[\s\S]+}", "diag", "diag", cors=True),
    Route("/healthz", "health", "healthz"),
    Route("/openapi.json", "openapi", "openapi"),
    Route("/metrics", "metrics", "metrics"),
)


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document shipped with the package (``bot/api/openapi.json``)."""
    return json.loads(resources.files("bot.api").joinpath("openapi.json").read_text("utf-8"))


class Api:
    """The API's routes on one `ReadingService`; `mount` adds them to a web app."""

    def __init__(
        self,
        settings: Settings,
        readings: ReadingService,
        health: Health,
        *,
        diagnoses: DiagnosisService | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.readings = readings
        #: The process's one `DiagnosisService` (shared with Slack), else one of its own.
        self.diagnoses = diagnoses or DiagnosisService.from_settings(readings, settings)
        self.health = health
        self.refused = RefusalAudit(clock)
        self.tokens = policy.Tokens(settings.api_tokens)
        self.origins = frozenset(settings.api_cors_origins)
        self._openapi = json.dumps(openapi_document())

    def mount(self, app: web.Application) -> None:
        """Add every route of `ROUTES`, then a JSON 404 for any other path (and for a
        request aiohttp's router cannot match at all: ``OPTIONS *``, ``CONNECT``)."""
        for route in ROUTES:
            app.router.add_route("*", route.path, self.guarded(route))
        app.router.add_route("*", r"/{tail:[\s\S]*}", self.not_found)
        app.middlewares.append(self._unmatched)

    @web.middleware
    async def _unmatched(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return respond(shapes.no_such_route(request.path))

    # -- what every route goes through -------------------------------------------------

    def guarded(self, route: Route) -> Handler:
        handler: RouteHandler = getattr(self, route.handler)

        async def guard(request: web.Request) -> web.StreamResponse:
            cors = self._cors_headers(request) if route.cors else {}
            if request.method == "OPTIONS" and route.cors and self.origins:
                return self._preflight(request, cors)
            if request.method not in ("GET", "HEAD"):
                return respond(shapes.method_not_allowed(request.method), cors)
            if len(request.raw_path) > MAX_PATH:
                return respond(shapes.path_too_long(MAX_PATH), cors)
            if request.body_exists:
                return respond(shapes.body_not_allowed(), cors)
            decision = policy.decide(route.kind, self.tokens, _authorization(request))
            if not decision.allowed and decision.reason == "kind":
                log.warning("API request of a kind without a rule refused: %s", route.kind)
                return respond(shapes.kind_refused(), cors)
            response = await handler(request, decision)
            response.headers.update(cors)
            return response

        return guard

    def _cors_headers(self, request: web.Request) -> dict[str, str]:
        """CORS answers only an origin configured in BEHOLDER_API_CORS_ORIGINS."""
        origin = request.headers.get("Origin", "")
        if not origin or origin.lower() not in self.origins:
            return {}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def _preflight(self, request: web.Request, cors: dict[str, str]) -> web.StreamResponse:
        """A browser asks whether a page of its origin may GET with Authorization."""
        method = request.headers.get("Access-Control-Request-Method", "")
        headers = {
            h.strip().lower()
            for h in request.headers.get("Access-Control-Request-Headers", "").split(",")
            if h.strip()
        }
        if not cors or method != "GET" or not headers <= {"authorization"}:
            return web.Response(status=403)
        return web.Response(
            status=204,
            headers={
                **cors,
                "Access-Control-Allow-Methods": "GET",
                "Access-Control-Allow-Headers": "Authorization",
                "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
            },
        )

    # -- the routes --------------------------------------------------------------------

    async def live(self, request: web.Request, decision: policy.Decision) -> web.StreamResponse:
        """``GET /live/{user}``: one reading, or the JSON error its cause calls for.
        Refused (no valid token): audited (`RefusalAudit`), and nothing else is done."""
        refused = self._refused(request, decision, "live")
        if refused is not None:
            return refused
        return respond(await self._read(request.match_info["user"], decision.caller))

    async def diag(self, request: web.Request, decision: policy.Decision) -> web.StreamResponse:
        """``GET /diag/{user}``: a reading and its diagnosis (a few seconds: the router
        pings and torches), or the JSON error its cause calls for, as ``/live``."""
        refused = self._refused(request, decision, "diag")
        if refused is not None:
            return refused
        return respond(await self._diagnose(request.match_info["user"], decision.caller))

    def _refused(
        self, request: web.Request, decision: policy.Decision, route: str
    ) -> web.StreamResponse | None:
        """The answer when the API is off or the caller has no valid token (audited,
        `RefusalAudit`, and nothing else is done); None when the call may go on."""
        if not self.tokens.enabled:
            return respond(shapes.api_disabled())
        if decision.allowed:
            return None
        if self.refused.admit():  # a flood is counted, not logged line by line
            log.info("API /%s refused: no valid token (from %s)", route, request.remote)
            self._audit(request.match_info["user"], "denied", "", 0)
        return respond(shapes.unauthorized())

    async def healthz(self, request: web.Request, _: policy.Decision) -> web.StreamResponse:
        ok, body = await self.health.check()
        return web.json_response(body, status=200 if ok else 503)

    async def openapi(self, request: web.Request, _: policy.Decision) -> web.StreamResponse:
        return web.Response(text=self._openapi, content_type="application/json")

    async def metrics(self, request: web.Request, _: policy.Decision) -> web.StreamResponse:
        # Rendered in a worker thread: at hundreds of nodes a scrape takes tens of
        # milliseconds, which the event loop's replies must not wait for.
        body, content_type = await prometheus.exposition_in_thread()
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def not_found(self, request: web.Request) -> web.StreamResponse:
        return respond(shapes.no_such_route(request.path))

    # -- a reading ---------------------------------------------------------------------

    async def _read(self, query: str, caller: str) -> Answer:
        cleaned = self._cleaned(query, caller)
        if isinstance(cleaned, Answer):
            return cleaned
        # The domain times, logs and audits it, as it does Slack's and the CLI's.
        answer = await self.readings.ask(cleaned, Asker(caller, "", SOURCE))
        if answer.reading is not None:
            return Answer(200, live_body(answer.reading))
        return _failed(query, answer.error)

    async def _diagnose(self, query: str, caller: str) -> Answer:
        cleaned = self._cleaned(query, caller)
        if isinstance(cleaned, Answer):
            return cleaned
        answer = await self.diagnoses.ask(cleaned, Asker(caller, "", SOURCE))
        if answer.shown is not None and answer.diag_error is None:
            return Answer(200, diag_body(answer.shown, answer.diagnosis))
        # A diagnosis that failed is the request's failure (its status says why;
        # the reading alone is `GET /live`'s).
        return _failed(query, answer.error or answer.diag_error)

    def _cleaned(self, query: str, caller: str) -> str | Answer:
        """The query, by the same rule as /consumo's text (bounded, no control
        characters), or the 400 answer (audited) when it cannot be a user."""
        try:
            return clean_query(query)
        except InputError as exc:
            self._audit(query, outcome_of(None, exc), caller, 0, None, exc)
            return error_answer(exc)

    def _audit(
        self,
        query: str,
        outcome: str,
        caller: str,
        latency_ms: int,
        reading: Reading | None = None,
        error: BaseException | None = None,
    ) -> None:
        asker = Asker(caller, "", SOURCE)
        self.readings.audit(query[:MAX_QUERY_LENGTH], asker, outcome, reading, error, latency_ms)


def _failed(query: str, error: BaseException | None) -> Answer:
    """The JSON error for a question that got no reading (or no diagnosis)."""
    if isinstance(error, BeholderError):
        return error_answer(error)
    return unexpected_answer(query)


class RefusalAudit:
    """Refused calls come from anyone who can reach the port: each is audited up to
    `PER_MINUTE` a minute, so a flood of them cannot fill the disk; the rest are
    counted, and the count logged once the minute is over."""

    PER_MINUTE = 60
    WINDOW_S = 60.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._window_start = clock()
        self._admitted = 0
        self._skipped = 0

    def admit(self) -> bool:
        """Whether this refused call gets its audit row."""
        now = self.clock()
        if now - self._window_start >= self.WINDOW_S:
            if self._skipped:
                log.warning(
                    "%d refused API calls in the last minute were not audited (over %d a minute)",
                    self._skipped,
                    self.PER_MINUTE,
                )
            self._window_start, self._admitted, self._skipped = now, 0, 0
        if self._admitted < self.PER_MINUTE:
            self._admitted += 1
            return True
        self._skipped += 1
        return False


def _authorization(request: web.Request) -> str | None:
    """The one ``Authorization`` header; None when there are two or more: which one a
    proxy added and which the client sent cannot be told, so neither is believed."""
    values = request.headers.getall("Authorization", [])
    return values[0] if len(values) == 1 else None


def respond(answer: Answer, extra: dict[str, str] | None = None) -> web.Response:
    """`answer` as an aiohttp response (JSON, never cached: it is a live reading)."""
    headers = {"Cache-Control": "no-store", **answer.headers, **(extra or {})}
    return web.json_response(answer.body, status=answer.status, headers=headers)
