"""Settings from the environment (and a `.env` file), validated once at start.

Every variable is documented in `.env.example`. Secrets (router password, Slack
tokens) are kept out of `repr()` so that a logged `Settings` never leaks them.
"""

from __future__ import annotations

import math
import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from dotenv import load_dotenv

from bot.errors import ConfigError

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
#: The languages of the operator's texts: `bot.present.lang` has one catalog per code.
LANGUAGES = ("es", "en")
DEFAULT_LANG = "es"

_N = TypeVar("_N", int, float)


@dataclass(frozen=True)
class Settings:
    """Everything Beholder reads from its environment."""

    db_path: Path = Path("beholder.db")
    mikrotik_user: str = ""
    mikrotik_password: str = field(default="", repr=False)
    #: One overall deadline for a snapshot (connect, login, three reads), in seconds.
    mikrotik_timeout: float = 5.0
    #: Concurrent API sessions Beholder opens to one router, whatever the load.
    mikrotik_max_sessions: int = 4
    #: Deadline for pulling one node's whole `/ppp/secret` table during `sync`.
    sync_timeout: float = 120.0
    #: Most rows one node's table may have in a sync; a reply past it is cut.
    sync_max_rows: int = 200_000
    #: Seconds between background syncs while serving (BEHOLDER_SYNC_INTERVAL: 900, 15m, 1h).
    sync_interval: float = 900.0
    #: Nodes pulled at once during `sync`.
    sync_concurrency: int = 8
    #: CA bundle to verify the certificates of ``tls=yes`` nodes without a pin
    #: (`bot.routeros.tls`); None: the system's store.
    tls_ca_file: Path | None = None
    slack_bot_token: str = field(default="", repr=False)
    slack_app_token: str = field(default="", repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    #: Verifies requests in HTTP mode (`serve --http`); Socket Mode does not need it.
    slack_signing_secret: str = field(default="", repr=False)
    #: Who may ask (`bot.slack.access`); all empty: everyone in the workspace.
    #: Channel ids (C…/G…/D…): the only channels where Beholder answers.
    allowed_channels: frozenset[str] = frozenset()
    #: User ids (U…/W…) and user groups (S… ids, or handles) allowed to ask.
    allowed_users: frozenset[str] = frozenset()
    allowed_usergroups: tuple[str, ...] = ()
    #: Time zone for times shown in plain text (Slack renders its own for each viewer).
    timezone: str = "America/Argentina/Buenos_Aires"
    #: Language of every message to operators (`bot.present.lang`): "es" (es-AR) or "en".
    lang: str = DEFAULT_LANG
    #: Per-node API credentials (``MIKROTIK_USER_<NODE>`` / ``MIKROTIK_PASSWORD_<NODE>``),
    #: keyed by `env_suffix` of the node name; they override the global pair.
    node_credentials: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    log_level: str = "INFO"
    #: Days the audit keeps who asked what.
    audit_days: int = 180
    #: "text" (one line per event) or "json" (one object per line).
    log_format: str = "text"
    #: Longest live view (``/consumo usuario 30s``), seconds.
    live_max: int = 120
    #: Live views running at once, over every router (each holds one API session).
    live_views: int = 5
    #: Probes in a diagnosis' ping of the session IP (``beholder diag``); at most 50.
    ping_count: int = 10
    #: A diagnosis blames the last mile from this loss (percent) or average RTT (ms).
    diag_loss_pct: float = 2.0
    diag_rtt_ms: float = 30.0
    #: Bearer tokens of the HTTP API (``GET /live/…``, `bot.api`); none: the API is off.
    api_tokens: tuple[str, ...] = field(default=(), repr=False)
    #: Web origins whose pages may call the API from a browser (CORS); none: CORS off.
    api_cors_origins: tuple[str, ...] = ()
    #: Where Socket Mode's ``serve`` listens for `/healthz`, `/live`… (None: no listener).
    http_host: str = "127.0.0.1"
    http_port: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `env` (default: the process environment)."""
        env = os.environ if env is None else env
        _credentials_are_text(env)

        def text(name: str, default: str = "") -> str:
            return env.get(name, default).strip()

        ca = text("MIKROTIK_TLS_CA")
        api_url = text("SLACK_API_URL", DEFAULT_SLACK_API_URL) or DEFAULT_SLACK_API_URL
        if not api_url.endswith("/"):
            # slack_sdk joins method names with urljoin: without the slash the
            # last path segment would be replaced.
            api_url += "/"
        settings = cls(
            db_path=Path(text("BEHOLDER_DB", "beholder.db") or "beholder.db"),
            mikrotik_user=text("MIKROTIK_USER"),
            mikrotik_password=env.get("MIKROTIK_PASSWORD", ""),
            mikrotik_timeout=_number(
                env, "MIKROTIK_TIMEOUT", 5.0, float, minimum=MIN_TIMEOUT_S, maximum=600
            ),
            mikrotik_max_sessions=_number(env, "MIKROTIK_MAX_SESSIONS", 4, int, maximum=100),
            sync_timeout=_number(
                env,
                "BEHOLDER_SYNC_TIMEOUT",
                120.0,
                float,
                minimum=MIN_SYNC_TIMEOUT_S,
                maximum=86_400,
            ),
            sync_max_rows=_number(env, "BEHOLDER_SYNC_MAX_ROWS", 200_000, int, maximum=10_000_000),
            sync_concurrency=_number(env, "BEHOLDER_SYNC_CONCURRENCY", 8, int, maximum=1_000),
            sync_interval=_interval(env, "BEHOLDER_SYNC_INTERVAL", 900.0),
            tls_ca_file=Path(ca) if ca else None,
            slack_bot_token=text("SLACK_BOT_TOKEN"),
            slack_app_token=text("SLACK_APP_TOKEN"),
            slack_api_url=api_url,
            slack_signing_secret=text("SLACK_SIGNING_SECRET"),
            allowed_channels=frozenset(
                _slack_ids(
                    env,
                    "BEHOLDER_ALLOWED_CHANNELS",
                    _CHANNEL_ID,
                    "channel ids (C0123ABCD; at the bottom of the channel's details)",
                )
            ),
            allowed_users=frozenset(
                _slack_ids(
                    env,
                    "BEHOLDER_ALLOWED_USERS",
                    _USER_ID,
                    "member ids (U0123ABCD; in a profile: ⋮ → Copy member ID)",
                )
            ),
            allowed_usergroups=_usergroups(env),
            timezone=text("BEHOLDER_TZ", cls.timezone) or cls.timezone,
            lang=(text("BEHOLDER_LANG") or DEFAULT_LANG).lower(),
            log_level=(text("BEHOLDER_LOG_LEVEL", "INFO") or "INFO").upper(),
            log_format=(text("BEHOLDER_LOG_FORMAT", "text") or "text").lower(),
            audit_days=_number(env, "BEHOLDER_AUDIT_DAYS", 180, int, maximum=36_500),
            live_max=_number(env, "BEHOLDER_LIVE_MAX", 120, int, maximum=3_600),
            live_views=_number(env, "BEHOLDER_LIVE_VIEWS", 5, int, maximum=100),
            ping_count=_number(env, "BEHOLDER_PING_COUNT", 10, int, maximum=50),
            diag_loss_pct=_number(env, "BEHOLDER_DIAG_LOSS_PCT", 2.0, float, maximum=100),
            diag_rtt_ms=_number(env, "BEHOLDER_DIAG_RTT_MS", 30.0, float, maximum=10_000),
            node_credentials=_node_credentials(env),
            api_tokens=_api_tokens(env),
            api_cors_origins=_origins(env),
            http_host=text("BEHOLDER_HTTP_HOST", cls.http_host) or cls.http_host,
            http_port=_port(env, "BEHOLDER_HTTP_PORT"),
        )
        if settings.tls_ca_file is not None:
            _check_ca_file(settings.tls_ca_file)
        if settings.lang not in LANGUAGES:
            raise ConfigError(
                f"BEHOLDER_LANG must be {' or '.join(LANGUAGES)}, got {settings.lang!r}"
            )
        if settings.log_format not in {"text", "json"}:
            raise ConfigError("BEHOLDER_LOG_FORMAT must be text or json")
        if settings.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError("BEHOLDER_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        return settings

    def require_router_credentials(self) -> None:
        """Fail fast, naming the variables, before any router is contacted."""
        missing = [
            name
            for name, value in (
                ("MIKROTIK_USER", self.mikrotik_user),
                ("MIKROTIK_PASSWORD", self.mikrotik_password),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                f"missing {' and '.join(missing)}: the API account Beholder uses on every router"
            )

    def require_slack(self) -> None:
        """Fail fast when `serve` lacks a token, and catch the classic swap."""
        missing = [
            name
            for name, value in (
                ("SLACK_BOT_TOKEN", self.slack_bot_token),
                ("SLACK_APP_TOKEN", self.slack_app_token),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                f"missing {' and '.join(missing)}: create the app from manifest.yml and copy the "
                "bot token (xoxb-…) and an app-level token with connections:write (xapp-…)"
            )
        if not self.slack_bot_token.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN must be a bot token (it starts with xoxb-)")
        if not self.slack_app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be an app-level token (it starts with xapp-)")

    def require_slack_http(self) -> None:
        """`serve --http`: the bot token and the signing secret; no app-level token."""
        missing = [
            name
            for name, value in (
                ("SLACK_BOT_TOKEN", self.slack_bot_token),
                ("SLACK_SIGNING_SECRET", self.slack_signing_secret),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                f"missing {' and '.join(missing)}: HTTP mode needs the bot token (xoxb-…) and "
                "the Signing Secret from the app's Basic Information page"
            )
        if not self.slack_bot_token.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN must be a bot token (it starts with xoxb-)")

    def credentials(self, node: str) -> tuple[str, str]:
        """The API user and password for `node`: its own if configured, else the global."""
        return self.node_credentials.get(
            env_suffix(node), (self.mikrotik_user, self.mikrotik_password)
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log line or a message."""
        node_passwords = tuple(password for _, password in self.node_credentials.values())
        return tuple(
            s
            for s in (
                self.mikrotik_password,
                self.slack_bot_token,
                self.slack_app_token,
                self.slack_signing_secret,
                *node_passwords,
                *self.api_tokens,
            )
            if len(s) >= 4
        )


def load_settings(env_file: str | os.PathLike[str] | None = ".env") -> Settings:
    """Read `.env` (without overriding the real environment), then the environment."""
    if env_file is not None and Path(env_file).is_file():
        load_dotenv(env_file, override=False)
    return Settings.from_env()


def _number(
    env: Mapping[str, str],
    name: str,
    default: _N,
    kind: type[_N],
    *,
    minimum: float | None = None,
    maximum: float = 1_000_000,
) -> _N:
    """A positive number in `minimum`..`maximum`, or `ConfigError` naming `name`.

    ``nan`` and ``inf`` parse as floats but are no setting: ``nan`` compares
    false with everything, so it would slip through every later check, and a
    deadline of ``inf`` never ends. Too big a value (``BEHOLDER_AUDIT_DAYS=1e9``)
    would fail later, far from the cause, so the ceiling is checked here; so is a
    floor where more than zero is wrong (``MIKROTIK_TIMEOUT=1e-300`` fails every
    question). Plain ASCII only: Python also reads ``1_000`` and ``٣`` as numbers.
    """
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        if not raw.isascii() or "_" in raw:
            raise ValueError(raw)
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw[:40]!r}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {raw!r}")
    if value <= 0:
        raise ConfigError(f"{name} must be greater than zero, got {raw!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum:g}, got {raw!r}")
    if value > maximum:
        raise ConfigError(f"{name} must be at most {maximum:g}, got {raw!r}")
    return value


