"""Indexes shaped like the DAL's questions: newest-first lists and place-and-period filters.

Revision ID: 0008

Why (measured on 1 M synthetic profiles, ``benchmarks/queries.py``):

* ``ORDER BY juld DESC NULLS LAST, id LIMIT n`` — every newest-first list, the depth slice's
  candidates — could not use the plain ``(juld)`` btree: its backward scan yields
  ``DESC NULLS FIRST``. PostgreSQL sorted every profile of the period instead (on disk, for
  the depth slice: 2.3 s). ``(juld DESC NULLS LAST, id)`` hands them over in order, so a
  ``LIMIT`` stops early; it replaces the old btree (range conditions use it just as well).
  It carries ``scheme_index, direction, data_mode, platform_number``: counts over a period
  ("how many delayed-mode profiles since 2020": 200,000 rows, 3.8 s of heap reads at 1 M
  profiles) become index-only scans.
* A named region or box *and* a period: the 2-D GiST on ``position::geometry`` found every
  profile of the region over 25 years, then filtered the year on the heap (75,000 page reads
  for the South Pacific). A GiST on ``(position_geom, juld)`` (``btree_gist``, a trusted
  contrib extension) tests place and period in the index; it replaces the 2-D GiST, which
  it also serves (a leading column works alone).
* ``position_geom``: the position as a stored planar geometry (generated, so it can never
  disagree with latitude/longitude). PostGIS estimates how many rows a box holds from a
  column's statistics, not from an expression's: on ``position::geometry`` the planner
  expected 7 rows where 77,000 matched, and picked the region plan for whole oceans where
  walking the period newest-first stops after the first 1,000. Adding it rewrites the table
  (minutes on millions of profiles): done once, by ``floatchat db up``.
"""
from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    # old indexes first, so the table rewrite below does not rebuild them
    op.execute("DROP INDEX IF EXISTS profiles_juld_btree")
    op.execute("DROP INDEX IF EXISTS profiles_position_geom_gist")
    op.execute("""
ALTER TABLE profiles ADD COLUMN position_geom geometry(Point, 4326) GENERATED ALWAYS AS (
    CASE WHEN NOT position_invalid AND latitude IS NOT NULL AND longitude IS NOT NULL
         THEN ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) END) STORED""")
    op.execute("CREATE INDEX profiles_juld_desc_id_idx ON profiles (juld DESC NULLS LAST, id) "
               "INCLUDE (scheme_index, direction, data_mode, platform_number)")
    op.execute("CREATE INDEX profiles_geom_juld_gist ON profiles USING gist (position_geom, juld)")
    op.execute("ANALYZE profiles (position_geom, juld)")


def downgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS profiles_position_geom_gist ON profiles USING gist ((position::geometry))")
    op.execute("DROP INDEX IF EXISTS profiles_geom_juld_gist")
    op.execute("ALTER TABLE profiles DROP COLUMN IF EXISTS position_geom")
    op.execute("CREATE INDEX IF NOT EXISTS profiles_juld_btree ON profiles (juld)")
    op.execute("DROP INDEX IF EXISTS profiles_juld_desc_id_idx")
