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
#  - `sqlite3` on PATH becomes pg-sqlite3.sh, which answers the test's own
#    queries on STATE/opencapf.db from that state's PostgreSQL database with
#    psql, in sqlite3's output format (other files go to the real sqlite3).
# Needs OPENCAPF_TEST_PG (with-postgres.sh sets it).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
: "${OPENCAPF_TEST_PG:?run under tests/pg/with-postgres.sh}"
: "${OPENCAPF:?OPENCAPF must name the opencapf binary}"
command -v psql >/dev/null || { echo "SKIP: psql is not installed"; exit 77; }
SHIMS=$(mktemp -d /tmp/opencapf-pgshim.XXXXXX)
trap 'rm -rf "$SHIMS"' EXIT
ln -s "$HERE/pg-sqlite3.sh" "$SHIMS/sqlite3"
export OPENCAPF_REAL_SQLITE3=$(command -v sqlite3 || echo /usr/bin/sqlite3)
export OPENCAPF_REAL=$OPENCAPF
export OPENCAPF=$HERE/pg-opencapf.sh
export PATH=$SHIMS:$PATH
bash "$@"
