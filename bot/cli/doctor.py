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
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from bot import logs
from bot.cli.admin import check_nodes
from bot.cli.report import EXIT_FAILED
from bot.config import Settings, load_settings
from bot.errors import BeholderError, ConfigError, RouterError
from bot.inventory import health
from bot.inventory.files import shared_mode
from bot.inventory.schema import SCHEMA_VERSION
from bot.inventory.store import Inventory
from bot.model import Node, NodeCheck, NodeStatus, TlsMode
from bot.present import errors as error_texts
from bot.present import lang, markup
from bot.present.terminal import TERMINAL_LINE_LIMIT, terminal
from bot.routeros.client import RouterClient
from bot.routeros.tls import describe
from bot.slack import tokens

#: A certificate expiring sooner than this is a warning: time to renew it.
CERTIFICATE_NOTICE = timedelta(days=30)


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    """One check's outcome: one line of the report."""

    level: Level
    #: What was checked: ``settings``, ``slack bot token``, ``node bras-norte``…
    subject: str
    #: What was found and, unless ok, what to do.
    text: str


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
    remote = asyncio.run(_ask_remotes(settings, [s.node for s in statuses], now))
    found += remote.slack
    found += inventory
    found += [_sync_age(s, settings, now) for s in statuses]
    found += remote.nodes
    return found


def report(findings: Sequence[Finding]) -> str:
    """The lines, then how many of each level."""
    lines = [
        terminal(f"{f.level.value:<4}  {f.subject}: {f.text}", TERMINAL_LINE_LIMIT)
        for f in findings
    ]
    counts = {level: sum(f.level is level for f in findings) for level in Level}
    lines.append(", ".join(f"{counts[level]} {level.value}" for level in Level))
    return "\n".join(lines)


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
        return [Finding(Level.FAIL, subject, _words(exc))], []
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
        return [Finding(Level.FAIL, subject, _words(exc))], []
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
    try:
        synced = datetime.fromisoformat(status.synced_at)
    except ValueError:
        return Finding(Level.WARN, subject, f"last sync stamped {status.synced_at!r}: run sync")
    synced = synced if synced.tzinfo else synced.replace(tzinfo=UTC)
    age = max(0.0, (now - synced).total_seconds())
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


# -- Slack and the routers, asked at once ---------------------------------------------


@dataclass(frozen=True)
class _Remote:
    slack: list[Finding]
    nodes: list[Finding]


async def _ask_remotes(settings: Settings, nodes: list[Node], now: datetime) -> _Remote:
    slack, routers = await asyncio.gather(_slack(settings), _nodes(settings, nodes, now))
    return _Remote(slack, routers)


async def _slack(settings: Settings) -> list[Finding]:
    bot, app = await asyncio.gather(_bot_token(settings), _app_token(settings))
    return [*bot, *app]


async def _bot_token(settings: Settings) -> list[Finding]:
    subject, token = "slack bot token", settings.slack_bot_token
    if not token:
        return [
            Finding(
                Level.FAIL,
                subject,
                "SLACK_BOT_TOKEN is not set: serve cannot start; see Slack app setup in README",
            )
        ]
    if not token.startswith("xoxb-"):
        return [
            Finding(
                Level.FAIL,
                subject,
                "SLACK_BOT_TOKEN is not a bot token (xoxb-…): copy the Bot User OAuth Token "
                "from OAuth & Permissions",
            )
        ]
    answer = await tokens.check_bot_token(token, settings.slack_api_url)
    if not answer.reached:
        return [_unreached(subject, "auth.test", answer, settings)]
    if not answer.ok:
        return [
            Finding(
                Level.FAIL,
                subject,
                f"auth.test refused it: {answer.error}; copy the Bot User OAuth Token (xoxb-…) "
                "from OAuth & Permissions, or reinstall the app",
            )
        ]
    return [
        Finding(Level.OK, subject, f"auth.test ok: @{answer.user} in {answer.team}"),
        *_scopes(answer, settings),
    ]


async def _app_token(settings: Settings) -> list[Finding]:
    subject, token = "slack app token", settings.slack_app_token
    if not token and settings.slack_signing_secret:
        return [
            Finding(
                Level.OK,
                subject,
                "not set; HTTP mode (SLACK_SIGNING_SECRET): beholder serve --http",
            )
        ]
    if not token:
        return [
            Finding(
                Level.FAIL,
                subject,
                "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token with "
                "connections:write (Basic Information → App-Level Tokens); or set "
                "SLACK_SIGNING_SECRET and run beholder serve --http",
            )
        ]
    if not token.startswith("xapp-"):
        return [
            Finding(
                Level.FAIL,
                subject,
                "SLACK_APP_TOKEN is not an app-level token (xapp-…): generate one under "
                "Basic Information → App-Level Tokens",
            )
        ]
    answer = await tokens.check_app_token(token, settings.slack_api_url)
    if not answer.reached:
        return [_unreached(subject, "apps.connections.open", answer, settings)]
    if not answer.ok:
        return [
            Finding(
                Level.FAIL,
                subject,
                f"Socket Mode refused: {answer.error}; turn Socket Mode on in the app's "
                "settings and generate an app-level token with connections:write",
            )
        ]
    return [Finding(Level.OK, subject, "Socket Mode works (apps.connections.open accepted it)")]


