"""The ``beholder`` command.

Errors Beholder knows (`BeholderError`) end as one line on stderr and a
non-zero exit; never a traceback. Exit codes: 0 ok, 1 a router or sync
failure, 2 bad usage or configuration, 3 user or node not found.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from bot import __version__, logs
from bot.cli.progress import SyncProgress
from bot.cli.report import sync_report, table
from bot.config import Settings, load_settings
from bot.domain.readings import ReadingService, audit_entry, clean_query, outcome_of
from bot.domain.sync import NodeSync, sync_nodes
from bot.errors import (
    BeholderError,
    ConfigError,
    InputError,
    InventoryError,
    InventoryUnavailable,
    RouterCertificateError,
    RouterError,
)
from bot.inventory.imports import node_from_fields, read_connections_csv, read_nodes_csv
from bot.inventory.store import Inventory
from bot.model import AuditEntry, Node, NodeCheck, TlsMode
from bot.present import errors as error_texts
from bot.present import lang, markup, numbers
from bot.present import reading as reading_texts
from bot.present.terminal import TERMINAL_LINE_LIMIT, terminal
from bot.routeros.client import RouterClient
from bot.routeros.tls import describe, insecure_nodes, insecure_warning, shown_fingerprint
from bot.routeros.tls import fingerprint as sha256_fingerprint

EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND = 1, 2, 3
#: Most audit entries one `beholder audit` shows.
MAX_AUDIT_LIMIT = 100_000

Handler = Callable[[argparse.Namespace, Settings], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        settings = load_settings(args.env_file)
        lang.use(settings.lang)
        # One-shot commands keep stderr for errors; `serve` logs every event.
        level = settings.log_level if args.command == "serve" or args.verbose else "WARNING"
        logs.configure(level, settings.secrets, settings.log_format)
        return args.handler(args, settings)
    except BeholderError as exc:
        lines = markup.plain(error_texts.error(exc)).split("\n")  # the catalog's own line breaks
        message = "\n".join(terminal(line, TERMINAL_LINE_LIMIT) for line in lines)
        print(f"beholder: {message}", file=sys.stderr)
        return _exit_code(exc)
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beholder",
        description="Live PPPoE traffic from MikroTik routers, on demand (CLI and Slack bot).",
    )
    parser.add_argument("--version", action="version", version=f"beholder {__version__}")
    parser.add_argument(
        "--env-file", default=".env", help="dotenv file to read first (default: .env)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    nodes = commands.add_parser("nodes", help="manage the routers in the inventory")
    nodes_commands = nodes.add_subparsers(dest="nodes_command", metavar="ACTION", required=True)
    node_import = nodes_commands.add_parser("import", help="add or update nodes from a CSV file")
    node_import.add_argument("file", type=Path, help="CSV with header name,host,port[,tls]")
    _encoding_option(node_import)
    _allow_downgrade_option(node_import)
    node_import.set_defaults(handler=cmd_nodes_import)
    nodes_commands.add_parser(
        "list", help="show the nodes and how their last sync went"
    ).set_defaults(handler=cmd_nodes_list)
    node_add = nodes_commands.add_parser("add", help="add or update one node")
    node_add.add_argument("name", help="node name, e.g. bras-norte")
    node_add.add_argument("host", help="address of its RouterOS API")
    node_add.add_argument("--port", default=None, help="API port (8728; 8729 with --tls)")
    node_add.add_argument(
        "--tls",
        nargs="?",
        type=_tls_mode,
        const=TlsMode.YES,
        default=None,
        metavar="MODE",
        help="API-SSL: yes (the default with --tls: certificate verified against "
        "MIKROTIK_TLS_CA or a pin, see nodes trust), insecure (not verified), no (plain API); "
        "without --tls a node keeps its mode (a new one: no)",
    )
    _allow_downgrade_option(node_add)
    node_add.set_defaults(handler=cmd_nodes_add)
    node_remove = nodes_commands.add_parser("remove", help="forget a node and its secrets")
    node_remove.add_argument("name")
    node_remove.set_defaults(handler=cmd_nodes_remove)
    node_check = nodes_commands.add_parser(
        "check", help="log into each node: version, identity, API latency, PPPoE visibility"
    )
    node_check.add_argument("names", nargs="*", help="only these nodes (default: all)")
    node_check.set_defaults(handler=cmd_nodes_check)
    node_trust = nodes_commands.add_parser(
        "trust",
        help="show a node's API-SSL certificate and pin it (trust on first use)",
        description="Connect to the node's API-SSL without logging in, show its certificate "
        "(subject, validity, SHA-256 fingerprint) and, once confirmed, pin it: from then on "
        "the node (tls=yes) must present exactly that certificate.",
    )
    node_trust.add_argument("name")
    node_trust.add_argument(
        "--replace", action="store_true", help="replace a different certificate pinned before"
    )
    node_trust.add_argument(
        "--yes", action="store_true", help="pin without asking (needed when stdin is no terminal)"
    )
    node_trust.set_defaults(handler=cmd_nodes_trust)

    connections = commands.add_parser(
        "connections", help="the management system's export (customers and plans)"
    )
    connections_commands = connections.add_subparsers(
        dest="connections_command", metavar="ACTION", required=True
    )
    connections_import = connections_commands.add_parser(
        "import", help="replace the management-system data with a CSV export"
    )
    connections_import.add_argument(
        "file",
        type=Path,
        help="CSV: pppoe_user,customer_id,customer_name,plan_download_mbps,plan_upload_mbps,status",
    )
    _encoding_option(connections_import)
    connections_import.set_defaults(handler=cmd_connections_import)

    commands.add_parser(
        "sync", help="copy /ppp/secret from every node into the inventory"
    ).set_defaults(handler=cmd_sync)

    consumo = commands.add_parser("consumo", help="one live reading of a subscriber")
    consumo.add_argument(
        "query", nargs="+", help="PPPoE user, customer name or address fragment, IP or MAC"
    )
    consumo.add_argument("--json", action="store_true", help="print one JSON object")
    consumo.set_defaults(handler=cmd_consumo)

    audit = commands.add_parser("audit", help="who asked what, newest first")
    audit.add_argument("--since", type=_since, help="e.g. 24h, 7d, or a date: 2026-11-01")
    audit.add_argument("--user", help="only this Slack user id (e.g. U0123ABCD)")
    audit.add_argument(
        "--limit",
        type=_whole_number(1, MAX_AUDIT_LIMIT),
        default=200,
        help=f"most entries shown (200; at most {MAX_AUDIT_LIMIT:,})",
    )
    audit.set_defaults(handler=cmd_audit)

    serve = commands.add_parser("serve", help="run the Slack app (Socket Mode; HTTP with --http)")
    serve.add_argument(
        "--http",
        action="store_true",
        help="receive Slack's requests over HTTP instead of Socket Mode "
        "(needs SLACK_SIGNING_SECRET; Request URL: /slack/events)",
    )
    serve.add_argument(
        "--host", default=None, help="with --http: address to listen on (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=_port, default=None, help="with --http: port to listen on (default 3000)"
    )
    serve.set_defaults(handler=cmd_serve)

    demo = commands.add_parser(
        "demo", help="try it all on a built-in router simulator (no routers or Slack needed)"
    )
    demo.add_argument(
        "--no-slack", action="store_true", help="do not serve Slack even if tokens are set"
    )
    demo.set_defaults(handler=cmd_demo)
    return parser


# -- commands -----------------------------------------------------------------------


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

    async def check_all() -> list[NodeCheck | RouterError]:
        results = await asyncio.gather(*(router.check(n) for n in nodes), return_exceptions=True)
        for r in results:
            if not isinstance(r, NodeCheck | RouterError):
                raise r
        return results  # type: ignore[return-value]

    rows = [("NODE", "ADDRESS", "STATUS", "ROUTEROS", "IDENTITY", "LOGIN", "PPPOE SESSIONS")]
    failed = []
    for node, result in zip(nodes, asyncio.run(check_all()), strict=True):
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


def _tls_mode(text: str) -> TlsMode:
    try:
        return TlsMode.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_router_credentials()
    with Inventory(settings.db_path) as inventory:
        nodes = inventory.nodes()
        if not nodes:
            raise ConfigError("the inventory has no nodes: run beholder nodes import FILE.csv")
        router = RouterClient.from_settings(settings)
        zone = numbers.zone(settings.timezone)

        async def run() -> list[NodeSync]:
            async with SyncProgress(sys.stderr, len(nodes), zone) as progress:
                return await sync_nodes(
                    inventory, router, nodes, settings.sync_concurrency, on_result=progress.update
                )

        started = time.monotonic()
        results = asyncio.run(run())
        elapsed = time.monotonic() - started
    print(sync_report(results, zone, elapsed))
    failed = [r for r in results if not r.ok]
    if failed:
        names = terminal(", ".join(r.node for r in failed))
        print(f"beholder: sync failed for {names}; their previous rows were kept", file=sys.stderr)
        return EXIT_FAILED
    return 0


def cmd_consumo(args: argparse.Namespace, settings: Settings) -> int:
    user = clean_query(" ".join(args.query))
    settings.require_router_credentials()
    with Inventory(settings.db_path) as inventory:
        service = ReadingService(inventory, RouterClient.from_settings(settings))
        started = time.monotonic()
        reading, error = None, None
        try:
            reading = asyncio.run(service.read(user))
        except BeholderError as exc:
            error = exc
        # The CLI reaches the routers too: its questions are audited like Slack's
        # (the row is written after the answer is printed, when the inventory closes).
        inventory.audit_later(
            audit_entry(
                user,
                outcome_of(reading, error),
                reading,
                error,
                channel=f"cli:{getpass.getuser()}",
                source="cli",
                latency_ms=round((time.monotonic() - started) * 1000),
            )
        )
        if reading is not None:
            if args.json:
                print(_json_for_terminal(reading_texts.reading_json(reading)), flush=True)
            else:
                lines = reading_texts.reading_lines(reading, numbers.zone(settings.timezone))
                print("\n".join(lines), flush=True)
    if error is not None:
        raise error
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    with Inventory(settings.db_path) as inventory:
        entries = inventory.audit(args.since, args.user, args.limit)
    if not entries:
        print("No audit entries match.")
        return 0
    rows = [("TIME (UTC)", "USER", "CHANNEL", "SOURCE", "ASKED", "PPPOE", "NODE", "OUTCOME", "MS")]
    rows += [
        (
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            e.slack_user,
            e.channel,
            e.source,
            e.query if len(e.query) <= 40 else e.query[:39] + "…",
            e.pppoe_user,
            e.node,
            e.outcome,
            str(e.latency_ms),
        )
        for e in entries
    ]
    print(table(rows))
    return 0


#: What JSON leaves raw in a string but a terminal obeys: DEL, C1, and Unicode's
#: format characters (bidi overrides, zero-width), lone surrogates; JSON escapes C0.
_JSON_UNSAFE = re.compile(
    "[\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ud800-\udfff]"
)


def _json_for_terminal(value: object) -> str:
    """`value` as one JSON object, with what a terminal would obey as ``\\uXXXX``.

    Those characters can only stand inside JSON strings, where ``\\uXXXX`` means
    the same character: a program reading the output gets the same data.
    """
    text = json.dumps(value, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def _since(text: str) -> datetime:
    """``24h``, ``7d``, ``30m`` ago, or an ISO date/time (UTC)."""
    units = {"m": 60, "h": 3600, "d": 86400}
    text = text.strip()
    if text[-1:] in units and text[:-1].isascii() and text[:-1].isdigit():
        try:
            return datetime.now(UTC) - timedelta(seconds=int(text[:-1]) * units[text[-1]])
        except OverflowError:  # 99999999999d: before year 1
            raise argparse.ArgumentTypeError(f"{text!r} is too far back") from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not like 24h, 7d or 2026-11-01") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if args.http:
        from bot.serve.http import DEFAULT_HOST, DEFAULT_PORT, serve_http

        settings.require_slack_http()
        settings.require_router_credentials()
        host = args.host or DEFAULT_HOST
        port = DEFAULT_PORT if args.port is None else args.port
        asyncio.run(serve_http(settings, host, port))
        return 0
    if args.host is not None or args.port is not None:
        raise ConfigError("--host and --port are for --http (Socket Mode listens on no port)")
    from bot.serve.socket_mode import serve  # Slack libraries load only when needed

    settings.require_slack()
    settings.require_router_credentials()
    asyncio.run(serve(settings))
    return 0


def _port(text: str) -> int:
    """A TCP port for --port; 0 picks a free one (the log says which)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not between 0 and 65535")
    return port


