"""Search index state: which embedding model the vectors come from, and a guard against mixing.

* ``search_index_state`` (one row): the model name and vector dimension of every embedding in
  ``search_documents``. Switching models (``floatchat_core.db.searchdb.ensure_index_model``)
  changes this row, clears every vector (re-creating the column and its HNSW index when the
  dimension changes) and marks every document ``pending`` for re-embedding.
* A trigger refuses an embedding whose ``model`` is not the state's model, so vectors of two
  models can never sit side by side (cosine between them would be meaningless).
* ``search_lexemes``: document frequency of each lexeme of ``search_documents.tsv`` (rebuilt
  by the indexer; the row with lexeme ``''`` holds the number of documents). The lexical half
  of search ranks by inverse document frequency and leaves out lexemes most documents hold.
* GIN on ``filters`` (structured search filters: parameters, float types, regions, DACs)
  and a B-tree on ``(kind, status)``.

Revision ID: 0004
"""
from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


LEXEMES_DDL = """
CREATE TABLE IF NOT EXISTS search_lexemes (
    lexeme text PRIMARY KEY,
    ndoc integer NOT NULL
)"""


def upgrade() -> None:
    op.execute("""
CREATE TABLE search_index_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    model text,
    dim integer NOT NULL CHECK (dim > 0),
    updated_at timestamptz NOT NULL DEFAULT now()
)""")
    op.execute("INSERT INTO search_index_state (model, dim) "
               "SELECT NULL, coalesce((SELECT value FROM app_state WHERE key = 'embedding_dim'), 384)")
    op.execute("""
CREATE FUNCTION fc_search_model_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    current_model text;
BEGIN
    IF NEW.embedding IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT model INTO current_model FROM search_index_state;
    IF NEW.model IS DISTINCT FROM current_model THEN
        RAISE EXCEPTION 'embedding of model % refused: the search index holds model %', NEW.model, current_model
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$""")
    op.execute("""
CREATE TRIGGER search_documents_model_check
BEFORE INSERT OR UPDATE OF embedding, model ON search_documents
FOR EACH ROW EXECUTE FUNCTION fc_search_model_check()""")
    op.execute(LEXEMES_DDL)
    op.execute("CREATE INDEX search_documents_filters_gin ON search_documents USING gin (filters jsonb_path_ops)")
    op.execute("CREATE INDEX search_documents_kind_status_idx ON search_documents (kind, status)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS search_documents_kind_status_idx")
    op.execute("DROP INDEX IF EXISTS search_documents_filters_gin")
    op.execute("DROP TRIGGER IF EXISTS search_documents_model_check ON search_documents")
    op.execute("DROP FUNCTION IF EXISTS fc_search_model_check()")
    op.execute("DROP TABLE IF EXISTS search_lexemes")
    op.execute("DROP TABLE IF EXISTS search_index_state")
