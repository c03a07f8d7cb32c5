"""Every user-facing sentence, in Spanish (es-AR), as pure functions.

Slack blocks (`bot.slack.blocks`), the terminal view and the CLI's error lines
all take their words from here, so a sentence is written once. Markup is
Slack's mrkdwn (``*bold*``, ```code```); `plain` strips it for terminals.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import (
    AmbiguousQuery,
    BeholderError,
    ConfigError,
    InputError,
    InventoryError,
    NodeNotInInventory,
    RouterAuthFailed,
    RouterBusy,
    RouterCircuitOpen,
    RouterError,
    RouterProtocolError,
    RouterRefused,
    RouterTimeout,
    RouterTLSError,
    RouterUnreachable,
    UnknownUser,
)
from bot.inventory import Hit
from bot.live import LiveView
from bot.readings import Reading, plan_mismatch, suspended_while_online, verdict
from bot.routeros import Plan

USAGE = (
    "Uso: `/consumo usuario.pppoe`, por ejemplo `/consumo juan.perez`.\n"
    "En un hilo (donde Slack no permite comandos): `@Beholder consumo juan.perez`."
)

#: What RouterOS's last-disconnect-reason means, for a support operator.
DISCONNECT_REASONS = {
    "peer-request": "la CPE del cliente cerró la sesión",
    "hung-up": "se cortó el enlace con la CPE",
    "idle-timeout": "cortada por inactividad",
    "session-timeout": "llegó al tiempo máximo de sesión",
    "reset": "sesión reiniciada",
    "reboot": "se reinició el router",
    "port-error": "error en el puerto",
    "nas-error": "error del router (NAS)",
    "nas-request": "cortada desde el router o RADIUS",
    "admin-reset": "cortada por un administrador",
    "user-request": "cortada por el usuario",
    "lost-carrier": "se perdió la portadora",
    "lost-service": "se perdió el servicio",
    "callback": "callback",
}


# -- numbers -----------------------------------------------------------------------


def mbps(bps: int | None) -> str:
    """Decimal megabits (1 Mbps = 1,000,000 bps), es-AR decimal comma."""
    if bps is None:
        return "s/d"
    value = bps / 1_000_000
    digits = 0 if value >= 100 else 1 if value >= 10 else 2
    return f"{_number(value, digits)} Mbps"


def plan_rate(bps: int) -> str:
    """A plan figure, without needless decimals: ``50``, ``1,5``."""
    value = bps / 1_000_000
    return _number(value, 0) if value == int(value) else _number(value, 1)


def percent(value: float | None) -> str:
    return "s/d" if value is None else f"{_number(value, 0)} %"


def meter(value: float | None, width: int = 10) -> str:
    """A bar readable on a phone: ``▰▰▰▰▰▰▰▰▱▱``."""
    if value is None:
        return ""
    filled = min(width, max(0, round(value / 100 * width)))
    return "▰" * filled + "▱" * (width - filled)


def plan_label(plan: Plan | None) -> str:
    """Download first, as ISPs sell it: ``50/10 Mbps``."""
    if plan is None:
        return "sin cola dinámica (plan desconocido)"
    return f"{plan_rate(plan.download_bps)}/{plan_rate(plan.upload_bps)} Mbps"


def duration(seconds: int | None) -> str:
    """``2 d 3 h``, ``4 h 12 min``, ``35 s``: the two largest units."""
    if seconds is None:
        return "s/d"
    units = (("sem", 604_800), ("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))
    parts: list[str] = []
    rest = seconds
    for name, size in units:
        count, rest = divmod(rest, size)
        if count or parts:
            parts.append(f"{count} {name}")
        if len(parts) == 2:
            break
    parts = [p for p in parts if not p.startswith("0 ")] or ["0 s"]
    return " ".join(parts)


def local_time(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M:%S")


def zone(name: str) -> tzinfo:
    """The configured time zone, or UTC if this machine lacks its tz data."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def reason(code: str) -> str:
    if not code:
        return "s/d"
    meaning = DISCONNECT_REASONS.get(code)
    return f"{meaning} ({code})" if meaning else code


def plain(text: str) -> str:
    """Slack mrkdwn → terminal text (drops the bold markers)."""
    return text.replace("*", "")


def _number(value: float, digits: int) -> str:
    if not math.isfinite(value):
        return "s/d"
    return f"{value:,.{digits}f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")


