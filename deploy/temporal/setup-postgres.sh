#!/bin/sh
# One-shot, idempotent: creates Temporal's two PostgreSQL databases and brings their schemas up to the version the
# admin-tools image ships (the job temporalio/auto-setup did when the server started; that image is retired).
set -eu
: "${POSTGRES_SEEDS:=postgresql}" "${DB_PORT:=5432}" "${POSTGRES_USER:=temporal}"
export SQL_PASSWORD="${POSTGRES_PWD:-temporal}"
SCHEMA=/etc/temporal/schema/postgresql/v12

sql() {
  db=$1
  shift
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --db "$db" "$@"
}

# A second `docker compose up` finds the databases and schema tables there: only update-schema then does anything.
sql temporal create || echo 'database temporal exists'
sql temporal setup-schema -v 0.0 || echo 'schema of temporal is set up'
sql temporal update-schema -d "$SCHEMA/temporal/versioned"
sql temporal_visibility create || echo 'database temporal_visibility exists'
sql temporal_visibility setup-schema -v 0.0 || echo 'schema of temporal_visibility is set up'
sql temporal_visibility update-schema -d "$SCHEMA/visibility/versioned"
echo 'Temporal schemas are up to date'
