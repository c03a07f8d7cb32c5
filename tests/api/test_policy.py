"""Who may call the API (`bot.api.policy`) and its settings (`bot.config`).

The policy is pure: kinds, tokens, headers in; a decision out. A route whose
kind has no rule is refused over real HTTP (aiohttp's test server on loopback)
without its handler running.
"""

from __future__ import annotations

import asyncio
import io
import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import logs
from bot.api import policy
from bot.api.health import Health, LoopWatch
from bot.api.routes import ROUTES, Api, RefusalAudit, Route
from bot.config import Settings
from bot.domain.readings import ReadingService
from bot.errors import ConfigError

TOKEN = "tok-noc-dashboard-0123456789abcdef"
OTHER = "tok-ticketing-system-fedcba9876543210"


# -- the rule --------------------------------------------------------------------------------


def test_live_needs_a_configured_token_and_names_the_caller_by_position():
    tokens = policy.Tokens((TOKEN, OTHER))
    assert policy.decide("live", tokens, f"Bearer {OTHER}") == policy.Decision(
        True, "token", "api:2"
    )
    assert policy.decide("live", tokens, f"bearer  {TOKEN} ").caller == "api:1"
    for header in (None, "", TOKEN, f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "):
        assert policy.decide("live", tokens, header) == policy.Decision(False, "token")


def test_a_kind_without_a_rule_is_refused_whatever_the_token():
    tokens = policy.Tokens((TOKEN,))
    assert policy.decide("admin", tokens, f"Bearer {TOKEN}") == policy.Decision(False, "kind")


def test_every_route_has_a_rule():
    assert {route.kind for route in ROUTES} <= set(policy.RULES)


def test_no_token_configured_lets_nobody_in():
    tokens = policy.Tokens(())
    assert not tokens.enabled
    assert policy.decide("live", tokens, "Bearer ") == policy.Decision(False, "token")


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=400), st.just(f"Bearer {TOKEN}")))
def test_only_the_exact_token_is_let_in(header):
    """Whatever the header, `caller` never raises, and names a caller only when the
    header is the scheme and one configured token."""
    caller = policy.Tokens((TOKEN, OTHER)).caller(header)
    if caller is not None:
        scheme, _, presented = header.partition(" ")
        assert scheme.lower() == "bearer"
        assert presented.strip() == {"api:1": TOKEN, "api:2": OTHER}[caller]


def test_a_route_without_a_rule_is_refused_before_its_handler(sim_world):
    """A route added without a rule (kind "reports") answers 403 and its handler
    never runs."""
    ran: list[str] = []

    class Spy(Api):
        async def reports(self, request: web.Request, _: policy.Decision) -> web.Response:
            ran.append(request.path)
            return web.json_response({})

    async def ask() -> tuple[int, dict]:
        readings = ReadingService(sim_world.inventory, sim_world.client())
        api = Spy(
            Settings(api_tokens=(TOKEN,)),
            readings,
            Health(sim_world.inventory, LoopWatch()),
        )
        app = web.Application()
        app.router.add_route("*", "/reports", api.guarded(Route("/reports", "reports", "reports")))
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            response = await client.get("/reports", headers={"Authorization": f"Bearer {TOKEN}"})
            return response.status, await response.json()

    status, body = asyncio.run(ask())
    assert (status, body["error"]) == (403, "forbidden")
    assert ran == []


# -- the settings ------------------------------------------------------------------------------


def test_api_settings_from_the_environment():
    s = Settings.from_env(
        {
            "BEHOLDER_API_TOKENS": f" {TOKEN} ,{OTHER},,{TOKEN}",
            "BEHOLDER_API_CORS_ORIGINS": "https://noc.example.net/, http://10.0.0.5:8080",
            "BEHOLDER_HTTP_HOST": "0.0.0.0",
            "BEHOLDER_HTTP_PORT": "8080",
        }
    )
    assert s.api_tokens == (TOKEN, OTHER)
    assert s.api_cors_origins == ("https://noc.example.net", "http://10.0.0.5:8080")
    assert (s.http_host, s.http_port) == ("0.0.0.0", 8080)
    off = Settings.from_env({})
    assert (off.api_tokens, off.api_cors_origins, off.http_port) == ((), (), None)
    assert off.http_host == "127.0.0.1"


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("BEHOLDER_API_TOKENS", "short-token", "token 1 must be 16 to 256"),
        ("BEHOLDER_API_TOKENS", f"{TOKEN},has a space in it 0123", "token 2 must be"),
        ("BEHOLDER_API_CORS_ORIGINS", "*", "no \\*"),
        ("BEHOLDER_API_CORS_ORIGINS", "noc.example.net", "like https://"),
        ("BEHOLDER_HTTP_PORT", "70000", "port number"),
        ("BEHOLDER_HTTP_PORT", "http", "port number"),
    ],
)
def test_bad_api_settings_name_the_variable_never_the_token(name, value, said):
    with pytest.raises(ConfigError, match=name) as caught:
        Settings.from_env({name: value})
    assert said.replace("\\", "") in str(caught.value)
    if name == "BEHOLDER_API_TOKENS":
        assert "has a space" not in str(caught.value)
        assert "short-token" not in str(caught.value)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_origins_text_is_read_or_refused_with_a_config_error(text):
    refused, origins = "", ()
    try:
        origins = Settings.from_env({"BEHOLDER_API_CORS_ORIGINS": text}).api_cors_origins
    except ConfigError as exc:
        refused = str(exc)
    assert not refused or "BEHOLDER_API_CORS_ORIGINS" in refused
    assert all(o.startswith(("http://", "https://")) for o in origins)


def test_api_tokens_are_masked_in_the_logs():
    s = Settings.from_env({"BEHOLDER_API_TOKENS": f"{TOKEN},{OTHER}"})
    assert TOKEN not in repr(s)
    out = io.StringIO()
    formatter = logs.RedactingFormatter("%(message)s", s.secrets)
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    logger = logging.getLogger("tests.api.tokens")
    logger.addHandler(handler)
    try:
        logger.warning("headers %r", {"Authorization": f"Bearer {TOKEN}"})
        logger.warning("json %s", f'{{"token": "{OTHER}"}}')
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    assert TOKEN not in text
    assert OTHER not in text
    assert text.count(logs.MASK) == 2


def test_refused_calls_are_audited_up_to_sixty_a_minute_and_the_rest_counted(caplog):
    """Anyone who reaches the port can be refused: a flood of refusals writes 60 audit
    rows a minute, and the ones past that are counted in one WARNING."""
    caplog.set_level(logging.WARNING, logger="bot.api.routes")
    now = [0.0]
    refused = RefusalAudit(lambda: now[0])
    admitted = [refused.admit() for _ in range(70)]
    assert admitted == [True] * 60 + [False] * 10
    assert caplog.records == []
    now[0] = 60.0
    assert refused.admit()
    [line] = caplog.records
    assert "10 refused API calls in the last minute were not audited" in line.getMessage()
