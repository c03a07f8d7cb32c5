"""The language of every user-facing string: one catalog per language.

`bot.present.lang.es` (the default) and `bot.present.lang.en` each hold one dict of templates
(`str.format`, named placeholders) under the same keys. The active catalog is
chosen once at start from ``BEHOLDER_LANG`` (`bot.cli.main.main` calls `use`); the
modules that speak to people (`bot.present.reading`, `bot.slack.blocks`, `bot.present.chart`…)
take their words from `t`, and numbers from `number`.

The CLI's own admin output (sync table, nodes list, config errors) is English
and stays outside the catalogs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from bot.config import DEFAULT_LANG
from bot.present.lang import en, es

#: Language code → its catalog.
CATALOGS: dict[str, Mapping[str, str]] = {"es": es.MESSAGES, "en": en.MESSAGES}
DEFAULT = DEFAULT_LANG
# Settings validate BEHOLDER_LANG against `bot.config.LANGUAGES` without importing
# the catalogs (config sits below the presentation); tests/present/test_i18n.py
# checks that both name the same languages.

_code = DEFAULT
_active: Mapping[str, str] = CATALOGS[DEFAULT]


def use(code: str) -> None:
    """Make `code` ("es" or "en") the language of every message from now on."""
    global _code, _active
    if code not in CATALOGS:
        raise ValueError(f"unknown language {code!r}: use {' or '.join(CATALOGS)}")
    _code, _active = code, CATALOGS[code]


@contextmanager
def speaking(code: str) -> Iterator[None]:
    """`code`'s catalog for what is rendered inside, then the active one again (the
    CLI's admin output is English whatever ``BEHOLDER_LANG`` says)."""
    previous = _code
    use(code)
    try:
        yield
    finally:
        use(previous)


def current() -> str:
    """The active language's code."""
    return _code


def t(key: str, **values: object) -> str:
    """The active language's template `key`, filled with `values`."""
    return _active[key].format(**values)


def has(key: str) -> bool:
    return key in _active


def number(value: float, digits: int) -> str:
    """`value` with `digits` decimals and the language's separators (es: ``1.234,5``)."""
    grouped = f"{value:,.{digits}f}"
    return (
        grouped.replace(",", "\x00")
        .replace(".", _active["number.decimal"])
        .replace("\x00", _active["number.thousands"])
    )
