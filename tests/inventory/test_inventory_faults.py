"""The inventory's files and faults: private files, one clear line (CLI) or a Spanish
reply (Slack) for a corrupt, truncated, read-only, locked or full inventory, audit rows
that never wait for the reply nor get lost, and migrations that two processes can race.

Full disk and read-only are real: a small tmpfs, filled up or remounted read-only
(they need root to mount it; skipped otherwise).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.errors import InventoryUnavailable
from bot.inventory import store as inventory_module
from bot.inventory.audit import AuditTrail
from bot.inventory.schema import MIGRATIONS, SCHEMA_VERSION
from bot.inventory.store import Inventory
from bot.model import AuditEntry, Node, Secret
from bot.slack.ids import ACTION_LIVE
from tests.conftest import audit_rows, beholder
from tests.slack.test_shortcuts import message_action

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def filled(path: Path) -> Path:
    """An inventory with a node and enough secrets to span many pages."""
    with Inventory(path) as inv:
        inv.upsert_nodes([Node("bras-norte", "127.0.0.1")])
        secrets = [Secret(f"user{i:05d}", "bras-norte", comment="x" * 80) for i in range(1000)]
        inv.replace_node("bras-norte", secrets, [], NOW)
    return path


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The command failed with exit code 1 and exactly one line on stderr."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("beholder: ")
    return lines[0]


# -- private files -------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277])
def test_inventory_and_its_wal_and_shm_are_created_0600_whatever_the_umask(tmp_path, umask):
    """Names, addresses, IPs, MACs and the audit are readable by Beholder's user only,
    even under a permissive umask (or one that would take away its own write bit)."""
    path = tmp_path / "beholder.db"
    old = os.umask(umask)
    try:
        with Inventory(path) as inv:
            inv.upsert_nodes([Node("bras-norte", "127.0.0.1")])
            files = [path, path.with_name("beholder.db-wal"), path.with_name("beholder.db-shm")]
            assert all(f.exists() for f in files)
            assert [oct(mode(f)) for f in files] == [oct(0o600)] * 3
    finally:
        os.umask(old)


def test_a_dangling_symlink_as_the_inventory_path_gives_0600_files(tmp_path):
    """Regression: with BEHOLDER_DB a symbolic link to a file not yet there, SQLite
    created the target 0644 (and its -wal and -shm), with no warning. The link is
    followed and the target created 0600 like any new inventory."""
    target = tmp_path / "data" / "beholder.db"
    target.parent.mkdir()
    link = tmp_path / "beholder.db"
    link.symlink_to(target)
    old = os.umask(0o022)
    try:
        with Inventory(link) as inv:
            inv.upsert_nodes([Node("bras-norte", "127.0.0.1")])
            files = [
                target,
                target.with_name("beholder.db-wal"),
                target.with_name("beholder.db-shm"),
            ]
            assert all(f.exists() for f in files)
            assert [oct(mode(f)) for f in files] == [oct(0o600)] * 3
        assert link.is_symlink()
    finally:
        os.umask(old)


def test_an_inventory_readable_by_others_is_warned_about_with_the_fix(tmp_path, env, caplog):
    """An older inventory left 0644: `serve` (which opens it the same way) and every
    command say so at start, naming the file and the chmod that fixes it."""
    path = filled(tmp_path / "shared.db")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="bot.inventory.files"), Inventory(path):
        pass
    [record] = [r for r in caplog.records if "read by other users" in r.getMessage()]
    assert record.levelname == "WARNING"
    result = beholder({**env, "BEHOLDER_DB": str(path)}, "nodes", "list")
    assert result.returncode == 0
    assert "WARNING" in result.stderr
    assert f"chmod 600 {path}" in result.stderr


# -- faults: one line and a non-zero exit -------------------------------------------------


def test_a_corrupt_inventory_is_one_line_and_exit_1(tmp_path, env):
    path = tmp_path / "garbage.db"
    path.write_bytes(bytes(range(256)) * 40)
    path.chmod(0o600)
    line = one_line(beholder({**env, "BEHOLDER_DB": str(path)}, "nodes", "list"))
    assert "está dañado" in line
    assert str(path) in line


def test_a_truncated_inventory_is_one_line_and_exit_1(tmp_path, env):
    """A copy cut short (a full disk during a backup, a killed scp)."""
    path = filled(tmp_path / "cut.db")
    os.truncate(path, path.stat().st_size // 2)
    line = one_line(beholder({**env, "BEHOLDER_DB": str(path)}, "audit"))
    assert "está dañado" in line


def test_a_locked_inventory_is_one_line_and_exit_1(tmp_path, monkeypatch, capsys):
    """Another process holds the write lock longer than the command waits: one line
    saying so (the wait is shortened here; it is `BUSY_TIMEOUT_S`, 10 s, otherwise)."""
    path = filled(tmp_path / "locked.db")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    monkeypatch.setattr(inventory_module, "BUSY_TIMEOUT_S", 0.1)
    monkeypatch.setenv("BEHOLDER_DB", str(path))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # `main` routes them to logging
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        code = cli.main(["--env-file", os.devnull, "nodes", "add", "bras-sur", "127.0.0.2"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        root.handlers[:], level = saved
        root.setLevel(level)
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert "está bloqueado por otro proceso" in err


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A real 256 KiB tmpfs (root only)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_one_line_and_exit_1_and_keeps_the_old_rows(small_disk, env, tmp_path):
    path = small_disk / "beholder.db"
    with Inventory(path) as inv:
        inv.upsert_nodes([Node("bras-norte", "127.0.0.1")])
    csv = tmp_path / "connections.csv"
    rows = (f"user{i},{i},Cliente número {i} {'x' * 60},50,10,active\n" for i in range(4000))
    csv.write_text(
        "pppoe_user,customer_id,customer_name,plan_download_mbps,plan_upload_mbps,status\n"
        + "".join(rows)
    )
    line = one_line(beholder({**env, "BEHOLDER_DB": str(path)}, "connections", "import", str(csv)))
    assert "está lleno" in line
    with Inventory(path) as inv:  # what was there is intact, nothing half-written
        assert [n.name for n in inv.nodes()] == ["bras-norte"]
        assert inv.count_connections() == 0


def test_a_read_only_inventory_is_one_line_and_exit_1(small_disk, env):
    path = small_disk / "beholder.db"
    with Inventory(path) as inv:
        inv.upsert_nodes([Node("bras-norte", "127.0.0.1")])
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    env = {**env, "BEHOLDER_DB": str(path)}
    line = one_line(beholder(env, "nodes", "add", "bras-sur", "127.0.0.2"))
    assert "solo lectura" in line
    assert "No puedo abrir" in one_line(beholder({**env, "BEHOLDER_DB": f"{path}.new"}, "audit"))


def test_a_damaged_inventory_gets_a_spanish_reply_in_slack(fake, start_bot, sim_world):
    """While serving, the file stops being an inventory (its table dropped by another
    process): the operator gets what happened and what to do, never a traceback."""
    bot = start_bot()
    other = sqlite3.connect(sim_world.inventory.path, isolation_level=None)
    other.execute("DROP TABLE ppp_secrets")
    other.close()
    eid = fake.send_slash_command("juan.perez")
    [post] = fake.wait_for_responses(key=eid, timeout=10)
    assert "está dañado" in post.body["text"]
    assert "Traceback" not in post.body["text"]
    assert bot.errors == []


def _drop_secrets(path: Path) -> None:
    """Another process damages the inventory while the bot serves."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("DROP TABLE ppp_secrets")
    other.close()


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info and r.name.startswith("bot.")]


