#!/usr/bin/env bash
# pcap.sh: `opencapf pcap` on captures made here: tcpdump records the
# loopback while emulated phones register (an LSC, a MIC, an LSC from another
# cluster refused with unknown CA, an old TLS 1.0 phone, a TLS 1.3 phone), and
# the analysis must find each handshake, each chain, the kind of each client
# certificate and the alert (phone-certificates.md §8, for every phone of a
# capture at once). Then captures cut short, corrupted, empty or absent: a
# clear error and no crash.
#
# Needs tcpdump and the right to capture on lo (root); without them the test
# says so and skips.
. "$(dirname "$0")/lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"

if ! command -v tcpdump >/dev/null; then
	echo "skipped: tcpdump is not installed (scripts/setup.sh --test installs it)"
	exit 77
fi
if ! timeout 5 tcpdump -i lo -c 1 -w /dev/null 'tcp port 9' >/dev/null 2>"$TEST_TMP/probe.err" &&
	grep -qi "permission\|not permitted\|socket" "$TEST_TMP/probe.err"; then
	echo "skipped: cannot capture on lo here: $(head -1 "$TEST_TMP/probe.err")"
	exit 77
fi

S="$TEST_TMP/state"
oc() { "$OPENCAPF" --state "$S" "$@"; }
oc init >/dev/null
oc capf cert >"$TEST_TMP/capf.pem"
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" --subject "CN=Cisco Manufacturing CA SHA2,O=Cisco" >/dev/null
oc trust add manufacturing "$TEST_TMP/mfg/mfg.crt" >/dev/null
oc trust add CallManager-trust "$TEST_TMP/mfg/mfg.crt" >/dev/null
REG_PORT=$(free_port)
start_daemon "$S" --register-listen "127.0.0.1:$REG_PORT" --tvs-listen off --http-listen off || exit 1
wait_port "$REG_PORT" || exit 1
REG="127.0.0.1:$REG_PORT"

new_phone() {
	"$PHONESIM" init "$TEST_TMP/$1" --name "$1" --mfg-ca "$TEST_TMP/mfg" >/dev/null &&
		"$PHONESIM" trust "$TEST_TMP/$1" "${2:-$TEST_TMP/capf.pem}" >/dev/null
}
L=SEP0000000B0001 M=SEP0000000B0002 X=SEP0000000B0003
new_phone $L; new_phone $M
oc phone add $L >/dev/null; oc phone op $L install >/dev/null
"$PHONESIM" capf "$TEST_TMP/$L" "127.0.0.1:$CAPF_PORT" >/dev/null
# X: an LSC from another cluster's CAPF
S2="$TEST_TMP/other"
"$OPENCAPF" --state "$S2" init >/dev/null
"$OPENCAPF" --state "$S2" capf cert >"$TEST_TMP/capf2.pem"
new_phone $X "$TEST_TMP/capf2.pem"
"$OPENCAPF" --state "$S2" phone add $X >/dev/null; "$OPENCAPF" --state "$S2" phone op $X install >/dev/null
saved=("$CAPF_PORT" "$DAEMON_PID" "$DAEMON_LOG")
start_daemon "$S2" --tvs-listen off --http-listen off || exit 1
"$PHONESIM" capf "$TEST_TMP/$X" "127.0.0.1:$CAPF_PORT" >/dev/null
stop_daemon
CAPF_PORT=${saved[0]} DAEMON_PID=${saved[1]} DAEMON_LOG=${saved[2]}
"$PHONESIM" trust "$TEST_TMP/$X" "$TEST_TMP/capf.pem" >/dev/null

