"""Reading the files admins import: the nodes list and the management system's export.

All or nothing: every row is checked before anything is written, and a file
with bad rows is refused whole, with one line per bad row (its line number and
what is wrong: wrong field count, a bad number, ``inf``/``nan``, an unknown
status), so a bad export never half-lands in the inventory.

Files come from other systems, so everything is bounded: at most
`MAX_FILE_BYTES` read, `MAX_ROWS` rows, `MAX_FIELD` characters a field. The
encoding is detected unless given: strict UTF-8 (with or without BOM), else
the Windows export's cp1252, else Latin-1 (which reads any byte); the caller is
told which was used.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from bot.errors import InventoryError
from bot.inventory.keys import fold
from bot.model import SUSPENDED_STATUSES, Connection, Node, TlsMode

T = TypeVar("T")

#: Largest file read: a management-system export of 100,000 customers is ~10 MB.
MAX_FILE_BYTES = 32 * 1024 * 1024
#: Most data rows in one file.
MAX_ROWS = 500_000
#: Longest field, in characters (names, hosts, customer names).
MAX_FIELD = 255
#: Bad rows listed one per line; the rest are counted.
MAX_SHOWN = 20
#: Largest plan accepted, Mbps (100 Gbps): anything above is a typo.
MAX_PLAN_MBPS = 100_000

#: Management-system statuses of a customer in good standing (the suspended
#: ones are `bot.model.SUSPENDED_STATUSES`); anything else is a bad row.
ACTIVE_STATUSES = frozenset({"activo", "active", "habilitado", "alta", "conectado", "normal"})
KNOWN_STATUSES = ACTIVE_STATUSES | SUSPENDED_STATUSES


@dataclass(frozen=True)
class Imported(Generic[T]):
    """The rows of an imported file, and the encoding it was read with."""

    rows: list[T]
    encoding: str


def read_nodes_csv(path: str | Path, encoding: str | None = None) -> Imported[Node]:
    """Parse a nodes CSV (header ``name,host,port`` and optional ``tls``: ``no``,
    ``yes`` or ``insecure``, see `bot.routeros.tls`; ``false``/``true`` mean ``no``/``yes``;
    blank: an existing node keeps its mode, a new one gets ``no``)."""
    text, used = read_text(path, encoding)
    return Imported(nodes_from_text(text, str(path)), used)


def read_connections_csv(path: str | Path, encoding: str | None = None) -> Imported[Connection]:
    """Parse the management system's export.

    Header: ``pppoe_user,customer_id,customer_name,plan_download_mbps,
    plan_upload_mbps,status``. Plans are decimal Mbps; empty means unknown.
    """
    text, used = read_text(path, encoding)
    return Imported(connections_from_text(text, str(path)), used)


NODE_COLUMNS = ("name", "host", "port")
CONNECTION_COLUMNS = (
    "pppoe_user",
    "customer_id",
    "customer_name",
    "plan_download_mbps",
    "plan_upload_mbps",
    "status",
)


def nodes_from_text(text: str, source: str) -> list[Node]:
    """The nodes in a CSV text, or `InventoryError` listing every bad row (a name
    given twice is a bad row too: which host would be meant?)."""
    expected = "name,host,port (optionally tls)"
    return _rows(text, source, NODE_COLUMNS, expected, _node, unique="name")


def node_from_fields(name: str, host: str, port: str, tls: str = "") -> Node:
    """One node as ``beholder nodes add`` gives it, checked exactly as a row of the
    nodes CSV is; `InventoryError` saying what is wrong."""
    fields = [name, host, port, tls]
    problems = _shape(fields, len(fields))
    node = None
    if not problems:
        row = dict(zip((*NODE_COLUMNS, "tls"), (f.strip() for f in fields), strict=True))
        node = _node(row, problems)
    if problems or node is None:
        raise InventoryError("; ".join(problems))
    return node


def _node(row: dict[str, str], problems: list[str]) -> Node | None:
    name, host = row["name"], row["host"]
    if not name or not host:
        problems.append("name and host are required")
    port = _int(row["port"] or "8728", "port", problems)
    if port is not None and not 1 <= port <= 65535:
        problems.append(f"port {port} is out of range (1-65535)")
    said = row.get("tls", "").strip()
    try:
        tls = TlsMode.parse(said)
    except ValueError as exc:
        problems.append(str(exc))
    if problems or port is None:
        return None
    # A blank tls keeps an existing node's mode (see Inventory.upsert_nodes).
    return Node(name, host, port, tls, tls_said=bool(said))


def connections_from_text(text: str, source: str) -> list[Connection]:
    """The connections in a CSV text, or `InventoryError` listing every bad row (a
    PPPoE user given twice is a bad row too: which plan would be meant?)."""

    def connection(row: dict[str, str], problems: list[str]) -> Connection | None:
        user = row["pppoe_user"]
        if not user:
            problems.append("pppoe_user is required")
        download = _mbps(row["plan_download_mbps"], "plan_download_mbps", problems)
        upload = _mbps(row["plan_upload_mbps"], "plan_upload_mbps", problems)
        status = row["status"]
        if fold(status) not in KNOWN_STATUSES:
            known = ", ".join(sorted(KNOWN_STATUSES))
            problems.append(f"status {_shown(status)} is unknown (one of: {known})")
        if problems:
            return None
        return Connection(user, row["customer_id"], row["customer_name"], download, upload, status)

    expected = ",".join(CONNECTION_COLUMNS)
    return _rows(text, source, CONNECTION_COLUMNS, expected, connection, unique="pppoe_user")


# -- files and encodings --------------------------------------------------------------


def read_text(path: str | Path, encoding: str | None = None) -> tuple[str, str]:
    """The file's text (at most `MAX_FILE_BYTES`) and the encoding it was read with."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InventoryError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise InventoryError(
            f"{path} is larger than {MAX_FILE_BYTES // 2**20} MiB: split it into smaller files"
        )
    return decode(data, encoding, str(path))


