"""Benchmark: a client holding connections to the HTTP listener cannot take the bot down.

    .venv/bin/python bench/flood_bench.py
    .venv/bin/python bench/flood_bench.py --connections 3000 --nofile 1024

``beholder serve`` (Socket Mode, against the fake Slack and the simulator in a
child process, as `load_bench` runs them) with ``BEHOLDER_HTTP_PORT`` and
``BEHOLDER_API_TOKENS`` set, and its open-file limit lowered to ``--nofile``
(1024: what systemd gives a service unless ``LimitNOFILE=`` says otherwise).
One client then opens ``--connections`` connections to the listener, each
sending half a request line and holding on (a slowloris), and while it holds
them:

* an operator asks ``/consumo`` in Slack: the reading needs a socket to the
  router (target: a reading, not an error);
* the log is searched for ``Too many open files`` (target: none);
* what the held connections got is counted: the JSON 503 past
  ``MAX_CONNECTIONS`` (`bot.serve.listener`), or nothing yet (held).

Then the client lets go and ``GET /live`` must answer 200 again. Exit status
0 when every target is met, 1 otherwise. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchkit import Results, ms, report

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import load_bench  # noqa: E402
from load_bench import (  # noqa: E402
    Sim,
    prepare_inventory,
    router_name,
    stop_bot,
    subscriber_name,
)

from tests.support.fake_slack import FakeSlack  # noqa: E402

TOKEN = "bench-flood-token-0123456789abcdef"
#: How long the operator's /consumo may take while the listener is flooded.
TARGET_REPLY_S = 5.0


def start_bot(fake: FakeSlack, db: Path, log: Path, nofile: int) -> subprocess.Popen[bytes]:
    """`load_bench.start_bot` with the HTTP listener on and at most `nofile` open files."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    listener = {"BEHOLDER_HTTP_PORT": "0", "BEHOLDER_API_TOKENS": TOKEN}
    return load_bench.start_bot(fake, db, log, listener, preexec_fn=limit)


def listener_url(log: Path, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(r"HTTP API at (http://\S+)", log.read_text(errors="replace"))
        if match:
            return match.group(1)
        time.sleep(0.1)
    raise SystemExit(f"the listener never started: see {log}")


def live_status(url: str, user: str) -> int:
    request = urllib.request.Request(
        f"{url}/live/{user}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0  # no answer at all


def hold(url: str, count: int) -> tuple[list[socket.socket], int]:
    """Open `count` connections, each with half a request line; (the ones open,
    how many could not even connect). Once ten in a row cannot, the listener
    takes no more (its backlog is full): the rest are counted as not connected."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    held: list[socket.socket] = []
    failed = in_a_row = 0
    for _ in range(count):
        if in_a_row >= 10:
            failed += 1
            continue
        try:
            sock = socket.create_connection((host, int(port)), timeout=0.5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
            held.append(sock)
            in_a_row = 0
        except OSError:
            failed += 1
            in_a_row += 1
    return held, failed


def refused_with_503(held: list[socket.socket]) -> int:
    """How many held connections were answered the JSON 503 (and closed); those
    with nothing to read within a second were not."""
    refused = 0
    with selectors.DefaultSelector() as selector:
        for sock in held:
            selector.register(sock, selectors.EVENT_READ)
        for key, _ in selector.select(timeout=1.0):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                answer = sock.recv(4096)
            except OSError:
                continue
            head, _, body = answer.partition(b"\r\n\r\n")
            if head.startswith(b"HTTP/1.1 503") and b"too_many_connections" in body:
                refused += 1
    return refused


def ask_consumo(fake: FakeSlack, user: str, timeout: float) -> tuple[str, float | None]:
    eid = fake.send_slash_command(user)
    sent = fake.envelope(eid).sent_at
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = [r for r in fake.responses() if r.key == eid]
        if replies:
            first = min(replies, key=lambda r: r.at)
            return str(first.body.get("text", "")), first.at - sent
        time.sleep(0.05)
    return "", None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1500)
    parser.add_argument("--nofile", type=int, default=1024)
    args = parser.parse_args()
    results = Results()
    user, router = subscriber_name(0, 0), router_name(0)
    sim = Sim(0.0)
    try:
        with tempfile.TemporaryDirectory() as tmp, FakeSlack() as fake:
            db, log = Path(tmp) / "beholder.db", Path(tmp) / "serve.log"
            prepare_inventory(db, sim.ports)
            bot = start_bot(fake, db, log, args.nofile)
            try:
                url = listener_url(log)
                results.add(
                    "GET /live before",
                    str(live_status(url, user)),
                    "200",
                    live_status(url, user) == 200,
                )
                held, failed = hold(url, args.connections)
                time.sleep(1)  # the listener takes (or refuses) them
                text, reply_s = ask_consumo(fake, user, TARGET_REPLY_S * 2)
                read = text.startswith(f"{user} en {router}: Bajada")
                results.add(
                    "/consumo while flooded",
                    f"{'reading' if read else repr(text[:60])}, "
                    f"{ms(reply_s) if reply_s is not None else 'no reply'}",
                    f"a reading within {TARGET_REPLY_S:g} s",
                    read and reply_s is not None and reply_s <= TARGET_REPLY_S,
                )
                refused = refused_with_503(held)
                results.add("connections held, unanswered", str(len(held) - refused))
                results.add("refused with the JSON 503", str(refused))
                results.add("could not connect", str(failed))
                for sock in held:
                    sock.close()
                time.sleep(1)
                after = live_status(url, user)
                results.add("GET /live after", str(after), "200", after == 200)
            finally:
                stop_bot(bot)
            emfile = log.read_text(errors="replace").count("Too many open files")
            results.add("'Too many open files' in the log", str(emfile), "0", emfile == 0)
    finally:
        sim.stop()
    header = json.dumps({"connections": args.connections, "nofile": args.nofile})
    return report(results, f"flood_bench {header}, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    sys.exit(main())
