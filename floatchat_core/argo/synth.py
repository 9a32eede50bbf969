"""Synthetic Argo files for benchmarks and scale tests.

The files follow the Argo User's Manual layout the reader expects (char arrays,
``_FillValue`` attributes, QC bytes, JULD in days since 1950, ``DATA_MODE`` or
``PARAMETER_DATA_MODE``), so they exercise exactly the code path real files take.
Values are plausible (a warm mixed layer over a thermocline, salinity 34–36 PSU,
an oxygen minimum) but are *not* data: WMO numbers start at 9,000,000, which no
real float uses yet.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

FILL_F4 = np.float32(99999.0)
FILL_F8 = 999999.0
FILL_I4 = np.int32(99999)
SYNTH_WMO_BASE = 9_000_000
_DAC = "IF"


def _chars(strings, width: int) -> np.ndarray:
    a = np.asarray([s.ljust(width)[:width].encode("latin-1") for s in strings], dtype=f"S{width}")
    return a.view("S1").reshape(len(strings), width)


def _profiles(rng: np.random.Generator, n_prof: int, n_levels: int, bgc: bool):
    """Level arrays (n_prof, n_levels) with a random number of valid levels per profile."""
    low = min(n_levels, max(70, int(0.7 * n_levels)))
    n_valid = rng.integers(low, n_levels + 1, size=n_prof)
    z = np.linspace(0.0, 1.0, n_levels, dtype=np.float64)[None, :]
    pres = (2000.0 * z ** 1.5 + rng.uniform(3, 6, (n_prof, 1))).astype(np.float32)
    sst = rng.uniform(2.0, 30.0, (n_prof, 1))
    temp = (2.0 + (sst - 2.0) * np.exp(-pres / rng.uniform(150, 600, (n_prof, 1)))
            + rng.normal(0, 0.02, (n_prof, n_levels))).astype(np.float32)
    psal = (34.7 + 0.6 * np.exp(-pres / 300.0) * rng.uniform(-1, 1, (n_prof, 1))
            + rng.normal(0, 0.005, (n_prof, n_levels))).astype(np.float32)
    valid = np.arange(n_levels)[None, :] < n_valid[:, None]
    out = {"PRES": pres, "TEMP": temp, "PSAL": psal}
    if bgc:
        out["DOXY"] = (250.0 - 180.0 * np.exp(-((pres - 700.0) / 350.0) ** 2)
                       + rng.normal(0, 2, (n_prof, n_levels))).astype(np.float32)
    for arr in out.values():
        arr[~valid] = FILL_F4
    return out, valid


def make_prof_file(path: str | Path, wmo: int, n_prof: int = 200, n_levels: int = 120, seed: int = 0,
                   bgc: bool = False, start_juld: float = 25000.0) -> Path:
    """Write one multi-profile ``<wmo>_prof.nc`` (or ``<wmo>_Sprof.nc`` when ``bgc``)."""
    import netCDF4

    rng = np.random.default_rng(seed)
    path = Path(path)
    levels, valid = _profiles(rng, n_prof, n_levels, bgc)
    params = ["PRES", "TEMP", "PSAL"] + (["DOXY"] if bgc else [])
    with netCDF4.Dataset(path, "w", format="NETCDF4_CLASSIC") as ds:
        ds.createDimension("DATE_TIME", 14)
        for w in (2, 4, 8, 16, 32, 64, 256):
            ds.createDimension(f"STRING{w}", w)
        ds.createDimension("N_PROF", n_prof)
        ds.createDimension("N_PARAM", len(params))
        ds.createDimension("N_LEVELS", n_levels)

        def char(name, dims, data):
            v = ds.createVariable(name, "S1", dims, fill_value=b" ")
            v[:] = data

        kind = "B-Argo synthetic profile" if bgc else "Argo profile"
        char("DATA_TYPE", ("STRING16",), _chars([kind], 16)[0])
        char("FORMAT_VERSION", ("STRING4",), _chars(["3.1"], 4)[0])
        char("REFERENCE_DATE_TIME", ("DATE_TIME",), _chars(["19500101000000"], 14)[0])
        char("PLATFORM_NUMBER", ("N_PROF", "STRING8"), _chars([str(wmo)] * n_prof, 8))
        char("PROJECT_NAME", ("N_PROF", "STRING64"), _chars(["FloatChat synthetic"] * n_prof, 64))
        char("PI_NAME", ("N_PROF", "STRING64"), _chars(["Nobody (synthetic)"] * n_prof, 64))
        char("DATA_CENTRE", ("N_PROF", "STRING2"), _chars([_DAC] * n_prof, 2))
        char("DC_REFERENCE", ("N_PROF", "STRING32"), _chars([f"SYN{wmo}"] * n_prof, 32))
        char("PLATFORM_TYPE", ("N_PROF", "STRING32"), _chars(["ARVOR" if not bgc else "PROVOR_III"] * n_prof, 32))
        char("POSITIONING_SYSTEM", ("N_PROF", "STRING8"), _chars(["GPS"] * n_prof, 8))
        char("DIRECTION", ("N_PROF",), np.array([b"A"] * n_prof, "S1"))
        cyc = ds.createVariable("CYCLE_NUMBER", "i4", ("N_PROF",), fill_value=FILL_I4)
        cyc[:] = np.arange(1, n_prof + 1, dtype=np.int32)
        cmn = ds.createVariable("CONFIG_MISSION_NUMBER", "i4", ("N_PROF",), fill_value=FILL_I4)
        cmn[:] = 1
        juld = start_juld + np.cumsum(rng.uniform(9.5, 10.5, n_prof))
        for name in ("JULD", "JULD_LOCATION"):
            v = ds.createVariable(name, "f8", ("N_PROF",), fill_value=FILL_F8)
            v.units = "days since 1950-01-01 00:00:00 UTC"
            v[:] = juld
        char("JULD_QC", ("N_PROF",), np.array([b"1"] * n_prof, "S1"))
        # a float drifts: a random walk from a random start, wrapped on the antimeridian
        lat0, lon0 = rng.uniform(-60, 60), rng.uniform(-180, 180)
        lat = np.clip(lat0 + np.cumsum(rng.normal(0, 0.15, n_prof)), -75, 80)
        lon = (lon0 + np.cumsum(rng.normal(0, 0.2, n_prof)) + 180.0) % 360.0 - 180.0
        for name, data in (("LATITUDE", lat), ("LONGITUDE", lon)):
            v = ds.createVariable(name, "f8", ("N_PROF",), fill_value=FILL_F8)
            v[:] = data
        char("POSITION_QC", ("N_PROF",), np.array([b"1"] * n_prof, "S1"))
        n_delayed = int(n_prof * 0.7)
        modes = np.array([b"D"] * n_delayed + [b"R"] * (n_prof - n_delayed), "S1")
        if bgc:
            pdm = np.repeat(modes[:, None], len(params), axis=1)
            pdm[:, -1] = b"R"
            char("PARAMETER_DATA_MODE", ("N_PROF", "N_PARAM"), pdm)
            sp = np.stack([_chars(params, 64)] * n_prof)
            char("STATION_PARAMETERS", ("N_PROF", "N_PARAM", "STRING64"), sp)
        else:
            char("DATA_MODE", ("N_PROF",), modes)
            char("VERTICAL_SAMPLING_SCHEME", ("N_PROF", "STRING256"),
                 _chars(["Primary sampling: averaged [synthetic]"] * n_prof, 256))
        qc_one = np.where(valid, b"1", b" ").astype("S1")
        delayed = (modes == b"D")[:, None]
        for p in params:
            vals = levels[p]
            v = ds.createVariable(p, "f4", ("N_PROF", "N_LEVELS"), fill_value=FILL_F4)
            v[:] = vals
            char(f"{p}_QC", ("N_PROF", "N_LEVELS"), qc_one)
            adj = np.where(valid & delayed, vals, FILL_F4).astype(np.float32)
            va = ds.createVariable(f"{p}_ADJUSTED", "f4", ("N_PROF", "N_LEVELS"), fill_value=FILL_F4)
            va[:] = adj
            char(f"{p}_ADJUSTED_QC", ("N_PROF", "N_LEVELS"), np.where(valid & delayed, b"1", b" ").astype("S1"))
            ve = ds.createVariable(f"{p}_ADJUSTED_ERROR", "f4", ("N_PROF", "N_LEVELS"), fill_value=FILL_F4)
            ve[:] = np.where(valid & delayed, np.float32(0.01), FILL_F4)
            char(f"PROFILE_{p}_QC", ("N_PROF",), np.array([b"A"] * n_prof, "S1"))
    return path


#: N_LEVELS of a synthetic float and how often it occurs: old floats report 70–115 levels,
#: 2-dbar-binned modern floats ~1,000 (Argo's mix, roughly).
LEVEL_MIX = ((80, 0.35), (120, 0.25), (500, 0.25), (1000, 0.15))


def make_corpus(folder: str | Path, n_profiles: int, profiles_per_float: int = 250, n_levels: int | None = None,
                bgc_fraction: float = 0.1, seed: int = 0) -> list[Path]:
    """Write enough synthetic floats to hold ``n_profiles`` profiles; returns the file paths.

    Each float's N_LEVELS follows :data:`LEVEL_MIX` unless ``n_levels`` fixes it; each
    profile fills 70 %–100 % of it (never fewer than 70 levels when N_LEVELS allows).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sizes, weights = zip(*LEVEL_MIX)
    paths = []
    i, left = 0, int(n_profiles)
    while left > 0:
        n = min(profiles_per_float, left)
        wmo = SYNTH_WMO_BASE + seed * 10_000 + i
        bgc = bool(rng.random() < bgc_fraction)
        levels = int(n_levels or rng.choice(sizes, p=np.asarray(weights) / sum(weights)))
        name = f"{wmo}_Sprof.nc" if bgc else f"{wmo}_prof.nc"
        paths.append(make_prof_file(folder / name, wmo, n, levels, seed=seed * 100_003 + i, bgc=bgc))
        left -= n
        i += 1
    return paths
