"""Pure parsers: RouterOS values, operator input, Slack markup."""

from datetime import datetime

import pytest

from bot.domain.readings import clean_query
from bot.errors import InputError
from bot.routeros.parse import (
    parse_bps,
    parse_pair,
    parse_plan,
    parse_router_time,
    parse_uptime,
    queue_from_row,
    traffic_from_row,
)
from bot.slack.parsing import command_text, mention_text


@pytest.mark.parametrize(
    ("text", "bps"),
    [
        ("50000000", 50_000_000),
        ("50M", 50_000_000),
        ("512k", 512_000),
        ("1.5M", 1_500_000),
        ("1G", 1_000_000_000),
        ("0", 0),
        ("", None),
        ("fast", None),
    ],
)
def test_parse_bps(text, bps):
    assert parse_bps(text) == bps


def test_traffic_direction_router_tx_is_subscriber_download():
    """ADR-005 said rx was download: the router's tx goes toward the subscriber."""
    traffic = traffic_from_row({"rx-bits-per-second": "2000000", "tx-bits-per-second": "45000000"})
    assert traffic.download_bps == 45_000_000
    assert traffic.upload_bps == 2_000_000


def test_queue_pairs_are_upload_slash_download():
    queue = queue_from_row(
        {"max-limit": "10000000/50000000", "dropped": "3/120", "queued-bytes": "0/4500"}
    )
    assert queue.plan.download_bps == 50_000_000
    assert queue.plan.upload_bps == 10_000_000
    assert (queue.dropped_upload, queue.dropped_download) == (3, 120)
    assert queue.queued_bytes_download == 4500


@pytest.mark.parametrize(
    ("text", "plan"),
    [("10M/50M", (50_000_000, 10_000_000)), ("0/0", None), ("", None), ("x/y", None)],
)
def test_parse_plan(text, plan):
    result = parse_plan(text)
    assert (result and (result.download_bps, result.upload_bps)) == plan


def test_parse_pair_without_slash():
    assert parse_pair("50M") is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1w2d3h4m5s", 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5),
        ("45s", 45),
        ("0s", 0),
        ("3h", 10800),
        ("2d03:04:05", 2 * 86400 + 3 * 3600 + 4 * 60 + 5),
        ("03:04:05", 11045),
        ("", None),
        ("soon", None),
        ("1x", None),
    ],
)
def test_parse_uptime(text, seconds):
    assert parse_uptime(text) == seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-11-20 10:33:12", datetime(2025, 11, 20, 10, 33, 12)),  # noqa: DTZ001
        ("nov/20/2025 10:33:12", datetime(2025, 11, 20, 10, 33, 12)),  # noqa: DTZ001
        ("jan/01/1970 00:00:00", None),
        ("", None),
        ("garbage", None),
    ],
)
def test_parse_router_time(text, expected):
    assert parse_router_time(text) == expected


@pytest.mark.parametrize(
    ("text", "user"),
    [
        ("juan.perez", "juan.perez"),
        ("  juan.perez  ", "juan.perez"),
        ("`juan.perez`", "juan.perez"),
        ("20513", "20513"),
        ("  perez   juan ", "perez juan"),
        ('"maría"', "maría"),
    ],
)
def test_clean_query(text, user):
    assert clean_query(text) == user


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("``", "empty"),
        ("a" * 101, "too_long"),
        ("juan\x00perez", "invalid"),
        ("bad\x1b[31m", "invalid"),
    ],
)
def test_clean_query_rejects(text, reason):
    with pytest.raises(InputError) as caught:
        clean_query(text)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("juan.perez", "juan.perez"),
        ("<http://juan.perez.com|juan.perez.com>", "juan.perez.com"),
        ("<mailto:juan@isp.com.ar|juan@isp.com.ar>", "juan@isp.com.ar"),
        ("<http://example.com>", "example.com"),
        ("&lt;x&gt;", "<x>"),
    ],
)
def test_command_text_unwraps_slack_markup(text, expected):
    assert command_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@UBOT> consumo juan.perez", "juan.perez"),
        ("<@UBOT> juan.perez", "juan.perez"),
        ("<@UBOT|beholder> Consumo 20513", "20513"),
        ("<@UBOT>", ""),
        ("<@UBOT> consumo", ""),
        ("consumo <@UBOT> juan.perez", "juan.perez"),
    ],
)
def test_mention_text(text, expected):
    assert mention_text(text) == expected


@pytest.mark.parametrize(
    ("query", "plausible"),
    [
        ("juan.perez", True),
        ("20513", True),
        ("ana@isp.com", True),
        ("maría_p-1", True),
        ("=name=x", False),
        ("?name=", False),
        ("<!channel>", False),
        ("juan perez", False),
        ("100.64.0.1", False),
        ("aa:bb:cc:dd:ee:ff", False),
        ("a" * 65, False),
        ("%", False),
    ],
)
def test_only_plausible_names_are_pulled_from_every_router(query, plausible):
    from bot.domain.resolve import looks_like_user

    assert looks_like_user(query) is plausible
