"""The inventory: a SQLite copy of which router holds which PPPoE secret.

Two tables, as ADR-005 designs them:

* ``nodes``: the routers (name, host, API port, TLS flag). Operators never give a
  router address; Beholder finds it here.
* ``ppp_secrets``: what each router has configured in ``/ppp/secret`` (never the
  password), filled by ``beholder sync``.

A user is located with ``ppp_secrets LEFT JOIN nodes``: the technical truth (what
is configured on the routers) rather than the management system, so subscribers
that were never linked there are found too, and a secret whose node is missing
from ``nodes`` is reported as such instead of vanishing.

The schema is versioned with ``PRAGMA user_version``; `MIGRATIONS` brings any
older file up to date when it is opened.
"""

from __future__ import annotations

import csv
import difflib
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.errors import ConfigError, InventoryError, UnknownUser

#: Each entry upgrades the schema from version ``index`` to ``index + 1``.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE nodes (
        name TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        port INTEGER NOT NULL DEFAULT 8728 CHECK (port BETWEEN 1 AND 65535),
        tls  INTEGER NOT NULL DEFAULT 0 CHECK (tls IN (0, 1))
    );
    CREATE TABLE ppp_secrets (
        name TEXT NOT NULL,
        node TEXT NOT NULL,
        profile TEXT,
        service TEXT,
        disabled INTEGER NOT NULL DEFAULT 0,
        comment TEXT,
        remote_address TEXT,
        last_logged_out TEXT,
        last_caller_id TEXT,
        last_disconnect_reason TEXT,
        synced_at TEXT NOT NULL,
        PRIMARY KEY (name, node)
    );
    CREATE INDEX ppp_secrets_by_node ON ppp_secrets (node);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

#: Columns of ``ppp_secrets`` filled from the router, in table order.
SECRET_COLUMNS = (
    "name",
    "profile",
    "service",
    "disabled",
    "comment",
    "remote_address",
    "last_logged_out",
    "last_caller_id",
    "last_disconnect_reason",
)

MAX_SUGGESTIONS = 5


@dataclass(frozen=True)
class Node:
    """A router that terminates PPPoE sessions (a BRAS)."""

    name: str
    host: str
    port: int = 8728
    tls: bool = False


@dataclass(frozen=True)
class Secret:
    """One ``/ppp/secret`` entry as last synced from a router (no password)."""

    name: str
    node: str
    profile: str = ""
    service: str = ""
    disabled: bool = False
    comment: str = ""
    remote_address: str = ""
    last_logged_out: str = ""
    last_caller_id: str = ""
    last_disconnect_reason: str = ""


@dataclass(frozen=True)
class Location:
    """Where a secret lives: the secret plus its node, or None if `nodes` lacks it."""

    secret: Secret
    node: Node | None


