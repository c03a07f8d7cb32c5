"""Every user-facing string in English (``BEHOLDER_LANG=en``).

Same keys and placeholders as `bot.present.lang.es` (tests/test_i18n.py checks it).
The slash command stays ``/consumo``: it is the Slack app's command name.
Never put markup around a placeholder: values from outside arrive already
escaped and marked by `bot.present.markup.literal`.
"""

MESSAGES: dict[str, str] = {
    # -- numbers and units ------------------------------------------------------------
    "number.decimal": ".",
    "number.thousands": ",",
    "na": "n/a",
    "mbps": "{value} Mbps",
    "percent": "{value}%",
    "plan.rate": "{download}/{upload} Mbps",
    "plan.unknown": "no dynamic queue (plan unknown)",
    "duration.week": "{count} w",
    "duration.day": "{count} d",
    "duration.hour": "{count} h",
    "duration.minute": "{count} min",
    "duration.second": "{count} s",
    "list.or": "{head} or {last}",
    "list.and": "{head} and {last}",
    # -- what RouterOS's last-disconnect-reason means, for a support operator ------------
    "disconnect.peer-request": "the customer's CPE closed the session",
    "disconnect.hung-up": "the link to the CPE dropped",
    "disconnect.idle-timeout": "cut for inactivity",
    "disconnect.session-timeout": "reached the maximum session time",
    "disconnect.reset": "session reset",
    "disconnect.reboot": "the router rebooted",
    "disconnect.port-error": "port error",
    "disconnect.nas-error": "router (NAS) error",
    "disconnect.nas-request": "cut by the router or RADIUS",
    "disconnect.admin-reset": "cut by an administrator",
    "disconnect.user-request": "cut by the user",
    "disconnect.lost-carrier": "carrier lost",
    "disconnect.lost-service": "service lost",
    "disconnect.callback": "callback",
    "disconnect_reason": "{meaning} ({code})",
    # -- usage --------------------------------------------------------------------------
    "usage": (
        "Usage: `/consumo pppoe.user`, e.g. `/consumo juan.perez`.\n"
        "In a thread (where Slack allows no commands): `@Beholder consumo juan.perez`.\n"
        "Every way to ask: `/consumo help`."
    ),
    "help": (
        "*How to ask Beholder*\n"
        "• `/consumo juan.perez`: the subscriber's download and upload right now, against "
        "the plan, posted in the channel. A customer's name or street also works "
        "(`/consumo perez san martin`), as do an IP (`/consumo 100.64.0.10`) or the CPE's "
        "MAC (`/consumo 4c-5e-0c-12-34-56`).\n"
        "• `/consumo juan.perez 30s`: watches it live for that many seconds "
        "(from {low} to {high}), then posts a chart in the thread.\n"
        "• `/consumo juan.perez diag`: the reading and why it may feel slow: a ping from "
        "the router to the subscriber's IP (the last mile) and what carries the most traffic.\n"
        "• In a thread, where Slack allows no commands: `@Beholder consumo juan.perez`; "
        "`@Beholder` alone checks the subscriber of the thread's first message.\n"
        "• *Ver consumo*, in a message's … menu: finds the user, IP or MAC in that "
        "message and answers in its thread.\n"
        "• On a reading, *{refresh}* takes a new sample, *{live}* watches it live "
        "and *{diag}* diagnoses it.\n"
        "Typos and suggestions are shown to you alone; a router's faults are posted in "
        "the channel, so that the team knows."
    ),
    # -- a reading ----------------------------------------------------------------------
    "consulting": "Checking {user} on its router…",
    "diagnosing": "Diagnosing {user} from its router (ping and traffic, a few seconds)…",
    "direction.ended": "n/a (the session ended during the check)",
    "direction.share": "{rate} · {share} of {plan} Mbps",
    "summary.where": "{user} on {node}",
    "summary.offline": "{where}: no active PPPoE session (last disconnect {when}).",
    "summary.online": "{where}: Download {download}; Upload {upload}.",
    "summary.online_unknown_plan": (
        "{where}: Download {download}; Upload {upload}. Plan unknown (no dynamic queue)."
    ),
    "duplicate.online": (
        "Duplicate user: {user} is also configured on {others}. "
        "The session that counts is the one on {node}."
    ),
    "duplicate.offline": "Duplicate user: {user} is also configured on {others}.",
    "side.download": "download",
    "side.upload": "upload",
    "verdict.offline": "No active PPPoE session: the customer's equipment is not connected.",
    "verdict.disabled": "No PPPoE session: the secret is disabled on the router.",
    "verdict.saturated": "Using {share} of the plan ({side}): saturating their own link.",
    "verdict.low": (
        "Low use ({share} of the plan): usage is not the problem; check signal, Wi-Fi or the CPE."
    ),
    "verdict.moderate": (
        "Moderate use ({share} of the plan, {side}): not saturating; "
        "if they report slowness, check signal, Wi-Fi or the CPE."
    ),
    "verdict.unknown_plan": "Plan unknown (no dynamic queue): can't tell whether it saturates.",
    "verdict.no_data": "The session ended during the check: try Refresh.",
    "verdict.queue_dropping": "The plan's queue is dropping packets ({dropped} this session).",
    "verdict.recent_reconnect": "Reconnected {uptime} ago: the link may be unstable.",
    # -- a diagnosis (beholder diag) ---------------------------------------------------------
    "diag.last_mile": ("Last-mile problem (loss {loss}, latency {rtt} ms): check the signal/CPE."),
    "diag.dominant_flow": "Most of it is {flow}: that device or application fills the link.",
    "diag.healthy": "The link is healthy; check the WiFi or the customer's equipment.",
    "diag.inconclusive": "No clear conclusion: check the usage and run the diagnosis again.",
    "diag.failed": "The diagnosis could not be made. {reason}",
    "diag.offline": (
        "{user} is not connected: there is nothing to diagnose. Check the CPE "
        "(power, signal) and try again once it reconnects."
    ),
    "diag.ping": (
        "Ping to {address}: {received}/{sent} replies, loss {loss}, "
        "latency min/avg/max {rtt_min}/{rtt_avg}/{rtt_max} ms, jitter {jitter} ms"
    ),
    "diag.ping_unmeasured": "Ping: could not be measured (the router did not answer in time).",
    "diag.ping_refused": (
        "Ping: the router could not run it (it answered with an error); check the router."
    ),
    "diag.ping_no_address": (
        "Ping: not run (the router gives no IP for this session); check the PPPoE session."
    ),
    "diag.partial": (
        "Partial measurement: the router did not finish in time; the figures are of what arrived."
    ),
    "diag.top": "Top traffic over {seconds} s:",
    "diag.flow": "{flow}: download {download}, upload {upload}",
    "diag.no_flows": "Torch: no traffic in those seconds.",
    "diag.torch_unmeasured": "Torch: could not be measured; diagnose again in a moment.",
    "match.ip": "Found by IP {detail}.",
    "match.mac": "Found by MAC {detail}.",
    "match.key": "You searched “{query}”: the PPPoE user is {user}.",
    "match.name": "You searched “{query}”: matches the user {user}.",
    "match.comment": "You searched “{query}”: matches the secret's comment.",
    "match.pulled": ("Not in the inventory (recently added): found by asking the routers."),
    "customer.unlinked": (
        "*Not linked*: this PPPoE user has no customer in the management system."
    ),
    "customer.line": "Customer {name} (No. {id})",
    "customer.line_status": "Customer {name} (No. {id}) · status: {status}",
    "warning.plan_mismatch": (
        "The management system's plan ({sold}) doesn't match the "
        "router's queue ({queue}): check the signup or the profile."
    ),
    "warning.suspended_online": (
        "The customer is “{status}” in the management system, but has an active PPPoE session."
    ),
    "unavailable": ("Couldn't check {nodes}: the active session might be there."),
    # -- a reading in the terminal (`beholder consumo`, the demo) --------------------------
    "term.head": "{user} @ {node}   ({time})",
    "term.comment": "Comment: {comment}",
    "term.download": "Download:  {line}  {meter}",
    "term.upload": "Upload:    {line}  {meter}",
    "term.plan": "Plan:      {plan} ({profile})",
    "term.ip": "IP:        {ip}",
    "term.mac": "MAC:       {mac}",
    "term.uptime": "Uptime:    {uptime}",
    "term.offline": "Status:    NO ACTIVE PPPoE SESSION",
    "term.disabled": "Secret:    DISABLED on the router",
    "term.last_logout": "Last disconnect: {when}",
    "term.reason": "Reason:    {reason}",
    "term.last_mac": "Last MAC:  {mac}",
    "term.only_you": "(only visible to you)",
    "term.operator": "@operator",
    # -- a reading in Slack ---------------------------------------------------------------
    "field.download": "*Download*\n{line}\n{meter}",
    "field.upload": "*Upload*\n{line}\n{meter}",
    "field.plan": "*Plan*\n{plan}\n{profile}",
    "field.uptime": "*Connected for*\n{uptime}",
    "field.ip": "*IP*\n{ip}",
    "field.mac": "*MAC*\n{mac}",
    "field.offline": "*Status*\nNo active PPPoE session",
    "field.disabled": "*Secret*\n:no_entry: Disabled on the router",
    "field.last_logout": "*Last disconnect*\n{when}",
    "field.reason": "*Reason*\n{reason}",
    "field.last_mac": "*Last MAC*\n{mac}",
    "field.download_now": "*Download now*\n{value}",
    "field.upload_now": "*Upload now*\n{value}",
    "field.download_spread": "*Download*\n{spread}",
    "field.upload_spread": "*Upload*\n{spread}",
    "field.live_plan": "*Plan*\n{plan}",
    "sample": "Sample taken at {time} on {node}",
    "requested_by": " · requested by <@{user}>",
    "button.refresh": "Refresh",
    "button.pick": "Check",
    "button.live": "Live {seconds} s",
    "button.diag": "Diagnose",
    "button.stop": "Stop",
    # -- errors ---------------------------------------------------------------------------
    "error.who": " while checking {user}",
    "error.empty": "The PPPoE user is missing.\n{usage}",
    "error.too_long": "That is too long to be a PPPoE user.\n{usage}",
    "error.invalid": "{text} doesn't look like a PPPoE user.\n{usage}",
    "error.unknown_user": (
        "I couldn't find {user} on any router: not as a PPPoE user, "
        "not in the comments, not as an IP or MAC."
    ),
    "error.not_confirmed": (
        "I couldn't find {user} in the inventory nor on the routers that answered. "
        "I couldn't ask {nodes}: it may be there. Try again in a minute."
    ),
    "error.unchecked_node": "{node} ({cause})",
    "error.pull_rate": (
        "{user} is not in the inventory and I didn't ask the routers: you already "
        "looked up {limit} users missing from the inventory in the last minute, the most "
        "allowed to spare the routers. Wait {seconds} s and try again."
    ),
    "error.pull_busy": (
        "{user} is not in the inventory and I didn't ask the routers: {count} lookups "
        "of new users are already in progress and none finished within {seconds} s. "
        "Try again in a few seconds."
    ),
    "error.did_you_mean": "Did you mean: {names}?",
    "error.how_to_search": (
        "Check the spelling: you can search by PPPoE user, by the customer's name "
        "or address, by IP or by MAC."
    ),
    "error.ambiguous": "“{query}” matches {count} subscribers. Pick one:",
    "error.candidate": "• {name}",
    "error.candidate_detail": "• {name} — {detail}",
    "error.node_not_in_inventory": (
        "{user} is configured on node {node}, but that node is not in the "
        "node inventory, so I don't know which address to ask. "
        "An administrator must add it (`beholder nodes import`)."
    ),
    "error.inventory.corrupt": (
        "The inventory ({path}) is damaged or not a Beholder database, so I can't "
        "look up subscribers. An administrator must restore it from a backup or "
        "rebuild it (`beholder nodes import` and `beholder sync`)."
    ),
    "error.inventory.read_only": (
        "I can't write to the inventory ({path}): the file, its folder or the disk "
        "is read-only. An administrator must give the user running Beholder write access."
    ),
    "error.inventory.cannot_open": (
        "I can't open the inventory ({path}). An administrator must check that the "
        "folder exists and that the user running Beholder can read and write it."
    ),
    "error.inventory.locked": (
        "The inventory ({path}) is locked by another process that is writing. "
        "Try again in a moment; if it continues, look for that process (a stuck "
        "`beholder sync`?)."
    ),
    "error.inventory.full": (
        "The inventory's disk ({path}) is full: I can't save anything. "
        "An administrator must free some space."
    ),
    "error.inventory.io": (
        "Reading or writing the inventory ({path}) failed: {detail}. "
        "An administrator must check the file and the disk."
    ),
    "error.circuit_open": (
        "Router {node} failed {since} s ago{why}{who}. "
        "To avoid piling up checks on a router in trouble, Beholder won't ask it "
        "again for another {retry} s. "
        "If the outage continues, check the node."
    ),
    "error.circuit_why": " ({cause})",
    "error.busy": (
        "Router {node} is responding, but Beholder already has {sessions} checks "
        "in progress on it and no slot freed up within {seconds} s{who}. "
        "Try again in a few seconds."
    ),
    "error.timeout": (
        "Router {node} didn't answer in time ({seconds} s){who}. "
        "It may be down or overloaded: try again in a minute and, if it continues, "
        "check the node."
    ),
    "error.refused": (
        "Router {node} refused the API connection{who}. "
        "Is the api (or api-ssl) service enabled in /ip/service, on that port?"
    ),
    "error.auth": (
        "Router {node} rejected Beholder's username or password{who}. "
        "An administrator must check the API account (MIKROTIK_USER) on that router."
    ),
    "error.tls": (
        "The encrypted connection (API-SSL) to {node} failed{who}. "
        "Check whether the node really uses api-ssl on that port and whether the router "
        "has a certificate assigned (without one it offers only anonymous TLS, which "
        "Beholder refuses unless `tls=insecure`)."
    ),
    "error.certificate": (
        "Certificate not verified on {node}{who}: the router could not prove who it "
        "is, so the password was not sent. If it uses its own (self-signed) "
        "certificate, an administrator can check it and pin it with "
        "{command}; if the ISP's CA (MIKROTIK_TLS_CA) signed it, "
        "it must name the node's address."
    ),
    "error.certificate_changed": (
        "Certificate not verified on {node}{who}: it presented a certificate other "
        "than the pinned one, so the password was not sent (it may be an impostor at "
        "that address). Pinned: {pinned}. Presented: {presented}. If the change is "
        "legitimate (a renewed certificate), an administrator confirms it with "
        "{command}."
    ),
    "error.protocol": (
        "Router {node} closed the session or answered something unexpected{who}. "
        "It may have reached its API session limit: try again in a "
        "moment; if it happens again, check the router."
    ),
    "error.too_large": (
        "Router {node} sent a reply larger than Beholder accepts ({limit}){who}, "
        "so Beholder closed the connection. It is usually a router fault: try again "
        "in a minute and, if it happens again, check the node."
    ),
    "limit.rows": "more than {count} rows",
    "limit.bytes": "more than {size}",
    "limit.words": "a row with more than {count} fields",
    "limit.field": "a field of more than {size}",
    "limit.empty": "more than {count} empty sentences",
    "error.unreachable": (
        "No connection to router {node}{who}. Check connectivity to the node (down? no route?)."
    ),
    "error.config": "Incomplete configuration: {detail}.",
    "error.other": "Something went wrong{who}: {kind}.",
    "cause.timeout": "no answer in time",
    "cause.refused": "connection refused",
    "cause.unreachable": "no connection",
    "cause.tls": "TLS failed",
    "cause.certificate": "certificate not verified",
    "cause.too_large": "reply too large",
    "cause.other": "session closed",
    "cause.busy": "busy with other Beholder checks",
    "unexpected": (
        "Something failed on our side{who}. It was logged; "
        "try again and, if it happens again, tell whoever maintains Beholder."
    ),
    # -- access control -------------------------------------------------------------------
    "access.channel": (
        "Beholder doesn't take questions in this channel, so no router was checked. "
        "Use it in {where}. If it's needed here, ask whoever manages Beholder "
        "to add this channel to the allowed ones."
    ),
    "access.unverified": (
        "I couldn't check whether you're in {groups} (Slack didn't give me the member list), "
        "so no router was checked. Try again in a minute; if it keeps happening, "
        "tell whoever manages Beholder."
    ),
    "access.kind": (
        "Beholder does not take this kind of request, so no router was asked. "
        "Use `/consumo`, a mention of @Beholder or “Ver consumo” on a message."
    ),
    "access.members_of": "members of {groups}",
    "access.listed_people": "people allowed one by one",
    "access.ask_groups": "Ask to be added to {groups}, or ask",
    "access.ask": "Ask",
    "access.user": (
        "You don't have permission to use Beholder, so no router was checked. "
        "It can be used by {who}. {ask} whoever manages Beholder for access."
    ),
    # -- the HTTP API (`bot.api`): answers to programs, read by the people who wire them ------
    "api.unauthorized": (
        "A valid token is missing: send the header `Authorization: Bearer <token>` with "
        "one of the tokens in BEHOLDER_API_TOKENS. No router was asked."
    ),
    "api.kind": "Beholder does not take this kind of request over HTTP; no router was asked.",
    "api.disabled": (
        "The HTTP API is off: whoever manages Beholder turns it on by setting BEHOLDER_API_TOKENS."
    ),
    "api.method": "Method {method} is not allowed here: use {allowed}.",
    "api.body": "A GET carries no body: send the request without one.",
    "api.too_long": "The requested address is too long (more than {limit} characters).",
    "api.not_found": "There is no {path}: the routes are /live/<user>, /healthz and /openapi.json.",
    "api.connections": "Beholder has {limit} connections open, its most: try again in {seconds} s.",
    # -- live views -----------------------------------------------------------------------
    "live.running": "live",
    "live.length": "{seconds} s",
    "live.title": "📈 {user} · {node} · {state}",
    "live.progress": "Sample {count} of {seconds} · {remaining} s left",
    "live.no_samples": "no samples",
    "live.spread": "min {min} · avg {avg} · p95 {p95} · max {max} Mbps",
    "live.at": "after {seconds} s",
    "live.completed": "Done: {count} samples in {seconds} s.",
    "live.stopped": "Stopped {at}.",
    "live.stopped_by": "Stopped by <@{user}> {at}.",
    "live.offline": "{user}'s PPPoE session dropped {at}: the equipment disconnected.",
    "live.cancelled": "Interrupted {at}: Beholder stopped.",
    "live.dropped_one": (
        "The plan's queue dropped 1 packet during the live view: "
        "the traffic went over the plan's speed at times."
    ),
    "live.dropped_many": (
        "The plan's queue dropped {count} packets during the live view: "
        "the traffic went over the plan's speed at times."
    ),
    "live.summary_running": (
        "{where}, live ({count}/{seconds} s): Download {download}; Upload {upload}."
    ),
    "live.summary_empty": "{where}, live view: {ended}",
    "live.summary_done": (
        "{where}, {samples} live samples: Download {download}; Upload {upload}. {ended}"
    ),
    "live.requested": "One sample per second for {seconds} s on {node}",
    "live.watchers": " · also: {users}",
    "live.report_head": "{user} on {node} · plan {plan}",
    "live.report_samples": "{samples} samples in {seconds} s",
    "live.report_download": "*Download*: {spread}",
    "live.report_upload": "*Upload*: {spread}",
    "live.report_for": "For {users}",
    "live.alt": (
        "Chart of download and upload for {user} on {node}, one sample per second, in Mbps"
    ),
    "live.alt_plan": ", with the plan's line at {plan}",
    "live.alt_stats": ". Download: {download}. Upload: {upload}",
    "live.busy_link": "<{link}|in this message>",
    "live.busy_channel": "in <#{channel}>",
    "live.busy_elsewhere": "in the channel where it was requested",
    "live.busy": (
        "A live view of {user} is already running {where} "
        "({remaining} s left). I won't open another one on the same router: "
        "I added you and will mention you when the chart is ready."
    ),
    "live.views_one": "1 live view",
    "live.views_many": "{count} live views",
    "live.full": (
        "The limit of {views} running at once has been reached: each one holds "
        "an API session on its router. Try again in a while, or ask for a one-off "
        "reading with `/consumo user`."
    ),
    "live.node_full": (
        "Router {node} already has {views} running, the most allowed there "
        "so that regular checks still get API sessions. Try again in a while, "
        "or ask for a one-off reading with `/consumo user`."
    ),
    "live.not_online": (
        "{user} has no active PPPoE session on {node}: there is no traffic to watch live."
    ),
    "live.not_in_channel": (
        "I can't post the live view in this channel because Beholder isn't a member: "
        "invite it with `/invite @Beholder` and try again. (One-off checks with "
        "`/consumo user` work without inviting it.)"
    ),
    "live.not_posted": (
        "I couldn't post the live view: Slack refused it or the connection dropped "
        "({reason}). Nothing was left open on the router: try again in a moment "
        "and, if it happens again, tell whoever maintains Beholder."
    ),
    "live.no_spare_session": (
        "Live views are off: Beholder opens a single API session per router "
        "(`MIKROTIK_MAX_SESSIONS=1`) and a view would hold it the whole time, "
        "leaving every other check unanswered. Here is a one-off reading instead; "
        "to turn them on, raise `MIKROTIK_MAX_SESSIONS` to 2 or more."
    ),
    "live.closing": (
        "Beholder is shutting down (restart or maintenance): I won't start a live "
        "view now. Try again in a minute."
    ),
    "live.already_over": "That live view has already ended.",
    "live.chart_failed": (
        "I couldn't upload the live view's chart (is the app missing the "
        "`files:write` scope?). The figures are in the message above."
    ),
    "live.usage": (
        "Live view: `/consumo user 30s` (between 3 and {max} s), "
        "or the “Live 30 s” button on a reading."
    ),
    "live.chart_subtitle": "{start:%Y-%m-%d %H:%M:%S} · {count} s",
    "live.chart_title": "{user} · {node} · {count} s",
    "live.chart_file": "usage-{user}-{stamp}.png",
    "live.chart_file_user": "user",
    # -- messages without a subscriber ----------------------------------------------------
    "nothing_in_message": (
        "I didn't find a subscriber's PPPoE user, IP or MAC in that message. "
        "Try `/consumo` with whatever you have (user, name, address, IP or MAC)."
    ),
    "invite_needed": (
        "I can't post in this channel: invite @Beholder (`/invite @Beholder`) and try again."
    ),
    # -- the live view's chart ------------------------------------------------------------
    "chart.note": "Download and upload in Mbps, one sample per second",
    "chart.download": "Download",
    "chart.upload": "Upload",
    "chart.plan": "Plan",
    "chart.plan_download": "Plan download {rate} Mbps",
    "chart.plan_upload": "Plan upload {rate} Mbps",
    "chart.mbps": "Mbps",
    "chart.seconds": "seconds",
    "chart.no_samples": "No samples",
}
