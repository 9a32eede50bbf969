"""Bokeh's (and Panel's) document bookkeeping, the same results at a fraction of the cost.

A dashboard session holds ~300 Bokeh models, and pieces of Bokeh's bookkeeping cost time in
proportion to all of them, again and again per chat answer, on the event loop that every session
of a server process shares (Bokeh 3.9, measured with 1 and 20 sessions):

**Walks.** Whenever a property that holds models changes (a chat message appended, an answer's
table and plot added), Bokeh recomputes which models the document holds: it walks every model
reachable from the roots and reads each property that may hold models
(``DocumentModelManager.recompute``). An answer triggers two or three walks; they were a third of
an answer's server CPU (~36 ms a walk). Two things made them slow:

- ``visit_value_and_its_immediate_references`` imports ``Model`` inside the function, a call
  into the import machinery for every value visited (~150,000 per answer);
- reading a property that was never set goes through Bokeh's default machinery each time: the
  theme lookup, a fresh default value, and the check whether the default is mutable.

The visitors here give the same models (~8 ms a walk):

- a value set on the model, or a default Bokeh already keeps for the instance (mutable defaults
  are kept once read, themed or not), is read from the model's own dicts;
- a property never set whose default is immutable (not a container, not made by a function, as
  Bokeh itself classifies it in ``has_unstable_default``) holds the class's default; whether that
  default holds a model is worked out once per (class, property): when it does not (``None``, a
  number, a string), the property is skipped;
- anything else (a themed immutable value, a default not read yet) is read the ordinary way.

Most walks need not start at the roots at all (:func:`recompute`). A change that only adds models
(a message appended to the chat, an answer's table and plot added to its message) can only add
what it added and what that reaches, so only those are walked, down to models the document
already holds. A change that takes a model away, a root added or removed, or an ``invalidate``
from elsewhere is Bokeh's full walk. A batch (``models.freeze()``) in which nothing that holds
models changed, which Bokeh walked all the same, is not walked. With one session asking 24
questions the walks took 20-26 ms per answer on the event loop before and 7-10 ms after (full
walks left: an older answer folding); with 3 questions a session there are no full walks.

**Panel's page hooks.** After every layout change Panel runs its preprocessing hooks on the page
root, and four of them search the whole page for one kind of object each. :class:`WhenAdded`
runs them when the change holds one (the same measurement: 18-23 ms per answer before,
10-16 ms after, the rest being the design's stylesheets for what was added).

**Defaults.** Reading a property that was never set (Bokeh's serializer reads every property
of every new model, Panel reads many) recomputes its default each time: the class's overridden
defaults merged along the MRO, a copy, and a validation (~20 µs). An answer read ~4,000 of them.
For a default that is immutable (``None``, a number, a string, a tuple of those) and not themed,
the value is kept per (property, class) the first time it is computed; the class's overridden
defaults, fixed when the class is made, are merged once per class. A mutable default is made for
each instance when the constructor runs (Bokeh does so for every container property not given):
most are an empty list or dict (``tags``, ``stylesheets``, ``js_event_callbacks``...), ~40 per
model. When a (property, class)'s default was a plain ``[]`` or ``{}`` and came out of Bokeh's
copy, validation and wrapping as an empty ``PropertyValueList`` / ``PropertyValueDict``, later
instances get a new empty container of that type, registered with its owner as Bokeh does:
building an answer's models took ~13 % less (measured on the 2-core VM).

**Messages.** Every ``PATCH-DOC`` message (an answer sends ~20: progress steps, button states,
the answer) starts with a serializer that makes a reference object for each model the browser
already has, ~300 of them, to look up the few the message mentions (~1 ms a message).
:class:`LazyRefSerializer` makes a reference when one is looked up; the message is the same.
Each array of a message was a binary websocket frame of its own, plus a frame naming it: a
profile plot of 60-100 profiles was ~125 arrays, ~350 frames for one answer, and a frame costs a
``send`` system call of ~0.2 ms on the 2-core VM (1.25 s of 12.4 s of the event loop's time, with
ten sessions asking three questions each). Arrays up to 16 KB now travel inside the message's
JSON, gzipped and base64-encoded as Bokeh does for documents it does not stream (BokehJS reads
both forms); larger ones stay binary, where gzip would cost more than the frames it saves.

**Session ends.** Bokeh's ``Document.destroy`` runs a full ``gc.collect()`` for every session
that ends: ~40–300 ms on the event loop (more as a server's heap grows), so 20 visitors leaving
together held every remaining session's answers for seconds. :class:`CoalescedGC` makes those
calls one full collection at most every two seconds, run from the event loop (or at once when no
loop runs); the memory is released the same way, a moment later.

**Full collections.** A server process holds every session's objects, beyond the imports that
``server_setup`` freezes. The interpreter starts a full collection whenever the objects
that survived into the oldest generation since the last one reach a quarter of those that
survived it; with sessions being built and answered that was every 2-10 s, each pausing every
thread of the process for 0.2-1.7 s (measured with 20 sessions during an ingestion) and finding
little garbage (2,000-5,000 objects a time). :meth:`CoalescedGC.schedule` turns that rule
off in a server process: its full collections run from the event loop, when sessions end (as
above) and every ``FLOATCHAT_SERVE_GC_INTERVAL`` seconds (300) if anything reached the oldest
generation since the last. The young generations are collected as always, so short-lived cycles
go as quickly as before; garbage that had grown old waits at most one interval (the periodic
passes found 25,000-50,000 objects a minute). A pass still stops the process for as long as its
live sessions take to scan (1-2 s with 40 sessions), so they are rare, and each process starts
its period at a random phase: two processes never pause their sessions together.

**Constructors.** Setting a property checks its old value first, and a property that was never set
reads as its default, so a model's constructor built the default of every property it was given
whose default is itself a new model, and threw it away: a ``TableColumn`` given its formatter and
editor built a ``StringFormatter`` and a ``StringEditor`` (an answer table of 14 columns: 28 models),
a figure its ranges, scales and toolbar. While a model is being constructed nothing can observe
the old value (no document, no callbacks yet), and a new model never equals the value given, so
Bokeh's own ``_set`` always stores that value: :func:`_descriptor_set` stores it without building
the default. Every other property, and every property set after construction, takes Bokeh's path.

**Serializing.** Bokeh serializes a new model from ``properties_with_values(include_defaults=False)``:
the properties set, the defaults kept for the instance (mutable or models) and the themed ones. It
read every other property as well, its default computed only to be dropped (its own comment: "this
should happen before get_value()"); a model has 30-100 properties and an answer ~20-60 new models.
:func:`_query_properties_with_values` reads only those it returns, and those whose reading Bokeh
would not merely drop: a required property never set (Bokeh raises on it) and one whose default is
made per instance (reading it keeps it).

:func:`install` puts all but the scheduled full collections in place (``workbench`` does on
import); ``server_setup`` schedules those, and turns off Bokeh's callback-signature checks in the
server process (:func:`server_diagnostics`).
``tests/workbench/test_docspeed.py`` compares the models found with Bokeh's own functions on the
dashboard's real document, themed and not, and the messages with Bokeh's own. A Bokeh upgrade
must keep passing it.
"""
from __future__ import annotations

