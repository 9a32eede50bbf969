"""The rule-based parser on the question set (``questions.yaml``): at least 95 % fully right,
accuracy printed per intent. Region names resolve against the real seeded ``ocean_regions``."""
from __future__ import annotations

import collections
import datetime
import importlib.util
import sys
import time
from pathlib import Path

import pytest

from floatchat_core.chat.extract import depth_to_pressure, find_coordinates, find_times
from floatchat_core.chat.parser import parse_rules
from floatchat_core.chat.spec import Clarification, QuerySpec

_spec = importlib.util.spec_from_file_location("chat_conftest", Path(__file__).with_name("conftest.py"))
qs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(qs)


@pytest.fixture(scope="module")
def resolver(database):
    from floatchat_core.chat.parser import clear_region_cache, db_resolver

    clear_region_cache()
    return db_resolver()


def test_question_set_accuracy(resolver):
    items = qs.load_questions()
    assert len(items) >= 80
    per_intent: dict[str, list[bool]] = collections.defaultdict(list)
    failures = []
    t0 = time.perf_counter()
    for item in items:
        spec = qs.parse_item(item, resolver=resolver)
        bad = qs.spec_mismatches(spec, item)
        per_intent[item.get("intent") or "clarify:" + item["clarify"]].append(not bad)
        if item.get("after"):
            per_intent["(follow-ups)"].append(not bad)
        if bad:
            failures.append(f"{item['q']!r}: {'; '.join(bad)}")
    elapsed = (time.perf_counter() - t0) * 1000 / len(items)
    right = sum(ok for k, v in per_intent.items() if k != "(follow-ups)" for ok in v)
    print(f"\nrule-based parser: {right}/{len(items)} fully right ({100 * right / len(items):.1f} %), "
          f"{elapsed:.2f} ms per question")
    for k in sorted(per_intent):
        v = per_intent[k]
        print(f"  {k:<28} {sum(v):>3}/{len(v):<3} {100 * sum(v) / len(v):5.1f} %")
    for f in failures:
        print("  MISS", f)
    assert right / len(items) >= 0.95, "\n".join(failures)
    intents = {i.get("intent") for i in items} - {None}
    assert intents == set(QuerySpec.model_fields["intent"].annotation.__args__), "every intent is covered"


def test_deterministic(resolver):
    items = qs.load_questions()[:30]
    a = [qs.parse_item(i, resolver=resolver) for i in items]
    b = [qs.parse_item(i, resolver=resolver) for i in items]
    assert [x.model_dump() for x in a] == [x.model_dump() for x in b]


def test_fuzzy_region_name_resolves_in_the_database(resolver):
    spec = parse_rules("map the floats in the Arabain Sea", resolver=resolver)
    assert isinstance(spec, QuerySpec) and spec.region.name == "Arabian Sea" and spec.region.region_id


def test_ambiguous_and_unknown_regions_ask(resolver):
    c = parse_rules("salinity in the Flumbooble Sea", resolver=resolver)
    assert isinstance(c, Clarification) and c.reason == "unknown_region" and "Flumbooble" in c.question.title()
    c = parse_rules("temperature in the Arabian Sea and the Red Sea", resolver=resolver)
    assert c.reason == "ambiguous_region" and set(c.candidates) == {"Arabian Sea", "Red Sea"}
    assert any("compare" in s for s in c.suggestions)


# ----------------------------------------------------------------------------- pure pieces (no database)
@pytest.mark.parametrize("text, lats, lons", [
    ("10°N 65°E", [10.0], [65.0]), ("15N, 60E", [15.0], [60.0]), ("-12.5, 110", [-12.5], [110.0]),
    ("12°30'S 108°W", [-12.5], [-108.0]), ("lat 10 lon 65", [10.0], [65.0]), ("5 s 200 e", [-5.0], [-160.0]),
    ("between 10n and 20n, 170e and 170w", [10.0, 20.0], [170.0, -170.0]),
])
def test_coordinates(text, lats, lons):
    c, _ = find_coordinates(text)
    assert c.lats == pytest.approx(lats) and c.lons == pytest.approx(lons) and not c.errors


def test_impossible_coordinates_are_reported():
    c, _ = find_coordinates("91°n 400°e")
    assert len(c.errors) == 2 and "91" in c.errors[0] and "400" in c.errors[1]


def test_depth_conversion_matches_teos10():
    gsw = pytest.importorskip("gsw")
    for z, lat in ((10, 0), (1000, 15), (2000, 45), (5000, 70)):
        assert depth_to_pressure(z, lat) == pytest.approx(float(gsw.p_from_z(-z, lat)), rel=2e-3, abs=0.06)


@pytest.mark.parametrize("phrase, start, end", [
    ("march 2023", "2023-03-01", "2023-03-31"), ("2019-2021", "2019-01-01", "2021-12-31"),
    ("since 2020", "2020-01-01", None), ("before 2015", None, "2014-12-31"),
    ("the last 6 months", "2024-01-14", "2024-07-14"), ("last winter", "2023-12-01", "2024-02-29"),
    ("last year", "2023-01-01", "2023-12-31"), ("15 march 2023", "2023-03-15", "2023-03-15"),
    ("march to may 2021", "2021-03-01", "2021-05-31"), ("winter 2020", "2019-12-01", "2020-02-29"),
    ("the 2010s", "2010-01-01", "2019-12-31"), ("this year", "2024-01-01", "2024-07-14"),
    ("2021-02-03", "2021-02-03", "2021-02-03"), ("in march", "2024-03-01", "2024-03-31"),
])
def test_times(phrase, start, end):
    errors = []
    items, _, _ = find_times(phrase, datetime.date(2024, 7, 14), errors)
    assert not errors and len(items) == 1
    assert (str(items[0].start) if items[0].start else None, str(items[0].end) if items[0].end else None) == (start, end)


def test_relative_time_is_relative_to_the_newest_data_not_today():
    spec = parse_rules("list profiles in the last 6 months", reference_time=datetime.date(2010, 6, 30),
                       resolver=lambda n: {"status": "none", "candidates": []})
    assert (str(spec.time_start), str(spec.time_end)) == ("2009-12-30", "2010-06-30")


def test_import_of_the_parser_is_light():
    import subprocess

    code = ("import sys, floatchat_core.chat.parser, floatchat_core.chat; "
            "bad = [m for m in ('sqlalchemy', 'psycopg2', 'openai', 'torch', 'panel') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