def test_the_shortcut_on_a_damaged_inventory_says_what_happened(fake, start_bot, sim_world, caplog):
    """Regression: with the inventory damaged, "Ver consumo" answered only "Algo falló
    de nuestro lado…" and logged a traceback (`find_in_text` raised unmapped). Now the
    operator is told the inventory is damaged and what to do."""
    bot = start_bot()
    _drop_secrets(sim_world.inventory.path)
    fake.send_envelope(
        "interactive",
        message_action(
            "Cliente juan.perez lento", "1700000900.000100", response_url=fake.response_url("sc")
        ),
    )
    [note] = fake.wait_for_responses(key="sc", timeout=10)
    assert "está dañado" in note.body["text"]
    assert note.body["response_type"] == "ephemeral"
    assert _tracebacks(caplog) == []
    assert bot.errors == []


def test_a_thread_mention_on_a_damaged_inventory_gets_a_reply(fake, start_bot, sim_world, caplog):
    """Regression: a bare ``@Beholder`` in a thread got no reply at all when the
    inventory was damaged (the thread's subscriber lookup raised unmapped). Now the
    operator who asked sees, in that thread, that the inventory is damaged."""
    bot = start_bot()
    fake.seed_message("C0001", "1700001000.000100", "Reclamo de 20513: internet lento")
    _drop_secrets(sim_world.inventory.path)
    fake.send_app_mention("<@UBOT>", ts="1700001050.000200", thread_ts="1700001000.000100")
    [note] = fake.wait_for_calls("chat.postEphemeral", timeout=10)
    assert note.params["thread_ts"] == "1700001000.000100"
    assert note.params["user"] == "U0001"
    assert "está dañado" in note.params["text"]
    assert fake.calls("chat.postMessage") == []
    assert _tracebacks(caplog) == []
    assert bot.errors == []


