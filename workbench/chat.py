"""ChatPane: ask questions in plain language; each answer is text + a table + its plot, with a
"how this was answered" card (QuerySpec, SQL, rows, QC mode, source, time), downloads and
follow-up suggestions. Context is kept per browser session (one ``ChatSession`` per pane).

>>> from workbench.chat import ChatPane
>>> pane = ChatPane()
>>> pane.ask("How many floats are in the Arabian Sea?")   # doctest: +SKIP
>>> pane.answer.frame.head()                               # doctest: +SKIP
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import io
import json
import logging
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import panel as pn
import param

from . import answerfig, plots

log = logging.getLogger(__name__)

EXAMPLES = [
    "How many floats are there?",
    "Show the trajectory of float 2902269",
    "Temperature profiles of float 2902269",
    "Salinity profiles near the equator in March 2023",
    "Show me BGC floats with oxygen",
    "Mean temperature at 1000 dbar in the Arabian Sea",
]
TABLE_ROWS = 500
TABLE_PAGE = 20
# The question engine (parse, query) runs on a small pool; the answer's components (HoloViews element,
# its Bokeh figure) are built one at a time on a renderer thread: HoloViews' plotting state is global,
# and building them there keeps the event loop that serves every session free.
_WORKERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="floatchat-ask")
_RENDERER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="floatchat-render")
# Inline SVG icons: Bokeh's named (Tabler) icons load a web font from a CDN, and we are offline.
_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24" fill="none" '
        'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">{}</svg>')
ICONS = {"send": _SVG.format('<path d="M5 12h14"/><path d="M13 6l6 6-6 6"/>'),
         "rerun": _SVG.format('<path d="M4 12a8 8 0 1 0 3-6.3"/><path d="M4 4v5h5"/>'),
         "undo": _SVG.format('<path d="M9 14l-4-4 4-4"/><path d="M5 10h11a4 4 0 0 1 0 8h-1"/>'),
         "edit": _SVG.format('<path d="M4 20h4L18.5 9.5a2.8 2.8 0 0 0-4-4L4 16v4"/>'),
         "x": _SVG.format('<path d="M18 6L6 18"/><path d="M6 6l12 12"/>'),
         "stop": _SVG.format('<rect x="6" y="6" width="12" height="12" rx="1"/>'),
         "clear": _SVG.format('<path d="M4 7h16"/><path d="M10 11v6"/><path d="M14 11v6"/>'
                              '<path d="M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12"/><path d="M9 7V4h6v3"/>')}


# Panel's ChatMessage wraps its body in an element of class "placeholder", which is also Bootstrap 5's
# loading-skeleton class (opacity .5, background currentcolor, cursor wait): under the BootstrapTemplate
# every answer looked greyed out. Undo the skeleton inside chat messages.
MESSAGE_CSS = """
:host(.placeholder), .placeholder {
  opacity: 1 !important;
  background-color: transparent !important;
  cursor: auto !important;
  min-height: 0 !important;
  vertical-align: baseline !important;
}
"""


# The light chat message: a header row (avatar, name, time) above the message; Panel's chat_message.css
# gives the avatar circle and the message bubble.
LIGHT_MESSAGE_CSS = """
.fc-head { display: flex; flex-direction: row; align-items: center; gap: 8px; }
.fc-head .avatar { margin: 0; min-width: 36px; width: 36px; min-height: 36px; height: 36px; font-size: 18px;
                   border-radius: 18px; align-self: center; }
.fc-head .avatar svg { width: 30px; height: 30px; }
.fc-head .name { font-weight: 600; }
.fc-head .fc-time { opacity: .6; font-size: .85em; }
.message.fc-text { margin: 2px 0 4px 44px; min-height: 0; padding: 4px 12px; font-size: 1em; display: block; }
.message.fc-text p { margin: 0.3em 0; }
"""


# a button group whose buttons wrap onto several lines and read as separate chips
CHIPS_CSS = """
.bk-btn-group { flex-wrap: wrap; gap: 4px; }
.bk-btn-group > .bk-btn { flex: 0 1 auto; border-radius: 14px !important; margin: 0 !important;
                          white-space: normal; text-align: left; }
