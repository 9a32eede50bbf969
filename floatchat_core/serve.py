"""``floatchat serve``: ``panel serve`` of the workbench apps with the project's settings."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def app_paths(admin: bool = False) -> list[Path]:
    """The Panel app scripts shipped inside the ``workbench`` package."""
    import workbench

    root = Path(workbench.__file__).parent / "apps"
    names = ["dashboard.py"] + (["admin.py"] if admin else [])
    return [root / n for n in names]


def serve_command(port: int = 5006, address: str = "127.0.0.1", admin: bool = False, show: bool = False,
                  extra: list[str] | None = None) -> list[str]:
    max_upload = int(os.environ.get("FLOATCHAT_MAX_UPLOAD_BYTES", str(2 * 1024**3)))
    cmd = [sys.executable, "-m", "panel", "serve", *map(str, app_paths(admin)),
           "--address", address, "--port", str(port),
           "--allow-websocket-origin", f"{address}:{port}",
           "--allow-websocket-origin", f"localhost:{port}",
           "--websocket-max-message-size", str(max_upload),
           "--index", "dashboard"]
    if show:
        cmd.append("--show")
    return cmd + (extra or [])


def serve(port: int = 5006, address: str = "127.0.0.1", admin: bool = False, show: bool = False) -> int:
    """Run ``panel serve`` in the foreground until interrupted."""
    cmd = serve_command(port, address, admin, show)
    print(f"serving FloatChat on http://{address}:{port}/dashboard  (Ctrl+C to stop)", flush=True)
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 0
