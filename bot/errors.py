"""Beholder's own error hierarchy.

Library and socket errors are translated into these once, where they happen
(`bot.routeros.connection`, `bot.inventory.store`, `bot.config`), with ``raise ... from exc``; the
edges (CLI, Slack listeners) catch `BeholderError` and turn it into one clear
Spanish message via `bot.present.errors`::

    BeholderError
    ├── ConfigError              a setting is missing or malformed
    ├── InputError               the operator's text is not a PPPoE user name
    ├── InventoryError
    │   ├── UnknownUser          no router has that secret (carries suggestions)
    │   │   ├── UserNotConfirmed ...among the routers that answered; others could not be asked
    │   │   └── PullDeferred     ...in the inventory; the routers were not asked (fair use)
    │   ├── AmbiguousQuery       the text matches several subscribers (carries them)
    │   ├── NodeNotInInventory   the secret's router is missing from `nodes`
    │   └── InventoryUnavailable the file itself failed: corrupt, read-only, locked, disk full
    └── RouterError              talking to one router failed
        ├── RouterUnreachable    no route / DNS / network error
        ├── RouterRefused        TCP connection refused (API service off?)
        ├── RouterTimeout        the operation's overall deadline passed
        │   └── RouterBusy       ...while queued for one of our own sessions to it
        ├── RouterAuthFailed     the router rejected our API credentials
        ├── RouterTLSError       API-SSL handshake failed
        │   └── RouterCertificateError  the router's certificate did not verify
        ├── RouterProtocolError  !fatal, connection closed mid-reply, garbage
        │   └── RouterReplyTooLarge  a reply past its ceiling of rows or bytes: cut
        └── RouterCircuitOpen    failed just now; not asked again for a while

Messages (`str(err)`) are English and for logs; they never contain secrets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.model import Hit


class BeholderError(Exception):
    """Base of every error Beholder expects and knows how to explain."""


class ConfigError(BeholderError):
    """A setting is missing or malformed; raised once, at start."""


class InputError(BeholderError):
    """The operator's text cannot be a PPPoE user name."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason  # "empty" | "too_long" | "invalid"
        super().__init__(f"bad input ({reason}): {text[:80]!r}")


class InventoryError(BeholderError):
    """The inventory cannot answer a question about a user or node."""


class UnknownUser(InventoryError):
    """No router in the inventory has this PPPoE secret."""

    def __init__(self, user: str, suggestions: tuple[str, ...] = ()) -> None:
        self.user = user
        self.suggestions = suggestions
        super().__init__(f"unknown PPPoE user {user!r}")


class UserNotConfirmed(UnknownUser):
    """Not in the inventory nor on any router that answered the targeted pull, but
    `unchecked` routers could not be asked: the secret may be there. Never
    remembered as missing."""

    def __init__(
        self,
        user: str,
        suggestions: tuple[str, ...] = (),
        *,
        unchecked: tuple[RouterError, ...] = (),
    ) -> None:
        super().__init__(user, suggestions)
        self.unchecked = unchecked
        nodes = ", ".join(e.node for e in unchecked)
        self.args = (f"unknown PPPoE user {user!r} (could not ask {nodes})",)


class PullDeferred(UnknownUser):
    """Not in the inventory, and the routers were not asked for it (`bot.domain.readings`'
    fair use of routers). `reason`: "rate" (this operator pulled `limit` names in
    the last minute; may pull again in `retry_in_s`) or "busy" (`limit` pulls were
    already in flight and none ended within `retry_in_s`)."""

    def __init__(
        self,
        user: str,
        suggestions: tuple[str, ...] = (),
        *,
        reason: str,
        limit: int,
        retry_in_s: float,
    ) -> None:
        super().__init__(user, suggestions)
        self.reason = reason
        self.limit = limit
        self.retry_in_s = retry_in_s
        self.args = (f"unknown PPPoE user {user!r}, not pulled ({reason})",)


class AmbiguousQuery(InventoryError):
    """The operator's text (a name fragment, an IP) matches several subscribers."""

    def __init__(self, query: str, hits: tuple[Hit, ...]) -> None:
        self.query = query
        self.hits = hits
        super().__init__(f"{query!r} matches {len(hits)} subscribers")


