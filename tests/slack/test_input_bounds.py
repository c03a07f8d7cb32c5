"""Operator text is cut to a fixed bound before any parsing, and parsed in linear time.

The pure parsers are checked on 100,000-character texts of every shape; the
same texts go through the real Bolt app (`/consumo`, a mention, the "Ver
consumo" shortcut) against the fake Slack and the simulator. How long the event
loop stalls on them is measured by ``bench/input_bench.py``, not here.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.readings import clean_query
from bot.errors import InputError
from bot.slack import parsing
from bot.slack.parsing import (
    MAX_MESSAGE,
    MAX_TEXT,
    command_question,
    command_text,
    mention_question,
    mention_text,
    split_duration,
    unwrap,
)
from tests.slack.test_shortcuts import message_action

HUGE = 100_000

#: 100,000-character texts of every shape the issue names: spaces, "<", digits, mixed.
SHAPES = {
    "spaces then a digit": "x" + " " * (HUGE - 2) + "1",
    "spaces then a duration": "x" + " " * (HUGE - 4) + "30s",
    "unclosed <": "<" * HUGE,
    "unclosed mentions": "<@" * (HUGE // 2),
    "unclosed links": "<http://x|" * (HUGE // 10),
    "digits": "1" * HUGE,
    "digits and spaces": "1 " * (HUGE // 2),
    "mixed": ("pedro.gomez <@U1 &lt; 100.64.9.9 30 s\n" * (HUGE // 30))[:HUGE],
}

many = settings(max_examples=200, deadline=None)


def long_texts() -> st.SearchStrategy[str]:
    """Texts up to ~150,000 characters: a short piece repeated, plus a tail."""
    return st.builds(
        lambda piece, times, tail: piece * times + tail,
        st.text(min_size=1, max_size=6),
        st.integers(min_value=1, max_value=25_000),
        st.text(max_size=20),
    )


# -- the bound, on the pure functions -----------------------------------------------------


@pytest.mark.parametrize("text", SHAPES.values(), ids=SHAPES.keys())
def test_parsers_read_only_the_bound(text):
    """Only the first MAX_TEXT characters are parsed: the result is the cut text's."""
    assert command_text(text) == command_text(text[:MAX_TEXT])
    assert mention_text(text) == mention_text(text[:MAX_TEXT])
    assert parsing.message_text(text) == text[:MAX_MESSAGE]


@pytest.mark.parametrize("text", SHAPES.values(), ids=SHAPES.keys())
def test_a_question_past_the_bound_is_too_long(text):
    for question in (command_question, mention_question):
        with pytest.raises(InputError) as caught:
            question(text)
        assert caught.value.reason == "too_long"
        assert len(caught.value.text) == MAX_TEXT  # the error keeps no more than the bound


def test_a_question_at_the_bound_is_read():
    command = "juan.perez 30s".ljust(MAX_TEXT)
    mention = "<@UBOT> juan.perez 30s".ljust(MAX_TEXT)
    assert command_question(command) == ("juan.perez", 30)
    assert mention_question(mention) == ("juan.perez", 30)


@given(long_texts())
@many
def test_any_text_reads_as_its_first_bound_characters(text):
    assert command_text(text) == command_text(text[:MAX_TEXT])
    assert mention_text(text) == mention_text(text[:MAX_TEXT])


# -- linear parsers, whatever their input -------------------------------------------------


def test_split_duration_on_a_long_run_of_spaces():
    """Regression: `split_duration` ran before the 100-character limit with a regex that
    retried the run of spaces from every start: ``/consumo x<20,000 spaces>1`` froze the
    event loop 3.3 s. Such a text of 100,000 characters is read right (how long it takes
    is measured by bench/input_bench.py)."""
    assert split_duration(SHAPES["spaces then a digit"]) == (SHAPES["spaces then a digit"], None)
    assert split_duration(SHAPES["spaces then a duration"]) == ("x", 30)