import logging
from typing import Any
from collections.abc import Callable

from bokeh.core.has_props import HasProps
from bokeh.core.property.bases import Property
from bokeh.core.property.descriptors import PropertyDescriptor, UnsetValueError
from bokeh.core.property.instance import InstanceDefault
from bokeh.core.property.singletons import Undefined
from bokeh.core.property.wrappers import PropertyValueContainer, PropertyValueDict, PropertyValueList
from bokeh.core.serialization import Buffer, Ref, Serializer
from bokeh.document.models import DocumentModelManager
from bokeh.model import Model
from bokeh.model import util as _util
from bokeh.util.dataclasses import entries, is_dataclass
from bokeh.util.serialization import make_id

__all__ = ["CoalescedGC", "LazyRefSerializer", "WALKS", "WhenAdded", "install", "uninstall", "installed", "recompute",
           "schedule_full_collections", "server_diagnostics"]

log = logging.getLogger(__name__)

_ORIGINAL = (_util.visit_value_and_its_immediate_references, _util.visit_immediate_value_references)
_ORIGINAL_GET_DEFAULT = PropertyDescriptor._get_default
_ORIGINAL_OVERRIDDEN = HasProps.__dict__["_overridden_defaults"]
_ORIGINAL_DESCRIPTOR_SET = PropertyDescriptor.__set__
_ORIGINAL_QUERY = HasProps.query_properties_with_values
# modules that imported the visitors by name: Bokeh's ``Model.trigger`` (is a change a new model?)
# and Panel's ``freeze_doc``
_IMPORTERS = ("bokeh.model.model", "panel.io.document")
_SCALARS = frozenset({int, float, str, bool, type(None)})
_MISSING = object()
_NO_REFS: dict[tuple[type, str], bool] = {}


