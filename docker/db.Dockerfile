# PostGIS 3 on PostgreSQL 15 with pgvector from the PGDG packages of the base image.
FROM postgis/postgis:15-3.4
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15-pgvector \
    && rm -rf /var/lib/apt/lists/*
