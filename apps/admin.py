"""Entry point for `panel serve apps/admin.py` (the app lives in the workbench package)."""
import runpy
from pathlib import Path

import workbench

runpy.run_path(str(Path(workbench.__file__).parent / "apps" / "admin.py"), run_name="__main__")
