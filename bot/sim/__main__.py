"""`python -m bot.sim`: run simulated routers until Ctrl-C, for manual testing and benchmarks.

Prints one line per router so a person (or a script) can point the bot or
`librouteros` at it, then ``Ctrl-C to stop``. Listens on loopback only.

Without options it runs the demo network; ``--nodes N --secrets M`` runs N
generated BRAS with M secrets each instead (see `scale_network`), which is what
``bench/sync_bench.py`` starts in its own process. ``--fault NAME`` (repeatable)
runs one generated router per fault, named after it and misbehaving that way
from the start (``bench/hostile_bench.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading

from bot.sim.faults import FAULTS
from bot.sim.model import demo_network, scale_network
from bot.sim.network import SimNetwork


def main(argv: list[str] | None = None) -> int:
    """Start the routers, print where they listen, wait for Ctrl-C (or stdin's end)."""
    parser = argparse.ArgumentParser(prog="python -m bot.sim", description=__doc__)
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds before each reply (default 0)"
    )
    parser.add_argument(
        "--nodes", type=int, default=0, help="generate this many routers instead of the demo"
    )
    parser.add_argument(
        "--secrets", type=int, default=2000, help="secrets per generated router (default 2000)"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        choices=sorted(FAULTS),
        help="run one router with this fault, named after it (repeatable)",
    )
    parser.add_argument(
        "--until-stdin-closes",
        action="store_true",
        help="stop when stdin reaches EOF (so a parent process that dies takes us along)",
    )
    args = parser.parse_args(argv)
    if args.fault:
        configs = scale_network(len(args.fault), args.secrets)
        for cfg, fault in zip(configs, args.fault, strict=True):
            cfg.name = cfg.identity = fault
            cfg.fault = fault
    elif args.nodes > 0:
        configs = scale_network(args.nodes, args.secrets)
    else:
        configs = demo_network()
    for cfg in configs:
        cfg.latency = args.latency
    with SimNetwork(configs) as network:
        lines = []
        for name, sim in network.sims.items():
            cfg = sim.config
            lines.append(
                f"{name}\t{sim.host}\t{sim.port}\t"
                f"user={cfg.username} password={cfg.password} version={cfg.version}\n"
            )
        sys.stdout.write("".join(lines))
        sys.stdout.write("Ctrl-C to stop\n")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            if args.until_stdin_closes:
                sys.stdin.read()
            else:
                threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
