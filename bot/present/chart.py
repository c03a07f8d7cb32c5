"""A live view's samples as a PNG chart: download and upload against time.

A pure function: the same samples, plan and labels always give the same bytes
(Pillow writes no timestamp). Laid out to be read on a phone, where Slack shows
the image about 350 px wide: big type, thick lines, few labels.

    title            user · node
    subtitle         what was measured, and the caller's note (when, how long)
    legend           ▬ Bajada  ▬ Subida  ╌ Plan
    plot             y in Mbps (decimal), x in seconds since the first sample

Its words come from the active language's catalog (`bot.present.lang`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from bot.model import Plan, Sample
from bot.present.lang import t

WIDTH, HEIGHT = 1200, 720
#: The plot area (left, top, right, bottom): the axes' box, inside the margins.
PLOT = (120, 205, WIDTH - 50, HEIGHT - 95)

BACKGROUND = (255, 255, 255)
TEXT = (34, 34, 34)
MUTED = (102, 102, 102)
GRID = (228, 228, 228)
AXIS = (150, 150, 150)
DOWNLOAD = (31, 111, 209)  # Bajada: blue
UPLOAD = (232, 116, 12)  # Subida: orange
PLAN = (68, 68, 68)  # the plan's dashed lines

LINE_WIDTH = 5
PLAN_WIDTH = 3
DASH, GAP = 14, 10


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's own font (no system fonts: the same glyphs on every machine)."""
    return ImageFont.load_default(size=size)


def render_chart(
    samples: Sequence[Sample],
    plan: Plan | None,
    *,
    user: str,
    node: str,
    subtitle: str = "",
) -> bytes:
    """PNG bytes of the samples' download (tx) and upload (rx), with the plan's lines."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((40, 26), f"{user} · {node}", font=_font(44), fill=TEXT)
    note = t("chart.note")
    draw.text((40, 82), f"{note} · {subtitle}" if subtitle else note, font=_font(24), fill=MUTED)
    _legend(draw, plan)

    measured = [(s.offset_s, s.traffic) for s in samples if s.traffic is not None]
    left, top, right, bottom = PLOT
    peak = max(
        [t.download_bps for _, t in measured]
        + [t.upload_bps for _, t in measured]
        + ([plan.download_bps, plan.upload_bps] if plan else [])
        + [1_000_000]
    )
    y_step = _nice_step(peak * 1.08 / 1e6, 5)
    y_max = y_step * math.ceil(peak * 1.08 / 1e6 / y_step)
    x_max = max(2.0, math.ceil(max((t for t, _ in measured), default=0.0)))
    x_step = max(1.0, _nice_step(x_max, 6, factors=(1, 2, 5, 10)))

    def at(seconds: float, bps: float) -> tuple[float, float]:
        return (
            left + (right - left) * seconds / x_max,
            bottom - (bottom - top) * (bps / 1e6) / y_max,
        )

    small = _font(24)
    for i in range(round(y_max / y_step) + 1):
        value = i * y_step
        _, y = at(0, value * 1e6)
        draw.line([(left, y), (right, y)], fill=GRID if i else AXIS, width=2)
        label = _number(value)
        draw.text((left - 14, y), label, font=small, fill=MUTED, anchor="rm")
    draw.text((left - 14, top - 20), t("chart.mbps"), font=small, fill=MUTED, anchor="rs")
    for i in range(math.floor(x_max / x_step) + 1):
        x, _ = at(i * x_step, 0)
        draw.line([(x, bottom), (x, bottom + 10)], fill=AXIS, width=2)
        draw.text((x, bottom + 16), _number(i * x_step), font=small, fill=MUTED, anchor="mt")
    draw.text((right, bottom + 52), t("chart.seconds"), font=small, fill=MUTED, anchor="rt")
    draw.line([(left, top), (left, bottom)], fill=AXIS, width=2)

    if plan is not None:
        for key, bps in (
            ("chart.plan_download", plan.download_bps),
            ("chart.plan_upload", plan.upload_bps),
        ):
            _, y = at(0, bps)
            _dashed(draw, left, right, y)
            text = t(key, rate=_number(bps / 1e6))
            box = draw.textbbox((right - 6, y - 8), text, font=small, anchor="rb")
            draw.rectangle((box[0] - 6, box[1] - 4, box[2] + 4, box[3] + 2), fill=BACKGROUND)
            draw.text((right - 6, y - 8), text, font=small, fill=PLAN, anchor="rb")

    if not measured:
        draw.text(
            ((left + right) / 2, (top + bottom) / 2),
            t("chart.no_samples"),
            font=_font(40),
            fill=MUTED,
            anchor="mm",
        )
    for color, pick in ((UPLOAD, "upload_bps"), (DOWNLOAD, "download_bps")):
        points = [at(t, getattr(traffic, pick)) for t, traffic in measured]
        if len(points) > 1:
            draw.line(points, fill=color, width=LINE_WIDTH, joint="curve")
        for x, y in points:
            r = LINE_WIDTH - 1
            draw.ellipse([(x - r, y - r), (x + r, y + r)], fill=color)

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _legend(draw: ImageDraw.ImageDraw, plan: Plan | None) -> None:
    font, x, y = _font(28), 40, 140
    items: list[tuple[str, tuple[int, int, int], bool]] = [
        (t("chart.download"), DOWNLOAD, False),
        (t("chart.upload"), UPLOAD, False),
    ]
    if plan is not None:
        items.append((t("chart.plan"), PLAN, True))
    for label, color, dashed in items:
        if dashed:
            _dashed(draw, x, x + 44, y, dash=10, gap=7)
        else:
            draw.line([(x, y), (x + 44, y)], fill=color, width=LINE_WIDTH + 3)
        draw.text((x + 56, y), label, font=font, fill=TEXT, anchor="lm")
        x += 56 + round(draw.textlength(label, font=font)) + 44


def _dashed(
    draw: ImageDraw.ImageDraw, x0: float, x1: float, y: float, dash: int = DASH, gap: int = GAP
) -> None:
    x = x0
    while x < x1:
        draw.line([(x, y), (min(x + dash, x1), y)], fill=PLAN, width=PLAN_WIDTH)
        x += dash + gap


def _nice_step(span: float, ticks: int, factors: Sequence[float] = (1, 2, 2.5, 5, 10)) -> float:
    """A round step (`factors` × 10^k) giving at most about `ticks` intervals over `span`."""
    raw = max(span, 1e-9) / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(f * magnitude for f in factors if f * magnitude >= raw)


def _number(value: float) -> str:
    """Axis labels: the language's decimal mark, at most two decimals, none needless."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", t("number.decimal"))
