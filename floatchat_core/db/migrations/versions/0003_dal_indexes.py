"""What the Data Access Layer's queries need: per-profile pressure range, planar position index.

* ``pres_min`` / ``pres_max`` (decibar): the smallest and largest pressure of a profile over both
  axes (core ``pres`` and BGC ``bgc_pres``, NULL elements ignored), generated so they can never
  disagree with the arrays. The DAL's "profiles whose pressure range overlaps [a, b]" filter
  and the depth slice's pre-filter (``pres_min <= target <= pres_max``) read them instead of
  detoasting level arrays.
* A GiST index on ``position::geometry``: boxes and named regions are planar lon/lat shapes
  (the regions are built in planar space, split exactly at ±180°), so their tests run in
  geometry space with GEOS prepared geometries, which is far faster than geography
  ``ST_Covers`` against a polygon of thousands of vertices. Radius and nearest-neighbour
  queries keep using the geography index.
* A B-tree on ``(dataset_id, juld)`` for per-dataset time ranges.

Revision ID: 0003
"""
from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for fn, agg in (("fc_array_min", "min"), ("fc_array_max", "max")):
        op.execute(f"""
CREATE OR REPLACE FUNCTION {fn}(real[]) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {agg}(x) FROM unnest($1) AS x $$""")
    op.execute("""
ALTER TABLE profiles
  ADD COLUMN pres_min real GENERATED ALWAYS AS (least(fc_array_min(pres), fc_array_min(bgc_pres))) STORED,
  ADD COLUMN pres_max real GENERATED ALWAYS AS (greatest(fc_array_max(pres), fc_array_max(bgc_pres))) STORED""")
    op.execute("CREATE INDEX profiles_position_geom_gist ON profiles USING gist ((position::geometry))")
    op.execute("CREATE INDEX profiles_dataset_juld_idx ON profiles (dataset_id, juld)")
    op.execute("CREATE INDEX float_positions_geom_gist ON float_positions USING gist ((position::geometry))")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS float_positions_geom_gist")
    op.execute("DROP INDEX IF EXISTS profiles_dataset_juld_idx")
    op.execute("DROP INDEX IF EXISTS profiles_position_geom_gist")
    op.execute("ALTER TABLE profiles DROP COLUMN IF EXISTS pres_max, DROP COLUMN IF EXISTS pres_min")
    op.execute("DROP FUNCTION IF EXISTS fc_array_max(real[])")
    op.execute("DROP FUNCTION IF EXISTS fc_array_min(real[])")
