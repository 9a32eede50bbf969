"""Search quality on the labelled set: recall@5 ≥ 0.9 (and MRR reported), empty answers for
questions about nothing in the archive. Real local model, real database."""
from __future__ import annotations

from .conftest import LABELLED


def _expected(refs, datasets):
    return [str(datasets[r.split(":", 1)[1]]) if r.startswith("dataset:") else r for r in refs]


def test_labelled_recall_and_mrr(search_corpus, capsys):
    from floatchat_core.search import search

    queries = LABELLED["queries"]
    assert len(queries) >= 30
    recalls, rrs, misses = [], [], []
    for item in queries:
        expect = _expected(item["expect"], search_corpus["datasets"])
        hits = search(item["q"], kind=item.get("kind"), limit=10)
        refs = [h["ref"] for h in hits]
        top5 = refs[:5]
        recall = len(set(expect) & set(top5)) / min(len(expect), 5)
        rank = next((i + 1 for i, r in enumerate(refs) if r in expect), None)
        recalls.append(recall)
        rrs.append(1.0 / rank if rank else 0.0)
        if recall < 1.0:
            misses.append((item["q"], expect, top5))
    recall5 = sum(recalls) / len(recalls)
    mrr = sum(rrs) / len(rrs)
    with capsys.disabled():
        print(f"\nsearch labelled set: {len(queries)} queries, recall@5 = {recall5:.3f}, MRR = {mrr:.3f}")
        for q, e, got in misses:
            print(f"  miss: {q!r} expected {e} got {got}")
    assert recall5 >= 0.9, misses
    assert mrr >= 0.8


def test_off_topic_questions_return_nothing(search_corpus):
    from floatchat_core.search import search

    for q in LABELLED["empty"]:
        assert search(q) == [], q


# ----------------------------------------------------------------------------- indexing
def test_ingestion_indexed_its_dataset_and_reindex_is_idempotent(search_corpus):
    from floatchat_core.search import reindex

    assert search_corpus["after_ingest"]["embedded"] == 7          # 6 real floats + the gdac dataset
    assert search_corpus["reindex"]["failed"] == 0
    again = reindex()
    assert again["changed"] == 0 and again["embedded"] == 0 and again["failed"] == 0
    assert again["documents"] == search_corpus["reindex"]["documents"]


def test_float_document_describes_the_float(search_corpus):
    from floatchat_core.search import search

    hit = search("float 3902131", limit=1)[0]
    assert hit["ref"] == "3902131" and hit["kind"] == "float"
    assert "platform number 3902131 named in the question" in hit["why"]
    assert set(hit["parameters"]) >= {"DOXY", "TEMP", "PSAL"}
    assert set(hit["float_types"]) == {"deep", "bgc"}
    assert "Coriolis" in hit["summary"] and len(hit["summary"]) <= 300


# ----------------------------------------------------------------------------- search API
def test_hits_are_scored_and_explained(search_corpus):
    from floatchat_core.search import search

    hits = search("BGC float with dissolved oxygen in the Arabian Sea")
    assert 1 <= len(hits) <= 10
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    for h in hits:
        assert set(h) >= {"kind", "ref", "title", "score", "semantic_score", "lexical_score", "why", "summary"}
        assert h["why"] and len(h["summary"]) <= 300
        assert h["semantic_score"] >= 0.3
    assert hits[0]["ref"] == "7900002"
    assert "visited a region named in the question" in hits[0]["why"]


def test_structured_filters(search_corpus):
    import pandas as pd

    from floatchat_core.search import search

    # min_similarity=0: every document passing the filters is a candidate (the filters are under test)

    oxy = search("float", kind="float", filters={"parameter": "oxygen"}, limit=50, min_similarity=0.0)
    assert oxy and all("DOXY" in h["parameters"] for h in oxy)
    assert {"3902131", "7900002", "7900003"} <= {h["ref"] for h in oxy}
    deep = search("float", kind="float", filters={"float_type": "deep"}, limit=50, min_similarity=0.0)
    assert {h["ref"] for h in deep} == {"3902131", "7900005", "7900018"}
    arabian = search("float", kind="float", filters={"region": "Arabian Sea"}, limit=50, min_similarity=0.0)
    assert {h["ref"] for h in arabian} == {"2902269", "7900002"}
    recent = search("float", kind="float", filters={"time_start": "2023-06-01"}, limit=50, min_similarity=0.0)
    assert recent and all(pd.Timestamp(h["time_end"]) >= pd.Timestamp("2023-06-01", tz="UTC") for h in recent)
    old = search("float", kind="float", filters={"time_end": "1998-12-31"}, limit=50, min_similarity=0.0)
    assert {h["ref"] for h in old} == {"13857"}
    both = search("float", kind="float", filters={"parameter": "DOXY", "region": "Bay of Bengal"}, limit=50,
                  min_similarity=0.0)
    assert {h["ref"] for h in both} == {"7900016"}


