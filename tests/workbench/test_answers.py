"""Chat answers as the server builds them per question: plain Bokeh figures from real DAL frames,
the answer body (table with remote pagination, figure, provenance), the progress card."""
from __future__ import annotations

import numpy as np
import pandas as pd
import panel as pn
from bokeh.models import ColorBar, GlyphRenderer, MultiLine, Scatter

from floatchat_core.db import dal
from workbench import answerfig
from workbench.chat import ChatPane, Progress


def _glyphs(fig, kind):
    return [r.glyph for r in fig.select(type=GlyphRenderer) if isinstance(r.glyph, kind)]


def test_trajectory_figure_ends_at_the_latest_position(sample_db):
    traj = dal.float_trajectory("2902269")
    fig = answerfig.answer_figure((traj, {"kind": "trajectory", "title": "t"}))
    last = traj.sort_values("juld").iloc[-1]
    tri = [r for r in fig.select(type=GlyphRenderer) if isinstance(r.glyph, Scatter) and r.glyph.marker == "triangle"]
    assert len(tri) == 1
    assert tri[0].data_source.data["x"] == [float(last["longitude"])]
    pts = [r for r in fig.select(type=GlyphRenderer) if "cycle_number" in r.data_source.data and
           isinstance(r.glyph, Scatter)][0]
    assert len(pts.data_source.data["cycle_number"]) == len(traj)
    assert fig.x_range.start <= traj["longitude"].min() and fig.x_range.end >= traj["longitude"].max()
    assert fig.y_range.start <= traj["latitude"].min() and fig.y_range.end >= traj["latitude"].max()


def test_profiles_figure_one_line_per_profile_pressure_down(sample_db):
    ids = [int(i) for i in dal.find_profiles(platform_numbers=["1900857"], limit=12, order="time_desc")["profile_id"]]
    levels = dal.profile_levels(ids)
    fig = answerfig.answer_figure((levels, {"kind": "profiles", "x": "temp"}))
    assert fig.y_range.flipped
    ml = [r for r in fig.select(type=GlyphRenderer) if isinstance(r.glyph, MultiLine)][0]
    data = ml.data_source.data
    assert len(data["xs"]) == levels.dropna(subset=["pres"])["profile_id"].nunique()
    one = levels[levels["profile_id"] == ids[0]].dropna(subset=["pres"]).sort_values("pres", kind="stable")
    np.testing.assert_allclose(data["ys"][0], one["pres"].to_numpy(float))
    np.testing.assert_allclose(data["xs"][0], one["temp"].to_numpy(float), equal_nan=True)
    assert fig.xaxis[0].axis_label == "temperature (°C)"
    assert data["profile"][0].startswith("1900857 c")


def test_value_map_colours_by_the_value(sample_db):
    pos = dal.profile_positions().head(40).assign(value=np.linspace(2.0, 6.0, 40))
    fig = answerfig.answer_figure((pos, {"kind": "depth_slice", "y": "value"}))
    bar = fig.select_one({"type": ColorBar})
    assert (bar.color_mapper.low, bar.color_mapper.high) == (2.0, 6.0)


def test_answers_left_to_holoviews():
    frame = pd.DataFrame({"month": pd.date_range("2020-01-01", periods=3, freq="MS"), "mean": [1.0, 2.0, 3.0]})
    assert answerfig.answer_figure((frame, {"kind": "timeseries", "x": "month", "y": "mean"})) is None
    assert answerfig.answer_figure((frame, {"kind": "table"})) is None
    assert answerfig.answer_figure((frame.iloc[:0], {"kind": "map"})) is None


def test_render_real_answer_table_figure_provenance(sample_db):
    from floatchat_core.chat import ChatSession

    answer = ChatSession().ask("Show the trajectory of float 2902269")
    view = ChatPane().render(answer, 0.5)
    table = [p for p in view.objects if isinstance(p, pn.widgets.Tabulator)][0]
    assert table.pagination == "remote" and len(table.value) == len(answer.frame)
    fig = [p for p in view.objects if isinstance(p, pn.pane.Bokeh)][0].object
    assert _glyphs(fig, Scatter)
    assert any("How this was answered" in str(p.object) for p in view.objects if isinstance(p, pn.pane.HTML))


def _column_specs(columns) -> list:
    def spec(f):
        return type(f).__name__, sorted((k, repr(v)) for k, v in f.properties_with_values(include_defaults=False).items())

    return [(c.field, c.title, c.width, spec(c.formatter)) for c in columns]


