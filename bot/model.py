"""Beholder's values: what every layer passes around, frozen.

Routers, the inventory, the domain and the presentation all speak in these
types, and this module imports nothing of Beholder's: a value does not know
where it is stored (`bot.inventory.store`), how it is read from a router
(`bot.routeros.client`) or how it is shown (`bot.present`).

* The network: `Node` (a router that terminates PPPoE, and how its API is
  reached: `TlsMode`) and `NodeStatus` (how its syncs went).
* What the routers hold: `Secret` (``/ppp/secret``), `ActiveSession` (a
  ``/ppp/active`` row kept at sync time), `NodeTables` (what a sync keeps),
  `NodeCheck` (what ``nodes check`` shows).
* What the inventory answers: `Location` (a secret and its node), `Hit` (a
  search result), `Connection` (the management system's customer and plan),
  `AuditEntry` (a question asked).
* What one API session learns about one user: `Session`, `Traffic`, `Plan`,
  `QueueState`, gathered in a `Snapshot`; a live view's second is a `Sample`.
* What the domain answers: a `Reading` (how the operator's text led to the user,
  `Match`, and the snapshot that counts) carrying its `Assessment` (the `Verdict`,
  the shares of the plan, the warnings). The domain decides them once
  (`bot.domain.assess`); every renderer only puts them into words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

# -- the network ------------------------------------------------------------------


class TlsMode(StrEnum):
    """How a node's RouterOS API is reached (see the module docstring)."""

    NO = "no"
    YES = "yes"
    INSECURE = "insecure"

    def __bool__(self) -> bool:
        """True when the node is reached over API-SSL: what the old boolean
        ``tls`` flag meant, so ``if node.tls`` keeps reading naturally."""
        return self is not TlsMode.NO

    @classmethod
    def parse(cls, text: str) -> TlsMode:
        """``no``/``yes``/``insecure``; the old ``false``/``true`` (and ``0``/``1``,
        ``si``, empty) keep meaning ``no``/``yes``. ValueError names the choices."""
        value = text.strip().lower()
        if value in _TLS_WORDS:
            return _TLS_WORDS[value]
        raise ValueError(f"tls must be no, yes or insecure, not {text[:40]!r}")


_TLS_WORDS = {
    **dict.fromkeys(("", "0", "false", "no"), TlsMode.NO),
    **dict.fromkeys(("1", "true", "yes", "si", "sí"), TlsMode.YES),
    "insecure": TlsMode.INSECURE,
}

_HEX64 = re.compile(r"[0-9a-f]{64}")
#: Longest fingerprint text read (95 characters in colon form, plus slack for spaces).
_FINGERPRINT_TEXT_MAX = 200


def parse_fingerprint(text: str) -> str:
    """A SHA-256 fingerprint typed or pasted in any usual form (``AB:CD:…``,
    ``ab cd …``, bare hex) → 64 lowercase hex digits; ValueError otherwise."""
    if len(text) > _FINGERPRINT_TEXT_MAX:
        raise ValueError("a SHA-256 fingerprint is 64 hex digits")
    value = re.sub(r"[:\s]", "", text).lower()
    if not _HEX64.fullmatch(value):
        raise ValueError(f"a SHA-256 fingerprint is 64 hex digits, not {text[:40]!r}")
    return value


def shown_fingerprint(value: str) -> str:
    """``ab12…`` → ``AB:12:…``: how operators compare it with the router's."""
    value = value.upper()
    return ":".join(value[i : i + 2] for i in range(0, len(value), 2))


@dataclass(frozen=True)
class Node:
    """A router that terminates PPPoE sessions (a BRAS)."""

    name: str
    host: str
    port: int = 8728
    #: How its API is reached (`bot.routeros.tls`); True/False and the CSV's words are
    #: accepted and normalised, so ``Node(..., tls=True)`` means ``yes``.
    tls: TlsMode = TlsMode.NO
    #: SHA-256 of the certificate pinned by ``beholder nodes trust`` (64 hex
    #: digits); with ``tls=yes`` it, not the CA, authenticates the router.
    tls_fingerprint: str | None = None
    #: False when whoever described the node did not say how to reach it (a nodes
    #: CSV row with no ``tls``): `Inventory.upsert_nodes` then keeps the mode an
    #: existing node has (a new node gets ``no``), rather than turn API-SSL off.
    tls_said: bool = field(default=True, compare=False, repr=False)

    def __post_init__(self) -> None:
        tls = self.tls
        if isinstance(tls, bool):
            tls = TlsMode.YES if tls else TlsMode.NO
        object.__setattr__(self, "tls", TlsMode.parse(tls) if isinstance(tls, str) else tls)
        if self.tls_fingerprint is not None:
            object.__setattr__(self, "tls_fingerprint", parse_fingerprint(self.tls_fingerprint))


