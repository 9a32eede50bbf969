"""Dataset summaries written by an LLM — only when one is configured, never required.

Every dataset always has the template summary of :func:`floatchat_core.db.datasets.summary_text`.
When ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` is set, an OpenAI-compatible chat model may
rewrite it from the dataset's statistics (numbers only: the model sees no data values).
Whatever goes wrong — no server, a timeout, an HTTP error, an empty or over-long reply —
is logged and the template summary stays: a summary never fails an ingestion.
"""
from __future__ import annotations

import logging
from typing import Any

from ..config import Settings, get_settings

log = logging.getLogger(__name__)

#: Longest summary accepted from a model (characters); longer replies are refused.
MAX_CHARS = 1200

_SYSTEM = ("You write two- or three-sentence summaries of Argo float datasets for oceanographers. "
           "Use only the facts given; keep every number exactly as given; no speculation, no lists.")


def _facts(stats: dict[str, Any], template: str) -> str:
    keys = ("name", "n_profiles", "n_floats", "time_start", "time_end", "parameters", "lat_min", "lat_max",
            "lon_min", "lon_max", "dacs", "data_modes")
    lines = [f"{k}: {stats.get(k)}" for k in keys if stats.get(k) is not None]
    return "Facts:\n" + "\n".join(lines) + f"\n\nTemplate summary (rewrite it):\n{template}"


def llm_summary(stats: dict[str, Any], template: str, settings: Settings | None = None) -> str | None:
    """A model-written summary, or ``None`` when no LLM is configured or the call fails."""
    settings = settings or get_settings()
    if not settings.llm_configured:
        return None
    try:
        from openai import OpenAI

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
        client = OpenAI(api_key=key, base_url=settings.openai_base_url or None,
                        timeout=settings.llm_timeout_s, max_retries=1)
        reply = client.chat.completions.create(
            model=settings.llm_model, temperature=0,
            messages=[{"role": "system", "content": _SYSTEM},
                      {"role": "user", "content": _facts(stats, template)}])
        text = (reply.choices[0].message.content or "").strip()
    except Exception as exc:       # any client, network or server failure: keep the template
        log.warning("ingest.summary_failed dataset=%s error=%s", stats.get("name"), type(exc).__name__)
        return None
    if not text or len(text) > MAX_CHARS:
        log.warning("ingest.summary_refused dataset=%s chars=%d", stats.get("name"), len(text))
        return None
    return text


def summarize_datasets(dataset_ids: list[int], settings: Settings | None = None) -> dict[int, str]:
    """Replace the template summary of each dataset by an LLM one where that works.

    Returns ``{dataset_id: "llm" | "template"}``. Does nothing (all ``"template"``) without an LLM.
    """
    from ..db.datasets import dataset_stats, set_summary, summary_text

    settings = settings or get_settings()
    done: dict[int, str] = {}
    for dataset_id in dataset_ids:
        done[dataset_id] = "template"
        if not settings.llm_configured:
            continue
        try:
            stats = dataset_stats(dataset_id, settings=settings)
            text = llm_summary(stats, summary_text(stats), settings)
            if text:
                set_summary(dataset_id, text, source="llm", settings=settings)
                done[dataset_id] = "llm"
        except Exception:           # never let a summary fail the job
            log.exception("ingest.summary_failed dataset_id=%s", dataset_id)
    return done
