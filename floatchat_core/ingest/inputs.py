"""Turn what a user hands in (files, folders such as a GDAC ``dac/`` tree, ZIP archives,
uploaded bytes) into a flat list of files to ingest, with ZIP archives checked first.

ZIP guards: members whose names escape the archive (``../``, absolute paths —
"zip-slip"), archives with too many members or too large an uncompressed total
("zip bombs", including members whose compression ratio is absurd), and members over
the per-file size limit. Bad members are reported; the others go on.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..config import Settings, get_settings
from ..errors import IngestError

NETCDF_SUFFIXES = (".nc", ".nc4", ".cdf", ".netcdf")
MAX_RATIO = 1000          # uncompressed / compressed: above this a member is treated as a bomb


@dataclass
class Expanded:
    files: list[tuple[str, object]] = field(default_factory=list)   # (name, path or bytes)
    rejected: list[dict] = field(default_factory=list)              # {"file", "error"}


def is_zip(source) -> bool:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source[:4]) == b"PK\x03\x04" or bytes(source[:4]) == b"PK\x05\x06"
    p = Path(source)
    return p.is_file() and zipfile.is_zipfile(p)


def expand_zip(source, name: str, settings: Settings | None = None) -> Expanded:
    """Check and read a ZIP archive's NetCDF members (as bytes)."""
    settings = settings or get_settings()
    out = Expanded()
    try:
        zf = zipfile.ZipFile(io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray)) else source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(f"{name}: not a readable ZIP archive ({exc})") from exc
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if not infos:
            raise IngestError(f"{name}: the ZIP archive is empty")
        if len(infos) > settings.max_zip_members:
            raise IngestError(f"{name}: {len(infos):,} members exceed the limit of {settings.max_zip_members:,}")
        total = sum(i.file_size for i in infos)
        if total > settings.max_zip_uncompressed_bytes:
            raise IngestError(f"{name}: uncompressed size {total:,} bytes exceeds the limit of "
                              f"{settings.max_zip_uncompressed_bytes:,} (possible zip bomb)")
        budget = settings.max_zip_uncompressed_bytes
        for info in infos:
            member = info.filename
            pure = PurePosixPath(member.replace("\\", "/"))
            if pure.is_absolute() or ".." in pure.parts or (len(member) > 1 and member[1] == ":"):
                out.rejected.append({"file": member, "error": "unsafe path in archive (zip-slip) rejected"})
                continue
            if pure.suffix.lower() not in NETCDF_SUFFIXES:
                out.rejected.append({"file": member, "error": "not a NetCDF file (.nc/.nc4) — skipped"})
                continue
            if info.file_size > settings.max_file_bytes:
                out.rejected.append({"file": member, "error": f"larger than the size limit "
                                                             f"({settings.max_file_bytes:,} bytes)"})
                continue
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                out.rejected.append({"file": member, "error": "compression ratio over "
                                                             f"{MAX_RATIO}:1 (possible zip bomb) rejected"})
                continue
            try:
                # read at most the declared size + 1: a lying header cannot make us inflate more
                with zf.open(info) as f:
                    data = f.read(min(info.file_size, budget) + 1)
            except Exception as exc:  # noqa: BLE001 - a corrupt member is reported, others go on
                out.rejected.append({"file": member, "error": f"unreadable member: {exc}"})
                continue
            if len(data) > info.file_size:
                out.rejected.append({"file": member, "error": "member larger than its header says (rejected)"})
                continue
            budget -= len(data)
            out.files.append((pure.name, data))
    return out


def expand(sources, settings: Settings | None = None) -> Expanded:
    """Expand paths (files, folders walked recursively, ZIPs) into NetCDF files, sorted by name."""
    settings = settings or get_settings()
    out = Expanded()
    for src in sources:
        if isinstance(src, tuple):                              # (name, bytes) from an upload
            name, data = src
            if is_zip(data):
                z = expand_zip(data, name, settings)
                out.files += z.files
                out.rejected += z.rejected
            else:
                out.files.append((Path(name).name, data))
            continue
        p = Path(src)
        if p.is_dir():
            found = sorted(x for x in p.rglob("*") if x.is_file() and x.suffix.lower() in NETCDF_SUFFIXES)
            out.files += [(x.name, x) for x in found]
            for z in sorted(x for x in p.rglob("*.zip") if x.is_file()):
                e = expand_zip(z, z.name, settings)
                out.files += e.files
                out.rejected += e.rejected
        elif p.is_file():
            if p.suffix.lower() == ".zip" or is_zip(p):
                e = expand_zip(p, p.name, settings)
                out.files += e.files
                out.rejected += e.rejected
            else:
                out.files.append((p.name, p))
        else:
            raise IngestError(f"{src}: no such file or folder")
    return out