def _unstable_default(descriptor: PropertyDescriptor, cls: type[HasProps]) -> bool:
    """Whether the default of ``descriptor`` on ``cls`` is made per instance (Bokeh's own
    ``has_unstable_default``, for a class instead of an instance)."""
    return descriptor.property._may_have_unstable_default() or \
        descriptor.is_unstable(cls.__overridden_defaults__.get(descriptor.name))


def _default_holds_no_model(cls: type[HasProps], attr: str) -> bool:
    """Whether an unset ``attr`` of a ``cls`` instance (not themed) always reads as a value
    without models: its default is immutable and holds none."""
    key = (cls, attr)
    hit = _NO_REFS.get(key)
    if hit is None:
        descriptor = cls.lookup(attr)
        hit = False
        if not _unstable_default(descriptor, cls):
            found: list[Model] = []
            visit_value_and_its_immediate_references(descriptor.class_default(cls), found.append)
            hit = not found
        _NO_REFS[key] = hit
    return hit


def visit_value_and_its_immediate_references(obj: Any, visitor: Callable[[Model], None]) -> None:
    """``bokeh.model.util.visit_value_and_its_immediate_references``: visit the models in a value,
    recursing into containers and non-model ``HasProps``, not into models."""
    typ = type(obj)
    if typ in _SCALARS:
        return
    if typ is list or issubclass(typ, (list, tuple)):
        for item in obj:
            visit_value_and_its_immediate_references(item, visitor)
    elif issubclass(typ, dict):
        for key, value in obj.items():
            visit_value_and_its_immediate_references(key, visitor)
            visit_value_and_its_immediate_references(value, visitor)
    elif issubclass(typ, HasProps):
        if issubclass(typ, Model):
            visitor(obj)
        else:
            visit_immediate_value_references(obj, visitor)
    elif is_dataclass(obj):
        for _, value in entries(obj):
            visit_value_and_its_immediate_references(value, visitor)


def visit_immediate_value_references(value: Any, visitor: Callable[[Model], None]) -> None:
    """``bokeh.model.util.visit_immediate_value_references``: the models a value's properties hold
    (not recursing into them)."""
    if not isinstance(value, HasProps):
        visit_value_and_its_immediate_references(value, visitor)
        return
    values = value._property_values
    themed = value.__dict__.get("__themed_values__")
    cls = type(value)
    for attr in value.properties_with_refs():
        child = values.get(attr, _MISSING)
        if child is _MISSING:
            if themed is not None and attr in themed:
                child = value._unstable_themed_values.get(attr, _MISSING)
            else:
                child = value._unstable_default_values.get(attr, _MISSING)
                if child is _MISSING and _default_holds_no_model(cls, attr):
                    continue
            if child is _MISSING:
                child = getattr(value, attr)
        visit_value_and_its_immediate_references(child, visitor)