_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_USERGROUP_ID = re.compile(r"S[A-Z0-9]{2,}")
_USERGROUP_HANDLE = re.compile(r"[a-z0-9][a-z0-9._-]*")


def _slack_ids(env: Mapping[str, str], name: str, pattern: re.Pattern[str], what: str) -> list[str]:
    """A comma-separated list of Slack ids; a name where an id belongs is an error."""
    ids = [item.strip() for item in env.get(name, "").split(",") if item.strip()]
    for item in ids:
        if not _is_id(pattern, item):
            raise ConfigError(f"{name} takes comma-separated {what}, got {item!r}")
    return ids


def _is_id(pattern: re.Pattern[str], item: str) -> bool:
    """Slack ids are upper case and carry digits: ``GENERAL`` is a name, not an id."""
    return bool(pattern.fullmatch(item)) and any(c.isdigit() for c in item)


def _usergroups(env: Mapping[str, str]) -> tuple[str, ...]:
    """User group ids (``S0123ABCD``) or handles (``soporte-n2``, ``@soporte-n2``)."""
    groups: list[str] = []
    for raw in env.get("BEHOLDER_ALLOWED_USERGROUPS", "").split(","):
        item = raw.strip()
        if not item:
            continue
        if _is_id(_USERGROUP_ID, item):
            group = item
        elif _USERGROUP_HANDLE.fullmatch(item.removeprefix("@").lower()):
            group = "@" + item.removeprefix("@").lower()
        else:
            raise ConfigError(
                "BEHOLDER_ALLOWED_USERGROUPS takes comma-separated user group ids (S0123ABCD) "
                f"or handles (@soporte-n2), got {item!r}"
            )
        if group not in groups:
            groups.append(group)
    return tuple(groups)


