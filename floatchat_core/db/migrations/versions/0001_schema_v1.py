"""Schema v1: floats, datasets, profiles with levels as arrays, jobs, regions, embeddings, views.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Levels live as arrays in their profile's row (Argovis' layout): one row per profile
instead of one per level keeps the archive (~3 M profiles × ~500 levels) at millions
of rows, not billions. Two vertical axes: the core axis (``pres``: PRES, TEMP, PSAL)
and the BGC axis (``bgc_pres``: the B/S file's PRES with the BGC parameters).
The column lists are frozen here (a migration must not change when the catalogue does).
"""
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

CORE = ("pres", "temp", "psal")
BGC = ("bgc_pres", "doxy", "chla", "nitrate", "ph_in_situ_total", "bbp700", "downwelling_par",
       "down_irradiance380", "down_irradiance412", "down_irradiance490")
TWINS = (("", "real[]"), ("_qc", "smallint[]"), ("_adjusted", "real[]"), ("_adjusted_qc", "smallint[]"),
         ("_adjusted_error", "real[]"))


def _param_columns() -> str:
    cols = []
    for p in CORE + BGC:
        cols += [f"{p}{suffix} {typ}" for suffix, typ in TWINS]
        cols += [f"{p}_data_mode char(1)", f"{p}_profile_qc char(1)", f"{p}_out_of_range boolean[]"]
    return ",\n    ".join(cols)


def _parameters_expr() -> str:
    # the Argo names of the parameters a profile holds, derived so it can never disagree with the arrays
    items = []
    for p in CORE + BGC:
        if p == "bgc_pres":
            continue
        name = p.upper()
        items.append(f"CASE WHEN {p} IS NOT NULL OR {p}_adjusted IS NOT NULL THEN '{name}' END")
    return "array_remove(ARRAY[" + ", ".join(items) + "]::text[], NULL)"