# ----------------------------------------------------------------------------- walks after a change
class WalkStats:
    """How :func:`recompute` found a document's models: ``full`` walks from the roots (Bokeh's),
    ``incremental`` walks of what changes added, ``skipped`` (nothing that holds models changed)."""

    def __init__(self) -> None:
        self.full = self.incremental = self.skipped = 0

    def as_dict(self) -> dict[str, int]:
        return {"full": self.full, "incremental": self.incremental, "skipped": self.skipped}


WALKS = WalkStats()
_ORIGINAL_TRIGGER = Model.trigger
_ORIGINAL_INVALIDATE = DocumentModelManager.invalidate
_ORIGINAL_RECOMPUTE = DocumentModelManager.recompute


def _trigger(self: Model, attr: str, old: Any, new: Any, hint: Any = None, setter: Any = None) -> None:
    """``Model.trigger``, recording which models a change took away and which it added."""
    if hint is None and self._document is not None:
        gone: list[Model] = []
        came: list[Model] = []
        visit_value_and_its_immediate_references(old, gone.append)
        visit_value_and_its_immediate_references(new, came.append)
        if gone or came:
            manager = self._document.models
            manager.__dict__.setdefault("_fc_changes", []).append((gone, came))
            if manager._freeze_count == 0:
                manager.recompute()
    super(Model, self).trigger(self.lookup(attr).name, old, new, hint=hint, setter=setter)


def _invalidate(self: DocumentModelManager) -> None:
    """``invalidate`` from anywhere but a change of a property: a full walk."""
    self.__dict__["_fc_full"] = True
    _ORIGINAL_INVALIDATE(self)


def recompute(self: DocumentModelManager) -> None:
    """``DocumentModelManager.recompute``: the document's models after the changes since the last one.

    Bokeh walks every model reachable from the roots after any change that involves models. When the
    roots are the same and no change took a model away (a message appended, an answer's table and
    plot added), the models can only have grown by what the changes added and what those reach: only
    they are walked, down to models the document already holds. Anything else (a model replaced or
    removed, a root added, an ``invalidate`` from elsewhere) is Bokeh's full walk.
    """
    document = self._document()
    if document is None:
        return
    changes = self.__dict__.pop("_fc_changes", None) or []
    full = self.__dict__.pop("_fc_full", False)
    roots = tuple(id(r) for r in document._roots)
    if full or roots != self.__dict__.get("_fc_roots"):
        return _full_recompute(self, roots)
    if not changes:
        WALKS.skipped += 1
        return
    added: list[Model] = []
    for gone, came in changes:
        had = {id(m) for m in gone}
        if had - {id(m) for m in came}:           # a model taken away: only a full walk can tell
            return _full_recompute(self, roots)
        added.extend(m for m in came if id(m) not in had)
    models, new = self._models, []
    stack, seen = list(added), set()
    while stack:
        model = stack.pop()
        if id(model) in seen or models.get(model.id) is model:
            continue
        seen.add(id(model))
        new.append(model)
        visit_immediate_value_references(model, stack.append)
    for model in new:
        model._attach_document(document)
        models[model.id] = model
        if model.name is not None:
            self._models_by_name.add_value(model.name, model)
        self._new_models.add(model)
    WALKS.incremental += 1


def _full_recompute(self: DocumentModelManager, roots: tuple[int, ...]) -> None:
    _ORIGINAL_RECOMPUTE(self)
    self.__dict__["_fc_roots"] = roots
    WALKS.full += 1


# ----------------------------------------------------------------------------- Panel's page hooks
class WhenAdded:
    """A Panel preprocessing hook that searches the whole page for one kind of object, run only when
    the part of the page that changed holds one (or at the page's first render).

    After every change of a layout Panel runs its preprocessing hooks on the page's root: HoloViews
    axis linking (``link_axes``), HoloViews links (``find_links``), loading indicators of
    ``ParamMethod`` panes (``link_param_method``, which searches twice) and ECharts events each
    walk every object of the page, ~40 % of the ~6 ms a chat answer's layout change spent in them.
    They act on objects of their kind, which an answer, a chat message or a folded answer does not
    hold. Whatever did hold one was linked when it was added.
    """

    def __init__(self, hook: Callable[..., Any], wanted: Any):
        self.hook, self.wanted = hook, wanted

    def __call__(self, root_view: Any, root_model: Model, changed: Any = None, old_models: Any = None) -> None:
        if changed is None or changed is root_view or changed.select(self.wanted):
            self.hook(root_view, root_model)

    def __repr__(self) -> str:
        return f"WhenAdded({getattr(self.hook, '__name__', self.hook)})"


