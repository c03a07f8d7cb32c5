"""``beholder doctor``'s questions to the outside: Slack's tokens and scopes, and
every node (as ``nodes check`` logs into it, then its certificate's validity),
asked at once, each within its own deadline. A failure's words are the English
catalog's (`bot.present.errors.error`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.cli.admin import check_nodes
from bot.cli.findings import Finding, Level, words
from bot.config import Settings
from bot.errors import ConfigError, RouterError
from bot.model import Node, NodeCheck, TlsMode
from bot.routeros.client import RouterClient
from bot.routeros.tls import describe
from bot.slack import tokens

#: A certificate expiring sooner than this is a warning: time to renew it.
CERTIFICATE_NOTICE = timedelta(days=30)


# -- Slack and the routers, asked at once ---------------------------------------------


@dataclass(frozen=True)
class _Remote:
    slack: list[Finding]
    nodes: list[Finding]


async def ask_remotes(settings: Settings, nodes: list[Node], now: datetime) -> _Remote:
    slack, routers = await asyncio.gather(_slack(settings), _nodes(settings, nodes, now))
    return _Remote(slack, routers)


async def _slack(settings: Settings) -> list[Finding]:
    bot, app = await asyncio.gather(_bot_token(settings), _app_token(settings))
    return [*bot, *app]


async def _bot_token(settings: Settings) -> list[Finding]:
    subject, token = "slack bot token", settings.slack_bot_token
    if not token:
        return [
            Finding(
                Level.FAIL,
                subject,
                "SLACK_BOT_TOKEN is not set: serve cannot start; see Slack app setup in README",
            )
        ]
    if not token.startswith("xoxb-"):
        return [
            Finding(
                Level.FAIL,
                subject,
                "SLACK_BOT_TOKEN is not a bot token (xoxb-…): copy the Bot User OAuth Token "
                "from OAuth & Permissions",
            )
        ]
    answer = await tokens.check_bot_token(token, settings.slack_api_url)
    if not answer.reached:
        return [_unreached(subject, "auth.test", answer, settings)]
    if not answer.ok:
        return [
            Finding(
                Level.FAIL,
                subject,
                f"auth.test refused it: {answer.error}; copy the Bot User OAuth Token (xoxb-…) "
                "from OAuth & Permissions, or reinstall the app",
            )
        ]
    return [
        Finding(Level.OK, subject, f"auth.test ok: @{answer.user} in {answer.team}"),
        *_scopes(answer, settings),
    ]


async def _app_token(settings: Settings) -> list[Finding]:
    subject, token = "slack app token", settings.slack_app_token
    if not token and settings.slack_signing_secret:
        return [
            Finding(
                Level.OK,
                subject,
                "not set; HTTP mode (SLACK_SIGNING_SECRET): beholder serve --http",
            )
        ]
    if not token:
        return [
            Finding(
                Level.FAIL,
                subject,
                "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token with "
                "connections:write (Basic Information → App-Level Tokens); or set "
                "SLACK_SIGNING_SECRET and run beholder serve --http",
            )
        ]
    if not token.startswith("xapp-"):
        return [
            Finding(
                Level.FAIL,
                subject,
                "SLACK_APP_TOKEN is not an app-level token (xapp-…): generate one under "
                "Basic Information → App-Level Tokens",
            )
        ]
    answer = await tokens.check_app_token(token, settings.slack_api_url)
    if not answer.reached:
        return [_unreached(subject, "apps.connections.open", answer, settings)]
    if not answer.ok:
        return [
            Finding(
                Level.FAIL,
                subject,
                f"Socket Mode refused: {answer.error}; turn Socket Mode on in the app's "
                "settings and generate an app-level token with connections:write",
            )
        ]
    return [Finding(Level.OK, subject, "Socket Mode works (apps.connections.open accepted it)")]


def _unreached(subject: str, method: str, answer: tokens.TokenCheck, settings: Settings) -> Finding:
    return Finding(
        Level.FAIL,
        subject,
        f"{method} got no answer from {settings.slack_api_url} ({answer.error}): check that "
        "this machine reaches it (outbound HTTPS, proxy, DNS) and SLACK_API_URL",
    )


def _scopes(answer: tokens.TokenCheck, settings: Settings) -> list[Finding]:
    """The granted scopes against manifest.yml's: a missing one Beholder cannot do
    without fails, another is a warning, and so is one granted beyond them."""
    if answer.scopes is None:
        return [
            Finding(
                Level.WARN,
                "slack scopes",
                "Slack did not list the granted scopes (no x-oauth-scopes header): compare "
                "OAuth & Permissions with manifest.yml",
            )
        ]
    found = []
    gaps = tokens.scope_gaps(answer.scopes)
    needed = set(tokens.ESSENTIAL_SCOPES)
    if settings.allowed_usergroups:
        needed.add("usergroups:read")  # without it every group member is refused
    for scope in gaps.missing:
        level = Level.FAIL if scope in needed else Level.WARN
        found.append(
            Finding(
                level,
                f"slack scope {scope}",
                f"not granted, needed for {tokens.MANIFEST_BOT_SCOPES[scope]}: add it under "
                "OAuth & Permissions (or paste manifest.yml again) and reinstall the app",
            )
        )
    if gaps.extra:
        found.append(
            Finding(
                Level.WARN,
                "slack scopes",
                f"granted beyond manifest.yml: {', '.join(gaps.extra)}; Beholder does not use "
                "them: remove them and reinstall the app",
            )
        )
    if not gaps.missing and not gaps.extra:
        found.append(
            Finding(
                Level.OK,
                "slack scopes",
                f"the {len(tokens.MANIFEST_BOT_SCOPES)} manifest.yml asks for, and no more",
            )
        )
    return found


async def _nodes(settings: Settings, nodes: list[Node], now: datetime) -> list[Finding]:
    """Each node's line, and for the API-SSL ones that answered, their certificate's."""
    if not nodes:
        return []
    try:
        settings.require_router_credentials()
    except ConfigError as exc:
        return [Finding(Level.FAIL, "routers", f"{exc}: set them, then run doctor again")]
    router = RouterClient.from_settings(settings)
    results = await check_nodes(router, nodes)
    secure = [n for n, r in zip(nodes, results, strict=True) if n.tls and isinstance(r, NodeCheck)]
    certificates = await asyncio.gather(
        *(_certificate(router, n, now) for n in secure), return_exceptions=True
    )
    of_node = dict(zip((n.name for n in secure), certificates, strict=True))
    found = []
    for node, result in zip(nodes, results, strict=True):
        found.append(_node(node, result))
        certificate = of_node.get(node.name)
        if isinstance(certificate, BaseException) and not isinstance(certificate, RouterError):
            raise certificate
        if isinstance(certificate, RouterError):
            found.append(Finding(Level.WARN, f"certificate {node.name}", words(certificate)))
        elif certificate is not None:
            found.append(certificate)
    return found


async def _certificate(router: RouterClient, node: Node, now: datetime) -> Finding:
    """How long the certificate `node` presents stays valid (a handshake, no login)."""
    subject = f"certificate {node.name}"
    der = await router.peer_certificate(node)
    try:
        info = describe(der)
    except ValueError as exc:
        return Finding(Level.WARN, subject, f"cannot be decoded ({exc})")
    until = info.not_after.strftime("%Y-%m-%d")
    who = "self-signed" if info.self_signed else f"issued by {info.issuer}"
    renew = (
        f"renew it on the router, then beholder nodes trust {node.name} --replace"
        if node.tls_fingerprint
        else "renew it from the CA that signs the routers' certificates"
    )
    if info.not_after <= now:
        return Finding(Level.WARN, subject, f"expired on {until} ({who}): {renew}")
    if info.not_after - now < CERTIFICATE_NOTICE:
        days = (info.not_after - now).days
        return Finding(Level.WARN, subject, f"expires on {until}, in {days} days ({who}): {renew}")
    return Finding(Level.OK, subject, f"valid until {until} ({who})")


def _node(node: Node, result: NodeCheck | RouterError) -> Finding:
    subject = f"node {node.name} ({node.host}:{node.port})"
    if isinstance(result, RouterError):
        return Finding(Level.FAIL, subject, words(result))
    said = (
        f"RouterOS {result.version or '?'}, identity {result.identity or '?'}, "
        f"login {result.login_s * 1000:.0f} ms"
    )
    if node.tls is TlsMode.INSECURE:
        return Finding(
            Level.WARN,
            subject,
            f"{said}; API-SSL with the certificate NOT verified (tls=insecure): anyone "
            f"answering at its address gets the password; run beholder nodes trust {node.name}",
        )
    if node.tls is TlsMode.YES:
        how = "pinned" if node.tls_fingerprint else "signed by MIKROTIK_TLS_CA or the system"
        return Finding(Level.OK, subject, f"{said}; API-SSL, certificate verified ({how})")
    return Finding(Level.OK, subject, f"{said}; plain API (tls=no)")