# -- sentences about a reading ---------------------------------------------------------


def consulting(user: str) -> str:
    return f"Consultando `{user}` en su router…"


def direction_line(reading: Reading, direction: str) -> str:
    """``45,2 Mbps · 90 % de 50 Mbps`` for Bajada or Subida."""
    traffic, plan = reading.traffic, reading.plan
    if traffic is None:
        return "s/d (la sesión terminó durante la consulta)"
    download = direction == "download"
    value = traffic.download_bps if download else traffic.upload_bps
    if plan is None:
        return mbps(value)
    limit = plan.download_bps if download else plan.upload_bps
    share = reading.download_pct if download else reading.upload_pct
    return f"{mbps(value)} · {percent(share)} de {plan_rate(limit)} Mbps"


def summary(reading: Reading) -> str:
    """One line with the figures: what phone notifications and screen readers get."""
    where = f"{reading.user} en {reading.node}"
    if not reading.online:
        when = reading.secret.last_logged_out or "s/d"
        return f"{where}: sin sesión PPPoE activa (última desconexión {when})."
    line = (
        f"{where}: Bajada {direction_line(reading, 'download')}; "
        f"Subida {direction_line(reading, 'upload')}."
    )
    if reading.plan is None:
        line += " Plan desconocido (sin cola dinámica)."
    return line


def duplicate_note(reading: Reading) -> str | None:
    if not reading.also_on:
        return None
    others = ", ".join(f"*{n}*" for n in reading.also_on)
    return (
        f":warning: Usuario duplicado: `{reading.user}` también está configurado en {others}. "
        f"La sesión que cuenta es la de *{reading.node}*."
        if reading.online
        else f":warning: Usuario duplicado: `{reading.user}` también está configurado en {others}."
    )


def verdict_lines(reading: Reading) -> list[str]:
    """What the reading means for the call: the first thing an operator reads."""
    v = verdict(reading)
    side = "bajada" if v.direction == "download" else "subida"
    match v.kind:
        case "offline":
            lines = ["Sin sesión PPPoE activa: el equipo del cliente no está conectado."]
        case "disabled":
            lines = ["Sin sesión PPPoE: el secret está deshabilitado en el router."]
        case "saturated":
            lines = [
                f"Usa el {percent(v.share_pct)} del plan ({side}): está saturando su propio enlace."
            ]
        case "low":
            lines = [
                f"Uso bajo ({percent(v.share_pct)} del plan): el problema no es consumo; "
                "revisar señal, WiFi o la CPE."
            ]
        case "moderate":
            lines = [
                f"Uso moderado ({percent(v.share_pct)} del plan, {side}): no está saturando; "
                "si reclama lentitud, revisar señal, WiFi o la CPE."
            ]
        case "unknown_plan":
            lines = ["Plan desconocido (sin cola dinámica): no se puede decir si satura."]
        case _:
            lines = ["La sesión terminó durante la consulta: probá Actualizar."]
    if "queue_dropping" in v.signs:
        lines.append(
            f"La cola del plan está descartando paquetes ({v.dropped:,} en esta sesión).".replace(
                ",", "."
            )
        )
    if "recent_reconnect" in v.signs:
        lines.append(f"Reconectó hace {duration(v.uptime_s)}: puede ser un enlace inestable.")
    return lines


def match_note(reading: Reading) -> str | None:
    """How the operator's text led to this user, when it was not the exact name."""
    match = reading.match
    if match is None or match.how == "exact":
        return None
    asked = f"«{match.query}»"
    match match.how:
        case "ip":
            return f":mag: Encontrado por la IP {match.detail}."
        case "mac":
            return f":mag: Encontrado por la MAC {match.detail}."
        case "key":
            return f":mag: Buscaste {asked}: el usuario PPPoE es `{reading.user}`."
        case "name":
            return f":mag: Buscaste {asked}: coincide con el usuario `{reading.user}`."
        case "comment":
            return f":mag: Buscaste {asked}: coincide con el comentario del secret."
        case "pulled":
            return (
                ":mag: No estaba en el inventario (alta reciente): "
                "lo encontré preguntando a los routers."
            )
    return None


