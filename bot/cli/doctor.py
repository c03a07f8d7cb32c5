"""``beholder doctor``: is this installation ready to serve, and if not, what to do.

One line per check, ``ok``, ``warn`` or ``fail``, each saying what was found and,
when it is not ok, what to do; the exit code is 1 when any check failed. It
checks what `serve` needs, in the order a newcomer would fix it:

* the settings parse (a bad one is a ``fail`` line, not the CLI's usual error);
* the files: the env file not readable by every user (it holds passwords and
  tokens), the inventory and its ``-wal``/``-shm`` private (`bot.inventory.files`);
* Slack: the bot token (``auth.test``), the app-level token's Socket Mode
  (``apps.connections.open``; not needed over HTTP) and the scopes manifest.yml
  asks for (`bot.slack.tokens`);
* the inventory: SQLite's integrity check and schema version, looked at
  read-only (`bot.inventory.health`: never created, and an older schema is left
  for the next command to upgrade), and how old each node's last good sync is
  (past twice ``BEHOLDER_SYNC_INTERVAL`` the background sync is not running);
* every node, as ``nodes check`` logs into it (`bot.cli.admin.check_nodes`):
  reachable, login accepted, RouterOS version, API-SSL mode and, for ``tls=yes``,
  the certificate verified before the password was sent; then how long an API-SSL
  node's certificate stays valid (a warning within `CERTIFICATE_NOTICE`).

Slack and the routers are asked at once, each within its own deadline. A
failure's words are the English catalog's (`bot.present.errors.error`): the
admin output of the CLI is English whatever ``BEHOLDER_LANG`` says. Every value
from outside passes through `bot.present.terminal.terminal`.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from bot import logs
from bot.cli.doctor_remote import ask_remotes
from bot.cli.findings import Finding, Level, report, words
from bot.cli.report import EXIT_FAILED
from bot.config import Settings, load_settings
from bot.errors import BeholderError, ConfigError
from bot.inventory import health
from bot.inventory.files import shared_mode
from bot.inventory.schema import SCHEMA_VERSION
from bot.inventory.store import Inventory
from bot.metrics import sync_age_s
from bot.model import NodeStatus


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print one line per check and a summary; 1 when any check failed.

    Reads the settings itself (`main` does not), so that settings that do not
    parse are one of the findings, next to the env file's permissions.
    """
    env_file = Path(args.env_file)
    try:
        settings = load_settings(env_file)
    except ConfigError as exc:
        findings = [
            Finding(Level.FAIL, "settings", f"{exc}; fix it in {env_file} or the environment"),
            _env_file(env_file),
        ]
    else:
        logs.configure("WARNING", settings.secrets, settings.log_format)
        findings = diagnose(settings, env_file)
    print(report(findings))
    return EXIT_FAILED if any(f.level is Level.FAIL for f in findings) else 0


def diagnose(settings: Settings, env_file: Path, now: datetime | None = None) -> list[Finding]:
    """Every check once the settings parsed, in the order of the report; `now` (UTC)
    dates the syncs."""
    now = now or datetime.now(UTC)
    source = f"{env_file} and the environment" if env_file.is_file() else "the environment"
    found = [Finding(Level.OK, "settings", f"read from {source}"), _env_file(env_file)]
    found += _inventory_files(settings.db_path)
    inventory, statuses = _inventory(settings.db_path)
    remote = asyncio.run(ask_remotes(settings, [s.node for s in statuses], now))
    found += remote.slack
    found += inventory
    found += [_sync_age(s, settings, now) for s in statuses]
    found += remote.nodes
    return found


# -- files ----------------------------------------------------------------------------


def _env_file(path: Path) -> Finding:
    subject = f"file {path}"
    if not path.is_file():  # absent, or --env-file /dev/null
        return Finding(Level.OK, subject, "no such file: settings come from the environment only")
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        return Finding(Level.FAIL, subject, f"cannot be read ({exc.strerror}): fix its owner")
    if mode & 0o004:
        return Finding(
            Level.FAIL,
            subject,
            f"mode {mode:04o}: every user of this machine can read the router password and "
            f"the Slack tokens it holds; run chmod 600 {path} (or 640 with Beholder's group)",
        )
    return Finding(Level.OK, subject, f"mode {mode:04o}: not readable by every user")


