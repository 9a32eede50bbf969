"""LLM dataset summaries against a real HTTP server on 127.0.0.1 speaking the chat-completions API:
used when it answers, and the template kept (job still succeeding) when it fails."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import text

from floatchat_core.config import override
from floatchat_core.ingest import ingest

SUMMARY = "Float 2902269 sampled the Arabian Sea: 57 profiles of temperature and salinity."


class _ChatServer:
    """A minimal OpenAI-compatible server: records requests, answers or fails on demand."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "body": body})
                if outer.fail:
                    self.send_response(500)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "boom"}}')
                    return
                reply = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": SUMMARY}}],
                         "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def chat_server():
    s = _ChatServer()
    yield s
    s.close()


def _dataset(name):
    from floatchat_core.db import get_engine

    with get_engine().connect() as c:
        return c.execute(text("SELECT summary, metadata FROM datasets WHERE name = :n"), {"n": name}).one()


def test_llm_summary_used_when_the_server_answers(clean_db, gdac_dir, chat_server):
    f = next(gdac_dir.rglob("2902269_prof.nc"))
    with override(openai_base_url=chat_server.url, openai_api_key="test-key", llm_model="local-model"):
        job = ingest([f], dataset="llm-ok", executor="serial")
    assert job["status"] == "succeeded"
    summary, meta = _dataset("llm-ok")
    assert summary == SUMMARY and meta["summary_source"] == "llm"
    req = chat_server.requests[-1]
    assert req["path"] == "/v1/chat/completions" and req["body"]["model"] == "local-model"
    facts = req["body"]["messages"][-1]["content"]
    assert "n_profiles: 57" in facts and "n_floats: 1" in facts and "incois" in facts   # real figures


def test_llm_failure_keeps_the_template_and_the_job(clean_db, gdac_dir, chat_server):
    chat_server.fail = True
    f = next(gdac_dir.rglob("2902269_prof.nc"))
    with override(openai_base_url=chat_server.url, openai_api_key="test-key", llm_timeout_s=5):
        job = ingest([f], dataset="llm-down", executor="serial")
    assert job["status"] == "succeeded" and job["n_profiles"] == 57
    summary, meta = _dataset("llm-down")
    assert summary.startswith("Argo dataset llm-down: 57 profiles from 1 float(s)")
    assert "summary_source" not in meta
    assert chat_server.requests, "the server was asked"


def test_no_llm_configured_asks_nobody(clean_db, gdac_dir, chat_server):
    f = next(gdac_dir.rglob("2902269_prof.nc"))
    job = ingest([f], dataset="no-llm", executor="serial")
    assert job["status"] == "succeeded"
    assert _dataset("no-llm")[0].startswith("Argo dataset no-llm: 57 profiles")
    assert chat_server.requests == []