def customer_line(reading: Reading) -> str | None:
    """The management system's view: who the customer is, or that nobody is linked."""
    if reading.linked is None:
        return None
    customer = reading.customer
    if customer is None:
        return "*No vinculado*: este usuario PPPoE no tiene cliente en el sistema de gestión."
    line = f"Cliente *{customer.customer_name or 's/d'}* (N.º {customer.customer_id or 's/d'})"
    if customer.status:
        line += f" · estado: {customer.status}"
    return line


def management_warnings(reading: Reading) -> list[str]:
    customer = reading.customer
    notes = []
    if plan_mismatch(reading) and customer is not None:
        sold = Plan(customer.plan_download_bps or 0, customer.plan_upload_bps or 0)
        notes.append(
            f":warning: El plan del sistema de gestión ({plan_label(sold)}) no coincide con la "
            f"cola del router ({plan_label(reading.plan)}): revisar el alta o el perfil."
        )
    if suspended_while_online(reading) and customer is not None:
        notes.append(
            f":warning: El cliente figura «{customer.status}» en el sistema de gestión, "
            "pero tiene la sesión PPPoE activa."
        )
    return notes


def unavailable_note(reading: Reading) -> str | None:
    if not reading.unavailable:
        return None
    names = ", ".join(f"*{e.node}*" for e in reading.unavailable)
    return f":grey_question: No se pudo consultar {names}: la sesión activa podría estar ahí."


def reading_lines(reading: Reading, tz: tzinfo) -> list[str]:
    """The reading as terminal lines (``beholder consumo``, the demo)."""
    head = f"{reading.user} @ {reading.node}   ({local_time(reading.taken_at, tz)})"
    lines = [head, *("  » " + plain(line) for line in verdict_lines(reading))]
    if reading.secret.comment:
        lines.append(f"  Comentario: {reading.secret.comment}")
    for note in (match_note(reading), customer_line(reading)):
        if note:
            lines.append("  " + plain(note.removeprefix(":mag: ")))
    if reading.online:
        session = reading.session
        assert session is not None
        lines += [
            f"  Bajada:    {direction_line(reading, 'download')}  {meter(reading.download_pct)}",
            f"  Subida:    {direction_line(reading, 'upload')}  {meter(reading.upload_pct)}",
            f"  Plan:      {plan_label(reading.plan)} ({reading.secret.profile or 's/d'})",
            f"  IP:        {session.address or 's/d'}",
            f"  MAC:       {session.caller_id or 's/d'}",
            f"  Conectado: hace {duration(session.uptime_s)}",
        ]
    else:
        lines += offline_lines(reading)
    for note in (*management_warnings(reading), duplicate_note(reading), unavailable_note(reading)):
        if note:
            lines.append("  " + plain(note.split(" ", 1)[1]))
    return lines


def offline_lines(reading: Reading) -> list[str]:
    secret = reading.secret
    lines = ["  Estado:    SIN SESIÓN PPPoE ACTIVA"]
    if secret.disabled:
        lines.append("  Secret:    DESHABILITADO en el router")
    lines += [
        f"  Última desconexión: {secret.last_logged_out or 's/d'}",
        f"  Motivo:    {reason(secret.last_disconnect_reason)}",
        f"  Última MAC: {secret.last_caller_id or 's/d'}",
    ]
    return lines


# -- errors --------------------------------------------------------------------------------


