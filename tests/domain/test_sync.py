"""`beholder sync` at scale: atomic per node, stale marking, killed mid-way, output.

Real parts only: the simulator over TCP, librouteros doing the talking, the
real inventory file, and `python -m bot sync` as a process where the output or
a SIGKILL is what is being tested.
"""

from __future__ import annotations

import asyncio
import io
import os
import pty
import random
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.progress import SyncProgress
from bot.cli.report import sync_report
from bot.domain.readings import ReadingService
from bot.domain.sync import NodeSync, sync_nodes
from bot.errors import RouterProtocolError, RouterTimeout
from bot.inventory.keys import fold, mac
from bot.inventory.store import Inventory
from bot.model import ActiveSession, Node, Secret
from bot.routeros.client import RouterClient
from bot.sim import faults
from bot.sim.model import RouterConfig, Subscriber
from bot.sim.network import SimNetwork
from tests.conftest import API_PASSWORD, API_USER, beholder, beholder_argv, sim_process

# -- a small network whose data can be moved from "v1" to "v2" --------------------


def subscribers(node: str, count: int, version: str) -> list[Subscriber]:
    """`count` secrets on `node`; v2 changes every comment, drops one and adds one."""
    subs = [
        Subscriber(
            f"{node}-u{i:04d}",
            "pw",
            comment=f"{version} Pérez {i}",
            online=i % 3 == 0,
            address=f"100.64.{i // 250}.{i % 250}" if i % 3 == 0 else "",
            caller_id=f"AA:BB:CC:00:{i // 256:02X}:{i % 256:02X}" if i % 3 == 0 else "",
        )
        for i in range(count)
    ]
    if version == "v2":
        subs = [*subs[1:], Subscriber(f"{node}-new", "pw", comment="v2 alta")]
    return subs


def configs(count: int, secrets: int, latency: float = 0.0) -> list[RouterConfig]:
    return [
        RouterConfig(
            f"bras-{n}",
            username=API_USER,
            password=API_PASSWORD,
            subscribers=subscribers(f"bras-{n}", secrets, "v1"),
            latency=latency,
        )
        for n in range(count)
    ]


def to_v2(net: SimNetwork, secrets: int) -> None:
    for name in net.sims:
        v2 = subscribers(name, secrets, "v2")
        net.call(name, lambda sim, v2=v2: setattr(sim.config, "subscribers", v2))


def expected(node: str, secrets: int, version: str) -> set[tuple[str, str]]:
    return {(s.name, s.comment) for s in subscribers(node, secrets, version)}


