"""A diagnosis in words (Slack mrkdwn sentences, terminal lines) and as JSON.

The domain decided (`bot.model.Diagnosis.verdict` is a code); this maps the
code and the figures to the operator's language, and names well-known ports.
Sentences are Slack mrkdwn with every value from the router (addresses,
protocols) put in through `literal`, as `bot.present.reading` does; the
terminal lines are the same sentences through `plain` and `terminal`.
"""

from __future__ import annotations

from typing import Any

from bot.errors import BeholderError
from bot.model import Diagnosis, Flow, PingResult, Reading
from bot.present import errors as error_texts
from bot.present.lang import t
from bot.present.markup import literal, plain
from bot.present.numbers import figure, mbps, percent
from bot.present.reading import reading_json
from bot.present.terminal import terminal

#: Remote ports an operator recognises by name (what the subscriber is doing).
PORT_NAMES: dict[int, str] = {
    20: "FTP",
    21: "FTP",
    22: "SSH",
    25: "SMTP",
    53: "DNS",
    80: "HTTP",
    123: "NTP",
    443: "HTTPS",
    587: "SMTP",
    993: "IMAPS",
    1194: "OpenVPN",
    1935: "RTMP",
    3074: "Xbox Live",
    3478: "STUN",
    3479: "STUN",
    5060: "SIP",
    5222: "XMPP",
    8080: "HTTP",
    19302: "STUN",
    27015: "Steam",
    51820: "WireGuard",
}


def flow_label(flow: Flow) -> str:
    """``203.0.113.9 tcp/443 (HTTPS)``: where the traffic goes, as an operator reads
    it (the router's address and protocol through `literal`)."""
    if flow.port is None:
        return f"{literal(flow.remote)} {literal(flow.protocol)}"
    name = PORT_NAMES.get(flow.port)
    label = f"{literal(flow.remote)} {literal(flow.protocol)}/{flow.port}"
    return f"{label} ({name})" if name else label


def _ms(value: float | None) -> str:
    return t("na") if value is None else figure(value, 1)


def verdict_line(diagnosis: Diagnosis) -> str:
    """The diagnosis' conclusion, one sentence."""
    match diagnosis.verdict:
        case "last_mile":
            ping = diagnosis.ping
            assert ping is not None
            return t("diag.last_mile", loss=percent(ping.loss_pct), rtt=_ms(ping.rtt_avg_ms))
        case "dominant_flow":
            assert diagnosis.dominant is not None
            return t("diag.dominant_flow", flow=flow_label(diagnosis.dominant))
        case "healthy":
            return t("diag.healthy")
        case _:
            return t("diag.inconclusive")


#: Why a ping was not measured (`Diagnosis.ping_unmeasured`) → its words.
_UNMEASURED = {"no_address": "diag.ping_no_address", "refused": "diag.ping_refused"}


def ping_line(ping: PingResult | None, unmeasured: str | None = None) -> str:
    """The ping's figures, or why there are none (`unmeasured`: the domain's code;
    any other, or none, reads as the router not answering in time)."""
    if ping is None:
        return t(_UNMEASURED.get(unmeasured or "", "diag.ping_unmeasured"))
    return t(
        "diag.ping",
        address=literal(ping.address),
        received=ping.received,
        sent=ping.sent,
        loss=percent(ping.loss_pct),
        rtt_min=_ms(ping.rtt_min_ms),
        rtt_avg=_ms(ping.rtt_avg_ms),
        rtt_max=_ms(ping.rtt_max_ms),
        jitter=_ms(ping.jitter_ms),
    )


def flow_line(flow: Flow) -> str:
    """One of the top flows: where to, then its download and upload."""
    return t(
        "diag.flow",
        flow=flow_label(flow),
        download=mbps(flow.download_bps),
        upload=mbps(flow.upload_bps),
    )