def test_answer_table_columns_share_one_editor_and_equal_formatters(sample_db):
    """A read-only answer table: every column's field, title, width and cells drawn by the same
    formatters as Panel's Tabulator would make, with one editor and one model per distinct formatter;
    on real answers and on a frame of every kind of column (dates, times with and without a zone,
    booleans, missing values, a named index)."""
    import datetime as dt

    from bokeh.document import Document

    from floatchat_core.chat import ChatSession
    from workbench.chat import AnswerTable

    session = ChatSession()
    frames = []
    for question in ("Temperature profiles of float 2902269", "Show the trajectory of float 2902269",
                     "How many floats are there?"):
        view = ChatPane().render(session.ask(question), 0.5)
        frames.append([p for p in view.objects if isinstance(p, AnswerTable)][0].value)
    frames.append(pd.DataFrame({
        "n": [1, 2], "x": [0.5, None], "ok": [True, False], "name": ["a", None],
        "naive": pd.to_datetime(["2020-01-01 00:00", "2020-01-02 03:04"]),
        "utc": pd.to_datetime(["2020-01-01", "2020-01-02"], utc=True),
        "day": [dt.date(2020, 1, 1), dt.date(2020, 1, 2)]}, index=pd.Index([7, 8], name="profile")))
    for frame, show_index in [*((f, False) for f in frames), (frames[-1], True)]:
        ours = AnswerTable(frame, disabled=True, show_index=show_index).get_root(Document()).columns
        theirs = pn.widgets.Tabulator(frame, disabled=True, show_index=show_index).get_root(Document()).columns
        assert _column_specs(ours) == _column_specs(theirs)
        assert len({id(c.editor) for c in ours}) == 1 and type(ours[0].editor).__name__ == "CellEditor"
        assert len({id(c.formatter) for c in ours}) == len({repr(s[3]) for s in _column_specs(theirs)})
        assert [c.field for c in ours][:1] == (["profile"] if show_index else [frame.columns[0]])
    assert len(frames[0].columns) >= 10


def test_answer_table_is_panels(sample_db):
    """``AnswerTable.__init__`` (Panel's, less two triggers that notify nothing) gives the instance
    Panel's own ``__init__`` gives: the same attributes, the same watchers, the same Bokeh model
    (its data, configuration and every property, ids aside), on real answers of every shape."""
    import json
    import re

    from bokeh.document import Document

    from floatchat_core.chat import ChatSession
    from workbench.chat import AnswerTable, table_layout

    session = ChatSession()
    for question in ("Temperature profiles of float 2902269", "Show the trajectory of float 2902269",
                     "How many floats are there?"):
        frame = session.ask(question).frame.head(500)
        params = dict(disabled=True, show_index=False, sizing_mode="stretch_width", **table_layout(len(frame)))
        ours = AnswerTable(frame, **params)
        panels = AnswerTable.__new__(AnswerTable)
        pn.widgets.Tabulator.__init__(panels, frame, **params)           # Panel's own path, same class
        assert sorted(vars(ours)) == sorted(vars(panels))
        def watchers(table):
            return {name: {what: sorted(getattr(w.fn, "__name__", "?") for w in ws) for what, ws in kinds.items()}
                    for name, kinds in table.param.watchers.items()}

        assert watchers(ours) == watchers(panels)
        docs = []
        for table in (ours, panels):
            doc = Document()
            doc.add_root(table.get_root(doc))
            text = json.dumps(doc.to_json(deferred=False)["roots"], default=str)
            docs.append(re.sub(r'"(p\d+|[0-9a-f]{32})"', '"ID"', text))     # model and buffer ids
        assert docs[0] == docs[1]
        ours.value = frame.head(3)                                         # and it follows changes alike
        panels.value = frame.head(3)
        assert ours._processed.equals(panels._processed)


def test_progress_card_streams_steps_into_one_model():
    from bokeh.document import Document

    prog = Progress()
    model = prog.pane.get_root(Document())
    prog.step("Querying the database…", "**Parsed** (QuerySpec)")
    prog.step("✔ done", "**Queried**: 3 rows")
    assert "✔ done" in model.text and "Queried" in model.text          # the same model, its text updated
    assert "Parsed" in prog.pane.object and "Queried" in prog.pane.object and "<script" not in prog.pane.object


