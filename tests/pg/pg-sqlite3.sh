#!/usr/bin/env bash
# pg-sqlite3.sh: `sqlite3 [OPTIONS] STATE/opencapf.db SQL` answered from the
# state's PostgreSQL database (STATE/store.uri) by psql, printed as sqlite3
# prints (rows of '|'-separated values, -separator S honoured); anything
# else goes to the real sqlite3. Rewrites what the tests write in SQLite's
# dialect: group_concat(x) and group_concat(x, sep).
set -uo pipefail
sep='|' opts=() db= sql=()
while [ $# -gt 0 ]; do
	case $1 in
	-separator) sep=$2; opts+=("$1" "$2"); shift 2 ;;
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
text=$(printf '%s' "$text" | python3 "$(dirname "$(readlink -f "$0")")/pg-dialect.py")
exec psql -X -q -A -t -F "$sep" -v ON_ERROR_STOP=1 "$uri" -c "$text"
