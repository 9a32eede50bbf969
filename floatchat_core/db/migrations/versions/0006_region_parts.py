"""Ocean regions cut into small pieces once, for fast point-in-region joins.

Revision ID: 0006

Why: testing a point against a whole Natural Earth basin (tens of thousands of vertices)
is slow; ``ST_Subdivide`` pieces of ≤ 64 vertices with a GiST index make each test cheap.
The search indexer used to build these pieces in a temporary table on every call (seconds
per ingestion); a materialized view keeps them, refreshed whenever the regions are seeded.
Planar lon/lat geometry, the space the regions were built in (exact at ±180°).
"""
from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
CREATE MATERIALIZED VIEW mv_region_parts AS
SELECT id, name, kind, area_km2, ST_Subdivide(geog::geometry, 64) AS g
FROM ocean_regions
WHERE right(name, 12) <> '(open ocean)'
""")
    op.execute("CREATE INDEX mv_region_parts_g_gist ON mv_region_parts USING gist (g)")
    op.execute("CREATE INDEX mv_region_parts_id ON mv_region_parts (id)")


def downgrade() -> None:
    op.execute("DROP MATERIALIZED VIEW IF EXISTS mv_region_parts")