@dataclass(frozen=True)
class NodeStatus:
    """A node with the outcome of its syncs."""

    node: Node
    secrets: int
    synced_at: str | None  # last good sync (ISO 8601, UTC)
    sync_error: str | None  # why the last attempt failed, if it did
    sync_failed_at: str | None

    @property
    def stale(self) -> bool:
        """The last attempt failed: rows are those of `synced_at`."""
        return self.sync_error is not None


@dataclass(frozen=True, slots=True)
class Secret:
    """One ``/ppp/secret`` entry as last synced from a router (no password)."""

    name: str
    node: str
    profile: str = ""
    service: str = ""
    disabled: bool = False
    comment: str = ""
    remote_address: str = ""
    last_logged_out: str = ""
    last_caller_id: str = ""
    last_disconnect_reason: str = ""


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """One ``/ppp/active`` row as seen at sync time (to resolve IPs and MACs)."""

    name: str
    address: str = ""
    caller_id: str = ""
    uptime: str = ""


@dataclass(frozen=True)
class Location:
    """Where a secret lives: the secret plus its node, or None if `nodes` lacks it."""

    secret: Secret
    node: Node | None


@dataclass(frozen=True)
class Connection:
    """The management system's view of a PPPoE user (its customer and plan)."""

    pppoe_user: str
    customer_id: str = ""
    customer_name: str = ""
    plan_download_bps: int | None = None
    plan_upload_bps: int | None = None
    status: str = ""


#: Management-system statuses that mean the customer should not be connected.
SUSPENDED_STATUSES = frozenset(
    {"suspendido", "suspended", "cortado", "moroso", "baja", "inactivo", "deshabilitado"}
)


@dataclass(frozen=True)
class Asker:
    """Who asked, where, and how: for the audit, and for the per-asker allowance
    of targeted pulls. `user` is a Slack member id, an API caller's label
    (``api:1``) or None (the CLI); `source` one of "command", "mention",
    "button", "shortcut", "api", "cli"…"""

    user: str | None
    channel: str = ""
    source: str = "command"


@dataclass(frozen=True)
class AuditEntry:
    """One question asked of Beholder: who, where, what, and what came of it."""

    at: datetime
    query: str
    #: "ok", "offline", "not_found", "ambiguous", "denied", "failed:<Error>";
    #: "pinned" / "replaced" for ``nodes trust``.
    outcome: str
    slack_user: str = ""
    channel: str = ""
    source: str = ""  # "command", "mention", "button", "cli"
    pppoe_user: str = ""
    node: str = ""
    latency_ms: int = 0


@dataclass(frozen=True)
class Hit:
    """A PPPoE user found by a search, and what matched."""

    name: str
    how: str  # "ip", "mac", "name", "comment", "similar"
    detail: str = ""  # e.g. the comment that matched


# -- what a router says about one user -----------------------------------------------


@dataclass(frozen=True)
class Session:
    """A live PPPoE session from ``/ppp/active``."""

    user: str
    address: str = ""
    caller_id: str = ""  # the subscriber's MAC address on PPPoE
    uptime_s: int | None = None
    service: str = ""


@dataclass(frozen=True)
class Traffic:
    """Instant rates from ``monitor-traffic once``, from the *subscriber's* side.

    On the BRAS the router's tx goes toward the subscriber: tx is download,
    rx is upload (ADR-005 had it backwards).
    """

    download_bps: int
    upload_bps: int


@dataclass(frozen=True)
class Plan:
    """The rate limit of the session's dynamic queue (``max-limit``)."""

    download_bps: int
    upload_bps: int


