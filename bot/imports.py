"""Reading the files admins import: the nodes list and the management system's export.

Every row is validated before anything is written, and a problem names the
file and line, so a bad export never half-lands in the inventory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from bot.errors import InventoryError
from bot.inventory import Connection, Node
from bot.tls import TlsMode


def read_nodes_csv(path: str | Path) -> list[Node]:
    """Parse a nodes CSV (header ``name,host,port`` and optional ``tls``: ``no``,
    ``yes`` or ``insecure``, see `bot.tls`; ``false``/``true`` mean ``no``/``yes``).

    Validates every row before anything is written, and names the line at fault.
    """
    nodes: dict[str, Node] = {}
    for line, row in _csv_rows(path, {"name", "host", "port"}, "name,host,port (optionally tls)"):
        name, host, port_text = row.get("name", ""), row.get("host", ""), row.get("port", "")
        if not name or not host:
            raise InventoryError(f"{path}, line {line}: name and host are required")
        port = _int(port_text or "8728", path, line, "port")
        if not 1 <= port <= 65535:
            raise InventoryError(f"{path}, line {line}: port {port} is out of range")
        nodes[name] = Node(name, host, port, _tls(row.get("tls", ""), path, line))
    return list(nodes.values())


def read_connections_csv(path: str | Path) -> list[Connection]:
    """Parse the management system's export.

    Header: ``pppoe_user,customer_id,customer_name,plan_download_mbps,
    plan_upload_mbps,status``. Plans are decimal Mbps; empty means unknown.
    """
    required = {
        "pppoe_user",
        "customer_id",
        "customer_name",
        "plan_download_mbps",
        "plan_upload_mbps",
        "status",
    }
    connections: dict[str, Connection] = {}
    for line, row in _csv_rows(path, required, ",".join(sorted(required))):
        user = row["pppoe_user"]
        if not user:
            raise InventoryError(f"{path}, line {line}: pppoe_user is required")
        connections[user] = Connection(
            user,
            row["customer_id"],
            row["customer_name"],
            _mbps(row["plan_download_mbps"], path, line),
            _mbps(row["plan_upload_mbps"], path, line),
            row["status"],
        )
    return list(connections.values())


# -- helpers --------------------------------------------------------------------


def _csv_rows(
    path: str | Path, required: set[str], expected: str
) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        handle = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115
    except OSError as exc:
        raise InventoryError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        header = {h.strip().lower() for h in reader.fieldnames or ()}
        if not required <= header:
            got = ",".join(reader.fieldnames or ()) or "nothing"
            raise InventoryError(f"{path}: the header must be {expected}; got {got}")
        for row in reader:
            yield (
                reader.line_num,
                {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()},
            )


def _int(text: str, path: str | Path, line: int, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InventoryError(f"{path}, line {line}: {what} {text!r} is not a number") from None


def _mbps(text: str, path: str | Path, line: int) -> int | None:
    if not text:
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise InventoryError(f"{path}, line {line}: plan {text!r} is not a number") from None
    return round(value * 1_000_000)


def _tls(text: str, path: str | Path, line: int) -> TlsMode:
    try:
        return TlsMode.parse(text)
    except ValueError as exc:
        raise InventoryError(f"{path}, line {line}: {exc}") from None
