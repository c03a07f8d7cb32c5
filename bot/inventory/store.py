"""The inventory: a SQLite copy of which router holds which PPPoE secret.

Tables:

* ``nodes``: the routers (name, host, API port, TLS mode and pinned certificate
  fingerprint, see `bot.routeros.tls`) and how their last sync went. Operators never
  give a router address; Beholder finds it here.
* ``ppp_secrets``: what each router has configured in ``/ppp/secret`` (never the
  password), filled by ``beholder sync``; plus folded copies for searching.
* ``ppp_sessions``: the live sessions seen at the last sync (``/ppp/active``),
  so that an IP or a MAC from a ticket can be resolved to a user.
* ``connections``: the management system's export (ISPCube in ADR-005).
* ``secret_search``: a trigram full-text index over the folded name and comment,
  keyed by ``ppp_secrets.id`` (never reused), for fragments and typos.

A user is located with ``ppp_secrets LEFT JOIN nodes``: the technical truth (what
is configured on the routers) rather than the management system, so subscribers
that were never linked there are found too, and a secret whose node is missing
from ``nodes`` is reported as such instead of vanishing.

The schema is versioned with ``PRAGMA user_version``; `MIGRATIONS` brings any
older file up to date when it is opened.

Two connections (WAL mode): readers never wait for a sync's write transaction.

The file and its ``-wal`` and ``-shm`` companions are created 0600 (they hold
subscribers' names, addresses, IPs, MACs and who asked about them); an older
file readable by others gets a WARNING when opened. Every sqlite3 error becomes
an `InventoryUnavailable` saying which fault it was (`inventory_fault`), so the
edges answer with one clear sentence instead of a traceback. Audit rows are
written by `bot.inventory.audit.AuditTrail`, after the reply (`audit_later`).
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import sqlite3
import stat
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from bot.errors import ConfigError, InventoryError, InventoryUnavailable
from bot.inventory.audit import AuditTrail
from bot.inventory.keys import fold, key_of_folded, mac, name_key
from bot.inventory.schema import MIGRATIONS, SCHEMA_VERSION
from bot.model import (
    ActiveSession,
    AuditEntry,
    Connection,
    Hit,
    Location,
    Node,
    NodeStatus,
    Secret,
    TlsMode,
    parse_fingerprint,
)

log = logging.getLogger(__name__)

MAX_SUGGESTIONS = 5
#: How long a statement waits for another process's write transaction to end.
BUSY_TIMEOUT_S = 10.0
#: How long an audit write waits for it before `AuditTrail` tries again later.
AUDIT_BUSY_TIMEOUT_S = 0.2
#: What the inventory's files are created with: only Beholder's user reads them.
FILE_MODE = 0o600
#: How many index hits per trigram feed the typo ranking.
_TRIGRAM_POSTINGS = 500
#: Trigram pairs looked up for one typo search.
_TYPO_PAIRS = 10
#: Candidates ranked by difflib for one typo search.
_TYPO_RANKED = 300
_ROW_COLUMNS = (
    "name, node, profile, service, disabled, comment, remote_address, last_logged_out, "
    "last_caller_id, last_disconnect_reason, synced_at, name_key, name_folded, comment_folded"
)


#: Longest query kept in the audit (what an operator types is short; this bounds junk).
AUDIT_QUERY_MAX = 200


class Inventory:
    """The SQLite inventory, safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._read_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._trail: AuditTrail | None = None
        self._trail_lock = threading.Lock()
        _create_private(self.path)
        self._writer = self._connect()
        try:
            with self._write_lock, self._faults():
                self._enter_wal()
                self._writer.execute("PRAGMA synchronous = NORMAL")
                # Syncs touch index pages all over the file: a bigger page cache for
                # the writer, and fewer (larger) checkpoints, halve what SQLite
                # spends per row at hundreds of thousands of secrets.
                self._writer.execute(f"PRAGMA cache_size = -{_WRITER_CACHE_KIB}")
                self._writer.execute(f"PRAGMA wal_autocheckpoint = {_WAL_CHECKPOINT_PAGES}")
                self._migrate()
                _private_companions(self.path)
            self._reader = self._connect()
        except BaseException:
            self._writer.close()
            raise
        try:
            with self._faults():
                # Document frequency of each trigram, to pick the rarest for typo search.
                self._reader.execute(
                    "CREATE VIRTUAL TABLE temp.secret_search_vocab "
                    "USING fts5vocab(main, 'secret_search', 'row')"
                )
        except BaseException:
            self._writer.close()
            self._reader.close()
            raise

    def _enter_wal(self) -> None:
        """Switch the file to WAL, waiting out another process doing the same.

        Changing the journal mode needs the file to itself, and SQLite reports a
        clash there as "locked" at once instead of calling the busy handler (two
        processes opening a new or pre-WAL file together). So the wait is here,
        bounded by the same `BUSY_TIMEOUT_S` every other statement gets.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        pause = 0.005
        while True:
            try:
                self._writer.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    def _connect(self) -> sqlite3.Connection:
        with self._faults():
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            try:
                db.row_factory = sqlite3.Row
                db.execute(f"PRAGMA busy_timeout = {round(BUSY_TIMEOUT_S * 1000)}")
                db.create_function("beholder_fold", 1, fold, deterministic=True)
                db.create_function("beholder_key", 1, name_key, deterministic=True)
                db.create_function("beholder_mac", 1, lambda t: mac(t or ""), deterministic=True)
            except BaseException:
                db.close()
                raise
        return db

    @contextmanager
    def _faults(self) -> Iterator[None]:
        """Every sqlite3 error raised inside becomes an `InventoryUnavailable`."""
        try:
            yield
        except sqlite3.Error as exc:
            raise inventory_fault(self.path, exc) from exc

    def close(self) -> None:
        """Write the audit rows still pending (see `AuditTrail.close`), then close.

        The closed trail stays: a row queued afterwards (a request still in flight
        when `serve` ends) goes to the log as an ERROR line, not to a new trail on
        a closed connection that would retry it forever.
        """
        with self._trail_lock:
            if self._trail is None:
                self._trail = self._new_trail()
            trail = self._trail
        trail.close()
        with self._write_lock, self._read_lock:
            self._writer.close()
            self._reader.close()

    def __enter__(self) -> Inventory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------

    def _migrate(self) -> None:
        """Apply the migrations this file lacks, each in its own transaction.

        The version is read again inside ``BEGIN IMMEDIATE`` before each step:
        two processes opening an old file at once take turns, and the second
        finds the work done instead of applying a migration twice.
        """
        db = self._writer
        while True:
            if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
                return  # the common case: no write lock taken
            db.execute("BEGIN IMMEDIATE")
            try:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise ConfigError(
                        f"{self.path} was written by a newer Beholder (schema {version}, "
                        f"this one knows {SCHEMA_VERSION})"
                    )
                if version < SCHEMA_VERSION:
                    for statement in _statements(MIGRATIONS[version]):
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version = {version + 1}")
                db.execute("COMMIT")
            except BaseException as exc:
                _rollback(db)
                if isinstance(exc, sqlite3.OperationalError) and "no such module" in str(exc):
                    raise ConfigError(
                        f"cannot upgrade {self.path} to schema {version + 1}: {exc} "
                        "(Beholder needs SQLite 3.34 or newer with FTS5)"
                    ) from exc
                raise

    @property
    def schema_version(self) -> int:
        return self._read("PRAGMA user_version")[0][0]

    @contextmanager
    def _transaction(self, busy_timeout_s: float | None = None) -> Iterator[sqlite3.Connection]:
        """One write transaction; `busy_timeout_s` overrides how long it waits for
        another process's (the audit waits little: `AuditTrail` retries later)."""
        with self._write_lock, self._faults():
            db = self._writer
            if busy_timeout_s is not None:
                db.execute(f"PRAGMA busy_timeout = {round(busy_timeout_s * 1000)}")
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    _rollback(db)
                    raise
                try:
                    db.execute("COMMIT")
                except BaseException:
                    _rollback(db)
                    raise
            finally:
                if busy_timeout_s is not None:
                    db.execute(f"PRAGMA busy_timeout = {round(BUSY_TIMEOUT_S * 1000)}")

    def _read(self, sql: str, params: Iterable[object] = ()) -> list[sqlite3.Row]:
        with self._read_lock, self._faults():
            return self._reader.execute(sql, tuple(params)).fetchall()

    # -- nodes --------------------------------------------------------------

    def upsert_nodes(self, nodes: Iterable[Node], allow_downgrade: bool = False) -> int:
        """Insert or update nodes by name, all or nothing. Returns how many.

        A node given without a pinned fingerprint keeps the one it has: re-importing
        the nodes CSV must not silently drop what ``nodes trust`` pinned (a stale
        pin fails closed, naming both fingerprints). Likewise a node given without
        a TLS mode (`Node.tls_said`) keeps its own; turning API-SSL off (``yes`` or
        ``insecure`` to ``no``), which sends the router's password in clear, is
        refused with `ConfigError` naming the nodes unless `allow_downgrade`, and
        then logged as a WARNING naming each node.
        """
        nodes = list(nodes)
        with self._transaction() as db:
            current = {
                name: TlsMode(tls)
                for name, tls in db.execute("SELECT name, tls FROM nodes").fetchall()
            }
            modes = {
                n.name: n.tls if n.tls_said or n.name not in current else current[n.name]
                for n in nodes
            }
            downgraded = sorted(
                name
                for name, mode in modes.items()
                if not mode and current.get(name, TlsMode.NO) is not TlsMode.NO
            )
            if downgraded and not allow_downgrade:
                raise ConfigError(
                    f"{', '.join(downgraded)} use(s) API-SSL: tls=no would send the router "
                    "password in clear; leave tls blank to keep the mode, or pass "
                    "--allow-downgrade to turn API-SSL off on purpose"
                )
            rows = [(n.name, n.host, n.port, modes[n.name].value, n.tls_fingerprint) for n in nodes]
            db.executemany(
                "INSERT INTO nodes (name, host, port, tls, tls_fingerprint) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET "
                "host = excluded.host, port = excluded.port, tls = excluded.tls, "
                "tls_fingerprint = coalesce(excluded.tls_fingerprint, nodes.tls_fingerprint)",
                rows,
            )
        for name in downgraded:
            log.warning("node %s: API-SSL turned off (tls=no): its password travels in clear", name)
        return len(rows)

    def pin_certificate(self, name: str, fingerprint: str) -> Node:
        """Pin a node's certificate (``nodes trust``) and set it to ``tls=yes``:
        from now on the router must present exactly that certificate."""
        fingerprint = parse_fingerprint(fingerprint)
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE nodes SET tls = ?, tls_fingerprint = ? WHERE name = ?",
                (TlsMode.YES.value, fingerprint, name),
            ).rowcount
            if not changed:
                raise InventoryError(f"there is no node named {name!r}")
        return self.node(name)

    def node(self, name: str) -> Node:
        """One node by name; InventoryError if there is none."""
        rows = self._read(f"SELECT {_NODE_COLUMNS} FROM nodes WHERE name = ?", (name,))
        if not rows:
            raise InventoryError(f"there is no node named {name!r}")
        return _node(rows[0])

    def remove_node(self, name: str) -> int:
        """Forget a node and everything synced from it. Returns its secrets' count."""
        with self._transaction() as db:
            if db.execute("DELETE FROM nodes WHERE name = ?", (name,)).rowcount == 0:
                raise InventoryError(f"there is no node named {name!r}")
            removed = db.execute("DELETE FROM ppp_secrets WHERE node = ?", (name,)).rowcount
            db.execute("DELETE FROM ppp_sessions WHERE node = ?", (name,))
            self._mark_search_dirty(db)
        return removed

    def nodes(self) -> list[Node]:
        rows = self._read(f"SELECT {_NODE_COLUMNS} FROM nodes ORDER BY name")
        return [_node(r) for r in rows]

    def node_status(self) -> list[NodeStatus]:
        rows = self._read(
            "SELECT n.*, (SELECT count(*) FROM ppp_secrets AS s WHERE s.node = n.name) AS secrets "
            "FROM nodes AS n ORDER BY n.name"
        )
        return [
            NodeStatus(
                _node(r),
                r["secrets"],
                r["synced_at"],
                r["sync_error"],
                r["sync_failed_at"],
            )
            for r in rows
        ]

    # -- sync ---------------------------------------------------------------

    def replace_node(
        self,
        node: str,
        secrets: Iterable[Secret],
        sessions: Iterable[ActiveSession],
        synced_at: datetime,
    ) -> int:
        """Make one node's secrets and sessions what its pull found, in a single transaction.

        Called only after the node's pull completed, so a failed pull never
        touches the rows a node already had; a sync killed here leaves the old
        rows (SQLite rolls the open transaction back). Returns the secret count.

        Only what changed is written: rows gone from the router are deleted,
        changed rows updated in place, new ones inserted. A re-sync of a router
        where little changed is then mostly reads, instead of rewriting every
        row and index entry (at ISP scale, hundreds of megabytes of WAL every
        time). So a secret's own ``synced_at`` is when its row last changed; the
        node's ``synced_at`` is when all of its rows were last confirmed.
        """
        stamp = _stamp(synced_at)
        wanted = {s.name: s for s in secrets}  # a repeated name: the last one wins
        with self._transaction() as db:
            cursor = db.cursor()
            cursor.row_factory = None  # plain tuples: thousands of rows, compared once
            old = {
                row[1]: row
                for row in cursor.execute(
                    f"SELECT id, name, {_COMPARED_COLUMNS} FROM ppp_secrets WHERE node = ?",
                    (node,),
                )
            }
            inserts: list[tuple[object, ...]] = []
            updates: list[tuple[object, ...]] = []
            for name, secret in wanted.items():
                row = old.pop(name, None)
                if row is None:
                    inserts.append(_secret_row(secret, node, stamp))
                elif _changed(row, secret):
                    updates.append((*_compared_values(secret), fold(secret.comment), stamp, row[0]))
            db.executemany("DELETE FROM ppp_secrets WHERE id = ?", ((r[0],) for r in old.values()))
            db.executemany(
                "UPDATE ppp_secrets SET "
                + ", ".join(f"{c} = ?" for c in _COMPARED_COLUMNS.split(", "))
                + ", comment_folded = ?, synced_at = ? WHERE id = ?",
                updates,
            )
            db.executemany(
                f"INSERT INTO ppp_secrets ({_ROW_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                inserts,
            )
            self._replace_sessions(db, node, sessions, stamp)
            db.execute(
                "UPDATE nodes SET synced_at = ?, sync_error = NULL, sync_failed_at = NULL "
                "WHERE name = ?",
                (stamp, node),
            )
            if old or updates or inserts:
                self._mark_search_dirty(db)
        return len(wanted)

    @staticmethod
    def _replace_sessions(
        db: sqlite3.Connection, node: str, sessions: Iterable[ActiveSession], stamp: str
    ) -> None:
        """The node's ``ppp_sessions`` rows become `sessions`, touching only what changed.

        A session that is still up keeps its row (only ``uptime`` and
        ``synced_at`` move), so its three index entries are not rewritten.
        """
        old: dict[tuple[str, str, str], list[int]] = {}
        cursor = db.cursor()
        cursor.row_factory = None
        for rowid, name, address, caller_id in cursor.execute(
            "SELECT rowid, name, address, caller_id FROM ppp_sessions WHERE node = ?", (node,)
        ):
            old.setdefault((name, address, caller_id), []).append(rowid)
        inserts: list[tuple[str, ...]] = []
        updates: list[tuple[object, ...]] = []
        for s in sessions:
            key = (s.name, s.address, _mac_or_text(s.caller_id))
            rowids = old.get(key)
            if rowids:
                updates.append((s.uptime, stamp, rowids.pop()))
            else:
                inserts.append((node, *key, s.uptime, stamp))
        db.executemany(
            "DELETE FROM ppp_sessions WHERE rowid = ?",
            ((rowid,) for rowids in old.values() for rowid in rowids),
        )
        db.executemany("UPDATE ppp_sessions SET uptime = ?, synced_at = ? WHERE rowid = ?", updates)
        db.executemany(
            "INSERT INTO ppp_sessions (node, name, address, caller_id, uptime, synced_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            inserts,
        )

    def mark_sync_failed(self, node: str, error: str, at: datetime) -> None:
        """Remember that a node's rows are stale, and why (its rows stay as they were)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE nodes SET sync_error = ?, sync_failed_at = ? WHERE name = ?",
                (error, _stamp(at), node),
            )

    def upsert_secret(self, secret: Secret, synced_at: datetime) -> None:
        """Add one secret found by a targeted pull, keeping the search index current."""
        row = _secret_row(secret, secret.node, _stamp(synced_at))
        with self._transaction() as db:
            old = db.execute(
                "SELECT id FROM ppp_secrets WHERE name = ? AND node = ?",
                (secret.name, secret.node),
            ).fetchone()
            if old is not None:
                db.execute("DELETE FROM secret_search WHERE rowid = ?", (old["id"],))
                db.execute("DELETE FROM ppp_secrets WHERE id = ?", (old["id"],))
            cursor = db.execute(
                f"INSERT INTO ppp_secrets ({_ROW_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            db.execute(
                "INSERT INTO secret_search (rowid, text) VALUES (?, ?)",
                (cursor.lastrowid, f"{row[-2]} {row[-1]}"),
            )

    def rebuild_search_index(self) -> None:
        """Rebuild the trigram index from ``ppp_secrets`` (a couple of seconds per million).

        Per-node replaces do not maintain the index row by row (that would make
        a full sync several times slower); they flag it, and the sync rebuilds
        it once at the end. Until then searches still verify every hit against
        the table (ids are never reused), so a stale index can miss new rows but
        never returns wrong ones.
        """
        with self._transaction() as db:
            db.execute("DELETE FROM secret_search")
            db.execute(
                "INSERT INTO secret_search (rowid, text) "
                "SELECT id, name_folded || ' ' || comment_folded FROM ppp_secrets"
            )
            db.execute("DELETE FROM meta WHERE key = 'search_dirty'")

    @property
    def search_index_dirty(self) -> bool:
        return bool(self._read("SELECT 1 FROM meta WHERE key = 'search_dirty'"))

    @staticmethod
    def _mark_search_dirty(db: sqlite3.Connection) -> None:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('search_dirty', '1')")

    # -- lookups ------------------------------------------------------------

    def locate(self, user: str) -> list[Location]:
        """Every router that has exactly `user` configured (two during migrations)."""
        rows = self._read(
            "SELECT s.*, n.host, n.port, n.tls, n.tls_fingerprint FROM ppp_secrets AS s "
            "LEFT JOIN nodes AS n ON n.name = s.node WHERE s.name = ? ORDER BY s.node",
            (user,),
        )
        return [_location(r) for r in rows]

    def names_by_key(self, key: str) -> list[str]:
        """Names equal to `key` once case, accents and punctuation are ignored."""
        rows = self._read(
            "SELECT DISTINCT name FROM ppp_secrets WHERE name_key = ? ORDER BY name LIMIT 50",
            (key,),
        )
        return [r[0] for r in rows]

    def by_address(self, address: str) -> list[Hit]:
        """Who has this IP: a live session at last sync, or a static remote-address."""
        rows = self._read(
            "SELECT name FROM ppp_sessions WHERE address = ? UNION SELECT name FROM ppp_secrets "
            # The repeated `!= ''` lets SQLite use the partial index.
            "WHERE remote_address = ? AND remote_address != '' ORDER BY name LIMIT 50",
            (address, address),
        )
        return [Hit(r[0], "ip", address) for r in rows]

    def by_mac(self, address: str) -> list[Hit]:
        """Who has this MAC: a live session at last sync, or the last one seen."""
        rows = self._read(
            "SELECT name FROM ppp_sessions WHERE caller_id = ? UNION SELECT name FROM ppp_secrets "
            "WHERE last_caller_id = ? AND last_caller_id != '' ORDER BY name LIMIT 50",
            (address, address),
        )
        return [Hit(r[0], "mac", address) for r in rows]

    def by_fragments(self, words: list[str], limit: int = 20) -> list[Hit]:
        """Secrets whose folded name or comment contains every word.

        Words of three characters or more go through the trigram index; every
        hit is then checked against the table itself.
        """
        folded = [fold(w) for w in words if fold(w)]
        if not folded:
            return []
        # LIKE runs on the trigram index only without ESCAPE, so the wildcards
        # themselves are cut out of the terms; the check below uses whole words.
        terms = [t for w in folded for t in re.split(r"[%_]+", w) if len(t) >= 3]
        if terms:
            where = " AND ".join("text LIKE ?" for _ in terms)
            rows = self._read(
                "SELECT name, name_folded, comment, comment_folded FROM ppp_secrets WHERE id IN "
                f"(SELECT rowid FROM secret_search WHERE {where} LIMIT 2000)",
                [f"%{t}%" for t in terms],
            )
        else:
            rows = self._read(
                "SELECT name, name_folded, comment, comment_folded FROM ppp_secrets "
                "WHERE name_key = ? LIMIT 2000",
                (name_key(" ".join(folded)),),
            )
        hits: dict[str, Hit] = {}
        for name, name_folded, comment, comment_folded in rows:
            if all(w in name_folded or w in comment_folded for w in folded):
                in_name = all(w in name_folded for w in folded)
                hits.setdefault(name, Hit(name, "name" if in_name else "comment", comment))
            if len(hits) >= limit:
                break
        return sorted(hits.values(), key=lambda h: (h.how != "name", h.name))

    def similar_names(self, text: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
        """Configured names a typo away from `text`, best first.

        One typo breaks at most the three trigrams that overlap it, so two
        trigrams of the query at least three positions apart often both survive.
        The rarest such pairs are looked up together in the index (an
        intersection: a handful of rows even among a million secrets), and
        difflib ranks what they bring on the name key.
        """
        wanted = name_key(text)
        folded = fold(text)
        if len(wanted) < 3:
            return []
        grams = [folded[i : i + 3] for i in range(len(folded) - 2)]
        freq = dict.fromkeys(grams, 0)
        marks = ",".join("?" * len(freq))
        freq.update(
            self._read(
                f"SELECT term, doc FROM temp.secret_search_vocab WHERE term IN ({marks})", freq
            )
        )
        pairs = sorted(
            (freq[a] * freq[b], a, b)
            for i, a in enumerate(grams)
            for b in grams[i + 3 :]
            if freq[a] and freq[b] and a != b
        )
        chosen: list[tuple[str, str]] = []
        uses: dict[str, int] = {}
        for _, a, b in pairs:
            if uses.get(a, 0) < 2 and uses.get(b, 0) < 2 and (a, b) not in chosen:
                chosen.append((a, b))
                uses[a] = uses.get(a, 0) + 1
                uses[b] = uses.get(b, 0) + 1
            if len(chosen) == _TYPO_PAIRS:
                break
        if not chosen:  # a short query: single trigrams, rarest first
            chosen = [(g, g) for g in sorted((g for g in freq if freq[g]), key=freq.get)[:3]]
        votes: Counter[int] = Counter()
        for a, b in chosen:
            votes.update(
                r[0]
                for r in self._read(
                    "SELECT rowid FROM secret_search WHERE secret_search MATCH ? LIMIT ?",
                    (f"{_fts_term(a)} AND {_fts_term(b)}", _TRIGRAM_POSTINGS),
                )
            )
        # The name sharing the most surviving pairs is the likely one: rank few.
        rowids = [rowid for rowid, _ in votes.most_common(_TYPO_RANKED)]
        names: dict[str, str] = {}
        for chunk in _chunks(sorted(rowids), 500):
            marks = ",".join("?" * len(chunk))
            for name, key in self._read(
                f"SELECT name, name_key FROM ppp_secrets WHERE id IN ({marks})", chunk
            ):
                names.setdefault(name, key)
        for name in self.names_by_key(wanted):
            names.setdefault(name, wanted)
        matcher = difflib.SequenceMatcher(b=wanted, autojunk=False)
        ranked = []
        for name, key in names.items():
            matcher.set_seq1(key)
            if matcher.real_quick_ratio() < 0.7 or matcher.quick_ratio() < 0.7:
                continue
            ratio = matcher.ratio()
            if ratio >= 0.7:
                ranked.append((-ratio, name))
        return [name for _, name in sorted(ranked)[:limit]]

    def count_secrets(self, node: str | None = None) -> int:
        if node is None:
            return self._read("SELECT count(*) FROM ppp_secrets")[0][0]
        return self._read("SELECT count(*) FROM ppp_secrets WHERE node = ?", (node,))[0][0]

    # -- audit ------------------------------------------------------------------

    def audit_later(self, entry: AuditEntry) -> None:
        """Queue `entry` for the audit and return at once: a thread of its own
        writes it, retrying while another process holds the database; `close`
        writes whatever is still pending. Never raises, never blocks."""
        with self._trail_lock:
            if self._trail is None:
                self._trail = self._new_trail()
            trail = self._trail
        trail.add(entry)

    def _new_trail(self) -> AuditTrail:
        return AuditTrail(self._record_audits_briefly, name=f"audit {self.path}")

    def flush_audit(self, timeout_s: float | None = None) -> bool:
        """Wait until every queued audit row is written; False if `timeout_s` passed."""
        with self._trail_lock:
            trail = self._trail
        return trail is None or trail.flush(timeout_s)

    def record_audit(self, entry: AuditEntry) -> None:
        """Write one audit row now (waiting like any write)."""
        self.record_audits([entry])

    def record_audits(
        self, entries: Iterable[AuditEntry], busy_timeout_s: float | None = None
    ) -> None:
        """Write audit rows in one transaction."""
        with self._transaction(busy_timeout_s) as db:
            db.executemany(
                "INSERT INTO audit (at, slack_user, channel, source, query, pppoe_user, node, "
                "outcome, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        _stamp(entry.at),
                        entry.slack_user,
                        entry.channel,
                        entry.source,
                        entry.query[:AUDIT_QUERY_MAX],
                        entry.pppoe_user,
                        entry.node,
                        entry.outcome,
                        entry.latency_ms,
                    )
                    for entry in entries
                ],
            )

    def _record_audits_briefly(self, entries: list[AuditEntry]) -> None:
        self.record_audits(entries, AUDIT_BUSY_TIMEOUT_S)

    def audit(
        self, since: datetime | None = None, slack_user: str | None = None, limit: int = 1000
    ) -> list[AuditEntry]:
        """Entries, newest first."""
        clauses, params = [], []
        if since is not None:
            clauses.append("at >= ?")
            params.append(_stamp(since))
        if slack_user:
            clauses.append("slack_user = ?")
            params.append(slack_user)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._read(
            f"SELECT * FROM audit {where} ORDER BY at DESC, id DESC LIMIT ?", [*params, limit]
        )
        return [
            AuditEntry(
                at=datetime.fromisoformat(r["at"]),
                query=r["query"],
                outcome=r["outcome"],
                slack_user=r["slack_user"],
                channel=r["channel"],
                source=r["source"],
                pppoe_user=r["pppoe_user"],
                node=r["node"],
                latency_ms=r["latency_ms"],
            )
            for r in rows
        ]

    def purge_audit(self, before: datetime) -> int:
        """Forget entries older than `before` (retention). Returns how many."""
        with self._transaction() as db:
            return db.execute("DELETE FROM audit WHERE at < ?", (_stamp(before),)).rowcount

    # -- management system --------------------------------------------------------

    def replace_connections(self, connections: Iterable[Connection], at: datetime) -> int:
        """Load a full export of the management system (replaces the previous one)."""
        stamp = _stamp(at)
        with self._transaction() as db:
            db.execute("DELETE FROM connections")
            return db.executemany(
                "INSERT OR REPLACE INTO connections (pppoe_user, customer_id, customer_name, "
                "plan_download_bps, plan_upload_bps, status, imported_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        c.pppoe_user,
                        c.customer_id,
                        c.customer_name,
                        c.plan_download_bps,
                        c.plan_upload_bps,
                        c.status,
                        stamp,
                    )
                    for c in connections
                ),
            ).rowcount

    def connection(self, user: str) -> Connection | None:
        rows = self._read("SELECT * FROM connections WHERE pppoe_user = ?", (user,))
        if not rows:
            return None
        r = rows[0]
        return Connection(
            r["pppoe_user"],
            r["customer_id"],
            r["customer_name"],
            r["plan_download_bps"],
            r["plan_upload_bps"],
            r["status"],
        )

    def count_connections(self) -> int:
        return self._read("SELECT count(*) FROM connections")[0][0]


#: Page cache of the writing connection during syncs (SQLite's default is 2 MiB).
_WRITER_CACHE_KIB = 64 * 1024
#: WAL pages between automatic checkpoints (SQLite's default is 1000, ~4 MiB).
_WAL_CHECKPOINT_PAGES = 10_000
#: The columns of a secret that come from the router (name and node aside), in
#: the order `_compared_values` gives them.
_COMPARED_COLUMNS = (
    "profile, service, disabled, comment, remote_address, last_logged_out, "
    "last_caller_id, last_disconnect_reason"
)


def _compared_values(s: Secret) -> tuple[object, ...]:
    """What `_secret_row` stores in `_COMPARED_COLUMNS` for this secret."""
    return (
        s.profile,
        s.service,
        int(s.disabled),
        s.comment,
        s.remote_address,
        s.last_logged_out,
        _mac_or_text(s.last_caller_id),
        s.last_disconnect_reason,
    )


def _changed(row: tuple[object, ...], s: Secret) -> bool:
    """Whether a stored row (id, name, then `_COMPARED_COLUMNS`) differs from `s`.

    Cheap on the common case, an unchanged row: the MAC is normalised only when
    the text differs (RouterOS already prints the stored, canonical form).
    """
    stored_mac = row[8]
    return (
        row[2] != s.profile
        or row[3] != s.service
        or row[4] != int(s.disabled)
        or row[5] != s.comment
        or row[6] != s.remote_address
        or row[7] != s.last_logged_out
        or (s.last_caller_id != stored_mac and _mac_or_text(s.last_caller_id) != stored_mac)
        or row[9] != s.last_disconnect_reason
    )


def _secret_row(s: Secret, node: str, stamp: str) -> tuple[object, ...]:
    folded = fold(s.name)
    return (
        s.name,
        node,
        s.profile,
        s.service,
        int(s.disabled),
        s.comment,
        s.remote_address,
        s.last_logged_out,
        _mac_or_text(s.last_caller_id),
        s.last_disconnect_reason,
        stamp,
        key_of_folded(folded),
        folded,
        fold(s.comment),
    )


def _mac_or_text(text: str) -> str:
    """Stored MACs are canonical; anything else RouterOS printed is kept as is."""
    return mac(text) or text


def _location(row: sqlite3.Row) -> Location:
    secret = Secret(
        name=row["name"],
        node=row["node"],
        profile=row["profile"],
        service=row["service"],
        disabled=bool(row["disabled"]),
        comment=row["comment"],
        remote_address=row["remote_address"],
        last_logged_out=row["last_logged_out"],
        last_caller_id=row["last_caller_id"],
        last_disconnect_reason=row["last_disconnect_reason"],
    )
    node = None
    if row["host"] is not None:
        node = Node(row["node"], row["host"], row["port"], row["tls"], row["tls_fingerprint"])
    return Location(secret, node)


_NODE_COLUMNS = "name, host, port, tls, tls_fingerprint"


def _node(row: sqlite3.Row) -> Node:
    return Node(row["name"], row["host"], row["port"], row["tls"], row["tls_fingerprint"])


#: sqlite3's primary result codes → `InventoryUnavailable.reason`; others are "io".
_FAULTS = {
    sqlite3.SQLITE_BUSY: "locked",
    sqlite3.SQLITE_LOCKED: "locked",
    sqlite3.SQLITE_READONLY: "read_only",
    sqlite3.SQLITE_PERM: "read_only",
    sqlite3.SQLITE_CANTOPEN: "cannot_open",
    sqlite3.SQLITE_CORRUPT: "corrupt",
    sqlite3.SQLITE_NOTADB: "corrupt",
    sqlite3.SQLITE_FULL: "full",
}


def inventory_fault(path: Path, exc: sqlite3.Error) -> InventoryUnavailable:
    """The one place sqlite3 errors are turned into Beholder's: which fault it was."""
    code = getattr(exc, "sqlite_errorcode", None)
    reason = _FAULTS.get(code & 0xFF, "io") if isinstance(code, int) else "io"
    if reason == "io" and "no such table" in str(exc):
        reason = "corrupt"  # an SQLite file, but not (or no longer) an inventory
    if reason == "cannot_open" and path.exists() and not _writable(path):
        reason = "read_only"  # WAL mode cannot create its -shm next to a read-only file
    return InventoryUnavailable(path, reason, str(exc))


