"""The executor on the real shared GDAC corpus in PostgreSQL: every question of the question set
that states a `result` is asked through a ChatSession and its answer checked (counts, float sets,
value ranges, files); plus provenance, narrowing, plot recipes and the Answer API."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from floatchat_core.chat import ChatSession, QuerySpec, ask, execute

_spec = importlib.util.spec_from_file_location("chat_conftest", Path(__file__).with_name("conftest.py"))
qs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(qs)

RESULT_ITEMS = [i for i in qs.load_questions() if i.get("result")]


def _n_profiles(ans) -> int:
    f = ans.frame
    if "n_profiles" in f.columns and len(f) == 1:
        return int(f["n_profiles"].iloc[0])
    if "profile_id" in f.columns:
        return int(f["profile_id"].nunique())
    return len(f)


def _floats(ans) -> set[str]:
    return set(ans.frame["platform_number"].astype(str)) if "platform_number" in ans.frame else set()


@pytest.mark.parametrize("item", RESULT_ITEMS, ids=[i["q"][:60] for i in RESULT_ITEMS])
def test_question_set_results(corpus, item):
    chat = ChatSession(reference_time=qs.REFERENCE)
    for q in item.get("after") or []:
        assert chat.ask(q).clarification is None
    ans = chat.ask(item["q"])
    assert ans.clarification is None, ans.text
    assert ans.provenance["error"] is None, ans.text
    want = item["result"]
    msg = f"{item['q']!r} → {ans.text}"
    if "n_profiles" in want:
        total = ans.message and int(ans.message.split(" of ")[1].split()[0].replace(",", ""))
        assert (total or _n_profiles(ans)) == want["n_profiles"], msg
    if "floats" in want:
        assert _floats(ans) == set(want["floats"]), msg
    if "rows" in want:
        assert len(ans.frame) == want["rows"], msg
    if "rows_at_least" in want:
        assert len(ans.frame) >= want["rows_at_least"], msg
    if "first_float" in want:
        assert str(ans.frame["platform_number"].iloc[0]) == want["first_float"], msg
    if "text_contains" in want:
        assert want["text_contains"] in ans.text, msg
    if "value_between" in want:
        col, lo, hi = want["value_between"]
        v = pd.to_numeric(ans.frame[col], errors="coerce").dropna()
        assert len(v) and lo <= v.min() and v.max() <= hi, f"{msg}: {v.min()}..{v.max()}"
    if "file" in want:
        path = Path(ans.provenance["export_path"])
        assert path.suffix == "." + want["file"] and path.stat().st_size > 0
    assert ans.sql.strip().upper().startswith(("SELECT", "--", "WITH")), ans.sql[:80]


def test_counts_match_the_files(corpus, gdac_dir):
    """Profiles near the equator (5°S–5°N) from float 13857 counted independently from its NetCDF file."""
    from floatchat_core.argo import open_profiles

    b = open_profiles(str(gdac_dir / "dac" / "aoml" / "13857" / "13857_prof.nc"))
    lat = np.asarray(b.latitude, dtype=float)
    expected = int(np.sum((lat >= -5) & (lat <= 5) & (np.asarray(b.direction) == "A")))
    ans = ask("how many profiles near the equator from float 13857")
    assert ans.frame["n_profiles"].iloc[0] == expected
    assert f"{expected} profiles" in ans.text


def test_depth_slice_values_agree_with_levels(corpus):
    """The 1000 dbar value the answer reports lies between the float's own levels around it."""
    ans = ask("temperature at 1000 dbar for float 2902269")
    assert ans.spec.intent == "depth_slice" and len(ans.frame) == 57
    row = ans.frame.iloc[0]
    lv = ask("raw temperature profiles of float 2902269").frame
    assert lv["profile_id"].nunique() == 57
    mine = lv[lv["profile_id"] == row["profile_id"]].dropna(subset=["temp"])
    above = mine[mine["pres"] <= 1000].sort_values("pres").iloc[-1]
    below = mine[mine["pres"] >= 1000].sort_values("pres").iloc[0]
    lo, hi = sorted((above["temp"], below["temp"]))
    assert lo - 1e-4 <= row["value"] <= hi + 1e-4


