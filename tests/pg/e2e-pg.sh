#!/usr/bin/env bash
# e2e-pg.sh: an end-to-end test (tests/e2e/*.sh) with every state it creates
# kept in PostgreSQL.
#
#   tests/pg/with-postgres.sh tests/pg/e2e-pg.sh tests/e2e/capf_ops.sh
#
# Runs the test unchanged but for two stand-ins put in front of it:
#  - $OPENCAPF becomes pg-opencapf.sh, which gives every `opencapf init` a
#    new database of its own on the test server (--store), so each state the
#    test makes is a PostgreSQL state (its programs find it in STATE/store.uri);
#  - `sqlite3` on PATH becomes pg-sqlite3.sh: the test's own queries on
#    STATE/opencapf.db read an SQLite copy of that state's PostgreSQL rows
#    (pg-export.py, over an SQLite database of the same schema made here) or
#    write through psql (other files go to the real sqlite3);
#  - `cp` on PATH becomes pg-cp.sh: a copied state gets a clone of its
#    database.
# Needs OPENCAPF_TEST_PG (with-postgres.sh sets it).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
: "${OPENCAPF_TEST_PG:?run under tests/pg/with-postgres.sh}"
: "${OPENCAPF:?OPENCAPF must name the opencapf binary}"
command -v psql >/dev/null || { echo "SKIP: psql is not installed"; exit 77; }
SHIMS=$(mktemp -d /tmp/opencapf-pgshim.XXXXXX)
trap 'rm -rf "$SHIMS"' EXIT
ln -s "$HERE/pg-sqlite3.sh" "$SHIMS/sqlite3"
ln -s "$HERE/pg-cp.sh" "$SHIMS/cp"
"$OPENCAPF" --state "$SHIMS/template" init --subject "O=Template" >/dev/null ||
	{ echo "e2e-pg: opencapf init of the SQLite template failed"; exit 1; }
export OPENCAPF_SQLITE_TEMPLATE=$SHIMS/template/opencapf.db
export OPENCAPF_REAL_SQLITE3=$(command -v sqlite3 || echo /usr/bin/sqlite3)
export OPENCAPF_REAL=$OPENCAPF
export OPENCAPF=$HERE/pg-opencapf.sh
export PATH=$SHIMS:$PATH
bash "$@"