# capture IFACE FILE: tcpdump on IFACE for the registrations below
# (--immediate-mode: packets reach the file as they come, not when a
# kernel buffer block fills, so stopping tcpdump loses none)
capture() {
	local iface=$1 file=$2
	timeout 60 tcpdump -i "$iface" --immediate-mode -U -n -s 0 -w - "tcp port $REG_PORT" >"$file" 2>"$file.err" &
	local tp=$!
	for _ in $(seq 1 50); do grep -q "listening on" "$file.err" 2>/dev/null && break; sleep 0.1; done
	sleep 0.5 # on a busy machine the socket can lag the "listening on" line
	"$PHONESIM" register "$TEST_TMP/$L" "$REG" --tls-max 1.2 >/dev/null
	"$PHONESIM" register "$TEST_TMP/$M" "$REG" --tls-max 1.2 >/dev/null
	"$PHONESIM" register "$TEST_TMP/$X" "$REG" --tls-max 1.2 >/dev/null
	"$PHONESIM" register "$TEST_TMP/$L" "$REG" --tls-max 1.0 >/dev/null
	"$PHONESIM" register "$TEST_TMP/$L" "$REG" --tls-max 1.3 >/dev/null
	# let the last packets through libpcap's buffer: wait until the file
	# has stopped growing for a second (at most 10 s)
	local size=-1 now
	for _ in $(seq 1 10); do
		sleep 1
		now=$(stat -c %s "$file")
		[ "$now" = "$size" ] && break
		size=$now
	done
	kill -INT "$tp" 2>/dev/null; wait "$tp" 2>/dev/null
	[ "$(stat -c %s "$file")" -gt 1000 ] && ok "tcpdump captured on $iface ($(stat -c %s "$file") bytes)" ||
		{ not_ok "nothing captured on $iface"; cat "$file.err"; }
}
# field JSONFILE PYTHON-EXPR: evaluate on the JSON report d (conns: its connections)
json_check() {
	if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); conns=d["connections"]; \
		by=lambda dev: [c for c in conns if c["client_chain"] and c["client_chain"][0].get("device")==dev]; \
		sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$3"; then ok "$2"; else
		not_ok "$2"; head -c 3000 "$1" | sed 's/^/    /'; fi
}

CAP="$TEST_TMP/lo.pcap"
capture lo "$CAP"
expect_exit 0 "opencapf pcap reads the capture" oc pcap "$CAP"
expect_output "5 TLS connections" "five TLS connections found"
expect_output "$L presented its LSC" "the phone with an LSC: LSC"
expect_output "$M presented its MIC" "the phone without one: MIC"
expect_output "$X presented its LSC" "the moved phone: its old LSC"
expect_output "issued by this state's CAPF certificate CAPF-[0-9a-f]{8} \(current\)" "LSC rule: this state's CAPF certificate"
expect_output "issued by Cisco Manufacturing CA SHA2, in the manufacturing trust store" "MIC rule: the manufacturing trust store"
expect_output "a CAPF certificate this state does not hold" "the moved phone's LSC: another cluster's CAPF"
expect_output "alert: server sent fatal \"unknown CA\"" "the server's unknown CA alert is in the capture"
expect_output "TLS 1\.0, cipher AES(256|128)-SHA" "the old phone: TLS 1.0 with AES-SHA"
expect_output "TLS 1\.3: the certificates are encrypted" "TLS 1.3 reported as such"
expect_output "client sent: ClientHello, Certificate, ClientKeyExchange, CertificateVerify" \
	"§8: the phone's Certificate, ClientKeyExchange"
expect_output "client certificates: 3 LSC, 1 MIC, 0 unknown" "summary counts"
oc pcap "$CAP" --json >"$TEST_TMP/cap.json"
json_check "$TEST_TMP/cap.json" "JSON: 5 connections, to the registration port" \
	"len(conns)==5 and all(c['server'].endswith(':$REG_PORT') for c in conns)"
json_check "$TEST_TMP/cap.json" "JSON: LSC by rule 1, MIC by rule 3, moved LSC by rule 2" \
	"by('$L')[0]['client_chain'][0]['rule']==1 and by('$M')[0]['client_chain'][0]['kind']=='MIC' and by('$M')[0]['client_chain'][0]['rule']==3 and by('$X')[0]['client_chain'][0]['rule']==2"
LSC_SERIAL=$(openssl x509 -in "$TEST_TMP/$L/lsc.crt" -noout -serial | sed 's/serial=//' | tr A-F a-f)
json_check "$TEST_TMP/cap.json" "JSON: the LSC's issuer is the CAPF CN (§8) and its serial the phone's LSC" \
	"by('$L')[0]['client_chain'][0]['issuer_cn'].startswith('CAPF-') and by('$L')[0]['client_chain'][0]['serial'].lstrip('0')=='$LSC_SERIAL'.lstrip('0')"