def error(err: BeholderError) -> str:
    """What happened and what to do, naming the user and the cause."""
    user = _user_of(err)
    who = f" al consultar `{user}`" if user else ""
    match err:
        case InputError(reason="empty"):
            return "Falta el usuario PPPoE.\n" + USAGE
        case InputError(reason="too_long"):
            return "Eso es demasiado largo para ser un usuario PPPoE.\n" + USAGE
        case InputError():
            return f"`{shown(err.text)}` no parece un usuario PPPoE.\n" + USAGE
        case UnknownUser():
            text = (
                f"No encontré `{err.user}` en ningún router: ni como usuario PPPoE, "
                "ni en los comentarios, ni como IP o MAC."
            )
            if err.suggestions:
                names = ", ".join(f"`{s}`" for s in err.suggestions)
                text += f"\n¿Quisiste decir: {names}?"
            else:
                text += (
                    "\nRevisá cómo está escrito: se puede buscar por usuario PPPoE, por nombre "
                    "o dirección del cliente, por IP o por MAC."
                )
            return text
        case AmbiguousQuery():
            return f"«{err.query}» coincide con {len(err.hits)} abonados. Elegí uno:\n" + "\n".join(
                f"• `{h.name}`" + (f" — {h.detail}" if h.detail else "") for h in err.hits
            )
        case NodeNotInInventory():
            return (
                f"`{err.user}` está configurado en el nodo *{err.node}*, pero ese nodo no figura "
                "en el inventario de nodos, así que no sé a qué dirección preguntarle. "
                "Un administrador debe agregarlo (`beholder nodes import`)."
            )
        case RouterCircuitOpen():
            why = f" ({_cause(err.cause)})" if err.cause else ""
            return (
                f"El router *{err.node}* falló recién{why}, hace {err.since_s:.0f} s{who}. "
                "Para no acumular consultas sobre un router con problemas, Beholder no le "
                f"vuelve a preguntar hasta dentro de {max(1, round(err.retry_in_s))} s. "
                "Si el corte sigue, revisá el nodo."
            )
        case RouterBusy():
            return (
                f"El router *{err.node}* está respondiendo, pero ya hay {err.sessions} consultas "
                f"de Beholder en curso con él y no hubo lugar en {err.seconds:g} s{who}. "
                "Probá de nuevo en unos segundos."
            )
        case RouterTimeout():
            return (
                f"El router *{err.node}* no respondió a tiempo ({err.seconds:g} s){who}. "
                "Puede estar caído o saturado: probá de nuevo en un minuto y, si sigue, "
                "revisá el nodo."
            )
        case RouterRefused():
            return (
                f"El router *{err.node}* rechazó la conexión a la API{who}. "
                "¿Está habilitado el servicio api (o api-ssl) en /ip/service y con ese puerto?"
            )
        case RouterAuthFailed():
            return (
                f"El router *{err.node}* rechazó el usuario o la contraseña de Beholder{who}. "
                "Un administrador debe revisar la cuenta de API (MIKROTIK_USER) en ese router."
            )
        case RouterTLSError():
            return (
                f"Falló la conexión cifrada (API-SSL) con *{err.node}*{who}. "
                "Revisá el certificado del router o si el nodo realmente usa api-ssl."
            )
        case RouterProtocolError():
            return (
                f"El router *{err.node}* cortó la sesión o respondió algo inesperado{who}. "
                "Puede haber llegado a su límite de sesiones de API: probá de nuevo en un "
                "momento; si se repite, revisar el router."
            )
        case RouterUnreachable():
            return (
                f"No hay conexión con el router *{err.node}*{who}. "
                "Revisá la conectividad con el nodo (¿caído, sin ruta?)."
            )
        case ConfigError():
            return f"Configuración incompleta: {err}."
        case InventoryError():
            return str(err)  # admin commands (CSV import, nodes): the detail is the message
        case _:
            return f"No se pudo completar la consulta{who}: {type(err).__name__}."


def _cause(err: RouterError) -> str:
    """A few words on why a router failed, for the circuit-breaker message."""
    match err:
        case RouterTimeout():
            return "no respondió a tiempo"
        case RouterRefused():
            return "rechazó la conexión"
        case RouterUnreachable():
            return "sin conexión"
        case RouterTLSError():
            return "falló el TLS"
        case _:
            return "cortó la sesión"


def shown(text: str, limit: int = 60) -> str:
    """Operator text as it may be echoed: control characters made visible, cut short."""
    visible = "".join("�" if unicodedata.category(c)[0] == "C" else c for c in text)
    return visible if len(visible) <= limit else visible[: limit - 1] + "…"


def candidate(hit: Hit) -> str:
    """One line of an ambiguous search: the user and what matched."""
    return f"• `{hit.name}`" + (f" — {hit.detail}" if hit.detail else "")