def stored(db: Path | str) -> dict[str, set[tuple[str, str]]]:
    """Each node's (name, comment) rows, read with a plain connection."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT node, name, comment FROM ppp_secrets").fetchall()
    by_node: dict[str, set[tuple[str, str]]] = {}
    for node, name, comment in rows:
        by_node.setdefault(node, set()).add((name, comment))
    return by_node


def client(**options: float) -> RouterClient:
    return RouterClient(API_USER, API_PASSWORD, **{"timeout": 2.0, **options})


@pytest.fixture
def small(tmp_path) -> Iterator[tuple[SimNetwork, Inventory, list[Node]]]:
    """Three routers of 300 secrets, synced once (v1)."""
    with SimNetwork(configs(3, 300)) as net, Inventory(tmp_path / "sync.db") as inventory:
        nodes = [Node(name, "127.0.0.1", port) for name, port in net.ports.items()]
        inventory.upsert_nodes(nodes)
        assert all(r.ok for r in asyncio.run(sync_nodes(inventory, client(), nodes)))
        yield net, inventory, nodes


# -- atomicity and stale marking ----------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [(faults.CLOSE_MID_STREAM, RouterProtocolError), (faults.STALL_MID_STREAM, RouterTimeout)],
)
def test_node_failing_mid_stream_keeps_all_its_old_rows(small, fault, error):
    net, inventory, nodes = small
    first = {s.node.name: s.synced_at for s in inventory.node_status()}
    to_v2(net, 300)
    net.call("bras-1", lambda sim: setattr(sim.config, "fault_after_rows", 120))
    net.set_fault("bras-1", fault)
    seen: list[str] = []

    results = asyncio.run(
        sync_nodes(
            inventory,
            client(sync_timeout=1.0),
            nodes,
            on_result=lambda r: seen.append(r.node),
        )
    )

    failed = results[1]
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(failed.error, error)
    assert (failed.kept, failed.last_good) == (300, first["bras-1"])
    assert sorted(seen) == ["bras-0", "bras-1", "bras-2"]  # progress heard of every node
    rows = stored(inventory.path)
    assert rows["bras-1"] == expected("bras-1", 300, "v1")  # not one row of v2
    assert rows["bras-0"] == expected("bras-0", 300, "v2")
    assert rows["bras-2"] == expected("bras-2", 300, "v2")
    status = {s.node.name: s for s in inventory.node_status()}
    assert status["bras-1"].stale
    assert status["bras-1"].synced_at == first["bras-1"]  # the time of its last good sync
    assert error.__name__ in status["bras-1"].sync_error
    assert status["bras-1"].sync_failed_at >= first["bras-1"]
    assert not status["bras-0"].stale
    assert status["bras-0"].synced_at >= first["bras-0"]

    report = sync_report(results, UTC, 1.5)
    [line] = [line for line in report.splitlines() if line.startswith("bras-1")]
    since = datetime.fromisoformat(first["bras-1"]).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert f"STALE since {since}: {error.__name__}" in line
    assert "300 kept" in line
    assert report.splitlines()[-1] == "2/3 nodes synced, 600 rows in 1.5s; 1 stale or failed"

    # Healed, the next sync brings it up to date and clears the mark.
    net.set_fault("bras-1", None)
    assert all(r.ok for r in asyncio.run(sync_nodes(inventory, client(), nodes)))
    assert stored(inventory.path)["bras-1"] == expected("bras-1", 300, "v2")
    assert not {s.node.name: s for s in inventory.node_status()}["bras-1"].stale


def test_a_node_never_synced_that_fails_is_reported_as_such():
    result = NodeSync("bras-x", 0, 0.2, RouterTimeout("bras-x", "no answer within 5s", seconds=5))
    line = sync_report([result]).splitlines()[1]
    assert "FAILED, never synced: RouterTimeout: no answer within 5s" in line


def test_a_routers_error_text_is_shown_as_escapes_in_the_progress_and_summary():
    """Regression: a router's !trap text (a failed node's reason) and node names
    reached the terminal raw in the sync progress lines and summary: ESC sequences
    in them could rewrite what the operator reads. Now they are escapes."""
    detail = "trap\x1b[2K\r\u202eok"
    result = NodeSync("bras\x1b[8m", 0, 0.2, RouterProtocolError("bras-x", detail))
    stream = io.StringIO()

    async def progress() -> None:
        async with SyncProgress(stream, 1, tty=False) as shown:
            shown.update(result)

    asyncio.run(progress())
    for output in (stream.getvalue(), sync_report([result])):
        assert "\x1b" not in output
        assert "\r" not in output
        assert "\u202e" not in output
        assert "trap\\x1b[2K\\r\\u202eok" in output
        assert "bras\\x1b[8m" in output


def test_unchanged_rows_are_not_rewritten(small):
    net, inventory, nodes = small

    def ids() -> dict[str, int]:
        with sqlite3.connect(inventory.path) as conn:
            return dict(conn.execute("SELECT name, id FROM ppp_secrets WHERE node = 'bras-0'"))

    def session_rows() -> dict[str, int]:
        with sqlite3.connect(inventory.path) as conn:
            query = "SELECT name, rowid FROM ppp_sessions WHERE node = 'bras-0'"
            return dict(conn.execute(query))

    before, sessions_before = ids(), session_rows()
    assert not inventory.search_index_dirty
    rebuilds = []
    rebuild = inventory.rebuild_search_index
    inventory.rebuild_search_index = lambda: rebuilds.append(1) or rebuild()  # type: ignore[method-assign]

    asyncio.run(sync_nodes(inventory, client(), nodes))  # nothing changed on the routers
    assert ids() == before
    assert session_rows() == sessions_before  # still up: same rows (uptime moves)
    assert rebuilds == []  # nothing changed: the search index is still good

    def change(sim) -> None:
        subs = sim.config.subscribers
        subs[5].comment = "Gómez, mudado"
        subs[7].online = False  # the session ends
        del subs[9]
        subs.append(Subscriber("bras-0-alta", "pw", comment="nuevo"))

    net.call("bras-0", change)
    asyncio.run(sync_nodes(inventory, client(), nodes))
    after = ids()
    assert after["bras-0-u0005"] == before["bras-0-u0005"]  # updated in place
    assert "bras-0-u0009" not in after
    assert "bras-0-alta" in after
    assert {k: v for k, v in after.items() if k not in {"bras-0-alta"}} == {
        k: v for k, v in before.items() if k != "bras-0-u0009"
    }
    sessions_after = session_rows()
    assert "bras-0-u0006" in sessions_after
    assert "bras-0-u0009" not in sessions_after
    assert rebuilds == [1]
    hits = inventory.by_fragments(["mudado"])
    assert [h.name for h in hits] == ["bras-0-u0005"]


def test_fast_fold_equals_its_definition():
    """`fold` takes a fast path for the text ISPs write: it must not differ."""
    rng = random.Random(20513)
    pool = "abcXYZ019 .-_:/ÁéÑñüçßǅﬁⅫİıΣσς日本ﾃｽ\u0301\u0302\u0327\u20dd\t\n"
    samples = ["", " ", "Pérez, Juan", "JUAN.PEREZ", "ACUÑA  sofía", "straße", "ǅemal", "x\u0301y"]
    samples += [
        "".join(
            rng.choice(pool) if rng.random() < 0.7 else chr(rng.randrange(0x3000))
            for _ in range(rng.randrange(16))
        )
        for _ in range(3000)
    ]
    for text in samples:
        assert fold(text) == reference_fold(text), repr(text)
    for text in ["AA:BB:CC:DD:EE:FF", "aa-bb-cc-dd-ee-ff", "aabb.ccdd.eeff", " AA:BB:CC:DD:EE:FF"]:
        assert mac(text) == "AA:BB:CC:DD:EE:FF"


def test_fold_of_every_character_equals_its_definition():
    """Each character below U+3000 (Latin-1 ones take a byte table, and others
    casefold into Latin-1: "Ÿ", the Kelvin sign), alone and among letters and a
    combining mark, folds as the definition says."""
    for code in range(0x3000):
        char = chr(code)
        for text in (char, f"Ab{char}c\u0301 D", f"{char.upper()}ß"):
            assert fold(text) == reference_fold(text), repr(text)


def reference_fold(text: str) -> str:
    """The definition `bot.inventory.keys.fold` implements faster: NFKD without combining marks."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def test_replace_node_keeps_exact_values(tmp_path):
    odd = ['quote " and \\ back', "tab\tnl\nctl\x01", "emoji 😀 𝔘", "", "20513", "ñ" * 3000]
    secrets = [
        Secret(f"{text}{i}", "n", profile=text, comment=text, last_caller_id="aa-bb-cc-dd-ee-ff")
        for i, text in enumerate(odd)
    ]
    sessions = [
        ActiveSession(f"{text}{i}", "10.0.0.1", "aabb.ccdd.eeff", "1h")
        for i, text in enumerate(odd)
    ]
    with Inventory(tmp_path / "x.db") as inventory:
        inventory.upsert_nodes([Node("n", "127.0.0.1")])
        for _ in range(2):  # insert, then compare-and-keep
            assert inventory.replace_node("n", secrets, sessions, datetime.now(UTC)) == len(odd)
            for secret in secrets:
                [location] = inventory.locate(secret.name)
                assert location.secret.comment == secret.comment
                assert location.secret.last_caller_id == "AA:BB:CC:DD:EE:FF"
            assert len(inventory.by_mac("AA:BB:CC:DD:EE:FF")) == len(odd)


