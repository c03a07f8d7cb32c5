"""Errors and refusals as words: what happened, and what the operator can do.

`error` names the user and the cause of every `bot.errors.BeholderError`;
`access_denied` says why Beholder did not answer and whom to ask; the rest are
the short refusals and how-tos of the Slack listeners.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bot.errors import (
    AmbiguousQuery,
    BeholderError,
    ConfigError,
    InputError,
    InventoryError,
    InventoryUnavailable,
    NodeNotInInventory,
    PullDeferred,
    RouterAuthFailed,
    RouterBusy,
    RouterCertificateError,
    RouterCircuitOpen,
    RouterError,
    RouterProtocolError,
    RouterRefused,
    RouterReplyTooLarge,
    RouterTimeout,
    RouterTLSError,
    RouterUnreachable,
    UnknownUser,
    UserNotConfirmed,
)
from bot.model import Hit, shown_fingerprint
from bot.present.lang import number, t
from bot.present.markup import literal, shown
from bot.present.numbers import deadline


def usage() -> str:
    """How to ask: `/consumo`, and a mention in a thread."""
    return t("usage")


def help_text(low: int, high: int, button_seconds: int) -> str:
    """Every way to ask (``/consumo ayuda``): live views last `low` to `high` seconds,
    the reading's live button `button_seconds`."""
    return t(
        "help",
        low=low,
        high=high,
        refresh=t("button.refresh"),
        live=t("button.live", seconds=button_seconds),
        diag=t("button.diag"),
    )


def error(err: BeholderError) -> str:
    """What happened and what to do, naming the user and the cause."""
    user = _user_of(err)
    who = _who(user)
    node = literal(getattr(err, "node", ""), "bold")
    match err:
        case InputError(reason="empty"):
            return t("error.empty", usage=usage())
        case InputError(reason="too_long"):
            return t("error.too_long", usage=usage())
        case InputError():
            return t("error.invalid", text=literal(shown(err.text), "code"), usage=usage())
        case UnknownUser():
            text = _unknown_user(err)
            if err.suggestions:
                names = ", ".join(literal(s, "code") for s in err.suggestions)
                return text + "\n" + t("error.did_you_mean", names=names)
            return text + "\n" + t("error.how_to_search")
        case AmbiguousQuery():
            intro = t("error.ambiguous", query=literal(err.query), count=len(err.hits))
            return "\n".join([intro, *(candidate(h) for h in err.hits)])
        case NodeNotInInventory():
            return t("error.node_not_in_inventory", user=literal(err.user, "code"), node=node)
        case InventoryUnavailable():
            return t(
                f"error.inventory.{err.reason}",
                path=literal(err.path, "code"),
                detail=literal(err.detail),
            )
        case RouterCircuitOpen():
            why = t("error.circuit_why", cause=_cause(err.cause)) if err.cause else ""
            return t(
                "error.circuit_open",
                node=node,
                why=why,
                since=f"{err.since_s:.0f}",
                who=who,
                retry=max(1, round(err.retry_in_s)),
            )
        case RouterBusy():
            return t(
                "error.busy",
                node=node,
                sessions=err.sessions,
                seconds=deadline(err.seconds),
                who=who,
            )
        case RouterTimeout():
            return t("error.timeout", node=node, seconds=deadline(err.seconds), who=who)
        case RouterRefused():
            return t("error.refused", node=node, who=who)
        case RouterAuthFailed():
            return t("error.auth", node=node, who=who)
        case RouterCertificateError(pinned=str(pinned), presented=str(presented)):
            return t(
                "error.certificate_changed",
                node=node,
                who=who,
                pinned=literal(shown_fingerprint(pinned), "code"),
                presented=literal(shown_fingerprint(presented), "code"),
                command=literal(f"beholder nodes trust {err.node} --replace", "code"),
            )
        case RouterCertificateError():
            return t(
                "error.certificate",
                node=node,
                who=who,
                command=literal(f"beholder nodes trust {err.node}", "code"),
            )
        case RouterTLSError():
            return t("error.tls", node=node, who=who)
        case RouterReplyTooLarge():
            return t("error.too_large", node=node, limit=_limit(err), who=who)
        case RouterProtocolError():
            return t("error.protocol", node=node, who=who)
        case RouterUnreachable():
            return t("error.unreachable", node=node, who=who)
        case ConfigError():
            return t("error.config", detail=literal(err))
        case InventoryError():
            return literal(err)  # admin commands (CSV import, nodes): the detail is the message
        case _:
            return t("error.other", who=who, kind=type(err).__name__)


