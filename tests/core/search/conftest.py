"""The search test corpus: a part of the shared real GDAC corpus (all six floats), the designed
floats of ``labelled.yaml`` and a background of random core floats, indexed with the real
local model in the session's real database."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

HERE = Path(__file__).parent
LABELLED = yaml.safe_load((HERE / "labelled.yaml").read_text())

#: Background floats start in open-ocean boxes away from every sea the labelled set names.
BACKGROUND_BOXES = [(-175, 10, -155, 25), (-130, -30, -100, -15), (-45, 20, -35, 35), (-25, -35, -10, -20),
                    (70, -35, 95, -20)]


def gdac_files(gdac_dir: Path) -> list[Path]:
    """The multi-profile and meta files of five floats, and a quarter of the single-profile core
    files of 6901929 (which has no multi-profile file) with its last cycle."""
    dac = gdac_dir / "dac"
    files = sorted(p for p in dac.glob("*/*/*.nc"))
    singles = sorted((dac / "bodc" / "6901929" / "profiles").glob("[DR]6901929_*.nc"))
    return files + singles[::4] + singles[-1:]


def designed_spec() -> pd.DataFrame:
    rows = []
    for pn, f in LABELLED["floats"].items():
        params = list(f.get("core_params", ["PRES", "TEMP", "PSAL"])) + list(f.get("params", []))
        lon0, lat0, lon1, lat1 = f["track"]
        rows.append({"platform_number": str(pn), "dac": f["dac"], "data_centre": f["centre"],
                     "project_name": f["project"], "pi_name": f["pi"], "platform_type": f["platform"],
                     "platform_maker": f["maker"], "is_bgc": bool(f.get("bgc", False)),
                     "is_deep": bool(f.get("deep", False)), "parameters": params,
                     "lon0": lon0, "lat0": lat0, "lon1": lon1, "lat1": lat1,
                     "t0": pd.Timestamp(f"{f['years'][0]}-02-01", tz="UTC"),
                     "t1": pd.Timestamp(f"{f['years'][1]}-11-15", tz="UTC"),
                     "n_profiles": 12, "data_mode": f["mode"]})
    return pd.DataFrame(rows)


def background_spec(n: int = 200) -> pd.DataFrame:
    from floatchat_core.search.synthetic import DACS, random_floats

    dacs = tuple(d for d in DACS if d[0] != "bodc")
    return random_floats(n, seed=7, base=9_600_000, dacs=dacs, boxes=BACKGROUND_BOXES, bgc_fraction=0.0,
                         deep_fraction=0.0, years=(2000, 2022), label="Background")


@pytest.fixture(scope="module")
def search_corpus(database, gdac_dir):
    """Everything ingested and indexed; yields ``{"datasets": {name: id}, "ingest_index": {...}}``."""
    from floatchat_core.db import searchdb
    from floatchat_core.db.maintenance import truncate_data
    from floatchat_core.db.searchsynth import insert_synthetic_floats
    from floatchat_core.ingest import ingest
    from floatchat_core.search import reindex

    truncate_data()
    job = ingest(gdac_files(gdac_dir), dataset="gdac", executor="serial")
    assert job["status"] == "succeeded", job["errors"][:3]
    after_ingest = searchdb.document_counts()           # the runner's hook indexed the new dataset
    lab = insert_synthetic_floats(designed_spec(), dataset="search-labelled",
                                  description="Synthetic floats of the search labelled set")
    bg = insert_synthetic_floats(background_spec(), dataset="search-background",
                                 description="Random background floats")
    result = reindex()
    yield {"datasets": {"gdac": job["dataset_id"], "search-labelled": lab["dataset_id"],
                        "search-background": bg["dataset_id"]},
           "after_ingest": after_ingest, "reindex": result}
    truncate_data()
