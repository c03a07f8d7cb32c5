"""Property tests of the parsers of router replies and of settings: any text in,
a value or a mapped error out, never another exception; round trips where they exist."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.config import Settings
from bot.errors import ConfigError
from bot.routeros import (
    Plan,
    parse_bps,
    parse_pair,
    parse_plan,
    parse_router_time,
    parse_uptime,
)

many = settings(max_examples=200, deadline=None)

#: Pieces of the texts a router (or a corrupted reply) could put where a number belongs.
NUMBER_PIECES = [
    "1", "0", "9", "50", ".", "-", "+", "e", "E", "400", "k", "M", "G", "inf",
    "nan", "_", " ", "/", ":", "d", "w", "h", "m", "s", "²", "٣",
]  # fmt: skip
NUMBERISH = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(NUMBER_PIECES), max_size=12).map("".join),
)


# -- router values -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "1e400", "1e308G", "-1", "-5M", "Infinity"])
def test_parse_bps_unreadable_numbers_are_none(text):
    """Regression: ``parse_bps("inf")`` and ``parse_bps("1e400")`` raised OverflowError
    (not mapped to a router error); nan and negative rates are unreadable too."""
    assert parse_bps(text) is None


@given(NUMBERISH)
@many
def test_parse_bps_never_raises(text):
    value = parse_bps(text)
    assert value is None or (isinstance(value, int) and value >= 0)


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["", "k", "K", "M", "G"]))
@many
def test_parse_bps_round_trip(number, unit):
    factor = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}[unit.lower()]
    assume(number * factor <= 2**53)  # exact in a float: up to 9 Pbps
    assert parse_bps(f"{number}{unit}") == number * factor


@given(NUMBERISH, NUMBERISH)
@many
def test_parse_pair_and_plan_never_raise(up, down):
    text = f"{up}/{down}"
    pair = parse_pair(text)
    assert pair is None or all(isinstance(v, int) and v >= 0 for v in pair)
    plan = parse_plan(text)
    assert plan is None or isinstance(plan, Plan)
    assert parse_pair(up) is None or "/" in up


@given(st.integers(0, 10**10), st.integers(0, 10**10))
@many
def test_parse_plan_round_trip(upload, download):
    plan = parse_plan(f"{upload}/{download}")
    if upload == download == 0:
        assert plan is None  # 0/0: no limit, the plan is unknown
    else:
        assert plan == Plan(download_bps=download, upload_bps=upload)


@given(NUMBERISH)
@many
def test_parse_uptime_never_raises(text):
    value = parse_uptime(text)
    assert value is None or (isinstance(value, int) and value >= 0)


def test_parse_uptime_of_huge_numbers_is_unreadable():
    """A part too long to be an uptime is unreadable, not a ValueError from int()."""
    assert parse_uptime("9" * 5_000 + "s") is None
    assert parse_uptime("9" * 5_000 + ":00:00") is None
    assert parse_uptime("²:00:00") is None  # a digit to isdigit(), not to int()
    assert parse_uptime("1" * 100_000) is None


@given(*(st.integers(0, 99) for _ in range(5)), st.booleans())
@many
def test_parse_uptime_round_trip(w, d, h, m, s, clock):
    seconds = w * 604_800 + d * 86_400 + h * 3_600 + m * 60 + s
    if clock and h < 24 and m < 60 and s < 60:
        text = f"{w}w{d}d{h:02d}:{m:02d}:{s:02d}"
    else:
        parts = zip((w, d, h, m, s), "wdhms", strict=True)
        text = "".join(f"{n}{u}" for n, u in parts if n) or "0s"
    assert parse_uptime(text) == seconds


@given(st.text(max_size=40))
@many
def test_parse_router_time_never_raises(text):
    value = parse_router_time(text)
    assert value is None or isinstance(value, datetime)


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9999, 12, 31)))  # noqa: DTZ001
@many
def test_parse_router_time_round_trip(moment):
    moment = moment.replace(microsecond=0)
    assert parse_router_time(moment.strftime("%Y-%m-%d %H:%M:%S")) == moment
    assert parse_router_time(moment.strftime("%b/%d/%Y %H:%M:%S").lower()) == moment


# -- settings ------------------------------------------------------------------------------

NUMERIC_SETTINGS = [
    "MIKROTIK_TIMEOUT",
    "MIKROTIK_MAX_SESSIONS",
    "BEHOLDER_SYNC_TIMEOUT",
    "BEHOLDER_SYNC_CONCURRENCY",
    "BEHOLDER_SYNC_INTERVAL",
    "BEHOLDER_AUDIT_DAYS",
    "BEHOLDER_LIVE_MAX",
    "BEHOLDER_LIVE_VIEWS",
]


def test_timeout_nan_is_refused():
    """Regression: ``MIKROTIK_TIMEOUT=nan`` was accepted (nan is not <= 0), leaving a
    deadline that never compares true."""
    with pytest.raises(ConfigError, match="MIKROTIK_TIMEOUT must be a finite number"):
        Settings.from_env({"MIKROTIK_TIMEOUT": "nan"})


@pytest.mark.parametrize("name", NUMERIC_SETTINGS)
@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "infinity", "0", "-1", "1e12"])
def test_numeric_settings_refuse_nonsense_naming_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_numeric_settings_keep_sensible_values():
    settings = Settings.from_env(
        {
            "MIKROTIK_TIMEOUT": "2.5",
            "MIKROTIK_MAX_SESSIONS": "8",
            "BEHOLDER_SYNC_INTERVAL": "1h",
            "BEHOLDER_AUDIT_DAYS": "365",
            "BEHOLDER_LIVE_MAX": "600",
        }
    )
    assert settings.mikrotik_timeout == 2.5
    assert settings.mikrotik_max_sessions == 8
    assert settings.sync_interval == 3600
    assert (settings.audit_days, settings.live_max) == (365, 600)


@given(st.sampled_from(NUMERIC_SETTINGS), NUMBERISH)
@many
def test_numeric_settings_map_every_text(name, value):
    """Any value: a finite positive number, or `ConfigError` naming the variable."""
    try:
        settings = Settings.from_env({name: value})
    except ConfigError as exc:
        assert name in str(exc)  # noqa: PT017 - the message names the variable
        return
    number = {
        "MIKROTIK_TIMEOUT": settings.mikrotik_timeout,
        "MIKROTIK_MAX_SESSIONS": settings.mikrotik_max_sessions,
        "BEHOLDER_SYNC_TIMEOUT": settings.sync_timeout,
        "BEHOLDER_SYNC_CONCURRENCY": settings.sync_concurrency,
        "BEHOLDER_SYNC_INTERVAL": settings.sync_interval,
        "BEHOLDER_AUDIT_DAYS": settings.audit_days,
        "BEHOLDER_LIVE_MAX": settings.live_max,
        "BEHOLDER_LIVE_VIEWS": settings.live_views,
    }[name]
    assert 0 < number < float("inf")
