#!/usr/bin/env bash
# bench-files.sh: files per second of opencapfd's file service, loopback
# only: TFTP with blksize 1428 and with plain 512-byte blocks, HTTP with
# keep-alive and with a new connection per file (as phones fetch), each for
# SECONDS with CLIENTS clients of tests/bench/files_bench.c, over a signed
# configuration of about 5 KB (what a phone fetches at boot, beside the ITL).
# The daemon logs every request (info), as in production.
#
#   bash scripts/bench-files.sh [SECONDS] [CLIENTS]    (default 10 s, 32 clients)
#
# Writes the table between the files-bench markers of docs/benchmark.md
# (BENCH_DOC=- for standard output only). Build folder: BENCH_BUILD
# (default build-bench, configured as a release build if missing).
set -eo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n '2,/^set -eo/{/^set -eo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;; esac
secs=${1:-10}
clients=${2:-32}
case "$secs" in ''|*[!0-9]*|0) echo "bench-files.sh: SECONDS must be a positive whole number, not '$secs'" >&2; exit 2 ;; esac
[[ "$clients" =~ ^[0-9]+$ ]] && [ "$clients" -ge 1 ] && [ "$clients" -le 1024 ] ||
	{ echo "bench-files.sh: CLIENTS must be 1..1024, not '$clients'" >&2; exit 2; }
build=${BENCH_BUILD:-build-bench}
doc=${BENCH_DOC:-docs/benchmark.md}
[ -d "$build" ] || meson setup "$build" --buildtype=release >/dev/null
meson compile -C "$build" opencapf opencapfd files-bench >/dev/null

tmp=$(mktemp -d /tmp/bench-files.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
state=$tmp/state
"$build/src/cmd/opencapf/opencapf" --state "$state" init --subject "O=Bench,C=NZ" >/dev/null
cnf=$state/tftp/SEP001122334455.cnf.xml
{ echo '<device>'; for i in $(seq 1 120); do echo "  <setting$i>value $i of the phone</setting$i>"; done
  echo '</device>'; } >"$cnf"
"$build/src/cmd/opencapf/opencapf" --state "$state" sign "$cnf" >/dev/null
size=$(stat -c %s "$cnf.sgn")

. scripts/port_lib.sh
tport=$(free_port); hport=$(free_port)
"$build/src/cmd/opencapfd/opencapfd" --state "$state" --capf-listen off --tvs-listen off --http-listen off \
	--tftp-listen "127.0.0.1:$tport" --http-files-listen "127.0.0.1:$hport" >"$tmp/daemon.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do grep -q "HTTP files listening" "$tmp/daemon.log" && break; sleep 0.1; done
grep -q "HTTP files listening" "$tmp/daemon.log" || { echo "opencapfd did not start:"; cat "$tmp/daemon.log"; exit 1; }

bench() { "$build/tests/bench/files-bench" "$@"; }
row() { # WHAT RESULT-LINE
	[ -n "$2" ] || { printf '| %s | failed | | | |\n' "$1"; return; }
	set -- "$1" $2
	printf '| %s | %s | %s | %s | %s |\n' "$1" "$5" "$7" "$3" "$9"
}
table=$(
	echo "| transfer | files/s | MiB/s | files | errors |"
	echo "|---|---|---|---|---|"
	row "TFTP, blksize 1428" "$(bench tftp "$tport" SEP001122334455.cnf.xml.sgn "$clients" "$secs" 1428)"
	row "TFTP, 512-byte blocks" "$(bench tftp "$tport" SEP001122334455.cnf.xml.sgn "$clients" "$secs")"
	row "HTTP, keep-alive" "$(bench http "$hport" SEP001122334455.cnf.xml.sgn "$clients" "$secs")"
	row "HTTP, a connection per file" "$(bench httpc "$hport" SEP001122334455.cnf.xml.sgn "$clients" "$secs")"
)
btype=$(meson introspect "$build" --buildoptions |
	python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))')
text="File service (\`scripts/bench-files.sh\`, $(date -u +%Y-%m-%d), $btype build, $(nproc) cores shared with
the clients (load average $(cut -d" " -f1 /proc/loadavg) at the end), $clients clients, ${secs} s each, a signed
configuration of $size bytes, every request logged; a shared machine makes these lower bounds):

$table"
echo "$text"
[ "$doc" = - ] && exit 0
if grep -q "| failed |" <<<"$table"; then
	echo "a transfer failed: $doc left as it was; the daemon's last log lines:" >&2
	tail -n 20 "$tmp/daemon.log" >&2
	exit 1
fi
begin='<!-- files-bench:begin -->' end='<!-- files-bench:end -->'
if ! grep -q "$begin" "$doc"; then
	printf '\n## File service\n\n%s\n%s\n' "$begin" "$end" >>"$doc"
fi
python3 - "$doc" "$begin" "$end" "$text" <<'EOF'
import sys
doc, begin, end, text = sys.argv[1:]
s = open(doc).read()
a, b = s.index(begin) + len(begin), s.index(end)
open(doc, 'w').write(s[:a] + '\n' + text + '\n' + s[b:])
EOF
echo "written to $doc"