json_check "$TEST_TMP/cap.json" "JSON: server chain is the CAPF certificate; refused connection has the alert" \
	"all(c['server_chain'][0]['issuer_cn'].startswith('CAPF-') for c in conns if not c['tls13']) and by('$X')[0]['alerts'][0]['description']=='unknown CA'"
json_check "$TEST_TMP/cap.json" "JSON: one TLS 1.3 connection without visible chains" \
	"sum(c['tls13'] for c in conns)==1 and all(not c['client_chain'] for c in conns if c['tls13'])"
oc pcap "$CAP" --no-state >"$TEST_TMP/last.out"
expect_output "no state: classified by issuer names only" "--no-state: names only"
expect_output "issuer CN \"Cisco Manufacturing CA SHA2\" names a manufacturing CA" "--no-state: MIC by its CN"
expect_output "issuer CN CAPF-[0-9a-f]{8} starts with CAPF-" "--no-state: LSC by its CN"
oc pcap "$CAP" --port 1 >"$TEST_TMP/last.out"
expect_output "0 TLS connections" "--port: other ports are left out"
oc pcap "$CAP" --port "$REG_PORT" >"$TEST_TMP/last.out"
expect_output "5 TLS connections" "--port: the registration port"
expect_exit 2 "--port 0 is a usage error" oc pcap "$CAP" --port 0

# the same on the 'any' interface: Linux cooked capture (SLL2)
# tcpdump on 'any' can start capturing after its banner and our first sessions on a
# busy machine: a capture that missed a connection is taken again (at most 3 times).
for attempt in 1 2 3; do
	capture any "$TEST_TMP/any.pcap"
	oc pcap "$TEST_TMP/any.pcap" >"$TEST_TMP/last.out"
	grep -q "5 TLS connections" "$TEST_TMP/last.out" && break
	echo "# the cooked capture missed a connection (attempt $attempt): $(grep -o '[0-9]* TLS connections' "$TEST_TMP/last.out")"
done
expect_output "LINUX_SLL2?" "-i any gives a Linux cooked capture"
expect_output "client certificates: 3 LSC, 1 MIC, 0 unknown" "the same findings from the cooked capture"

# --- damaged files: a clear error, the exit status says so, never a crash
size=$(stat -c %s "$CAP")
head -c $((size * 2 / 3)) "$CAP" >"$TEST_TMP/cut.pcap"
expect_exit 1 "a capture cut short: exit 1" oc pcap "$TEST_TMP/cut.pcap"
expect_output "breaks off after [0-9]+ frames" "cut short: the error says where"
expect_output "TLS connections" "cut short: what came before is still reported"
: >"$TEST_TMP/empty.pcap"
expect_exit 1 "an empty file: exit 1" oc pcap "$TEST_TMP/empty.pcap"
expect_output "not a capture file" "empty: not a capture file"
head -c 4096 /dev/urandom >"$TEST_TMP/random.pcap"
expect_exit 1 "random bytes: exit 1" oc pcap "$TEST_TMP/random.pcap"
expect_exit 1 "a missing file: exit 1" oc pcap "$TEST_TMP/missing.pcap"
expect_output "cannot open" "missing: cannot open"
crashes=0
for i in $(seq 1 40); do
	cp "$CAP" "$TEST_TMP/bad.pcap"
	off=$(( (RANDOM * 32768 + RANDOM) % size ))
	printf "\\x$(printf %02x $((RANDOM % 256)))\\x$(printf %02x $((RANDOM % 256)))" |
		dd of="$TEST_TMP/bad.pcap" bs=1 seek="$off" conv=notrunc status=none
	oc pcap "$TEST_TMP/bad.pcap" >/dev/null 2>&1
	rc=$?
	[ "$rc" -ge 126 ] && { crashes=$((crashes + 1)); cp "$TEST_TMP/bad.pcap" "$TEST_TMP/crash-$i.pcap"; }
done
equal "40 corrupted captures: no crash" "$crashes" 0
stop_daemon

finish
