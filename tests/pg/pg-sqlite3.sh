#!/usr/bin/env bash
# pg-sqlite3.sh: `sqlite3 [OPTIONS] STATE/opencapf.db SQL` for a state whose
# database is in PostgreSQL (STATE/store.uri). A query that only reads runs
# in the real sqlite3 on an SQLite copy of the state's rows made for it
# (pg-export.py), so it means exactly what it means on SQLite; one that
# writes goes to PostgreSQL through psql (printed as sqlite3 prints: rows of
# '|'-separated values, -separator S honoured; group_concat and strftime
# rewritten by pg-dialect.py). Anything else goes to the real sqlite3.
set -uo pipefail
HERE=$(dirname "$(readlink -f "$0")")
sep='|' opts=() db= sql=()
while [ $# -gt 0 ]; do
	case $1 in
	-separator|-cmd) [ "$1" = -separator ] && sep=$2; opts+=("$1" "$2"); shift 2 ;;
	-*) opts+=("$1"); shift ;;
	*) if [ -z "$db" ]; then db=$1; else sql+=("$1"); fi; shift ;;
	esac
done
uri_file=$(dirname "$db")/store.uri
if [ "$(basename "$db")" != opencapf.db ] || [ ! -f "$uri_file" ]; then
	exec "$OPENCAPF_REAL_SQLITE3" "${opts[@]}" "$db" "${sql[@]}"
fi
uri=$(head -n 1 "$uri_file")
text=${sql[*]:-$(cat)}
if ! grep -qiE '\b(insert|update|delete|drop|create|alter|replace|pragma[^;]*=)\b' <<<"$text"; then
	snap=$(mktemp /tmp/opencapf-pgsnap.XXXXXX)
	trap 'rm -f "$snap"' EXIT
	python3 "$HERE/pg-export.py" "$uri" "$OPENCAPF_SQLITE_TEMPLATE" "$snap" || exit 1
	"$OPENCAPF_REAL_SQLITE3" "${opts[@]}" "$snap" "$text"
	exit
fi
text=$(printf '%s' "$text" | python3 "$HERE/pg-dialect.py")
exec psql -X -q -A -t -F "$sep" -v ON_ERROR_STOP=1 "$uri" -c "$text"