def test_unwrap_on_unclosed_markup():
    """Regression: `unwrap()` rescanned to the end of the text from every unclosed ``<``
    (quadratic); its patterns now stop at the next ``<``."""
    for text in (SHAPES["unclosed <"], SHAPES["unclosed mentions"], "<x|" * (HUGE // 3)):
        assert unwrap(text) == text
    assert unwrap("<@U1 <@U2> juan.perez") == "<@U1   juan.perez"
    assert unwrap("<<http://a.b|a.b>") == "<a.b"


#: The pattern `split_duration` used until its quadratic time was found: still its spec.
_ORIGINAL = re.compile(r"(?P<query>.+?)\s+(?P<seconds>\d{1,4})\s*s(?:eg|egundos)?", re.IGNORECASE)

_DURATION_PIECES = st.sampled_from(
    [
        " ", "  ", "\n", "\t", "\u3000", "a", "x.y", "1", "30", "٣", "s", "S", "ſ", "eg", "seg",
        "segundos", "SEG", "undos", "<@U1>",
    ]
)  # fmt: skip


@given(st.one_of(st.lists(_DURATION_PIECES, max_size=8).map("".join), st.text(max_size=30)))
@many
def test_split_duration_agrees_with_the_original_pattern(text):
    match = _ORIGINAL.fullmatch(text.strip())
    expected = (text, None) if match is None else (match["query"], int(match["seconds"]))
    assert split_duration(text) == expected


@given(
    st.text(min_size=1, max_size=40).filter(lambda s: s == s.strip() and s and "\n" not in s),
    st.integers(min_value=0, max_value=9999),
    st.sampled_from(["s", "seg", "segundos", "S", " s", "  seg"]),
)
@many
def test_split_duration_round_trip(name, seconds, unit):
    assert split_duration(f"{name} {seconds}{unit}") == (name, seconds)


@given(st.one_of(st.text(), long_texts()))
@many
def test_query_cleaning_maps_every_text(text):
    """Any text in: a value or an `InputError` out, never another exception."""
    for parse in (unwrap, command_text, mention_text, parsing.message_text):
        assert isinstance(parse(text), str)
    assert isinstance(split_duration(text)[0], str)
    for step in (
        lambda t: clean_query(t),
        lambda t: clean_query(command_question(t)[0]),
        lambda t: clean_query(mention_question(t)[0]),
    ):
        try:
            query = step(text)
        except InputError as exc:
            reason = exc.reason
        else:
            reason = "ok"
            assert 0 < len(query) <= 100
        assert reason in {"ok", "empty", "too_long", "invalid"}


@given(
    st.text(min_size=1, max_size=40).filter(lambda s: s == s.strip() and s),
    st.sampled_from([" ", "  ", "\t", " \u3000 "]),
    st.sampled_from(["diag", "DIAG", "Diag"]),
)
@many
def test_split_diag_takes_the_word_after_a_query(name, space, word):
    """``juan.perez diag`` asks a diagnosis of juan.perez, whatever the spacing or case."""
    assert parsing.split_diag(f"{name}{space}{word}") == (name, True)


@given(st.one_of(st.text(max_size=40), long_texts()))
@many
def test_split_diag_keeps_any_other_text(text):
    """A text whose last word is not ``diag`` (or that is that word alone, a PPPoE name)
    is a question as it was; one that ends so is its head and True."""
    query, diag = parsing.split_diag(text)
    words = text.split()
    if len(words) >= 2 and words[-1].casefold() == "diag":
        assert diag
        assert query.split() == words[:-1]
    else:
        assert (query, diag) == (text, False)


# -- through the real app -----------------------------------------------------------------


@pytest.fixture
def bot(start_bot):
    return start_bot()


def _no_router_asked(sim_world) -> None:
    for name in sim_world.nodes:
        assert sim_world.network.counters(name).commands == ()


def test_huge_commands_get_their_answer(fake, bot, sim_world):
    """Regression: ``/consumo x<20,000 spaces>1`` was parsed whole before the limit.
    Every 100,000-character shape gets the Spanish "too long" answer in its ack, and
    no router is asked anything."""
    acks = {name: fake.send_slash_command(text) for name, text in SHAPES.items()}
    for name, eid in acks.items():
        text = fake.wait_for_ack(eid).payload["text"]
        assert "Eso es demasiado largo para ser un usuario PPPoE" in text, name
    _no_router_asked(sim_world)


def test_huge_mentions_get_their_answer_in_the_thread(fake, bot, sim_world):
    """Regression: a mention of ``x<20,000 spaces>1`` froze the event loop 3.75 s. Each
    100,000-character shape gets the "too long" answer in its thread, shown only to the
    asker, and no router is asked anything."""
    sent = {}
    for name, text in SHAPES.items():
        eid = fake.send_app_mention(text)
        sent[fake.envelope(eid).payload["event"]["ts"]] = name
    posts = fake.wait_for_calls("chat.postEphemeral", count=len(SHAPES), timeout=15)
    answered = {p.params["thread_ts"]: p.params["text"] for p in posts}
    assert not fake.calls("chat.postMessage")
    assert set(answered) == set(sent)
    for ts, text in answered.items():
        assert "Eso es demasiado largo para ser un usuario PPPoE" in text, sent[ts]
    _no_router_asked(sim_world)


def test_huge_messages_through_the_shortcut_are_searched_up_to_the_bound(fake, bot):
    """A 100,000-character message of any shape: nothing found, said only to the operator."""
    for i, text in enumerate(SHAPES.values()):
        key = f"huge{i}"
        action = message_action(text, f"1700002{i:03d}.000100", response_url=fake.response_url(key))
        fake.send_envelope("interactive", action)
        [note] = fake.wait_for_responses(key=key, timeout=15)
        assert note.body["response_type"] == "ephemeral"
        assert "No encontré un usuario PPPoE" in note.body["text"]
    assert fake.calls("chat.postMessage") == []


def test_shortcut_reads_a_ticket_up_to_its_first_4000_characters(fake, bot):
    """The subscriber near the top of a long pasted ticket is found; one named only
    after the first MAX_MESSAGE characters is not searched for."""
    padding = "bla " * (HUGE // 4)
    top = message_action("Reclamo de juan.perez: " + padding, "1700003000.000100")
    fake.send_envelope("interactive", top)
    [call] = fake.wait_for_calls("chat.postMessage", timeout=15)
    assert call.params["thread_ts"] == "1700003000.000100"
    assert call.params["text"].startswith("juan.perez en bras-norte")

    late = "Reclamo: " + padding[: MAX_MESSAGE - 9] + " juan.perez"
    action = message_action(late, "1700003100.000100", response_url=fake.response_url("late"))
    fake.send_envelope("interactive", action)
    [note] = fake.wait_for_responses(key="late", timeout=15)
    assert "No encontré un usuario PPPoE" in note.body["text"]
    assert len(fake.calls("chat.postMessage")) == 1
