"""The operator's commands: ``sync``, ``consumo``, ``diag``, ``audit``, ``serve``, ``demo``.

Each function takes the parsed arguments and the settings and returns the exit
code; `bot.cli.main` parses and dispatches, and maps errors to one line.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import re
import sys
import time
from collections.abc import Callable

from bot.cli.progress import SyncProgress
from bot.cli.report import EXIT_FAILED, sync_report, table
from bot.config import Settings
from bot.domain.diagnose import DiagnosisService
from bot.domain.readings import ReadingService, clean_query
from bot.domain.sync import NodeSync, sync_nodes
from bot.errors import BeholderError, ConfigError
from bot.inventory.store import Inventory
from bot.model import Asker
from bot.present import diagnosis as diagnosis_texts
from bot.present import errors as error_texts
from bot.present import markup, numbers
from bot.present import reading as reading_texts
from bot.present.terminal import terminal
from bot.routeros.client import RouterClient

Handler = Callable[[argparse.Namespace, Settings], int]


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
        # The CLI reaches the routers too: its questions are audited like Slack's
        # (the row is written after the answer is printed, when the inventory closes).
        asker = _cli_asker()
        answer = asyncio.run(service.ask(user, asker))
        reading, error = answer.reading, answer.error
        if reading is not None:
            if args.json:
                print(_json_for_terminal(reading_texts.reading_json(reading)), flush=True)
            else:
                lines = reading_texts.reading_lines(reading, numbers.zone(settings.timezone))
                print("\n".join(lines), flush=True)
    return _ended(user, error)


def cmd_diag(args: argparse.Namespace, settings: Settings) -> int:
    """One reading, then why the link may feel slow: the last mile and the top flows."""
    user = clean_query(" ".join(args.query))
    settings.require_router_credentials()
    with Inventory(settings.db_path) as inventory:
        readings = ReadingService(inventory, RouterClient.from_settings(settings))
        service = DiagnosisService.from_settings(readings, settings)
        answer = asyncio.run(service.ask(user, _cli_asker()))
        reading, diagnosis = answer.shown, answer.diagnosis
        # A diagnosis that failed: the reading on the terminal, then why (one line
        # and the fault's exit code); `--json` prints nothing a script could take
        # for a diagnosis, only the error.
        if reading is not None and not (args.json and answer.diag_error):
            if args.json:
                data = diagnosis_texts.diagnosis_json(reading, diagnosis)
                print(_json_for_terminal(data), flush=True)
            else:
                lines = reading_texts.reading_lines(reading, numbers.zone(settings.timezone))
                if diagnosis is not None:
                    lines += diagnosis_texts.diagnosis_lines(diagnosis)
                print("\n".join(lines), flush=True)
    return _ended(user, answer.error or answer.diag_error)


def _cli_asker() -> Asker:
    """Who asks from this terminal, as the audit records it."""
    return Asker(None, f"cli:{getpass.getuser()}", "cli")


def _ended(user: str, error: BaseException | None) -> int:
    """How a question from the terminal ends: 0, our error's one line (raised to
    `main`), or one line for an error we did not expect (logged with its traceback)."""
    if isinstance(error, BeholderError):
        raise error
    if error is not None:
        print(f"beholder: {terminal(markup.plain(error_texts.unexpected(user)))}", file=sys.stderr)
        return EXIT_FAILED
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
        raise ConfigError(
            "--host and --port are for --http; in Socket Mode set BEHOLDER_HTTP_PORT "
            "(and BEHOLDER_HTTP_HOST) to serve /healthz and the HTTP API"
        )
    from bot.serve.socket_mode import serve  # Slack libraries load only when needed

    settings.require_slack()
    settings.require_router_credentials()
    asyncio.run(serve(settings))
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.demo import run_demo

    return run_demo(settings, slack=not args.no_slack)
