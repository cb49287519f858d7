#!/usr/bin/env bash
# disk_full.sh: opencapfd with its state on a small filesystem that fills
# up in the middle of an enrollment load. As root: an 8 MiB tmpfs
# holds the state; 300 phones are scheduled and 10 enrol; a filler file
# takes all but a little of the disk; a load of 280 phones runs. Checks:
# sessions fail, and the daemon log says the disk (database) is full; PRAGMA
# integrity_check is ok; the daemon is alive and both the HTTP API and the
# CAPF listener still answer; every LSC a phone received is on record. Then
# the filler goes: the next enrollment (the 10 phones the full disk never
# saw) succeeds, and so do the phones that failed on the full disk (nothing
# of their failed sessions, such as a claim on their operation, is left
# behind). Skipped (77) without root (mount) or sqlite3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"

if ! command -v sqlite3 >/dev/null; then echo "skipped: sqlite3 is not installed"; exit 77; fi
M="$TEST_TMP/mnt"
mkdir -p "$M"
if ! mount -t tmpfs -o size=8M,mode=0700 opencapf-disk-full "$M" 2>"$TEST_TMP/mount.err"; then
	echo "skipped: cannot mount a tmpfs ($(cat "$TEST_TMP/mount.err"))"
	exit 77
fi
# The daemon goes first (it holds files there), then the mount, then lib.sh's cleanup.
disk_cleanup() {
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for _ in 1 2 3 4 5; do
		mountpoint -q "$M" || break
		umount "$M" 2>/dev/null || sleep 0.5
	done
	mountpoint -q "$M" && umount -l "$M"
	cleanup
}
trap disk_cleanup EXIT

S="$M/state"
DB="$S/opencapf.db"
N=300
FIRST=SEP00000000C000
"$OPENCAPF" --state "$S" init --key ec:p256 >/dev/null
"$OPENCAPF" --state "$S" capf cert >"$TEST_TMP/capf.pem"
{ echo "name,key_order,ec_bits,operation"
  seq $((0xC000)) $((0xC000 + N - 1)) | awk '{ printf "SEP%012X,ec,256,install\n", $1 }'
} >"$TEST_TMP/phones.csv"
check "$N phones scheduled for an install" "$OPENCAPF" --state "$S" phone import "$TEST_TMP/phones.csv"
start_api_daemon "$S" || exit 1
RECEIVED="$TEST_TMP/received"
: >"$RECEIVED"
load() { # load FIRST COUNT [OPTIONS...]
	local first=$1 count=$2
	shift 2
	timeout -k 5 150 "$PHONESIM" load --capf "127.0.0.1:$CAPF_PORT" --trust "$TEST_TMP/capf.pem" --first "$first" \
		--count "$count" --concurrency 50 --received "$RECEIVED" --timeout 30 --max-seconds 120 "$@"
}
pending() { sqlite3 -cmd ".timeout 10000" "$DB" "SELECT count(*) FROM phones WHERE operation != 'none'"; }
integrity() { sqlite3 -cmd ".timeout 10000" "$DB" "PRAGMA integrity_check" 2>&1 | head -5 | tr '\n' ' ' | sed 's/ $//'; }
health() { curl -s -m 10 -o "$TEST_TMP/health.json" -w '%{http_code}' "$BASE/api/v1/health"; }

# --- room to spare: 10 phones enrol
expect_exit 0 "10 phones enrol while the disk has room" load $FIRST 10

# --- the disk all but full: a filler takes everything but 96 KiB
avail=$(df --output=avail -k "$M" | tail -1)
dd if=/dev/zero of="$M/filler" bs=1k count=$((avail - 96)) status=none 2>/dev/null
echo "# tmpfs: $(df -h --output=size,used,avail "$M" | tail -1), state $(du -sk "$S" | cut -f1) KiB"
expect_exit 2 "a load of 280 phones fails once the disk is full" load SEP00000000C00A 280
sed -n '/^failed:/,/^seconds:/p' "$TEST_TMP/last.out" | sed 's/^/    /'
LEFT=$(pending)
[ "$LEFT" -gt 0 ] && ok "$LEFT phones are still pending" || not_ok "no phone is pending after the failed load"
grep -Ei "database or disk is full|disk is full|no space left|SQLITE_FULL" "$DAEMON_LOG" >"$TEST_TMP/full.log"
if [ -s "$TEST_TMP/full.log" ]; then
	ok "the daemon log names the full disk ($(grep -c . "$TEST_TMP/full.log") lines)"
	head -2 "$TEST_TMP/full.log" | sed 's/^/    /'
else
	not_ok "the daemon log names the full disk"
	tail -5 "$DAEMON_LOG" | sed 's/^/    /'
fi
kill -0 "$DAEMON_PID" 2>/dev/null && ok "the daemon is alive with the disk full" || not_ok "the daemon died on a full disk"
equal "integrity_check with the disk full" "$(integrity)" ok
code=$(health)
equal "health says the disk is full (HTTP 503)" "$code" 503
grep -q '"disk": *"full"' "$TEST_TMP/health.json" && ok "... with \"disk\": \"full\"" ||
	not_ok "health: $(cat "$TEST_TMP/health.json")"
# A device nobody registered: a whole CAPF session, the server's answer at its end.
"$PHONESIM" load --capf "127.0.0.1:$CAPF_PORT" --trust "$TEST_TMP/capf.pem" --first SEP0000000FFF00 --count 1 \
	--op any --timeout 30 --max-seconds 60 >"$TEST_TMP/last.out" 2>&1
expect_no_output "connection refused|TLS handshake|timeout|closed early|not finished" \
	"the CAPF listener answers a whole session with the disk full"
sqlite3 -cmd ".timeout 10000" "$DB" "SELECT sha256 FROM issued_certs" >"$TEST_TMP/issued"
equal "every LSC a phone received is on record" \
	"$(awk 'NR == FNR { have[$1] = 1; next } !($2 in have)' "$TEST_TMP/issued" "$RECEIVED" | wc -l)" 0

# --- room again: the next enrollment succeeds, then the phones that failed
rm -f "$M/filler"
expect_exit 0 "with the filler gone the next enrollment succeeds (10 phones the full disk never saw)" \
	load SEP00000000C122 10
sqlite3 -cmd ".timeout 10000" "$DB" "SELECT name FROM phones WHERE operation != 'none' ORDER BY name" \
	>"$TEST_TMP/pending"
first=$(head -1 "$TEST_TMP/pending")
last=$(tail -1 "$TEST_TMP/pending")
if [ -n "$first" ]; then
	expect_exit 0 "the $(grep -c . "$TEST_TMP/pending") phones that failed on the full disk enrol now" \
		load "$first" $((16#${last#SEP} - 16#${first#SEP} + 1)) --op any
fi
equal "no phone is pending" "$(pending)" 0
equal "every phone has a current LSC" "$(sqlite3 -cmd ".timeout 10000" "$DB" \
	"SELECT count(*) FROM phone_certs WHERE kind = 'lsc' AND phone BETWEEN '$FIRST' AND 'SEP00000000C12B'")" $N
sqlite3 -cmd ".timeout 10000" "$DB" "SELECT sha256 FROM issued_certs" >"$TEST_TMP/issued"
equal "every LSC a phone received is on record, in the end" \
	"$(awk 'NR == FNR { have[$1] = 1; next } !($2 in have)' "$TEST_TMP/issued" "$RECEIVED" | wc -l)" 0
equal "the API's health after the disk has room again" "$(health)" 200
equal "integrity_check at the end" "$(integrity)" ok
stop_daemon
finish
