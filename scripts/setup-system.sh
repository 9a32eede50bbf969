#!/usr/bin/env bash
# Installs what pip cannot: PostgreSQL + PostGIS + pgvector (+ pg_trgm from contrib)
# and Chromium for the browser tests. Idempotent: every step checks first.
#
#   Debian/Ubuntu (apt): distribution packages; pgvector from the distribution's
#     package where one exists, otherwise built from Debian's own source package.
#   conda (CONDA_PREFIX set): conda-forge postgresql, postgis, pgvector.
#
# Set FLOATCHAT_SKIP_SYSTEM=1 to skip entirely (e.g. you manage PostgreSQL yourself
# and point DATABASE_URL at it).
set -euo pipefail

say() { printf '[setup-system] %s\n' "$*"; }

if [ "${FLOATCHAT_SKIP_SYSTEM:-0}" = "1" ]; then
  say "FLOATCHAT_SKIP_SYSTEM=1: skipping system set-up"; exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi

# --------------------------------------------------------------------------- conda
if [ -n "${CONDA_PREFIX:-}" ] && [ -x "${CONDA_PREFIX}/bin/python" ] && [ "${FLOATCHAT_USE_APT:-0}" != "1" ]; then
  need=()
  [ -x "$CONDA_PREFIX/bin/initdb" ] || need+=(postgresql)
  ls "$CONDA_PREFIX"/share/extension/postgis.control >/dev/null 2>&1 || need+=(postgis)
  ls "$CONDA_PREFIX"/share/extension/vector.control >/dev/null 2>&1 || need+=(pgvector)
  if [ ${#need[@]} -gt 0 ]; then
    mgr=$(command -v mamba || command -v conda)
    say "conda: installing ${need[*]} from conda-forge"
    "$mgr" install -y -p "$CONDA_PREFIX" -c conda-forge "${need[@]}"
  else
    say "conda: postgresql, postgis, pgvector already present"
  fi
  if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
      say "installing Debian chromium for the browser tests"
      $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
    else
      say "WARNING: no Chromium found; browser tests need one (set FLOATCHAT_CHROMIUM)"
    fi
  fi
  exit 0
fi

# --------------------------------------------------------------------------- apt
if ! command -v apt-get >/dev/null 2>&1; then
  say "no apt-get and no conda environment: install PostgreSQL 15+ with PostGIS, pgvector and pg_trgm yourself,"
  say "or set DATABASE_URL to a server that has them."
  exit 0
fi

updated=0
apt_update() { if [ $updated = 0 ]; then say "apt-get update"; $SUDO apt-get update -qq; updated=1; fi; }
apt_install() { apt_update; say "apt-get install $*"; $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# PostgreSQL: use the newest major already installed, else the distribution default.
PGV=""
for d in /usr/lib/postgresql/*/bin/initdb; do [ -x "$d" ] && PGV=$(basename "$(dirname "$(dirname "$d")")"); done
if [ -z "$PGV" ]; then
  apt_install postgresql postgresql-contrib
  for d in /usr/lib/postgresql/*/bin/initdb; do [ -x "$d" ] && PGV=$(basename "$(dirname "$(dirname "$d")")"); done
fi
say "PostgreSQL major version: $PGV"
PGCONFIG=/usr/lib/postgresql/$PGV/bin/pg_config
SHAREDIR=/usr/share/postgresql/$PGV

want=()
have_pkg "postgresql-contrib" || [ -f "$SHAREDIR/extension/pg_trgm.control" ] || want+=(postgresql-contrib)
[ -f "$SHAREDIR/extension/postgis.control" ] || want+=("postgresql-$PGV-postgis-3")
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then want+=(chromium); fi
command -v redis-server >/dev/null 2>&1 || want+=(redis-server)   # the query cache's Redis backend (tested)
# a Compose validator for the Docker route, where a Docker client is installed (no engine needed)
if command -v docker >/dev/null 2>&1 && ! docker compose version >/dev/null 2>&1 \
   && ! command -v docker-compose >/dev/null 2>&1; then want+=(docker-compose); fi
[ ${#want[@]} -eq 0 ] || apt_install "${want[@]}"

if [ -f "$SHAREDIR/extension/vector.control" ]; then
  say "pgvector already installed"
else
  apt_update
  if apt-cache show "postgresql-$PGV-pgvector" >/dev/null 2>&1; then
    apt_install "postgresql-$PGV-pgvector"
  else
    say "no postgresql-$PGV-pgvector package: building pgvector from Debian's source package"
    apt_install "postgresql-server-dev-$PGV" build-essential dpkg-dev
    srclist=/etc/apt/sources.list.d/floatchat-pgvector-src.sources
    if ! apt-cache showsrc pgvector 2>/dev/null | grep -q '^Package: pgvector'; then
      say "adding a deb-src entry (Debian trixie) for the pgvector source package"
      printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' | $SUDO tee "$srclist" >/dev/null
      $SUDO apt-get update -qq
    fi
    build=$(mktemp -d)
    ( cd "$build" && apt-get source --download-only pgvector >/dev/null 2>&1 || apt-get source -q --download-only pgvector
      dpkg-source -x --no-check pgvector_*.dsc src >/dev/null
      cd src && make -s PG_CONFIG="$PGCONFIG" OPTFLAGS="" >/dev/null && $SUDO make -s install PG_CONFIG="$PGCONFIG" >/dev/null )
    rm -rf "$build"
    [ -f "$SHAREDIR/extension/vector.control" ] || { say "ERROR: pgvector build failed"; exit 1; }
    say "pgvector built and installed"
  fi
fi
say "system set-up complete"
