#!/usr/bin/env python3
"""Write docs/configuration.md from the one ``Settings`` object (so the table cannot drift).

    python scripts/config_docs.py          # rewrite docs/configuration.md
    python scripts/config_docs.py --check  # exit 1 when the file is out of date (the tests run this)
"""
from __future__ import annotations

import sys
from pathlib import Path

from pydantic_core import PydanticUndefined

from floatchat_core.config import ENV, Settings

OUT = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"

HEAD = """# Configuration

Every setting is an environment variable read when used (never at import) into one
`Settings` object (`floatchat_core/config.py`). Tests and notebooks override values with
`floatchat_core.config.override(...)`. Credentials come only from the environment and are
never logged. This table is generated from the code by `python scripts/config_docs.py`.

| variable | default | meaning |
|---|---|---|
"""


def _default(field) -> str:
    if field.default_factory is not None:
        return "`~/.local/share/floatchat`" if field.default_factory.__name__ == "_default_home" else "(computed)"
    d = field.default
    if d is None or d is PydanticUndefined:
        return "—"
    if isinstance(d, bool):
        return "`on`" if d else "`off`"
    if isinstance(d, int) and d >= 2**20 and d % 2**20 == 0:
        return f"{d / 2**30:g} GiB" if d % 2**30 == 0 else f"{d / 2**20:g} MiB"
    return f"`{d}`"


def render() -> str:
    rows = []
    for name, var in ENV.items():
        field = Settings.model_fields[name]
        desc = (field.description or "").strip()
        if desc.startswith(var):
            desc = desc[len(var):].lstrip(" :")
        desc = desc or "—"
        rows.append(f"| `{var}` | {_default(field)} | {desc.replace('|', '/')} |")
    return HEAD + "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is out of date: run python scripts/config_docs.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
