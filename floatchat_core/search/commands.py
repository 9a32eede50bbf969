"""Logic of the ``floatchat search``, ``floatchat floats`` and ``floatchat reindex`` commands
(``cli.py`` holds only the parsers). Internal module."""
from __future__ import annotations

import json


def run_search(query: str, kind: str | None, limit: int | None, as_json: bool, filters: dict) -> int:
    from .api import search

    hits = search(query, kind=kind, limit=limit, filters={k: v for k, v in filters.items() if v})
    if as_json:
        print(json.dumps(hits, indent=2, default=str))
        return 0
    if not hits:
        print("no matching floats or datasets")
        return 0
    for i, h in enumerate(hits, 1):
        print(f"{i:>2}. [{h['kind']}] {h['title']}  (score {h['score']:.3f})")
        print(f"    why: {h['why']}")
        print(f"    {h['summary']}")
    return 0


def run_floats(region: str | None, parameter: str | None, any_position: bool, limit: int | None,
               as_json: bool) -> int:
    from .api import floats_by_parameter, floats_in_region

    if not region and not parameter:
        print("floatchat floats: give --region and/or --parameter")
        return 2
    df = floats_in_region(region, any_position=any_position) if region else floats_by_parameter(parameter)
    if region and parameter:
        with_param = set(floats_by_parameter(parameter)["platform_number"])
        df = df[df["platform_number"].isin(with_param)]
    if limit:
        df = df.head(limit)
    if as_json:
        print(df.to_json(orient="records", date_format="iso", indent=2))
        return 0
    if df.empty:
        print("no floats")
        return 0
    print(df.to_string(index=False, max_colwidth=40))
    print(f"{len(df):,} float(s)")
    return 0


def run_reindex(dataset_id: int | None) -> int:
    from .indexer import reindex

    r = reindex(dataset_id)
    print(f"search index: {r['documents']:,} documents ({r['changed']:,} changed, {r['removed']:,} removed), "
          f"{r['embedded']:,} embedded, {r['failed']:,} failed — model {r['model']}, {r['seconds']:.1f} s")
    return 0 if r["failed"] == 0 else 1