def _page_hooks() -> dict[Callable[..., Any], Any]:
    """Panel's whole-page hooks and the kind of object each acts on."""
    from panel.pane.holoviews import HoloViews, find_links, link_axes
    from panel.param import ParamMethod, link_param_method
    from panel.widgets.base import Widget

    def linked_param(obj: Any) -> bool:
        return (isinstance(obj, ParamMethod) and obj.loading_indicator) or \
            (isinstance(obj, Widget) and getattr(obj, "_param_pane", None) is not None)

    hooks: dict[Callable[..., Any], Any] = {link_axes: HoloViews, find_links: HoloViews, link_param_method: linked_param}
    try:
        from panel.pane.echarts import ECharts, setup_js_callbacks

        hooks[setup_js_callbacks] = ECharts
    except ImportError:
        pass
    return hooks


def _gate_page_hooks(on: bool) -> None:
    from panel.viewable import Viewable

    hooks = Viewable._preprocessing_hooks
    if on:
        wanted = _page_hooks()
        hooks[:] = [WhenAdded(h, wanted[h]) if h in wanted else h for h in hooks]
    else:
        hooks[:] = [h.hook if isinstance(h, WhenAdded) else h for h in hooks]


# ----------------------------------------------------------------------------- defaults
_STABLE_DEFAULTS: dict[tuple[PropertyDescriptor, type], Any] = {}
_OVERRIDDEN: dict[type, dict[str, Any]] = {}


def _immutable(value: Any) -> bool:
    typ = type(value)
    return typ in _SCALARS or (typ is tuple and all(_immutable(v) for v in value))


# (descriptor, class) → the container type of a default that is an empty list or dict (made anew for
# each instance), or False where the default is anything else
_EMPTY_DEFAULTS: dict[tuple[PropertyDescriptor, type], type | bool] = {}


def _get_default(self: PropertyDescriptor, obj: HasProps) -> Any:
    """``PropertyDescriptor._get_default`` with immutable, unthemed defaults kept per class, and
    empty-container defaults made directly."""
    name = self.name
    themed = obj.__dict__.get("__themed_values__")
    if (themed is None or name not in themed) and Property._should_validate:
        key = (self, type(obj))
        value = _STABLE_DEFAULTS.get(key, _MISSING)
        if value is not _MISSING and name not in obj._property_values:
            return value
        if value is _MISSING and name not in obj._property_values and name not in obj._unstable_default_values:
            if not self.has_unstable_default(obj):
                value = self.instance_default(obj)
                if _immutable(value):
                    _STABLE_DEFAULTS[key] = value
                return value
            container = _EMPTY_DEFAULTS.get(key)
            if container:
                return _new_empty_default(self, obj, container)
            if container is None:
                return _learn_empty_default(self, obj, key)
    return _ORIGINAL_GET_DEFAULT(self, obj)


def _learn_empty_default(self: PropertyDescriptor, obj: HasProps, key: tuple) -> Any:
    """Bokeh's default for ``obj``, noting whether it is an empty list or dict made from a plain ``[]``
    or ``{}`` default (not a function, which could give anything)."""
    raw = type(obj)._overridden_defaults().get(self.name, self.property._default)
    value = _ORIGINAL_GET_DEFAULT(self, obj)
    _EMPTY_DEFAULTS[key] = type(value) if type(raw) in (list, dict) and not raw and not value and \
        type(value) in (PropertyValueList, PropertyValueDict) else False
    return value


