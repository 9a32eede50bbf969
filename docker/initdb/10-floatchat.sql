-- Extensions and the read-only role the question engine connects as.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gist;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'floatchat_reader') THEN
    CREATE ROLE floatchat_reader LOGIN PASSWORD 'floatchat_reader';
  END IF;
END $$;
ALTER ROLE floatchat_reader SET default_transaction_read_only = on;
GRANT CONNECT ON DATABASE floatchat TO floatchat_reader;