def _whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in low..high, else a clear usage error
    (``int`` alone takes ``99999999999999999999`` and SQLite then overflows)."""

    def whole(text: str) -> int:
        text = text.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
            if text.isascii() and text.isdigit():
                raise argparse.ArgumentTypeError(f"{text[:30]} is not between {low} and {high:,}")
            raise argparse.ArgumentTypeError(f"{text[:30]!r} is not a whole number")
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high:,}")
        return value

    return whole


def _allow_downgrade_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-downgrade",
        action="store_true",
        help="let tls=no turn API-SSL off for a node that uses it (its password then "
        "travels in clear); without it that is refused",
    )


def _encoding_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--encoding",
        default=None,
        help="the file's encoding (utf-8, cp1252, latin-1...); "
        "default: UTF-8 if it is valid UTF-8, else cp1252/Latin-1",
    )


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.demo import run_demo

    return run_demo(settings, slack=not args.no_slack)


# -- helpers --------------------------------------------------------------------------


def _exit_code(exc: BeholderError) -> int:
    if isinstance(exc, InventoryUnavailable):
        return EXIT_FAILED
    if isinstance(exc, ConfigError | InputError):
        return EXIT_USAGE
    if isinstance(exc, InventoryError):
        return EXIT_NOT_FOUND
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
