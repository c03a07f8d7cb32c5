"""The inventory's SQLite schema, as a list of migrations.

``PRAGMA user_version`` holds how many of them a file has; `bot.inventory.store`
applies the rest when it opens the file, each in its own transaction, so a
database written by an older Beholder is brought up to date and keeps its data.
Never edit a released migration: add one. `stamp` is how every table stores a
moment, so that comparing the text compares the time.
"""

from __future__ import annotations

from datetime import datetime

#: Each entry upgrades the schema from version ``index`` to ``index + 1``.
MIGRATIONS: tuple[str, ...] = (
    # 1: the ADR's two tables.
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
    # 2: search keys and index, sessions, sync bookkeeping, management system.
    """
    ALTER TABLE nodes ADD COLUMN synced_at TEXT;
    ALTER TABLE nodes ADD COLUMN sync_error TEXT;
    ALTER TABLE nodes ADD COLUMN sync_failed_at TEXT;
    UPDATE nodes SET synced_at = (
        SELECT max(s.synced_at) FROM ppp_secrets AS s WHERE s.node = nodes.name
    );
    CREATE TABLE ppp_secrets_v2 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        node TEXT NOT NULL,
        profile TEXT NOT NULL DEFAULT '',
        service TEXT NOT NULL DEFAULT '',
        disabled INTEGER NOT NULL DEFAULT 0,
        comment TEXT NOT NULL DEFAULT '',
        remote_address TEXT NOT NULL DEFAULT '',
        last_logged_out TEXT NOT NULL DEFAULT '',
        last_caller_id TEXT NOT NULL DEFAULT '',
        last_disconnect_reason TEXT NOT NULL DEFAULT '',
        synced_at TEXT NOT NULL,
        name_key TEXT NOT NULL,
        name_folded TEXT NOT NULL,
        comment_folded TEXT NOT NULL DEFAULT '',
        UNIQUE (name, node)
    );
    INSERT INTO ppp_secrets_v2 (name, node, profile, service, disabled, comment,
        remote_address, last_logged_out, last_caller_id, last_disconnect_reason, synced_at,
        name_key, name_folded, comment_folded)
    SELECT name, node, coalesce(profile, ''), coalesce(service, ''), disabled,
        coalesce(comment, ''), coalesce(remote_address, ''), coalesce(last_logged_out, ''),
        coalesce(beholder_mac(last_caller_id), coalesce(last_caller_id, '')),
        coalesce(last_disconnect_reason, ''), synced_at,
        beholder_key(name), beholder_fold(name), beholder_fold(coalesce(comment, ''))
    FROM ppp_secrets;
    DROP TABLE ppp_secrets;
    ALTER TABLE ppp_secrets_v2 RENAME TO ppp_secrets;
    CREATE INDEX ppp_secrets_by_node ON ppp_secrets (node);
    CREATE INDEX ppp_secrets_by_key ON ppp_secrets (name_key);
    CREATE INDEX ppp_secrets_by_address ON ppp_secrets (remote_address)
        WHERE remote_address != '';
    CREATE INDEX ppp_secrets_by_last_mac ON ppp_secrets (last_caller_id)
        WHERE last_caller_id != '';
    CREATE TABLE ppp_sessions (
        node TEXT NOT NULL,
        name TEXT NOT NULL,
        address TEXT NOT NULL DEFAULT '',
        caller_id TEXT NOT NULL DEFAULT '',
        uptime TEXT NOT NULL DEFAULT '',
        synced_at TEXT NOT NULL
    );
    CREATE INDEX ppp_sessions_by_node ON ppp_sessions (node);
    CREATE INDEX ppp_sessions_by_address ON ppp_sessions (address);
    CREATE INDEX ppp_sessions_by_mac ON ppp_sessions (caller_id);
    CREATE TABLE connections (
        pppoe_user TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL DEFAULT '',
        customer_name TEXT NOT NULL DEFAULT '',
        plan_download_bps INTEGER,
        plan_upload_bps INTEGER,
        status TEXT NOT NULL DEFAULT '',
        imported_at TEXT NOT NULL
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE VIRTUAL TABLE secret_search USING fts5(text, tokenize = 'trigram', detail = 'none');
    INSERT INTO secret_search (rowid, text)
        SELECT id, name_folded || ' ' || comment_folded FROM ppp_secrets;
    """,
    # 3: who asked what, and what came of it.
    """
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        slack_user TEXT NOT NULL DEFAULT '',
        channel TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT '',
        query TEXT NOT NULL,
        pppoe_user TEXT NOT NULL DEFAULT '',
        node TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL,
        latency_ms INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX audit_by_time ON audit (at);
    CREATE INDEX audit_by_user ON audit (slack_user, at);
    """,
    # 4: the TLS flag becomes a mode (no / yes = verified / insecure), plus the
    # certificate pinned by `nodes trust`. SQLite cannot change a CHECK: rebuild.
    """
    CREATE TABLE nodes_v4 (
        name TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        port INTEGER NOT NULL DEFAULT 8728 CHECK (port BETWEEN 1 AND 65535),
        tls TEXT NOT NULL DEFAULT 'no' CHECK (tls IN ('no', 'yes', 'insecure')),
        tls_fingerprint TEXT CHECK (tls_fingerprint IS NULL OR length(tls_fingerprint) = 64),
        synced_at TEXT,
        sync_error TEXT,
        sync_failed_at TEXT
    );
    INSERT INTO nodes_v4 (name, host, port, tls, synced_at, sync_error, sync_failed_at)
    SELECT name, host, port, CASE tls WHEN 1 THEN 'yes' ELSE 'no' END,
        synced_at, sync_error, sync_failed_at
    FROM nodes;
    DROP TABLE nodes;
    ALTER TABLE nodes_v4 RENAME TO nodes;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def stamp(moment: datetime) -> str:
    """How a moment is stored: ISO 8601 to the second, so that text order is time order."""
    return moment.isoformat(timespec="seconds")
