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