def env_suffix(node: str) -> str:
    """``bras-norte`` → ``BRAS_NORTE``, as in ``MIKROTIK_PASSWORD_BRAS_NORTE``."""
    return re.sub(r"[^A-Z0-9]+", "_", node.upper()).strip("_")


def _node_credentials(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    users = {
        k.removeprefix("MIKROTIK_USER_"): v.strip()
        for k, v in env.items()
        if k.startswith("MIKROTIK_USER_")
    }
    passwords = {
        k.removeprefix("MIKROTIK_PASSWORD_"): v
        for k, v in env.items()
        if k.startswith("MIKROTIK_PASSWORD_")
    }
    credentials = {}
    for suffix in users.keys() | passwords.keys():
        if suffix not in users or suffix not in passwords:
            missing = "MIKROTIK_USER_" if suffix not in users else "MIKROTIK_PASSWORD_"
            raise ConfigError(
                f"per-node credentials need both variables: {missing}{suffix} is missing"
            )
        credentials[suffix] = (users[suffix], passwords[suffix])
    return credentials


#: Variables holding credentials: each is sent to a router or to Slack, and
#: masked in the logs by its UTF-8 forms.
_CREDENTIAL_PREFIXES = ("MIKROTIK_PASSWORD", "MIKROTIK_USER", "SLACK_", "BEHOLDER_API_TOKENS")


def _credentials_are_text(env: Mapping[str, str]) -> None:
    """`ConfigError` naming a credential variable whose bytes are not UTF-8.

    Python keeps such bytes (say, an ``ñ`` from an EnvironmentFile saved as
    Latin-1) as lone surrogates, which no UTF-8 encoder takes: every command would
    die with a UnicodeEncodeError when the log redactor or the router login
    encodes the value. The message names the variable, never its value.
    """
    for name, value in env.items():
        if not name.startswith(_CREDENTIAL_PREFIXES):
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigError(
                f"{name} is not valid UTF-8 (a file saved as Latin-1 or cp1252?): "
                "save the file that sets it as UTF-8, or set it again"
            ) from None


#: Shortest API token: a guessable one would let anyone read subscribers' traffic.
MIN_API_TOKEN = 16
#: Longest API token, and most tokens: an ``Authorization`` header is bounded too.
MAX_API_TOKEN = 256
MAX_API_TOKENS = 32
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]+")