def decode(data: bytes, encoding: str | None, source: str) -> tuple[str, str]:
    """`data` as text, with `encoding` or, when None, the first that fits.

    Detection: a UTF-16 byte-order mark; else strict UTF-8 (a BOM is dropped),
    which a Latin-1 file with accents practically never is; else cp1252, the
    encoding of Windows exports (``ñ`` is 0xF1 there as in Latin-1); else
    Latin-1, which reads every byte.
    """
    if encoding is not None:
        return _decode_as(data, encoding, source)
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    for candidate in ("utf-16", "utf-8", "cp1252") if utf16 else ("utf-8", "cp1252"):
        try:
            return _text(data, candidate), candidate
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _decode_as(data: bytes, encoding: str, source: str) -> tuple[str, str]:
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        info = None
    # base64, rot13, zlib... are codecs too, but not text encodings: refused alike.
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise InventoryError(
            f"unknown encoding {_shown(encoding)}: use utf-8, cp1252 or latin-1"
        ) from None
    name = info.name
    try:
        return _text(data, name), name
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise InventoryError(
            f"{source}, line {line}: not valid {name} (byte 0x{byte}); "
            "try --encoding cp1252, or leave --encoding out to detect it"
        ) from None


def _text(data: bytes, codec: str) -> str:
    """Strict decoding; a UTF-8 byte-order mark is not part of the text."""
    return data.decode("utf-8-sig" if codec == "utf-8" else codec, errors="strict")


# -- rows ---------------------------------------------------------------------------------


