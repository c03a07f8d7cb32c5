"""Benchmark: finding the subscriber in an inventory of 1,000,000 secrets.

Targets (issue "Inventory at ISP scale"): exact lookup p99 < 1 ms, candidate
search (name fragment, typo) p99 < 50 ms. Builds a throw-away inventory with
realistic names and comments (seeded, so runs compare), then times each kind
of query the operators make.

    python bench/search_bench.py [--secrets 1000000] [--queries 300] [--db PATH]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.domain import resolve as search
from bot.inventory.store import Inventory
from bot.model import ActiveSession, Node, Secret

FIRST = [
    "juan",
    "maria",
    "carlos",
    "ana",
    "jorge",
    "lucia",
    "pedro",
    "sofia",
    "diego",
    "valeria",
    "martin",
    "paula",
    "roberto",
    "laura",
    "miguel",
    "gabriela",
    "nicolas",
    "florencia",
    "sebastian",
    "camila",
    "matias",
    "julieta",
    "federico",
    "agustina",
]
LAST = [
    "perez",
    "gomez",
    "lopez",
    "martinez",
    "rodriguez",
    "fernandez",
    "garcia",
    "sanchez",
    "romero",
    "diaz",
    "alvarez",
    "torres",
    "ruiz",
    "acuña",
    "benitez",
    "gimenez",
    "sosa",
    "herrera",
    "medina",
    "castro",
    "ortiz",
    "silva",
    "nuñez",
    "molina",
]
STREETS = [
    "San Martín",
    "Belgrano",
    "Rivadavia",
    "Mitre",
    "Sarmiento",
    "Moreno",
    "Alsina",
    "Colón",
    "Lavalle",
    "Urquiza",
    "Güemes",
    "Entre Ríos",
    "Chacabuco",
    "Maipú",
    "Italia",
    "España",
]
PER_NODE = 2000


def subscriber(rng: random.Random, node: int, i: int) -> tuple[Secret, ActiveSession | None]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    name = f"{first}.{last}{node * PER_NODE + i}"
    comment = f"{last.title()}, {first.title()} - {rng.choice(STREETS)} {rng.randint(1, 5000)}"
    address = f"100.{64 + node // 250}.{node % 250}.{i % 250}" if i % 3 else ""
    mac = ":".join(f"{rng.randrange(256):02X}" for _ in range(6))
    secret = Secret(
        name, f"bras-{node:04d}", profile="plan-50M", comment=comment, last_caller_id=mac
    )
    session = ActiveSession(name, address, mac, "1d") if address else None
    return secret, session


def build(path: Path, total: int) -> tuple[list[Secret], list[ActiveSession]]:
    rng = random.Random(2026)
    nodes = max(1, total // PER_NODE)
    started = time.perf_counter()
    sample_secrets: list[Secret] = []
    sample_sessions: list[ActiveSession] = []
    with Inventory(path) as inventory:
        inventory.upsert_nodes(Node(f"bras-{n:04d}", "127.0.0.1", 8728) for n in range(nodes))
        for n in range(nodes):
            pairs = [subscriber(rng, n, i) for i in range(PER_NODE)]
            secrets = [s for s, _ in pairs]
            sessions = [a for _, a in pairs if a is not None]
            inventory.replace_node(f"bras-{n:04d}", secrets, sessions, datetime.now(UTC))
            sample_secrets += rng.sample(secrets, 2)
            sample_sessions += rng.sample(sessions, 1)
        loaded = time.perf_counter()
        inventory.rebuild_search_index()
        indexed = time.perf_counter()
        count = inventory.count_secrets()
    print(
        f"built {count:,} secrets on {nodes} nodes: insert {loaded - started:.1f} s, "
        f"search index {indexed - loaded:.1f} s, file {path.stat().st_size / 1e6:.0f} MB"
    )
    return sample_secrets, sample_sessions


def typo(rng: random.Random, name: str) -> str:
    i = rng.randrange(1, len(name) - 1)
    kind = rng.choice(("swap", "drop", "replace"))
    if kind == "swap":
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind == "drop":
        return name[:i] + name[i + 1 :]
    return name[:i] + rng.choice("aeiousrn") + name[i + 1 :]


def timed(fn: Callable[[str], object], queries: list[str]) -> list[float]:
    fn(queries[0])  # warm the page cache and statements
    out = []
    for q in queries:
        started = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secrets", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--db", type=Path, help="reuse or keep this database file")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        if path.exists():
            print(f"reusing {path}")
            with Inventory(path) as inv:
                rows = inv._read(
                    "SELECT name, node, comment FROM ppp_secrets ORDER BY random() LIMIT ?",
                    (args.queries * 2,),
                )
                secrets = [Secret(r[0], r[1], comment=r[2]) for r in rows]
                addrs = inv._read(
                    "SELECT name, address, caller_id FROM ppp_sessions ORDER BY random() LIMIT ?",
                    (args.queries,),
                )
                sessions = [ActiveSession(r[0], r[1], r[2]) for r in addrs]
        else:
            secrets, sessions = build(path, args.secrets)
        secrets = rng.sample(secrets, min(args.queries, len(secrets)))
        sessions = rng.sample(sessions, min(args.queries, len(sessions)))
        with Inventory(path) as inventory:
            typos = [(typo(rng, s.name), s.name) for s in secrets]
            cases: list[tuple[str, Callable[[str], object], list[str], float]] = [
                ("exact name (locate)", inventory.locate, [s.name for s in secrets], 1.0),
                (
                    "resolve: exact name",
                    lambda q: search.resolve(inventory, q),
                    [s.name for s in secrets],
                    1.0,
                ),
                (
                    "resolve: IP",
                    lambda q: search.resolve(inventory, q),
                    [s.address for s in sessions],
                    50.0,
                ),
                (
                    "resolve: MAC",
                    lambda q: search.resolve(inventory, q),
                    [s.caller_id.lower().replace(":", "-") for s in sessions],
                    50.0,
                ),
                (
                    "resolve: case/accents/dots",
                    lambda q: search.resolve(inventory, q),
                    [s.name.upper().replace(".", "") for s in secrets],
                    50.0,
                ),
                (
                    "resolve: comment fragment",
                    lambda q: search.resolve(inventory, q),
                    [
                        " ".join(s.comment.split(" - ")[1].split()[:2])
                        + " "
                        + s.comment.split(",")[0]
                        for s in secrets
                    ],
                    50.0,
                ),
                (
                    "resolve: typo (suggestions)",
                    lambda q: search.resolve(inventory, q),
                    [wrong for wrong, _ in typos],
                    50.0,
                ),
            ]
            print(f"\n{'query kind':32} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  target")
            failed = False
            for label, fn, queries, target in cases:
                times = sorted(timed(fn, queries))
                p50 = statistics.median(times)
                p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
                ok = p99 < target
                failed |= not ok
                verdict = "ok" if ok else "MISSED"
                print(
                    f"{label:32} {len(times):5} {p50:8.2f} {p99:8.2f} {times[-1]:8.2f}  "
                    f"p99 < {target:g} ms {verdict}"
                )
            found = first = 0
            for wrong, right in typos:
                res = search.resolve(inventory, wrong)
                names = [res.match.user] if res.match else list(res.suggestions)
                found += right in names
                first += bool(names) and names[0] == right
            print(
                f"\ntypo recall: the intended name was suggested for {found / len(typos):.0%} "
                f"of {len(typos)} one-edit typos (first suggestion: {first / len(typos):.0%})"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