def _unknown_user(err: UnknownUser) -> str:
    """Why the name was not found: every router said so, some could not be
    asked, or fair use kept the routers from being asked (`bot.domain.readings`)."""
    match err:
        case UserNotConfirmed():
            nodes = ", ".join(
                t("error.unchecked_node", node=literal(e.node, "bold"), cause=_cause(e))
                for e in err.unchecked
            )
            return t("error.not_confirmed", user=literal(err.user, "code"), nodes=nodes)
        case PullDeferred(reason="rate"):
            wait = max(1, math.ceil(err.retry_in_s))
            return t(
                "error.pull_rate", user=literal(err.user, "code"), limit=err.limit, seconds=wait
            )
        case PullDeferred():
            return t(
                "error.pull_busy",
                user=literal(err.user, "code"),
                count=err.limit,
                seconds=deadline(err.retry_in_s),
            )
        case _:
            return t("error.unknown_user", user=literal(err.user, "code"))


def _cause(err: RouterError) -> str:
    """A few words on why a router failed, for the circuit-breaker message."""
    match err:
        case RouterCircuitOpen():
            return _cause(err.cause) if err.cause else t("cause.other")
        case RouterBusy():
            return t("cause.busy")
        case RouterTimeout():
            return t("cause.timeout")
        case RouterRefused():
            return t("cause.refused")
        case RouterUnreachable():
            return t("cause.unreachable")
        case RouterCertificateError():
            return t("cause.certificate")
        case RouterTLSError():
            return t("cause.tls")
        case RouterReplyTooLarge():
            return t("cause.too_large")
        case _:
            return t("cause.other")


def _limit(err: RouterReplyTooLarge) -> str:
    """The ceiling a reply passed, as a few words: ``más de 16 filas``, ``más de 1 MiB``."""
    if err.kind in ("bytes", "field"):
        mib = err.ceiling / (1024 * 1024)
        size = f"{number(mib, 0 if mib == int(mib) else 1)} MiB"
        if mib < 1:
            size = f"{number(err.ceiling / 1024, 0)} KiB"
        return t(f"limit.{err.kind}", size=size)
    key = {"words": "limit.words", "empty": "limit.empty"}.get(err.kind, "limit.rows")
    return t(key, count=number(err.ceiling, 0))


def candidate(hit: Hit) -> str:
    """One line of an ambiguous search: the user and what matched."""
    name = literal(hit.name, "code")
    if hit.detail:
        return t("error.candidate_detail", name=name, detail=literal(hit.detail))
    return t("error.candidate", name=name)


def unexpected(user: str | None) -> str:
    return t("unexpected", who=_who(user))


def _who(user: str | None) -> str:
    """`` al consultar `juan.perez` ``, or nothing when no user is known."""
    return t("error.who", user=literal(user, "code")) if user else ""


def _user_of(err: BeholderError) -> str | None:
    if isinstance(err, RouterError | UnknownUser | NodeNotInInventory):
        return err.user
    return None


# -- access control ------------------------------------------------------------------


def access_denied(
    reason: str, channels: Sequence[str], usergroups: Sequence[str], users_listed: bool
) -> str:
    """Why Beholder did not answer, who may use it and whom to ask (`bot.slack.access`).

    `reason`: "channel" (not an allowed channel), "user" (neither listed nor in an
    allowed group), "unverified" (the group membership could not be checked) or
    "kind" (a kind of request Beholder has no access rule for).
    `usergroups`: ids (``S…``) or handles (``@soporte-n2``).
    """
    groups = _either([_group_ref(g) for g in usergroups])
    if reason == "channel":
        return t("access.channel", where=_either([f"<#{c}>" for c in sorted(channels)]))
    if reason == "unverified":
        return t("access.unverified", groups=groups)
    if reason == "kind":
        return t("access.kind")
    who = []
    if usergroups:
        who.append(t("access.members_of", groups=groups))
    if users_listed or not who:
        who.append(t("access.listed_people"))
    ask = t("access.ask_groups", groups=groups) if usergroups else t("access.ask")
    return t("access.user", who=_listed(who, "list.and"), ask=ask)


def _group_ref(group: str) -> str:
    """A user group as Slack shows it: ``<!subteam^S…>`` renders its handle."""
    return group if group.startswith("@") else f"<!subteam^{group}>"


def _either(items: Sequence[str]) -> str:
    """``a``, ``a o b``, ``a, b o c``."""
    return _listed(items, "list.or")


def _listed(items: Sequence[str], key: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return t(key, head=", ".join(items[:-1]), last=items[-1])


def nothing_in_message() -> str:
    return t("nothing_in_message")


def invite_needed() -> str:
    return t("invite_needed")
