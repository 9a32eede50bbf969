"""Search documents get the text their embedding is made from.

Revision ID: 0007

Why: the embedding model (all-MiniLM-L6-v2 on the CPU) costs time in proportion to the word
pieces it reads. ``embed_text`` holds a compact description (type, platform, DAC, project,
PI, parameters in words, regions, years, data modes; ~70 word pieces) while ``body`` keeps the
full text for full-text search and summaries (~160 word pieces, more with every year listed).
A document is re-embedded when its ``embed_text`` changes — not when only its body does (a
new profile changes the count and the last position, rarely what the float is). Rows
without it (written before this revision) are re-embedded by the next ``reindex``.
"""
from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE search_documents ADD COLUMN embed_text text")


def downgrade() -> None:
    op.execute("ALTER TABLE search_documents DROP COLUMN IF EXISTS embed_text")
