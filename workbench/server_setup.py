"""Run by ``panel serve --setup`` (see ``floatchat_core.serve``) before the server starts:
installs the authorization callback that refuses ``/admin`` to non-admins.

The admin app and every admin action check the role again (Panel's autoload and websocket
handlers do not consult the callback), so this is the first of three gates, not the only one.
"""
import logging
import os

import panel as pn

from floatchat_core.config import get_settings
from floatchat_core.serve import WARM_PAGE
from workbench.auth import authorize

pn.config.authorize_callback = authorize

_level = getattr(logging, get_settings().log_level.upper(), logging.WARNING)
logging.getLogger("floatchat_core").setLevel(_level)
logging.getLogger("workbench").setLevel(_level)


def _warm_up() -> None:
    """Pay one-time costs before the first visitor: datashader's numba kernels, HoloViews' Bokeh
    plotting, the coastline files, the chat components and the question engine's imports (about 5 s
    on a 2-core machine, otherwise on the first page and the first question).

    Then ``gc.freeze()``: everything imported so far (torch, pandas, HoloViews…: ~460,000
    objects) moves to the permanent generation, so the full collections Panel schedules after each
    closed session scan only the sessions' garbage (each took ~1 s of the event loop otherwise).
    And full collections run only from the event loop, every ``FLOATCHAT_SERVE_GC_INTERVAL``
    seconds and when sessions end, not by the interpreter's own rule (``workbench.docspeed``).
    """
    import gc
    import time

    import pandas as pd

    t0 = time.perf_counter()
    try:
        import holoviews as hv

        from workbench import cards, chat, floatmap, profiles  # noqa: F401 - import cost, once
        from workbench import plots

        df = pd.DataFrame({"longitude": [0.0, 10.0], "latitude": [0.0, 5.0], "platform_number": ["1", "2"],
                           "cycle_number": [1, 2]})
        hv.renderer("bokeh").get_plot(plots.position_map(df))
        for scale in ("110m", "50m"):
            plots.coastline_paths(scale)
        plots.bbox_minimap_svg(None)
        _warm_answers(chat)                   # the first answers of a process paid ~20 ms each more
        from floatchat_core.chat import parser   # the question engine's imports and name tables

        parser.region_names()                 # ~1 s of Natural Earth names, else in the first question
        parser.place_names()
    except Exception as exc:   # warming up is an optimisation; never block the server on it
        logging.getLogger("workbench").warning("serve.warm_up_failed error=%s", exc)
    gc.collect()
    gc.freeze()
    from workbench import docspeed

    docspeed.schedule_full_collections(get_settings().serve_gc_interval_s)
    logging.getLogger("workbench").info("serve.warm_up seconds=%.1f frozen_objects=%d",
                                        time.perf_counter() - t0, gc.get_freeze_count())


def _warm_answers(chat) -> None:
    """Render two answers (a profile plot and a trajectory, with their tables) into Bokeh models, as
    the chat does: the first questions a process answers otherwise pay the imports (the question
    executor, pandas' Styler for the table, with its Jinja templates) and the per-class caches
    (Panel's and ``docspeed``'s) on the event loop that every session of the process shares. A
    burst of questions just after a start ran ~15 % slower per answer than the next one."""
    import numpy as np
    import pandas as pd
    from bokeh.document import Document

    from floatchat_core.chat import executor  # noqa: F401 - what a question imports first
    from floatchat_core.chat.answer import Answer

    n = 40
    frame = pd.DataFrame({
        "platform_number": pd.Categorical(["0"] * n), "cycle_number": np.repeat([1, 2], n // 2).astype("int32"),
        "juld": pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC"),
        "latitude": np.linspace(0, 1, n), "longitude": np.linspace(0, 1, n),
        "pres": np.tile(np.linspace(5, 1000, n // 2), 2).astype("float32"),
        "temp": np.linspace(20, 4, n).astype("float32"), "temp_qc": np.ones(n, dtype="int16")})
    pane = chat.ChatPane()
    for kind in ("profiles", "trajectory"):
        answer = Answer(text="warm-up", frame=frame, plot={"kind": kind, "x": "temp", "y": "pres"},
                        provenance={"qc_mode": "standard"}, suggestions=["a", "b"])
        pane.render(answer, 0.1, 1).get_root(Document())


async def _warm_page() -> None:
    """Build one dashboard page as a visitor's browser asks for it, once the server listens: the
    first page of a process paid ~1 s more than the next ones (templates compiled, database
    connections opened, Bokeh's per-class defaults, the template's HTML), so the first visitor
    of each process waited for it. The unused session expires like any other."""
    import time

    from tornado.httpclient import AsyncHTTPClient

    t0 = time.perf_counter()
    try:
        reply = await AsyncHTTPClient().fetch(os.environ[WARM_PAGE], request_timeout=120, raise_error=False)
        logging.getLogger("workbench").info("serve.warm_page status=%s seconds=%.1f", reply.code,
                                            time.perf_counter() - t0)
    except Exception as exc:   # an optimisation: never a reason to fail
        logging.getLogger("workbench").warning("serve.warm_page_failed error=%s", exc)


if get_settings().bokeh_speedups:
    from workbench import docspeed

    docspeed.server_diagnostics()  # Bokeh's signature checks: ~9 % of building an answer's models
_warm_up()
if os.environ.get(WARM_PAGE):      # floatchat_core.serve sets it (not with logins)
    import datetime

    pn.state.schedule_task("floatchat-warm-page", _warm_page,
                           at=datetime.datetime.now() + datetime.timedelta(seconds=0.5))
