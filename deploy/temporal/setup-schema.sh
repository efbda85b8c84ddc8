#!/bin/sh
# One-shot (compose service temporal-schema): creates Temporal's databases on first run and brings both
# schemas up to date on every run, so `up` after an upgrade migrates them. Runs in temporalio/admin-tools.
set -eu
: "${POSTGRES_SEEDS:?}" "${DB_PORT:?}" "${POSTGRES_USER:?}"
export SQL_PASSWORD="${SQL_PASSWORD:-}"
SCHEMA_DIR=${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*}
  folder=${pair#*:}
  if out=$(sql --db "$db" create-database 2>&1); then
    echo "created database $db"
    sql --db "$db" setup-schema -v 0.0
  else
    case $out in
      *"already exists"*) echo "database $db exists: updating its schema only" ;;
      *) echo "$out" >&2; echo "could not create database $db on $POSTGRES_SEEDS:$DB_PORT (see above)" >&2; exit 1 ;;
    esac
  fi
  sql --db "$db" update-schema -d "$SCHEMA_DIR/$folder/versioned"
done
echo "Temporal's schemas are ready on $POSTGRES_SEEDS:$DB_PORT"
