#!/usr/bin/env bash
# Installs (if needed) and starts Debian's PostgreSQL 15 with pg_cron, and creates the test
# database. Idempotent. Prints `export DATABASE_URL=...` for the caller to eval:
#   eval "$(bash .ci/postgres.sh)"
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! dpkg -s postgresql-15 postgresql-15-cron >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq postgresql postgresql-15-cron) >&2
fi
conf=/etc/postgresql/15/main/postgresql.conf
if ! grep -q "^shared_preload_libraries = 'pg_cron'" "$conf"; then
  {
    echo "shared_preload_libraries = 'pg_cron'"
    echo "cron.database_name = 'upload_lifecycle_test'"
    echo "cron.timezone = 'UTC'"
    echo "max_connections = 200"
  } >>"$conf"
  pg_ctlcluster 15 main restart >&2 || true
fi
# Debian's pg_cron 1.4 connects over TCP as the job owner by default, which scram auth refuses;
# background workers run jobs in-process instead.
if ! grep -q "^cron.use_background_workers = on" "$conf"; then
  echo "cron.use_background_workers = on" >>"$conf"
  pg_ctlcluster 15 main restart >&2 || true
fi
pg_ctlcluster 15 main start >&2 2>/dev/null || true
for _ in $(seq 1 50); do
  su postgres -c "pg_isready -q" && break
  sleep 0.2
done
su postgres -c "psql -qtAc \"alter user postgres password 'postgres'\"" >&2
if ! su postgres -c "psql -qtAc \"select 1 from pg_database where datname = 'upload_lifecycle_test'\"" | grep -q 1; then
  su postgres -c "createdb upload_lifecycle_test" >&2
fi
echo "export DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/upload_lifecycle_test"
