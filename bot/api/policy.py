"""Who may call what over HTTP: a rule per kind of request, and the bearer tokens.

Deny by default, as for Slack (`bot.slack.access`): every route names its kind
(`RULES`) and `decide` refuses a kind it has no rule for, so a route added later
is closed until it is given one. ``live`` and ``diag`` (a subscriber's traffic,
IP, MAC and the addresses he talks to: personal data) need a token from
``BEHOLDER_API_TOKENS``; ``health``, ``openapi`` and ``metrics`` say nothing
about anyone and are open, for load balancers and scrapers.

Tokens are compared in constant time against every configured token
(`hmac.compare_digest`, no early exit), and a caller is known by its token's
position (``api:1``), never by the token, in the audit and the logs.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

#: Request kind → what it needs: "token" (a valid bearer token) or "open".
RULES: dict[str, str] = {
    "live": "token",
    "diag": "token",
    "health": "open",
    "openapi": "open",
    "metrics": "open",
}
#: Longest ``Authorization`` header read: "Bearer " and the longest token, with room.
MAX_AUTHORIZATION = 300


@dataclass(frozen=True)
class Decision:
    allowed: bool
    #: Allowed: "open" or "token". Denied: "token" (none, or not a configured
    #: one) or "kind" (no rule for this kind of request).
    reason: str
    #: Who called, for the audit: ``api:N`` for the N-th configured token.
    caller: str = ""


class Tokens:
    """The configured bearer tokens (`bot.config.Settings.api_tokens`)."""

    def __init__(self, tokens: tuple[str, ...]) -> None:
        self._tokens = tuple(token.encode() for token in tokens)

    @property
    def enabled(self) -> bool:
        """The API is off while no token is configured."""
        return bool(self._tokens)

    def caller(self, authorization: str | None) -> str | None:
        """``api:N`` when `authorization` is ``Bearer <the N-th token>``, else None.
        Every token is compared, whichever matches, so the time taken does not say
        which token (or how much of one) was right."""
        if not authorization or len(authorization) > MAX_AUTHORIZATION:
            return None
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip().isascii():
            return None
        candidate = presented.strip().encode()
        found = 0
        for position, token in enumerate(self._tokens, start=1):
            if hmac.compare_digest(candidate, token):
                found = position
        return f"api:{found}" if found else None


def decide(kind: str, tokens: Tokens, authorization: str | None) -> Decision:
    """The rule for a request of `kind` carrying `authorization` (the header)."""
    rule = RULES.get(kind)
    if rule == "open":
        return Decision(True, "open")
    if rule == "token":
        caller = tokens.caller(authorization)
        return Decision(True, "token", caller) if caller else Decision(False, "token")
    return Decision(False, "kind")
