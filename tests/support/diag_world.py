"""One simulated router for diagnoses: a lossy last mile, a saturated subscriber with
one dominant RTMP flow, a session without an IP, an offline subscriber.

Shared by the tests of every way a diagnosis is asked (`beholder diag`, Slack, the
HTTP API). Its torch samples come fast once `FAST_SECOND` is set on the simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

from bot.domain.sync import sync_nodes
from bot.inventory.store import Inventory
from bot.model import Node
from bot.sim.model import MBPS, Flow, PingPath, RouterConfig, Subscriber
from bot.sim.network import SimNetwork
from tests.conftest import API_PASSWORD, API_USER, World

NODE = "bras-diag"
LOSSY = "100.64.9.30"
BUSY = "100.64.9.31"
#: The simulator's "second" for torch samples in these tests.
FAST_SECOND = 0.01


def diag_config(username: str, password: str) -> RouterConfig:
    """`NODE`: "lossy" pings 30 % lost at 45 ms; "busy" fills 96 % of its plan, 40 of
    its 48 Mbps from 203.0.113.9 port 1935 (RTMP); "noip" has a session whose
    address is not an IP; "gone" is offline."""
    return RouterConfig(
        NODE,
        username=username,
        password=password,
        subscribers=[
            Subscriber(
                "lossy",
                "pw",
                online=True,
                address=LOSSY,
                plan=(10 * MBPS, 50 * MBPS),
                fixed_traffic=(200_000, 3 * MBPS),
            ),
            Subscriber(
                "busy",
                "pw",
                online=True,
                address=BUSY,
                plan=(10 * MBPS, 50 * MBPS),
                fixed_traffic=(1 * MBPS, 48 * MBPS),  # 96 % of the plan: saturated
                flows=(
                    Flow("203.0.113.9", tx_bps=40 * MBPS, rx_bps=900_000, port=1935),
                    Flow("151.101.1.1", tx_bps=6 * MBPS, rx_bps=100_000, port=443),
                    Flow("8.8.8.8", tx_bps=20_000, rx_bps=10_000, protocol="udp", port=53),
                ),
            ),
            # A session the router lists without an address (a broken or hostile reply).
            Subscriber("noip", "pw", online=True, address="\x1b[2J"),
            Subscriber("gone", "pw", last_logged_out="2026-11-20 10:33:12"),
        ],
        ping_paths={LOSSY: PingPath(loss=0.3, rtt_ms=45.0, jitter_ms=4.0)},
    )


@contextlib.contextmanager
def synced_diag_world(db_path: Path) -> Iterator[World]:
    """`diag_config`'s router running (torch's "second" is `FAST_SECOND`), with an
    inventory at `db_path` synced from it through the real sync path."""
    with SimNetwork([diag_config(API_USER, API_PASSWORD)]) as network:
        network.call(NODE, lambda sim: setattr(sim, "monitor_interval", FAST_SECOND))
        nodes = {NODE: Node(NODE, "127.0.0.1", network.port(NODE))}
        with Inventory(db_path) as inventory:
            inventory.upsert_nodes(nodes.values())
            world = World(network, nodes, inventory)
            results = asyncio.run(sync_nodes(inventory, world.client(), list(nodes.values())))
            assert all(r.ok for r in results), results
            network.reset_counters()
            yield world