def top_lines(diagnosis: Diagnosis) -> list[str]:
    """The top flows' title and one line each, or the line saying there were none."""
    if not diagnosis.top:
        return [t("diag.torch_unmeasured" if diagnosis.torch_unmeasured else "diag.no_flows")]
    return [t("diag.top", seconds=diagnosis.torch_seconds)] + [
        flow_line(flow) for flow in diagnosis.top
    ]


def offline_line(user: str) -> str:
    """An offline subscriber: the reading says so, and there is nothing to diagnose."""
    return t("diag.offline", user=literal(user, "code"))


def failed_line(err: BeholderError) -> str:
    """The reading stood but its diagnosis failed: that, and the fault's own
    sentence (what happened, what to do)."""
    return t("diag.failed", reason=error_texts.error(err))


def diagnosing(user: str) -> str:
    """The state shown while the router pings and torches (a few seconds)."""
    return t("diagnosing", user=literal(user, "code"))


def last_mile_lines(diagnosis: Diagnosis) -> list[str]:
    """The ping's line, after a note when the figures are of what arrived by
    the deadline (`Diagnosis.partial`)."""
    partial = [t("diag.partial")] if diagnosis.partial else []
    return [*partial, ping_line(diagnosis.ping, diagnosis.ping_unmeasured)]


def diagnosis_lines(diagnosis: Diagnosis) -> list[str]:
    """The diagnosis as terminal lines, after the reading's (``beholder diag``);
    made safe by `terminal`: the addresses come from the router."""
    top = top_lines(diagnosis)
    lines = [
        "  » " + verdict_line(diagnosis),
        *("  " + line for line in last_mile_lines(diagnosis)),
    ]
    lines += ["  " + top[0], *("    " + line for line in top[1:])]
    return [terminal(plain(line)) for line in lines]


def diagnosis_json(reading: Reading, diagnosis: Diagnosis | None) -> dict[str, Any]:
    """The reading's ``--json`` plus `diagnosis` (the verdict code), `ping` and `top`;
    all three null/empty for an offline subscriber (no diagnosis is made).
    `partial`: the figures are of what arrived by the deadline; `ping_unmeasured`:
    why `ping` is null (``no_address``, ``no_answer``); ping's `asked`: probes asked."""
    data = reading_json(reading)
    data["diagnosis"] = diagnosis.verdict if diagnosis else None
    data.update(measured_json(diagnosis))
    return data


def measured_json(diagnosis: Diagnosis | None) -> dict[str, Any]:
    """What the router measured, as JSON: `partial` (the figures are of what
    arrived by the deadline), `ping_unmeasured` (why `ping` is null:
    ``no_address``, ``refused``, ``no_answer``), `torch_unmeasured` (an empty
    `top` says nothing: torch could not measure), `ping` (null when not measured; `asked`: the
    probes asked) and `top` (the busiest flows, busiest first); shared by
    ``--json`` and the HTTP API."""
    data: dict[str, Any] = {}
    data["partial"] = diagnosis.partial if diagnosis else False
    data["ping_unmeasured"] = diagnosis.ping_unmeasured if diagnosis else None
    data["torch_unmeasured"] = diagnosis.torch_unmeasured if diagnosis else False
    ping = diagnosis.ping if diagnosis else None
    data["ping"] = (
        {
            "asked": ping.asked,
            "sent": ping.sent,
            "received": ping.received,
            "loss_pct": round(ping.loss_pct, 1),
            "rtt_min_ms": _rounded(ping.rtt_min_ms),
            "rtt_avg_ms": _rounded(ping.rtt_avg_ms),
            "rtt_max_ms": _rounded(ping.rtt_max_ms),
            "jitter_ms": round(ping.jitter_ms, 1),
        }
        if ping
        else None
    )
    data["top"] = [
        {
            "remote": flow.remote,
            "protocol": flow.protocol,
            "port": flow.port,
            "download_bps": flow.download_bps,
            "upload_bps": flow.upload_bps,
        }
        for flow in (diagnosis.top if diagnosis else ())
    ]
    return data


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
