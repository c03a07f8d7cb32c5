"""`print` filtering: API queries and `.proplist`, evaluated like RouterOS does.

Query semantics (MikroTik API manual): the stack starts as an endless supply
of `true`; each query word pushes one boolean for the item; `?#ops` combines
values on the stack; the item is printed only if no `false` is left.

    ?name      has the property         ?-name     lacks it
    ?name=x    equals x                 ?<name=x   less than x   ?>name=x  greater
    ?#ops      | or (pop 2)   & and (pop 2)   ! negate top   . push copy of top
               N (decimal)    push copy of the value N places below the top
                              ("." right after N only ends the number)
"""

from __future__ import annotations

from bot.sim.tables import Row

_BOOL_WORDS = {"true": True, "yes": True, "false": False, "no": False}


class QueryError(Exception):
    """A query word the router cannot evaluate."""


def _as_int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _equal(actual: str, wanted: str) -> bool:
    # Booleans print as true/false but clients often ask with yes/no.
    if actual in _BOOL_WORDS and wanted.lower() in _BOOL_WORDS:
        return _BOOL_WORDS[actual] == _BOOL_WORDS[wanted.lower()]
    return actual == wanted


def _compare(actual: str, wanted: str) -> int:
    """-1/0/1; numeric when both sides are integers, else by text."""
    a_num, w_num = _as_int(actual), _as_int(wanted)
    if a_num is not None and w_num is not None:
        return (a_num > w_num) - (a_num < w_num)
    return (actual > wanted) - (actual < wanted)


class _Stack:
    """Boolean stack with an endless supply of `true` below what was pushed."""

    def __init__(self) -> None:
        self.values: list[bool] = []

    def push(self, value: bool) -> None:
        self.values.append(value)

    def pop(self) -> bool:
        return self.values.pop() if self.values else True

    def peek(self, depth: int = 0) -> bool:
        return self.values[-1 - depth] if depth < len(self.values) else True


def _apply_ops(stack: _Stack, ops: str) -> None:
    i = 0
    while i < len(ops):
        char = ops[i]
        if char.isdigit():
            end = i
            while end < len(ops) and ops[end].isdigit():
                end += 1
            stack.push(stack.peek(int(ops[i:end])))
            # A "." right after an index only terminates it.
            i = end + 1 if end < len(ops) and ops[end] == "." else end
            continue
        if char == "|":
            right, left = stack.pop(), stack.pop()
            stack.push(left or right)
        elif char == "&":
            right, left = stack.pop(), stack.pop()
            stack.push(left and right)
        elif char == "!":
            stack.push(not stack.pop())
        elif char == ".":
            stack.push(stack.peek())
        else:
            raise QueryError(f"unknown query operation {char!r}")
        i += 1


def _evaluate(stack: _Stack, row: Row, query: str) -> None:
    if query.startswith("#"):
        _apply_ops(stack, query[1:])
        return
    if query.startswith("-"):
        stack.push(query[1:] not in row)
        return
    if query[:1] in ("<", ">"):
        name, sep, wanted = query[1:].partition("=")
        if not sep:
            raise QueryError(f"comparison without value: ?{query}")
        if name not in row:
            stack.push(False)
            return
        order = _compare(row[name], wanted)
        stack.push(order < 0 if query[0] == "<" else order > 0)
        return
    name, sep, wanted = query.partition("=")
    if not name:
        raise QueryError(f"query without property name: ?{query}")
    if not sep:
        stack.push(name in row)
        return
    # An absent property reads as empty, so "?comment=" finds uncommented items.
    stack.push(_equal(row.get(name, ""), wanted))


def matches(row: Row, queries: list[str]) -> bool:
    """True if the item passes all query words (none = every item passes)."""
    stack = _Stack()
    for query in queries:
        _evaluate(stack, row, query)
    return all(stack.values)


def project(row: Row, proplist: str | None) -> Row:
    """Keep only the properties in a `.proplist` value (None or "" = keep all).

    `.id` is returned only when listed, as on the router. Properties keep the
    row's order, not the list's.
    """
    return project_all([row], proplist)[0]


def project_all(rows: list[Row], proplist: str | None) -> list[Row]:
    """`project` for every row of a reply, reading the `.proplist` once."""
    if not proplist:
        return rows
    wanted = {name.strip() for name in proplist.split(",") if name.strip()}
    return [{key: value for key, value in row.items() if key in wanted} for row in rows]
