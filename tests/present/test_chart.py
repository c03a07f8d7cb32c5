"""The live view's chart: a real PNG, drawn from real samples of the simulator."""

from __future__ import annotations

import asyncio
import io
import itertools
import time
from contextlib import aclosing
from datetime import UTC, datetime

import pytest
from PIL import Image

from bot.model import Node, Plan, Sample, Traffic
from bot.present.chart import DOWNLOAD, HEIGHT, PLAN, PLOT, UPLOAD, WIDTH, render_chart
from bot.routeros.client import RouterClient
from bot.sim.model import RouterConfig, Subscriber
from bot.sim.network import SimNetwork

MBPS = 1_000_000


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    """Four seconds of juan.perez's generated traffic (load, not fixed), via `watch`."""
    subscriber = Subscriber("juan.perez", "pw", plan=(10 * MBPS, 50 * MBPS), online=True, load=0.7)
    config = RouterConfig("bras-norte", username="u", password="p", subscribers=[subscriber])
    with SimNetwork([config]) as network:
        node = Node("bras-norte", "127.0.0.1", network.port("bras-norte"))
        client = RouterClient("u", "p", timeout=2.0)

        async def take() -> list[Sample]:
            async with aclosing(client.watch(node, "juan.perez", 4)) as watch:
                return [sample async for sample in watch]

        return asyncio.run(take())


PLAN_50_10 = Plan(50 * MBPS, 10 * MBPS)


def render(samples, plan=PLAN_50_10) -> bytes:
    return render_chart(
        samples, plan, user="juan.perez", node="bras-norte", subtitle="24/11 15:02:10 · 4 s"
    )


def plot_pixels(png: bytes) -> tuple[Image.Image, list[tuple[int, int, int]]]:
    image = Image.open(io.BytesIO(png))
    plot = image.convert("RGB").crop(PLOT)
    data = plot.tobytes()  # RGB, row by row
    return image, [tuple(data[i : i + 3]) for i in range(0, len(data), 3)]


def test_samples_vary_like_live_traffic(samples):
    assert len(samples) == 4
    downloads = {s.traffic.download_bps for s in samples}
    assert len(downloads) > 1  # generated traffic moves second by second
    assert all(20 * MBPS < s.traffic.download_bps <= 50 * MBPS for s in samples)


def test_chart_is_a_png_with_both_series_and_the_plan(samples):
    png = render(samples)
    image, pixels = plot_pixels(png)
    assert image.format == "PNG"
    assert image.size == (WIDTH, HEIGHT)
    assert pixels.count(DOWNLOAD) > 500
    assert pixels.count(UPLOAD) > 500
    # The plan's dashed lines: rows of the plot mostly covered by the plan's colour.
    plot_width = PLOT[2] - PLOT[0]
    rows = [pixels[i : i + plot_width] for i in range(0, len(pixels), plot_width)]
    dashed = [y for y, row in enumerate(rows) if row.count(PLAN) > 0.4 * plot_width]
    assert dashed, "no plan line"
    # Two lines (50 and 10 Mbps), each a few pixels thick: two separate bands.
    bands = 1 + sum(1 for a, b in itertools.pairwise(dashed) if b - a > 1)
    assert bands == 2
    # Download (45ish Mbps) is drawn above upload (7ish): smaller y in the image.
    first_row = {
        color: next(y for y, row in enumerate(rows) if color in row) for color in (DOWNLOAD, UPLOAD)
    }
    assert first_row[DOWNLOAD] < first_row[UPLOAD]


def test_same_input_same_bytes_and_fast_enough(samples):
    started = time.perf_counter()
    first = render(samples)
    elapsed = time.perf_counter() - started
    assert render(samples) == first
    assert elapsed < 2.0  # ~60 ms here; it runs in a worker thread anyway
    assert 5_000 < len(first) < 200_000


def test_without_a_plan_or_samples_it_still_draws():
    no_plan = render([Sample(0.0, datetime.now(UTC), Traffic(3 * MBPS, MBPS))] * 2, plan=None)
    _, pixels = plot_pixels(no_plan)
    assert PLAN not in pixels
    empty = render([], plan=None)
    assert Image.open(io.BytesIO(empty)).size == (WIDTH, HEIGHT)
    gone = render([Sample(0.0, datetime.now(UTC), None)])
    _, pixels = plot_pixels(gone)
    assert DOWNLOAD not in pixels