def test_provenance_and_plot_recipe(corpus):
    ans = ask("salinity profiles of float 2902269 in 2019")
    p = ans.provenance
    assert p["qc_mode"] == "standard" and p["source"].startswith("local")
    assert [q["function"] for q in p["queries"]] == ["count_profiles", "find_profiles", "profile_levels"]
    assert all(q["sql"] and q["rows"] >= 0 and q["elapsed_ms"] >= 0 for q in p["queries"])
    assert "2902269" in str(p["params"][0].values())
    assert p["datasets"] and p["elapsed_ms"] > 0
    assert ans.plot["kind"] == "profiles" and ans.plot["x"] == "psal" and {"psal", "pres"} <= set(ans.frame)
    d = ans.to_dict()
    assert d["spec"]["intent"] == "plot_profiles" and d["n_rows"] == len(ans.frame) and len(d["rows"]) == 50
    assert len(ans.suggestions) >= 2


def test_over_large_request_is_narrowed_with_a_message(corpus):
    ans = ask("list profiles")
    assert len(ans.frame) == 500
    assert ans.message == "showing the latest 500 of 865 profiles"
    assert ans.frame["juld"].is_monotonic_decreasing


def test_research_mode_is_honest(corpus):
    ans = ask("oxygen profiles of float 3902131 in delayed mode")
    assert ans.spec.qc_mode == "research"
    assert ans.frame["doxy"].isna().all()                  # its DOXY is real-time: nothing passes research QC
    assert "no oxygen values pass" in ans.text


def test_follow_up_conversation(corpus):
    chat = ChatSession(reference_time=qs.REFERENCE)
    a1 = chat.ask("temperature at 1000 m in the Arabian Sea")
    a2 = chat.ask("now salinity")
    a3 = chat.ask("same for 2020")
    a4 = chat.ask("export that")
    assert a1.frame["value"].between(5, 12).all() and a2.frame["value"].between(34, 37).all()
    assert len(a3.frame) == 21 and a3.spec.parameters == ["PSAL"]
    assert a4.spec.intent == "export" and Path(a4.provenance["export_path"]).exists()
    assert len(chat.history) == 4


def test_ask_with_the_parse_already_made_answers_the_same_and_keeps_context(corpus):
    plain, reused = ChatSession(reference_time=qs.REFERENCE), ChatSession(reference_time=qs.REFERENCE)
    for q in ("temperature at 1000 m in the Arabian Sea", "now salinity"):
        a = plain.ask(q)
        b = reused.ask(q, reused.parse(q))
        assert a.spec == b.spec and a.text == b.text
        pd.testing.assert_frame_equal(a.frame, b.frame)
    assert reused.context == plain.context and reused.context.parameters == ["PSAL"]


def test_unknown_float_is_an_answer_not_an_exception(corpus):
    ans = ask("tell me about float 1234567")
    assert "1234567" in ans.text and ans.provenance["error"]


def test_execute_a_spec_directly(corpus):
    ans = execute(QuerySpec(intent="statistics", statistic="count", platform_numbers=["5900865"]))
    assert ans.frame["n_profiles"].iloc[0] == 80


def test_cli_ask_json_and_text(corpus):
    import json
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "floatchat_core.cli", "ask", "how many profiles in the Arabian Sea",
                        "--json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["spec"]["intent"] == "statistics" and d["rows"][0]["n_profiles"] == 57
    assert d["provenance"]["sql"] and "count(*)" in d["provenance"]["sql"][0]
    r = subprocess.run([sys.executable, "-m", "floatchat_core.cli", "ask", "trajectory of float 2902269"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "57 positions" in r.stdout and "platform_number" in r.stdout
    r = subprocess.run([sys.executable, "-m", "floatchat_core.cli", "ask", "nearest floats"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "Nearest to where" in r.stdout
