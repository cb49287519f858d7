#!/usr/bin/env bash
# papercuts.sh: what a first-time administrator tripped over, each checked
# the way they met it: an option without its value named by its name, an
# authentication string refused where it would go unused, device names typed
# as MAC addresses or in lower case made canonical, diagnose's advice for an
# unknown phone that works when followed, one daemon per state directory,
# the man pages covering every command.
. "$(dirname "$0")/lib.sh"

S="$TEST_TMP/state"
oc() { "$OPENCAPF" --state "$S" "$@"; }
q() { sqlite3 "$S/opencapf.db" "$1"; }
oc init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" >/dev/null || exit 1

# --- an option without its value is named, never shown as a control character
for args in "phone list --model" "phone list --status" "phone add SEP001122334455 --model" "audit --actor" \
	"report --format" "phone op install --by" "phone export --out"; do
	# shellcheck disable=SC2086
	oc $args >"$TEST_TMP/out" 2>&1
	opt=${args##* }
	if grep -q -- "$opt needs a value" "$TEST_TMP/out" && ! LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' <"$TEST_TMP/out"); then
		ok "'opencapf $args' names $opt"
	else
		not_ok "'opencapf $args' names $opt: $(head -1 "$TEST_TMP/out" | cat -v)"
	fi
done
expect_exit 2 "an unknown option" oc phone list --modle 7962
expect_output "unknown option '--modle'" "the unknown option is named as typed"

# --- an authentication string only where it is used
expect_exit 2 "phone add --auth-string without --auth string is refused" oc phone add SEP001122334455 --auth-string 123456
expect_output 'used only with auth "string"' "and says why"
equal "nothing stored" "$(q "SELECT count(*) FROM phones")" 0
expect_exit 0 "with --auth string it is taken" oc phone add SEP001122334455 --auth string --auth-string 123456
oc phone add SEP001122334456 >/dev/null
expect_exit 1 "phone set --auth-string on a null-mode phone is refused" oc phone set SEP001122334456 --auth-string 123456
equal "the phone keeps no string" "$(q "SELECT auth_string FROM phones WHERE name='SEP001122334456'")" ""
oc phone import - >"$TEST_TMP/last.out" 2>&1 <<'CSV'
name,auth,auth_string
SEP0011223344AA,lsc-first,123456
CSV
expect_output 'used only with auth "string"' "phone import refuses it too"

# --- phone import: a bad name hides none of its line's other problems; a past deadline is warned about
printf 'name,auth,rsa_bits\nSEPXYZ,bogus,1000\n' >"$TEST_TMP/bad.csv"
expect_exit 1 "an import with a bad name fails" oc phone import "$TEST_TMP/bad.csv"
expect_output "bad.csv:2: 'SEPXYZ' is not a device name.*auth 'bogus'.*rsa_bits '1000'" \
	"the line's other problems are reported with the bad name"
printf 'name,operation,deadline\nSEP0011223344C1,install,2020-01-01 00:00\n' >"$TEST_TMP/late.csv"
expect_exit 0 "an import with a past deadline is taken" oc phone import "$TEST_TMP/late.csv"
expect_output "warning: .*late.csv:2: SEP0011223344C1: the deadline is already past" "and warned about, as phone add does"
printf 'name\n00:11:22:33:44:c2\n' >"$TEST_TMP/mac.csv"
expect_exit 0 "an import by MAC address" oc phone import "$TEST_TMP/mac.csv"
equal "stored under the canonical name" "$(q "SELECT count(*) FROM phones WHERE name='SEP0011223344C2'")" 1

# --- device names as people type them
for typed in sep0011223344b1 SEP00-11-22-33-44-B2 00:11:22:33:44:b3 0011.2233.44b4; do
	oc phone add "$typed" >"$TEST_TMP/last.out" 2>&1
	expect_output "phone SEP0011223344B[1-4] added" "phone add $typed: stored under the canonical name"
done
equal "four canonical names" "$(q "SELECT count(*) FROM phones WHERE name GLOB 'SEP0011223344B[1-4]'")" 4
expect_exit 0 "phone show by MAC address" oc phone show 00-11-22-33-44-b1
expect_output "SEP0011223344B1" "shows the phone"
expect_exit 0 "phone op by lower-case name" oc phone op sep0011223344b2 install
expect_exit 0 "phone list by MAC address selects the phone" oc phone list 00:11:22:33:44:B3 --json
expect_output '"SEP0011223344B3"' "the listed phone"
expect_exit 2 "mixed separators are no name" oc phone add 00:11-22:33:44:55
expect_exit 2 "13 digits are no name" oc phone add 0011223344556

# --- soft clients' device names, by rule
for n in CSFJSMITH BOTJSMITH TCTJSMITH TABJSMITH CSF0123456789AB; do
	expect_exit 0 "a soft client's name: $n" oc phone add "$n"
done
for n in CSF BOTjsmith CSFJSMITH.X CSF0123456789ABC XYZJSMITH SEPJSMITH; do
	expect_exit 2 "not a device name: $n" oc phone add "$n"
	expect_output "CSF, BOT, TCT or TAB" "the refusal says what a name may be"
done

# --- diagnose's advice for an unknown phone works when followed in order
oc diagnose SEP00112233FFFF >"$TEST_TMP/last.out" 2>&1; cp "$TEST_TMP/last.out" "$TEST_TMP/diag"
expect_output "fix: opencapf phone add SEP00112233FFFF" "diagnose: add the unknown phone first"
expect_output "once the phone is added" "the troubleshoot advice waits for the add"
fixes=$(grep -o 'opencapf phone [a-z]* SEP00112233FFFF[a-z ]*' "$TEST_TMP/diag")
ran=0
while read -r cmd; do
	# shellcheck disable=SC2086
	oc ${cmd#opencapf } >/dev/null 2>&1 && ran=$((ran + 1))
done <<<"$fixes"
equal "every suggested command succeeds in order" "$ran" "$(wc -l <<<"$fixes")"

# --- the man pages cover every command, and what they point to exists
: "${MANDIR:?MANDIR must name the man page folder}"
missing=
for c in $("$OPENCAPF" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }'); do
	grep -q "^\.B $c\b" "$MANDIR/opencapf.1" || missing="$missing $c"
done
equal "opencapf(1) describes every command of 'opencapf --help'" "${missing:-none}" none
if [ -n "${PHONESIM:-}" ]; then
	missing=
	for c in $("$PHONESIM" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }'); do
		grep -q "^\.SS $c\b" "$MANDIR/phonesim.1" || missing="$missing $c"
	done
	equal "phonesim(1) describes every command of 'phonesim --help'" "${missing:-none}" none
fi
for doc in $(grep -ho 'docs/[A-Za-z0-9_/.-]*\.md' "$MANDIR"/*.[0-9] | sort -u); do
	[ -f "$MANDIR/../$doc" ] && ok "man pages point to $doc, which is in the sources" || not_ok "man pages point to $doc, which is missing"
done
expect_exit 0 "phone set --help" oc phone set --help
expect_no_output "default" "phone set --help shows no defaults (options not given keep their value)"
expect_exit 0 "phone add --help" oc phone add --help
expect_output "default null" "phone add --help shows the defaults"

# --- a certificate's fingerprint is written one way everywhere: lower-case hex, no colons
capf_fp=$(openssl x509 -in "$S/certs/capf.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
for cmd in "capf show" "trust show CAPF-trust" "tvs list"; do
	# shellcheck disable=SC2086
	expect_exit 0 "$cmd" oc $cmd
	expect_output "$capf_fp" "$cmd prints the CAPF certificate's SHA-256 as $capf_fp"
	expect_no_output "([0-9A-Fa-f]{2}:){8}" "$cmd prints no colon-separated fingerprint"
done

# --- one daemon per state directory
start_daemon "$S" || exit 1
first=$DAEMON_PID
port2=$(free_port)
expect_exit 1 "a second opencapfd on the same state refuses to start" \
	timeout 20 "$OPENCAPFD" --state "$S" --capf-listen "127.0.0.1:$port2" --tvs-listen off --http-listen off
expect_output "another opencapfd \(pid $first\) already serves the state" "and names the one that holds it"
equal "the first daemon still runs" "$(kill -0 "$first" 2>/dev/null && echo yes)" yes
stop_daemon
start_daemon "$S" || exit 1
ok "after the first stopped, the state can be served again"
kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
start_daemon "$S" || exit 1
ok "a killed daemon's lock goes with it"
stop_daemon

finish
