"""Run by ``panel serve --setup`` (see ``floatchat_core.serve``) before the server starts:
installs the authorization callback that refuses ``/admin`` to non-admins.

The admin app and every admin action check the role again (Panel's autoload and websocket
handlers do not consult the callback), so this is the first of three gates, not the only one.
"""
import logging

import panel as pn

from floatchat_core.config import get_settings
from workbench.auth import authorize

pn.config.authorize_callback = authorize

_level = getattr(logging, get_settings().log_level.upper(), logging.WARNING)
logging.getLogger("floatchat_core").setLevel(_level)
logging.getLogger("workbench").setLevel(_level)
