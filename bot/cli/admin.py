"""``beholder nodes`` and ``beholder connections``: the admin's side of the inventory.

Adding, listing, checking and trusting routers (``nodes trust`` shows a router's
certificate and pins it), and importing the management system's export. Each
function takes the parsed arguments and the settings and returns the exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from bot.cli.report import EXIT_FAILED, table
from bot.config import Settings
from bot.errors import (
    ConfigError,
    RouterCertificateError,
    RouterError,
)
from bot.inventory.imports import node_from_fields, read_connections_csv, read_nodes_csv
from bot.inventory.store import Inventory
from bot.model import AuditEntry, Node, NodeCheck, TlsMode, shown_fingerprint
from bot.present import numbers
from bot.present.terminal import TERMINAL_LINE_LIMIT, terminal
from bot.routeros.client import RouterClient
from bot.routeros.tls import describe, insecure_nodes, insecure_warning
from bot.routeros.tls import fingerprint as sha256_fingerprint

Handler = Callable[[argparse.Namespace, Settings], int]


def cmd_nodes_import(args: argparse.Namespace, settings: Settings) -> int:
    nodes = read_nodes_csv(args.file, args.encoding)
    with Inventory(settings.db_path) as inventory:
        count = inventory.upsert_nodes(nodes.rows, args.allow_downgrade)
    print(f"{count} node(s) imported into {settings.db_path} (read as {nodes.encoding})")
    return 0


def cmd_nodes_list(args: argparse.Namespace, settings: Settings) -> int:
    with Inventory(settings.db_path) as inventory:
        statuses = inventory.node_status()
    if not statuses:
        print("No nodes yet: beholder nodes import FILE.csv")
        return 0
    rows = [("NODE", "HOST", "PORT", "TLS", "SECRETS", "LAST SYNC")]
    for st in statuses:
        n = st.node
        synced = st.synced_at or "never"
        if st.stale:
            synced = f"STALE since {st.synced_at or 'never'} ({st.sync_error})"
        rows.append((n.name, n.host, str(n.port), _tls_shown(n), str(st.secrets), synced))
    print(table(rows))
    return 0


def cmd_nodes_add(args: argparse.Namespace, settings: Settings) -> int:
    with Inventory(settings.db_path) as inventory:
        known = {n.name: n for n in inventory.nodes()}.get(args.name)
        tls = args.tls if args.tls is not None else known.tls if known else TlsMode.NO
        port = args.port or str(8729 if tls else 8728)
        added = node_from_fields(args.name, args.host, port, tls.value)  # as a CSV row
        inventory.upsert_nodes([added], args.allow_downgrade)
        node = inventory.node(args.name)
    shown = f"{terminal(node.name)} → {terminal(node.host)}:{node.port}"
    print(f"node {shown} (tls={_tls_shown(node)})")
    if node.tls is TlsMode.INSECURE:
        warning = terminal(insecure_warning([node.name]), TERMINAL_LINE_LIMIT)
        print(f"beholder: WARNING: {warning}", file=sys.stderr)
    return 0


def cmd_nodes_remove(args: argparse.Namespace, settings: Settings) -> int:
    with Inventory(settings.db_path) as inventory:
        removed = inventory.remove_node(args.name)
    print(f"node {terminal(args.name)} removed, with its {removed} secret(s)")
    return 0


def cmd_nodes_check(args: argparse.Namespace, settings: Settings) -> int:
    with Inventory(settings.db_path) as inventory:
        nodes = [n for n in inventory.nodes() if not args.names or n.name in args.names]
    unknown = set(args.names) - {n.name for n in nodes}
    if unknown:
        raise ConfigError(f"no such node(s): {', '.join(sorted(unknown))}")
    if not nodes:
        raise ConfigError("the inventory has no nodes: run beholder nodes import FILE.csv")
    settings.require_router_credentials()
    router = RouterClient.from_settings(settings)
    insecure = insecure_nodes(nodes)
    if insecure:
        warning = terminal(insecure_warning(insecure), TERMINAL_LINE_LIMIT)
        print(f"beholder: WARNING: {warning}", file=sys.stderr)

    rows = [("NODE", "ADDRESS", "STATUS", "ROUTEROS", "IDENTITY", "LOGIN", "PPPOE SESSIONS")]
    failed = []
    for node, result in zip(nodes, asyncio.run(check_nodes(router, nodes)), strict=True):
        address = f"{node.host}:{node.port}{f' tls={_tls_shown(node)}' if node.tls else ''}"
        if isinstance(result, RouterError):
            failed.append(node.name)
            status = f"FAILED: {type(result).__name__} {result.detail}".strip()
            rows.append((node.name, address, status, "", "", "", ""))
            continue
        visible = "not visible" if result.pppoe_sessions is None else str(result.pppoe_sessions)
        rows.append(
            (
                node.name,
                address,
                "ok",
                result.version,
                result.identity,
                f"{result.login_s * 1000:.0f} ms",
                visible,
            )
        )
    print(table(rows))
    if failed:
        print(f"beholder: cannot use {terminal(', '.join(failed))}", file=sys.stderr)
        return EXIT_FAILED
    return 0


async def check_nodes(router: RouterClient, nodes: list[Node]) -> list[NodeCheck | RouterError]:
    """`RouterClient.check` on every node at once: what each says, or how it failed
    (for ``nodes check`` and ``doctor``). Anything but a `RouterError` is raised."""
    results = await asyncio.gather(*(router.check(n) for n in nodes), return_exceptions=True)
    for r in results:
        if not isinstance(r, NodeCheck | RouterError):
            raise r
    return results  # type: ignore[return-value]


def cmd_nodes_trust(args: argparse.Namespace, settings: Settings) -> int:
    """Trust on first use: show the certificate, pin it once confirmed.

    Only a TLS handshake: no ``/login`` is sent, so no credentials are needed and
    none reach whoever answers. Confirmed on the terminal (or by ``--yes``) and
    written to the audit like the CLI's other router actions.
    """
    with Inventory(settings.db_path) as inventory:
        node = inventory.node(args.name)
        if not node.tls:
            raise ConfigError(
                f"node {node.name} uses the plain API (tls=no), which has no certificate: "
                f"beholder nodes add {node.name} {node.host} --tls [--port N] first"
            )
        router = RouterClient.from_settings(settings)
        der = asyncio.run(router.peer_certificate(node))
        presented = sha256_fingerprint(der)
        print(certificate_report(node, der, numbers.zone(settings.timezone)))
        name = terminal(node.name)
        if node.tls_fingerprint == presented:
            if node.tls is not TlsMode.YES:
                inventory.pin_certificate(node.name, presented)
            print(f"{name}: this certificate is already pinned (tls=yes)")
            return 0
        if node.tls_fingerprint and not args.replace:
            raise RouterCertificateError(
                node.name,
                "certificate is not the pinned one",
                pinned=node.tls_fingerprint,
                presented=presented,
            )
        question = f"Pin this certificate for {name}"
        if node.tls_fingerprint:
            question += f", replacing {shown_fingerprint(node.tls_fingerprint)}"
        if not args.yes and not _confirm(question + "? [y/N] "):
            print("Nothing pinned.")
            return EXIT_FAILED
        inventory.pin_certificate(node.name, presented)
        inventory.record_audit(
            AuditEntry(
                at=datetime.now(UTC),
                query=f"nodes trust {node.name}" + (" --replace" if node.tls_fingerprint else ""),
                outcome="replaced" if node.tls_fingerprint else "pinned",
                channel=f"cli:{getpass.getuser()}",
                source="cli",
                node=node.name,
            )
        )
    print(f"{name}: pinned; from now on it must present exactly this certificate (tls=yes)")
    return 0


def certificate_report(node: Node, der: bytes, zone: tzinfo = UTC) -> str:
    """What ``nodes trust`` shows: subject, issuer, validity and SHA-256.

    The subject and issuer are whatever the peer wrote, and the peer may be the
    impostor the operator is checking for: they pass through `terminal`, so
    no control character in them can draw over the real fingerprint.
    """
    lines = [f"{terminal(node.name)} ({terminal(node.host)}:{node.port}) presents:"]
    try:
        info = describe(der)
    except ValueError as exc:
        lines.append(f"  (the certificate could not be decoded: {terminal(exc)})")
    else:
        now = datetime.now(UTC)
        validity = f"{_stamp(info.not_before, zone)} → {_stamp(info.not_after, zone)}"
        if now > info.not_after:
            validity += "  EXPIRED"
        elif now < info.not_before:
            validity += "  NOT YET VALID"
        issuer = "itself (self-signed)" if info.self_signed else terminal(info.issuer)
        lines += [
            f"  subject    {terminal(info.subject)}",
            f"  issuer     {issuer}",
            f"  valid      {validity}",
        ]
    presented = sha256_fingerprint(der)
    lines += [
        f"  SHA-256    {shown_fingerprint(presented)}",
        f"             {presented}",
        "Compare it with the router's own fingerprint (/certificate print detail, on its "
        "console) before pinning: this is what anyone answering at that address presents.",
    ]
    return "\n".join(lines)


def _stamp(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _confirm(question: str) -> bool:
    """A yes/no question on the terminal; without one, ask for ``--yes``."""
    if not sys.stdin.isatty():
        raise ConfigError("stdin is not a terminal: pass --yes to pin without a question")
    answer = input(question).strip().lower()
    return answer in {"y", "yes", "s", "si", "sí"}


def _tls_shown(node: Node) -> str:
    """``no``, ``insecure``, ``yes`` or ``yes (pinned)``."""
    if node.tls is TlsMode.YES and node.tls_fingerprint:
        return "yes (pinned)"
    return node.tls.value


def cmd_connections_import(args: argparse.Namespace, settings: Settings) -> int:
    imported = read_connections_csv(args.file, args.encoding)
    connections = imported.rows
    with Inventory(settings.db_path) as inventory:
        count = inventory.replace_connections(connections, datetime.now(UTC))
        unknown = sum(1 for c in connections if not inventory.locate(c.pppoe_user))
    print(f"{count} connection(s) imported into {settings.db_path} (read as {imported.encoding})")
    if unknown:
        print(f"{unknown} of them name a PPPoE user that no synced router has")
    return 0
