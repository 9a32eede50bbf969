"""The FloatChat admin app: upload Argo files, watch and retry ingestion jobs, re-index search.

Served by ``floatchat serve --auth credentials.json`` as ``/admin``. The authorization callback
refuses the page to non-admins; this script checks the role again when a session starts (Panel's
autoload/websocket routes skip the callback) and each action checks it once more.
"""
import panel as pn

from workbench.admin import JobMonitor, UploadPanel
from workbench.auth import current_role, current_user
from workbench.design import Bootstrap

pn.extension("tabulator", "filedropper", sizing_mode="stretch_width", notifications=False)

role = current_role()
if role != "admin":
    main = [pn.pane.Alert(f"**Refused**: the admin app needs the admin role "
                          f"(you are {current_user() or 'not logged in'}{', ' + role if role else ''}).",
                          alert_type="danger")]
else:
    monitor = JobMonitor()
    main = [pn.Row(UploadPanel(monitor=monitor), monitor)]

pn.template.BootstrapTemplate(title="FloatChat Admin", main=main, design=Bootstrap,
                              header=[pn.pane.HTML('<a href="/dashboard" style="color:white">dashboard</a>'
                                                   ' · <a href="/logout" style="color:white">log out</a>')]
                              ).servable()