def _levels_view() -> str:
    core_cols = [f"{p}{s}" for p in CORE for s, _ in TWINS]
    bgc_cols = [f"{p}{s}" for p in BGC for s, _ in TWINS]
    core_names = [c for c in core_cols]
    bgc_names = [c.replace("bgc_pres", "pres") for c in bgc_cols]
    all_names = list(dict.fromkeys(core_names + bgc_names))

    def select(axis, src_cols, names):
        sel = []
        for n in all_names:
            if n in names:
                sel.append(f"l.{n}")
            else:
                typ = "smallint" if n.endswith("_qc") else "real"
                sel.append(f"NULL::{typ} AS {n}")
        src = ", ".join(f"p.{c}" for c in src_cols)
        alias = ", ".join(names)
        return (f"SELECT p.id AS profile_id, p.platform_number, p.cycle_number, p.direction, p.scheme_index, "
                f"p.juld, p.latitude, p.longitude, '{axis}'::text AS axis, l.level::int AS level, "
                + ", ".join(sel)
                + f" FROM profiles p CROSS JOIN LATERAL unnest({src}) WITH ORDINALITY AS l({alias}, level)")

    return ("CREATE VIEW levels AS\n" + select("core", core_cols, core_names)
            + "\nUNION ALL\n" + select("bgc", bgc_cols, bgc_names))


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

    op.execute("""
CREATE TABLE datasets (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    source text NOT NULL DEFAULT 'file',            -- file | gdac | erddap | synthetic | upload
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    description text,
    summary text,
    time_start timestamptz,
    time_end timestamptz,
    n_floats integer NOT NULL DEFAULT 0,
    n_profiles bigint NOT NULL DEFAULT 0,
    n_levels bigint NOT NULL DEFAULT 0,
    parameters text[] NOT NULL DEFAULT '{}',
    bbox geography(Geometry, 4326),
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
)""")
    op.execute("""
CREATE TABLE ingestion_jobs (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    progress real NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 100),
    dataset_id bigint REFERENCES datasets(id) ON DELETE SET NULL,
    dataset_name text,
    source text,                                   -- what the user handed in (path or upload name)
    staged_uri text,                               -- content-addressed copy in the object store
    sha256 text,
    size_bytes bigint,
    n_files integer NOT NULL DEFAULT 0,
    files_ok integer NOT NULL DEFAULT 0,
    files_failed integer NOT NULL DEFAULT 0,
    n_profiles bigint NOT NULL DEFAULT 0,
    n_levels bigint NOT NULL DEFAULT 0,
    errors jsonb NOT NULL DEFAULT '[]',
    traceback text,
    options jsonb NOT NULL DEFAULT '{}',
    retry_of uuid REFERENCES ingestion_jobs(id) ON DELETE SET NULL,
    host text,
    pid integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
)""")
    op.execute("CREATE INDEX ingestion_jobs_status_idx ON ingestion_jobs (status, created_at)")
    op.execute("""
CREATE TABLE dataset_versions (
    id bigserial PRIMARY KEY,
    dataset_id bigint NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    source_file text NOT NULL,
    sha256 text NOT NULL,
    n_profiles integer NOT NULL DEFAULT 0,
    n_levels bigint NOT NULL DEFAULT 0,
    first_job_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (dataset_id, source_file, sha256)
)""")
    op.execute("""
CREATE TABLE floats (
    platform_number text PRIMARY KEY,
    dac text,
    wmo_inst_type text,
    platform_type text,
    platform_maker text,
    float_serial_no text,
    firmware_version text,
    project_name text,
    pi_name text,
    operating_institution text,
    positioning_system text,
    launch_date timestamptz,
    launch_latitude double precision,
    launch_longitude double precision,
    launch_position geography(Point, 4326),
    launch_qc smallint,
    start_date timestamptz,
    deployment_platform text,
    sensors text[] NOT NULL DEFAULT '{}',
    parameters text[] NOT NULL DEFAULT '{}',
    is_bgc boolean NOT NULL DEFAULT false,
    is_deep boolean NOT NULL DEFAULT false,
    float_type text GENERATED ALWAYS AS (CASE WHEN is_deep THEN 'deep' WHEN is_bgc THEN 'bgc' ELSE 'core' END) STORED,
    meta_source text
)""")
    op.execute(f"""
CREATE TABLE profiles (
    id bigserial PRIMARY KEY,
    platform_number text NOT NULL,
    cycle_number integer NOT NULL,
    direction char(1) NOT NULL CHECK (direction IN ('A', 'D')),
    scheme_index smallint NOT NULL DEFAULT 0,
    dataset_id bigint REFERENCES datasets(id) ON DELETE SET NULL,
    juld timestamptz,
    juld_qc smallint,
    juld_location timestamptz,
    latitude double precision,
    longitude double precision,
    position_qc smallint,
    positioning_system text,
    position_invalid boolean NOT NULL DEFAULT false,
    position geography(Point, 4326) GENERATED ALWAYS AS (
        CASE WHEN NOT position_invalid AND latitude IS NOT NULL AND longitude IS NOT NULL
             THEN ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography END) STORED,
    timestamp_missing boolean NOT NULL DEFAULT false,
    data_mode char(1),
    vertical_sampling_scheme text,
    config_mission_number integer,
    data_centre text,
    dc_reference text,
    project_name text,
    pi_name text,
    platform_type text,
    header_rank smallint NOT NULL DEFAULT 0,
    header_source text NOT NULL DEFAULT '',
    core_rank smallint NOT NULL DEFAULT 0,
    core_source text NOT NULL DEFAULT '',
    bgc_rank smallint NOT NULL DEFAULT 0,
    bgc_source text NOT NULL DEFAULT '',
    {_param_columns()},
    n_levels integer GENERATED ALWAYS AS (coalesce(cardinality(pres), 0)) STORED,
    n_bgc_levels integer GENERATED ALWAYS AS (coalesce(cardinality(bgc_pres), 0)) STORED,
    parameters text[] GENERATED ALWAYS AS ({_parameters_expr()}) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT profiles_key UNIQUE (platform_number, cycle_number, direction, scheme_index)
)""")
    op.execute("CREATE INDEX profiles_position_gist ON profiles USING gist (position)")
    op.execute("CREATE INDEX profiles_juld_brin ON profiles USING brin (juld)")
    op.execute("CREATE INDEX profiles_juld_btree ON profiles (juld)")
    op.execute("CREATE INDEX profiles_dataset_idx ON profiles (dataset_id)")
    op.execute("CREATE INDEX profiles_parameters_gin ON profiles USING gin (parameters)")
    op.execute("""
CREATE TABLE float_positions (
    platform_number text NOT NULL,
    cycle_number integer NOT NULL,
    direction char(1) NOT NULL,
    profile_id bigint NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    juld timestamptz,
    latitude double precision,
    longitude double precision,
    position geography(Point, 4326),
    position_qc smallint,
    position_invalid boolean NOT NULL DEFAULT false,
    PRIMARY KEY (platform_number, cycle_number, direction)
)""")
    op.execute("CREATE INDEX float_positions_position_gist ON float_positions USING gist (position)")
    op.execute("CREATE INDEX float_positions_juld_brin ON float_positions USING brin (juld)")
    op.execute(_levels_view())

    op.execute("""
CREATE TABLE ocean_regions (
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    kind text NOT NULL,                           -- ocean | sea | bay | gulf | strait | ... | argo_code | custom
    argo_code char(1),
    source text NOT NULL DEFAULT 'naturalearth',
    geog geography(MultiPolygon, 4326) NOT NULL,
    area_km2 double precision
)""")
    op.execute("CREATE INDEX ocean_regions_geog_gist ON ocean_regions USING gist (geog)")
    op.execute("CREATE INDEX ocean_regions_name_trgm ON ocean_regions USING gin (lower(name) gin_trgm_ops)")
    op.execute("""
CREATE TABLE region_aliases (
    alias text PRIMARY KEY,                       -- stored lower-case
    region_id integer NOT NULL REFERENCES ocean_regions(id) ON DELETE CASCADE
)""")
    op.execute("CREATE INDEX region_aliases_trgm ON region_aliases USING gin (alias gin_trgm_ops)")

    op.execute("""
CREATE TABLE search_documents (
    id bigserial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('dataset', 'float')),
    ref text NOT NULL,                            -- dataset id or platform_number
    title text NOT NULL,
    body text NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || body)) STORED,
    embedding vector(384),
    model text,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'embedded', 'embedding_failed')),
    error text,
    filters jsonb NOT NULL DEFAULT '{}',
    time_start timestamptz,
    time_end timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, ref)
)""")
    op.execute("CREATE INDEX search_documents_hnsw ON search_documents USING hnsw (embedding vector_cosine_ops)")
    op.execute("CREATE INDEX search_documents_tsv ON search_documents USING gin (tsv)")

    op.execute("""
CREATE TABLE app_state (
    key text PRIMARY KEY,
    value bigint NOT NULL DEFAULT 0
)""")
    op.execute("INSERT INTO app_state (key, value) VALUES ('cache_generation', 0), ('embedding_dim', 384)")

    op.execute("""
CREATE MATERIALIZED VIEW mv_latest_float_positions AS
SELECT DISTINCT ON (fp.platform_number)
       fp.platform_number, fp.cycle_number, fp.direction, fp.profile_id, fp.juld,
       fp.latitude, fp.longitude, fp.position
FROM float_positions fp
WHERE NOT fp.position_invalid
ORDER BY fp.platform_number, fp.juld DESC NULLS LAST, fp.cycle_number DESC
""")
    op.execute("CREATE UNIQUE INDEX mv_latest_float_positions_pk ON mv_latest_float_positions (platform_number)")
    op.execute("CREATE INDEX mv_latest_float_positions_gist ON mv_latest_float_positions USING gist (position)")
    op.execute("""
CREATE MATERIALIZED VIEW mv_dataset_stats AS
SELECT d.id AS dataset_id, d.name,
       count(p.id) AS n_profiles,
       count(DISTINCT p.platform_number) AS n_floats,
       coalesce(sum(p.n_levels + p.n_bgc_levels), 0)::bigint AS n_levels,
       min(p.juld) AS time_start, max(p.juld) AS time_end,
       min(p.latitude) FILTER (WHERE NOT p.position_invalid) AS lat_min,
       max(p.latitude) FILTER (WHERE NOT p.position_invalid) AS lat_max,
       min(p.longitude) FILTER (WHERE NOT p.position_invalid) AS lon_min,
       max(p.longitude) FILTER (WHERE NOT p.position_invalid) AS lon_max,
       count(*) FILTER (WHERE p.data_mode = 'D') AS n_delayed_mode,
       count(*) FILTER (WHERE p.bgc_rank > 0) AS n_bgc_profiles
FROM datasets d LEFT JOIN profiles p ON p.dataset_id = d.id
GROUP BY d.id, d.name
""")
    op.execute("CREATE UNIQUE INDEX mv_dataset_stats_pk ON mv_dataset_stats (dataset_id)")


def downgrade() -> None:
    for stmt in (
        "DROP MATERIALIZED VIEW IF EXISTS mv_dataset_stats",
        "DROP MATERIALIZED VIEW IF EXISTS mv_latest_float_positions",
        "DROP TABLE IF EXISTS app_state",
        "DROP TABLE IF EXISTS search_documents",
        "DROP TABLE IF EXISTS region_aliases",
        "DROP TABLE IF EXISTS ocean_regions",
        "DROP VIEW IF EXISTS levels",
        "DROP TABLE IF EXISTS float_positions",
        "DROP TABLE IF EXISTS profiles",
        "DROP TABLE IF EXISTS floats",
        "DROP TABLE IF EXISTS dataset_versions",
        "DROP TABLE IF EXISTS ingestion_jobs",
        "DROP TABLE IF EXISTS datasets",
    ):
        op.execute(stmt)
