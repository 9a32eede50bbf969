"""Fixtures of the question-engine tests: the shared GDAC corpus ingested once per module."""
from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml


@pytest.fixture(scope="module")
def corpus(database, gdac_dir):
    """The shared GDAC subset (6 floats, 1,451 profiles) in a clean database for this module."""
    from floatchat_core.chat.parser import clear_region_cache
    from floatchat_core.db.maintenance import truncate_data
    from floatchat_core.ingest import ingest

    truncate_data()
    clear_region_cache()
    job = ingest([str(gdac_dir / "dac")], dataset="gdac", executor="serial")
    assert job["status"] in ("done", "succeeded", "finished", "completed"), job
    _clear_caches()
    yield job
    truncate_data()
    _clear_caches()


def _clear_caches():
    try:
        from floatchat_core.db.cache import clear_caches
    except ImportError:
        return
    clear_caches()


# ----------------------------------------------------------------------------- the question set
QUESTIONS = Path(__file__).with_name("questions.yaml")
REFERENCE = datetime.date(2024, 7, 14)          # newest profile of the shared corpus (6901929)
STRICT = ("parameters", "region", "time_start", "time_end", "pressure", "pres_min", "pres_max",
          "platform_numbers", "float_type", "data_mode", "qc_mode", "limit", "compare")


def load_questions() -> list[dict]:
    return yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))


def _close(a, b, rel=0.015, abs_=0.05) -> bool:
    return a is not None and b is not None and abs(float(a) - float(b)) <= max(abs_, rel * abs(float(b)))


def _region_ok(got, want) -> bool:
    if got is None:
        return False
    if isinstance(want, str):
        return got.kind == "named" and got.name == want
    for k, v in want.items():
        g = getattr(got, k)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if not _close(g, v, rel=0.001, abs_=0.02):
                return False
        elif g != v:
            return False
    return True


def spec_mismatches(spec, item: dict) -> list[str]:
    """Why ``spec`` (a QuerySpec or Clarification) is not what the question-set item expects."""
    from floatchat_core.chat.spec import Clarification

    if "clarify" in item:
        if not isinstance(spec, Clarification):
            return [f"expected a clarification ({item['clarify']}), got {spec.summary()}"]
        return [] if spec.reason == item["clarify"] else [f"clarification {spec.reason} != {item['clarify']}"]
    if isinstance(spec, Clarification):
        return [f"unexpected clarification {spec.reason}: {spec.question}"]
    out = []
    if spec.intent != item["intent"]:
        out.append(f"intent {spec.intent} != {item['intent']}")
    want = item.get("expect") or {}
    defaults = type(spec)(intent=spec.intent)
    for key in STRICT:
        got = getattr(spec, key)
        if key not in want:
            if got != getattr(defaults, key):
                out.append(f"{key} should be unset, got {got!r}")
            continue
        w = want[key]
        if key == "region":
            if not _region_ok(got, w):
                out.append(f"region {got!r} != {w!r}")
        elif key in ("pressure", "pres_min", "pres_max"):
            if not _close(got, w):
                out.append(f"{key} {got} != {w}")
        elif key == "compare":
            if len(got) != len(w):
                out.append(f"compare has {len(got)} sides, expected {len(w)}")
            for g, ws in zip(got, w):
                for k, v in ws.items():
                    gv = getattr(g, k)
                    gv = str(gv) if isinstance(gv, datetime.date) else gv
                    if (str(v) if isinstance(v, datetime.date) else v) != gv:
                        out.append(f"compare {k} {gv!r} != {v!r}")
        elif key in ("time_start", "time_end"):
            if str(got) != str(w):
                out.append(f"{key} {got} != {w}")
        elif got != w:
            out.append(f"{key} {got!r} != {w!r}")
    for key in ("statistic", "export_format"):
        if key in want and getattr(spec, key) != want[key]:
            out.append(f"{key} {getattr(spec, key)!r} != {want[key]!r}")
    return out


def parse_item(item: dict, **kwargs):
    """Parse an item's question after its ``after`` questions (a conversation)."""
    from floatchat_core.chat.parser import parse_rules
    from floatchat_core.chat.spec import QuerySpec

    context = None
    for q in item.get("after") or []:
        r = parse_rules(q, context, reference_time=REFERENCE, **kwargs)
        assert isinstance(r, QuerySpec), f"context question {q!r} did not parse: {r}"
        context = r
    return parse_rules(item["q"], context, reference_time=REFERENCE, **kwargs)
