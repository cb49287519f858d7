#!/usr/bin/env bash
# with-postgres.sh: run a command with a PostgreSQL server of its own.
#
#   tests/pg/with-postgres.sh COMMAND [ARGS...]
#
# initdb into a new folder under /tmp (as the unprivileged user `nobody`
# when run as root: PostgreSQL refuses to run as root), a server listening
# only on a Unix socket in that folder (no TCP port), fsync off (a test
# server; PG_FSYNC=1 keeps it on, as a benchmark needs), one database
# `opencapf` (PG_OPTS: more server options, e.g. "-c shared_preload_libraries=
# pg_stat_statements"); then COMMAND runs with
#   OPENCAPF_TEST_PG=postgresql:///opencapf?host=DIR&user=opencapf
# and the server is stopped and its folder removed at the end, whatever
# COMMAND did. Exits with COMMAND's status, or 77 (skipped) when the
# PostgreSQL server programs (Debian package postgresql) are missing.
# PG_KEEP=1 keeps the folder (its log is DIR/log).
# One block: bash reads all of it before running any, so editing this file
# while a long command runs under it cannot change what runs.
{
set -uo pipefail

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
	echo "with-postgres: no PostgreSQL server programs (package postgresql): skipped" >&2
	exit 77
fi
[ $# -gt 0 ] || { echo "usage: with-postgres.sh COMMAND [ARGS...]" >&2; exit 2; }

DIR=$(mktemp -d /tmp/opencapf-pg.XXXXXX)
chmod 755 "$DIR"
as_pg() { "$@"; }
if [ "$(id -u)" = 0 ]; then
	chown nobody "$DIR"
	as_pg() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "$@"; }
fi

stop() {
	as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1
	if [ "${PG_KEEP:-0}" = 1 ]; then
		echo "with-postgres: kept $DIR" >&2
	else
		rm -rf "$DIR"
	fi
}
trap stop EXIT
trap 'exit 130' INT TERM

(cd "$DIR" && as_pg "$PGBIN/initdb" -D "$DIR/data" -U opencapf --auth=trust -E UTF8 --no-sync) \
	>"$DIR/initdb.log" 2>&1 || { echo "with-postgres: initdb failed:" >&2; cat "$DIR/initdb.log" >&2; exit 1; }
(cd "$DIR" && as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
	-o "-k $DIR -h '' $([ "${PG_FSYNC:-0}" = 1 ] || echo -F) -c max_connections=300 -c shared_buffers=64MB ${PG_OPTS:-}" start) >/dev/null 2>&1 \
	|| { echo "with-postgres: the server did not start:" >&2; cat "$DIR/log" >&2; exit 1; }
"$PGBIN/createdb" -h "$DIR" -U opencapf opencapf || { echo "with-postgres: createdb failed" >&2; exit 1; }

export OPENCAPF_TEST_PG="postgresql:///opencapf?host=$DIR&user=opencapf"
export OPENCAPF_TEST_PGBIN="$PGBIN"
export OPENCAPF_TEST_PGDATA="$DIR/data"
"$@"
exit
}
