#!/usr/bin/env bash
# bench-provision.sh: provisioning at fleet size, measured. A fresh state with
# N phones (default 40000) and a template each (a 45-element
# SEP<MAC>.cnf.xml), then `opencapf provision` three times: everything
# written (merge + sign + atomic write), nothing changed, and after one
# bulk schedule touched every phone. Prints seconds and phones per second.
#   scripts/bench-provision.sh [N] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-40000}
B=${2:-build}
OC="$PWD/$B/src/cmd/opencapf/opencapf"
[ -x "$OC" ] || { echo "bench-provision: build first ($OC is missing)" >&2; exit 2; }
D=$(mktemp -d /tmp/opencapf-bench-provision.XXXXXX)
trap 'rm -rf "$D"' EXIT
S="$D/state"
"$OC" --state "$S" init --subject "O=Example,OU=Voice,C=NZ" >/dev/null
mkdir -p "$S/templates"
python3 - "$N" "$D/phones.csv" "$S/templates" <<'PY'
import sys
n, csv, tdir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
tpl = ('<?xml version="1.0" encoding="UTF-8"?>\n<device>\n  <fullConfig>true</fullConfig>\n'
       '  <deviceProtocol>SIP</deviceProtocol>\n  <loadInformation>sip88xx.14-2-1</loadInformation>\n'
       + ''.join('  <line%d><featureLabel>x%d</featureLabel></line%d>\n' % (k, k, k) for k in range(40))
       + '</device>\n')
with open(csv, 'w') as f:
    f.write('name,auth\n')
    for i in range(n):
        name = 'SEP%012X' % (0x100000 + i)
        f.write(name + ',null\n')
        open('%s/%s.cnf.xml' % (tdir, name), 'w').write(tpl)
PY
"$OC" --state "$S" phone import "$D/phones.csv" >/dev/null
run() { # run LABEL: one provision, timed
	local t0 t1
	t0=$(date +%s.%N)
	"$OC" --state "$S" provision >"$D/out"
	t1=$(date +%s.%N)
	awk -v l="$1" -v a="$t0" -v b="$t1" -v n="$N" -v o="$(tail -1 "$D/out")" \
		'BEGIN { printf "| %s | %.1f | %.0f | %s |\n", l, b - a, n / (b - a), o }'
}
echo "| $N phones | seconds | phones/s | result |"
echo "|---|---|---|---|"
run "first publish (merge, sign, write)"
run "again, nothing changed"
"$OC" --state "$S" phone op install --all >/dev/null
run "after a bulk install on every phone"
