#!/usr/bin/env bash
# pg-opencapf.sh: opencapf, with `init` given a new PostgreSQL database on
# the test server (see e2e-pg.sh). Every other command runs as it is.
set -uo pipefail
args=("$@")
for i in "${!args[@]}"; do
	case ${args[$i]} in
	--state|--store) ;;
	init)
		db=oc_$(date +%s%N)_$$_$RANDOM
		host=${OPENCAPF_TEST_PG#*host=}; host=${host%%&*}
		createdb -h "$host" -U opencapf "$db" || exit 1
		uri="postgresql:///$db?host=$host&user=opencapf"
		exec "$OPENCAPF_REAL" "${args[@]:0:$((i + 1))}" --store "$uri" "${args[@]:$((i + 1))}"
		;;
	-*) ;;
	*) [ "$i" -gt 0 ] && [ "${args[$((i - 1))]}" = --state ] || break ;;
	esac
done
exec "$OPENCAPF_REAL" "$@"