def _new_empty_default(self: PropertyDescriptor, obj: HasProps, container: type) -> Any:
    """What Bokeh's ``_get_default`` does for an unthemed empty-container default (copy the class's
    ``[]``, validate it, wrap it, keep it on the instance), without the copy and the validation, which
    cannot fail for an empty list or dict its first instance passed."""
    value = container()
    value._register_owner(obj, self)
    obj._unstable_default_values[self.name] = value
    return value


_NEW_MODEL_DEFAULT: dict[tuple[type, str], bool] = {}


def _default_is_new_model(descriptor: PropertyDescriptor, cls: type[HasProps]) -> bool:
    """Whether an unset property of a ``cls`` instance reads as a model made for it (an
    ``InstanceDefault``), worked out once per (class, property)."""
    key = (cls, descriptor.name)
    hit = _NEW_MODEL_DEFAULT.get(key)
    if hit is None:
        default = cls.__overridden_defaults__.get(descriptor.name, descriptor.property._default)
        hit = _NEW_MODEL_DEFAULT[key] = isinstance(default, InstanceDefault)
    return hit


def _descriptor_set(self: PropertyDescriptor, obj: HasProps, value: Any, *, setter: Any = None) -> None:
    """``PropertyDescriptor.__set__``; in a model's constructor, a property whose default is a new
    model is set without building that default to compare with."""
    name = self.name
    values = obj.__dict__.get("_property_values")     # None before HasProps.__init__: Bokeh's error
    if obj._initialized or values is None or name in values or name in obj._unstable_default_values \
            or name in obj._unstable_themed_values or not _default_is_new_model(self, type(obj)):
        return _ORIGINAL_DESCRIPTOR_SET(self, obj, value, setter=setter)
    value = self.property.prepare_value(obj, name, value)
    self._set_value(obj, value)
    self._trigger(obj, None, value, setter=setter)


_MUST_READ: dict[type, frozenset[str]] = {}


def _must_read(cls: type[HasProps]) -> frozenset[str]:
    """Properties of ``cls`` that ``query_properties_with_values`` reads even when it does not return
    them: required ones (no default: reading an unset one raises) and those whose default is made per
    instance (reading one keeps it on the instance)."""
    hit = _MUST_READ.get(cls)
    if hit is None:
        names = set()
        for name in cls.properties(_with_props=True):
            descriptor = cls.lookup(name)
            try:
                if _unstable_default(descriptor, cls) or descriptor.class_default(cls, no_eval=True) is Undefined:
                    names.add(name)
            except Exception:       # any doubt: read it as Bokeh does
                names.add(name)
        hit = _MUST_READ[cls] = frozenset(names)
    return hit


def _query_properties_with_values(self: HasProps, query: Callable[[PropertyDescriptor], bool], *,
                                  include_defaults: bool = True, include_undefined: bool = False) -> dict[str, Any]:
    """``HasProps.query_properties_with_values``; without defaults, the properties it returns are the
    only ones read (and those :func:`_must_read` names)."""
    if include_defaults:
        return _ORIGINAL_QUERY(self, query, include_defaults=True, include_undefined=include_undefined)
    unstable = self._unstable_default_values
    selected = set(self._property_values) | set(unstable)
    themed_values = self.themed_values()
    themed_keys = set(themed_values) if themed_values is not None else set()
    selected |= themed_keys
    must_read = _must_read(type(self))
    result: dict[str, Any] = {}
    for key in self.properties(_with_props=True):
        if key not in selected and key not in must_read:
            continue                    # Bokeh reads its default and drops it
        descriptor = self.lookup(key)
        if not query(descriptor):
            continue
        try:
            value = descriptor.get_value(self)
        except UnsetValueError:
            if include_undefined:
                value = Undefined
            else:
                raise
        else:
            if key not in selected:
                continue
            if key not in themed_keys and isinstance(value, PropertyValueContainer) and key in unstable:
                continue
        result[key] = value
    return result