@dataclass(frozen=True)
class QueueState:
    """The dynamic simple queue ``<pppoe-USER>``: plan and pressure on it."""

    plan: Plan | None
    dropped_download: int = 0
    dropped_upload: int = 0
    queued_bytes_download: int = 0
    queued_bytes_upload: int = 0


@dataclass(frozen=True)
class NodeCheck:
    """What a node says about itself: for ``beholder nodes check``."""

    node: str
    identity: str
    version: str
    login_s: float  # connect + TLS + login: the API latency an operator feels
    pppoe_sessions: int | None  # live sessions visible to our API user


@dataclass(frozen=True)
class NodeTables:
    """What `sync` keeps of one node."""

    secrets: list[Secret]
    sessions: list[ActiveSession]


@dataclass(frozen=True)
class Snapshot:
    """Everything one API session learned about one user on one node."""

    node: str
    user: str
    taken_at: datetime
    session: Session | None = None
    traffic: Traffic | None = None
    queue: QueueState | None = None
    #: Fresh ``/ppp/secret`` row, read when the user is offline (last-logged-out…).
    secret: Secret | None = None
    latency_s: float = 0.0

    @property
    def online(self) -> bool:
        return self.session is not None


@dataclass(frozen=True)
class PingResult:
    """A bounded ``/ping`` from the router to one address: the last mile.

    RTTs are in milliseconds, None when no probe came back; `jitter_ms` is the
    mean difference between consecutive received RTTs (0 with fewer than two).
    `sent` counts the probes the router reported; `asked`, the probes asked
    (None: not known), is more when the deadline cut the ping short.
    """

    address: str
    sent: int
    received: int
    rtt_min_ms: float | None = None
    rtt_avg_ms: float | None = None
    rtt_max_ms: float | None = None
    jitter_ms: float = 0.0
    asked: int | None = None

    @property
    def loss_pct(self) -> float:
        """Share of probes lost, in percent (0 when none was sent)."""
        return 100.0 * (self.sent - self.received) / self.sent if self.sent else 0.0


@dataclass(frozen=True)
class Flow:
    """What one remote endpoint exchanged with a subscriber during a torch.

    Rates are the subscriber's view (download is the router's tx on his
    interface), averaged over the torch's samples; `port` is the remote side's,
    None for protocols without ports.
    """

    remote: str
    protocol: str
    port: int | None
    download_bps: int
    upload_bps: int

    @property
    def total_bps(self) -> int:
        return self.download_bps + self.upload_bps


@dataclass(frozen=True)
class Probe:
    """What one ping and one torch, run at once on one router session, measured
    (`RouterClient.probe`), each part possibly partial or absent.

    `ping` is None when it was not asked (no address to ping) or nothing of it came
    back; `flows` (busiest first) is None when torch did not run (the session
    ended), a row of it was garbage, or nothing of it came back; empty when it
    saw no traffic.
    `torch_samples`: the seconds the flows' rates are averaged over, fewer than
    `torch_seconds` when cut. `partial`: the deadline ended the commands before
    both were done, so the figures are of what arrived. `ping_refused`: the
    router answered the ping with a trap (it could not run it), rather than
    not answering in time.
    """

    ping: PingResult | None
    flows: tuple[Flow, ...] | None
    torch_seconds: int
    torch_samples: int
    partial: bool = False
    ping_refused: bool = False


@dataclass(frozen=True)
class Diagnosis:
    """Why a subscriber's link may feel slow, from the router holding his session.

    The domain's conclusion (`bot.domain.diagnose`) as a code, so renderers only
    choose words: ``last_mile`` (loss or latency between the router and the
    CPE), ``dominant_flow`` (saturated, and one flow carries most of it:
    `dominant`), ``healthy`` (a clean last mile and a link not saturated), or
    ``inconclusive``. `ping` is None when it could not be measured
    (`ping_unmeasured` says why: ``no_address``, the session has no IP to ping;
    ``refused``, the router answered it with an error; ``no_answer``, the router
    did not answer in time); `top` is empty when torch saw nothing, or could not
    measure (`torch_unmeasured`). `partial`: the measurement was cut at its
    deadline and the figures are of what arrived (``medición parcial``).
    """

    verdict: str  # "last_mile", "dominant_flow", "healthy", "inconclusive"
    ping: PingResult | None
    #: The busiest flows, busiest first (at most `bot.domain.diagnose.TOP_FLOWS`).
    top: tuple[Flow, ...] = ()
    dominant: Flow | None = None
    #: Seconds torch watched (`top`'s rates are averaged over them).
    torch_seconds: int = 3
    #: Why `ping` is None: "no_address", "refused" or "no_answer" (None when measured).
    ping_unmeasured: str | None = None
    partial: bool = False
    #: Torch did not measure (it trapped, sent garbage, or nothing before the
    #: deadline): an empty `top` says nothing about the traffic.
    torch_unmeasured: bool = False


