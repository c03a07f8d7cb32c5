"""Rows the simulated router prints, built from the model at a point in time.

Every value is a string, formatted the way RouterOS 7 prints it over the API
(booleans "true"/"false", durations "1w2d3h4m5s", rates "up/down" in bps),
because the point of the simulator is to make the bot parse real-looking text.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.sim import traffic
from bot.sim.model import RouterConfig, Subscriber

Row = dict[str, str]

# How long the simulated router itself has been up, at least (it also always
# exceeds the longest session, which could not have started before boot).
ROUTER_BASE_UPTIME_S = 62 * 86400 + 5 * 3600 + 17 * 60
BOARD_NAME = "CCR2004-16G-2S+"


class NoSuchItem(Exception):
    """The command named an item (interface) the router does not have."""


def format_uptime(seconds: float) -> str:
    """RouterOS duration: "1w2d3h4m5s", zero units omitted, "0s" for zero."""
    remaining = max(int(seconds), 0)
    parts: list[str] = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _pair(up: int, down: int) -> str:
    return f"{up}/{down}"


def _online(cfg: RouterConfig) -> list[tuple[int, Subscriber]]:
    """Online subscribers with their 1-based position, which the ids derive from."""
    return [(n, s) for n, s in enumerate(cfg.subscribers, start=1) if s.online]


def session_uptime(sub: Subscriber, elapsed: float) -> float:
    """Session age now: the configured uptime plus the simulator's run time."""
    return sub.uptime_s + elapsed


def secret_rows(cfg: RouterConfig, elapsed: float, only: str | None = None) -> list[Row]:
    """`/ppp/secret/print`: every configured secret, online or not.

    `only`, in every builder: when given, rows whose `name` is not that value
    may be left out (the caller still applies the query; this only saves work
    on a big router asked for one user).
    """
    rows: list[Row] = []
    for n, sub in enumerate(cfg.subscribers, start=1):
        if only is not None and sub.name != only:
            continue
        row: Row = {
            ".id": f"*{n:X}",
            "name": sub.name,
            "service": sub.service,
            "caller-id": "",
            "password": sub.password,
            "profile": sub.profile,
        }
        # Unset IP properties are absent from the reply, not empty.
        if sub.remote_address:
            row["remote-address"] = sub.remote_address
        row.update(
            {
                "routes": "",
                "limit-bytes-in": "0",
                "limit-bytes-out": "0",
                "disabled": _bool(sub.disabled),
            }
        )
        if sub.comment:
            row["comment"] = sub.comment
        # Read-only history; absent for a secret that never logged out.
        for key, value in (
            ("last-logged-out", sub.last_logged_out),
            ("last-caller-id", sub.last_caller_id),
            ("last-disconnect-reason", sub.last_disconnect_reason),
        ):
            if value:
                row[key] = value
        rows.append(row)
    return rows


def active_rows(cfg: RouterConfig, elapsed: float, only: str | None = None) -> list[Row]:
    """`/ppp/active/print`: one row per live session."""
    return [
        {
            ".id": f"*8000{n:04X}",
            "name": sub.name,
            "service": sub.service,
            "caller-id": sub.caller_id,
            "address": sub.address,
            "uptime": format_uptime(session_uptime(sub, elapsed)),
            "encoding": "",
            "session-id": f"0x8150{n:04X}",
            "limit-bytes-in": "0",
            "limit-bytes-out": "0",
            "radius": "false",
        }
        for n, sub in _online(cfg)
        if only is None or sub.name == only
    ]


def queue_rows(cfg: RouterConfig, elapsed: float, only: str | None = None) -> list[Row]:
    """`/queue/simple/print`: the dynamic queue of each online session with a plan."""
    rows: list[Row] = []
    for n, sub in _online(cfg):
        if sub.plan is None or (only is not None and sub.interface != only):
            continue
        up, down = sub.plan
        now = traffic.sample(sub, elapsed)
        totals = traffic.queue_totals(sub, session_uptime(sub, elapsed))
        rows.append(
            {
                ".id": f"*{0x1000000 + n:X}",
                "name": sub.interface,
                "target": f"{sub.address}/32",
                "parent": "none",
                "packet-marks": "",
                "priority": "8/8",
                "queue": "default-small/default-small",
                "limit-at": "0/0",
                "max-limit": _pair(up, down),
                "burst-limit": "0/0",
                "burst-threshold": "0/0",
                "burst-time": "0s/0s",
                "bucket-size": "0.1/0.1",
                "bytes": _pair(*totals.bytes),
                "packets": _pair(*totals.packets),
                "dropped": _pair(*totals.dropped),
                "rate": _pair(now.rx_bps, now.tx_bps),
                "packet-rate": _pair(now.rx_pps, now.tx_pps),
                "queued-packets": "0/0",
                "queued-bytes": "0/0",
                "invalid": "false",
                "dynamic": "true",
                "disabled": "false",
            }
        )
    return rows