def _rows(
    text: str,
    source: str,
    required: tuple[str, ...],
    expected: str,
    build: Callable[[dict[str, str], list[str]], T | None],
    *,
    unique: str,
) -> list[T]:
    """Every data row of `text` through `build`; `InventoryError` naming each bad row.

    `build` gets the row by (lower-case) column name and a list to append its
    problems to; a row with problems is not kept, and any bad row fails the file.
    A row whose `unique` column repeats an earlier row's is bad, naming both lines.
    """
    records = _records(text, source)
    header: list[str] | None = None
    for _, fields in records:
        if any(f.strip() for f in fields):
            header = [f.strip().lower() for f in fields]
            break
    if header is None or not set(required) <= set(header):
        got = ",".join(header or ()) or "nothing"
        raise InventoryError(f"{source}: the header must be {expected}; got {_cut(got, 200)}")
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        raise InventoryError(f"{source}: the header names {', '.join(repeated)} twice")
    items: list[T] = []
    bad: list[str] = []
    first_line: dict[str, int] = {}  # each `unique` value → the line it was first on
    count = 0
    for line, fields in records:
        if not any(f.strip() for f in fields):
            continue  # a blank line, or a spreadsheet's empty row (",,,,,")
        count += 1
        if count > MAX_ROWS:
            raise InventoryError(f"{source}: more than {MAX_ROWS:,} rows: split it")
        problems = _shape(fields, len(header))
        if not problems:
            row = dict(zip(header, (f.strip() for f in fields), strict=True))
            item = build(row, problems)
            key = row[unique]
            if key and key in first_line:
                problems.append(f"{unique} {_shown(key)} is also on line {first_line[key]}")
            elif key:
                first_line[key] = line
            if item is not None and not problems:
                items.append(item)
        if problems:
            bad.append(f"line {line}: {'; '.join(problems)}")
    if bad:
        shown = bad[:MAX_SHOWN]
        if len(bad) > MAX_SHOWN:
            shown.append(f"… and {len(bad) - MAX_SHOWN} more bad rows")
        rows = "1 bad row" if len(bad) == 1 else f"{len(bad)} bad rows"
        raise InventoryError(
            f"{source}: {rows}, nothing imported:\n" + "\n".join(f"  {s}" for s in shown)
        )
    return items


def _records(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, its fields); a CSV error names its line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InventoryError(f"{source}, line {line}: unreadable CSV ({exc})") from None
        yield line, fields


def _shape(fields: list[str], expected: int) -> list[str]:
    """What is wrong with a record's fields, before looking at their values."""
    if len(fields) != expected:
        count = "1 field" if len(fields) == 1 else f"{len(fields)} fields"
        return [
            f"{count} where the header has {expected} "
            '(a comma inside a field must be quoted: "Pérez, Juan")'
        ]
    long = [i + 1 for i, f in enumerate(fields) if len(f) > MAX_FIELD]
    if long:
        return [f"field {long[0]} is longer than {MAX_FIELD} characters"]
    control = [i + 1 for i, f in enumerate(fields) if _CONTROL.search(f)]
    if control:
        return [f"field {control[0]} has a control character (NUL, tab, line break...)"]
    return []


def _int(text: str, what: str, problems: list[str]) -> int | None:
    if text.isascii() and text.isdigit():  # at most MAX_FIELD digits: int() is cheap
        return int(text)
    problems.append(f"{what} {_shown(text)} is not a number")
    return None


def _mbps(text: str, what: str, problems: list[str]) -> int | None:
    """Decimal Mbps (``50``, ``1.5``, ``1,5``) → bps; empty means unknown.

    Digits and one decimal mark only: ``float`` would also take ``1_000``, ``1e3``,
    ``inf`` or ``nan``, none of which an export means as a plan.
    """
    if not text:
        return None
    decimal = text.replace(",", ".")
    whole, _, fraction = decimal.partition(".")
    digits = whole + fraction
    value = float(decimal) if digits.isascii() and digits.isdigit() else float("nan")
    if not 0 <= value <= MAX_PLAN_MBPS:  # false for nan too
        problems.append(f"{what} {_shown(text)} is not a plan in Mbps (0 to {MAX_PLAN_MBPS:,})")
        return None
    bps = round(value * 1_000_000)
    if value and not bps:
        problems.append(f"{what} {_shown(text)} is less than 1 bit per second: 0 or a real plan")
        return None
    return bps


#: ASCII control characters (NUL, tab, line breaks, escapes): never in a name. (C1
#: ones are left: the Latin-1 fallback reads any stray byte as one.)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _shown(text: str) -> str:
    """A field as quoted in a message, cut so one bad row stays one line."""
    return repr(_cut(text, 40))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