@dataclass(frozen=True)
class Sample:
    """One second of a live view (`RouterClient.watch`): ``monitor-traffic once``
    and the subscriber's queue, read together."""

    #: Seconds since the live view's first sample was asked for.
    offset_s: float
    taken_at: datetime
    #: None: the PPPoE session was gone at that second (the watch ends there).
    traffic: Traffic | None
    #: The dynamic queue's counters at that second (its ``dropped`` only grows
    #: while the session lasts); None when the session has no queue.
    queue: QueueState | None = None


# -- what the domain answers -----------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """How the operator's text led to a PPPoE user."""

    user: str
    how: str  # "exact", "key", "ip", "mac", "name", "comment", "pulled"
    detail: str = ""  # the IP, the MAC, or the comment that matched
    query: str = ""  # what the operator typed


@dataclass(frozen=True)
class Verdict:
    """What a reading means for the call, before the numbers."""

    kind: str  # "offline", "disabled", "saturated", "moderate", "low", "unknown_plan", "no_data"
    share_pct: float | None = None  # the busier direction's share of the plan
    direction: str = ""  # "download" or "upload": which one that is
    #: Extra signs: "queue_dropping", "recent_reconnect".
    signs: tuple[str, ...] = ()
    uptime_s: int | None = None
    dropped: int = 0


@dataclass(frozen=True)
class Assessment:
    """Everything the domain concluded about a reading, so no renderer has to.

    Made by `bot.domain.assess.assess` when the reading is made; the Slack blocks,
    the terminal view and ``--json`` read it and never compute it again.
    """

    verdict: Verdict
    #: Share of the plan per direction, percent; None without traffic or plan.
    download_pct: float | None = None
    upload_pct: float | None = None
    #: What the operator should look into, as codes: "plan_mismatch",
    #: "suspended_online", "duplicated" (in that order).
    warnings: tuple[str, ...] = ()


class NodeFault(Protocol):
    """A router that could not be asked (a `bot.errors.RouterError`: the model
    imports nothing of Beholder's, so it names only what it reads)."""

    node: str


@dataclass(frozen=True)
class Reading:
    """One answer to "how much is this subscriber using right now?"."""

    user: str
    node: str
    taken_at: datetime
    secret: Secret
    session: Session | None = None
    traffic: Traffic | None = None
    queue: QueueState | None = None
    #: Other nodes that also have this secret configured (a duplicated user).
    also_on: tuple[str, ...] = ()
    #: Nodes holding the secret that could not be asked; the live session may be there.
    unavailable: tuple[NodeFault, ...] = ()
    #: How the operator's text led here (None when asked by exact name).
    match: Match | None = None
    #: The management system's customer for this user, if linked.
    customer: Connection | None = None
    #: False: "No vinculado". None: no management-system export was imported.
    linked: bool | None = None
    #: What it means (`bot.domain.assess.assessed` fills it in); None only
    #: while the domain is still making the reading.
    assessment: Assessment | None = None

    @property
    def online(self) -> bool:
        return self.session is not None

    @property
    def plan(self) -> Plan | None:
        return self.queue.plan if self.queue else None

    @property
    def judged(self) -> Assessment:
        """The assessment, which every reading handed to a renderer has."""
        if self.assessment is None:
            raise ValueError("a reading not assessed: make it with bot.domain.assess.assessed")
        return self.assessment

    @property
    def download_pct(self) -> float | None:
        return self.judged.download_pct

    @property
    def upload_pct(self) -> float | None:
        return self.judged.upload_pct
