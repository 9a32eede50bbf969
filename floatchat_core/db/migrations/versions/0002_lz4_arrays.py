"""Level arrays compressed with lz4 instead of pglz.

Why: a 1,000-level profile's arrays (4 kB each) are TOASTed and compressed; pglz
compression is several times slower than lz4 and was a visible share of ingestion
time. lz4 needs a server built with it (Debian's and conda-forge's are); otherwise
the columns keep the server default.

Revision ID: 0002
"""
from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SET = """
DO $$
DECLARE c record;
BEGIN
  FOR c IN SELECT column_name FROM information_schema.columns
           WHERE table_name = 'profiles' AND data_type = 'ARRAY' LOOP
    EXECUTE format('ALTER TABLE profiles ALTER COLUMN %I SET COMPRESSION {method}', c.column_name);
  END LOOP;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  RAISE NOTICE 'lz4 not available in this server: level arrays keep the default compression';
END $$;
"""


def upgrade() -> None:
    op.execute(_SET.format(method="lz4"))


def downgrade() -> None:
    op.execute(_SET.format(method="default"))