def _overridden_defaults(cls) -> dict[str, Any]:
    """``HasProps._overridden_defaults`` merged once per class (a fresh dict per call, as Bokeh's)."""
    hit = _OVERRIDDEN.get(cls)
    if hit is None:
        hit = _OVERRIDDEN[cls] = _ORIGINAL_OVERRIDDEN.__func__(cls)
    return dict(hit)


# ----------------------------------------------------------------------------- messages
class LazyRefSerializer(Serializer):
    """Bokeh's ``Serializer`` for a ``PATCH-DOC``: the references to models the browser already has
    are made when the message refers to one, not for all of them upfront; arrays up to
    ``INLINE_BYTES`` travel in the message's JSON (gzipped base64, as Bokeh encodes them when it does
    not defer) instead of as two websocket frames each."""

    #: the largest array sent inside the message rather than as a buffer of its own
    INLINE_BYTES = 16 * 1024

    def __init__(self, *, references: set[Model] = set(), deferred: bool = True,   # noqa: B006 - Bokeh's signature
                 check_circular: bool = False) -> None:
        super().__init__(deferred=deferred, check_circular=check_circular)
        self._synced = {id(obj): obj for obj in references}

    def has_ref(self, obj: Any) -> bool:
        return id(obj) in self._references or id(obj) in self._synced

    def add_ref(self, obj: Any, ref: Ref) -> None:
        assert not self.has_ref(obj)
        self._references[id(obj)] = ref

    def get_ref(self, obj: Any) -> Ref | None:
        ref = self._references.get(id(obj))
        if ref is None:
            model = self._synced.get(id(obj))
            if model is not None:
                ref = self._references[id(obj)] = model.ref
        return ref

    def _encode_bytes(self, obj: bytes | memoryview) -> Any:
        size = obj.nbytes if isinstance(obj, memoryview) else len(obj)
        if self._deferred and size <= self.INLINE_BYTES:
            return {"type": "bytes", "data": Buffer(make_id(), obj).to_base64()}
        return super()._encode_bytes(obj)


# ----------------------------------------------------------------------------- session ends
class CoalescedGC:
    """Stands in for the ``gc`` module in ``bokeh.document.document``: ``collect()`` schedules one
    full collection ``delay`` seconds later on the running event loop, however many documents are
    destroyed meanwhile; without a running loop it collects at once. Every other name is ``gc``'s.

    ``collections`` counts the full collections it ran, ``pause_s`` the seconds they took."""

    #: the oldest generation's threshold that the interpreter never reaches (it counts collections
    #: of the middle generation since the last full one)
    NEVER = 1 << 30

    def __init__(self, delay: float = 2.0):
        self.delay, self._pending, self.collections, self.pause_s = delay, False, 0, 0.0
        self.interval: float | None = None

    def schedule(self, interval: float) -> None:
        """In a server process (a ``panel serve --setup`` script): no full collection by the
        interpreter's own rule; one every ``interval`` seconds from the server's event loop when
        objects reached the oldest generation since the last (:meth:`tick`), the first after a random
        0.5-1 ``interval`` (processes out of step), and those that sessions ending ask for.
        ``interval`` 0 leaves the interpreter's rule alone."""
        import datetime
        import gc
        import random

        import panel as pn

        if interval <= 0:
            return
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, self.NEVER)
        self.interval = interval
        first = datetime.datetime.now() + datetime.timedelta(seconds=interval * random.uniform(0.5, 1.0))
        pn.state.schedule_task("floatchat-full-gc", self.tick, at=first, period=datetime.timedelta(seconds=interval))

    def tick(self) -> int:
        """A full collection now, unless nothing reached the oldest generation since the last one
        (an idle server) or one is already due for ending sessions."""
        import gc

        if self._pending or gc.get_count()[2] == 0:
            return 0
        return self._collect()

    def collect(self, *args: Any) -> int:
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or args:
            return self._collect(*args)
        if not self._pending:
            self._pending = True
            loop.call_later(self.delay, self._collect)
        return 0

    def _collect(self, *args: Any) -> int:
        import gc
        import time

        self._pending = False
        t0 = time.perf_counter()
        found = gc.collect(*args)
        took = time.perf_counter() - t0
        self.collections += 1
        self.pause_s += took
        log.info("serve.gc_full seconds=%.3f found=%d", took, found)
        return found

    def __getattr__(self, name: str) -> Any:
        import gc

        return getattr(gc, name)