class Inventory:
    """The SQLite inventory. Thread-safe: one connection behind a lock.

    Lookups are by primary key and take microseconds, so the async bot calls them
    directly; anything that scans (suggestions) is meant for a worker thread.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot open the inventory database {str(path)!r}: {exc}") from exc
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA busy_timeout = 5000")
            if str(path) != ":memory:":
                # Readers (the bot) keep answering while `sync` writes.
                self._db.execute("PRAGMA journal_mode = WAL")
            self._migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Inventory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"{self.path} was written by a newer Beholder (schema {version}, "
                f"this one knows {SCHEMA_VERSION})"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(MIGRATIONS[target - 1]):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {target}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        with self._lock:
            return self._db.execute("PRAGMA user_version").fetchone()[0]

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- nodes --------------------------------------------------------------

    def upsert_nodes(self, nodes: Iterable[Node]) -> int:
        """Insert or update nodes by name, all or nothing. Returns how many."""
        rows = [(n.name, n.host, n.port, int(n.tls)) for n in nodes]
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO nodes (name, host, port, tls) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET "
                "host = excluded.host, port = excluded.port, tls = excluded.tls",
                rows,
            )
        return len(rows)

    def nodes(self) -> list[Node]:
        with self._lock:
            rows = self._db.execute("SELECT name, host, port, tls FROM nodes ORDER BY name")
            return [Node(r["name"], r["host"], r["port"], bool(r["tls"])) for r in rows]

    # -- secrets ------------------------------------------------------------

    def replace_secrets(self, node: str, secrets: Iterable[Secret], synced_at: datetime) -> int:
        """Replace one node's secrets in a single transaction.

        Called only after the node's pull completed, so a failed pull never
        touches the rows a node already had.
        """
        stamp = synced_at.isoformat(timespec="seconds")
        rows = [
            (
                s.name,
                node,
                s.profile,
                s.service,
                int(s.disabled),
                s.comment,
                s.remote_address,
                s.last_logged_out,
                s.last_caller_id,
                s.last_disconnect_reason,
                stamp,
            )
            for s in secrets
        ]
        with self._transaction() as db:
            db.execute("DELETE FROM ppp_secrets WHERE node = ?", (node,))
            db.executemany(
                "INSERT OR REPLACE INTO ppp_secrets (name, node, profile, service, disabled, "
                "comment, remote_address, last_logged_out, last_caller_id, "
                "last_disconnect_reason, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def locate(self, user: str) -> list[Location]:
        """Every router that has `user` configured (usually one; two during migrations).

        Raises `UnknownUser` (with close names) when none has it.
        """
        with self._lock:
            rows = self._db.execute(
                "SELECT s.*, n.host, n.port, n.tls FROM ppp_secrets AS s "
                "LEFT JOIN nodes AS n ON n.name = s.node "
                "WHERE s.name = ? ORDER BY s.node",
                (user,),
            ).fetchall()
        if not rows:
            raise UnknownUser(user, self.suggest(user))
        return [_location(r) for r in rows]

    def suggest(self, user: str, limit: int = MAX_SUGGESTIONS) -> tuple[str, ...]:
        """Up to `limit` configured names close to `user`, best first.

        Case and accents are ignored; a name containing the text, or one a typo
        away (difflib's ratio), counts as close.
        """
        wanted = fold(user)
        if not wanted:
            return ()
        with self._lock:
            names = [r[0] for r in self._db.execute("SELECT DISTINCT name FROM ppp_secrets")]
        folded = {}
        for name in names:
            folded.setdefault(fold(name), name)
        ranked: list[tuple[float, str]] = []
        matcher = difflib.SequenceMatcher(b=wanted, autojunk=False)
        for key, name in folded.items():
            matcher.set_seq1(key)
            if key == wanted or wanted in key or key in wanted:
                ranked.append((2.0 + matcher.ratio(), name))
            elif matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6:
                ratio = matcher.ratio()
                if ratio >= 0.6:
                    ranked.append((ratio, name))
        ranked.sort(key=lambda item: (-item[0], item[1]))
        return tuple(name for _, name in ranked[:limit])

    def count_secrets(self, node: str | None = None) -> int:
        with self._lock:
            if node is None:
                return self._db.execute("SELECT count(*) FROM ppp_secrets").fetchone()[0]
            return self._db.execute(
                "SELECT count(*) FROM ppp_secrets WHERE node = ?", (node,)
            ).fetchone()[0]


def fold(text: str) -> str:
    """Case- and accent-insensitive form of `text` ("Pérez" and "perez" match)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def read_nodes_csv(path: str | Path) -> list[Node]:
    """Parse a nodes CSV (header ``name,host,port`` and optional ``tls``).

    Validates every row before anything is written, and names the line at fault.
    """
    try:
        handle = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115
    except OSError as exc:
        raise InventoryError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        header = {h.strip().lower() for h in reader.fieldnames or ()}
        if not {"name", "host", "port"} <= header:
            raise InventoryError(
                f"{path}: the header must be name,host,port (optionally tls); got "
                f"{','.join(reader.fieldnames or ()) or 'nothing'}"
            )
        nodes: dict[str, Node] = {}
        for row in reader:
            line = reader.line_num
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            name, host, port_text = row.get("name", ""), row.get("host", ""), row.get("port", "")
            if not name or not host:
                raise InventoryError(f"{path}, line {line}: name and host are required")
            try:
                port = int(port_text or 8728)
            except ValueError:
                raise InventoryError(
                    f"{path}, line {line}: port {port_text!r} is not a number"
                ) from None
            if not 1 <= port <= 65535:
                raise InventoryError(f"{path}, line {line}: port {port} is out of range")
            tls_text = row.get("tls", "").lower()
            if tls_text not in {"", "0", "1", "true", "false", "yes", "no", "si", "sí"}:
                raise InventoryError(f"{path}, line {line}: tls must be true or false")
            nodes[name] = Node(name, host, port, tls_text in {"1", "true", "yes", "si", "sí"})
    return list(nodes.values())


def _location(row: sqlite3.Row) -> Location:
    secret = Secret(
        name=row["name"],
        node=row["node"],
        profile=row["profile"] or "",
        service=row["service"] or "",
        disabled=bool(row["disabled"]),
        comment=row["comment"] or "",
        remote_address=row["remote_address"] or "",
        last_logged_out=row["last_logged_out"] or "",
        last_caller_id=row["last_caller_id"] or "",
        last_disconnect_reason=row["last_disconnect_reason"] or "",
    )
    node = None
    if row["host"] is not None:
        node = Node(row["node"], row["host"], row["port"], bool(row["tls"]))
    return Location(secret, node)


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (they hold no literal semicolons)."""
    return [s.strip() for s in script.split(";") if s.strip()]
