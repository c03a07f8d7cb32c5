"""What is asked on a router session, and how its replies are read.

The shapes of Beholder's questions, each a tagged batch (`bot.routeros.batch`)
but for the single-command ones (`rows`): a snapshot's four reads, a live
view's sample (its traffic and its queue), a diagnosis's ping and torch
(`ProbeReads`); the ceiling of each reply; and the check that every row is
about whom it was asked for (`_named`). `bot.routeros.client.RouterClient`
decides when a session may be opened, for how long, and which of these is
asked on it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from datetime import UTC, datetime

from bot.model import Node, Probe, QueueState, Snapshot, Traffic
from bot.routeros.batch import Ask, Batch
from bot.routeros.connection import RawApi
from bot.routeros.parse import (
    FLOWS_KEPT,
    FlowTally,
    MalformedReply,
    interface_name,
    ping_from_rows,
    queue_from_row,
    secret_from_row,
    session_from_row,
    traffic_from_row,
)
from bot.routeros.pull import SECRET_PROPLIST
from bot.routeros.sentences import QUESTION, ReplyLimit

log = logging.getLogger(__name__)

ACTIVE_PROPLIST = "name,service,caller-id,address,uptime"
QUEUE_PROPLIST = "name,max-limit,rate,queued-bytes,dropped"

#: One of a snapshot's four reads: a handful of rows, a quarter of a `QUESTION`'s
#: bytes, so the four sent together are held to what one question may bring.
SNAPSHOT_READ = ReplyLimit(rows=QUESTION.rows, bytes=QUESTION.bytes // 4)
#: One ``monitor-traffic once`` of a live view: one row.
SAMPLE = ReplyLimit(rows=1, bytes=64 * 1024)
#: The subscriber's own queue (``?name=<pppoe-USER>``): one row.
SAMPLE_QUEUE = ReplyLimit(rows=1, bytes=64 * 1024)

#: Most probes one ``/ping`` may send (BEHOLDER_PING_COUNT is at most this).
MAX_PING_COUNT = 50
#: The ``interval`` between probes RouterOS accepts, in seconds.
PING_INTERVAL_RANGE = (0.01, 5.0)
#: Longest ``/tool/torch``, in seconds (one sample each).
MAX_TORCH_SECONDS = 10
#: Rows one torch sample may list before the reply is cut: a subscriber's link
#: has dozens of flows, and past `bot.routeros.parse.FLOWS_KEPT` distinct ones
#: only the busiest are kept (`FlowTally`); this many a second is a flood (or a
#: router under attack), and the flood ends there.
TORCH_ROWS_PER_SAMPLE = 8 * FLOWS_KEPT


def ping_limit(count: int) -> ReplyLimit:
    """A ``/ping`` of `count` probes: one row each (a row is some 200 bytes)."""
    return ReplyLimit(rows=count, bytes=64 * 1024 + count * 1024)


def torch_limit(seconds: int) -> ReplyLimit:
    """A ``/tool/torch`` of `seconds` samples, `TORCH_ROWS_PER_SAMPLE` rows each
    (a row is some 250 bytes). Its rows are summed as they arrive, never held."""
    rows = seconds * TORCH_ROWS_PER_SAMPLE
    return ReplyLimit(rows=rows, bytes=64 * 1024 + rows * 512)


async def rows_of(
    api: RawApi, command: str, *words: str, limit: ReplyLimit = QUESTION
) -> list[dict[str, str]]:
    """The rows of one command, its reply cut at `limit`."""
    api.protocol.limit = limit
    return [row async for row in api.rawCmd(command, *words)]


async def read_sample(
    api: RawApi, node: Node, iface: str
) -> tuple[Traffic | None, QueueState | None]:
    """One second of a live view: ``monitor-traffic once`` on `iface` and its
    queue's counters, sent together (`bot.routeros.batch`).

    The monitor's trap ("no such item": the interface is gone, the subscriber
    disconnected) is expected and read as no traffic, which ends the watch; a
    trap on the queue's print is not, and is raised. A row about another
    interface is refused, as in a snapshot (`_named`).
    """
    monitor, queues = await Batch(
        [
            # `once` is what makes the command end: never send it without.
            Ask("/interface/monitor-traffic", (f"=interface={iface}", "=once="), SAMPLE),
            Ask(
                "/queue/simple/print",
                (f"?name={iface}", f"=.proplist={QUEUE_PROPLIST}"),
                SAMPLE_QUEUE,
            ),
        ]
    ).run(api)
    queue_rows = _named(queues.table(), iface)
    queue = queue_from_row(queue_rows[0]) if queue_rows else None
    if monitor.trap is not None:
        log.info("watch %s on %s: %s", iface, node.name, monitor.trap)
        return None, queue
    traffic_rows = _named(monitor.rows, iface)
    return (traffic_from_row(traffic_rows[0]) if traffic_rows else None), queue


async def read_snapshot(api: RawApi, node: Node, user: str) -> Snapshot:
    """The reads of routeros.md, sent together on one session (`bot.routeros.batch`).

    The session, the traffic, the queue and the secret go out at once: one
    round trip to the router whatever it answers. An offline user's
    ``monitor-traffic`` traps ("no such item": his interface is gone), which is
    expected and read as no figures; the secret is what an offline reading
    shows (last logout, reason, MAC), and is left out of an online one.
    """
    query = f"?name={user}"
    iface = interface_name(user)
    active, monitor, queues, secrets = await Batch(
        [
            Ask("/ppp/active/print", (query, f"=.proplist={ACTIVE_PROPLIST}"), SNAPSHOT_READ),
            # `once` is what makes the command end: never send it without.
            Ask("/interface/monitor-traffic", (f"=interface={iface}", "=once="), SNAPSHOT_READ),
            Ask(
                "/queue/simple/print",
                (f"?name={iface}", f"=.proplist={QUEUE_PROPLIST}"),
                SNAPSHOT_READ,
            ),
            Ask("/ppp/secret/print", (query, f"=.proplist={SECRET_PROPLIST}"), SNAPSHOT_READ),
        ]
    ).run(api)
    taken_at = datetime.now(UTC)
    sessions = _named(active.table(), user)
    if not sessions:
        rows = _named(secrets.table(), user)
        secret = secret_from_row(rows[0], node.name) if rows else None
        return Snapshot(node=node.name, user=user, taken_at=taken_at, secret=secret)
    if monitor.trap is not None:
        # The session ended between the reads: report it without figures.
        log.info("monitor-traffic %s on %s: %s", iface, node.name, monitor.trap)
    traffic_rows = [] if monitor.trap is not None else _named(monitor.rows, iface)
    queue_rows = _named(queues.table(), iface)
    return Snapshot(
        node=node.name,
        user=user,
        taken_at=taken_at,
        session=session_from_row(sessions[0]),
        traffic=traffic_from_row(traffic_rows[0]) if traffic_rows else None,
        queue=queue_from_row(queue_rows[0]) if queue_rows else None,
    )


def _named(rows: list[dict[str, str]], name: str) -> list[dict[str, str]]:
    """`rows`, each checked to be about `name` (what the read asked for): a reply
    read under the wrong tag, or a router answering another question, must not
    become this subscriber's figures. A row without a name is taken as is."""
    for row in rows:
        if row.get("name", name) != name:
            raise MalformedReply(f"a row for {row['name'][:64]!r} in the reply about {name!r}")
    return rows