def _inventory_files(db_path: Path) -> list[Finding]:
    path = Path(os.path.realpath(db_path))
    found = []
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if not file.exists():
            continue
        mode = shared_mode(file)
        if mode is None:
            found.append(Finding(Level.OK, f"file {file}", "mode 0600: private"))
        else:
            found.append(
                Finding(
                    Level.WARN,
                    f"file {file}",
                    f"mode {mode:04o}: other users can read subscribers' names, addresses, "
                    f"IPs and MACs and the audit; run chmod 600 {file}",
                )
            )
    return found


# -- the inventory --------------------------------------------------------------------


def _inventory(db_path: Path) -> tuple[list[Finding], list[NodeStatus]]:
    """The inventory's integrity and schema, and its nodes (none when it is unusable)."""
    subject = f"inventory {db_path}"
    if not db_path.is_file():
        return [
            Finding(
                Level.FAIL,
                subject,
                "no such file (BEHOLDER_DB): create it with beholder nodes import FILE.csv, "
                "then beholder sync",
            )
        ], []
    try:
        checked = health.inspect(db_path)
    except BeholderError as exc:
        return [Finding(Level.FAIL, subject, words(exc))], []
    if not checked.sound:
        problems = "; ".join(checked.problems)
        return [
            Finding(
                Level.FAIL,
                subject,
                f"damaged (quick_check: {problems}): restore it from a backup or rebuild it "
                "(beholder nodes import, then beholder sync)",
            )
        ], []
    if checked.schema_version > SCHEMA_VERSION:
        return [
            Finding(
                Level.FAIL,
                subject,
                f"written by a newer Beholder (schema {checked.schema_version}, this one knows "
                f"{SCHEMA_VERSION}): run that version, or restore a backup",
            )
        ], []
    if not checked.current:  # opening it would upgrade it: left to the admin
        return [
            Finding(
                Level.WARN,
                subject,
                f"integrity ok, schema {checked.schema_version} of {SCHEMA_VERSION}: the next "
                "beholder command upgrades it (keep a copy first); its nodes and syncs are "
                "checked after that",
            )
        ], []
    found = [Finding(Level.OK, subject, f"integrity ok (quick_check), schema {SCHEMA_VERSION}")]
    try:
        with Inventory(db_path) as inventory:
            statuses = inventory.node_status()
    except BeholderError as exc:
        return [Finding(Level.FAIL, subject, words(exc))], []
    if not statuses:
        found.append(
            Finding(Level.FAIL, "nodes", "none in the inventory: beholder nodes import FILE.csv")
        )
    return found, statuses


def _sync_age(status: NodeStatus, settings: Settings, now: datetime) -> Finding:
    """How old the node's rows are: past twice the interval, nobody is re-syncing."""
    subject = f"sync {status.node.name}"
    if not status.synced_at:
        why = f" (last attempt: {status.sync_error})" if status.sync_error else ""
        return Finding(
            Level.FAIL,
            subject,
            f"never synced{why}: its subscribers cannot be found; run beholder sync",
        )
    age = sync_age_s(status.synced_at, now)
    if math.isinf(age):  # a stamp that is not ISO 8601
        return Finding(Level.WARN, subject, f"last sync stamped {status.synced_at!r}: run sync")
    bound = 2 * settings.sync_interval
    said = f"last good sync {_duration(age)} ago, {status.secrets} secrets"
    if age > bound:
        return Finding(
            Level.WARN,
            subject,
            f"{said}, more than twice BEHOLDER_SYNC_INTERVAL ({_duration(bound)}): new "
            "subscribers are missing; is beholder serve running? or run beholder sync",
        )
    if status.stale:
        return Finding(
            Level.WARN,
            subject,
            f"{said}; the last attempt failed ({status.sync_error}): see the node's line",
        )
    return Finding(Level.OK, subject, said)


def _duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    if whole < 86400:
        hours, minutes = divmod(whole // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(whole // 3600, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
