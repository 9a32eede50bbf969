#!/usr/bin/env python3
"""Write the reference pages that must never drift from the code:
docs/configuration.md from the one ``Settings`` object, docs/cli.md from the ``floatchat`` parser.

    python scripts/gen_docs.py          # rewrite both
    python scripts/gen_docs.py --check  # exit 1 when either is out of date (the tests run this)
"""
from __future__ import annotations

import sys
from pathlib import Path

from pydantic_core import PydanticUndefined

from floatchat_core.config import ENV, Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"
OUT = DOCS / "configuration.md"
CLI_OUT = DOCS / "cli.md"

HEAD = """# Configuration

Every setting is an environment variable read when used (never at import) into one
`Settings` object (`floatchat_core/config.py`). Tests and notebooks override values with
`floatchat_core.config.override(...)`. Credentials come only from the environment and are
never logged. This table is generated from the code by `python scripts/gen_docs.py`.

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


def render_cli() -> str:
    """Every ``floatchat`` sub-command's help, as argparse prints it (fixed width)."""
    import argparse
    import os

    from floatchat_core.cli import build_parser

    os.environ["COLUMNS"] = "100"
    parser = build_parser()
    parts = ["# `floatchat` command reference\n",
             "Generated from the command's own parser by `python scripts/gen_docs.py`.\n",
             "```text\n" + parser.format_help().rstrip() + "\n```\n"]
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in sub.choices.items():
        parts.append(f"## floatchat {name}\n\n```text\n{p.format_help().rstrip()}\n```\n")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    pages = {OUT: render(), CLI_OUT: render_cli()}
    if "--check" in argv:
        stale = [str(p) for p, text in pages.items() if not p.exists() or p.read_text() != text]
        if stale:
            print(f"out of date: {', '.join(stale)}: run python scripts/gen_docs.py", file=sys.stderr)
            return 1
        return 0
    for p, text in pages.items():
        p.write_text(text)
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
