"""The ``beholder`` command.

Errors Beholder knows (`BeholderError`) end as one line on stderr and a
non-zero exit; never a traceback. Exit codes: 0 ok, 1 a router or sync
failure, 2 bad usage or configuration, 3 user or node not found.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import __version__, logs
from bot.cli import admin, commands
from bot.cli.report import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_USAGE
from bot.config import Settings, load_settings
from bot.errors import (
    BeholderError,
    ConfigError,
    InputError,
    InventoryError,
    InventoryUnavailable,
)
from bot.model import TlsMode
from bot.present import errors as error_texts
from bot.present import lang, markup
from bot.present.terminal import TERMINAL_LINE_LIMIT, terminal

#: Most audit entries one `beholder audit` shows.
MAX_AUDIT_LIMIT = 100_000

Handler = Callable[[argparse.Namespace, Settings], int]


def _doctor(args: argparse.Namespace) -> int:
    """``beholder doctor``, imported when asked for: it brings Slack's web client
    (slack_sdk, aiohttp), which would add some 0.3 s to every other command."""
    from bot.cli import doctor

    return doctor.cmd_doctor(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        if args.handler is _doctor:
            return _doctor(args)  # settings that do not parse are one of its findings
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
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")

    nodes = subcommands.add_parser("nodes", help="manage the routers in the inventory")
    nodes_commands = nodes.add_subparsers(dest="nodes_command", metavar="ACTION", required=True)
    node_import = nodes_commands.add_parser("import", help="add or update nodes from a CSV file")
    node_import.add_argument("file", type=Path, help="CSV with header name,host,port[,tls]")
    _encoding_option(node_import)
    _allow_downgrade_option(node_import)
    node_import.set_defaults(handler=admin.cmd_nodes_import)
    nodes_commands.add_parser(
        "list", help="show the nodes and how their last sync went"
    ).set_defaults(handler=admin.cmd_nodes_list)
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
    node_add.set_defaults(handler=admin.cmd_nodes_add)
    node_remove = nodes_commands.add_parser("remove", help="forget a node and its secrets")
    node_remove.add_argument("name")
    node_remove.set_defaults(handler=admin.cmd_nodes_remove)
    node_check = nodes_commands.add_parser(
        "check", help="log into each node: version, identity, API latency, PPPoE visibility"
    )
    node_check.add_argument("names", nargs="*", help="only these nodes (default: all)")
    node_check.set_defaults(handler=admin.cmd_nodes_check)
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
    node_trust.set_defaults(handler=admin.cmd_nodes_trust)

    connections = subcommands.add_parser(
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
    connections_import.set_defaults(handler=admin.cmd_connections_import)

    subcommands.add_parser(
        "sync", help="copy /ppp/secret from every node into the inventory"
    ).set_defaults(handler=commands.cmd_sync)

    consumo = subcommands.add_parser("consumo", help="one live reading of a subscriber")
    consumo.add_argument(
        "query", nargs="+", help="PPPoE user, customer name or address fragment, IP or MAC"
    )
    consumo.add_argument("--json", action="store_true", help="print one JSON object")
    consumo.set_defaults(handler=commands.cmd_consumo)

    diag = subcommands.add_parser(
        "diag", help="a reading, then the last mile (ping) and the top flows (torch)"
    )
    diag.add_argument("query", nargs="+", help="PPPoE user, customer name, IP or MAC")
    diag.add_argument("--json", action="store_true", help="print one JSON object")
    diag.set_defaults(handler=commands.cmd_diag)

    audit = subcommands.add_parser("audit", help="who asked what, newest first")
    audit.add_argument("--since", type=_since, help="e.g. 24h, 7d, or a date: 2026-11-01")
    audit.add_argument("--user", help="only this Slack user id (e.g. U0123ABCD)")
    audit.add_argument(
        "--limit",
        type=_whole_number(1, MAX_AUDIT_LIMIT),
        default=200,
        help=f"most entries shown (200; at most {MAX_AUDIT_LIMIT:,})",
    )
    audit.set_defaults(handler=commands.cmd_audit)

    serve = subcommands.add_parser(
        "serve", help="run the Slack app (Socket Mode; HTTP with --http)"
    )
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
    serve.set_defaults(handler=commands.cmd_serve)

    subcommands.add_parser(
        "doctor",
        help="check settings, files, Slack tokens and scopes, the inventory and every node",
        description="One line per check (ok, warn or fail) saying what to do; "
        "exit code 1 when any check fails.",
    ).set_defaults(handler=_doctor)

    demo = subcommands.add_parser(
        "demo", help="try it all on a built-in router simulator (no routers or Slack needed)"
    )
    demo.add_argument(
        "--no-slack", action="store_true", help="do not serve Slack even if tokens are set"
    )
    demo.set_defaults(handler=commands.cmd_demo)
    return parser


# -- commands -----------------------------------------------------------------------


def _tls_mode(text: str) -> TlsMode:
    try:
        return TlsMode.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
