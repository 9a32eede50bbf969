"""Panel's Bootstrap design with each component class's modifiers worked out once.

Panel asks the design for a component's modifiers (its theme stylesheets and defaults) every time
one of the component's properties changes or its Bokeh model is built. Each time it re-reads the
theme's two CSS paths through ``param.Filename``, which resolves the file again (a
``ParameterizedFunction`` instantiated and an ``isfile`` per read): ~0.12 ms a call, hundreds of
calls per chat answer, on the event loop all sessions of a server process share. The result only
depends on the component's class, the theme's class and whether it runs in a server, so it is
kept per those (copies handed out: Panel rewrites the stylesheet list it gets). Themes whose CSS
paths are changed per instance are not used by the workbench.

>>> import panel as pn
>>> from workbench.design import Bootstrap
>>> pn.template.BootstrapTemplate(design=Bootstrap)   # doctest: +SKIP
"""
from __future__ import annotations

from typing import Any

from panel.io.state import state
from panel.theme import Theme
from panel.theme.bootstrap import Bootstrap as _PanelBootstrap

__all__ = ["Bootstrap"]


class Bootstrap(_PanelBootstrap):
    """``panel.theme.Bootstrap`` with modifiers cached per (component class, theme class, server)."""

    _fc_modifiers: dict[tuple, tuple[dict[str, Any], dict[str, Any]]] = {}

    @classmethod
    def _get_modifiers(cls, viewable, theme: Theme | None = None, isolated: bool = True):
        is_server = bool(state.curdoc.session_context) if not state._is_pyodide and state.curdoc else False
        key = (cls, type(viewable), type(theme) if isinstance(theme, Theme) else theme, isolated, is_server)
        hit = cls._fc_modifiers.get(key)
        if hit is None:
            hit = cls._fc_modifiers[key] = super()._get_modifiers(viewable, theme, isolated)
        modifiers, child_modifiers = hit
        modifiers = dict(modifiers)
        if "stylesheets" in modifiers:
            modifiers["stylesheets"] = list(modifiers["stylesheets"])
        return modifiers, dict(child_modifiers)
