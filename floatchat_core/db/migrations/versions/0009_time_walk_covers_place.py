"""The newest-first time index also carries the position: a walk tests the place on the index.

Revision ID: 0009

Why (measured on 1 M synthetic profiles, ``benchmarks/queries.py``): a newest-first list over
an ocean and a year ("profiles in the North Atlantic in 2019") walks ``(juld DESC NULLS LAST,
id)`` until ``limit`` profiles fall inside the region (``dalcore.walk_time_index``). Each
entry walked was a table row read just to learn its position — 4,000–7,000 rows for 1,000
kept, 25–84 ms. With ``position_geom`` in the index's ``INCLUDE`` list the walk is an
index-only scan (the place test runs on the index entries) and only the kept rows are read
(``dalcore.walk_sql``): 11–16 ms. The index grows from 47 MB to 82 MB per million profiles.
It replaces the index of migration 0008 (same key, same other included columns).
"""
from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_INCLUDE = "scheme_index, direction, data_mode, platform_number"


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS profiles_juld_desc_walk_idx ON profiles (juld DESC NULLS LAST, id) "
               f"INCLUDE ({_INCLUDE}, position_geom)")
    op.execute("DROP INDEX IF EXISTS profiles_juld_desc_id_idx")


def downgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS profiles_juld_desc_id_idx ON profiles (juld DESC NULLS LAST, id) "
               f"INCLUDE ({_INCLUDE})")
    op.execute("DROP INDEX IF EXISTS profiles_juld_desc_walk_idx")