def unexpected(user: str | None) -> str:
    who = f" al consultar `{user}`" if user else ""
    return (
        f"Algo falló de nuestro lado{who}. Quedó registrado en el log; "
        "probá de nuevo y, si se repite, avisá a quien mantiene Beholder."
    )


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
    allowed group) or "unverified" (the group membership could not be checked).
    `usergroups`: ids (``S…``) or handles (``@soporte-n2``).
    """
    groups = _either([_group_ref(g) for g in usergroups])
    if reason == "channel":
        where = _either([f"<#{c}>" for c in sorted(channels)])
        return (
            "Beholder no atiende consultas en este canal, así que no consulté ningún router. "
            f"Usalo en {where}. Si hace falta usarlo acá, pedile a quien administra Beholder "
            "que agregue este canal a los permitidos."
        )
    if reason == "unverified":
        return (
            f"No pude comprobar si integrás {groups} (Slack no me dio la lista de integrantes), "
            "así que no consulté ningún router. Probá de nuevo en un minuto; si sigue pasando, "
            "avisale a quien administra Beholder."
        )
    who = []
    if usergroups:
        who.append(f"los integrantes de {groups}")
    if users_listed or not who:
        who.append("las personas habilitadas una por una")
    ask = f"Pedí que te sumen a {groups}, o pedile" if usergroups else "Pedile"
    return (
        f"No tenés permiso para consultar a Beholder, así que no consulté ningún router. "
        f"Lo pueden usar {' y '.join(who)}. {ask} acceso a quien administra Beholder."
    )


def _group_ref(group: str) -> str:
    """A user group as Slack shows it: ``<!subteam^S…>`` renders its handle."""
    return group if group.startswith("@") else f"<!subteam^{group}>"


def _either(items: Sequence[str]) -> str:
    """``a``, ``a o b``, ``a, b o c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} o {items[-1]}"


# -- live views (`/consumo usuario 30s`, the "En vivo 30 s" button) ------------------------


def live_title(view: LiveView) -> str:
    """The live message's header: who, where, and whether it is still running."""
    state = "en vivo" if view.running else f"{view.seconds} s"
    return f"📈 {view.user} · {view.node} · {state}"


def live_progress(view: LiveView) -> str:
    """``Muestra 12 de 30 · quedan 18 s``: how far a running view is."""
    return f"Muestra {len(view.samples)} de {view.seconds} · quedan {math.ceil(view.remaining_s)} s"


def live_now(view: LiveView, direction: str) -> str:
    """The last sample of one direction, with its share of the plan."""
    last = view.last
    if last is None or last.traffic is None:
        return "s/d"
    download = direction == "download"
    value = last.traffic.download_bps if download else last.traffic.upload_bps
    if view.plan is None:
        return mbps(value)
    limit = view.plan.download_bps if download else view.plan.upload_bps
    share = value * 100 / limit if limit else None
    return f"{mbps(value)} · {percent(share)} de {plan_rate(limit)} Mbps"


def live_spread(view: LiveView, direction: str) -> str:
    """``mín 40,1 · prom 44,9 · p95 47,2 · máx 48,0 Mbps`` for one direction."""
    stats = view.stats
    if stats is None:
        return "sin muestras"
    spread = stats.download if direction == "download" else stats.upload

    def figure(bps: float) -> str:
        return mbps(round(bps)).removesuffix(" Mbps")

    return (
        f"mín {figure(spread.min)} · prom {figure(spread.avg)} · "
        f"p95 {figure(spread.p95)} · máx {figure(spread.max)} Mbps"
    )


def live_ended(view: LiveView) -> str:
    """How a live view ended, in one sentence."""
    at = f"a los {round(view.last.offset_s) if view.last else 0} s"
    match view.outcome:
        case "completed":
            return f"Terminó: {len(view.samples)} muestras en {view.seconds} s."
        case "stopped":
            who = f" por <@{view.stopped_by}>" if view.stopped_by else ""
            return f"Detenida{who} {at}."
        case "offline":
            return f"Se cortó la sesión PPPoE de `{view.user}` {at}: el equipo se desconectó."
        case "cancelled":
            return f"Interrumpida {at}: Beholder se detuvo."
        case "failed" if view.error is not None:
            return error(view.error)
        case "failed":
            return unexpected(view.user)
    return live_progress(view)


def live_summary(view: LiveView) -> str:
    """The live message's plain text (phone notifications read only this)."""
    where = f"{view.user} en {view.node}"
    if view.running:
        return (
            f"{where}, en vivo ({len(view.samples)}/{view.seconds} s): "
            f"Bajada {live_now(view, 'download')}; Subida {live_now(view, 'upload')}."
        )
    stats = view.stats
    if stats is None:
        return f"{where}, vista en vivo: {live_ended(view)}"
    return (
        f"{where}, {stats.samples} muestras en vivo: "
        f"Bajada {live_spread(view, 'download')}; Subida {live_spread(view, 'upload')}. "
        f"{live_ended(view)}"
    )