# -- killed mid-way -------------------------------------------------------------------


def test_sigkill_mid_sync_leaves_every_node_all_old_or_all_new(env, tmp_path):
    # Big nodes and little latency: the database thread is busy most of the
    # time, so the kill most likely lands inside a node's transaction.
    count, secrets = 6, 6000
    with SimNetwork(configs(count, secrets)) as net:
        db = Path(env["BEHOLDER_DB"])
        with Inventory(db) as inventory:
            nodes = [Node(name, "127.0.0.1", port) for name, port in net.ports.items()]
            inventory.upsert_nodes(nodes)
            assert all(r.ok for r in asyncio.run(sync_nodes(inventory, client(), nodes)))
        to_v2(net, secrets)
        for name in net.sims:
            net.set_latency(name, 0.01)
        env = {**env, "BEHOLDER_SYNC_CONCURRENCY": "2", "MIKROTIK_TIMEOUT": "5"}
        process = subprocess.Popen(
            beholder_argv("sync"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert process.stderr is not None
        finished = 0
        while finished < 2:  # some nodes are done, others are being pulled or written
            line = process.stderr.readline().decode()
            assert line, "the sync ended before it could be killed"
            finished += line.startswith("[")
        time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        process.stderr.close()

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    rows = stored(db)
    new = [name for name in net.sims if rows[name] == expected(name, secrets, "v2")]
    old = [name for name in net.sims if rows[name] == expected(name, secrets, "v1")]
    assert sorted(new + old) == sorted(net.sims)  # never a mix
    assert len(new) >= 2
    assert old, "the kill came after the last node: nothing was interrupted"
    with Inventory(db) as inventory:  # and it opens and answers
        assert inventory.count_secrets() == secrets * count


# -- the command's output ------------------------------------------------------------


def test_sync_without_a_terminal_prints_one_line_per_node(synced, network):
    network.set_fault("bras-sur", "bad_credentials")
    result = beholder(synced, "sync")
    assert result.returncode == 1
    progress = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == 2
    assert any(re.fullmatch(r"\[\d/2\] bras-norte: 24 rows in \d+\.\ds", p) for p in progress)
    [failed] = [p for p in progress if "bras-sur" in p]
    assert re.search(
        r"bras-sur: FAILED after \d+\.\ds, keeping its rows of "
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+: RouterAuthFailed",  # in BEHOLDER_TZ
        failed,
    )
    assert "\r" not in result.stderr
    [row] = [line for line in result.stdout.splitlines() if line.startswith("bras-sur")]
    assert re.search(
        r"2 kept .* STALE since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+: RouterAuthFailed", row
    )
    assert "1/2 nodes synced, 24 rows in" in result.stdout
    assert result.stderr.splitlines()[-1] == (
        "beholder: sync failed for bras-sur; their previous rows were kept"
    )


def test_sync_on_a_terminal_draws_one_progress_line(synced):
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        beholder_argv("sync"), env=synced, stdout=subprocess.PIPE, stderr=terminal, text=True
    )
    os.close(terminal)
    drawn = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    out, _ = process.communicate(timeout=60)
    os.close(controller)
    assert process.returncode == 0
    text = drawn.decode()
    assert text.count("\r") >= 2  # redrawn in place, not one line per node
    assert "[1/" not in text
    final = text.rstrip().rsplit("\r", 1)[-1]
    assert re.match(r"sync \[#+\] 2/2 nodes  26 rows  \d+s", final)
    assert "2/2 nodes synced, 26 rows" in out


# -- serve's background re-sync keeps commands answering ------------------------------


def test_commands_keep_answering_during_a_big_sync(sim_world):
    def grow(sim) -> None:
        sim.config.subscribers += [
            Subscriber(f"masivo{i:05d}", "pw", comment=f"Cliente {i} - Belgrano {i}")
            for i in range(6000)
        ]

    sim_world.network.call("bras-sur", grow)
    sim_world.network.set_latency("bras-norte", 0.01)
    sim_world.network.set_latency("bras-sur", 0.15)  # the sync takes a while
    router = sim_world.client()  # shared, as in serve: same per-router session limits
    service = ReadingService(sim_world.inventory, router)

    async def scenario() -> tuple[list[NodeSync], list[float], float]:
        started = time.monotonic()
        sync = asyncio.create_task(
            sync_nodes(sim_world.inventory, router, list(sim_world.nodes.values()), 2)
        )
        answered: list[float] = []
        while not sync.done():
            reading = await service.read("juan.perez")  # raises if a command failed
            assert reading.online
            answered.append(time.monotonic() - started)
        return await sync, answered, time.monotonic() - started

    results, answered, took = asyncio.run(scenario())
    assert all(r.ok for r in results)
    assert {r.node: r.rows for r in results}["bras-sur"] == 6002
    assert len(answered) >= 2
    assert answered[0] < took  # answered while the sync was still running
    assert sim_world.inventory.locate("masivo05999")


# -- the benchmark's simulated network ------------------------------------------------


def test_simulator_cli_serves_a_generated_network_until_stdin_closes():
    with sim_process("--nodes", "3", "--secrets", "50") as out:
        lines = [out.readline() for _ in range(4)]
        assert lines[-1] == "Ctrl-C to stop\n"
        name, host, port, credentials = lines[0].rstrip("\n").split("\t")
        assert (name, host) == ("bras-001", "127.0.0.1")
        assert "user=beholder password=beholder-pass" in credentials
        router = RouterClient("beholder", "beholder-pass", timeout=2.0)
        tables = asyncio.run(router.pull(Node(name, host, int(port))))
        assert len(tables.secrets) == 50
        assert len(tables.sessions) == 30  # 60 % online
        assert any("á" in s.comment or "é" in s.comment for s in tables.secrets)