def test_a_live_view_whose_node_lookup_fails_says_the_inventory_is_damaged(
    fake, start_bot, sim_world, monkeypatch, caplog
):
    """Regression: the live view looked its node up (`_node_of`) after the reading with
    nothing catching an inventory fault. The file is damaged right after the reading
    here (when the reading reads the subscriber's plan): no view starts, the asker is
    told the inventory is damaged, and the question is audited with that fault."""
    inventory = sim_world.inventory
    read_plan = inventory.connection

    def plan_then_damage(user: str):
        plan = read_plan(user)
        _drop_secrets(inventory.path)
        return plan

    monkeypatch.setattr(inventory, "connection", plan_then_damage)
    bot = start_bot()
    eid = fake.send_block_action(ACTION_LIVE, "juan.perez")
    [note] = fake.wait_for_responses(key=eid, timeout=10)
    assert "está dañado" in note.body["text"]
    assert fake.calls("chat.postMessage") == []
    [row] = audit_rows(inventory, 1, lambda e: e.source == "button")
    assert row.outcome == "failed:InventoryUnavailable"
    assert _tracebacks(caplog) == []
    assert bot.errors == []


# -- the audit never delays the reply, and loses nothing ----------------------------------


def test_replies_do_not_wait_for_a_locked_audit_and_no_row_is_lost(fake, start_bot, sim_world):
    """Regression: with another process holding the write lock, each reply waited 10 s
    for its audit row and the row was then lost. Now all 10 replies arrive while the
    lock is still held, and the 10 rows are written once it is released."""
    start_bot()
    users = ["juan.perez", *(f"cliente{i:02d}" for i in range(1, 10))]
    holder = sqlite3.connect(sim_world.inventory.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        keys = [fake.send_slash_command(user, user_id="U0AUDIT") for user in users]
        for key, user in zip(keys, users, strict=True):
            [post] = fake.wait_for_responses(key=key, timeout=30)
            assert post.body["text"].startswith(f"{user} en bras-norte")
        assert holder.in_transaction  # every reply arrived while the lock was held
        assert not sim_world.inventory.flush_audit(timeout_s=0.2)  # rows still queued
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert sim_world.inventory.flush_audit(timeout_s=30)
    entries = [e for e in sim_world.inventory.audit() if e.slack_user == "U0AUDIT"]
    assert sorted(e.query for e in entries) == sorted(users)
    assert {e.outcome for e in entries} == {"ok"}


def test_closing_the_inventory_writes_the_audit_rows_still_waiting(tmp_path):
    """What `serve` does on shutdown: rows queued while the database was locked are
    written by `close` once the lock goes, not dropped."""
    path = filled(tmp_path / "b.db")
    inv = Inventory(path)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    for query in ("uno", "dos", "tres"):
        inv.audit_later(AuditEntry(NOW, query, "ok"))
    assert not inv.flush_audit(timeout_s=0.2)
    release = threading.Timer(0.5, lambda: (holder.execute("COMMIT"), holder.close()))
    release.start()
    inv.close()
    release.join()
    with Inventory(path) as again:
        assert sorted(e.query for e in again.audit()) == ["dos", "tres", "uno"]


def test_audit_rows_that_cannot_be_written_by_close_are_logged_row_by_row(tmp_path, caplog):
    """The last resort when the lock never goes: each row in an ERROR line, not lost."""
    path = filled(tmp_path / "b.db")
    with Inventory(path) as inv:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        trail = AuditTrail(partial(inv.record_audits, busy_timeout_s=0.05))
        trail.add(AuditEntry(NOW, "juan.perez", "ok", slack_user="U0LOST"))
        with caplog.at_level(logging.WARNING, logger="bot.inventory.audit"):
            trail.close(timeout_s=0.3)
        holder.execute("ROLLBACK")
        holder.close()
    [lost] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "U0LOST" in lost.getMessage()
    assert "'juan.perez'" in lost.getMessage()


def test_an_audit_row_queued_after_close_is_logged_not_lost(tmp_path, caplog):
    """Regression: `audit_later` after `Inventory.close` (a request still in flight
    when serve's inventory closed) started a new trail on the closed connection,
    logged "retrying" forever and lost the row silently. Now the row is an ERROR
    line naming it, and no thread is left retrying."""
    path = filled(tmp_path / "b.db")
    inv = Inventory(path)
    inv.audit_later(AuditEntry(NOW, "before-close", "ok"))
    inv.close()
    with caplog.at_level(logging.WARNING, logger="bot.inventory.audit"):
        inv.audit_later(AuditEntry(NOW, "after-close", "ok", slack_user="U0LATE"))
    [lost] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "'after-close'" in lost.getMessage()
    assert "U0LATE" in lost.getMessage()
    assert not any("retrying" in r.getMessage() for r in caplog.records)
    assert not [t for t in threading.enumerate() if t.name == f"audit {path}"]
    with Inventory(path) as again:
        assert [e.query for e in again.audit()] == ["before-close"]


# -- migrations ----------------------------------------------------------------------------


def test_two_processes_migrating_an_old_file_at_once_both_succeed(tmp_path):
    """Regression: `user_version` was read outside the write transaction, so the second
    opener re-applied a migration the first had just committed ("duplicate column")."""
    path = tmp_path / "v1.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute("INSERT INTO nodes VALUES ('bras-norte', '127.0.0.1', 8728, 0)")
    db.executemany(
        "INSERT INTO ppp_secrets (name, node, synced_at) VALUES (?, 'bras-norte', ?)",
        [(f"user{i:04d}", "2026-11-27T10:00:00+00:00") for i in range(2000)],
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def open_it() -> None:
        start.wait()
        try:
            with Inventory(path) as inv:
                outcomes.append((inv.schema_version, inv.count_secrets()))
        except Exception as exc:  # noqa: BLE001 - reported below
            outcomes.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes == [(SCHEMA_VERSION, 2000)] * 2
    with Inventory(path) as inv:
        assert [h.name for h in inv.by_fragments(["user0042"])] == ["user0042"]
    check = sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0]
    assert check == "ok"


def test_sqlite_errors_map_to_one_error_with_the_fault(tmp_path):
    """Every sqlite3 error leaves the inventory as `InventoryUnavailable` (no raw
    sqlite3 exception reaches the edges)."""
    path = tmp_path / "gone.db"
    inv = filled(path)
    with Inventory(inv) as opened:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("DROP TABLE nodes")
        other.close()
        with pytest.raises(InventoryUnavailable) as caught:
            opened.nodes()
    assert caught.value.reason == "corrupt"
    assert str(path) in str(caught.value)
