"""Making a reading: lookup, one snapshot per node, the live one wins."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.errors import NodeNotInInventory, RouterTimeout, UnknownUser
from bot.inventory import Secret
from bot.readings import ReadingService


def read(world, user, **client_options):
    return asyncio.run(ReadingService(world.inventory, world.client(**client_options)).read(user))


def test_reading_with_plan_share(sim_world):
    reading = read(sim_world, "juan.perez")
    assert reading.node == "bras-norte"
    assert reading.download_pct == pytest.approx(90.4)
    assert reading.upload_pct == pytest.approx(21.0)
    assert reading.secret.comment == "Pérez, Juan - San Martín 1234"
    data = reading.as_dict()
    assert data["download_bps"] == 45_200_000
    assert data["plan_upload_bps"] == 10_000_000


def test_user_on_two_routers_live_session_wins(sim_world):
    reading = read(sim_world, "ana.martinez")
    assert reading.online
    assert reading.node == "bras-sur"
    assert reading.also_on == ("bras-norte",)
    # Both routers were asked, at once.
    for node in ("bras-norte", "bras-sur"):
        assert sim_world.network.counters(node).total_connections == 1


def test_user_on_two_routers_one_down(sim_world):
    sim_world.network.set_fault("bras-sur", "stall_login")
    reading = read(sim_world, "ana.martinez", timeout=0.5)
    assert not reading.online
    assert reading.node == "bras-norte"
    assert [type(e) for e in reading.unavailable] == [RouterTimeout]
    assert reading.unavailable[0].node == "bras-sur"


def test_only_router_down_raises_its_error(sim_world):
    sim_world.network.set_fault("bras-norte", "stall_login")
    with pytest.raises(RouterTimeout) as caught:
        read(sim_world, "juan.perez", timeout=0.5)
    assert caught.value.user == "juan.perez"


def test_unknown_user_with_suggestions(sim_world):
    with pytest.raises(UnknownUser) as caught:
        read(sim_world, "Juan.Peres")
    assert "juan.perez" in caught.value.suggestions
    assert sum(c.total_connections for c in map(sim_world.network.counters, sim_world.nodes)) == 0


def test_node_missing_from_inventory(sim_world):
    sim_world.inventory.replace_secrets(
        "bras-oeste", [Secret("huerfano", "bras-oeste")], datetime.now(UTC)
    )
    with pytest.raises(NodeNotInInventory) as caught:
        read(sim_world, "huerfano")
    assert caught.value.node == "bras-oeste"
