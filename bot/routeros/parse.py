"""Pure parsing of what RouterOS sends: rates, plans, uptimes, dates and rows.

Every function here is linear in its input and total: a value a router could
send that makes no sense becomes None, 0 or the field as sent, never an
exception that a hostile router could use to break a question.
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
import re
from collections.abc import Callable, Sequence
from datetime import datetime

from librouteros.exceptions import LibRouterosError

from bot.model import Flow, PingResult, Plan, QueueState, Secret, Session, Traffic


class MalformedReply(LibRouterosError):
    """A word the API protocol does not allow (mapped to RouterProtocolError)."""


_UNIT = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}
# Linear by construction: the lookbehind refuses to start inside a run of
# digits and a match reads at most 13 characters, so findall scans each digit
# a bounded number of times (``(\d+)([wdhms])`` rescanned a digit run from
# each of its digits: quadratic on a long run without a unit). No uptime has
# more than 12 digits in one part; a longer part is unreadable.
_UPTIME_DIGITS = 12
_UPTIME_PART = re.compile(rf"(?<!\d)(\d{{1,{_UPTIME_DIGITS}}})([wdhms])")
_UPTIME_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}


def parse_bps(text: str) -> int | None:
    """``"50000000"``, ``"50M"``, ``"512k"`` → bits per second; None if unreadable.

    Never raises: ``inf``, ``nan``, ``1e400`` (infinite once read) and negative
    rates are unreadable too, not an OverflowError deep inside a reading.
    """
    text = text.strip().lower()
    if not text:
        return None
    multiplier = _UNIT.get(text[-1], 1)
    number = text[:-1] if text[-1] in _UNIT else text
    if not number.isascii() or "_" in number:  # float() also reads "1_0" and "٣"
        return None
    try:
        value = float(number) * multiplier
    except ValueError:
        return None
    if not 0 <= value < float("inf"):  # false for nan too
        return None
    return round(value)


def parse_pair(text: str) -> tuple[int, int] | None:
    """RouterOS ``upload/download`` pairs (``max-limit``, ``dropped``...)."""
    up, sep, down = text.partition("/")
    if not sep:
        return None
    upload, download = parse_bps(up), parse_bps(down)
    if upload is None or download is None:
        return None
    return upload, download


def parse_plan(max_limit: str) -> Plan | None:
    """``max-limit`` → Plan; None when unreadable or unknown (see `plan_of`)."""
    pair = parse_pair(max_limit)
    return plan_of(pair) if pair is not None else None


def plan_of(pair: tuple[int, int]) -> Plan | None:
    """A ``max-limit`` ``upload/download`` pair → Plan; ``0/0`` means no limit, so
    the plan is unknown."""
    upload, download = pair
    return Plan(download_bps=download, upload_bps=upload) if upload or download else None


def parse_uptime(text: str) -> int | None:
    """RouterOS durations → seconds: ``1w2d3h4m5s``, ``2d03:04:05``, ``03:04:05``."""
    text = text.strip()
    if not text:
        return None
    total = 0
    rest = text
    if ":" in text:
        head, _, clock = text.rpartition("d") if "d" in text else ("", "", text)
        parts = clock.split(":")
        if len(parts) != 3 or not all(p.isdecimal() and len(p) <= _UPTIME_DIGITS for p in parts):
            return None
        h, m, s = (int(p) for p in parts)
        total = h * 3600 + m * 60 + s
        rest = f"{head}d" if head else ""
    consumed = "".join(f"{n}{u}" for n, u in _UPTIME_PART.findall(rest))
    if consumed != rest:
        return None
    return total + sum(int(n) * _UPTIME_SECONDS[u] for n, u in _UPTIME_PART.findall(rest))


#: Longest duration text read (``1h2m3s4ms5us`` is 12 characters); longer is unreadable.
MAX_DURATION_CHARS = 40
_DURATION_US = {"h": 3_600_000_000, "m": 60_000_000, "s": 1_000_000, "ms": 1_000, "us": 1}
#: Longest round trip read, in microseconds: a probe back after an hour is lost.
MAX_DURATION_US = 3_600_000_000


def parse_duration_ms(text: str) -> float | None:
    """RouterOS short durations → milliseconds: ``2ms``, ``2ms345us``, ``345us``, ``1s2ms``.

    How ping prints ``time`` and ``min-rtt``/``avg-rtt``/``max-rtt``. One pass
    over at most `MAX_DURATION_CHARS` characters; None for anything else
    (``timeout``, an empty text, a number without its unit, units out of order
    or repeated as in ``1ms1ms``, more than `MAX_DURATION_US`).
    """
    if not text or len(text) > MAX_DURATION_CHARS:
        return None
    total_us, i, end, last = 0, 0, len(text), None
    while i < end:
        start = i
        while i < end and "0" <= text[i] <= "9":
            i += 1
        if i == start:
            return None
        unit = text[i : i + 2] if text[i : i + 2] in ("ms", "us") else text[i : i + 1]
        if unit not in _DURATION_US or (last is not None and _DURATION_US[unit] >= last):
            return None
        last = _DURATION_US[unit]
        total_us += int(text[start:i]) * last
        i += len(unit)
    return total_us / 1000 if total_us <= MAX_DURATION_US else None


def ping_from_rows(address: str, rows: list[dict[str, str]]) -> PingResult:
    """A ``/ping`` reply's rows (one per probe, ``status=timeout`` when lost) → PingResult.

    Counted from the probes themselves, not the router's running summary: a
    probe is its ``seq``, counted once; it came back when its ``time`` reads.
    """
    seen: set[str] = set()
    rtts: list[float] = []
    for row in rows:
        seq = row.get("seq")
        if seq is None or seq in seen:
            continue
        seen.add(seq)
        rtt = None if "status" in row else parse_duration_ms(row.get("time", ""))
        if rtt is not None:
            rtts.append(rtt)
    if not rtts:
        return PingResult(address=address, sent=len(seen), received=0)
    steps = [abs(b - a) for a, b in itertools.pairwise(rtts)]
    return PingResult(
        address=address,
        sent=len(seen),
        received=len(rtts),
        rtt_min_ms=min(rtts),
        rtt_avg_ms=sum(rtts) / len(rtts),
        rtt_max_ms=max(rtts),
        jitter_ms=sum(steps) / len(steps) if steps else 0.0,
    )


#: Longest protocol name kept from a torch row (RouterOS's are short: "udp-lite").
MAX_PROTOCOL = 16

#: Protocols whose torch rows carry ports.
_PORTED = frozenset({"tcp", "udp", "sctp", "udp-lite", "dccp"})
#: Longest text read as an address (an IPv6 address is at most 45 characters).
_MAX_ADDRESS_CHARS = 45
#: Distinct flows a `FlowTally` keeps between evictions (it holds at most twice this).
FLOWS_KEPT = 512

_FlowKey = tuple[str, str, int | None]


def _port(text: str) -> int | None:
    """A remote port in 0..65535, or None: unreadable or out of range."""
    head = text.partition(" ")[0]  # some versions add the service: "443 (https)"
    if not (head.isascii() and head.isdigit()) or len(head) > 5 or int(head) > 65535:
        return None
    return int(head)


def _ip(text: str) -> str | None:
    """`text` as an IP address in its usual form, or None: anything else (an
    IPv6 scope, ``fe80::1%eth0``, is refused: it is free text)."""
    if len(text) > _MAX_ADDRESS_CHARS or "%" in text:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


class FlowTally:
    """``/tool/torch`` rows → flows per remote address, protocol and remote port,
    summed as the rows arrive, so what is held does not grow with the reply.

    `local` is the subscriber's session IP: the other address of a row is the
    remote. On his ``<pppoe-…>`` interface the router's tx is his download.

    Memory is bounded however many flows a router lists: at most
    ``2 × keep`` distinct flows are held; when that many are, only the `keep`
    busiest so far stay (a flow evicted and seen again starts from zero, so
    only flows far below the busiest can be undercounted). A row the flows
    could not name honestly is skipped, never shown: a remote address that is
    not an IP, or a ported protocol (tcp, udp…) whose remote port is missing or
    outside 0..65535 (those once merged into one "no port" flow). A rate that is
    not a whole number in range is a `MalformedReply`. A protocol name longer than
    any real one is cut (`MAX_PROTOCOL`).

    Samples are told apart by the rows' ``.section`` word (one per second); a
    router that sends none is taken to have sent `seconds` of them.
    """

    def __init__(self, local: str, seconds: int, keep: int = FLOWS_KEPT) -> None:
        self.local = local
        self.seconds = max(1, seconds)
        self.keep = keep
        self.rows = 0  # rows read (skipped ones included)
        self.sections = 0  # samples seen: changes of `.section`
        self._section: str | None = None
        self._totals: dict[_FlowKey, list[int]] = {}

    def add(self, row: dict[str, str], sentence: Sequence[str] = ()) -> None:
        """Count one row (`sentence`, when given, for its ``.section``)."""
        self.rows += 1
        for word in sentence:
            if word.startswith(".section="):
                if word != self._section:
                    self._section = word
                    self.sections += 1
                break
        src, dst = row.get("src-address", ""), row.get("dst-address", "")
        protocol = row.get("ip-protocol", "")[:MAX_PROTOCOL]
        remote_is_src = dst == self.local and src != self.local
        remote = src if remote_is_src else dst
        download = _whole(row, "tx", MAX_RATE_BPS)
        upload = _whole(row, "rx", MAX_RATE_BPS)
        port = None
        if protocol in _PORTED:
            port = _port(row.get("src-port" if remote_is_src else "dst-port", ""))
            if port is None:
                return
        address = _ip(remote)
        if address is None:
            return
        key = (address, protocol, port)
        total = self._totals.get(key)
        if total is None:
            if len(self._totals) >= 2 * self.keep:
                self._evict()
            total = self._totals[key] = [0, 0]
        total[0] += download
        total[1] += upload

    def _evict(self) -> None:
        """Keep the `keep` busiest flows: once every `keep` new flows, so a flood
        of distinct flows costs O(log keep) a row, not a scan of them all."""
        busiest = heapq.nlargest(self.keep, self._totals.items(), key=lambda kv: sum(kv[1]))
        self._totals = dict(busiest)

    @property
    def held(self) -> int:
        """Distinct flows held right now (at most ``2 × keep``)."""
        return len(self._totals)

    @property
    def samples(self) -> int:
        """Samples the rates are averaged over: those seen (at most `seconds`)."""
        return min(self.sections, self.seconds) if self.sections else self.seconds

    def flows(self) -> list[Flow]:
        """The flows, busiest first, averaged over `samples`."""
        every = self.samples
        flows = [
            Flow(remote, protocol, port, download // every, upload // every)
            for (remote, protocol, port), (download, upload) in self._totals.items()
        ]
        return sorted(flows, key=lambda f: (-f.total_bps, f.remote, f.protocol, f.port or 0))


def parse_bool(text: str) -> bool:
    return text.strip().lower() in {"true", "yes"}


def parse_int(text: str, default: int = 0) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def session_from_row(row: dict[str, str]) -> Session:
    return Session(
        user=row.get("name", ""),
        address=row.get("address", ""),
        caller_id=row.get("caller-id", ""),
        uptime_s=parse_uptime(row.get("uptime", "")),
        service=row.get("service", ""),
    )


#: The highest rate a router may report, in bits per second: 10 Tbit/s, 25 times
#: the fastest port RouterOS drives (400G). A figure above it (or below 0) is a
#: broken or hostile reply, refused here rather than overflowing while rendered.
MAX_RATE_BPS = 10**13
#: Queue counters (dropped packets, queued bytes) are 64-bit on the router.
MAX_COUNTER = 2**64 - 1


def traffic_from_row(row: dict[str, str]) -> Traffic:
    """Map the router's view to the subscriber's: **tx is download, rx is upload**.

    A rate that is not a whole number in 0..`MAX_RATE_BPS` is a `MalformedReply`.
    """
    return Traffic(
        download_bps=_whole(row, "tx-bits-per-second", MAX_RATE_BPS),
        upload_bps=_whole(row, "rx-bits-per-second", MAX_RATE_BPS),
    )


def queue_from_row(row: dict[str, str]) -> QueueState:
    """Simple queues write every pair as ``upload/download``. A pair that is there
    but unreadable, or beyond `MAX_RATE_BPS` (``max-limit``) or `MAX_COUNTER`, is a
    `MalformedReply`; a pair that is missing reads as 0/0."""
    dropped = _pair(row, "dropped", MAX_COUNTER)
    queued = _pair(row, "queued-bytes", MAX_COUNTER)
    return QueueState(
        plan=plan_of(_pair(row, "max-limit", MAX_RATE_BPS)),
        dropped_upload=dropped[0],
        dropped_download=dropped[1],
        queued_bytes_upload=queued[0],
        queued_bytes_download=queued[1],
    )


def _whole(row: dict[str, str], key: str, most: int) -> int:
    """`row[key]` as digits in 0..`most` (0 when missing), else `MalformedReply`."""
    text = row.get(key, "0")
    # Plain ASCII digits (int() would take "٣", " 5", "1_0").
    if not (text.isascii() and text.isdigit()):
        raise MalformedReply(f"{key} is not a whole number: {text[:40]!r}")
    if len(text) > len(str(most)) or int(text) > most:  # int() of a short text only
        raise MalformedReply(f"{key} out of range: {text[:40]!r}")
    return int(text)


def _pair(row: dict[str, str], key: str, most: int) -> tuple[int, int]:
    """`row[key]` as an ``upload/download`` pair in 0..`most` ((0, 0) when missing)."""
    text = row.get(key)
    if text is None:
        return 0, 0
    pair = parse_pair(text[:80])
    if pair is None or len(text) > 80 or max(pair) > most:
        raise MalformedReply(f"{key} is not a pair of figures in range: {text[:40]!r}")
    return pair


def secret_values(
    row: dict[str, str], share: Callable[[str], str] = str
) -> tuple[str, str, str, str, str, str, str, str, str]:
    """A ``/ppp/secret`` row's values, in `SECRET_PROPLIST` order; `share` is applied
    to the columns whose values repeat (profile, service, disabled, reason)."""
    get = row.get
    return (
        get("name", ""),
        share(get("profile", "")),
        share(get("service", "")),
        share(get("disabled", "false")),
        get("comment", ""),
        get("remote-address", ""),
        get("last-logged-out", ""),
        get("last-caller-id", ""),
        share(get("last-disconnect-reason", "")),
    )


def secret_from_values(values: tuple[str, ...], node: str) -> Secret:
    """`Secret` from `secret_values` (arguments by position, in `Secret`'s field
    order: a sync makes hundreds of thousands, and keywords cost a third more)."""
    name, profile, service, disabled, comment, remote, logged_out, caller_id, reason = values
    return Secret(
        name,
        node,
        profile,
        service,
        parse_bool(disabled),
        comment,
        remote,
        logged_out,
        caller_id,
        reason,
    )


def secret_from_row(row: dict[str, str], node: str) -> Secret:
    return secret_from_values(secret_values(row), node)


def interface_name(user: str) -> str:
    """The dynamic interface RouterOS creates for a PPPoE server session."""
    return f"<pppoe-{user}>"


_ROUTER_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%b/%d/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def parse_router_time(text: str) -> datetime | None:
    """``last-logged-out`` and friends: the format changed across RouterOS versions.

    7.x prints ``2025-11-20 10:33:12``, 6.x ``nov/20/2025 10:33:12``; the never-set
    value ``jan/01/1970 00:00:00`` means unknown. Router clocks are local time, so
    the result is naive.
    """
    text = text.strip()
    for fmt in _ROUTER_TIME_FORMATS:
        try:
            value = datetime.strptime(text.title() if "/" in text else text, fmt)  # noqa: DTZ007
        except ValueError:
            continue
        return None if value.year <= 1970 else value
    return None