class ProbeReads:
    """A diagnosis's two commands, sent together (`RouterClient.probe`): ``/ping``
    of `address` (None: no ping) with ``count``, and ``/tool/torch`` of `user`'s
    interface with ``duration``, so that the router stops both by itself.

    Torch rows are summed as they arrive (`FlowTally`); a row that cannot be
    read stops the torch's count (`garbage`) and leaves the ping standing. The
    arguments are checked (ValueError): the count, the interval and the torch's
    seconds within what RouterOS accepts, and `address` an IP, so that the
    router's text never reaches ``/ping``.
    """

    def __init__(
        self, user: str, address: str | None, ping_count: int, interval: float, torch_seconds: int
    ) -> None:
        if not 1 <= ping_count <= MAX_PING_COUNT:
            raise ValueError(f"ping count must be 1..{MAX_PING_COUNT}, not {ping_count}")
        low, high = PING_INTERVAL_RANGE
        if not low <= interval <= high:
            raise ValueError(f"ping interval must be {low:g}..{high:g}s, not {interval:g}")
        if not 1 <= torch_seconds <= MAX_TORCH_SECONDS:
            raise ValueError(f"torch seconds must be 1..{MAX_TORCH_SECONDS}, not {torch_seconds}")
        self.target = None if address is None else str(ipaddress.ip_address(address))
        self.ping_count = ping_count
        self.tally = FlowTally(self.target or "", torch_seconds)
        self.garbage: list[MalformedReply] = []
        asks = [
            Ask(
                "/tool/torch",
                (
                    f"=interface={interface_name(user)}",
                    f"=duration={torch_seconds}s",
                    "=src-address=0.0.0.0/0",
                    "=dst-address=0.0.0.0/0",
                    "=port=any",
                    "=ip-protocol=any",
                ),
                limit=torch_limit(torch_seconds),
                each=self._count_flow,
            )
        ]
        if self.target is not None:
            ping = Ask(
                "/ping",
                (
                    f"=address={self.target}",
                    f"=count={ping_count}",
                    f"=interval={round(interval * 1000)}ms",
                ),
                limit=ping_limit(ping_count),
            )
            asks.insert(0, ping)
        self.batch = Batch(asks)
        #: Seconds the two take by design (``count × interval``, the torch's seconds).
        self.by_design = max(ping_count * interval if self.target else 0.0, torch_seconds)

    def _count_flow(self, row: dict[str, str], sentence: list[str]) -> None:
        if self.garbage:
            return
        try:
            self.tally.add(row, sentence)
        except MalformedReply as exc:
            self.garbage.append(exc)  # torch is unreadable; the ping goes on

    def result(self, cut: bool) -> Probe:
        """What the batch brought, each part as far as it got (`cut`: the
        deadline came before every reply was done): a ping with no probe
        reported, or a torch with no row (or trapped, or unreadable), is None."""
        *pinged, torched = self.batch.replies
        ping = None
        if pinged and self.target is not None:
            measured = ping_from_rows(self.target, pinged[0].rows)
            if measured.sent:
                ping = dataclasses.replace(measured, asked=self.ping_count)
        flows = None
        if torched.trap is None and not self.garbage and (torched.done or self.tally.rows):
            flows = tuple(self.tally.flows())
        refused = bool(pinged) and pinged[0].trap is not None and ping is None
        tally = self.tally
        return Probe(ping, flows, tally.seconds, tally.samples, partial=cut, ping_refused=refused)