def _writable(path: Path) -> bool:
    """Whether Beholder could write the file and create its -wal and -shm beside it."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open (SQLite ends one itself on some
    errors, a full disk among them: a second ROLLBACK would hide the first error)."""
    if db.in_transaction:
        try:
            db.execute("ROLLBACK")
        except sqlite3.Error:
            log.warning("rollback failed after an inventory error")


def _create_private(path: Path) -> None:
    """Create the inventory file 0600 whatever the umask (SQLite would create it
    0644 and its -wal and -shm like it); warn about an older, wider one.

    A symbolic link is followed, as SQLite follows it: a link to a file not yet
    there (``O_EXCL`` refuses any link) would otherwise be left for SQLite to
    create 0644, with no warning.
    """
    path = Path(os.path.realpath(path))
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        _warn_if_shared(path)
        return
    except OSError:
        return  # a missing folder, no permission: SQLite's own error says which
    try:
        os.fchmod(fd, FILE_MODE)  # the umask may have taken bits away
    finally:
        os.close(fd)


def _private_companions(path: Path) -> None:
    """SQLite gives -wal and -shm the main file's mode: make sure they are 0600 too
    when the main file is (an old, shared one is only warned about). SQLite puts
    them next to the file a symbolic link points to."""
    path = Path(os.path.realpath(path))
    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            return
    except OSError:
        return
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        try:
            if stat.S_IMODE(companion.stat().st_mode) != FILE_MODE:
                companion.chmod(FILE_MODE)
        except OSError:
            pass  # not created (yet), or not ours to change


def _warn_if_shared(path: Path) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if mode & 0o077:
        log.warning(
            "the inventory %s can be read by other users (mode %04o): it holds subscribers' "
            "names, addresses, IPs and MACs and the audit; run: chmod 600 %s %s-wal %s-shm",
            path,
            mode,
            path,
            path,
            path,
        )


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _fts_term(gram: str) -> str:
    return '"' + gram.replace('"', '""') + '"'


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (they hold no literal semicolons)."""
    return [s.strip() for s in script.split(";") if s.strip()]
