"""`python -m bot.sim`: run the demo network until Ctrl-C, for manual testing.

Prints one line per router so a person (or a script) can point the bot or
`librouteros` at it. Listens on loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading

from bot.sim.model import demo_network
from bot.sim.network import SimNetwork


def main(argv: list[str] | None = None) -> int:
    """Start the demo routers, print where they listen, wait for Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m bot.sim", description=__doc__)
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds before each reply (default 0)"
    )
    args = parser.parse_args(argv)
    configs = demo_network()
    for cfg in configs:
        cfg.latency = args.latency
    with SimNetwork(configs) as network:
        for name, sim in network.sims.items():
            cfg = sim.config
            sys.stdout.write(
                f"{name}\t{sim.host}\t{sim.port}\t"
                f"user={cfg.username} password={cfg.password} version={cfg.version}\n"
            )
        sys.stdout.write("Ctrl-C to stop\n")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
