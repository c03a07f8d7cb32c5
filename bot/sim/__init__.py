"""RouterOS API simulator: real TCP servers speaking the MikroTik API on loopback.

Used by tests, benchmarks and the demo instead of real routers
(`scale_network` builds hundreds of them for ``bench/sync_bench.py``). It has its own
wire encoder/decoder (never librouteros), so a client bug cannot hide itself.

    from bot.sim import SimNetwork, demo_network
    with SimNetwork(demo_network()) as net:
        port = net.port("bras-centro")
"""

from __future__ import annotations

from bot.sim.faults import FAULTS
from bot.sim.model import RouterConfig, Subscriber, demo_network, scale_network
from bot.sim.network import SimNetwork
from bot.sim.server import RouterSim, SimCounters

__all__ = [
    "FAULTS",
    "RouterConfig",
    "RouterSim",
    "SimCounters",
    "SimNetwork",
    "Subscriber",
    "demo_network",
    "scale_network",
]
