"""Every user-facing string in Spanish (es-AR), Beholder's default language.

Templates for `str.format` with named placeholders; markup (``*bold*``,
backticks, emoji codes) is part of the text, but never around a
placeholder: values from outside (names, nodes, comments) arrive already escaped
and marked by `bot.present.markup.literal`. `bot.present.lang` picks the catalog.
"""

MESSAGES: dict[str, str] = {
    # -- numbers and units ------------------------------------------------------------
    "number.decimal": ",",
    "number.thousands": ".",
    "na": "s/d",
    "mbps": "{value} Mbps",
    "percent": "{value} %",
    "plan.rate": "{download}/{upload} Mbps",
    "plan.unknown": "sin cola dinámica (plan desconocido)",
    "duration.week": "{count} sem",
    "duration.day": "{count} d",
    "duration.hour": "{count} h",
    "duration.minute": "{count} min",
    "duration.second": "{count} s",
    "list.or": "{head} o {last}",
    "list.and": "{head} y {last}",
    # -- what RouterOS's last-disconnect-reason means, for a support operator ------------
    "disconnect.peer-request": "la CPE del cliente cerró la sesión",
    "disconnect.hung-up": "se cortó el enlace con la CPE",
    "disconnect.idle-timeout": "cortada por inactividad",
    "disconnect.session-timeout": "llegó al tiempo máximo de sesión",
    "disconnect.reset": "sesión reiniciada",
    "disconnect.reboot": "se reinició el router",
    "disconnect.port-error": "error en el puerto",
    "disconnect.nas-error": "error del router (NAS)",
    "disconnect.nas-request": "cortada desde el router o RADIUS",
    "disconnect.admin-reset": "cortada por un administrador",
    "disconnect.user-request": "cortada por el usuario",
    "disconnect.lost-carrier": "se perdió la portadora",
    "disconnect.lost-service": "se perdió el servicio",
    "disconnect.callback": "callback",
    "disconnect_reason": "{meaning} ({code})",
    # -- usage --------------------------------------------------------------------------
    "usage": (
        "Uso: `/consumo usuario.pppoe`, por ejemplo `/consumo juan.perez`.\n"
        "En un hilo (donde Slack no permite comandos): `@Beholder consumo juan.perez`.\n"
        "Todas las formas de preguntar: `/consumo ayuda`."
    ),
    "help": (
        "*Cómo consultar a Beholder*\n"
        "• `/consumo juan.perez`: la bajada y la subida del abonado en este momento, "
        "contra su plan, publicadas en el canal. También sirven el nombre del cliente o "
        "la calle (`/consumo perez san martin`), una IP (`/consumo 100.64.0.10`) o la MAC "
        "de la CPE (`/consumo 4c-5e-0c-12-34-56`).\n"
        "• `/consumo juan.perez 30s`: lo mira en vivo esa cantidad de segundos "
        "(de {low} a {high}) y al final deja un gráfico en el hilo.\n"
        "• `/consumo juan.perez diag`: la lectura y por qué puede andar lento: ping desde "
        "el router a la IP del abonado (última milla) y lo que más tráfico lleva.\n"
        "• En un hilo, donde Slack no permite comandos: `@Beholder consumo juan.perez`; "
        "`@Beholder` solo consulta al abonado del primer mensaje del hilo.\n"
        "• *Ver consumo*, en el menú … de un mensaje: busca el usuario, la IP o la MAC "
        "en ese mensaje y responde en su hilo.\n"
        "• En una lectura, *{refresh}* toma una muestra nueva, *{live}* la mira en vivo "
        "y *{diag}* la diagnostica.\n"
        "Los errores de tipeo y las sugerencias los ves solo vos; las fallas de un router "
        "se publican en el canal, para que el equipo se entere."
    ),
    # -- a reading ----------------------------------------------------------------------
    "consulting": "Consultando {user} en su router…",
    "diagnosing": "Diagnosticando {user} desde su router (ping y tráfico, unos segundos)…",
    "direction.ended": "s/d (la sesión terminó durante la consulta)",
    "direction.share": "{rate} · {share} de {plan} Mbps",
    "summary.where": "{user} en {node}",
    "summary.offline": "{where}: sin sesión PPPoE activa (última desconexión {when}).",
    "summary.online": "{where}: Bajada {download}; Subida {upload}.",
    "summary.online_unknown_plan": (
        "{where}: Bajada {download}; Subida {upload}. Plan desconocido (sin cola dinámica)."
    ),
    "duplicate.online": (
        "Usuario duplicado: {user} también está configurado en {others}. "
        "La sesión que cuenta es la de {node}."
    ),
    "duplicate.offline": ("Usuario duplicado: {user} también está configurado en {others}."),
    "side.download": "bajada",
    "side.upload": "subida",
    "verdict.offline": "Sin sesión PPPoE activa: el equipo del cliente no está conectado.",
    "verdict.disabled": "Sin sesión PPPoE: el secret está deshabilitado en el router.",
    "verdict.saturated": "Usa el {share} del plan ({side}): está saturando su propio enlace.",
    "verdict.low": (
        "Uso bajo ({share} del plan): el problema no es consumo; revisar señal, WiFi o la CPE."
    ),
    "verdict.moderate": (
        "Uso moderado ({share} del plan, {side}): no está saturando; "
        "si reclama lentitud, revisar señal, WiFi o la CPE."
    ),
    "verdict.unknown_plan": "Plan desconocido (sin cola dinámica): no se puede decir si satura.",
    "verdict.no_data": "La sesión terminó durante la consulta: probá Actualizar.",
    "verdict.queue_dropping": (
        "La cola del plan está descartando paquetes ({dropped} en esta sesión)."
    ),
    "verdict.recent_reconnect": "Reconectó hace {uptime}: puede ser un enlace inestable.",
    # -- a diagnosis (beholder diag) ---------------------------------------------------------
    "diag.last_mile": (
        "Problema en la última milla (pérdida {loss}, latencia {rtt} ms): revisar señal/CPE."
    ),
    "diag.dominant_flow": "La mayor parte es {flow}: ese equipo o aplicación llena el enlace.",
    "diag.healthy": "El enlace está sano; revisar WiFi o el equipo del cliente.",
    "diag.inconclusive": "Sin conclusión clara: revisar el consumo y repetir el diagnóstico.",
    "diag.failed": "No se pudo diagnosticar. {reason}",
    "diag.offline": (
        "{user} no está conectado: no hay nada que diagnosticar. Revisar la CPE "
        "(energía, señal) y repetir cuando vuelva a conectarse."
    ),
    "diag.ping": (
        "Ping a {address}: {received}/{sent} respuestas, pérdida {loss}, "
        "latencia mín/prom/máx {rtt_min}/{rtt_avg}/{rtt_max} ms, jitter {jitter} ms"
    ),
    "diag.ping_unmeasured": "Ping: no se pudo medir (el router no respondió a tiempo).",
    "diag.ping_refused": (
        "Ping: el router no pudo hacerlo (respondió con un error); revisar el router."
    ),
    "diag.ping_no_address": (
        "Ping: no se hizo (el router no da una IP para esta sesión); revisar la sesión PPPoE."
    ),
    "diag.partial": (
        "Medición parcial: el router no terminó a tiempo; las cifras son de lo que llegó."
    ),
    "diag.top": "Mayor tráfico en {seconds} s:",
    "diag.flow": "{flow}: bajada {download}, subida {upload}",
    "diag.no_flows": "Torch: sin tráfico en esos segundos.",
    "diag.torch_unmeasured": "Torch: no se pudo medir; repetir el diagnóstico en un momento.",
    "match.ip": "Encontrado por la IP {detail}.",
    "match.mac": "Encontrado por la MAC {detail}.",
    "match.key": "Buscaste «{query}»: el usuario PPPoE es {user}.",
    "match.name": "Buscaste «{query}»: coincide con el usuario {user}.",
    "match.comment": "Buscaste «{query}»: coincide con el comentario del secret.",
    "match.pulled": (
        "No estaba en el inventario (alta reciente): lo encontré preguntando a los routers."
    ),
    "customer.unlinked": (
        "*No vinculado*: este usuario PPPoE no tiene cliente en el sistema de gestión."
    ),
    "customer.line": "Cliente {name} (N.º {id})",
    "customer.line_status": "Cliente {name} (N.º {id}) · estado: {status}",
    "warning.plan_mismatch": (
        "El plan del sistema de gestión ({sold}) no coincide con la "
        "cola del router ({queue}): revisar el alta o el perfil."
    ),
    "warning.suspended_online": (
        "El cliente figura «{status}» en el sistema de gestión, pero tiene la sesión PPPoE activa."
    ),
    "unavailable": ("No se pudo consultar {nodes}: la sesión activa podría estar ahí."),
    # -- a reading in the terminal (`beholder consumo`, the demo) --------------------------
    "term.head": "{user} @ {node}   ({time})",
    "term.comment": "Comentario: {comment}",
    "term.download": "Bajada:    {line}  {meter}",
    "term.upload": "Subida:    {line}  {meter}",
    "term.plan": "Plan:      {plan} ({profile})",
    "term.ip": "IP:        {ip}",
    "term.mac": "MAC:       {mac}",
    "term.uptime": "Conectado: hace {uptime}",
    "term.offline": "Estado:    SIN SESIÓN PPPoE ACTIVA",
    "term.disabled": "Secret:    DESHABILITADO en el router",
    "term.last_logout": "Última desconexión: {when}",
    "term.reason": "Motivo:    {reason}",
    "term.last_mac": "Última MAC: {mac}",
    "term.only_you": "(solo visible para vos)",
    "term.operator": "@operador",
    # -- a reading in Slack ---------------------------------------------------------------
    "field.download": "*Bajada*\n{line}\n{meter}",
    "field.upload": "*Subida*\n{line}\n{meter}",
    "field.plan": "*Plan*\n{plan}\n{profile}",
    "field.uptime": "*Conectado hace*\n{uptime}",
    "field.ip": "*IP*\n{ip}",
    "field.mac": "*MAC*\n{mac}",
    "field.offline": "*Estado*\nSin sesión PPPoE activa",
    "field.disabled": "*Secret*\n:no_entry: Deshabilitado en el router",
    "field.last_logout": "*Última desconexión*\n{when}",
    "field.reason": "*Motivo*\n{reason}",
    "field.last_mac": "*Última MAC*\n{mac}",
    "field.download_now": "*Bajada ahora*\n{value}",
    "field.upload_now": "*Subida ahora*\n{value}",
    "field.download_spread": "*Bajada*\n{spread}",
    "field.upload_spread": "*Subida*\n{spread}",
    "field.live_plan": "*Plan*\n{plan}",
    "sample": "Muestra de las {time} en {node}",
    "requested_by": " · pedida por <@{user}>",
    "button.refresh": "Actualizar",
    "button.pick": "Consultar",
    "button.live": "En vivo {seconds} s",
    "button.diag": "Diagnosticar",
    "button.stop": "Detener",
    # -- errors ---------------------------------------------------------------------------
    "error.who": " al consultar {user}",
    "error.empty": "Falta el usuario PPPoE.\n{usage}",
    "error.too_long": "Eso es demasiado largo para ser un usuario PPPoE.\n{usage}",
    "error.invalid": "{text} no parece un usuario PPPoE.\n{usage}",
    "error.unknown_user": (
        "No encontré {user} en ningún router: ni como usuario PPPoE, "
        "ni en los comentarios, ni como IP o MAC."
    ),
    "error.not_confirmed": (
        "No encontré {user} en el inventario ni en los routers que respondieron. "
        "No pude preguntarle a {nodes}: puede estar ahí. Probá de nuevo en un minuto."
    ),
    "error.unchecked_node": "{node} ({cause})",
    "error.pull_rate": (
        "{user} no está en el inventario y no les pregunté a los routers: ya buscaste "
        "{limit} usuarios que no están en el inventario en el último minuto, el máximo "
        "para no cargar los routers. Esperá {seconds} s y probá de nuevo."
    ),
    "error.pull_busy": (
        "{user} no está en el inventario y no les pregunté a los routers: ya hay "
        "{count} búsquedas de usuarios nuevos en curso y ninguna terminó en {seconds} s. "
        "Probá de nuevo en unos segundos."
    ),
    "error.did_you_mean": "¿Quisiste decir: {names}?",
    "error.how_to_search": (
        "Revisá cómo está escrito: se puede buscar por usuario PPPoE, por nombre "
        "o dirección del cliente, por IP o por MAC."
    ),
    "error.ambiguous": "«{query}» coincide con {count} abonados. Elegí uno:",
    "error.candidate": "• {name}",
    "error.candidate_detail": "• {name} — {detail}",
    "error.node_not_in_inventory": (
        "{user} está configurado en el nodo {node}, pero ese nodo no figura "
        "en el inventario de nodos, así que no sé a qué dirección preguntarle. "
        "Un administrador debe agregarlo (`beholder nodes import`)."
    ),
    "error.inventory.corrupt": (
        "El inventario ({path}) está dañado o no es una base de Beholder, así que no "
        "puedo buscar abonados. Un administrador debe restaurarlo de un respaldo o "
        "recrearlo (`beholder nodes import` y `beholder sync`)."
    ),
    "error.inventory.read_only": (
        "No puedo escribir en el inventario ({path}): el archivo, su carpeta o el disco "
        "son de solo lectura. Un administrador debe darle permiso de escritura al "
        "usuario que corre Beholder."
    ),
    "error.inventory.cannot_open": (
        "No puedo abrir el inventario ({path}). Un administrador debe revisar que la "
        "carpeta exista y que el usuario que corre Beholder pueda leerla y escribirla."
    ),
    "error.inventory.locked": (
        "El inventario ({path}) está bloqueado por otro proceso que está escribiendo. "
        "Probá de nuevo en un momento; si sigue, buscá ese proceso (¿un `beholder sync` "
        "colgado?)."
    ),
    "error.inventory.full": (
        "El disco del inventario ({path}) está lleno: no puedo guardar nada. "
        "Un administrador debe liberar espacio."
    ),
    "error.inventory.io": (
        "Falló la lectura o escritura del inventario ({path}): {detail}. "
        "Un administrador debe revisar el archivo y el disco."
    ),
    "error.circuit_open": (
        "El router {node} falló recién{why}, hace {since} s{who}. "
        "Para no acumular consultas sobre un router con problemas, Beholder no le "
        "vuelve a preguntar hasta dentro de {retry} s. "
        "Si el corte sigue, revisá el nodo."
    ),
    "error.circuit_why": " ({cause})",
    "error.busy": (
        "El router {node} está respondiendo, pero ya hay {sessions} consultas "
        "de Beholder en curso con él y no hubo lugar en {seconds} s{who}. "
        "Probá de nuevo en unos segundos."
    ),
    "error.timeout": (
        "El router {node} no respondió a tiempo ({seconds} s){who}. "
        "Puede estar caído o saturado: probá de nuevo en un minuto y, si sigue, "
        "revisá el nodo."
    ),
    "error.refused": (
        "El router {node} rechazó la conexión a la API{who}. "
        "¿Está habilitado el servicio api (o api-ssl) en /ip/service y con ese puerto?"
    ),
    "error.auth": (
        "El router {node} rechazó el usuario o la contraseña de Beholder{who}. "
        "Un administrador debe revisar la cuenta de API (MIKROTIK_USER) en ese router."
    ),
    "error.tls": (
        "Falló la conexión cifrada (API-SSL) con {node}{who}. "
        "Revisá si el nodo realmente usa api-ssl en ese puerto y si el router tiene un "
        "certificado asignado (sin certificado solo ofrece TLS anónimo, que Beholder "
        "rechaza salvo con `tls=insecure`)."
    ),
    "error.certificate": (
        "Certificado no verificado en {node}{who}: el router no pudo probar que es "
        "quien dice ser, así que no le envié la contraseña. Si usa un certificado propio "
        "(autofirmado), un administrador puede revisarlo y fijarlo con "
        "{command}; si está firmado por la CA del ISP "
        "(MIKROTIK_TLS_CA), debe nombrar la dirección del nodo."
    ),
    "error.certificate_changed": (
        "Certificado no verificado en {node}{who}: presentó un certificado distinto "
        "del fijado, así que no le envié la contraseña (puede ser un impostor en esa "
        "dirección). Fijado: {pinned}. Presentado: {presented}. Si el cambio es "
        "legítimo (certificado renovado), un administrador lo confirma con "
        "{command}."
    ),
    "error.protocol": (
        "El router {node} cortó la sesión o respondió algo inesperado{who}. "
        "Puede haber llegado a su límite de sesiones de API: probá de nuevo en un "
        "momento; si se repite, revisar el router."
    ),
    "error.too_large": (
        "El router {node} mandó una respuesta más grande que lo que Beholder acepta "
        "({limit}){who}, así que Beholder cortó la conexión. Suele ser una falla del "
        "router: probá de nuevo en un minuto y, si se repite, revisá el nodo."
    ),
    "limit.rows": "más de {count} filas",
    "limit.bytes": "más de {size}",
    "limit.words": "una fila con más de {count} campos",
    "limit.field": "un campo de más de {size}",
    "limit.empty": "más de {count} sentencias vacías",
    "error.unreachable": (
        "No hay conexión con el router {node}{who}. "
        "Revisá la conectividad con el nodo (¿caído, sin ruta?)."
    ),
    "error.config": "Configuración incompleta: {detail}.",
    "error.other": "No se pudo completar la consulta{who}: {kind}.",
    "cause.timeout": "no respondió a tiempo",
    "cause.refused": "rechazó la conexión",
    "cause.unreachable": "sin conexión",
    "cause.tls": "falló el TLS",
    "cause.certificate": "certificado no verificado",
    "cause.too_large": "respuesta demasiado grande",
    "cause.other": "cortó la sesión",
    "cause.busy": "ocupado con otras consultas de Beholder",
    "unexpected": (
        "Algo falló de nuestro lado{who}. Quedó registrado en el log; "
        "probá de nuevo y, si se repite, avisá a quien mantiene Beholder."
    ),
    # -- access control -------------------------------------------------------------------
    "access.channel": (
        "Beholder no atiende consultas en este canal, así que no consulté ningún router. "
        "Usalo en {where}. Si hace falta usarlo acá, pedile a quien administra Beholder "
        "que agregue este canal a los permitidos."
    ),
    "access.unverified": (
        "No pude comprobar si integrás {groups} (Slack no me dio la lista de integrantes), "
        "así que no consulté ningún router. Probá de nuevo en un minuto; si sigue pasando, "
        "avisale a quien administra Beholder."
    ),
    "access.kind": (
        "Beholder no atiende este tipo de pedido, así que no consulté ningún router. "
        "Usá `/consumo`, una mención a @Beholder o «Ver consumo» en un mensaje."
    ),
    "access.members_of": "los integrantes de {groups}",
    "access.listed_people": "las personas habilitadas una por una",
    "access.ask_groups": "Pedí que te sumen a {groups}, o pedile",
    "access.ask": "Pedile",
    "access.user": (
        "No tenés permiso para consultar a Beholder, así que no consulté ningún router. "
        "Lo pueden usar {who}. {ask} acceso a quien administra Beholder."
    ),
    # -- the HTTP API (`bot.api`): answers to programs, read by the people who wire them ------
    "api.unauthorized": (
        "Falta un token válido: mandá el encabezado `Authorization: Bearer <token>` con "
        "uno de los tokens de BEHOLDER_API_TOKENS. No se consultó ningún router."
    ),
    "api.kind": "Beholder no atiende este tipo de pedido por HTTP; no se consultó ningún router.",
    "api.disabled": (
        "La API HTTP está apagada: quien administra Beholder la enciende definiendo "
        "BEHOLDER_API_TOKENS."
    ),
    "api.method": "Método {method} no permitido acá: usá {allowed}.",
    "api.body": "Un GET no lleva cuerpo: mandá el pedido sin cuerpo.",
    "api.too_long": "La dirección pedida es demasiado larga (más de {limit} caracteres).",
    "api.not_found": "No existe {path}: las rutas son /live/<usuario>, /healthz y /openapi.json.",
    "api.connections": (
        "Beholder tiene {limit} conexiones abiertas, su máximo: probá de nuevo en {seconds} s."
    ),
    # -- live views -----------------------------------------------------------------------
    "live.running": "en vivo",
    "live.length": "{seconds} s",
    "live.title": "📈 {user} · {node} · {state}",
    "live.progress": "Muestra {count} de {seconds} · quedan {remaining} s",
    "live.no_samples": "sin muestras",
    "live.spread": "mín {min} · prom {avg} · p95 {p95} · máx {max} Mbps",
    "live.at": "a los {seconds} s",
    "live.completed": "Terminó: {count} muestras en {seconds} s.",
    "live.stopped": "Detenida {at}.",
    "live.stopped_by": "Detenida por <@{user}> {at}.",
    "live.offline": "Se cortó la sesión PPPoE de {user} {at}: el equipo se desconectó.",
    "live.cancelled": "Interrumpida {at}: Beholder se detuvo.",
    "live.dropped_one": (
        "La cola del plan descartó 1 paquete durante la vista en vivo: "
        "el tráfico superó por momentos la velocidad del plan."
    ),
    "live.dropped_many": (
        "La cola del plan descartó {count} paquetes durante la vista en vivo: "
        "el tráfico superó por momentos la velocidad del plan."
    ),
    "live.summary_running": (
        "{where}, en vivo ({count}/{seconds} s): Bajada {download}; Subida {upload}."
    ),
    "live.summary_empty": "{where}, vista en vivo: {ended}",
    "live.summary_done": (
        "{where}, {samples} muestras en vivo: Bajada {download}; Subida {upload}. {ended}"
    ),
    "live.requested": "Una muestra por segundo durante {seconds} s en {node}",
    "live.watchers": " · también: {users}",
    "live.report_head": "{user} en {node} · plan {plan}",
    "live.report_samples": "{samples} muestras en {seconds} s",
    "live.report_download": "*Bajada*: {spread}",
    "live.report_upload": "*Subida*: {spread}",
    "live.report_for": "Para {users}",
    "live.alt": (
        "Gráfico de bajada y subida de {user} en {node}, una muestra por segundo, en Mbps"
    ),
    "live.alt_plan": ", con la línea del plan {plan}",
    "live.alt_stats": ". Bajada: {download}. Subida: {upload}",
    "live.busy_link": "<{link}|en este mensaje>",
    "live.busy_channel": "en <#{channel}>",
    "live.busy_elsewhere": "en el canal donde se pidió",
    "live.busy": (
        "Ya hay una vista en vivo de {user} en curso {where} "
        "(quedan {remaining} s). No abro otra sobre el mismo router: "
        "te sumé y te menciono cuando esté el gráfico."
    ),
    "live.views_one": "1 vista",
    "live.views_many": "{count} vistas",
    "live.full": (
        "Ya hay {views} en vivo en curso, el máximo a la vez: cada una ocupa una "
        "sesión de API en su router. Probá de nuevo en un rato, o pedí una muestra "
        "puntual con `/consumo usuario`."
    ),
    "live.node_full": (
        "El router {node} ya tiene {views} en vivo en curso, el máximo allí "
        "para no quitarle sesiones de API a las consultas comunes. Probá de nuevo en un rato, "
        "o pedí una muestra puntual con `/consumo usuario`."
    ),
    "live.not_online": (
        "{user} no tiene una sesión PPPoE activa en {node}: no hay tráfico que mirar en vivo."
    ),
    "live.not_in_channel": (
        "No puedo publicar la vista en vivo en este canal porque Beholder no es miembro: "
        "invitalo con `/invite @Beholder` y volvé a probar. (Las consultas puntuales con "
        "`/consumo usuario` funcionan sin invitarlo.)"
    ),
    "live.not_posted": (
        "No pude publicar la vista en vivo: Slack no la aceptó o se cortó la conexión "
        "({reason}). No quedó nada abierto en el router: probá de nuevo en un momento "
        "y, si se repite, avisá a quien mantiene Beholder."
    ),
    "live.no_spare_session": (
        "Las vistas en vivo están desactivadas: Beholder abre una sola sesión de API por "
        "router (`MIKROTIK_MAX_SESSIONS=1`) y una vista la ocuparía todo el tiempo, "
        "dejando sin respuesta a las demás consultas. Te mando una muestra puntual; "
        "para habilitarlas, subí `MIKROTIK_MAX_SESSIONS` a 2 o más."
    ),
    "live.closing": (
        "Beholder se está deteniendo (reinicio o mantenimiento): no empiezo una vista "
        "en vivo ahora. Probá de nuevo en un minuto."
    ),
    "live.already_over": "Esa vista en vivo ya terminó.",
    "live.chart_failed": (
        "No pude subir el gráfico de la vista en vivo (¿le falta a la app el permiso "
        "`files:write`?). Las cifras quedan en el mensaje de arriba."
    ),
    "live.usage": (
        "Vista en vivo: `/consumo usuario 30s` (entre 3 y {max} s), "
        "o el botón «En vivo 30 s» de una consulta."
    ),
    "live.chart_subtitle": "{start:%d/%m %H:%M:%S} · {count} s",
    "live.chart_title": "{user} · {node} · {count} s",
    "live.chart_file": "consumo-{user}-{stamp}.png",
    "live.chart_file_user": "usuario",
    # -- messages without a subscriber ----------------------------------------------------
    "nothing_in_message": (
        "No encontré un usuario PPPoE, una IP ni una MAC de un abonado en ese mensaje. "
        "Probá con `/consumo` y el dato que tengas (usuario, nombre, dirección, IP o MAC)."
    ),
    "invite_needed": (
        "No puedo publicar en este canal: invitá a @Beholder (`/invite @Beholder`) "
        "y volvé a intentar."
    ),
    # -- the live view's chart ------------------------------------------------------------
    "chart.note": "Bajada y subida en Mbps, una muestra por segundo",
    "chart.download": "Bajada",
    "chart.upload": "Subida",
    "chart.plan": "Plan",
    "chart.plan_download": "Plan bajada {rate} Mbps",
    "chart.plan_upload": "Plan subida {rate} Mbps",
    "chart.mbps": "Mbps",
    "chart.seconds": "segundos",
    "chart.no_samples": "Sin muestras",
}
