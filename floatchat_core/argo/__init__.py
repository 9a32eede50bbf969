"""Argo NetCDF files → columnar batches: reader, decoding, cleaning, GDAC index, parameter
catalogue and synthetic files. Knows nothing of the database."""
from .batch import BGC_RANK, CORE_RANK, LevelGroup, ParameterLevels, ProfileBatch
from .cleaning import clean
from .decode import datetime64_to_juld, decode_qc, juld_to_datetime64
from .index import read_index
from .reader import REQUIRED, classify, open_profiles, read_meta, wmo_from_name
from .variables import BGC_PARAMETERS, BY_NAME, CORE_PARAMETERS, PARAMETERS, Parameter, get_parameter

__all__ = [
    "BGC_PARAMETERS",
    "BGC_RANK",
    "BY_NAME",
    "CORE_PARAMETERS",
    "CORE_RANK",
    "PARAMETERS",
    "REQUIRED",
    "LevelGroup",
    "Parameter",
    "ParameterLevels",
    "ProfileBatch",
    "classify",
    "clean",
    "datetime64_to_juld",
    "decode_qc",
    "get_parameter",
    "juld_to_datetime64",
    "open_profiles",
    "read_index",
    "read_meta",
    "wmo_from_name",
]