def pppoe_server_rows(cfg: RouterConfig, elapsed: float, only: str | None = None) -> list[Row]:
    """`/interface/pppoe-server/print`: the dynamic interfaces of live sessions."""
    return [
        {
            ".id": f"*{0xF00000 + n:X}",
            "name": sub.interface,
            "user": sub.name,
            "service": f"pppoe-{cfg.name}",
            "remote-address": sub.caller_id,
            "mtu": "1480",
            "mru": "1480",
            "encoding": "",
            "uptime": format_uptime(session_uptime(sub, elapsed)),
        }
        for n, sub in _online(cfg)
        if only is None or sub.interface == only
    ]


def identity_rows(cfg: RouterConfig, elapsed: float, only: str | None = None) -> list[Row]:
    """`/system/identity/print`: a single row without `.id`, like the router."""
    return [{"name": cfg.identity}]


def router_uptime(cfg: RouterConfig, elapsed: float) -> float:
    """Router uptime: longer than any session on it."""
    longest = max((s.uptime_s for s in cfg.subscribers if s.online), default=0)
    return max(ROUTER_BASE_UPTIME_S, longest + 3600) + elapsed


def resource_rows(cfg: RouterConfig, elapsed: float, only: str | None = None) -> list[Row]:
    """`/system/resource/print`: a single row without `.id`."""
    online = len(_online(cfg))
    return [
        {
            "uptime": format_uptime(router_uptime(cfg, elapsed)),
            "version": f"{cfg.version} (stable)",
            "build-time": "2024-09-20 13:00:27",
            "factory-software": "7.1",
            "free-memory": "3521687552",
            "total-memory": "4294967296",
            "cpu": "ARM64",
            "cpu-count": "4",
            "cpu-frequency": "1700",
            "cpu-load": str(min(3 + 2 * online + int(elapsed) % 4, 100)),
            "free-hdd-space": "93229056",
            "total-hdd-space": "134217728",
            "architecture-name": "arm64",
            "board-name": BOARD_NAME,
            "platform": "MikroTik",
        }
    ]


def monitor_rows(cfg: RouterConfig, interfaces: list[str], elapsed: float) -> list[Row]:
    """`/interface/monitor-traffic`: one row per requested interface, in order.

    Raises NoSuchItem if any interface does not exist (user offline or
    unknown): the router refuses the whole command.
    """
    live = {sub.interface: sub for _, sub in _online(cfg)}
    rows: list[Row] = []
    for name in interfaces:
        sub = live.get(name)
        if sub is None:
            raise NoSuchItem(name)
        now = traffic.sample(sub, elapsed)
        rows.append(
            {
                "name": name,
                "rx-packets-per-second": str(now.rx_pps),
                "rx-bits-per-second": str(now.rx_bps),
                "fp-rx-packets-per-second": str(now.fp_rx_pps),
                "fp-rx-bits-per-second": str(now.fp_rx_bps),
                "rx-drops-per-second": "0",
                "rx-errors-per-second": "0",
                "tx-packets-per-second": str(now.tx_pps),
                "tx-bits-per-second": str(now.tx_bps),
                "fp-tx-packets-per-second": str(now.fp_tx_pps),
                "fp-tx-bits-per-second": str(now.fp_tx_bps),
                "tx-drops-per-second": "0",
                "tx-queue-drops-per-second": "0",
                "tx-errors-per-second": "0",
            }
        )
    return rows


TableBuilder = Callable[[RouterConfig, float, str | None], list[Row]]

# Menus that answer `print` (and its old alias `getall`), by path.
PRINT_TABLES: dict[str, TableBuilder] = {
    "/ppp/secret": secret_rows,
    "/ppp/active": active_rows,
    "/queue/simple": queue_rows,
    "/interface/pppoe-server": pppoe_server_rows,
    "/system/identity": identity_rows,
    "/system/resource": resource_rows,
}
