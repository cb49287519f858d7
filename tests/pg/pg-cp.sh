#!/usr/bin/env bash
# pg-cp.sh: cp, and when what it copies is a PostgreSQL state (SRC/store.uri,
# `cp -a SRC DST`), the copy gets a database of its own: a clone of SRC's
# (CREATE DATABASE ... TEMPLATE; no program may use SRC's meanwhile), named
# in DST/store.uri. Used by e2e-pg.sh for tests that copy a state.
set -uo pipefail
/bin/cp "$@" || exit
[ $# -ge 2 ] || exit 0
src=${*: -2:1} dst=${*: -1}
[ -f "$src/store.uri" ] && [ -f "$dst/store.uri" ] || exit 0
uri=$(head -n 1 "$src/store.uri")
old=${uri#postgresql:///}; old=${old%%\?*}
new=oc_$(date +%s%N)_$$
host=${OPENCAPF_TEST_PG#*host=}; host=${host%%&*}
psql -X -q "$OPENCAPF_TEST_PG" -c "CREATE DATABASE $new TEMPLATE $old" >/dev/null || exit 1
printf '%s\n' "${uri/\/\/\/$old\?/\/\/\/$new?}" >"$dst/store.uri"