def test_regions_named_in_a_question(search_corpus):
    from floatchat_core.search import regions_mentioned

    names = [r["name"] for r in regions_mentioned("which floats measured oxygen in the southern Indian Ocean?")]
    assert names == ["Indian Ocean"]                       # "southern" qualifies, it is not the Southern Ocean
    got = regions_mentioned("BODC float in the North Atlantic")
    assert [r["name"] for r in got] == ["North Atlantic Ocean"]  # the longer name wins over "atlantic"
    assert got[0]["id"] > 0 and got[0]["alias"] == "north atlantic"
    assert {r["name"] for r in regions_mentioned("the Arabian Sea and the Bay of Bengal")} == \
        {"Arabian Sea", "Bay of Bengal"}
    assert regions_mentioned("chocolate cake recipe") == [] and regions_mentioned("  ?! ") == []


def test_repeated_searches_and_stage_timings(search_corpus):
    """The search statement is prepared per pooled connection and filter combination: the same
    question asked again (alone, filtered, with another limit) gives the same hits."""
    from floatchat_core.search import search

    first = search("BGC float with dissolved oxygen in the Arabian Sea", limit=5)
    for _ in range(8):                                   # more than the pool's connections
        assert search("BGC float with dissolved oxygen in the Arabian Sea", limit=5) == first
        assert [h["ref"] for h in search("float", kind="float", filters={"float_type": "deep"}, limit=50,
                                         min_similarity=0.0)] != []
    assert [h["ref"] for h in search("BGC float with dissolved oxygen in the Arabian Sea", limit=3)] == \
        [h["ref"] for h in first[:3]]
    st: dict = {}
    search("Labrador Sea core float from Canada", timings=st)
    assert set(st) == {"embed", "sql", "fuse", "other", "total"}
    assert all(v >= 0 for v in st.values()) and st["embed"] > 0 and st["sql"] > 0
    assert abs(st["embed"] + st["sql"] + st["fuse"] + st["other"] - st["total"]) < 1e-6


def test_bad_requests_are_clear_errors(search_corpus):
    import pytest

    from floatchat_core.errors import NotFoundError, SearchError
    from floatchat_core.search import search

    with pytest.raises(SearchError, match="allowed"):
        search("oxygen", filters={"colour": "blue"})
    with pytest.raises(SearchError, match="unknown parameter"):
        search("oxygen", filters={"parameter": "unobtainium"})
    with pytest.raises(SearchError, match="empty"):
        search("   ")
    with pytest.raises(SearchError, match="limit"):
        search("oxygen", limit=0)
    with pytest.raises(SearchError, match="kind"):
        search("oxygen", kind="profile")
    with pytest.raises(NotFoundError):
        search("oxygen", filters={"region": "Sea of Tranquility on the Moon"})


def test_default_and_maximum_limits(search_corpus):
    from floatchat_core.config import override
    from floatchat_core.search import search

    assert len(search("float in the ocean", kind="float")) == 10
    with override(search_max_limit=3, search_limit=2):
        assert len(search("float in the ocean", kind="float")) == 2
        assert len(search("float in the ocean", kind="float", limit=50)) == 3


# ----------------------------------------------------------------------------- discovery
def test_floats_in_region_latest_and_any_position(search_corpus):
    import pytest

    from floatchat_core.errors import NotFoundError
    from floatchat_core.search import floats_in_region

    latest = floats_in_region("Arabian Sea")
    assert set(latest["platform_number"]) == {"2902269", "7900002"}
    assert (latest["region"] == "Arabian Sea").all()
    bengal = floats_in_region("bay of bengal", any_position=True)
    assert set(bengal["platform_number"]) == {"7900013", "7900016"}
    assert (bengal["n_positions_in_region"] > 0).all()
    # 1900857 crossed the South Atlantic into the Indian Ocean: any position yes, latest no
    assert "1900857" in set(floats_in_region("South Atlantic", any_position=True)["platform_number"])
    assert "1900857" not in set(floats_in_region("South Atlantic")["platform_number"])
    with pytest.raises(NotFoundError):
        floats_in_region("Sea of Tranquility on the Moon")


def test_floats_by_parameter(search_corpus):
    from floatchat_core.search import floats_by_parameter

    df = floats_by_parameter("oxygen")
    refs = set(df["platform_number"])
    assert {"3902131", "7900002", "7900003", "7900018"} <= refs
    assert "13857" not in refs and "2902269" not in refs
    assert (df["parameter"] == "DOXY").all() and (df["n_profiles"] > 0).all()
    assert set(floats_by_parameter("PH_IN_SITU_TOTAL")["platform_number"]) == {"7900003", "7900011", "7900027"}


def test_dataset_cards(search_corpus):
    from floatchat_core.search import dataset_cards

    cards = {c["name"]: c for c in dataset_cards()}
    assert {"gdac", "search-labelled", "search-background"} <= set(cards)
    gdac = cards["gdac"]
    assert gdac["n_floats"] == 6 and gdac["n_profiles"] > 500
    assert set(gdac["parameters"]) >= {"TEMP", "PSAL", "DOXY"}
    assert len(gdac["summary"]) <= 300
    assert gdac["bbox_geojson"]["type"] == "Polygon"
    xs = [p[0] for p in gdac["bbox_geojson"]["coordinates"][0]]
    ys = [p[1] for p in gdac["bbox_geojson"]["coordinates"][0]]
    assert min(ys) < -40 and max(ys) > 70 and min(xs) < -30 and max(xs) > 110
    assert len(dataset_cards(limit=1)) == 1
