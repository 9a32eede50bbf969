"""The openai embedding provider against a real HTTP server on 127.0.0.1 speaking the
embeddings API (POST /v1/embeddings): batching, a 429 retried, a 500 leading to
``embedding_failed``, the switch of model and dimension (column and HNSW index re-created),
the database guard against mixing models, and the switch back to the local model."""
from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

DIM = 256
MODEL = "fc-hash-embed"


def _vector(text: str) -> list[float]:
    """Deterministic bag-of-words hashing vector: texts sharing words are similar."""
    v = np.zeros(DIM)
    for w in re.findall(r"[a-z0-9]+", text.lower()):
        h = int(hashlib.sha256(w.encode()).hexdigest()[:8], 16)
        v[h % DIM] += 1.0 if (h >> 8) % 2 else -1.0
    if not v.any():
        v[0] = 1.0
    return (v / np.linalg.norm(v)).tolist()


class _Handler(BaseHTTPRequestHandler):
    state: dict = {}

    def log_message(self, *args):          # quiet
        pass

    def _send(self, code: int, body: dict, headers: dict | None = None):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        st = self.state
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/embeddings":
            return self._send(404, {"error": {"message": "not found"}})
        st["requests"] += 1
        st["auth"].add(self.headers.get("Authorization"))
        if st["rate_limit_next"] > 0:
            st["rate_limit_next"] -= 1
            st["rate_limited"] += 1
            return self._send(429, {"error": {"message": "slow down", "type": "rate_limit"}}, {"Retry-After": "0.05"})
        if st["fail_500"]:
            st["failed"] += 1
            return self._send(500, {"error": {"message": "boom", "type": "server_error"}})
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        st["batches"].append(len(inputs))
        data = [{"object": "embedding", "index": i, "embedding": _vector(t)} for i, t in enumerate(inputs)]
        self._send(200, {"object": "list", "data": data, "model": body["model"],
                         "usage": {"prompt_tokens": 1, "total_tokens": 1}})


@pytest.fixture(scope="module")
def server():
    state = {"requests": 0, "batches": [], "rate_limit_next": 0, "rate_limited": 0, "fail_500": False,
             "failed": 0, "auth": set()}
    handler = type("Handler", (_Handler,), {"state": state})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield {"url": f"http://127.0.0.1:{httpd.server_address[1]}/v1", "state": state}
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def small_corpus(database):
    from floatchat_core.db.maintenance import truncate_data
    from floatchat_core.db.searchsynth import insert_synthetic_floats

    from .conftest import designed_spec

    truncate_data()
    spec = designed_spec()
    info = insert_synthetic_floats(spec[spec["platform_number"].isin(
        ["7900001", "7900002", "7900004", "7900006", "7900007", "7900012", "7900014", "7900019"])],
        dataset="openai-test")
    yield info
    truncate_data()


def _openai_settings(url: str, batch: int = 4):
    from floatchat_core.config import override

    return override(embedding_provider="openai", openai_base_url=url, openai_api_key="sk-test",
                    openai_embedding_model=MODEL, embedding_batch_size=batch, embedding_max_retries=3)


