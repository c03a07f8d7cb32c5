"""The simulated world: routers and the PPPoE subscribers configured on them.

Plain dataclasses, so a test can build exactly the situation it needs (one
router, one subscriber at a fixed rate) and the demo can use `demo_network()`.
Nothing here knows about the wire format; `tables.py` turns it into rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.sim.tls import SimCertificate

MBPS = 1_000_000


@dataclass(frozen=True)
class PingPath:
    """How pings from the router to one address fare: the last mile, modelled.

    Deterministic so tests are exact: of every run of probes, the share `loss`
    is lost, spread evenly (probe ``seq`` is lost when ``floor((seq + 1) * loss)``
    steps up); a received probe takes `rtt_ms` plus an offset in
    ``[-jitter_ms, jitter_ms]`` drawn from a RNG seeded by address and ``seq``.
    """

    loss: float = 0.0  # 0.0 .. 1.0
    rtt_ms: float = 1.0
    jitter_ms: float = 0.0
    ttl: int = 64
    #: Probes reported before the ping hangs: nothing more on that command, not
    #: even its ``!done`` (a router whose ping stalls). None: it never hangs.
    hangs_after: int | None = None


@dataclass(frozen=True)
class Flow:
    """One conversation of a subscriber with a remote host, as Torch shows it.

    Rates are the router's view on the ``<pppoe-USER>`` interface: `tx_bps`
    goes toward the subscriber (download), `rx_bps` comes from him (upload).
    """

    remote: str
    tx_bps: int
    rx_bps: int = 0
    protocol: str = "tcp"  # "tcp", "udp", "icmp"...
    port: int = 443  # the remote side's port (0 for protocols without ports)
    local_port: int = 50000  # the subscriber's side


@dataclass(slots=True)
class Subscriber:
    """One PPP secret and, when `online`, its live PPPoE session.

    Direction, as the router sees it: **tx** (router → subscriber) is the
    subscriber's download, **rx** is the upload. `plan` and `fixed_traffic`
    follow different conventions on purpose, each the one RouterOS uses where
    the value shows up: `plan` is (upload, download) like a simple queue's
    max-limit, `fixed_traffic` is (rx, tx) like monitor-traffic.
    """

    name: str
    password: str
    profile: str = "default"
    service: str = "pppoe"
    disabled: bool = False
    comment: str = ""
    # Static IP from the secret (`remote-address`); empty when the pool assigns it.
    remote_address: str = ""
    # (upload_bps, download_bps) of the dynamic simple queue; None = no dynamic
    # queue (a parent queue or PCQ shapes instead, so the plan is unknown).
    plan: tuple[int, int] | None = None
    online: bool = False
    address: str = ""  # session IP (`/ppp/active` address)
    caller_id: str = ""  # subscriber's MAC for PPPoE
    uptime_s: int = 0  # session uptime when the simulator starts; grows with time
    last_logged_out: str = ""  # RouterOS 7 format, e.g. "2025-11-20 10:33:12"
    last_caller_id: str = ""
    last_disconnect_reason: str = ""  # peer-request, hung-up, idle-timeout, ...
    # Average fraction of the plan in use; generated traffic moves around it.
    load: float = 0.0
    # Exact (rx_bps, tx_bps) to report, for deterministic tests; wins over `load`.
    fixed_traffic: tuple[int, int] | None = None
    # What `/tool/torch` on the session's interface shows, every second.
    flows: tuple[Flow, ...] = ()

    @property
    def interface(self) -> str:
        """Name of the dynamic PPPoE interface of the session."""
        return f"<pppoe-{self.name}>"


@dataclass
class RouterConfig:
    """One simulated RouterOS device (a BRAS) and how it should misbehave."""

    name: str
    identity: str = ""  # `/system/identity` name; defaults to `name`
    version: str = "7.16"
    username: str = "beholder"
    password: str = "beholder-pass"
    subscribers: list[Subscriber] = field(default_factory=list)
    latency: float = 0.0  # seconds slept before each reply
    max_sessions: int = 20  # RouterOS default for /ip/service max-sessions
    tls: bool = False  # serve API-SSL
    # The api-ssl service's certificate; None: anonymous DH only, like a router
    # without one. See `bot.sim.tls` (self_signed, CertificateAuthority).
    certificate: SimCertificate | None = None
    fault: str | None = None  # see server.FAULTS
    # Rows a print sends before CLOSE_MID_STREAM / STALL_MID_STREAM cut it.
    fault_after_rows: int = 100
    # TRICKLE: bytes per write and seconds between writes.
    trickle_bytes: int = 1
    trickle_interval: float = 0.05
    # `/ping` from this router, by target address. An online subscriber's
    # session IP not listed here answers like a healthy link (`PingPath()`);
    # any other address never answers (every probe times out).
    ping_paths: dict[str, PingPath] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.identity:
            self.identity = self.name

    def subscriber(self, name: str) -> Subscriber | None:
        """The subscriber with that PPP name, if configured here."""
        return next((s for s in self.subscribers if s.name == name), None)

    def ping_path(self, address: str) -> PingPath | None:
        """How pings to `address` fare; None: nothing answers there."""
        if address in self.ping_paths:
            return self.ping_paths[address]
        online = any(s.online and s.address == address for s in self.subscribers)
        return PingPath() if online else None


def version_tuple(version: str) -> tuple[int, ...]:
    """Numeric form of a RouterOS version ("7.18.2" → (7, 18, 2)).

    Versions must be compared numerically: as strings "7.9" > "7.18".
    Anything after the numeric part ("7.18beta2", "7.16 (stable)") is ignored.
    """
    match = re.match(r"\d+(?:\.\d+)*", version.strip())
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def _plan(up_mbps: int, down_mbps: int) -> tuple[int, int]:
    return (up_mbps * MBPS, down_mbps * MBPS)


def demo_network() -> list[RouterConfig]:
    """Three BRAS nodes with a dozen subscribers, for the demo and manual testing.

    Covers the cases the bot must explain: a saturated plan, an idle one, a
    numeric username, an offline user with last-logout data, a user configured
    on two routers (a migration), a session without a dynamic queue and a
    disabled secret; for diagnoses, a lossy last mile (martin.benitez: 30 % of
    the pings lost at 45 ms) and a saturated link that one RTMP stream fills
    (lucas.moreno). All nodes share the same API credentials.
    """
    centro = RouterConfig(
        name="bras-centro",
        subscribers=[
            Subscriber(
                name="juan.perez",
                password="jp-2024",
                profile="plan-50M",
                comment="Pérez, Juan - Av. San Martín 1234",
                plan=_plan(10, 50),
                online=True,
                address="100.64.10.21",
                caller_id="4C:5E:0C:12:34:56",
                uptime_s=3 * 86400 + 4 * 3600 + 12 * 60 + 9,
                last_logged_out="2025-11-17 06:02:41",
                last_caller_id="4C:5E:0C:12:34:56",
                last_disconnect_reason="hung-up",
                load=0.9,
            ),
            Subscriber(
                name="maria.gomez",
                password="mg-2024",
                profile="plan-100M",
                comment="Gómez, María - Belgrano 455 3°B",
                plan=_plan(20, 100),
                online=True,
                address="100.64.10.34",
                caller_id="DC:2C:6E:AA:01:02",
                uptime_s=11 * 86400 + 2 * 3600 + 5,
                last_logged_out="2025-11-08 23:15:00",
                last_caller_id="DC:2C:6E:AA:01:02",
                last_disconnect_reason="peer-request",
                load=0.05,
            ),
            Subscriber(
                name="20513",
                password="20513-x",
                profile="plan-30M",
                comment="Fernández, Lucía - Mitre 870 (cliente 20513)",
                plan=_plan(6, 30),
                online=True,
                address="100.64.10.57",
                caller_id="E4:8D:8C:20:51:30",
                uptime_s=17 * 3600 + 48 * 60,
                load=0.35,
            ),
            Subscriber(
                name="carlos.lopez",
                password="cl-2024",
                profile="plan-30M",
                comment="López, Carlos - Rivadavia 2010",
                plan=_plan(6, 30),
                online=False,
                last_logged_out="2025-11-20 10:33:12",
                last_caller_id="B8:69:F4:0C:AB:CD",
                last_disconnect_reason="peer-request",
            ),
            Subscriber(
                name="ana.martinez",
                password="am-2024",
                profile="plan-50M",
                comment="Martínez, Ana - Güemes 77 (migrada a bras-norte)",
                plan=_plan(10, 50),
                online=False,
                last_logged_out="2025-11-19 14:05:50",
                last_caller_id="74:4D:28:9A:77:01",
                last_disconnect_reason="hung-up",
            ),
            Subscriber(
                name="roberto.diaz",
                password="rd-2024",
                profile="plan-30M",
                comment="Díaz, Roberto - Sarmiento 1550 (baja por mora)",
                plan=_plan(6, 30),
                disabled=True,
                online=False,
                last_logged_out="2025-10-31 09:00:03",
                last_caller_id="00:0C:42:1F:33:44",
                last_disconnect_reason="nas-request",
            ),
        ],
    )
    norte = RouterConfig(
        name="bras-norte",
        subscribers=[
            Subscriber(
                name="ana.martinez",
                password="am-2024",
                profile="plan-50M",
                comment="Martínez, Ana - Güemes 77",
                plan=_plan(10, 50),
                online=True,
                address="100.64.20.12",
                caller_id="74:4D:28:9A:77:01",
                uptime_s=20 * 3600 + 31 * 60 + 2,
                load=0.25,
            ),
            Subscriber(
                name="jorge.rodriguez",
                password="jr-2024",
                profile="empresa-200M",
                comment="Rodríguez, Jorge - Ferretería El Ñandú, Ruta 3 km 12",
                plan=_plan(50, 200),
                online=True,
                address="100.64.20.40",
                caller_id="18:FD:74:55:66:77",
                uptime_s=45 * 86400 + 3 * 3600,
                load=0.6,
            ),
            Subscriber(
                name="sofia.acuna",
                password="sa-2024",
                profile="plan-100M",
                # Shaped by a parent queue / PCQ: no dynamic queue, plan unknown.
                comment="Acuña, Sofía - Pasaje Los Álamos 12",
                plan=None,
                online=True,
                address="100.64.20.77",
                caller_id="08:55:31:0A:0B:0C",
                uptime_s=2 * 3600 + 7 * 60,
                load=0.3,
            ),
            Subscriber(
                name="lucas.moreno",
                password="lm-2024",
                profile="plan-50M",
                comment="Moreno, Lucas - Alvear 915 (streaming)",
                plan=_plan(10, 50),
                online=True,
                address="100.64.20.88",
                caller_id="3C:84:6A:0D:0E:0F",
                uptime_s=4 * 86400 + 6 * 3600,
                fixed_traffic=(1_300_000, 48_400_000),  # 97 % of the plan: saturated
                flows=(
                    Flow("203.0.113.50", tx_bps=39 * MBPS, rx_bps=700_000, port=1935),
                    Flow("142.250.79.46", tx_bps=6 * MBPS, rx_bps=300_000, port=443),
                    Flow("157.240.22.35", tx_bps=2_500_000, rx_bps=200_000, port=443),
                    Flow("8.8.8.8", tx_bps=30_000, rx_bps=20_000, protocol="udp", port=53),
                ),
            ),
            Subscriber(
                name="diego.sanchez",
                password="ds-2024",
                profile="plan-50M",
                comment="Sánchez, Diego - Entre Ríos 3302",
                plan=_plan(10, 50),
                online=False,
                last_logged_out="2025-11-20 21:47:30",
                last_caller_id="2C:C8:1B:10:20:30",
                last_disconnect_reason="idle-timeout",
            ),
        ],
    )
    sur = RouterConfig(
        name="bras-sur",
        subscribers=[
            Subscriber(
                name="valeria.romero",
                password="vr-2024",
                profile="plan-30M",
                comment="Romero, Valeria - Colón 640 PB",
                plan=_plan(6, 30),
                online=True,
                address="100.64.30.15",
                caller_id="C4:AD:34:01:02:03",
                uptime_s=6 * 86400 + 9 * 3600 + 30,
                load=0.7,
            ),
            Subscriber(
                name="martin.benitez",
                password="mb-2024",
                profile="plan-100M",
                comment="Benítez, Martín - Chacabuco 1180",
                plan=_plan(20, 100),
                online=True,
                address="100.64.30.22",
                caller_id="48:8F:5A:11:22:33",
                uptime_s=9 * 60 + 12,
                load=0.15,
                flows=(
                    Flow("142.250.79.46", tx_bps=1_800_000, rx_bps=150_000, port=443),
                    Flow("8.8.4.4", tx_bps=10_000, rx_bps=8_000, protocol="udp", port=53),
                ),
            ),
            Subscriber(
                name="paula.gimenez",
                password="pg-2024",
                profile="plan-50M",
                comment="Giménez, Paula - Lavalle 221",
                plan=_plan(10, 50),
                online=False,
                last_logged_out="2025-11-21 03:12:09",
                last_caller_id="F0:9F:C2:44:55:66",
                last_disconnect_reason="port-error",
            ),
        ],
        # martin.benitez reconnected minutes ago: his radio link loses pings.
        ping_paths={"100.64.30.22": PingPath(loss=0.3, rtt_ms=45.0, jitter_ms=6.0)},
    )
    return [centro, norte, sur]


_FIRST_NAMES = (
    "juan", "maria", "carlos", "ana", "jorge", "lucia", "diego", "sofia", "martin",
    "valeria", "roberto", "paula", "nicolas", "camila", "sebastian", "julieta",
)  # fmt: skip
_LAST_NAMES = (
    ("perez", "Pérez"), ("gomez", "Gómez"), ("lopez", "López"), ("martinez", "Martínez"),
    ("rodriguez", "Rodríguez"), ("sanchez", "Sánchez"), ("diaz", "Díaz"),
    ("fernandez", "Fernández"), ("gimenez", "Giménez"), ("romero", "Romero"),
    ("benitez", "Benítez"), ("acuna", "Acuña"), ("alvarez", "Álvarez"), ("suarez", "Suárez"),
)  # fmt: skip
_STREETS = (
    "Av. San Martín", "Belgrano", "Mitre", "Rivadavia", "Sarmiento", "Güemes", "Entre Ríos",
    "Colón", "Lavalle", "Chacabuco", "Av. Libertador", "Pasaje Los Álamos",
)  # fmt: skip
_PLANS = ((6, 30), (10, 50), (20, 100), (50, 300))
_REASONS = ("peer-request", "hung-up", "idle-timeout", "session-timeout", "port-error")


def scale_network(
    nodes: int, secrets: int, latency: float = 0.0, online_share: float = 0.6
) -> list[RouterConfig]:
    """`nodes` BRAS with `secrets` subscribers each, for benchmarks at ISP scale.

    Deterministic (no randomness): the same arguments always build the same
    world. Names are unique across the network; comments carry accented
    customer names and addresses like a real ISP's; about `online_share` of
    the subscribers have a live session. Values that repeat (plans, profiles,
    passwords, dates) are shared objects: 600,000 subscribers take about 330 MB
    of simulator memory.
    """
    configs: list[RouterConfig] = []
    plans = [(_plan(up, down), f"plan-{down}M") for up, down in _PLANS]
    for n in range(nodes):
        node = f"bras-{n + 1:03d}"
        subscribers: list[Subscriber] = []
        for i in range(secrets):
            k = n * secrets + i
            first = _FIRST_NAMES[k % len(_FIRST_NAMES)]
            last, last_display = _LAST_NAMES[(k // len(_FIRST_NAMES)) % len(_LAST_NAMES)]
            plan, profile = plans[k % len(plans)]
            online = (k % 5) < round(online_share * 5)
            octets = f"{(k >> 16) & 0xFF}.{(k >> 8) & 0xFF}.{k & 0xFF}"
            mac = f"4C:5E:0C:{(k >> 16) & 0xFF:02X}:{(k >> 8) & 0xFF:02X}:{k & 0xFF:02X}"
            subscribers.append(
                Subscriber(
                    name=f"{first}.{last}{k}",
                    password="bench-pw",
                    profile=profile,
                    comment=(
                        f"{last_display}, {first.title()} - "
                        f"{_STREETS[k % len(_STREETS)]} {100 + k % 4900} (cliente {k})"
                    ),
                    remote_address=f"10.{octets}" if k % 10 == 0 else "",
                    plan=plan,
                    disabled=k % 50 == 0,
                    online=online,
                    address=f"100.{64 + (k >> 16) % 64}.{(k >> 8) & 0xFF}.{k & 0xFF}"
                    if online
                    else "",
                    caller_id=mac if online else "",
                    uptime_s=(k * 7919) % (30 * 86400) if online else 0,
                    last_logged_out="" if online else "2025-11-20 10:33:12",
                    last_caller_id=mac,
                    last_disconnect_reason=_REASONS[k % len(_REASONS)],
                    load=0.3,
                )
            )
        configs.append(RouterConfig(name=node, subscribers=subscribers, latency=latency))
    return configs
