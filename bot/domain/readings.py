"""The domain: how a reading is made.

    operator's text → inventory.locate → RouterClient.snapshot (each node, at once)
                    → choose the live one → Reading, assessed (`bot.domain.assess`)

`Reading` is a plain value (`bot.model`) that carries what it means: the Slack
blocks, the terminal view and ``--json`` are all pure functions of it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain import resolve
from bot.domain.assess import assessed
from bot.errors import (
    AmbiguousQuery,
    BeholderError,
    InputError,
    InventoryUnavailable,
    NodeNotInInventory,
    PullDeferred,
    RouterError,
    UnknownUser,
    UserNotConfirmed,
)
from bot.inventory.store import Inventory
from bot.model import (
    Asker,
    AuditEntry,
    Connection,
    Location,
    Match,
    Reading,
    Secret,
    Snapshot,
)
from bot.routeros.client import RouterClient
from bot.routeros.parse import parse_router_time

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """A question and how it ended: what every edge (Slack, the API, the CLI)
    renders. Exactly one of `reading` and `error` is set."""

    query: str
    reading: Reading | None
    error: BaseException | None
    #: How it ended, as the audit records it (`outcome_of`).
    outcome: str
    latency_ms: int


class ReadingService:
    """Makes readings: find the user, then one snapshot per node holding them.

    Fair use of routers: a name missing from the inventory costs a session on
    every router (a targeted pull), and most such names are typos. So pulls are
    bounded three ways, none of which can delay a reading: each router gives
    them at most one session (`RouterClient.find_secret`); at most `max_pulls`
    names are pulled at once over all routers (a name waits for its turn up to
    the router deadline, then the operator is told to retry); and each operator
    may have `pulls_per_user` names pulled per `PULL_WINDOW_S` (beyond that they
    are told how long to wait, and the routers are not asked).
    """

    #: How long "no router has this name" is remembered before pulling again.
    MISSING_TTL_S = 300.0
    #: Names pulled from the routers at once, over all routers.
    MAX_PULLS = 4
    #: Names one operator may have pulled per `PULL_WINDOW_S`.
    PULLS_PER_USER = 5
    PULL_WINDOW_S = 60.0

    def __init__(
        self,
        inventory: Inventory,
        router: RouterClient,
        *,
        max_pulls: int = MAX_PULLS,
        pulls_per_user: int = PULLS_PER_USER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inventory = inventory
        self.router = router
        self.max_pulls = max_pulls
        self.pulls_per_user = pulls_per_user
        self.clock = clock
        self._missing: dict[str, float] = {}
        self._pulls = asyncio.Semaphore(max_pulls)
        #: When each operator's recent pulls started (only those within the window).
        self._pulled_by: dict[str, deque[float]] = {}
        #: Secrets found by targeted pulls, being written (`_store_later`).
        self._storing: set[asyncio.Future[None]] = set()

    async def ask(
        self, query: str, asker: Asker, *, exact: bool = False, audit: bool = True
    ) -> Answer:
        """Answer `asker`'s question about `query`, and queue its audit row.

        The one path every way in takes: Slack's listeners, the HTTP API and
        ``beholder consumo`` time, classify, log and audit a question alike.
        `exact`: `query` is a PPPoE user name (a button's), not typed text.
        `audit`: False when the caller goes on (a diagnosis) and audits how
        the whole ended itself, with `audit`.
        Never raises (but cancellation): a fault is the answer's `error`, and
        one we did not expect is logged with its traceback.
        """
        started = time.monotonic()
        reading: Reading | None = None
        error: BaseException | None = None
        try:
            if exact:
                reading = await self.read_user(query)
            else:
                reading = await self.read(query, asker=asker.user or None)
        except BeholderError as exc:
            error = exc
        except Exception as exc:
            log.exception("consumo query=%r: unexpected error", query)
            error = exc
        latency_ms = round((time.monotonic() - started) * 1000)
        outcome = outcome_of(reading, error)
        log.info(
            "consumo query=%r by=%s channel=%s source=%s outcome=%s user=%s node=%s %dms",
            query,
            asker.user,
            asker.channel,
            asker.source,
            outcome,
            reading.user if reading else "",
            reading.node if reading else getattr(error, "node", ""),
            latency_ms,
        )
        if audit:
            self.audit(query, asker, outcome, reading, error, latency_ms)
        return Answer(query, reading, error, outcome, latency_ms)

    def audit(
        self,
        query: str,
        asker: Asker,
        outcome: str,
        reading: Reading | None = None,
        error: BaseException | None = None,
        latency_ms: int = 0,
    ) -> None:
        """Queue one question's audit row (`ask` does for every answer; the edges for
        what never reaches a reading: refused, help, a live view's outcome). Written
        after the reply, off its path (`Inventory.audit_later`)."""
        self.inventory.audit_later(
            audit_entry(
                query,
                outcome,
                reading,
                error,
                slack_user=asker.user or "",
                channel=asker.channel,
                source=asker.source,
                latency_ms=latency_ms,
            )
        )

    async def read(self, query: str, *, asker: str | None = None) -> Reading:
        """A reading of the subscriber `query` designates, or a `BeholderError`.

        `asker`: who asked (a Slack member id), for the per-operator pull
        allowance; questions that do not say share one allowance.
        """
        # Lookups run in a worker thread: a miss scans the index for suggestions.
        resolution = await asyncio.to_thread(resolve.resolve, self.inventory, query)
        match = resolution.match
        if match is None:
            if resolution.candidates:
                raise AmbiguousQuery(resolution.query, resolution.candidates)
            if not resolve.looks_like_user(resolution.query):
                raise UnknownUser(resolution.query, resolution.suggestions)
            found = await self.pull_missing(resolution.query, resolution.suggestions, asker=asker)
            match = Match(resolution.query, "pulled", query=resolution.query)
            return await self.read_user(match.user, match, found)
        return await self.read_user(match.user, match)

    async def read_user(
        self,
        user: str,
        match: Match | None = None,
        locations: list[Location] | None = None,
    ) -> Reading:
        """A reading of the PPPoE user `user` (an exact name), on the nodes the
        inventory has for it, or on `locations` (where a targeted pull found it)."""
        if locations is None:
            locations = await asyncio.to_thread(self.inventory.locate, user)
        if not locations:
            raise UnknownUser(user)
        reachable = [loc for loc in locations if loc.node is not None]
        if not reachable:
            raise NodeNotInInventory(user, locations[0].secret.node)
        results = await asyncio.gather(
            *(self.router.snapshot(loc.node, user) for loc in reachable if loc.node),
            return_exceptions=True,
        )
        snapshots: list[Snapshot] = []
        failures: list[RouterError] = []
        for result in results:
            if isinstance(result, Snapshot):
                snapshots.append(result)
            elif isinstance(result, RouterError):
                failures.append(result)
            else:
                raise result  # a bug, not a router fault: let the edge log it
        if not snapshots:
            raise failures[0]
        chosen = choose(snapshots)
        stored = {loc.secret.node: loc.secret for loc in locations}
        customer, loaded = await asyncio.to_thread(self._customer, user)
        return assessed(
            Reading(
                user=user,
                node=chosen.node,
                taken_at=chosen.taken_at,
                secret=chosen.secret or stored[chosen.node],
                session=chosen.session,
                traffic=chosen.traffic,
                queue=chosen.queue,
                also_on=tuple(
                    loc.secret.node for loc in locations if loc.secret.node != chosen.node
                ),
                unavailable=tuple(failures),
                match=match,
                customer=customer,
                linked=(customer is not None) if loaded else None,
            )
        )

    def _customer(self, user: str) -> tuple[Connection | None, bool]:
        """The user's customer, and whether the management export is loaded at all
        (counted only when the user is not in it: a customer found says so)."""
        customer = self.inventory.connection(user)
        return customer, customer is not None or self.inventory.count_connections() > 0

    async def pull_missing(
        self, user: str, suggestions: tuple[str, ...] = (), *, asker: str | None = None
    ) -> list[Location]:
        """Ask every node for this one secret before saying it does not exist.

        A secret created after the last sync is found this way (one
        ``/ppp/secret/print ?name=`` per node, at once, within the usual deadline
        and session limits); returns where it was found. It is stored off the
        reply path (`_store_later`): another process holding the inventory's
        write lock must not hold the answer too. Otherwise
        raises `UnknownUser` (with `suggestions`): plain when every router
        answered that it has no such secret, which is remembered for a few
        minutes so repeated typos do not knock on every router;
        `UserNotConfirmed` when some router could not be asked (not remembered:
        the next question asks again); `PullDeferred` when fair use kept the
        routers from being asked at all.
        """
        now = self.clock()
        if now - self._missing.get(user, -math.inf) < self.MISSING_TTL_S:
            raise UnknownUser(user, suggestions)
        self._charge(asker or "", user, suggestions, now)
        try:
            async with asyncio.timeout(self.router.timeout):
                await self._pulls.acquire()
        except TimeoutError:
            self._refund(asker or "", now)  # not pulled: it does not count
            log.info("targeted pull of %s: %d pulls in flight", user, self.max_pulls)
            raise PullDeferred(
                user,
                suggestions,
                reason="busy",
                limit=self.max_pulls,
                retry_in_s=self.router.timeout,
            ) from None
        try:
            nodes = await asyncio.to_thread(self.inventory.nodes)
            results = await asyncio.gather(
                *(self.router.find_secret(node, user) for node in nodes), return_exceptions=True
            )
        finally:
            self._pulls.release()
        found = [r for r in results if isinstance(r, Secret)]
        failed: list[RouterError] = []
        for failure in (r for r in results if isinstance(r, BaseException)):
            if not isinstance(failure, RouterError):
                raise failure
            log.info("targeted pull of %s: %s", user, failure)
            failed.append(failure)
        if not found:
            if failed:
                raise UserNotConfirmed(user, suggestions, unchecked=tuple(failed))
            self._remember_missing(user, now)
            raise UnknownUser(user, suggestions)
        log.info("targeted pull found %s on %s", user, ", ".join(s.node for s in found))
        self._store_later(found)
        by_name = {node.name: node for node in nodes}
        return [Location(secret, by_name.get(secret.node)) for secret in found]

    def _store_later(self, secrets: list[Secret]) -> None:
        """Write secrets found by a targeted pull, in the background. If the
        inventory refuses (locked for long, full), the next sync brings them."""
        stamp = datetime.now(UTC)

        def store() -> None:
            try:
                for secret in secrets:
                    self.inventory.upsert_secret(secret, stamp)
            except InventoryUnavailable as exc:
                log.warning(
                    "could not store %s found by a targeted pull (%s); the next sync will",
                    ", ".join(f"{s.name}@{s.node}" for s in secrets),
                    exc.reason,
                )

        task = asyncio.ensure_future(asyncio.to_thread(store))
        self._storing.add(task)
        task.add_done_callback(self._storing.discard)

    def _charge(self, asker: str, user: str, suggestions: tuple[str, ...], now: float) -> None:
        """Count one pull against `asker`'s allowance, or raise `PullDeferred`."""
        recent = self._pulled_by.setdefault(asker, deque())
        while recent and now - recent[0] >= self.PULL_WINDOW_S:
            recent.popleft()
        if len(recent) >= self.pulls_per_user:
            wait = recent[0] + self.PULL_WINDOW_S - now
            log.info("targeted pull of %s by %s: over %d a minute", user, asker or "-", len(recent))
            raise PullDeferred(
                user, suggestions, reason="rate", limit=self.pulls_per_user, retry_in_s=wait
            )
        recent.append(now)

    def _refund(self, asker: str, charged_at: float) -> None:
        recent = self._pulled_by.get(asker)
        if recent is not None and charged_at in recent:
            recent.remove(charged_at)

    def _remember_missing(self, user: str, now: float) -> None:
        """Remember a definite miss; forget the expired ones (bounded by the pull rate)."""
        self._missing = {
            name: at for name, at in self._missing.items() if now - at < self.MISSING_TTL_S
        }
        self._missing[user] = now


def choose(snapshots: list[Snapshot]) -> Snapshot:
    """The node that counts: the live session; else the most recent logout."""
    live = next((s for s in snapshots if s.online), None)
    if live is not None:
        return live

    def last_seen(snapshot: Snapshot) -> datetime:
        text = snapshot.secret.last_logged_out if snapshot.secret else ""
        return parse_router_time(text) or datetime.min  # noqa: DTZ901 (router clocks are naive)

    return max(snapshots, key=last_seen)


#: Longer than any PPPoE name, customer name or address an operator would type.
MAX_QUERY_LENGTH = 100
_QUOTES = "\"'`“”‘’«»"


def clean_query(text: str) -> str:
    """What the operator asked for (a user, a name, an IP, a MAC), or `InputError`.

    Surrounding quotes are dropped and spacing collapsed. Control characters
    are refused: a query must be something a person can type.
    """
    query = " ".join(text.split()).strip(_QUOTES + " ")
    if not query:
        raise InputError(text, "empty")
    if len(query) > MAX_QUERY_LENGTH:
        raise InputError(text, "too_long")
    if any(unicodedata.category(c)[0] == "C" for c in query):
        raise InputError(text, "invalid")
    return query


# -- the audit's view of a question ---------------------------------------------------


def outcome_of(reading: Reading | None, error: BaseException | None) -> str:
    """How a question ended, as the audit records it."""
    if reading is not None:
        return "ok" if reading.online else "offline"
    match error:
        case AmbiguousQuery():
            return "ambiguous"
        case PullDeferred():
            return f"not_pulled:{error.reason}"
        case UserNotConfirmed():
            return "not_confirmed"
        case UnknownUser():
            return "not_found"
        case NodeNotInInventory():
            return "node_missing"
        case InputError():
            return "bad_input"
        case RouterError():
            return f"failed:{type(error).__name__}"
        case _:
            return "error"


def audit_entry(
    query: str,
    outcome: str,
    reading: Reading | None = None,
    error: BaseException | None = None,
    *,
    slack_user: str = "",
    channel: str = "",
    source: str = "",
    latency_ms: int = 0,
) -> AuditEntry:
    """One audit row for a question, whoever asked it (Slack or the CLI)."""
    user = reading.user if reading else ""
    if not user and isinstance(error, NodeNotInInventory | RouterError):
        user = error.user or ""
    return AuditEntry(
        at=datetime.now(UTC),
        query=query,
        outcome=outcome,
        slack_user=slack_user,
        channel=channel,
        source=source,
        pppoe_user=user,
        node=reading.node if reading else getattr(error, "node", "") or "",
        latency_ms=latency_ms,
    )