def _column_type() -> str:
    from sqlalchemy import text

    from floatchat_core.db import get_engine

    with get_engine().connect() as c:
        return c.execute(text("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                              "WHERE attrelid = 'search_documents'::regclass AND attname = 'embedding'")).scalar()


def test_batches_and_rate_limit_retry(server):
    from floatchat_core.search.embeddings import OpenAIProvider

    st = server["state"]
    prov = OpenAIProvider(MODEL, server["url"], "sk-test", batch_size=4, max_retries=3, backoff=0.01)
    texts = [f"float number {i} measures oxygen" for i in range(10)]
    before = len(st["batches"])
    st["rate_limit_next"] = 1
    vecs = prov.embed(texts)
    assert vecs.shape == (10, DIM)                         # probed dimension of an unknown model
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert st["batches"][before:] == [1, 4, 4, 2]           # the dimension probe, then 3 batches
    assert st["rate_limited"] == 1                          # the 429 was retried, not fatal
    assert np.allclose(vecs[3], _vector(texts[3]), atol=1e-5)   # order kept
    assert "Bearer sk-test" in st["auth"]


def test_server_error_fails_clearly(server):
    from floatchat_core.errors import EmbeddingError
    from floatchat_core.search.embeddings import OpenAIProvider

    st = server["state"]
    prov = OpenAIProvider(MODEL, server["url"], "sk-test", batch_size=4, max_retries=3, backoff=0.01)
    st["fail_500"] = True
    try:
        n = st["failed"]
        with pytest.raises(EmbeddingError, match="HTTP 500"):
            prov.embed(["anything"])
        assert st["failed"] == n + 1                         # no retry on a server error
    finally:
        st["fail_500"] = False


def test_reindex_switches_model_and_dimension(server, small_corpus):
    from floatchat_core.db import searchdb
    from floatchat_core.search import reindex, search

    st = server["state"]
    with _openai_settings(server["url"]):
        n0 = len(st["batches"])
        r = reindex()
        assert r["failed"] == 0 and r["embedded"] == r["documents"] == 9       # 8 floats + 1 dataset
        assert st["batches"][n0:] == [1, 4, 4, 1]          # the dimension probe, then batches of 4
        assert searchdb.index_state() == {"model": f"openai:{MODEL}", "dim": DIM}
        assert _column_type() == f"vector({DIM})"
        hits = search("NAOS float in the Mediterranean with chlorophyll", kind="float", limit=3)
        assert hits[0]["ref"] == "7900001"
        assert hits[0]["semantic_score"] is not None

        # a 500 during indexing: the documents are marked, nothing raises, search still answers by keywords
        st["fail_500"] = True
        try:
            from sqlalchemy import text

            from floatchat_core.db import get_engine

            with get_engine().begin() as c:          # make two documents' text change
                c.execute(text("UPDATE floats SET project_name = 'Changed project' "
                               "WHERE platform_number IN ('7900004', '7900006')"))
            r = reindex()            # the two floats and the dataset (it lists the projects)
            assert r["failed"] == 3 and r["embedded"] == 0
            counts = searchdb.document_counts()
            assert counts["embedding_failed"] == 3 and counts["embedded"] == 6
            with get_engine().connect() as c:
                err = c.execute(text("SELECT error FROM search_documents WHERE ref = '7900004'")).scalar()
            assert "HTTP 500" in err
            hits = search("Changed project", kind="float")          # keyword half still works
            assert {h["ref"] for h in hits} == {"7900004", "7900006"}
            assert all("keyword match only" in h["why"] for h in hits)
        finally:
            st["fail_500"] = False
        r = reindex()                                                # retried when the server is back
        assert r["embedded"] == 3 and searchdb.document_counts()["embedding_failed"] == 0


def test_database_refuses_mixed_models(small_corpus):
    from sqlalchemy import exc, text

    from floatchat_core.db import get_engine

    vec = "[" + ",".join(["0.1"] * DIM) + "]"
    with pytest.raises(exc.IntegrityError, match="refused"):
        with get_engine().begin() as c:
            c.execute(text("UPDATE search_documents SET embedding = CAST(:v AS vector), model = 'other:model' "
                           "WHERE ref = '7900001'"), {"v": vec})


def test_switch_back_to_local_model(small_corpus):
    from floatchat_core.db import searchdb
    from floatchat_core.search import reindex, search

    r = reindex()
    assert r["model"] == "local:all-MiniLM-L6-v2"
    assert r["embedded"] == r["documents"] == 9 and r["failed"] == 0
    assert searchdb.index_state() == {"model": "local:all-MiniLM-L6-v2", "dim": 384}
    assert _column_type() == "vector(384)"
    assert search("Gulf of Alaska", kind="float", limit=1)[0]["ref"] == "7900019"
