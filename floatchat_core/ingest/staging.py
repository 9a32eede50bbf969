"""Content-addressed staging of raw input in the object store.

Every file is copied, before anything reads it, to
``<store>/<sha256[:2]>/<sha256>/<original name>`` — a local folder under
``FLOATCHAT_HOME`` by default, or any fsspec URL (``s3://bucket/prefix``). The name is
kept because Argo file kinds are told apart by name (``R…``, ``BD…``, ``_Sprof``).
Staging the same content twice is a no-op.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings, get_settings
from ..errors import IngestError

log = logging.getLogger(__name__)
_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class StagedFile:
    uri: str           # where the staged copy lives (path or fsspec URL)
    name: str          # the original file name
    sha256: str
    size: int


def _fs(settings: Settings):
    import fsspec

    fs, root = fsspec.core.url_to_fs(settings.objects_url)
    return fs, root.rstrip("/")


def _sha256_file(path: Path, limit: int) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise IngestError(f"{path.name}: larger than the size limit ({limit:,} bytes)")
            h.update(chunk)
    return h.hexdigest(), size


def stage(source: str | Path | bytes, name: str | None = None, settings: Settings | None = None) -> StagedFile:
    """Copy ``source`` (a local path or bytes) into the object store; return where it went.

    Raises
    ------
    IngestError
        When the input is over ``FLOATCHAT_MAX_FILE_BYTES``, unreadable, or the store fails.
    """
    settings = settings or get_settings()
    limit = settings.max_file_bytes
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            if len(data) > limit:
                raise IngestError(f"{name or 'upload'}: larger than the size limit ({limit:,} bytes)")
            sha, size = hashlib.sha256(data).hexdigest(), len(data)
            name = name or f"upload-{sha[:12]}.nc"
        else:
            path = Path(source)
            name = name or path.name
            sha, size = _sha256_file(path, limit)
        name = Path(name).name                      # never a path from the caller
        fs, root = _fs(settings)
        target = f"{root}/{sha[:2]}/{sha}/{name}"
        if not fs.exists(target):
            fs.makedirs(f"{root}/{sha[:2]}/{sha}", exist_ok=True)
            tmp = target + ".part"
            if isinstance(source, (bytes, bytearray, memoryview)):
                with fs.open(tmp, "wb") as f:
                    f.write(data)
            else:
                fs.put_file(str(source), tmp)
            fs.mv(tmp, target)
        return StagedFile(uri=target, name=name, sha256=sha, size=size)
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(f"staging {name or source!s} failed: {exc}") from exc


def open_staged(uri: str, settings: Settings | None = None) -> bytes:
    """The bytes of a staged file."""
    import fsspec

    with fsspec.open(uri, "rb") as f:
        return f.read()


def staged_uri(sha256: str, name: str, settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    _, root = _fs(settings)
    return f"{root}/{sha256[:2]}/{sha256}/{name}"
