"""Synthetic but plausible traffic for online subscribers.

Values must look live (an operator asking twice should see them move) yet be
reproducible, so everything is a pure function of the subscriber and the time
since the simulator started: a slow wave plus smoothed noise, both seeded from
the subscriber's name. `fixed_traffic` bypasses all of it for exact tests.

Direction is the router's: tx = toward the subscriber = download,
rx = from the subscriber = upload.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass

from bot.sim.model import MBPS, Subscriber

# Rate used to generate traffic for a session without a dynamic queue (plan
# unknown): (upload, download). Something upstream shapes it in real life.
UNSHAPED_LINE_RATE = (20 * MBPS, 100 * MBPS)
# Average packet sizes: downloads are mostly full-size segments, uploads are
# mostly ACKs and small requests.
DOWNLOAD_PACKET_BYTES = 1300
UPLOAD_PACKET_BYTES = 300
# Fraction of packets handled by the fast path. `fp-*` fields are part of the
# totals, not in addition to them.
FAST_PATH_SHARE = 0.75
# Above this fraction of the plan the queue starts dropping packets.
CONGESTION_THRESHOLD = 0.85

# Shape of the variation around the average load.
_WAVE_AMPLITUDE = 0.12
_RIPPLE_AMPLITUDE = 0.05
_NOISE_AMPLITUDE = 0.08


@dataclass(frozen=True)
class TrafficSample:
    """One monitor-traffic reading of a session, router's point of view."""

    rx_bps: int  # subscriber upload
    tx_bps: int  # subscriber download
    rx_pps: int
    tx_pps: int
    fp_rx_bps: int
    fp_tx_bps: int
    fp_rx_pps: int
    fp_tx_pps: int


@dataclass(frozen=True)
class QueueTotals:
    """Cumulative counters of the dynamic queue, as (upload, download) pairs."""

    bytes: tuple[int, int]
    packets: tuple[int, int]
    dropped: tuple[int, int]


def _seed(name: str) -> int:
    # crc32, not hash(): str hashes are randomised per process.
    return zlib.crc32(name.encode("utf-8"))


def _noise_at(seed: int, channel: int, step: int) -> float:
    """Uniform value in [-1, 1] fixed for (subscriber, direction, second)."""
    return random.Random(f"{seed}:{channel}:{step}").uniform(-1.0, 1.0)


def _factor(seed: int, channel: int, t: float) -> float:
    """Multiplier around 1.0 for the average load at time t (seconds)."""
    params = random.Random(f"{seed}:{channel}:params")
    period = params.uniform(45.0, 120.0)
    phase = params.uniform(0.0, 2 * math.pi)
    wave = _WAVE_AMPLITUDE * math.sin(2 * math.pi * t / period + phase)
    ripple = _RIPPLE_AMPLITUDE * math.sin(2 * math.pi * t / (period / 3.7) + 1.3 * phase)
    # Value noise: random per whole second, smoothly interpolated between.
    step = math.floor(t)
    frac = t - step
    smooth = frac * frac * (3 - 2 * frac)
    n0 = _noise_at(seed, channel, step)
    n1 = _noise_at(seed, channel, step + 1)
    noise = _NOISE_AMPLITUDE * (n0 + (n1 - n0) * smooth)
    return 1.0 + wave + ripple + noise


def line_rate(sub: Subscriber) -> tuple[int, int]:
    """(upload, download) capacity the traffic is generated against."""
    return sub.plan if sub.plan is not None else UNSHAPED_LINE_RATE


def _shaped(bps: float, limit: int, seed: int, channel: int, t: float) -> int:
    """Clamp a rate under the plan, the way a queue at its limit looks.

    A saturated queue does not report exactly max-limit on every reading but
    wobbles just below it (here 96-100 %); it never exceeds it.
    """
    ceiling = limit * (0.98 + 0.02 * _noise_at(seed, channel + 2, math.floor(t)))
    return round(min(max(bps, 0.0), ceiling))


def _pps(bps: int, packet_bytes: int) -> int:
    return round(bps / (8 * packet_bytes))


def sample(sub: Subscriber, t: float) -> TrafficSample:
    """Current rates of an online session, `t` seconds after simulator start."""
    if sub.fixed_traffic is not None:
        rx, tx = sub.fixed_traffic
    else:
        up, down = line_rate(sub)
        seed = _seed(sub.name)
        load = min(max(sub.load, 0.0), 1.0)
        tx = _shaped(load * down * _factor(seed, 0, t), down, seed, 0, t)
        rx = _shaped(load * up * _factor(seed, 1, t), up, seed, 1, t)
    rx_pps = _pps(rx, UPLOAD_PACKET_BYTES)
    tx_pps = _pps(tx, DOWNLOAD_PACKET_BYTES)
    return TrafficSample(
        rx_bps=rx,
        tx_bps=tx,
        rx_pps=rx_pps,
        tx_pps=tx_pps,
        fp_rx_bps=round(rx * FAST_PATH_SHARE),
        fp_tx_bps=round(tx * FAST_PATH_SHARE),
        fp_rx_pps=round(rx_pps * FAST_PATH_SHARE),
        fp_tx_pps=round(tx_pps * FAST_PATH_SHARE),
    )


def _average_rates(sub: Subscriber) -> tuple[float, float]:
    """Average (rx, tx) bps over the session, for cumulative counters."""
    if sub.fixed_traffic is not None:
        return float(sub.fixed_traffic[0]), float(sub.fixed_traffic[1])
    up, down = line_rate(sub)
    load = min(max(sub.load, 0.0), 1.0)
    return load * up, load * down


def _drops(avg_bps: float, limit_bps: int, packet_bytes: int, seconds: float) -> int:
    """Packets dropped so far: only a session running near its limit drops."""
    if limit_bps <= 0:
        return 0
    excess = avg_bps / limit_bps - CONGESTION_THRESHOLD
    if excess <= 0:
        return 0
    pps = avg_bps / (8 * packet_bytes)
    return int(pps * excess * 0.2 * seconds)


def queue_totals(sub: Subscriber, session_s: float) -> QueueTotals:
    """Cumulative bytes/packets/drops of a session that has been up `session_s`."""
    rx, tx = _average_rates(sub)
    up, down = line_rate(sub)
    bytes_up = int(rx * session_s / 8)
    bytes_down = int(tx * session_s / 8)
    return QueueTotals(
        bytes=(bytes_up, bytes_down),
        packets=(bytes_up // UPLOAD_PACKET_BYTES, bytes_down // DOWNLOAD_PACKET_BYTES),
        dropped=(
            _drops(rx, up, UPLOAD_PACKET_BYTES, session_s),
            _drops(tx, down, DOWNLOAD_PACKET_BYTES, session_s),
        ),
    )