def _api_tokens(env: Mapping[str, str]) -> tuple[str, ...]:
    """``BEHOLDER_API_TOKENS``: comma-separated bearer tokens, each 16 to 256 characters
    a ``Bearer`` header can carry. The message names the token by position, never
    by value."""
    tokens: list[str] = []
    for position, raw in enumerate(env.get("BEHOLDER_API_TOKENS", "").split(","), start=1):
        token = raw.strip()
        if not token:
            continue
        if not MIN_API_TOKEN <= len(token) <= MAX_API_TOKEN or not _TOKEN.fullmatch(token):
            raise ConfigError(
                f"BEHOLDER_API_TOKENS: token {position} must be {MIN_API_TOKEN} to "
                f"{MAX_API_TOKEN} letters, digits or ._~+/=- (make one with "
                "`openssl rand -hex 32`)"
            )
        if token not in tokens:
            tokens.append(token)
    if len(tokens) > MAX_API_TOKENS:
        raise ConfigError(f"BEHOLDER_API_TOKENS holds more than {MAX_API_TOKENS} tokens")
    return tuple(tokens)


_ORIGIN = re.compile(r"https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?")


def _origins(env: Mapping[str, str]) -> tuple[str, ...]:
    """``BEHOLDER_API_CORS_ORIGINS``: web origins (``https://noc.example.net``), exactly
    as a browser sends them in ``Origin``; ``*`` is refused (the API carries
    personal data)."""
    origins: list[str] = []
    for raw in env.get("BEHOLDER_API_CORS_ORIGINS", "").split(","):
        origin = raw.strip().rstrip("/")
        if not origin:
            continue
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(
                "BEHOLDER_API_CORS_ORIGINS takes comma-separated origins like "
                f"https://noc.example.net (scheme, host, optional port; no *), got {origin[:80]!r}"
            )
        if origin.lower() not in origins:
            origins.append(origin.lower())
    return tuple(origins)


