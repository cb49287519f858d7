#!/usr/bin/env bash
# phone_fleet.sh: managing phones at fleet scale against real state folders:
# CSV import (all or nothing, every bad line reported by number) and export
# (round trip, secrets only on request), selectors on `phone list`, `phone op`
# by selector with --dry-run, selection by LSC status and by the CAPF that
# issued the LSC (real LSCs from a real daemon and phonesim, from two
# clusters), generated authentication strings, the CAPF report in its three
# formats, the audit log and its filters (and no secret in it), and 20,000
# phones imported in one transaction.
. "$(dirname "$0")/lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"

S="$TEST_TMP/state"
T="$TEST_TMP"
oc() { "$OPENCAPF" --state "$S" "$@"; }
q() { sqlite3 "$S/opencapf.db" "$1"; }
phones() { q "SELECT count(*) FROM phones"; }
audits() { q "SELECT count(*) FROM audit_log"; }
# names PHONE-LIST-ARGS...: the names `phone list --json` selects, comma-joined.
names() { oc phone list --json "$@" | jq -r '[.[].name] | join(",")'; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
# snapshot: every phone's operation, settings and secret, to compare before/after.
snapshot() { q "SELECT group_concat(name||operation||deadline||status||auth_mode||auth_string||model, ';') FROM phones"; }

oc init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" >/dev/null || exit 1

# --- help and usage errors
for c in "phone import" "phone export" "phone auth-strings generate" "phone list" "phone op" report audit; do
	# shellcheck disable=SC2086
	expect_exit 0 "opencapf $c --help" "$OPENCAPF" $c --help
	expect_output "usage: opencapf" "$c --help prints usage"
done
"$OPENCAPF" phone list --help >"$T/last.out"
expect_output "--lsc-issuer" "phone list --help lists the selectors"
"$OPENCAPF" report --help >"$T/last.out"
expect_output "--lsc-status" "report --help lists the same selectors"
expect_exit 2 "phone op without phones or selectors is a usage error" oc phone op install
expect_output "--all" "the refusal mentions --all"
expect_exit 2 "bad --lsc-status" oc phone list --lsc-status broken
expect_exit 2 "bad --format" oc report --format xml
expect_exit 2 "bad --since" oc audit --since yesterday
expect_exit 2 "bad name in a selector" oc phone list --names SEP1,SEP2
expect_exit 2 "auth-strings generate needs a selection" oc phone auth-strings generate
expect_exit 2 "import needs a file" oc phone import
expect_exit 1 "import of a missing file" oc phone import "$T/nope.csv"

# --- import: a good file
cat >"$T/good.csv" <<'EOF'
name,model,description,auth,auth_string,key_order,rsa_bits,ec_bits,operation,deadline
SEP000000000101,7962,"Reception, ground ""A""",null,,rsa,1024,,,
SEP000000000102,7962,,null,,,1024,,,
SEP000000000103,7962,Desk 3,mic-first,,rsa,1024,,,
SEP000000000104,8845,,string,90817263,ec,,384,install,2031-05-06 07:08
SEP000000000105,8845,,lsc-first,,ec-rsa,,,troubleshoot,
SEP000000000106,7975,Lobby,null,,,,,,
EOF
expect_exit 0 "import a good file" oc phone import "$T/good.csv"
expect_output "6 added, 0 updated, 0 unchanged" "import says what it did"
equal "six phones" "$(phones)" 6
oc phone show SEP000000000101 --json >"$T/p.json"
equal "quoted description with comma and quotes" "$(jq -r .description "$T/p.json")" 'Reception, ground "A"'
equal "empty cells take the defaults (ec_bits)" "$(jq -r .ec_bits "$T/p.json")" 256
equal "rsa_bits from the file" "$(jq -r .rsa_bits "$T/p.json")" 1024
oc phone show SEP000000000104 --json >"$T/p.json"
equal "auth string mode" "$(jq -r .auth "$T/p.json")" string
equal "auth string stored" "$(q "SELECT auth_string FROM phones WHERE name='SEP000000000104'")" 90817263
equal "operation from the file" "$(jq -r .operation "$T/p.json")" install
equal "deadline from the file" "$(jq -r .deadline "$T/p.json")" "2031-05-06 07:08:00 UTC"
equal "an imported operation is Pending" "$(jq -r .status "$T/p.json")" Pending
d=$(q "SELECT deadline - strftime('%s','now') FROM phones WHERE name='SEP000000000105'")
[ "$d" -gt 86000 ] && [ "$d" -le 86400 ] && ok "operation without deadline: within a day" || not_ok "deadline in $d s"
equal "one audit entry per imported phone" "$(q "SELECT count(*) FROM audit_log WHERE action='phone.import'")" 6
equal "and one summary entry" "$(q "SELECT count(*) FROM audit_log WHERE action='phone.import.done'")" 1
q "SELECT detail FROM audit_log WHERE action='phone.import' AND object='SEP000000000104'" >"$T/last.out"
expect_output '"source":"[^"]*good.csv:5"' "the audit entry names file and line"
expect_no_output 90817263 "the audit entry holds no authentication string"

# --- import: a file with several bad lines changes nothing
cat >"$T/bad.csv" <<'EOF'
name,model,auth,auth_string,rsa_bits,operation,deadline
SEP000000000201,7962,null,,,,
SEP00000000020,7962,null,,,,
SEP000000000203,7962,string,,,,
SEP000000000204,7962,null,,2000,,
SEP000000000201,7962,null,,,,
SEP000000000101,7962,null,,,,
SEP000000000207,7962,nope,,,later,soon
SEP000000000208,79"62,null,,,,
SEP000000000209,7962,string,12x4,,,
SEP000000000210,7962,null,,,,,,,
SEP000000000211,7962,null,,,,
EOF
before=$(snapshot); a_before=$(audits)
expect_exit 1 "a file with bad lines is refused" oc phone import "$T/bad.csv"
for l in 3 4 5 6 7 8 9 10 11; do expect_output "bad.csv:$l: " "bad line $l reported by number"; done
expect_no_output "bad.csv:(2|12):" "good lines are not reported"
expect_output "not a device name" "bad name explained"
expect_output "needs an auth_string" "missing auth string explained"
expect_output "rsa_bits '2000'" "bad key size explained"
expect_output "also on line 2" "duplicate explained with the first line"
expect_output "already exists \(use --update" "existing phone explained"
expect_output "operation 'later'.*deadline 'soon'" "every problem of a line in one message"
expect_output "quote inside an unquoted field" "stray quote explained"
expect_output "9 bad lines: nothing imported" "summary: nothing imported"
expect_no_output "12x4" "a bad authentication string is not echoed"
equal "no phone imported from the bad file" "$(snapshot)" "$before"
equal "no audit entry from the bad file" "$(audits)" "$a_before"
printf 'nam,model\nSEP000000000301,7962\n' >"$T/badhead.csv"
expect_exit 1 "a header without 'name' is refused" oc phone import "$T/badhead.csv"
expect_output "badhead.csv:1: unknown column 'nam'" "header error at line 1"
: >"$T/empty.csv"
expect_exit 1 "an empty file is refused" oc phone import "$T/empty.csv"
printf 'name,model\nSEP000000000301,7962\nSEP000000000302,"7962\n' >"$T/unterminated.csv"
expect_exit 1 "an unterminated quote is refused" oc phone import "$T/unterminated.csv"
expect_output "unterminated.csv:3: a quoted field opened on this line is never closed" "unterminated quote located"
equal "still nothing imported" "$(snapshot)" "$before"

# --- --update and --dry-run
printf 'name,model,description\nSEP000000000101,7965,\nSEP000000000301,7962,new\n' >"$T/upd.csv"
expect_exit 1 "existing phones need --update" oc phone import "$T/upd.csv"
expect_exit 0 "import --update --dry-run" oc phone import "$T/upd.csv" --update --dry-run
expect_output "would add 1, update 1, leave 0 unchanged" "dry run counts"
equal "dry run changed nothing" "$(snapshot)" "$before"
expect_exit 0 "import --update" oc phone import "$T/upd.csv" --update
expect_output "1 added, 1 updated" "update counts"
equal "model updated" "$(q "SELECT model FROM phones WHERE name='SEP000000000101'")" 7965
equal "empty cell keeps the description of an updated phone" \
	"$(q "SELECT description FROM phones WHERE name='SEP000000000101'")" 'Reception, ground "A"'
cat "$T/good.csv" | oc phone import - --update >"$T/last.out" 2>&1
expect_output "1 updated, 5 unchanged" "import from standard input; unchanged phones are left alone"

# --- export and the round trip
oc phone export --out "$T/plain.csv" >"$T/last.out" 2>/dev/null
equal "export --out: exit 0, nothing on standard output" "$?:$(cat "$T/last.out")" "0:"
grep -q 90817263 "$T/plain.csv" && not_ok "export leaked an authentication string" || ok "export leaves auth strings out"
equal "plain export: header + 7 rows" "$(wc -l <"$T/plain.csv")" 8
a_before=$(audits)
expect_exit 0 "export with authentication strings" oc phone export --with-auth-strings --out "$T/full.csv"
equal "secret export is mode 0600" "$(stat -c %a "$T/full.csv")" 600
grep -q '^SEP000000000104,.*,90817263,' "$T/full.csv" && ok "auth string exported on request" || not_ok "no auth string"
equal "the secret export is audited" "$(q "SELECT count(*) FROM audit_log WHERE action='phone.export'")" 1
S2="$T/state2"
"$OPENCAPF" --state "$S2" init >/dev/null
expect_exit 0 "import the export into a new state" "$OPENCAPF" --state "$S2" phone import "$T/full.csv"
"$OPENCAPF" --state "$S2" phone export --with-auth-strings >"$T/again.csv"
if cmp -s "$T/full.csv" "$T/again.csv"; then ok "export -> import -> export is identical"; else
	not_ok "round trip differs"; diff "$T/full.csv" "$T/again.csv" | head -5; fi
oc phone export --model 7962 >"$T/last.out"
equal "export takes selectors" "$(grep -c '^SEP' "$T/last.out")" 4

# --- selectors on phone list
equal "list --model" "$(names --model 8845)" "SEP000000000104,SEP000000000105"
equal "list --name pattern" "$(names --name 'SEP00000000010[1-3]')" \
	"SEP000000000101,SEP000000000102,SEP000000000103"
equal "list --names" "$(names --names SEP000000000106,SEP000000000101)" "SEP000000000101,SEP000000000106"
equal "list positional names" "$(names SEP000000000102 SEP000000000301)" "SEP000000000102,SEP000000000301"
equal "list --auth" "$(names --auth string)" "SEP000000000104"
equal "list --operation" "$(names --operation troubleshoot)" "SEP000000000105"
equal "list --status" "$(names --status pending)" "SEP000000000104,SEP000000000105"
equal "list --status none" "$(names --status none --model 7962)" \
	"SEP000000000101,SEP000000000102,SEP000000000103,SEP000000000301"
equal "selectors combine" "$(names --model 8845 --operation install --auth string)" "SEP000000000104"
equal "no match: empty list" "$(names --model 9999)" ""
oc phone list --model 7962 >"$T/last.out"
expect_output "^NAME +MODEL +AUTH +OPERATION +STATUS +LSC" "table heading"
expect_output "^4 phones$" "table count"

# --- op by selector, dry run, explicit names
before=$(snapshot); a_before=$(audits)
expect_exit 0 "op by selector --dry-run" oc phone op install --model 7962 --lsc-status none --dry-run
expect_output "would schedule Install/Upgrade on 4 phones" "dry run says how many"
expect_output "^SEP000000000103 " "dry run lists the phones"
equal "dry run changed nothing" "$(snapshot)" "$before"
equal "dry run wrote no audit entry" "$(audits)" "$a_before"
expect_exit 0 "op by selector" oc phone op install --model 7962 --lsc-status none --by "2031-01-02 03:04"
expect_output "4 phones: Install/Upgrade pending, completes by 2031-01-02 03:04:00 UTC" "op by selector reports"
equal "four phones pending" "$(names --model 7962 --operation install)" \
	"SEP000000000101,SEP000000000102,SEP000000000103,SEP000000000301"
equal "one audit entry per phone scheduled" "$(audits)" "$((a_before + 4))"
before=$(snapshot)
expect_exit 1 "op on an unknown explicit name fails" oc phone op delete SEP000000000102 SEP0000000009AA
expect_output "no phone named SEP0000000009AA" "unknown name reported"
equal "nothing changed for the known name either" "$(snapshot)" "$before"
expect_exit 0 "op none on explicit names" oc phone op none SEP000000000102 SEP000000000103
equal "operations cleared" "$(names --operation none --model 7962)" "SEP000000000102,SEP000000000103"
expect_exit 0 "the one-phone form still works" oc phone op SEP000000000102 troubleshoot
expect_output "phone SEP000000000102: Troubleshoot pending" "one-phone form output"
expect_exit 2 "selectors do not mix with the one-phone form" oc phone op SEP000000000102 install --model 7962

# --- real LSCs from two clusters, for LSC status and issuer selection
"$PHONESIM" mfg-ca create "$T/mfg" >/dev/null
oc trust add manufacturing "$T/mfg/mfg.crt" >/dev/null
oc capf cert >"$T/capf.pem"
OUR_FP=$(openssl x509 -in "$T/capf.pem" -noout -fingerprint -sha256 | cut -d= -f2)
OUR_CN=$(openssl x509 -in "$T/capf.pem" -noout -subject -nameopt RFC2253 | sed 's/.*CN=\(CAPF-[0-9a-f]*\).*/\1/')
"$OPENCAPF" --state "$S2" capf cert >"$T/capf2.pem"
OTHER_CN=$(openssl x509 -in "$T/capf2.pem" -noout -subject -nameopt RFC2253 | sed 's/.*CN=\(CAPF-[0-9a-f]*\).*/\1/')
new_phone() {
	"$PHONESIM" init "$T/$1" --name "$1" --mfg-ca "$T/mfg" >/dev/null &&
		"$PHONESIM" trust "$T/$1" "$2" >/dev/null
}
session() { local p=$1; shift; "$PHONESIM" capf "$T/$p" "127.0.0.1:$CAPF_PORT" --timeout 20 "$@"; }
# The other cluster enrolls SEP000000000106 first.
new_phone SEP000000000106 "$T/capf2.pem"
"$OPENCAPF" --state "$S2" phone op SEP000000000106 install >/dev/null
start_daemon "$S2" || exit 1
expect_exit 0 "the other cluster issues an LSC" session SEP000000000106
stop_daemon
start_daemon "$S" || exit 1
"$PHONESIM" trust "$T/SEP000000000106" "$T/capf.pem" >/dev/null
oc phone op SEP000000000106 troubleshoot >/dev/null
expect_exit 0 "troubleshoot records the other cluster's LSC" session SEP000000000106
new_phone SEP000000000101 "$T/capf.pem"
new_phone SEP000000000103 "$T/capf.pem"
oc phone op SEP000000000101 install >/dev/null
oc phone op SEP000000000103 install >/dev/null
expect_exit 0 "our CAPF issues an LSC (null string)" session SEP000000000101
expect_exit 0 "our CAPF issues an LSC (MIC authentication)" session SEP000000000103 --auth-cert mic-first
stop_daemon

equal "lsc-status installed" "$(names --lsc-status installed)" "SEP000000000101,SEP000000000103,SEP000000000106"
equal "lsc-status none" "$(names --lsc-status none --model 7962)" "SEP000000000102,SEP000000000301"
equal "lsc-status expired" "$(names --lsc-status expired)" ""
equal "expiring within 5 years" "$(names --expiring-days 1830)" "SEP000000000101,SEP000000000103,SEP000000000106"
equal "expiring within a day" "$(names --lsc-status expiring --expiring-days 1)" ""
prefix=$(echo "$OUR_FP" | tr -d : | cut -c1-12)
equal "issuer by fingerprint prefix" "$(names --lsc-issuer "$prefix")" "SEP000000000101,SEP000000000103"
equal "issuer by colon fingerprint" "$(names --lsc-issuer "$OUR_FP")" "SEP000000000101,SEP000000000103"
equal "issuer by CN ($OUR_CN)" "$(names --lsc-issuer "$OUR_CN")" "SEP000000000101,SEP000000000103"
equal "the other cluster's LSC by CN ($OTHER_CN)" "$(names --lsc-issuer "$OTHER_CN")" "SEP000000000106"
before=$(snapshot)
oc phone op install --lsc-issuer "$OTHER_CN" --dry-run >"$T/last.out"
expect_output "^SEP000000000106 " "dry run by issuer lists the phone"
expect_output "on 1 phone " "dry run by issuer: one phone"
equal "dry run by issuer changed nothing" "$(snapshot)" "$before"
expect_exit 0 "schedule re-install on every phone whose LSC our CAPF issued" \
	oc phone op install --lsc-issuer "$OUR_FP"
expect_output "^2 phones: Install/Upgrade pending" "two phones scheduled by issuer"
equal "the right two" "$(names --operation install --lsc-issuer "$prefix")" "SEP000000000101,SEP000000000103"
q "SELECT detail FROM audit_log WHERE action='phone.op' AND object='SEP000000000103' ORDER BY id DESC LIMIT 1" \
	>"$T/last.out"
expect_output "\"filter\":\"lsc-issuer=$OUR_FP\"" "the audit entry records the selector"

# --- the CAPF report, three formats
serial101=$(q "SELECT serial FROM issued_certs WHERE phone='SEP000000000101'")
expect_exit 0 "report (table)" oc report
expect_output "^NAME +MODEL +OPERATION +STATUS +AUTH +LSC +LSC SERIAL +LSC ISSUER" "report heading"
expect_output "^SEP000000000101 .*$OUR_CN" "report names the LSC issuer"
expect_output "^SEP000000000106 .*$OTHER_CN" "report names the other cluster's issuer"
expect_output "^SEP000000000103 .*Cisco|^SEP000000000103 .*Manufactur|^SEP000000000103 .*[0-9]{4}-[0-9]{2}-[0-9]{2} +[0-9]{4}-" \
	"report shows the MIC seen"
expect_output "^7 phones: 3 with a valid LSC" "report summary"
COLUMNS=80 oc report >"$T/last.out"
long=$(awk 'length > 80' "$T/last.out" | grep -v '^[0-9]* phones:' | wc -l)
equal "report table fits 80 columns" "$long" 0
expect_output "^SEP000000000101 " "narrow report still has the names"
COLUMNS=50 oc phone list >"$T/last.out"
equal "phone list fits 50 columns" "$(awk 'length > 50' "$T/last.out" | wc -l)" 0
expect_exit 0 "report --format csv" oc report --format csv
expect_output "^name,model,operation,status,auth,deadline,lsc_state,lsc_serial,lsc_issuer," "csv header"
grep "^SEP000000000101," "$T/last.out" | grep -q ",$serial101,\"CN=$OUR_CN" && ok "csv row has serial and issuer" \
	|| not_ok "csv row for SEP000000000101: $(grep "^SEP000000000101," "$T/last.out")"
equal "csv: header + 7 rows" "$(wc -l <"$T/last.out")" 8
oc report --format csv --model 8845 >"$T/last.out"
equal "report takes the selectors" "$(wc -l <"$T/last.out")" 3
oc report --format json >"$T/r.json"
equal "json: 7 rows" "$(jq length "$T/r.json")" 7
equal "json: LSC serial" "$(jq -r '.[] | select(.name=="SEP000000000101") | .lsc.serial' "$T/r.json")" "$serial101"
equal "json: LSC issuer CAPF fingerprint" \
	"$(jq -r '.[] | select(.name=="SEP000000000101") | .lsc.issuer_sha256' "$T/r.json")" \
	"$(echo "$OUR_FP" | tr -d : | tr A-F a-f)"
equal "json: MIC seen for the MIC-authenticated phone" \
	"$(jq -r '.[] | select(.name=="SEP000000000103") | .mic != null' "$T/r.json")" true
equal "json: last contact set" \
	"$(jq -r '.[] | select(.name=="SEP000000000101") | .last_contact != null' "$T/r.json")" true
equal "json: no LSC for a phone without" "$(jq -r '.[] | select(.name=="SEP000000000102") | .lsc_state' "$T/r.json")" none
jq -e 'all(.[]; has("auth_string") | not)' "$T/r.json" >/dev/null && ok "report has no auth strings" \
	|| not_ok "report holds auth strings"

# --- generated authentication strings
before=$(snapshot)
expect_exit 0 "auth-strings generate --dry-run" oc phone auth-strings generate --model 7962 --dry-run
expect_output "would generate 4 authentication strings" "dry run count"
equal "dry run changed nothing" "$(snapshot)" "$before"
expect_exit 0 "auth-strings generate" oc phone auth-strings generate --model 7962 --length 6 --out "$T/strings.csv"
equal "strings file is 0600" "$(stat -c %a "$T/strings.csv")" 600
equal "strings file: header + 4 rows" "$(wc -l <"$T/strings.csv")" 5
equal "every string has 6 digits" "$(tail -n +2 "$T/strings.csv" | grep -cE '^SEP[0-9A-F]{12},[0-9]{6}$')" 4
mismatch=0
while IFS=, read -r n s; do
	[ "$n" = name ] && continue
	[ "$(q "SELECT auth_mode||':'||auth_string FROM phones WHERE name='$n'")" = "string:$s" ] || mismatch=1
done <"$T/strings.csv"
equal "the database holds the strings written, mode string" "$mismatch" 0
equal "one audit entry per phone" "$(q "SELECT count(*) FROM audit_log WHERE action='phone.auth-string'")" 4
oc phone auth-strings generate SEP000000000106 --length 10 >"$T/gen.out" 2>/dev/null
equal "to standard output when no --out" "$(tail -n 1 "$T/gen.out" | grep -cE '^SEP000000000106,[0-9]{10}$')" 1
# 200 strings of 4 digits: every digit shows up (a bias towards some would be visible over time; this is a smoke test)
digits=$(for i in $(seq 1 50); do oc phone auth-strings generate SEP000000000106 --length 10 2>/dev/null | tail -n 1; done |
	cut -d, -f2 | fold -w1 | sort -u | tr -d '\n')
equal "all ten digits occur" "$digits" 0123456789

# --- the audit log
oc audit --limit 0 --json >"$T/audit.json"
total=$(jq length "$T/audit.json")
equal "audit --json: every entry" "$total" "$(audits)"
leak=0
for s in 90817263 $(tail -n +2 "$T/strings.csv" | cut -d, -f2) $(q "SELECT auth_string FROM phones WHERE auth_string <> ''"); do
	grep -q -- "$s" "$T/audit.json" && leak=1
	q "SELECT detail FROM audit_log" | grep -q -- "$s" && leak=1
done
equal "no authentication string anywhere in the audit log" "$leak" 0
equal "audit --action prefix" "$(oc audit --action phone.import --limit 0 --json | jq length)" \
	"$(q "SELECT count(*) FROM audit_log WHERE action LIKE 'phone.import%'")"
equal "audit --object" "$(oc audit --object SEP000000000104 --limit 0 --json | jq -r '[.[].object] | unique | join(",")')" \
	SEP000000000104
equal "audit --object pattern" "$(oc audit --object 'SEP00000000010[45]' --limit 0 --json | jq -r '[.[].object] | unique | join(",")')" \
	"SEP000000000104,SEP000000000105"
equal "audit --actor capf: the CAPF sessions" "$(oc audit --actor capf --limit 0 --json | jq -r '[.[].action] | unique | join(",")')" \
	"capf.install,capf.troubleshoot"
me=$(q "SELECT actor FROM audit_log WHERE action='phone.import' LIMIT 1")
[[ "$me" == cli:* ]] && ok "CLI changes carry the user ($me)" || not_ok "actor '$me'"
equal "audit --actor" "$(oc audit --actor "$me" --limit 0 --json | jq length)" "$(q "SELECT count(*) FROM audit_log WHERE actor='$me'")"
equal "audit --limit" "$(oc audit --limit 3 --json | jq length)" 3
equal "audit --since an hour ago: everything" "$(oc audit --since 1h --limit 0 --json | jq length)" "$total"
equal "audit --until 2000: nothing" "$(oc audit --until 2000-01-01 --json | jq length)" 0
equal "newest first" "$(oc audit --limit 1 --json | jq -r '.[0].id')" "$(q "SELECT max(id) FROM audit_log")"
equal "--oldest-first" "$(oc audit --limit 1 --oldest-first --json | jq -r '.[0].id')" "$(q "SELECT min(id) FROM audit_log")"
equal "details are JSON objects" "$(oc audit --action phone.op --limit 1 --json | jq -r '.[0].detail.after.operation')" install
oc audit --object SEP000000000101 >"$T/last.out"
expect_output "^TIME \(UTC\) +ACTOR +ACTION +OBJECT +DETAIL" "audit table heading"
expect_output " phone.import .* SEP000000000101 " "audit table rows"

# --- 20,000 phones in one transaction
python3 - "$T" <<'EOF'
import sys
d = sys.argv[1]
with open(d + "/big.csv", "w") as f:
    f.write("name,model,auth,auth_string,key_order,operation\n")
    for i in range(20000):
        f.write("SEP%012X,%s,%s,%s,%s,%s\n" % (0x700000 + i, ("7962", "8845", "7975", "8851")[i % 4],
                "string" if i % 3 == 0 else "null", "%08d" % i if i % 3 == 0 else "",
                ("rsa", "ec", "ec-rsa")[i % 3], "install" if i % 10 == 0 else ""))
lines = open(d + "/big.csv").read().splitlines(True)
lines[15001] = "SEP0000007FFFFF,7962,null,,rsa,sometimes\n"
with open(d + "/big-bad.csv", "w") as f:
    f.writelines(lines)
EOF
n_before=$(phones); a_before=$(audits)
start=$(date +%s.%N)
expect_exit 1 "20,000 rows with one bad line: refused" oc phone import "$T/big-bad.csv"
expect_output "big-bad.csv:15002: SEP0000007FFFFF: operation 'sometimes'" "the bad line of the big file is reported"
equal "only that line" "$(grep -c 'big-bad.csv:[0-9]' "$T/last.out")" 1
equal "nothing of the big bad file imported" "$(phones)" "$n_before"
start=$(date +%s.%N)
expect_exit 0 "import 20,000 phones" oc phone import "$T/big.csv"
took=$(elapsed "$start")
echo "# import of 20,000 phones took $took s"
[ "$(awk "BEGIN { print ($took < 60) }")" = 1 ] && ok "20,000 phones imported in $took s (< 60 s)" || not_ok "import took $took s"
equal "20,000 more phones" "$(phones)" "$((n_before + 20000))"
equal "20,000 audit entries and a summary" "$(audits)" "$((a_before + 20001))"
start=$(date +%s.%N)
equal "list by model over the fleet" "$(oc phone list --model 8851 --json | jq length)" 5000
oc report --format csv >"$T/big-report.csv"
equal "report over the fleet" "$(wc -l <"$T/big-report.csv")" "$((n_before + 20000 + 1))"
oc phone op troubleshoot --model 7975 --operation none --name 'SEP0000007*' >"$T/last.out"
expect_output "^4000 phones: Troubleshoot pending" "bulk op over the fleet (7975 without an operation)"
took=$(elapsed "$start")
echo "# list + report + bulk op over 20,000 phones took $took s"
[ "$(awk "BEGIN { print ($took < 60) }")" = 1 ] && ok "fleet queries in $took s" || not_ok "fleet queries took $took s"
oc phone export --with-auth-strings --out "$T/big-export.csv" 2>/dev/null
expect_exit 0 "re-import of the fleet export with --update" oc phone import "$T/big-export.csv" --update
expect_output "0 added, 0 updated, $((n_before + 20000)) unchanged" "fleet round trip: nothing changes"

finish
