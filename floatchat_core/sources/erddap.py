"""ERDDAP tabledap client for the Ifremer Argo datasets.

>>> from floatchat_core.sources.erddap import ErddapClient
>>> client = ErddapClient()                                   # doctest: +SKIP
>>> levels = client.fetch_float("6902746", cycles=[34], parameters=["TEMP"])  # doctest: +SKIP

Requests are built by :mod:`.tabledap` (ERDDAP syntax, exactly reproducible URLs), answers
decoded by :mod:`.processors` into the same long frame and QC modes as local data.
ERDDAP's "Your query produced no matching results" (HTTP 404) is an empty answer, not an
error. Every request runs against a *deadline* (whole request, not per socket read), with
bounded retries and exponential backoff on connection errors, timeouts and 5xx answers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import pandas as pd

from ..config import Settings, get_settings
from ..errors import ErddapError, ErddapTimeout
from . import processors as P
from .tabledap import TabledapRequest, box_request, chunk_request, float_request, plan_chunks, wire_url

log = logging.getLogger(__name__)

__all__ = ["ErddapClient", "FetchLog"]


@dataclass
class FetchLog:
    """What a fetch did: canonical URLs requested, bytes received, attempts and elapsed time."""

    urls: list[str] = field(default_factory=list)
    bytes: int = 0
    attempts: int = 0
    elapsed_ms: float = 0.0
    empty: int = 0


class ErddapClient:
    """A tabledap client bound to one server (``settings.erddap_url`` by default).

    Parameters
    ----------
    base_url : server root ending in ``/erddap`` (default ``FLOATCHAT_ERDDAP_URL``)
    timeout : seconds allowed for one whole request, retries included (default
        ``FLOATCHAT_ERDDAP_TIMEOUT``)
    retries : extra attempts after a failure (default ``FLOATCHAT_ERDDAP_RETRIES``)
    backoff : first pause between attempts in seconds, doubled each time
    max_rows : box requests larger than this (sized with ``.ncHeader``) are chunked
    """

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float = 0.2,
        max_rows: int | None = None,
        settings: Settings | None = None,
    ):
        s = settings or get_settings()
        self.base_url = (base_url or s.erddap_url).rstrip("/")
        self.timeout = float(timeout if timeout is not None else s.erddap_timeout_s)
        self.retries = int(retries if retries is not None else s.erddap_retries)
        self.backoff = float(backoff)
        self.max_rows = int(max_rows if max_rows is not None else s.erddap_max_rows)
        self.log = FetchLog()
        #: ERDDAP columns of the last fetch (what write-through stores), None when empty
        self.last_raw: pd.DataFrame | None = None

    # ------------------------------------------------------------------ HTTP
    def _get_once(self, canonical: str, deadline: float) -> tuple[int, bytes]:
        import httpx

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ErddapTimeout(f"ERDDAP request timed out after {self.timeout:.1f} s: {canonical[:120]}…")
        chunks: list[bytes] = []
        t = httpx.Timeout(remaining, connect=min(remaining, max(0.5, self.timeout)))
        try:
            with (
                httpx.Client(timeout=t, follow_redirects=True) as client,
                client.stream("GET", wire_url(canonical), headers={"Accept-Encoding": "gzip"}) as r,
            ):
                for chunk in r.iter_bytes():
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise ErddapTimeout(
                            f"ERDDAP answer too slow (> {self.timeout:.1f} s): {canonical[:120]}…"
                        )
                return r.status_code, b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise ErddapTimeout(
                f"ERDDAP request timed out after {self.timeout:.1f} s ({type(exc).__name__})"
            ) from exc
        except httpx.HTTPError as exc:
            raise ErddapError(f"ERDDAP unreachable or broken answer: {type(exc).__name__}: {exc}") from exc

    def get(self, canonical: str, deadline: float | None = None) -> bytes | None:
        """GET a canonical URL; ``None`` for ERDDAP's "no matching results", bytes otherwise.

        Retries connection errors, timeouts and 5xx answers with backoff until ``deadline``
        (``time.monotonic()`` seconds; default now + ``timeout``). Raises :class:`ErddapError`
        (or :class:`ErddapTimeout`) when every attempt failed.
        """
        deadline = deadline if deadline is not None else time.monotonic() + self.timeout
        self.log.urls.append(canonical)
        last: Exception | None = None
        pause = self.backoff
        for attempt in range(self.retries + 1):
            self.log.attempts += 1
            try:
                status, body = self._get_once(canonical, deadline)
            except ErddapError as exc:
                last = exc
            else:
                self.log.bytes += len(body)
                if status == 200:
                    return body
                if P.is_no_results(body):
                    self.log.empty += 1
                    return None
                text = body[:300].decode("latin-1", "replace").strip()
                last = ErddapError(f"ERDDAP answered HTTP {status}: {text[:200]}")
                if status < 500:
                    raise last
            log.info("erddap.retry attempt=%d error=%s", attempt + 1, last)
            if attempt < self.retries and time.monotonic() + pause < deadline:
                time.sleep(pause)
                pause *= 2
            else:
                break
        assert last is not None
        raise last

    # ------------------------------------------------------------------ requests
    def count_rows(self, req: TabledapRequest, deadline: float | None = None) -> int:
        """Rows a request would return, from its ``.ncHeader`` (cheap: no data transferred)."""
        body = self.get(req.url(self.base_url, "ncHeader"), deadline)
        return 0 if body is None else P.read_nc_header_rows(body)

    def fetch_raw(
        self, req: TabledapRequest, deadline: float | None = None, response: str = "nc"
    ) -> pd.DataFrame:
        """One request → a DataFrame of ERDDAP columns (empty when nothing matched)."""
        body = self.get(req.url(self.base_url, response), deadline)
        if body is None:
            return pd.DataFrame(columns=list(req.variables))
        return P.read_csv(body) if response == "csv" else P.read_nc(body)

    def fetch_requests(
        self,
        reqs: list[TabledapRequest],
        mode: str = "standard",
        parameters: list[str] | None = None,
        deadline: float | None = None,
    ) -> pd.DataFrame:
        """Several requests (chunks) → one long levels frame, duplicates on chunk edges dropped."""
        t0 = time.perf_counter()
        frames = [f for f in (self.fetch_raw(r, deadline) for r in reqs) if len(f)]
        self.log.elapsed_ms += (time.perf_counter() - t0) * 1000
        if not frames:
            self.last_raw = None
            return _empty_levels(reqs[0].dataset if reqs else "ArgoFloats", mode)
        raw = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        if len(frames) > 1:
            raw = raw.drop_duplicates(ignore_index=True)
        self.last_raw = raw
        cols = [c.lower() for c in parameters] if parameters else None
        return P.to_levels(raw, reqs[0].dataset, mode, _param_columns(cols))

    def fetch_float(
        self,
        platform_numbers,
        cycles=None,
        parameters: list[str] | None = None,
        mode: str = "standard",
        dataset: str | None = None,
        deadline: float | None = None,
    ) -> pd.DataFrame:
        """Whole floats (or some cycles of one float) → long levels frame."""
        req = float_request(platform_numbers, cycles, parameters, mode, dataset)
        return self.fetch_requests([req], mode, parameters, deadline)

    def box_requests(
        self,
        box,
        pres=None,
        time_range=None,
        parameters: list[str] | None = None,
        mode: str = "standard",
        dataset: str | None = None,
        chunks: dict | None = None,
        deadline: float | None = None,
    ) -> list[TabledapRequest]:
        """The requests a box fetch will make: explicit ``chunks`` ({"lon": k, "lat": k, "time": k}),
        or sized with ``.ncHeader`` against ``max_rows`` when ``chunks`` is None."""
        req = box_request(box, pres, time_range, parameters, mode, dataset)
        if chunks is None:
            if float(box[0]) > float(box[2]):
                return chunk_request(req)
            n = self.count_rows(req, deadline)
            chunks = plan_chunks(req, n, self.max_rows)
        return chunk_request(req, **{k: int(v) for k, v in chunks.items()})

    def fetch_box(
        self,
        box,
        pres=None,
        time_range=None,
        parameters: list[str] | None = None,
        mode: str = "standard",
        dataset: str | None = None,
        chunks: dict | None = None,
        deadline: float | None = None,
    ) -> pd.DataFrame:
        """A lon/lat box (degrees; west > east crosses the antimeridian), a pressure band (decibar)
        and a time range (UTC) → long levels frame."""
        reqs = self.box_requests(box, pres, time_range, parameters, mode, dataset, chunks, deadline)
        return self.fetch_requests(reqs, mode, parameters, deadline)


def _param_columns(cols: list[str] | None) -> list[str] | None:
    if not cols:
        return None
    from .tabledap import erddap_column

    return [erddap_column(c) for c in cols]


def _empty_levels(dataset: str, mode: str) -> pd.DataFrame:
    base = {
        "profile_id": "int64",
        "platform_number": "object",
        "cycle_number": "int64",
        "direction": "object",
        "juld": "datetime64[ns, UTC]",
        "latitude": "float64",
        "longitude": "float64",
        "position_qc": "int8",
        "axis": "object",
    }
    df = pd.DataFrame({k: pd.Series(dtype=v) for k, v in base.items()})
    for p in ("pres", "temp", "psal"):
        df[p] = pd.Series(dtype="float64")
        df[f"{p}_qc"] = pd.Series(dtype="int8")
        df[f"{p}_mode"] = pd.Series(dtype="object")
    df.attrs["dataset"] = dataset
    return df