def test_download_button_opens_the_format_buttons_and_they_hold_the_frame(sample_db):
    import io

    from floatchat_core.chat import ChatSession

    answer = ChatSession().ask("Show the trajectory of float 2902269")
    view = ChatPane().render(answer, 0.5)
    row = [p for p in view.objects if isinstance(p, pn.Row)
           and any(isinstance(w, pn.widgets.Button) and "Download" in w.label for w in p.objects)][0]
    assert not any(isinstance(w, pn.widgets.FileDownload) for w in row.objects)   # built only when asked
    row.objects[0].clicks += 1
    files = {w.filename.rsplit(".", 1)[1]: w for w in row.objects if isinstance(w, pn.widgets.FileDownload)}
    assert set(files) >= {"csv", "parquet"}
    csv = pd.read_csv(io.BytesIO(files["csv"].callback().getvalue()), comment="#")
    assert len(csv) == len(answer.frame)
    assert sorted(csv["cycle_number"]) == sorted(answer.frame["cycle_number"])
    parquet = pd.read_parquet(io.BytesIO(files["parquet"].callback().getvalue()))
    assert len(parquet) == len(answer.frame)


def test_light_chat_message_shows_user_time_and_body_and_follows_object_changes():
    from bokeh.document import Document

    from workbench.chat import _LightChatMessage

    msg = _LightChatMessage("first *question* <script>alert(1)</script>", user="You", avatar="Y",
                            show_reaction_icons=True, reaction_icons={"favorite": "heart"})
    doc = Document()
    doc.add_root(msg.get_root(doc))
    html = msg._head.object
    assert "You" in html and msg.timestamp.strftime(msg.timestamp_format) in html and ">Y</div>" in html
    assert "<em>question</em>" in html                    # the text is Markdown…
    assert "<script>" not in html and "&lt;script&gt;" in html   # …with raw HTML escaped
    from bokeh.models.css import StyleSheet

    shown = sorted(type(m).__name__ for m in doc.models if not isinstance(m, StyleSheet))   # (shared per page)
    assert shown == ["Column", "HTML"]                    # Panel's own message: 28 models
    assert msg._composite.objects == [msg._head]
    assert msg.serialize() == msg.object
    msg.object = "second"                                 # streamed or edited text: the same header model
    assert "second" in msg._head.object and msg._composite.objects == [msg._head]
    card = pn.pane.HTML("<b>card</b>")
    msg.object = card                                     # a component is shown below the header…
    assert msg._composite.objects == [msg._head, card] and msg._object_panel is card
    assert "second" not in msg._head.object
    assert doc.roots[0].children[1] is card._models[doc.roots[0].ref["id"]][0]
    msg.object = "third"                                  # …and text again in the header
    assert msg._composite.objects == [msg._head] and "third" in msg._head.object
    msg.user = "Someone"
    assert "Someone" in msg._head.object


def test_chat_sends_the_typed_question_to_the_callback():
    """A light text message keeps the text as its body: the callback receives the question."""
    async def callback(contents, user, instance):
        return None

    chat = ChatPane()._chat
    chat.callback = callback
    chat.send("How many floats are there?", user="You", respond=False)
    args, _ = chat._gather_callback_args(chat.objects[-1])
    assert args[:2] == ("How many floats are there?", "You")


def test_follow_up_chips_are_one_button_group_that_asks_and_releases():
    from bokeh.document import Document

    pane = ChatPane(examples=["How many floats are there?", "Show the trajectory of float 2902269"])
    pane._chat.callback = None                 # only the question's own message: no engine behind it here
    group = pane._examples
    doc = Document()
    model = group.get_root(doc)
    assert list(model.labels) == pane.examples
    group.value = ["Show the trajectory of float 2902269"]
    assert group.value == [] and list(model.active) == []
    sent = [m for m in pane._chat.objects if m.user == "You"]
    assert [m.object for m in sent] == ["Show the trajectory of float 2902269"]


def test_older_answers_fold_to_text_and_provenance_and_unfold_on_click(sample_db):
    from floatchat_core.chat import ChatSession

    session = ChatSession()
    pane = ChatPane(live_answers=1)
    bodies = []
    for q in ("Show the trajectory of float 2902269", "How many profiles in 2019?"):
        answer = session.ask(q)
        body = pn.Column(Progress().pane, pane.render(answer))
        pane._keep_live(body, answer)
        bodies.append((body, answer))

    def has_table(body):
        return any(isinstance(p, pn.widgets.Tabulator) for p in body[-1].objects)

    first, second = bodies
    assert not has_table(first[0]) and has_table(second[0])
    folded = first[0][-1]
    assert "2902269" in folded[0].object and "How this was answered" in folded[1].object
    folded[2].clicks += 1                                  # "Show the table and plot again"
    assert has_table(first[0]) and not has_table(second[0])
    assert [a for _, a in pane._live] == [first[1]]
