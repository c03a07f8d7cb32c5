"""The simulator judged by a client that is not ours: RouterOS-api (the `routeros_api`
package), which tags every command and reads interleaved replies by tag.

A simulator that only answered Beholder's own client could agree with its
mistakes; a third-party client that pipelines tagged commands must get from
it what it gets from RouterOS: each reply under its own tag, a trap for one
command leaving the others standing, and the commands answered concurrently.
"""

from __future__ import annotations

import pytest
import routeros_api
from routeros_api.exceptions import RouterOsApiCommunicationError

from bot.sim.session import MAX_RUNNING_COMMANDS, TOO_MANY_MESSAGE
from tests.conftest import API_PASSWORD, API_USER


def _pool(network) -> routeros_api.RouterOsApiPool:
    """RouterOS-api's connection to bras-norte, logging in as ≥ 6.43 routers expect."""
    return routeros_api.RouterOsApiPool(
        "127.0.0.1",
        username=API_USER,
        password=API_PASSWORD,
        port=network.ports["bras-norte"],
        plaintext_login=True,
    )


def test_routeros_api_pipelining_tagged_commands_gets_each_reply(network):
    """Four commands sent before any reply is read: the session, the traffic and
    another user's secret each come back under their own tag, a monitor of an
    interface that does not exist traps alone, and all four ran at once."""
    network.set_latency("bras-norte", 0.05)
    network.reset_counters()
    pool = _pool(network)
    try:
        api = pool.get_api()
        interface = api.get_resource("/interface")
        active = api.get_resource("/ppp/active").call_async("print", queries={"name": "juan.perez"})
        monitor = interface.call_async(
            "monitor-traffic", arguments={"interface": "<pppoe-juan.perez>", "once": ""}
        )
        secret = api.get_resource("/ppp/secret").call_async(
            "print", queries={"name": "carlos.lopez"}
        )
        gone = interface.call_async(
            "monitor-traffic", arguments={"interface": "<pppoe-nadie>", "once": ""}
        )
        assert [row["name"] for row in active.get()] == ["juan.perez"]
        [traffic] = monitor.get()
        assert traffic["name"] == "<pppoe-juan.perez>"
        assert traffic["tx-bits-per-second"] == "45200000"
        assert [row["name"] for row in secret.get()] == ["carlos.lopez"]
        with pytest.raises(RouterOsApiCommunicationError, match="no such item"):
            list(gone.get())
    finally:
        pool.disconnect()
        network.set_latency("bras-norte", 0.0)
    counters = network.counters("bras-norte")
    assert counters.peak_concurrent_commands == 4
    assert counters.unbounded_commands == 0


def test_a_flood_of_tagged_commands_is_held_to_the_simulators_bound(network):
    """The simulator runs each tagged command as a task of its own; a client that
    sends more than MAX_RUNNING_COMMANDS at once gets a trap for the rest, so the
    simulator never holds an unbounded number of tasks, and the others are answered."""
    network.set_latency("bras-norte", 0.2)
    pool = _pool(network)
    extra = 6
    try:
        active = pool.get_api().get_resource("/ppp/active")
        promises = [
            active.call_async("print", queries={"name": "juan.perez"})
            for _ in range(MAX_RUNNING_COMMANDS + extra)
        ]
        answered, refused = 0, []
        for promise in promises:
            try:
                assert [row["name"] for row in promise.get()] == ["juan.perez"]
                answered += 1
            except RouterOsApiCommunicationError as exc:
                refused.append(str(exc))
    finally:
        pool.disconnect()
        network.set_latency("bras-norte", 0.0)
    assert answered == MAX_RUNNING_COMMANDS
    assert len(refused) == extra
    assert all(TOO_MANY_MESSAGE in text for text in refused)
    assert network.counters("bras-norte").peak_concurrent_commands == MAX_RUNNING_COMMANDS
