"""The newest-first time index carries every column of a profile list: a walk reads no table row.

Revision ID: 0010

Why (measured on 1 M synthetic profiles, ``benchmarks/queries.py``): a newest-first list over a
place walks ``(juld DESC NULLS LAST, id)`` (``dalcore.walk_time_index``). Since migration 0009
the walk itself is index-only, but the ``limit`` profiles it keeps were then read from the table
for their other columns — 1,000 rows on as many scattered pages, the slowest part of a list
over an ocean and a year once those pages are not in memory (a freshly started cluster: 14–43
ms, against 7–32 ms when the index carries them). The index now includes every column
``dal.find_profiles`` returns (and those its filters test: parameters, pressure range, dataset),
so the list is one index-only scan (``dalcore.walk_sql``); the depth slice's walk for its
candidates becomes index-only too. The index grows from 82 MB to 182 MB per million profiles
(built in ~7 s) and replaces the index of migration 0009 (same key).
"""
from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_0009 = "scheme_index, direction, data_mode, platform_number, position_geom"
_COVER = (f"{_0009}, cycle_number, latitude, longitude, position_qc, parameters, n_levels, n_bgc_levels, "
          "pres_min, pres_max, dataset_id")


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS profiles_juld_desc_cover_idx ON profiles (juld DESC NULLS LAST, id) "
               f"INCLUDE ({_COVER})")
    op.execute("DROP INDEX IF EXISTS profiles_juld_desc_walk_idx")


def downgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS profiles_juld_desc_walk_idx ON profiles (juld DESC NULLS LAST, id) "
               f"INCLUDE ({_0009})")
    op.execute("DROP INDEX IF EXISTS profiles_juld_desc_cover_idx")