def live_requested(view: LiveView) -> str:
    """Who asked for the view and who joined it: a context line."""
    line = f"Una muestra por segundo durante {view.seconds} s en {view.node}"
    if view.started_by:
        line += f" · pedida por <@{view.started_by}>"
    if view.watchers:
        line += " · también: " + ", ".join(f"<@{w}>" for w in view.watchers)
    return line


def live_report(view: LiveView) -> str:
    """The chart's comment in the thread: the figures, and who wanted them."""
    stats = view.stats
    lines = [f"*{view.user}* en *{view.node}* · plan {plan_label(view.plan)}"]
    if stats is not None:
        lines += [
            f"{stats.samples} muestras en {round(stats.span_s) + 1} s",
            f"*Bajada*: {live_spread(view, 'download')}",
            f"*Subida*: {live_spread(view, 'upload')}",
        ]
    lines.append(live_ended(view))
    people = [p for p in (view.started_by, *view.watchers) if p]
    if people:
        lines.append("Para " + ", ".join(f"<@{p}>" for p in people))
    return "\n".join(lines)


def live_chart_alt(view: LiveView) -> str:
    """The chart's alt text, for screen readers and where images do not load."""
    stats = view.stats
    text = (
        f"Gráfico de bajada y subida de {view.user} en {view.node}, "
        f"una muestra por segundo, en Mbps"
    )
    if view.plan is not None:
        text += f", con la línea del plan {plan_label(view.plan)}"
    if stats is not None:
        text += f". Bajada: {live_spread(view, 'download')}"
        text += f". Subida: {live_spread(view, 'upload')}"
    return text + "."


def live_busy(view: LiveView, link: str | None, channel: str | None = None) -> str:
    """A second request for the same subscriber joins the running view."""
    where = (
        f"<{link}|en este mensaje>"
        if link
        else f"en <#{channel}>"
        if channel
        else "en el canal donde se pidió"
    )
    return (
        f"Ya hay una vista en vivo de `{view.user}` en curso {where} "
        f"(quedan {math.ceil(view.remaining_s)} s). No abro otra sobre el mismo router: "
        "te sumé y te menciono cuando esté el gráfico."
    )


def live_full(limit: int) -> str:
    views = "1 vista" if limit == 1 else f"{limit} vistas"
    return (
        f"Ya hay {views} en vivo en curso, el máximo a la vez: cada una ocupa una "
        "sesión de API en su router. Probá de nuevo en un rato, o pedí una muestra "
        "puntual con `/consumo usuario`."
    )


def live_node_full(node: str, limit: int) -> str:
    views = "1 vista" if limit == 1 else f"{limit} vistas"
    return (
        f"El router *{node}* ya tiene {views} en vivo en curso, el máximo allí "
        "para no quitarle sesiones de API a las consultas comunes. Probá de nuevo en un rato, "
        "o pedí una muestra puntual con `/consumo usuario`."
    )


def live_offline(user: str, node: str) -> str:
    where = f"`{user}` no tiene una sesión PPPoE activa en *{node}*"
    return f"{where}: no hay tráfico que mirar en vivo."


def live_not_in_channel() -> str:
    return (
        "No puedo publicar la vista en vivo en este canal porque Beholder no es miembro: "
        "invitalo con `/invite @Beholder` y volvé a probar. (Las consultas puntuales con "
        "`/consumo usuario` funcionan sin invitarlo.)"
    )


def live_already_over() -> str:
    return "Esa vista en vivo ya terminó."


def live_chart_failed() -> str:
    return (
        "No pude subir el gráfico de la vista en vivo (¿le falta a la app el permiso "
        "`files:write`?). Las cifras quedan en el mensaje de arriba."
    )


def live_usage(max_seconds: int) -> str:
    return (
        f"Vista en vivo: `/consumo usuario 30s` (entre 3 y {max_seconds} s), "
        "o el botón «En vivo 30 s» de una consulta."
    )


def nothing_in_message() -> str:
    return (
        "No encontré un usuario PPPoE, una IP ni una MAC de un abonado en ese mensaje. "
        "Probá con `/consumo` y el dato que tengas (usuario, nombre, dirección, IP o MAC)."
    )


def invite_needed() -> str:
    return (
        "No puedo publicar en este canal: invitá a @Beholder (`/invite @Beholder`) "
        "y volvé a intentar."
    )
