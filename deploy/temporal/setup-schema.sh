#!/bin/sh
# One-shot (compose service temporal-schema): creates Temporal's databases and brings both schemas up to
# date, on every `up`, so an upgrade migrates them. Each step is idempotent: create-database and
# setup-schema -v 0.0 leave an existing database alone, update-schema applies only what is missing.
# Runs in temporalio/admin-tools.
set -eu
: "${POSTGRES_SEEDS:?}" "${DB_PORT:?}" "${POSTGRES_USER:?}"
export SQL_PASSWORD="${SQL_PASSWORD:-}"
SCHEMA_DIR=${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

# PostgreSQL may be healthy a moment before it takes connections from other containers: retry for 60 s.
tries=0
until sql --db temporal create-database >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "could not reach PostgreSQL at $POSTGRES_SEEDS:$DB_PORT as $POSTGRES_USER within 60 s:" >&2
    sql --db temporal create-database
    exit 1
  fi
  sleep 1
done

for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*}
  folder=${pair#*:}
  sql --db "$db" create-database
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema -d "$SCHEMA_DIR/$folder/versioned"
done
echo "Temporal's schemas are ready on $POSTGRES_SEEDS:$DB_PORT"
