"""The workbench's Bokeh document walk (``workbench.docspeed``) finds exactly the models Bokeh's own
finds, on real dashboard components with real answers, with Panel's default and dark themes."""
from __future__ import annotations

import pytest
from bokeh.model import util as bokeh_util

from workbench import docspeed


def _dashboard_document(theme: str):
    import panel as pn
    from bokeh.document import Document

    from floatchat_core.chat import ChatSession
    from workbench.cards import DatasetCards
    from workbench.chat import ChatPane
    from workbench.design import Bootstrap
    from workbench.floatmap import FloatMap
    from workbench.profiles import ProfileView, TSDiagram

    session, chat = ChatSession(), ChatPane()
    bodies = [chat.render(session.ask(q), 0.3) for q in ("Show the trajectory of float 2902269",
                                                        "Temperature profiles of float 2902269",
                                                        "How many floats are there?")]
    profiles = ProfileView(platform_number="2902269")
    template = pn.template.BootstrapTemplate(title="walks", design=Bootstrap, theme=theme,
                                             main=[pn.Row(FloatMap(height=300), chat), pn.Tabs(
                                                 ("Profiles", profiles), ("T-S", TSDiagram()),
                                                 ("Datasets", DatasetCards())), *bodies])
    doc = Document()
    template.server_doc(doc)
    return doc


def _walk(doc) -> dict:
    """Every model reachable from the roots, and each model's own references."""
    every = set()
    for root in doc.roots:
        every |= root.references()
    return {"all": {m.id for m in every}, "per_model": {m.id: {r.id for r in m.references()} for m in every},
            "immediate": {m.id: sorted(_immediate(m)) for m in every}}


def _immediate(model) -> list[str]:
    found = []
    bokeh_util.visit_immediate_value_references(model, lambda m: found.append(m.id))
    return found


@pytest.mark.parametrize("theme", ["default", "dark"])
def test_walk_finds_the_same_models_as_bokeh(sample_db, theme):
    was = docspeed.installed()
    try:
        docspeed.uninstall()
        doc = _dashboard_document(theme)
        theirs = _walk(doc)
        docspeed.install()
        ours = _walk(doc)
        again = _walk(doc)               # defaults Bokeh kept during the first walk change nothing
    finally:
        (docspeed.install if was else docspeed.uninstall)()
    assert len(theirs["all"]) > 300
    assert ours == theirs == again
    if theme == "dark":                  # the themed path was taken
        assert any(m.__dict__.get("__themed_values__") for m in doc.models)


def test_document_recompute_attaches_and_detaches_as_bokeh(sample_db):
    """A chat message added, then removed: the document's model set follows with the fast walk."""
    import panel as pn

    docspeed.install()
    doc = _dashboard_document("default")
    col = next(m for m in doc.models if type(m).__name__ == "Column")
    before = {m.id for m in doc.models}
    added = pn.pane.Markdown("an extra message").get_root(doc)
    col.children = [*col.children, added]
    assert added.id in {m.id for m in doc.models} and before < {m.id for m in doc.models}
    col.children = [c for c in col.children if c is not added]
    assert {m.id for m in doc.models} == before
    assert added.document is None


