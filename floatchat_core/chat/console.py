"""``floatchat ask "…" [--json]``: one question, answered on the terminal (internal)."""
from __future__ import annotations

import json
import sys


def run_ask(question: str, *, as_json: bool = False, rows: int = 20, out=None) -> int:
    """Print the answer (text, table, message, SQL, suggestions) or its JSON. Exit code 0 for an
    answer, 1 when the engine asks back (clarification) or the query failed."""
    import pandas as pd

    from . import ask

    out = out or sys.stdout
    ans = ask(question)
    if as_json:
        out.write(json.dumps(ans.to_dict(rows=rows), indent=2, default=str, ensure_ascii=False) + "\n")
        return 0 if ans.ok else 1
    out.write(ans.text + "\n")
    if ans.message:
        out.write(f"({ans.message})\n")
    if len(ans.frame):
        with pd.option_context("display.width", 160, "display.max_columns", 12, "display.max_colwidth", 40):
            out.write("\n" + ans.frame.head(rows).to_string(index=False) + "\n")
        if len(ans.frame) > rows:
            out.write(f"… {len(ans.frame) - rows:,} more rows\n")
    p = ans.provenance
    if p.get("queries"):
        out.write(f"\n{len(p['queries'])} quer{'y' if len(p['queries']) == 1 else 'ies'}, {p.get('rows', 0):,} rows, "
                  f"{p.get('elapsed_ms', 0):.0f} ms, QC mode {p.get('qc_mode')}, source {p.get('source')}\n")
    if ans.suggestions:
        out.write("try: " + " · ".join(ans.suggestions) + "\n")
    return 0 if ans.ok else 1