def _port(env: Mapping[str, str], name: str) -> int | None:
    """A TCP port (0 picks a free one), or None when unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > 65_535:
        raise ConfigError(f"{name} must be a port number (0 to 65535), got {raw[:40]!r}")
    return int(raw)


def _interval(env: Mapping[str, str], name: str, default: float) -> float:
    """Seconds, or a number with a unit: ``900``, ``15m``, ``1h``, ``30s``."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (raw[:-1], units[raw[-1]]) if raw[-1] in units else (raw, 1)
    try:
        if not number.isascii() or "_" in number:  # "1_0", "٣": not how a setting is written
            raise ValueError(number)
        value = float(number) * unit
    except ValueError:
        raise ConfigError(f"{name} must be seconds or like 15m or 1h, got {raw!r}") from None
    if not math.isfinite(value):  # nan would pass the comparisons below
        raise ConfigError(f"{name} must be a finite number of seconds, got {raw!r}")
    if value < 60:
        raise ConfigError(f"{name} must be at least one minute, got {raw!r}")
    if value > _MAX_INTERVAL_S:
        raise ConfigError(f"{name} must be at most a week (168h), got {raw!r}")
    return value


def _check_ca_file(path: Path) -> None:
    """MIKROTIK_TLS_CA must hold PEM certificates: said once at start, not on
    every API-SSL connection."""
    if not path.is_file():
        raise ConfigError(f"MIKROTIK_TLS_CA points to {str(path)!r}, which is not a readable file")
    try:
        ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(
            f"MIKROTIK_TLS_CA {str(path)!r} holds no usable PEM certificate ({exc})"
        ) from None


#: Shortest MIKROTIK_TIMEOUT, seconds: below it not even a login on a LAN fits.
MIN_TIMEOUT_S = 0.1
#: Shortest BEHOLDER_SYNC_TIMEOUT, seconds: a pull of a whole table takes longer.
MIN_SYNC_TIMEOUT_S = 1.0

#: Longest `_interval`: a week.
_MAX_INTERVAL_S = 7 * 86_400