def _unreached(subject: str, method: str, answer: tokens.TokenCheck, settings: Settings) -> Finding:
    return Finding(
        Level.FAIL,
        subject,
        f"{method} got no answer from {settings.slack_api_url} ({answer.error}): check that "
        "this machine reaches it (outbound HTTPS, proxy, DNS) and SLACK_API_URL",
    )


def _scopes(answer: tokens.TokenCheck, settings: Settings) -> list[Finding]:
    """The granted scopes against manifest.yml's: a missing one Beholder cannot do
    without fails, another is a warning, and so is one granted beyond them."""
    if answer.scopes is None:
        return [
            Finding(
                Level.WARN,
                "slack scopes",
                "Slack did not list the granted scopes (no x-oauth-scopes header): compare "
                "OAuth & Permissions with manifest.yml",
            )
        ]
    found = []
    gaps = tokens.scope_gaps(answer.scopes)
    needed = set(tokens.ESSENTIAL_SCOPES)
    if settings.allowed_usergroups:
        needed.add("usergroups:read")  # without it every group member is refused
    for scope in gaps.missing:
        level = Level.FAIL if scope in needed else Level.WARN
        found.append(
            Finding(
                level,
                f"slack scope {scope}",
                f"not granted, needed for {tokens.MANIFEST_BOT_SCOPES[scope]}: add it under "
                "OAuth & Permissions (or paste manifest.yml again) and reinstall the app",
            )
        )
    if gaps.extra:
        found.append(
            Finding(
                Level.WARN,
                "slack scopes",
                f"granted beyond manifest.yml: {', '.join(gaps.extra)}; Beholder does not use "
                "them: remove them and reinstall the app",
            )
        )
    if not gaps.missing and not gaps.extra:
        found.append(
            Finding(
                Level.OK,
                "slack scopes",
                f"the {len(tokens.MANIFEST_BOT_SCOPES)} manifest.yml asks for, and no more",
            )
        )
    return found


async def _nodes(settings: Settings, nodes: list[Node], now: datetime) -> list[Finding]:
    """Each node's line, and for the API-SSL ones that answered, their certificate's."""
    if not nodes:
        return []
    try:
        settings.require_router_credentials()
    except ConfigError as exc:
        return [Finding(Level.FAIL, "routers", f"{exc}: set them, then run doctor again")]
    router = RouterClient.from_settings(settings)
    results = await check_nodes(router, nodes)
    secure = [n for n, r in zip(nodes, results, strict=True) if n.tls and isinstance(r, NodeCheck)]
    certificates = await asyncio.gather(
        *(_certificate(router, n, now) for n in secure), return_exceptions=True
    )
    of_node = dict(zip((n.name for n in secure), certificates, strict=True))
    found = []
    for node, result in zip(nodes, results, strict=True):
        found.append(_node(node, result))
        certificate = of_node.get(node.name)
        if isinstance(certificate, BaseException) and not isinstance(certificate, RouterError):
            raise certificate
        if isinstance(certificate, RouterError):
            found.append(Finding(Level.WARN, f"certificate {node.name}", _words(certificate)))
        elif certificate is not None:
            found.append(certificate)
    return found


async def _certificate(router: RouterClient, node: Node, now: datetime) -> Finding:
    """How long the certificate `node` presents stays valid (a handshake, no login)."""
    subject = f"certificate {node.name}"
    der = await router.peer_certificate(node)
    try:
        info = describe(der)
    except ValueError as exc:
        return Finding(Level.WARN, subject, f"cannot be decoded ({exc})")
    until = info.not_after.strftime("%Y-%m-%d")
    who = "self-signed" if info.self_signed else f"issued by {info.issuer}"
    renew = (
        f"renew it on the router, then beholder nodes trust {node.name} --replace"
        if node.tls_fingerprint
        else "renew it from the CA that signs the routers' certificates"
    )
    if info.not_after <= now:
        return Finding(Level.WARN, subject, f"expired on {until} ({who}): {renew}")
    if info.not_after - now < CERTIFICATE_NOTICE:
        days = (info.not_after - now).days
        return Finding(Level.WARN, subject, f"expires on {until}, in {days} days ({who}): {renew}")
    return Finding(Level.OK, subject, f"valid until {until} ({who})")


def _node(node: Node, result: NodeCheck | RouterError) -> Finding:
    subject = f"node {node.name} ({node.host}:{node.port})"
    if isinstance(result, RouterError):
        return Finding(Level.FAIL, subject, _words(result))
    said = (
        f"RouterOS {result.version or '?'}, identity {result.identity or '?'}, "
        f"login {result.login_s * 1000:.0f} ms"
    )
    if node.tls is TlsMode.INSECURE:
        return Finding(
            Level.WARN,
            subject,
            f"{said}; API-SSL with the certificate NOT verified (tls=insecure): anyone "
            f"answering at its address gets the password; run beholder nodes trust {node.name}",
        )
    if node.tls is TlsMode.YES:
        how = "pinned" if node.tls_fingerprint else "signed by MIKROTIK_TLS_CA or the system"
        return Finding(Level.OK, subject, f"{said}; API-SSL, certificate verified ({how})")
    return Finding(Level.OK, subject, f"{said}; plain API (tls=no)")


def _words(exc: BeholderError) -> str:
    """A failure as the English catalog says it (what happened, what to do), on one line."""
    with lang.speaking("en"):
        return " ".join(markup.plain(error_texts.error(exc)).split())
