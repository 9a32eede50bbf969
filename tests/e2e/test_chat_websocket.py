"""The chat as a browser-less websocket client sees it (what ``benchmarks/ui.py`` times): the whole
answer body (text, table, plot, provenance) reaches the client once it said ``document_ready``, and a
new question cancels the running one. Real ``floatchat serve`` on the bundled sample."""
from __future__ import annotations

import re
import time

import pytest

from e2e_helpers import Server, Session, names


@pytest.fixture(scope="module")
def served(database):
    from floatchat_core.cli import sample_dir
    from floatchat_core.db.maintenance import truncate_data
    from floatchat_core.ingest import ingest

    truncate_data()
    assert ingest([sample_dir()], name="sample", dataset="sample", executor="serial")["status"] == "succeeded"
    server = Server()
    yield server
    server.stop()
    truncate_data()


def test_answer_body_reaches_a_websocket_client(served):
    with Session(served.url()) as s:
        t0 = time.perf_counter()
        s.ask("Show the trajectory of float 2902269")
        got = s.patches(90, until="How this was answered")
        assert "How this was answered" in got, got[-2000:]
        assert {"DataTabulator", "Figure"} <= names(got)                 # its table and its plot came with it
        assert "Trajectory of float 2902269: 57 positions" in got          # the answer's text
        assert "Parsed" in got and "Queried" in got                          # the progress steps streamed
        assert time.perf_counter() - t0 < 90


def test_a_new_question_cancels_the_running_one(served):
    with Session(served.url()) as s:
        s.ask("Temperature profiles of float 2902269")
        assert "Parsing the question" in s.patches(60, until="Parsing the question")   # the first one runs
        s.ask("How many floats are there?")                                   # …when the user asks again
        got = s.patches(90, until="How this was answered")
        got += s.patches(4)                                                   # anything the first would still send
        assert got.count("How this was answered") == 1, "only the second question is answered"
        answered = re.findall(r"Answered in [0-9.]+ s \\u00b7 ([0-9,]+) rows", got)
        assert answered == ["1"], answered                                    # the count, not 16,370 levels


def test_an_answer_and_the_reset_input_each_arrive_in_one_message(served):
    """The answer's body and the status line leave in one PATCH-DOC, and so does the input's reset
    after the answer (Panel sends each property of it on its own: three messages)."""
    with Session(served.url()) as s:
        s.ask("How many floats are there?")
        got = s.patches(90, until="How this was answered") + "\n" + s.patches(3)
    messages = got.split("\n")
    answer = [m for m in messages if "How this was answered" in m]
    assert len(answer) == 1 and re.search(r"Answered in [0-9.]+ s", answer[0]), answer
    enabled = [m for m in messages if re.search(r'"attr": "disabled", "new": false', m)]
    assert len(enabled) == 1 and enabled[0].count('"attr": "disabled"') == 3, enabled
    assert enabled[0].count('"attr": "visible"') == 2, enabled          # send shown, stop hidden with it
    assert re.search(r"queried [0-9,]+ rows", answer[0]), answer              # the last progress step too


def test_an_answer_starts_and_ends_in_few_messages(served):
    """The input disabled and the send/stop swap at the start leave in one message, as does the
    answer's message with its scrolling; a question costs ~10 PATCH-DOC messages, not ~20 (each is
    serialized and written on the event loop every session of the process shares)."""
    with Session(served.url()) as s:
        s.ask("How many floats are there?")                 # the first question of a page sends more
        s.patches(90, until="How this was answered")
        s.patches(3)
        s.ask("How many profiles in 2019?")
        got = s.patches(90, until="How this was answered") + "\n" + s.patches(3)
    messages = [m for m in got.split("\n") if m.strip()]
    disabled = [m for m in messages if re.search(r'"attr": "disabled", "new": true', m)]
    assert len(disabled) == 1 and disabled[0].count('"attr": "disabled"') == 3, disabled
    assert disabled[0].count('"attr": "visible"') == 2, disabled
    scrolls = [m for m in messages if "scroll_latest_event" in m]
    assert any(m.count("scroll_latest_event") == 2 and '"attr": "children"' in m for m in scrolls), scrolls
    assert len(messages) <= 11, "\n".join(m[:160] for m in messages)
