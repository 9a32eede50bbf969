"""No planner statistics for level arrays.

Why: ``ANALYZE profiles`` (and autovacuum's auto-analyze) otherwise detoasts every sampled
row's 60-odd level arrays to build statistics no query uses (nobody filters on a whole level
array) — minutes at archive scale. With the arrays' statistics target at 0, ANALYZE is quick
and still collects what the planner needs: header columns and the expression index on
``position::geometry`` (box and region selectivity).

Revision ID: 0005
"""
from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SET = """
DO $$
DECLARE c record;
BEGIN
  FOR c IN SELECT column_name FROM information_schema.columns
           WHERE table_schema = current_schema() AND table_name = 'profiles' AND data_type = 'ARRAY'
             AND column_name <> 'parameters' LOOP
    EXECUTE format('ALTER TABLE profiles ALTER COLUMN %I SET STATISTICS {target}', c.column_name);
  END LOOP;
END $$;
"""


def upgrade() -> None:
    op.execute(_SET.format(target=0))


def downgrade() -> None:
    op.execute(_SET.format(target=-1))
