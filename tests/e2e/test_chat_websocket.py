"""The chat as a browser-less websocket client sees it (what ``benchmarks/ui.py`` times): the whole
answer body (text, table, plot, provenance) reaches the client once it said ``document_ready``, and a
new question cancels the running one. Real ``floatchat serve`` on the bundled sample."""
from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid

import pytest

from e2e_helpers import Server


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


class Session:
    """One dashboard session over Bokeh's websocket protocol, as BokehJS speaks it."""

    def __init__(self, url: str):
        from bokeh.protocol import Protocol
        from bokeh.protocol.receiver import Receiver

        self.url = url
        self.proto = Protocol()
        self.rec = Receiver(self.proto)

    def __enter__(self) -> Session:
        from websockets.sync.client import connect

        base = self.url.rsplit("/", 1)[0]
        page = urllib.request.urlopen(self.url, timeout=60).read().decode()
        token = re.search(r'"token":\s*"([^"]+)"', page).group(1)
        self._conn = connect(base.replace("http://", "ws://") + "/dashboard/ws", subprotocols=["bokeh", token],
                             origin=base, max_size=2**28, open_timeout=60, ping_interval=None)
        self.ws = self._conn.__enter__()
        assert self.read(60).msgtype == "ACK"
        self.send(self.proto.create("PULL-DOC-REQ"))
        while (m := self.read(60)).msgtype != "PULL-DOC-REPLY":
            pass
        self.input_id = _find_id(m.content["doc"], "ChatAreaInput")
        self.event({"type": "event", "name": "document_ready", "values": {"type": "map", "entries": []}})
        return self

    def __exit__(self, *exc) -> None:
        self._conn.__exit__(*exc)

    def read(self, timeout: float):
        while True:
            frag = self.ws.recv(timeout=timeout)
            try:
                self.rec.consume(frag).send(None)
            except StopIteration as stop:
                if stop.value is not None:
                    return stop.value

    def send(self, msg) -> None:
        for frame in (msg.header_json, msg.metadata_json, msg.content_json):
            self.ws.send(frame)

    def event(self, data: dict) -> None:
        content = {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": data}]}
        for frame in (json.dumps({"msgid": uuid.uuid4().hex, "msgtype": "PATCH-DOC"}), "{}", json.dumps(content)):
            self.ws.send(frame)

    def ask(self, question: str) -> None:
        self.event({"type": "event", "name": "chat_message_event",
                    "values": {"type": "map", "entries": [["model", {"id": self.input_id}], ["value", question]]}})

    def patches(self, seconds: float, until: str | None = None) -> str:
        """Every PATCH-DOC's JSON for ``seconds`` (or until one contains ``until``), joined."""
        out, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                m = self.read(max(end - time.monotonic(), 0.01))
            except TimeoutError:
                break
            if m.msgtype == "PATCH-DOC":
                out.append(json.dumps(m.content))
                if until and until in out[-1]:
                    break
        return "\n".join(out)


def _find_id(obj, name: str) -> str | None:
    """The id of the first Bokeh model of class ``name`` in a serialized document (names may be
    qualified: ``panel.models.chatarea_input.ChatAreaInput``)."""
    if isinstance(obj, dict):
        if obj.get("type") == "object" and str(obj.get("name")).rsplit(".", 1)[-1] == name and "id" in obj:
            return obj["id"]
        obj = list(obj.values())
    if isinstance(obj, list):
        for v in obj:
            if (found := _find_id(v, name)) is not None:
                return found
    return None


def _names(text: str) -> set[str]:
    return {n.rsplit(".", 1)[-1] for n in re.findall(r'"name":\s*"([\w.]+)"', text)}


def test_answer_body_reaches_a_websocket_client(served):
    with Session(served.url()) as s:
        t0 = time.perf_counter()
        s.ask("Show the trajectory of float 2902269")
        got = s.patches(90, until="How this was answered")
        assert "How this was answered" in got, got[-2000:]
        assert {"DataTabulator", "Figure"} <= _names(got)                 # its table and its plot came with it
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