"""


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json", exclude_none=True)
    return obj


def provenance_markdown(answer: Any, elapsed_s: float | None = None) -> str:
    """The "how this was answered" text: spec, SQL, rows, QC mode, data source, time."""
    prov = dict(getattr(answer, "provenance", None) or {})
    spec = _jsonable(getattr(answer, "spec", None))
    lines = []
    frame = getattr(answer, "frame", None)
    rows = prov.get("rows", len(frame) if frame is not None else 0)
    lines.append(f"- **rows**: {rows:,}" if isinstance(rows, int) else f"- **rows**: {rows}")
    for key, name in (("qc_mode", "QC mode"), ("source", "data source"), ("datasets", "datasets")):
        if prov.get(key) is not None:
            v = prov[key]
            lines.append(f"- **{name}**: {', '.join(map(str, v)) if isinstance(v, (list, tuple)) else v}")
    if prov.get("elapsed_ms") is not None:
        lines.append(f"- **database time**: {float(prov['elapsed_ms']):,.0f} ms")
    if elapsed_s is not None:
        lines.append(f"- **answered in**: {elapsed_s:,.2f} s")
    out = "\n".join(lines)
    if spec:
        out += "\n\n**QuerySpec**\n```json\n" + json.dumps(spec, indent=1, default=str)[:4000] + "\n```"
    sqls = prov.get("sql") or [q.get("sql", "") for q in prov.get("queries", [])]
    if isinstance(sqls, str):
        sqls = [sqls]
    all_params = prov.get("params") or [q.get("params") for q in prov.get("queries", [])]
    for i, sql in enumerate(sqls[:5]):
        text = sql.get("sql") if isinstance(sql, dict) else str(sql)
        params = sql.get("params") if isinstance(sql, dict) else (
            all_params[i] if isinstance(all_params, list) and i < len(all_params) else None)
        out += f"\n\n**SQL {i + 1}**\n```sql\n{text.strip()}\n```"
        if params:
            out += f"\nparameters: `{json.dumps(params, default=str)[:800]}`"
    return out


_DETAILS_STYLE = ("display:block;width:100%;box-sizing:border-box;border:1px solid #cfd8dc;border-radius:6px;"
                  "padding:4px 10px;background:#fafafa;"
                  "font-size:13px")


def provenance_html(answer: Any, elapsed_s: float | None = None, number: int | None = None) -> str:
    """The "how this was answered" card as a collapsed HTML ``<details>`` element.

    A native element (one model, collapsed by the browser) instead of a Panel ``Card`` of a Markdown
    pane: under the Bootstrap template the collapsed Card kept its body's height as an empty grey
    block. Raw HTML in the provenance (SQL, parameters) is escaped.
    """
    body = _markdown().render(provenance_markdown(answer, elapsed_s))
    nth = "" if number is None else f' data-answer="{int(number)}"'    # the session's n-th question
    return (f'<details{nth} style="{_DETAILS_STYLE}"><summary style="cursor:pointer;font-weight:600">'
            f'How this was answered</summary><div style="overflow-x:auto">{body}</div></details>')


def _download(answer: Any, fmt: str) -> io.BytesIO:
    """Bytes of the answer's frame in ``fmt`` (csv / parquet / netcdf) via the answer's exporters."""
    suffix = {"csv": ".csv", "parquet": ".parquet", "netcdf": ".nc"}[fmt]
    method = getattr(answer, f"to_{fmt}", None)
    with tempfile.TemporaryDirectory(prefix="floatchat-export-") as d:
        path = Path(d) / f"answer{suffix}"
        if method is not None:
            method(path)
        elif fmt == "csv":
            answer.frame.to_csv(path, index=False)
        elif fmt == "parquet":
            answer.frame.to_parquet(path, index=False)
        else:
            raise NotImplementedError("NetCDF export needs floatchat_core.exports")
        return io.BytesIO(path.read_bytes())


class _LightChatMessage(pn.chat.ChatMessage):
    """A ``ChatMessage`` with only what this chat shows: a header (avatar, name, time) and the body.

    Panel's message builds an edit toggle, an edit text area, copy and reaction icons, header and
    footer columns, an activity dot and reactive expressions for each: 28 Bokeh models and ~100 ms of
    Python per message on a 2-core machine, twice per question (the question and the answer), on the
    event loop every session of the process shares. None of those parts are shown here: no edit
    callback, and reactions and copying are off.

    This one is a column of one HTML header and the body. A text message (the user's question, an
    error) is that header alone, its Markdown rendered into it: one Panel object and two Bokeh models
    (~3-5 ms to build and attach against ~16 ms for the six-part layout it replaced, measured on the
    2-core VM). A message whose object is a component (an answer) shows it below the header. The
    text is rendered with CommonMark, raw HTML off, so a question cannot inject markup; the look uses
    Panel's own message stylesheet classes (``avatar``, ``name``, ``message``).
    """

    def __init__(self, object=None, **params):
        self._exit_stack = ExitStack()
        if params.get("timestamp") is None:
            tz = params.get("timestamp_tz")
            if tz is None and pn.state.browser_info and pn.state.browser_info.timezone:
                tz = pn.state.browser_info.timezone
            params["timestamp"] = datetime.datetime.now(tz=ZoneInfo(tz) if tz else None)
        params.pop("reaction_icons", None)
        params.update(show_reaction_icons=False, show_copy_icon=False, show_edit_icon=False)
        self._internal = True
        super(pn.chat.ChatMessage, self).__init__(object=object, **params)
        if not self.avatar:
            self._update_avatar()
        self._build_layout()
        self.param.watch(self._update_object_pane, "object")
        self.param.watch(self._update_head, ["avatar", "user", "show_avatar", "show_user", "show_timestamp",
                                             "timestamp", "timestamp_format"])

    def _build_layout(self):
        from panel.viewable import Viewable

        css = [*self._stylesheets, *self.stylesheets, LIGHT_MESSAGE_CSS]
        self._object_panel = self._body(self.object)
        self._head = pn.pane.HTML(self._head_html(), sizing_mode="stretch_width", margin=0, stylesheets=css)
        layout = {p: getattr(self, p) for p in self.param if p in Viewable.param and p != "name"}
        self._composite = pn.Column(*self._parts(), **dict(layout, stylesheets=css))

    def _body(self, value, old=None):
        """The text itself (shown in the header) or the component showing ``value``."""
        if isinstance(value, str):
            return value
        return self._create_panel(value, old=old if isinstance(old, pn.viewable.Viewable) else None)

    def _parts(self) -> list:
        body = self._object_panel
        return [self._head] if isinstance(body, str) else [self._head, body]

    def _avatar_html(self) -> str:
        avatar = self.avatar or (self.user or "?")[:1]
        if isinstance(avatar, (pn.pane.SVG, pn.pane.HTML)) and isinstance(avatar.object, str):
            inner = avatar.object                 # markup an app set (the "thinking" spinner), not user text
            extra = " ".join(avatar.css_classes)
        elif isinstance(avatar, str) and avatar.startswith(("http://", "https://", "data:image/")):
            inner, extra = f'<img src="{escape(avatar)}" alt="" style="width:70%;height:70%">', ""
        elif isinstance(avatar, str) and len(avatar) <= 4:
            inner, extra = escape(avatar), ""
        else:                                     # a local image file or another component
            inner, extra = escape((self.user or "?")[:1]), ""
        return f'<div class="avatar {extra}">{inner}</div>'

    def _head_html(self) -> str:
        stamp = self.timestamp.strftime(self.timestamp_format) if self.show_timestamp else ""
        head = (f'<div class="fc-head">{self._avatar_html() if self.show_avatar else ""}'
                f'<span class="name">{escape(str(self.user)) if self.show_user else ""}</span>'
                f'<span class="fc-time">{stamp}</span></div>')
        body = self._object_panel
        if isinstance(body, str) and body:
            head += f'<div class="message fc-text">{_markdown_breaks().render(body)}</div>'
        return head

    def _update_head(self, *_events):
        self._head.object = self._head_html()

    def _update_object_pane(self, event=None):
        old = self._object_panel
        self._object_panel = new = self._body(self.object, old=old)
        if isinstance(new, str) and isinstance(old, str):
            self._update_head()
            return
        with param.parameterized.batch_call_watchers(self._composite):
            self._head.object = self._head_html()
            if new is not old:
                self._composite[:] = self._parts()

    def _get_model(self, doc, root=None, parent=None, comm=None):
        model = self._composite._get_model(doc, root, parent, comm)
        self._models[(root or model).ref["id"]] = (model, parent)
        return model

    def _update_chat_copy_icon(self):       # no copy icon
        pass

    def _update_edit_widgets(self):         # no edit icon
        pass


class _OfflineChatInterface(pn.chat.ChatInterface):
    """``ChatInterface`` with offline icons whose "thinking" placeholder message is built when first
    shown instead of with every session (a whole ChatMessage: ~30 % of the chat's build time)."""

    _message_type = _LightChatMessage

    def _update_placeholder(self):
        self._fc_placeholder = None        # built by the property below when first needed

    @property
    def _placeholder(self):
        if getattr(self, "_fc_placeholder", None) is None:
            super()._update_placeholder()   # assigns through the setter below
        return self._fc_placeholder

    @_placeholder.setter
    def _placeholder(self, message):
        self._fc_placeholder = message

    def _replace_placeholder(self, message=None) -> None:
        if getattr(self, "_fc_placeholder", None) is None:
            # never built, so never shown: nothing to remove, and nothing to build (Panel's own reads
            # the placeholder to remove it, which built a whole message for each session's first answer)
            if message is not None:
                self.append(message)
            return
        super()._replace_placeholder(message)

    async def _cleanup_response(self):
        # Panel resets the input after an answer one property at a time (the input and two buttons
        # enabled, send shown, stop hidden): five PATCH-DOC messages, each serialized and written
        # on the event loop. Held, they leave as one. Nothing in it awaits anything that suspends.
        with pn.io.hold():
            await super()._cleanup_response()

    # When an answer starts and ends Panel disables (enables) the input and its buttons, each linked
    # to ``disabled`` on its own, and swaps the send and stop buttons from an async watcher of
    # ``_callback_state`` that runs later: five PATCH-DOC messages at the start, each serialized and
    # written on the event loop. The two watchers below hold the page around every watcher of those
    # two parameters (param calls them in order of precedence), and the swap runs with them.
    def _hold_page(self, *_events) -> None:
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None or getattr(self, "_fc_hold", None) is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:              # a thread of Panel's pool: its changes are scheduled anyway
            return
        self._fc_hold = hold = ExitStack()
        hold.enter_context(pn.io.hold(doc))
        loop.call_soon(self._release_page)    # released on the next turn of the loop at the latest

    def _release_page(self, *_events) -> None:
        hold, self._fc_hold = getattr(self, "_fc_hold", None), None
        if hold is not None:
            hold.close()

    @param.depends("_callback_state", watch=True)
    def _update_input_disabled(self):
        """Panel's own swap of the send and stop buttons (an ``async`` method that awaits nothing), run
        to its end here, with the change, not in a task of its own, so that the page's hold covers it.
        Should a Panel version make it suspend, it runs again as a task (it only sets two buttons'
        visibility). Returns something to await for Panel's own ``await`` of it."""
        swap = super()._update_input_disabled()
        try:
            swap.send(None)
        except StopIteration:
            return _DONE
        swap.close()
        return asyncio.ensure_future(super()._update_input_disabled())

    def __init__(self, **params):
        super().__init__(**params)
        self.param._watch(self._hold_page, ["disabled", "_callback_state"], precedence=-1000)   # before Panel's
        self.param.watch(self._release_page, ["disabled", "_callback_state"], precedence=1000)


class _Done:
    """An awaitable that is already done."""

    def __await__(self):
        return iter(())


_DONE = _Done()


class AnswerTable(pn.widgets.Tabulator):
    """A read-only Tabulator whose columns share their cell editor and equal formatters.

    Panel's Tabulator makes an editor and a formatter model per column; an answer of 14 columns
    brought ~28 of them, a quarter of the answer's Bokeh models, each built, serialized and walked
    on the event loop all sessions share. A read-only table needs no editor (Panel's own choice
    for index columns is the plain ``CellEditor``), and formatters with the same type and settings
    draw the same cells, so one model of each is referenced by every column that uses it.

    For the answer tables (no custom formatters, editors, titles, widths or alignment, one index
    level) the columns are made here with Panel's rules, so the models never used are not built
    at all: building them took ~3 ms of the event loop per column of every answer.
    """

    def __init__(self, value=None, **params):
        if not params.get("disabled") or params.get("editors") or params.get("formatters") \
                or not isinstance(value, pd.DataFrame) or {"on_click", "on_edit", "configuration"} & set(params):
            super().__init__(value, **params)
            return
        # Panel's Tabulator.__init__ and BaseTable.__init__ (1.4-1.9), less BaseTable's closing
        # ``param.trigger('editors')`` and ``param.trigger('formatters')``: with neither set they
        # notify nothing, and each trigger reads and instantiates all ~120 parameters of the
        # instance (~3.5 ms per table on the renderer thread). ``test_answer_table_is_panels``
        # compares the instance and its model with Panel's Tabulator.
        from panel.widgets.tables import BaseTable

        self.style = None
        self._computed_styler = None
        self._child_panels = {}
        self._indexed_children = {}
        self._explicit_pagination = "pagination" in params
        self._on_edit_callbacks = []
        self._on_click_callbacks = {}
        self._renamed_cols = {}
        self._filters = []
        self._index_mapping = {}
        self._edited_indexes = []
        super(BaseTable, self).__init__(value=value, **params)
        self._internal_callbacks.extend([
            self.param.watch(self._setup_on_change, ["editors", "formatters"]),
            self.param._watch(self._reset_selection, ["value"], precedence=-1)])
        self._configuration = {}
        self.param.watch(self._update_children, self._content_params)
        self.param.watch(self._clear_selection_remote_pagination, "value")
        self.param.watch(lambda e: self.param.trigger("hidden_columns"), "show_index")
        self.param.selection.callable = self._get_selectable

    def _get_column_definitions(self, col_names, df):
        if not self.disabled:
            return super()._get_column_definitions(col_names, df)
        if (self.formatters or self.editors or self.titles or self.widths or self.text_align
                or len(self.indexes) > 1):
            return self._shared(super()._get_column_definitions(col_names, df))
        import datetime as dt

        from bokeh.models.widgets.tables import (
            CellEditor,
            DateFormatter,
            NumberFormatter,
            StringFormatter,
            TableColumn,
        )
        from panel.util.checks import isdatetime

        editor, made, columns = CellEditor(), {}, []
        for col in col_names:
            data = df[col] if col in df.columns else df.index
            kind = data.dtype.kind
            index = col in self.indexes
            if kind == "i":
                key, make = ("i",), lambda: NumberFormatter(text_align="right")
            elif kind == "b":
                key, make = ("b",), lambda: StringFormatter(text_align="center")
            elif kind == "f":
                key, make = ("f",), lambda: NumberFormatter(format="0,0.0[00000]", text_align="right")
            elif isdatetime(data) or kind == "M":   # Panel's rule, also for a tz-aware column's Timestamps
                fmt = "%Y-%m-%d" if len(data) and isinstance(data.values[0], dt.date) else "%Y-%m-%d %H:%M:%S"
                key, make = ("M", fmt), lambda fmt=fmt: DateFormatter(format=fmt, text_align="right")
            else:
                key, make = ("O",), lambda: StringFormatter(null_format="")
            key += (index,)
            formatter = made.get(key)
            if formatter is None:
                formatter = made[key] = make()
                if index:
                    formatter.text_align = "left"
            name = "_".join(col) if isinstance(col, tuple) else col
            title = "" if index and str(col).startswith("level_") else str(name)
            columns.append(TableColumn(field=str(name), title=title, editor=editor, formatter=formatter, width=0))
        return columns

    @staticmethod
    def _shared(columns):
        from bokeh.models.widgets.tables import CellEditor

        editor, formatters = CellEditor(), {}
        for column in columns:
            column.editor = editor
            f = column.formatter
            if f is not None:
                key = (type(f), tuple(sorted((k, repr(v)) for k, v in f.properties_with_values(
                    include_defaults=False).items())))
                column.formatter = formatters.setdefault(key, f)
        return columns


@functools.lru_cache(maxsize=1)
def _markdown_breaks():
    """CommonMark with raw HTML off and line breaks kept, for chat text (what people type)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "breaks": True})


@functools.lru_cache(maxsize=1)
def _markdown():
    """One CommonMark renderer (raw HTML off) for the progress and provenance cards: building one costs
    more than rendering a card."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})


class Progress:
    """The steps of answering (parsing → querying → plotting) streamed into one collapsed card.

    One HTML model: each step only changes its text (a property patch to the browser), never the
    document's layout. The summary line shows the current step; opening it shows what each step
    found (the parsed QuerySpec, the row count).
    """

    def __init__(self, first: str = "Parsing the question…"):
        self.title = first
        self.log: list[str] = [first]
        self.pane = pn.pane.HTML(self._html(), sizing_mode="stretch_width", margin=(0, 0, 6, 0))

    def step(self, title: str, found: str | None = None) -> None:
        """Record what the last step ``found`` (Markdown) and show ``title`` as the current step."""
        if found:
            self.log.append(found)
        self.title = title
        self.pane.object = self._html()

    def _html(self) -> str:
        body = _markdown().render("\n\n".join(self.log))
        return (f'<details style="{_DETAILS_STYLE}"><summary style="cursor:pointer">{escape(self.title)}</summary>'
                f'<div style="overflow-x:auto">{body}</div></details>')


class ChatPane(pn.viewable.Viewer):
    """Panel ``ChatInterface`` on the question engine (``floatchat_core.chat``).

    Asking streams steps (parsing → querying → plotting), then renders the ``Answer``.
    A new question while one runs cancels the old one (adaptive chat).

    >>> pane = ChatPane(examples=["How many floats are there?"])   # doctest: +SKIP
    """

    answer = param.Parameter(default=None, doc="The latest Answer (text, frame, plot recipe, provenance).")
    examples = param.List(default=EXAMPLES, doc="Example questions shown as chips for newcomers.")
    asked = param.Integer(default=0, doc="Questions answered in this session.")
    elapsed = param.Number(default=None, allow_None=True, doc="Seconds the latest answer took (server side).")
    error = param.String(default="", doc="The latest error shown to the user (empty when none).")
    session = param.Parameter(default=None, doc="The floatchat_core.chat.ChatSession keeping this pane's context.")
    live_answers = param.Integer(default=3, bounds=(1, None), doc="""
        How many of the latest answers keep their table and plot on the page. Older ones fold to their
        text and provenance with a button that draws them again: every change to the page makes Bokeh
        walk all of its models, so a session of 20 answers took ~4x longer per answer than its first.""")

    def __init__(self, **params):
        super().__init__(**params)
        self._chat = _OfflineChatInterface(
            callback=self._respond, callback_user="FloatChat", adaptive=True, show_rerun=False,
            show_undo=False, show_clear=True, sizing_mode="stretch_width", min_height=520,
            placeholder_text="Thinking…", widgets=pn.chat.ChatAreaInput(placeholder="Ask about Argo floats…"),
            callback_exception="verbose",
            button_properties={k: {"icon": ICONS[k]} for k in ("send", "stop", "rerun", "undo", "clear")},
            message_params={"show_reaction_icons": False, "show_copy_icon": False, "reaction_icons": {},
                            "stylesheets": [MESSAGE_CSS]})
        self._examples = self._chips(self.examples, vertical=False)
        self._info = pn.pane.Markdown("", styles={"color": "#546e7a"}, margin=(0, 10), sizing_mode="stretch_width")
        self._live: list[tuple[pn.Column, Any]] = []    # (message body, answer) showing table and plot
        self._numbers: dict[int, int] = {}               # id(message body) → which question it answers

    def _chips(self, questions: list[str], color: str = "light", vertical: bool = False) -> pn.widgets.CheckButtonGroup:
        """Questions as one row (or column) of buttons; clicking one asks it.

        One Bokeh model for the whole group (a ``Button`` each was ~4 models with its layout box: the
        answer's follow-ups are built per answer, on the event loop every session of the process shares).
        A button group that never stays pressed: a click asks, then the group is released.
        """
        group = pn.widgets.CheckButtonGroup(options=list(questions), value=[], color=color, variant="outline",
                                            orientation="vertical" if vertical else "horizontal", margin=(2, 4),
                                            stylesheets=[CHIPS_CSS], sizing_mode="stretch_width")

        def _clicked(event):
            if event.new:
                question = event.new[-1]
                group.value = []
                self.ask(question)

        group.param.watch(_clicked, "value")
        return group

    def _session(self):
        if self.session is None:
            from floatchat_core.chat import ChatSession

            self.session = ChatSession()
        return self.session

    def ask(self, question: str) -> None:
        """Send ``question`` as the user (same path as typing it)."""
        self._chat.send(question, user="You", respond=True)

    # ------------------------------------------------------------------ answering
    def _parse(self, question: str):
        return self._session().parse(question)

    async def _respond(self, contents: str, user: str, instance: pn.chat.ChatInterface):
        question = str(contents).strip()
        if not question:
            return None
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        self.error = ""
        # One chat message per answer: a progress card streaming the steps, then the answer below it in
        # the same bubble. Every message is ~20 Bokeh models built on the event loop that all sessions of
        # the process share, and every layout change re-walks the whole document's models; the card is one
        # HTML model whose text changes (a ChatStep re-laid out its header row at each status).
        progress = Progress()
        body = pn.Column(progress.pane, sizing_mode="stretch_width", margin=(0, 0, 0, 44))   # under the name
        number = self._numbers[id(body)] = len(self._numbers) + 1
        doc = pn.state.curdoc
        live = doc is not None and doc.session_context is not None
        try:
            with pn.io.hold(doc) if live else contextlib.nullcontext():     # the message and its scrolls
                instance.stream(body, user="FloatChat")
            parsed = await loop.run_in_executor(_WORKERS, self._parse, question)
            progress.step("Querying the database…", f"**Parsed** ({type(parsed).__name__})\n```json\n"
                          f"{json.dumps(_jsonable(parsed), indent=1, default=str)[:2000]}\n```")
            answer = await loop.run_in_executor(_WORKERS, self._session().ask, question, parsed)
            frame = getattr(answer, "frame", None)
            n_rows = 0 if frame is None else len(frame)
            progress.step("Plotting…", f"**Queried**: {n_rows:,} rows")
            view = await loop.run_in_executor(_RENDERER, self.render, answer, time.perf_counter() - t0, number)
        except asyncio.CancelledError:
            progress.step("Cancelled (a newer question replaced this one)")
            raise
        except Exception as exc:   # a failing question is an answer, never a dead session
            log.warning("workbench.chat_failed error=%s", exc)
            self.error = str(exc)
            progress.step("✘ Failed")
            self._info.object = f"The last question failed after {time.perf_counter() - t0:.2f} s."
            body.append(pn.pane.Alert(f"Sorry, this question failed: {exc}", alert_type="danger"))
            return None
        # one walk of the page's models for everything below (each layout change is a walk otherwise)
        # and one PATCH-DOC message for the answer, its last progress step and the status line
        with doc.models.freeze() if live else contextlib.nullcontext(), pn.io.hold(doc) if live else \
                contextlib.nullcontext():
            progress.step(f"✔ Parsed ({type(parsed).__name__}) · queried {n_rows:,} rows · plotted", "**Plotted**")
            body.append(view)
            self._keep_live(body, answer)
            self.elapsed = time.perf_counter() - t0
            self.answer = answer
            self.asked += 1
            prov = getattr(answer, "provenance", None) or {}
            frame = getattr(answer, "frame", None)
            self._info.object = (f"Answered in {self.elapsed:.2f} s · {0 if frame is None else len(frame):,} rows · "
                                 f"QC mode {prov.get('qc_mode', '?')} · {prov.get('source', 'local database')}")
        return None

    def _keep_live(self, body: pn.Column, answer: Any) -> None:
        """``body`` now shows ``answer`` in full; fold the oldest full answers beyond ``live_answers``."""
        self._live = [(b, a) for b, a in self._live if b is not body] + [(body, answer)]
        while len(self._live) > self.live_answers:
            old_body, old_answer = self._live.pop(0)
            if old_body.objects:
                old_body[-1] = self._folded(old_body, old_answer)

    def _folded(self, body: pn.Column, answer: Any) -> pn.Column:
        """An older answer without its table and plot: its text, provenance and a button to draw them."""
        again = pn.widgets.Button(label="Show the table and plot again", color="light", margin=(2, 4))

        def _unfold(_event=None):
            body[-1] = self.render(answer, number=self._numbers.get(id(body)))
            self._keep_live(body, answer)

        again.on_click(_unfold)
        return pn.Column(pn.pane.Markdown(_answer_text(answer), sizing_mode="stretch_width"),
                         pn.pane.HTML(provenance_html(answer, number=self._numbers.get(id(body))),
                                      sizing_mode="stretch_width"), again,
                         sizing_mode="stretch_width")

    def render(self, answer: Any, elapsed_s: float | None = None, number: int | None = None) -> pn.Column:
        """An Answer as a chat message body: text, table, plot, provenance, downloads, follow-ups.

        ``number``: which of the session's questions it answers (tagged on the provenance card)."""
        parts: list[Any] = [pn.pane.Markdown(_answer_text(answer), sizing_mode="stretch_width")]
        frame = getattr(answer, "frame", None)
        if frame is not None and len(frame):
            shown = frame.head(TABLE_ROWS)
            lists = [c for c in shown.columns if shown[c].dtype == object
                     and any(isinstance(v, list) for v in shown[c].to_numpy())]   # cells a table cannot show
            shown = shown[[c for c in shown.columns if c not in lists] or shown.columns]
            if len(frame) > TABLE_ROWS:
                parts.append(pn.pane.Markdown(f"_Table: the first {TABLE_ROWS:,} of {len(frame):,} rows "
                                              "(downloads hold them all)._", sizing_mode="stretch_width"))
            parts.append(AnswerTable(shown, disabled=True, show_index=False, sizing_mode="stretch_width",
                                     **table_layout(len(shown))))
            try:
                fig = answerfig.answer_figure(answer)        # plain Bokeh for the common small answers
                if fig is not None:
                    fig.sizing_mode = "stretch_width"
                    pane = pn.pane.Bokeh(fig, sizing_mode="stretch_width", min_height=380)
                else:
                    plot = plots.render_answer(answer)
                    pane = None if plot is None else plot_pane(plot)
            except Exception as exc:
                log.warning("workbench.plot_failed error=%s", exc)
                pane = None
                parts.append(pn.pane.Markdown(f"_The plot could not be drawn: {exc}_"))
            if pane is not None:
                parts.append(pane)
            parts.append(self._downloads(answer))
        parts.append(pn.pane.HTML(provenance_html(answer, elapsed_s, number), sizing_mode="stretch_width"))
        follow = list(getattr(answer, "suggestions", None) or [])[:4]
        if follow:
            parts.append(self._chips(follow, "primary", vertical=True))
        return pn.Column(*parts, sizing_mode="stretch_width")

    def _downloads(self, answer: Any) -> pn.Row:
        """A "Download…" button that opens the format buttons (CSV, NetCDF, Parquet) when clicked.

        The three ``FileDownload`` widgets are built on demand: they are ~10 Bokeh models per answer,
        built on the event loop every session of the process shares, for a click most answers never get.
        """
        row = pn.Row()
        more = pn.widgets.Button(label="⬇ Download…", color="light", width=130, margin=(5, 10))

        def _open(_event=None):
            row[:] = self._download_buttons(answer)

        more.on_click(_open)
        row.append(more)
        return row

    def _download_buttons(self, answer: Any) -> list[pn.widgets.FileDownload]:
        buttons = []
        for fmt, label in (("csv", "CSV"), ("netcdf", "NetCDF"), ("parquet", "Parquet")):
            if fmt == "netcdf" and getattr(answer, "to_netcdf", None) is None:
                continue
            suffix = {"csv": "csv", "parquet": "parquet", "netcdf": "nc"}[fmt]
            buttons.append(pn.widgets.FileDownload(callback=lambda a=answer, f=fmt: _download(a, f),
                                                   filename=f"floatchat-answer.{suffix}", label=f"⬇ {label}",
                                                   color="light", width=110, embed=False))
        return buttons

    def __panel__(self):
        return pn.Column(pn.pane.Markdown("**Try:**", margin=(0, 5)), self._examples, self._info, self._chat,
                         sizing_mode="stretch_width")


def table_layout(n_rows: int) -> dict[str, Any]:
    """Height and pagination of an answer table of ``n_rows`` rows: every row of a short table in
    view (a one-row count used to sit hidden behind the pagination bar), and remote pagination past
    one page, so the browser receives one page of rows, not all of them."""
    paged = n_rows > TABLE_PAGE
    rows = min(n_rows, 8)                        # a longer table scrolls inside this height
    height = 38 + 30 * max(rows, 1) + (46 if paged else 0)
    return {"height": height, "pagination": "remote" if paged else None,
            **({"page_size": TABLE_PAGE} if paged else {})}


def _answer_text(answer: Any) -> str:
    """The answer's text with its clarification question and message (Markdown)."""
    text = getattr(answer, "text", "") or ""
    if getattr(answer, "clarification", None):
        text = f"{text}\n\n**{answer.clarification}**" if text else f"**{answer.clarification}**"
    if getattr(answer, "message", None):
        text += f"\n\n_{answer.message}_"
    return text


def plot_pane(plot: Any) -> pn.viewable.Viewable:
    """An answer's HoloViews plot as a Panel pane, its Bokeh figure built by the caller's thread.

    A static plot (no ``DynamicMap``: every answer below ``plots.RASTERIZE_ABOVE`` points) is rendered
    to its Bokeh figure here and shown as a ``Bokeh`` pane, so the event loop only attaches the
    finished models; a dynamic one (datashader re-aggregating on zoom) needs the ``HoloViews`` pane's
    server-side streams and is left to it.
    """
    import holoviews as hv

    if isinstance(plot, hv.DynamicMap) or plot.traverse(lambda o: o, [hv.DynamicMap]):
        return pn.pane.HoloViews(plot, sizing_mode="stretch_width", min_height=380)
    plots._holoviews()
    fig = hv.renderer("bokeh").get_plot(plot).state
    fig.sizing_mode = "stretch_width"          # as the HoloViews pane's stretch_width made it
    return pn.pane.Bokeh(fig, sizing_mode="stretch_width", min_height=380)


def answer_positions(answer: Any) -> pd.DataFrame | None:
    """Positions (longitude, latitude, platform, cycle) of an answer's frame, for map highlights."""
    frame = getattr(answer, "frame", None)
    if frame is None or not {"longitude", "latitude"} <= set(frame.columns):
        return None
    cols = [c for c in ("platform_number", "cycle_number", "juld", "longitude", "latitude") if c in frame]
    return frame[cols].drop_duplicates()
