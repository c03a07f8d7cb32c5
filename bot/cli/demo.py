"""``beholder demo``: the whole job on a built-in RouterOS simulator.

Starts simulated routers on loopback, a throw-away inventory, syncs it, and
shows what Beholder would post in Slack for a handful of typical questions and
two diagnoses, rendered in the terminal. With Slack tokens configured it then serves Slack
against the same simulated network until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot import logs
from bot.cli.report import sync_report
from bot.config import Settings
from bot.domain.diagnose import DiagnosisService
from bot.domain.live_registry import LiveRegistry
from bot.domain.readings import ReadingService, clean_query
from bot.domain.sync import sync_nodes
from bot.errors import InputError
from bot.inventory.store import Inventory
from bot.model import Asker, Connection, Node
from bot.present import markup, numbers
from bot.present.lang import t
from bot.present.terminal import TERMINAL_LINE_LIMIT, terminal
from bot.routeros.client import RouterClient
from bot.sim.model import demo_network
from bot.sim.network import SimNetwork
from bot.slack import blocks
from bot.slack.replies import Deps, consult, diagnose

#: What an operator might type, and why it is in the demo.
QUESTIONS = (
    ("juan.perez", "a subscriber saturating a 50/10 plan"),
    ("maria.gomez", "low use; the management system sells another plan"),
    ("20513", "a numeric PPPoE name, suspended in the management system"),
    ("ana.martinez", "configured on two routers (a migration)"),
    ("carlos.lopez", "offline: last logout, reason and MAC from the router"),
    ("sofia.acuna", "no dynamic queue (plan unknown), not linked to a customer"),
    ("100.64.20.40", "an IP from a ticket"),
    ("gomez belgrano", "a customer name and street from the secret's comment"),
    ("juan.peres", "a typo: close names are suggested"),
    ("", "empty input: usage"),
)

#: Diagnoses (``/consumo USER diag``): each pings and torches for a few seconds.
DIAGNOSES = (
    ("martin.benitez", "a lossy last mile: 30 % of the pings lost, 45 ms"),
    ("lucas.moreno", "a saturated link, most of it one RTMP stream"),
)

#: A small export of the management system (ISPCube in ADR-005).
MANAGEMENT_EXPORT = (
    Connection("juan.perez", "1001", "Juan Pérez", 50_000_000, 10_000_000, "activo"),
    Connection("maria.gomez", "1002", "María Gómez", 300_000_000, 30_000_000, "activo"),
    Connection("20513", "1003", "Lucía Fernández", 30_000_000, 6_000_000, "suspendido"),
    Connection("ana.martinez", "1004", "Ana Martínez", 50_000_000, 10_000_000, "activo"),
    Connection("carlos.lopez", "1005", "Carlos López", 30_000_000, 6_000_000, "activo"),
    Connection("jorge.rodriguez", "2001", "Ferretería El Ñandú", 200_000_000, 50_000_000, "activo"),
)
DEMO_OPERATOR = "U0DEMO"


def run_demo(settings: Settings, slack: bool = True) -> int:
    configs = demo_network()
    network = SimNetwork(configs)
    ports = network.start()
    try:
        with tempfile.TemporaryDirectory(prefix="beholder-demo-") as tmp:
            demo_settings = replace(
                settings,
                db_path=Path(tmp) / "demo.db",
                mikrotik_user=configs[0].username,
                mikrotik_password=configs[0].password,
                tls_ca_file=None,
            )
            nodes = [Node(c.name, "127.0.0.1", ports[c.name], c.tls) for c in configs]
            with Inventory(demo_settings.db_path) as inventory:
                inventory.upsert_nodes(nodes)
                inventory.replace_connections(MANAGEMENT_EXPORT, datetime.now(UTC))
                serve_slack = slack and bool(settings.slack_bot_token and settings.slack_app_token)
                return asyncio.run(_main(demo_settings, inventory, nodes, serve_slack))
    finally:
        network.stop()


async def _main(settings: Settings, inventory: Inventory, nodes: list[Node], slack: bool) -> int:
    router = RouterClient.from_settings(settings)
    _say(f"Simulated routers on loopback: {', '.join(f'{n.name}:{n.port}' for n in nodes)}")
    _say("$ beholder sync")
    print(sync_report(await sync_nodes(inventory, router, nodes)))
    readings = ReadingService(inventory, router)
    deps = Deps(
        readings,
        numbers.zone(settings.timezone),
        LiveRegistry.from_settings(settings),
        DiagnosisService.from_settings(readings, settings),
    )
    for text, why in QUESTIONS:
        _say(f"/consumo {text}".rstrip() + f"    # {why}")
        try:
            user = clean_query(text)
        except InputError as exc:
            print(render(blocks.error_message(exc), ephemeral=True))
            continue
        reply = await consult(deps, user, Asker(DEMO_OPERATOR, "demo", "command"))
        print(render(reply.message, ephemeral=not reply.public))
    # Both at once (they are on different routers): a few seconds, not twice that.
    diagnosed = await asyncio.gather(
        *(diagnose(deps, user, Asker(DEMO_OPERATOR, "demo", "command")) for user, _ in DIAGNOSES)
    )
    for (user, why), reply in zip(DIAGNOSES, diagnosed, strict=True):
        _say(f"/consumo {user} diag    # {why}")
        print(render(reply.message, ephemeral=not reply.public))
    if not slack:
        _say(
            "Set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (see README) and run "
            "`beholder demo` again to ask these routers from Slack."
        )
        return 0
    from bot.serve.socket_mode import serve

    settings.require_slack()
    logs.configure(settings.log_level, settings.secrets, settings.log_format)
    _say("Serving Slack against the simulated routers; try /consumo juan.perez. Ctrl-C stops.")
    await serve(settings, router)
    return 0


# -- a terminal rendering of a Slack message ------------------------------------------------

_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_USER = re.compile(r"<@(\w+)>")
_EMOJI = {
    ":warning:": "⚠",
    ":x:": "✖",
    ":grey_question:": "?",
    ":no_entry:": "⛔",
    ":mag:": "🔎",
    ":stethoscope:": "🩺",
    ":information_source:": "ℹ",
}


def render(message: dict[str, Any], ephemeral: bool = False) -> str:
    """Roughly what Slack shows for `message`: enough to judge the reply."""
    lines: list[str] = []
    if ephemeral:
        lines.append("  " + t("term.only_you"))
    for block in message.get("blocks") or [{"type": "section", "text": {"text": message["text"]}}]:
        kind = block["type"]
        if kind == "header":
            lines.append("  " + block["text"]["text"])
        elif kind == "section" and "fields" in block:
            for item in block["fields"]:
                title, _, value = item["text"].partition("\n")
                lines.append(
                    f"    {_clean(title) + ':':<20} {_clean(value).replace(chr(10), '  ')}"
                )
        elif kind == "section":
            lines += ["  " + _clean(line) for line in block["text"]["text"].splitlines()]
            if "accessory" in block:
                lines[-1] += f"   [ {block['accessory']['text']['text']} ]"
        elif kind == "context":
            lines.append("  " + " ".join(_clean(e["text"]) for e in block["elements"]))
        elif kind == "actions":
            lines.append("  " + " ".join(f"[ {e['text']['text']} ]" for e in block["elements"]))
    # Values in the messages came from routers and CSVs: shown, never obeyed.
    return "\n".join(terminal(line, TERMINAL_LINE_LIMIT) for line in lines)


def _clean(text: str) -> str:
    text = _DATE.sub(r"\1", text)
    text = _USER.sub(
        lambda m: t("term.operator") if m.group(1) == DEMO_OPERATOR else "@" + m.group(1), text
    )
    for code, symbol in _EMOJI.items():
        text = text.replace(code, symbol)
    return markup.plain(text)  # drops bold markers, decodes markup.literal's entities


def _say(line: str) -> None:
    print(f"\n{line}", file=sys.stdout, flush=True)