_GC = CoalescedGC()


def _module(name: str):
    import importlib

    return importlib.import_module(name)


def _set(visit_value, visit_immediate, serializer, get_default, overridden, gc_module, walks,
         descriptor_set, query) -> None:
    Model.trigger, DocumentModelManager.invalidate, DocumentModelManager.recompute = walks
    _gate_page_hooks(walks[2] is recompute)
    for module in (_util, *(_module(m) for m in _IMPORTERS)):
        for name, fn in (("visit_value_and_its_immediate_references", visit_value),
                         ("visit_immediate_value_references", visit_immediate)):
            if hasattr(module, name):
                setattr(module, name, fn)
    _module("bokeh.protocol.messages.patch_doc").Serializer = serializer
    PropertyDescriptor._get_default = get_default
    HasProps._overridden_defaults = overridden
    PropertyDescriptor.__set__ = descriptor_set
    HasProps.query_properties_with_values = query
    _module("bokeh.document.document").gc = gc_module


def schedule_full_collections(interval: float) -> None:
    """The server process's full collections as :meth:`CoalescedGC.schedule` runs them (the same
    collector that coalesces those of ending sessions)."""
    _GC.schedule(interval)


def server_diagnostics(environ: Any = None) -> bool:
    """Turn off Bokeh's callback-signature checks in a server process, unless the environment set
    ``BOKEH_PERFORM_ERROR_DIAGNOSTICS``; returns whether they stay on.

    Bokeh runs ``inspect.signature`` on every callback registered with ``on_change``, and Panel
    registers one per synced property of every model it builds (~600 per answer): ~9 % of building an
    answer's models, on the event loop. Bokeh's own setting (``perform_error_diagnostics``) skips
    them, and the close-match suggestions in an unknown attribute's error message. Panel's callbacks
    are its own ``partial`` objects, checked in the test suite, which runs with Bokeh's checks on.
    """
    import os

    from bokeh.settings import settings

    environ = os.environ if environ is None else environ
    if "BOKEH_PERFORM_ERROR_DIAGNOSTICS" not in environ:
        settings.perform_error_diagnostics.set_value(False)
    return settings.perform_error_diagnostics()


def install() -> None:
    """Bokeh's walks, defaults, ``PATCH-DOC`` references and end-of-session collections as this
    module does them, for every document of this process (idempotent)."""
    _set(visit_value_and_its_immediate_references, visit_immediate_value_references, LazyRefSerializer,
         _get_default, classmethod(_overridden_defaults), _GC, (_trigger, _invalidate, recompute), _descriptor_set,
         _query_properties_with_values)


def uninstall() -> None:
    """Bokeh's own again."""
    import gc

    _set(*_ORIGINAL, Serializer, _ORIGINAL_GET_DEFAULT, _ORIGINAL_OVERRIDDEN, gc,
         (_ORIGINAL_TRIGGER, _ORIGINAL_INVALIDATE, _ORIGINAL_RECOMPUTE), _ORIGINAL_DESCRIPTOR_SET,
         _ORIGINAL_QUERY)


def installed() -> bool:
    """Whether :func:`install` is in effect."""
    return _util.visit_immediate_value_references is visit_immediate_value_references and \
        _module("bokeh.protocol.messages.patch_doc").Serializer is LazyRefSerializer and \
        PropertyDescriptor._get_default is _get_default and _module("bokeh.document.document").gc is _GC and \
        PropertyDescriptor.__set__ is _descriptor_set and \
        HasProps.query_properties_with_values is _query_properties_with_values and \
        DocumentModelManager.recompute is recompute and \
        any(isinstance(h, WhenAdded) for h in _module("panel.viewable").Viewable._preprocessing_hooks)