def test_patch_messages_are_bokehs_own(sample_db):
    """A new answer appended and a text changed: the PATCH-DOC content and buffers encoded with the
    lazy references equal those of Bokeh's serializer."""
    import base64
    import gzip
    import json

    import numpy as np
    from bokeh.core.serialization import Buffer, Serializer

    from floatchat_core.chat import ChatSession
    from workbench.chat import ChatPane

    doc = _dashboard_document("default")
    doc.models.flush_synced()                     # the browser has every model so far
    events = []
    doc.on_change(events.append)
    col = next(m for m in doc.models if type(m).__name__ == "Column")
    body = ChatPane().render(ChatSession().ask("Salinity profiles of float 1900857"), 0.2).get_root(doc)
    col.children = [*col.children, body]
    # Panel's HTML markup model (bokeh.models.dom.HTML has the same name but no ``text``)
    text = next(m for m in doc.models
                if type(m).__name__ == "HTML" and "text" in m.properties() and m is not body)
    text.text = "changed"
    assert len(events) >= 2

    def plain_bytes(obj):
        """Bytes by their content, whether a buffer of their own or inline (gzipped base64)."""
        if isinstance(obj, dict):
            if obj.get("type") == "bytes":
                data = obj["data"]
                raw = data.to_bytes() if isinstance(data, Buffer) else gzip.decompress(base64.b64decode(data))
                return {"type": "bytes", "hex": raw.hex()}
            return {k: plain_bytes(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [plain_bytes(v) for v in obj]
        return obj

    def encode(cls):
        s = cls(references=doc.models.synced_references)
        content = s.encode(events)
        # buffers get a new id at each encoding: compared by their bytes
        text = json.dumps(plain_bytes(content), sort_keys=True, default=str)
        return text, s.buffers

    (ours, our_buffers), (theirs, their_buffers) = encode(docspeed.LazyRefSerializer), encode(Serializer)
    assert ours == theirs
    assert '"type":"object"' in ours.replace(" ", "")     # the new models travel in full …
    assert text.id in ours                               # … and known ones as references
    # the plot's ~60 profiles and the table's columns: a websocket frame pair each in Bokeh's message,
    # inside the JSON in ours
    assert len(their_buffers) > 50 and our_buffers == []
    big = docspeed.LazyRefSerializer(references=doc.models.synced_references)
    big.encode(np.zeros(docspeed.LazyRefSerializer.INLINE_BYTES // 8 + 1))
    assert len(big.buffers) == 1                          # a large array stays a binary frame


def _plain(value):
    """A property value comparable across instances: models by their class, containers by content."""
    from bokeh.model import Model

    if isinstance(value, Model):
        return ("model", type(value).__name__)
    if isinstance(value, dict):
        return {"dict": sorted((repr(_plain(k)), repr(_plain(v))) for k, v in value.items())}
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, *(_plain(v) for v in value)]
    return repr(value)


def test_property_defaults_are_bokehs_own(sample_db):
    """Every property of a fresh instance of every model class of the dashboard (and of the dark
    theme's themed models) reads the same with the kept defaults as with Bokeh's, twice over."""
    import json

    from bokeh.core.property.descriptors import UnsetValueError

    for theme in ("default", "dark"):
        doc = _dashboard_document(theme)
        classes = {type(m) for m in doc.models}
        assert len(classes) > 40

        def read(cls, themed):
            obj = cls()
            if themed:
                obj.apply_theme(themed)
            out = {}
            for name in sorted(obj.properties()):
                try:
                    out[name] = _plain(getattr(obj, name))
                except UnsetValueError:         # a required property without a default
                    out[name] = "unset"
            return out

        themes = {type(m): m.__dict__.get("__themed_values__") for m in doc.models}
        docspeed.uninstall()
        try:
            theirs = {cls: read(cls, themes[cls]) for cls in classes}
            their_json = json.dumps(doc.to_json(deferred=False), sort_keys=True, default=str)
        finally:
            docspeed.install()
        ours = {cls: read(cls, themes[cls]) for cls in classes}
        again = {cls: read(cls, themes[cls]) for cls in classes}
        assert ours == theirs == again
        assert len(docspeed._STABLE_DEFAULTS) > 100        # the kept defaults were used
        # the whole document as the browser receives it (defaults left out as Bokeh leaves them out)
        assert json.dumps(doc.to_json(deferred=False), sort_keys=True, default=str) == their_json


def test_empty_container_defaults_are_made_per_instance_as_bokeh(sample_db):
    """A property whose default is an empty list or dict reads, for every model class of the
    dashboard (themed and not), as with Bokeh's own: a new container of the same type for each
    instance, registered with its owner, kept on the instance; mutating it notifies the document
    and makes it a value the browser is sent, as Bokeh's does."""
    from bokeh.document import Document

    def state(cls, themed):
        objs = [cls(), cls()]
        out = []
        for obj in objs:
            if themed:
                obj.apply_theme(themed)
            kept = {}
            for name in sorted(obj._unstable_default_values):
                value = obj._unstable_default_values[name]
                owners = getattr(value, "_owners", None)
                kept[name] = (type(value).__name__, _plain(value),
                              None if owners is None else sorted((o is obj, d.name) for o, d in owners))
            out.append(kept)
        shared = [n for n in objs[0]._unstable_default_values
                  if isinstance(objs[0]._unstable_default_values[n], (list, dict))
                  and objs[0]._unstable_default_values[n] is objs[1]._unstable_default_values.get(n)]
        return out, shared

    for theme in ("default", "dark"):
        doc = _dashboard_document(theme)
        themes = {type(m): m.__dict__.get("__themed_values__") for m in doc.models}
        docspeed.uninstall()
        try:
            theirs = {cls: state(cls, themes[cls]) for cls in themes}
        finally:
            docspeed.install()
        ours = {cls: state(cls, themes[cls]) for cls in themes}
        assert ours == theirs
        assert all(not shared for _, shared in ours.values())
    made = [k for k, v in docspeed._EMPTY_DEFAULTS.items() if v]
    assert len(made) > 100                          # the direct path was taken

    def patch_of(install: bool):
        (docspeed.install if install else docspeed.uninstall)()
        try:
            from bokeh.models import Div

            doc, div = Document(), Div(text="x")
            doc.add_root(div)
            events = []
            doc.on_change(lambda e: events.append(type(e).__name__))
            div.tags.append("answer")
            div.css_classes.append("fc")
            return events, sorted(div.properties_with_values(include_defaults=False)), list(div.tags)
        finally:
            docspeed.install()

    assert patch_of(True) == patch_of(False)
    assert patch_of(True)[0] == ["ModelChangedEvent", "ModelChangedEvent"]


def test_sessions_ending_together_share_one_full_collection():
    """Ten documents destroyed on a running event loop: one full collection, after the delay;
    without a loop, Bokeh's collection at once."""
    import asyncio
    import concurrent.futures
    import gc

    import panel as pn
    from bokeh.document import Document
    from bokeh.document import document as bokeh_document
    from panel.io.document import _cleanup_doc

    assert isinstance(bokeh_document.gc, docspeed.CoalescedGC)
    coalesced = docspeed.CoalescedGC(delay=0.2)
    bokeh_document.gc = coalesced
    try:
        def made():
            doc = Document()
            doc.add_root(pn.Column(pn.pane.Markdown("x"), pn.widgets.Button(name="b")).get_root(doc))
            return doc

        async def end_sessions():
            for doc in [made() for _ in range(10)]:
                _cleanup_doc(doc)                  # what Panel's server does when a session ends
            assert coalesced.collections == 0
            await asyncio.sleep(0.5)

        def in_a_fresh_thread():
            # a thread of its own: in the full suite Playwright's sync API keeps an event loop
            # registered as running on the main thread, where asyncio.run() is refused
            asyncio.run(end_sessions())
            assert coalesced.collections == 1
            _cleanup_doc(made())                  # no running loop: at once
            assert coalesced.collections == 2

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(in_a_fresh_thread).result(timeout=60)
        assert coalesced.get_threshold() == gc.get_threshold()
    finally:
        bokeh_document.gc = docspeed._GC


def test_full_collections_run_from_the_event_loop_not_by_the_interpreters_rule():
    """``schedule``: the interpreter never starts a full collection on its own (the oldest
    generation's threshold is out of reach); Panel's scheduler runs ``tick`` on the event loop,
    which collects garbage that had grown old, and does nothing while nothing reaches the oldest
    generation (an idle server)."""
    import asyncio
    import concurrent.futures
    import gc
    import weakref

    import panel as pn

    class Node:
        pass

    collector = docspeed.CoalescedGC()
    thresholds, enabled = gc.get_threshold(), gc.isenabled()

    async def scenario():
        collector.schedule(0.2)
        assert gc.get_threshold() == (*thresholds[:2], collector.NEVER)
        try:
            gc.disable()                          # no automatic young collections during the checks
            a, b = Node(), Node()
            a.b, b.a = b, a
            ref = weakref.ref(a)
            gc.collect(1)                         # the cycle survives the young generations: it is old
            del a, b                              # ... and now garbage only a full collection finds
            assert ref() is not None
            await asyncio.sleep(0.6)
            assert ref() is None                  # the scheduled tick collected it
            ran = collector.collections
            assert ran >= 1 and collector.pause_s > 0
            await asyncio.sleep(0.6)
            assert collector.collections == ran   # nothing reached the oldest generation: no collection
        finally:
            pn.state.cancel_task("floatchat-full-gc")

    def in_a_fresh_thread():                      # Playwright keeps a loop running on the main thread
        asyncio.run(scenario())

    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(in_a_fresh_thread).result(timeout=60)
    finally:
        gc.set_threshold(*thresholds)
        if enabled:
            gc.enable()
    assert docspeed.CoalescedGC().interval is None     # nothing scheduled unless asked
    docspeed.CoalescedGC().schedule(0)                 # 0: the interpreter's rule stays
    assert gc.get_threshold() == thresholds


def _check_models(doc) -> dict:
    """The document's model set is what a walk from its roots finds, each attached to it."""
    every = set()
    for root in doc.roots:
        every |= root.references()
    assert {m.id for m in doc.models} == {m.id for m in every}
    assert all(m.document is doc for m in every)
    return {m.id: m for m in every}


def _dropped(before: dict, after: dict) -> list:
    gone = [m for i, m in before.items() if i not in after]
    assert all(m.document is None for m in gone)
    return gone


def test_walks_after_a_change_keep_bokehs_model_set(sample_db):
    """Answers appended, folded, unfolded and removed, a status line rewritten, roots added and removed,
    changes batched in a freeze: after each, the document holds exactly the models a walk from its
    roots finds (Bokeh's rule). Appends are walked from what they added; a batch that changed no
    model-holding property is not walked at all."""
    import panel as pn
    from bokeh.document import Document

    from floatchat_core.chat import ChatSession
    from workbench.chat import ChatPane
    from workbench.design import Bootstrap
    from workbench.floatmap import FloatMap

    docspeed.install()
    session, chat = ChatSession(), ChatPane()
    answers = [session.ask(q) for q in ("Show the trajectory of float 2902269", "How many floats are there?",
                                        "Temperature profiles of float 2902269")]
    log, status = pn.Column(), pn.pane.Markdown("ready")
    doc = Document()
    pn.template.BootstrapTemplate(title="walks", design=Bootstrap,
                                  main=[pn.Row(FloatMap(height=300), chat), status, log]).server_doc(doc)
    start = _check_models(doc)
    walks = docspeed.WALKS.as_dict()

    log.append(chat.render(answers[0], 0.2))                    # an answer appended
    one = _check_models(doc)
    assert set(start) < set(one)
    log.append(pn.Column(pn.pane.Markdown("question"), chat.render(answers[1], 0.1)))
    two = _check_models(doc)
    assert set(one) < set(two)
    status.object = "answered in 0.3 s"                          # text (and Panel's stylesheets)
    _check_models(doc)
    after = docspeed.WALKS.as_dict()
    assert after["incremental"] >= walks["incremental"] + 2       # the appends were not full walks

    before = _check_models(doc)
    log[0] = pn.pane.Markdown("folded")                          # a replacement: its old models leave
    assert _dropped(before, _check_models(doc))
    assert docspeed.WALKS.full > after["full"]
    log[0] = chat.render(answers[2], 0.4)                        # unfolded: a new answer in its place
    _check_models(doc)
    with doc.models.freeze():                                    # a batch: a column filled after it was added
        extra = pn.Column()
        log.append(extra)
        extra.append(pn.pane.Markdown("late"))
        extra.append(chat.render(answers[1], 0.1))
    before = _check_models(doc)
    assert any(type(m).__name__ == "DataTabulator" and m.id not in two for m in before.values())
    log.pop(-1)                                                  # removed again
    assert _dropped(before, _check_models(doc))
    root = pn.pane.Markdown("a root of its own").get_root(doc)
    doc.add_root(root)
    assert root.id in _check_models(doc)
    doc.remove_root(root)
    assert root.id not in _check_models(doc) and root.document is None
    from bokeh.models import UIElement

    model = next(m for m in doc.models if isinstance(m, UIElement))
    skipped = docspeed.WALKS.skipped
    with doc.models.freeze():                                    # nothing holding models changed
        model.visible = not model.visible
    _check_models(doc)
    assert docspeed.WALKS.skipped == skipped + 1


def test_page_hooks_run_when_the_change_holds_their_kind(sample_db, monkeypatch):
    """Panel's whole-page hooks (HoloViews axis linking and links, loading indicators, ECharts) run
    when what changed holds an object of their kind, not for a chat message or an answer without
    one; HoloViews plots added to the page still get their axes linked."""
    import holoviews as hv
    import panel as pn
    from bokeh.document import Document
    from panel.viewable import Viewable

    from workbench.design import Bootstrap

    docspeed.install()
    gate = next(h for h in Viewable._preprocessing_hooks
                if isinstance(h, docspeed.WhenAdded) and h.hook.__name__ == "link_axes")
    calls = []
    original = gate.hook
    monkeypatch.setattr(gate, "hook", lambda view, root: (calls.append(view), original(view, root)))
    log = pn.Column()
    doc = Document()
    pn.template.BootstrapTemplate(title="hooks", design=Bootstrap, main=[pn.Row(log)]).server_doc(doc)
    calls.clear()
    log.append(pn.Column(pn.pane.Markdown("a question"), pn.widgets.Button(label="a follow-up")))
    assert calls == []
    first = pn.pane.HoloViews(hv.Curve([1, 2, 3], "x", "y"))
    second = pn.pane.HoloViews(hv.Curve([3, 2, 1], "x", "y"))
    log.append(first)
    log.append(pn.Column(pn.pane.Markdown("an answer with a plot"), second))
    assert len(calls) == 2
    ref = next(iter(first._plots))
    assert first._plots[ref][0].handles["x_range"] is second._plots[ref][0].handles["x_range"]


def test_constructors_set_model_valued_properties_as_bokeh_without_building_their_defaults(sample_db,
                                                                                            monkeypatch):
    """The answers' models (tables, figures, layouts) hold the same properties, set and defaulted,
    built with ``_descriptor_set`` as with Bokeh's own ``__set__``; and a ``TableColumn`` given its
    formatter and editor no longer builds a default ``StringFormatter`` and ``StringEditor``."""
    from bokeh.core.property.descriptors import PropertyDescriptor
    from bokeh.document import Document
    from bokeh.models import CellEditor, NumberFormatter, StringEditor, StringFormatter, TableColumn

    from floatchat_core.chat import ChatSession
    from workbench.chat import ChatPane

    answers = [ChatSession().ask(q) for q in ("Show the trajectory of float 2902269",
                                              "Temperature profiles of float 2902269", "How many floats are there?")]

    def state():
        out = []
        for answer in answers:
            for model in ChatPane().render(answer, 0.2, 1).get_root(Document()).references():
                out.append((type(model).__name__, sorted(model._property_values),
                            sorted(model._unstable_default_values),
                            sorted(model.properties_with_values(include_defaults=False))))
        return sorted(out, key=repr)

    assert PropertyDescriptor.__set__ is docspeed._descriptor_set
    ours = state()
    monkeypatch.setattr(PropertyDescriptor, "__set__", docspeed._ORIGINAL_DESCRIPTOR_SET)
    theirs = state()
    monkeypatch.undo()
    assert len(ours) > 100 and ours == theirs

    built = []
    for cls in (StringFormatter, StringEditor):
        monkeypatch.setattr(cls, "__init__", lambda self, *a, _orig=cls.__init__, **k: (built.append(self),
                                                                                          _orig(self, *a, **k))[1])
    formatter, editor = NumberFormatter(), CellEditor()      # (a NumberFormatter is a StringFormatter)
    built.clear()
    column = TableColumn(field="temp", formatter=formatter, editor=editor)
    assert built == [] and column.formatter is formatter and column.editor is editor
    TableColumn(field="temp")                   # unset: Bokeh's defaults, built as before
    assert sorted(type(m).__name__ for m in built) == ["StringEditor", "StringFormatter"]


def test_serialized_properties_are_bokehs_own(sample_db, monkeypatch):
    """``properties_with_values(include_defaults=False)`` (what a new model is serialized from) is
    Bokeh's own for every model of the dashboard's page, themed and not; a required property never
    set still raises, and still reads as ``Undefined`` when undefined values are asked for."""
    from bokeh.core.has_props import HasProps
    from bokeh.core.property.descriptors import UnsetValueError
    from bokeh.core.property.singletons import Undefined
    from bokeh.models import GlyphRenderer

    assert HasProps.query_properties_with_values is docspeed._query_properties_with_values
    for theme in ("default", "dark"):
        models = list(_dashboard_document(theme).models)
        ours = {m.id: repr(m.properties_with_values(include_defaults=False)) for m in models}
        monkeypatch.setattr(HasProps, "query_properties_with_values", docspeed._ORIGINAL_QUERY)
        theirs = {m.id: repr(m.properties_with_values(include_defaults=False)) for m in models}
        monkeypatch.undo()
        assert len(ours) > 200 and ours == theirs

    renderer = GlyphRenderer()                 # data_source and glyph are required, never set here
    with pytest.raises(UnsetValueError):
        renderer.properties_with_values(include_defaults=False)
    undefined = renderer.query_properties_with_values(lambda p: p.serialized, include_defaults=False,
                                                      include_undefined=True)
    assert undefined["data_source"] is Undefined and undefined["glyph"] is Undefined


def test_server_processes_skip_bokehs_callback_signature_checks_unless_the_environment_chose():
    """``server_diagnostics`` (run by ``server_setup``) turns off Bokeh's ``perform_error_diagnostics``,
    which checked every ``on_change`` callback's signature; a value in the environment wins."""
    from bokeh.models import Div
    from bokeh.settings import settings

    def bad(attr):                    # a wrong signature: Bokeh's check refuses it
        pass

    try:
        with pytest.raises(ValueError, match="signature"):
            Div().on_change("text", bad)
        assert docspeed.server_diagnostics({"BOKEH_PERFORM_ERROR_DIAGNOSTICS": "true"}) is True
        assert docspeed.server_diagnostics({}) is False
        Div().on_change("text", bad)  # no check any more
    finally:
        settings.perform_error_diagnostics.unset_value()
    assert settings.perform_error_diagnostics() is True
