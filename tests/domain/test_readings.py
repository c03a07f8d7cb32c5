"""Making a reading: lookup, one snapshot per node, the live one wins."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.domain.readings import ReadingService
from bot.errors import AmbiguousQuery, NodeNotInInventory, RouterTimeout, UnknownUser
from bot.model import Secret
from bot.present.reading import reading_json


def read(world, user, **client_options):
    return asyncio.run(ReadingService(world.inventory, world.client(**client_options)).read(user))


def test_reading_with_plan_share(sim_world):
    reading = read(sim_world, "juan.perez")
    assert reading.node == "bras-norte"
    assert reading.download_pct == pytest.approx(90.4)
    assert reading.upload_pct == pytest.approx(21.0)
    assert reading.secret.comment == "Pérez, Juan - San Martín 1234"
    data = reading_json(reading)
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


def test_unknown_user_with_suggestions_after_asking_the_routers(sim_world):
    service = ReadingService(sim_world.inventory, sim_world.client())
    with pytest.raises(UnknownUser) as caught:
        asyncio.run(service.read("Juan.Peres"))
    assert "juan.perez" in caught.value.suggestions
    # Before saying "no existe", every router was asked for that exact name, once.
    for node in sim_world.nodes:
        prints = [
            c for c in sim_world.network.counters(node).commands if c[0] == "/ppp/secret/print"
        ]
        assert [w for c in prints for w in c if w.startswith("?")] == ["?name=Juan.Peres"]
    sim_world.network.reset_counters()
    with pytest.raises(UnknownUser):
        asyncio.run(service.read("Juan.Peres"))  # remembered: no second round of pulls
    assert sum(c.total_connections for c in map(sim_world.network.counters, sim_world.nodes)) == 0


def test_new_secret_is_found_by_a_targeted_pull(sim_world):
    from bot.sim.model import Subscriber

    def add(sim):
        sim.config.subscribers.append(
            Subscriber(
                "alta.nueva", "pw", online=True, plan=(1_000_000, 6_000_000), fixed_traffic=(1, 2)
            )
        )

    sim_world.network.call("bras-sur", add)
    reading = read(sim_world, "alta.nueva")
    assert reading.node == "bras-sur"
    assert reading.match.how == "pulled"
    assert sim_world.inventory.locate("alta.nueva")  # and kept for next time


@pytest.mark.parametrize(
    ("query", "user", "how"),
    [
        ("100.64.0.10", "juan.perez", "ip"),
        ("aa-bb-cc-00-00-10", "juan.perez", "mac"),
        ("JUAN.PÉREZ", "juan.perez", "key"),
        ("perez juan", "juan.perez", "name"),
        ("san martin 1234", "juan.perez", "comment"),
    ],
)
def test_subscriber_found_from_what_the_operator_has(sim_world, query, user, how):
    reading = read(sim_world, query)
    assert (reading.user, reading.match.how) == (user, how)


def test_ambiguous_query_lists_candidates(sim_world):
    with pytest.raises(AmbiguousQuery) as caught:
        read(sim_world, "cliente1")
    names = [h.name for h in caught.value.hits]
    assert "cliente10" in names
    assert len(names) <= 8


def test_node_missing_from_inventory(sim_world):
    sim_world.inventory.replace_node(
        "bras-oeste", [Secret("huerfano", "bras-oeste")], [], datetime.now(UTC)
    )
    with pytest.raises(NodeNotInInventory) as caught:
        read(sim_world, "huerfano")
    assert caught.value.node == "bras-oeste"


def test_pulls_over_the_global_cap_wait_their_turn_then_are_deferred(sim_world):
    """With one pull at a time allowed and a stalled router holding it for the
    whole deadline, the names behind the first cannot all get a turn within the
    deadline: the last at least is deferred (the routers are not asked for it, and
    it does not count against the operator's allowance)."""
    from bot.errors import PullDeferred

    sim_world.network.set_fault("bras-sur", "stall_login")  # each pull: the full 0.3 s
    service = ReadingService(sim_world.inventory, sim_world.client(timeout=0.3), max_pulls=1)
    names = ["nadie.uno", "nadie.dos", "nadie.tres"]

    async def burst():
        return await asyncio.gather(
            *(service.read(n, asker="U0001") for n in names), return_exceptions=True
        )

    results = asyncio.run(burst())
    deferred = {r.user: r for r in results if isinstance(r, PullDeferred)}
    # The first to arrive had its turn (and its router stalled); at least the last waited.
    assert 1 <= len(deferred) <= 2
    assert all((d.reason, d.limit) == ("busy", 1) for d in deferred.values())
    asked = {w for c in sim_world.network.counters("bras-norte").commands for w in c}
    assert {f"?name={n}" for n in names} & asked == {
        f"?name={n}" for n in names if n not in deferred
    }
    # Deferred names were not counted against the operator's allowance.
    assert len(service._pulled_by["U0001"]) == len(names) - len(deferred)