class NodeNotInInventory(InventoryError):
    """A secret names a node that the `nodes` table does not have."""

    def __init__(self, user: str, node: str) -> None:
        self.user = user
        self.node = node
        super().__init__(f"user {user!r} is on node {node!r}, which is not in the inventory")


class InventoryUnavailable(InventoryError):
    """The inventory file could not be read or written (`bot.inventory.store` maps every
    sqlite3 error here, in one place). `reason` says which fault, for the message:
    "corrupt", "read_only", "cannot_open", "locked", "full" or "io"."""

    def __init__(self, path: object, reason: str, detail: str = "") -> None:
        self.path = str(path)
        self.reason = reason
        self.detail = detail
        super().__init__(f"inventory {self.path}: {reason} ({detail})")


class RouterError(BeholderError):
    """Talking to one router failed. `detail` is for the log only."""

    def __init__(self, node: str, detail: str = "", *, user: str | None = None) -> None:
        self.node = node
        self.detail = detail
        self.user = user
        super().__init__(f"{type(self).__name__} on node {node!r}: {detail}")


class RouterUnreachable(RouterError):
    """No TCP path to the router (unreachable network, DNS failure, reset)."""


class RouterRefused(RouterError):
    """The router actively refused the TCP connection."""


class RouterTimeout(RouterError):
    """The whole operation did not finish within its deadline."""

    def __init__(
        self, node: str, detail: str = "", *, user: str | None = None, seconds: float = 0.0
    ) -> None:
        self.seconds = seconds
        super().__init__(node, detail, user=user)


class RouterBusy(RouterTimeout):
    """The deadline passed while waiting for a free session to the router: the
    router is fine, Beholder already has `sessions` questions in flight to it."""

    def __init__(
        self,
        node: str,
        detail: str = "",
        *,
        user: str | None = None,
        seconds: float = 0.0,
        sessions: int = 0,
    ) -> None:
        self.sessions = sessions
        super().__init__(node, detail, user=user, seconds=seconds)


class RouterAuthFailed(RouterError):
    """The router rejected the API user or password."""


class RouterTLSError(RouterError):
    """The API-SSL handshake failed."""


class RouterCertificateError(RouterTLSError):
    """The router could not prove it is the router: its certificate does not
    verify against the CA for the node's address, or it is not the pinned one.
    Nothing (above all not ``/login``) was sent on that channel.

    With a pin, `pinned` and `presented` are both fingerprints (64 hex digits).
    """

    def __init__(
        self,
        node: str,
        detail: str = "",
        *,
        user: str | None = None,
        pinned: str | None = None,
        presented: str | None = None,
    ) -> None:
        self.pinned = pinned
        self.presented = presented
        super().__init__(node, detail, user=user)

    @property
    def changed(self) -> bool:
        """A pinned certificate was replaced by another one."""
        return self.pinned is not None and self.presented is not None


class RouterProtocolError(RouterError):
    """The router closed the session or answered something we cannot read."""


class RouterReplyTooLarge(RouterProtocolError):
    """The router's reply went past the ceiling of its command, so Beholder
    stopped reading and closed the connection (a hostile or broken router, or
    a table larger than `BEHOLDER_SYNC_MAX_ROWS`).

    `kind`: "rows" (rows of one reply), "bytes" (bytes of one reply or one
    row), "words" (fields of one row), "field" (bytes of one field) or
    "empty" (empty sentences, which RouterOS never sends); `ceiling`: the
    limit passed.
    """

    def __init__(
        self,
        node: str,
        detail: str = "",
        *,
        user: str | None = None,
        kind: str = "bytes",
        ceiling: int = 0,
    ) -> None:
        self.kind = kind
        self.ceiling = ceiling
        super().__init__(node, detail, user=user)


class RouterCircuitOpen(RouterError):
    """The router failed repeatedly just now; Beholder is not asking it for a while."""

    def __init__(
        self,
        node: str,
        detail: str = "",
        *,
        user: str | None = None,
        since_s: float = 0.0,
        retry_in_s: float = 0.0,
        cause: RouterError | None = None,
    ) -> None:
        self.since_s = since_s
        self.retry_in_s = retry_in_s
        self.cause = cause
        super().__init__(node, detail, user=user)
