"""The per-router circuit breaker (pure state, fake clock)."""

import pytest

from bot.errors import RouterAuthFailed, RouterCircuitOpen, RouterTimeout
from bot.routeros.breaker import CircuitBreaker
from tests.support.clock import Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def breaker(clock):
    return CircuitBreaker(threshold=3, cooldown=30, clock=clock)


def fail(breaker, times=1):
    for _ in range(times):
        breaker.before("bras-norte")
        breaker.failure("bras-norte", RouterTimeout("bras-norte", seconds=5))


def test_opens_after_threshold_consecutive_failures(breaker, clock):
    fail(breaker, 2)
    breaker.before("bras-norte")  # still closed
    fail(breaker, 1)
    clock.now += 10
    with pytest.raises(RouterCircuitOpen) as caught:
        breaker.before("bras-norte", user="juan.perez")
    assert caught.value.since_s == 10
    assert caught.value.retry_in_s == 20
    assert isinstance(caught.value.cause, RouterTimeout)
    assert caught.value.user == "juan.perez"


def test_success_resets_the_count(breaker):
    fail(breaker, 2)
    breaker.success("bras-norte")
    fail(breaker, 2)
    breaker.before("bras-norte")


def test_one_probe_after_cooldown_then_closes_on_success(breaker, clock):
    fail(breaker, 3)
    clock.now += 30
    breaker.before("bras-norte")  # the probe
    with pytest.raises(RouterCircuitOpen):
        breaker.before("bras-norte")  # others wait while the probe runs
    breaker.success("bras-norte")
    breaker.before("bras-norte")
    assert not breaker.is_open("bras-norte")


def test_failed_probe_reopens_for_a_full_cooldown(breaker, clock):
    fail(breaker, 3)
    clock.now += 30
    fail(breaker, 1)
    clock.now += 29
    with pytest.raises(RouterCircuitOpen):
        breaker.before("bras-norte")


def test_bad_credentials_do_not_open_it(breaker):
    for _ in range(10):
        breaker.failure("bras-norte", RouterAuthFailed("bras-norte"))
    breaker.before("bras-norte")


def test_routers_are_independent(breaker):
    fail(breaker, 3)
    breaker.before("bras-sur")


def test_states_say_open_then_half_open_then_nothing_once_closed(breaker, clock):
    """What ``/metrics`` reports: a circuit under its threshold is closed (absent);
    open while the cooldown runs; half-open once it is over, and while the probe runs
    (questions other than the probe are still refused then)."""
    fail(breaker, 2)
    assert breaker.states() == {}
    fail(breaker, 1)
    assert breaker.states() == {"bras-norte": "open"}
    clock.now += 29.9
    assert breaker.states() == {"bras-norte": "open"}
    clock.now += 0.1
    assert breaker.states() == {"bras-norte": "half_open"}
    breaker.before("bras-norte")  # the probe
    assert breaker.states() == {"bras-norte": "half_open"}
    breaker.failure("bras-norte", RouterTimeout("bras-norte", seconds=5))
    assert breaker.states() == {"bras-norte": "open"}
    clock.now += 30
    breaker.before("bras-norte")
    breaker.success("bras-norte")
    assert breaker.states() == {}
