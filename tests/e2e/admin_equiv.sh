#!/usr/bin/env bash
# admin_equiv.sh: the command line and the HTTP API administer alike.
#
# Every administrative operation both offer runs twice with the same inputs:
# through `opencapf` on state A and through a real opencapfd's JSON API
# (curl, admin token, 127.0.0.1 only) on state B. A and B are copies of one
# freshly initialised state (same CAPF key, same service certificates, same
# token), so afterwards their databases must hold the same things: phones,
# issued certificates, trust stores, CAPF certificates, TVS entries,
# settings, key files and audit records (action, object and every member of
# the detail JSON).
#
# Normalised, because they legitimately differ: times (a time within the run
# reads <now>, a default deadline <now+1d>), the actor (cli:USER against
# api:token-N reads <admin>), and what a freshly generated CAPF key makes
# random (its certificate's fingerprints, serial and CN are named by order of
# appearance; the certificate itself is compared by subject, issuer, key
# type, validity length and extensions). Everything else must be equal; a
# difference is printed as a unified diff (- CLI, + API) and fails the test.
#
# Needs curl, sqlite3 and openssl (exit 77 without them); phonesim enrolls the
# phones whose LSCs are revoked both ways.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
trap 'exit 143' TERM INT HUP

for tool in curl sqlite3 openssl; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
done

T0=$(($(date +%s) - 2))
TPL="$TEST_TMP/template" A="$TEST_TMP/cli" B="$TEST_TMP/api"
"$OPENCAPF" --state "$TPL" init --subject "O=Example,OU=Voice,C=NZ" >/dev/null || { not_ok "init"; finish; exit; }
TOKEN=$("$OPENCAPF" --state "$TPL" token create --role admin --label "admin equivalence" | tail -1)
# Phones holding LSCs in the template, to revoke both ways: R1 by name, R2 by
# serial, R3 by removing the phone.
R1=SEP00000000F001 R2=SEP00000000F002 R3=SEP00000000F003
enrolled=0
if start_daemon "$TPL" && "$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null &&
	"$OPENCAPF" --state "$TPL" capf cert >"$TEST_TMP/tpl-capf.pem"; then
	enrolled=1
	for p in $R1 $R2 $R3; do
		"$OPENCAPF" --state "$TPL" phone add $p --operation install >/dev/null &&
			"$PHONESIM" init "$TEST_TMP/$p" --name $p --mfg-ca "$TEST_TMP/mfg" >/dev/null &&
			"$PHONESIM" trust "$TEST_TMP/$p" "$TEST_TMP/tpl-capf.pem" >/dev/null &&
			timeout 60 "$PHONESIM" capf "$TEST_TMP/$p" "127.0.0.1:$CAPF_PORT" --timeout 20 >/dev/null ||
			enrolled=0
	done
	stop_daemon
fi
[ "$enrolled" = 1 ] && ok "three phones enrolled in the template" || not_ok "enroll phones in the template"
R2_SERIAL=$(sqlite3 "$TPL/opencapf.db" "SELECT serial FROM phone_certs WHERE phone = '$R2' AND kind = 'lsc'")
BASE_AUDIT=$(sqlite3 "$TPL/opencapf.db" "SELECT coalesce(max(id), 0) FROM audit_log")
BASE_CAPF=$(sqlite3 "$TPL/opencapf.db" "SELECT coalesce(max(id), 0) FROM capf_certs")
TPL_CNS=$(sqlite3 "$TPL/opencapf.db" "SELECT group_concat(object, ' ') FROM audit_log WHERE action = 'init'")
cp -a "$TPL" "$A" && cp -a "$TPL" "$B" || { not_ok "copy the template state"; finish; exit; }
CLI_ACTOR="cli:$(id -un)"
API_ACTOR="api:token-$(echo "$TOKEN" | cut -d_ -f2)"

start_api_daemon "$B" || { not_ok "start opencapfd on state B"; finish; exit; }

# ---- the two ways in ----

DIVERGENCES="$TEST_TMP/divergences"
: >"$DIVERGENCES"
diverge() { echo "$*" >>"$DIVERGENCES"; not_ok "$*"; }

# cli ARGS...: opencapf on state A, bounded; its output in $TEST_TMP/cli.out.
cli() {
	timeout 120 "$OPENCAPF" --state "$A" "$@" >"$TEST_TMP/cli.out" 2>"$TEST_TMP/cli.err"
}
# cli_ok DESCRIPTION ARGS...
cli_ok() {
	local what=$1; shift
	if cli "$@"; then ok "CLI: $what"; else
		not_ok "CLI: $what (exit $?: opencapf $*)"; sed 's/^/    /' "$TEST_TMP/cli.err" | head -5; fi
}
# cli_opt_ok DESCRIPTION OPTION ARGS...: as cli_ok, the arguments including
# OPTION VALUE (the last two); when the CLI does not know OPTION it is a
# divergence (the API offers it) and the command runs again without it.
cli_opt_ok() {
	local what=$1 opt=$2; shift 2
	if cli "$@"; then ok "CLI: $what"; return; fi
	if grep -q -- "$opt" "$TEST_TMP/cli.err" && grep -qi "usage\|unrecognized\|unknown" "$TEST_TMP/cli.err"; then
		diverge "CLI: $what: opencapf has no $opt (the API takes it); ran without it"
		cli_ok "$what (without $opt)" "${@:1:$(($# - 2))}"
	else
		not_ok "CLI: $what (opencapf $*)"; sed 's/^/    /' "$TEST_TMP/cli.err" | head -5
	fi
}

BODY="$TEST_TMP/api.body"
# api METHOD PATH [JSON]: the admin token's request; sets CODE.
api() {
	local m=$1 p=$2 data=${3-}
	if [ -n "$data" ]; then
		CODE=$(curl -s -m 30 -o "$BODY" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOKEN" \
			-H "Content-Type: application/json" --data-binary "$data" "$BASE$p")
	else
		CODE=$(curl -s -m 30 -o "$BODY" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOKEN" "$BASE$p")
	fi
}
# api_ok DESCRIPTION METHOD PATH [JSON]: a 2xx answer.
api_ok() {
	local what=$1; shift
	api "$@"
	case "$CODE" in
	2??) ok "API: $what" ;;
	*) not_ok "API: $what (HTTP $CODE: $1 $2)"; head -c 400 "$BODY" | sed 's/^/    /'; echo ;;
	esac
}
# A JSON string member of the last answer (sqlite3's JSON functions: no jq needed).
api_member() { sqlite3 :memory: "SELECT json_extract(readfile('$BODY'), '\$.$1')"; }
# A file as a JSON string.
json_file() { sqlite3 :memory: "SELECT json_quote(CAST(readfile('$1') AS TEXT))"; }

# ---- inputs ----

FAR="2030-01-01 12:00"
FAR2="2031-02-03 04:05"
FAR3="2030-06-01 08:00"
FAR4="2030-07-01 00:00"
P1=SEP00000000E001 P2=SEP00000000E002 P3=SEP00000000E003 P4=SEP00000000E004
P5=SEP00000000E005 P6=SEP00000000E006 P7=SEP00000000E007 P8=SEP00000000E008

# Certificates for the trust stores: two outside CAs, one of them twice in a bundle.
mkca() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_TMP/$1.key" -out "$TEST_TMP/$1.pem" \
		-subj "$2" -days 3650 -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
mkca mfg1 "/CN=Equivalence Manufacturing CA/O=Vendor" && mkca mfg2 "/CN=Second Equivalence CA/O=Vendor" &&
	mkca root "/CN=Outside Root CA/O=Example" || { not_ok "make test CAs"; finish; exit; }
cat "$TEST_TMP/mfg1.pem" "$TEST_TMP/mfg2.pem" >"$TEST_TMP/bundle.pem"
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f; }
MFG2_FP=$(fp "$TEST_TMP/mfg2.pem")
CAPF0_FP=$(sqlite3 "$TPL/opencapf.db" "SELECT sha256 FROM capf_certs WHERE state = 'current'")

# ---- revocation ----

cli_ok "phone revoke --reason affiliationChanged" phone revoke $R1 --reason affiliationChanged
api_ok "phone revoke --reason affiliationChanged" POST /api/v1/phones/$R1/revoke "{\"reason\":\"affiliationChanged\"}"
cli_ok "cert revoke SERIAL (default reason)" cert revoke "$R2_SERIAL"
api_ok "cert revoke SERIAL (default reason)" POST "/api/v1/certs/$R2_SERIAL/revoke" "{}"
cli_ok "phone remove revokes the phone's LSC" phone remove $R3
grep -q "revoked LSC serial" "$TEST_TMP/cli.out" && ok "CLI: phone remove names the LSC it revoked" ||
	not_ok "CLI: phone remove does not say what it revoked"
api_ok "phone remove revokes the phone's LSC" DELETE /api/v1/phones/$R3
# The others go too (nothing left to revoke), so that no phone holds an LSC
# in what follows (CAPF regenerate and trust removal are guarded by them).
cli_ok "phone remove after revoke" phone remove $R1
api_ok "phone remove after revoke" DELETE /api/v1/phones/$R1
cli_ok "phone remove after cert revoke" phone remove $R2
api_ok "phone remove after cert revoke" DELETE /api/v1/phones/$R2

# ---- phones: add (every auth mode, with and without an operation and deadline) ----

cli_ok "phone add, all defaults" phone add $P1
api_ok "phone add, all defaults" POST /api/v1/phones "{\"name\":\"$P1\"}"

cli_ok "phone add, string auth, every setting" phone add $P2 --auth string --auth-string 123456 \
	--key-order ec-rsa --ec-bits 384 --rsa-bits 3072 --model 7962 --description "front desk"
api_ok "phone add, string auth, every setting" POST /api/v1/phones "{\"name\":\"$P2\",\"auth\":\"string\",
	\"auth_string\":\"123456\",\"key_order\":\"ec-rsa\",\"ec_bits\":384,\"rsa_bits\":3072,\"model\":\"7962\",
	\"description\":\"front desk\"}"

cli_ok "phone add, lsc-first, install by a deadline" phone add $P3 --auth lsc-first --operation install --by "$FAR"
api_ok "phone add, lsc-first, install by a deadline" POST /api/v1/phones \
	"{\"name\":\"$P3\",\"auth\":\"lsc-first\",\"operation\":\"install\",\"deadline\":\"$FAR\"}"

cli_ok "phone add, mic-first, troubleshoot, default deadline" phone add $P4 --auth mic-first --key-order ec \
	--operation troubleshoot
api_ok "phone add, mic-first, troubleshoot, default deadline" POST /api/v1/phones \
	"{\"name\":\"$P4\",\"auth\":\"mic-first\",\"key_order\":\"ec\",\"operation\":\"troubleshoot\"}"

cli_ok "phone add, null auth, operation none" phone add $P5 --auth null --operation none --model 8841
api_ok "phone add, null auth, operation none" POST /api/v1/phones \
	"{\"name\":\"$P5\",\"auth\":\"null\",\"operation\":\"none\",\"model\":\"8841\"}"

cli_ok "phone add, string auth, delete by a deadline" phone add $P6 --auth string --auth-string 98765432 \
	--model 8841 --operation delete --by "$FAR2"
api_ok "phone add, string auth, delete by a deadline" POST /api/v1/phones "{\"name\":\"$P6\",\"auth\":\"string\",
	\"auth_string\":\"98765432\",\"model\":\"8841\",\"operation\":\"delete\",\"deadline\":\"$FAR2\"}"

cli_ok "phone add, rsa 4096" phone add $P7 --model 8841 --rsa-bits 4096 --description "spare"
api_ok "phone add, rsa 4096" POST /api/v1/phones \
	"{\"name\":\"$P7\",\"model\":\"8841\",\"rsa_bits\":4096,\"description\":\"spare\"}"

cli_ok "phone add, install, default deadline" phone add $P8 --operation install
api_ok "phone add, install, default deadline" POST /api/v1/phones "{\"name\":\"$P8\",\"operation\":\"install\"}"

# ---- phones: update ----

cli_ok "phone set: settings" phone set $P1 --model 7962 --description "lobby" --auth string --auth-string 4321
api_ok "phone set: settings" PATCH /api/v1/phones/$P1 \
	"{\"model\":\"7962\",\"description\":\"lobby\",\"auth\":\"string\",\"auth_string\":\"4321\"}"

cli_ok "phone set: clear the description, change the keys" phone set $P2 --description "" --key-order rsa \
	--rsa-bits 1024
api_ok "phone set: clear the description, change the keys" PATCH /api/v1/phones/$P2 \
	"{\"description\":\"\",\"key_order\":\"rsa\",\"rsa_bits\":1024}"

cli_ok "phone set: auth back to null" phone set $P6 --auth null
api_ok "phone set: auth back to null" PATCH /api/v1/phones/$P6 "{\"auth\":\"null\"}"

# ---- phones: one operation ----

cli_ok "phone op: install by a deadline" phone op $P1 install --by "$FAR3"
api_ok "phone op: install by a deadline" POST /api/v1/phones/$P1/operation \
	"{\"operation\":\"install\",\"by\":\"$FAR3\"}"

cli_ok "phone op: troubleshoot, default deadline" phone op $P2 troubleshoot
api_ok "phone op: troubleshoot, default deadline" POST /api/v1/phones/$P2/operation "{\"operation\":\"troubleshoot\"}"

cli_ok "phone op: none" phone op $P4 none
api_ok "phone op: none" POST /api/v1/phones/$P4/operation "{\"operation\":\"none\"}"

cli_ok "phone op: the same operation again (install, deadline kept?)" phone op $P8 install
api_ok "phone op: the same operation again (install, deadline kept?)" POST /api/v1/phones/$P8/operation \
	"{\"operation\":\"install\"}"

# ---- phones: many by selector ----

cli_ok "bulk: install on a model, by a deadline" phone op install --model 8841 --by "$FAR4"
api_ok "bulk: install on a model, by a deadline" POST /api/v1/phones/schedule \
	"{\"filter\":{\"model\":\"8841\"},\"operation\":\"install\",\"by\":\"$FAR4\"}"

cli_ok "bulk: delete on named phones, default deadline" phone op delete $P5 $P7
api_ok "bulk: delete on named phones, default deadline" POST /api/v1/phones/schedule \
	"{\"filter\":{\"names\":[\"$P5\",\"$P7\"]},\"operation\":\"delete\"}"

cli_ok "bulk: none on a pattern and an auth mode" phone op none --name 'SEP00000000E00*' --auth string
api_ok "bulk: none on a pattern and an auth mode" POST /api/v1/phones/schedule \
	"{\"filter\":{\"name\":\"SEP00000000E00*\",\"auth\":\"string\"},\"operation\":\"none\"}"

cli_ok "bulk: troubleshoot on every phone without an operation" phone op troubleshoot --operation none --by "$FAR"
api_ok "bulk: troubleshoot on every phone without an operation" POST /api/v1/phones/schedule \
	"{\"filter\":{\"operation\":\"none\"},\"operation\":\"troubleshoot\",\"by\":\"$FAR\"}"

cli_ok "bulk: dry run changes nothing" phone op none --all --dry-run
api_ok "bulk: dry run changes nothing" POST /api/v1/phones/schedule \
	"{\"filter\":{},\"operation\":\"none\",\"all\":true,\"dry_run\":true}"

cli_opt_ok "bulk: install with a note" --note phone op install --model 7962 --by "$FAR2" --note "new firmware"
api_ok "bulk: install with a note" POST /api/v1/phones/schedule \
	"{\"filter\":{\"model\":\"7962\"},\"operation\":\"install\",\"by\":\"$FAR2\",\"note\":\"new firmware\"}"

# ---- phones: remove ----

cli_ok "phone remove --force: an operation pending" phone remove $P3 --force
api_ok "phone remove --force: an operation pending" DELETE "/api/v1/phones/$P3?force=true"
cli_ok "phone op none before a plain remove" phone op $P4 none
api_ok "phone op none before a plain remove" POST /api/v1/phones/$P4/operation "{\"operation\":\"none\"}"
cli_ok "phone remove" phone remove $P4
api_ok "phone remove" DELETE /api/v1/phones/$P4

# ---- trust stores ----

cli_ok "trust add: one PEM certificate" trust add manufacturing "$TEST_TMP/mfg1.pem"
api_ok "trust add: one PEM certificate" POST /api/v1/trust/manufacturing \
	"{\"certificates\":$(json_file "$TEST_TMP/mfg1.pem")}"

cli_opt_ok "trust add: a bundle with a note" --note trust add 802.1x "$TEST_TMP/bundle.pem" --note "vendor bundle"
api_ok "trust add: a bundle with a note" POST /api/v1/trust/802.1x \
	"{\"certificates\":$(json_file "$TEST_TMP/bundle.pem"),\"note\":\"vendor bundle\"}"

cli_ok "trust add: already present" trust add manufacturing "$TEST_TMP/mfg1.pem"
api_ok "trust add: already present" POST /api/v1/trust/manufacturing \
	"{\"certificates\":$(json_file "$TEST_TMP/mfg1.pem")}"

cli_ok "trust remove by fingerprint" trust remove 802.1x "${MFG2_FP:0:16}"
api_ok "trust remove by fingerprint" DELETE "/api/v1/trust/802.1x/${MFG2_FP:0:16}"

cli_ok "trust remove: the CAPF certificate from phone-vpn-trust" trust remove phone-vpn-trust "$CAPF0_FP"
api_ok "trust remove: the CAPF certificate from phone-vpn-trust" DELETE "/api/v1/trust/phone-vpn-trust/$CAPF0_FP"

cli_ok "trust remove --force: the current CAPF certificate" trust remove CallManager-trust "$CAPF0_FP" --force
api_ok "trust remove --force: the current CAPF certificate" DELETE \
	"/api/v1/trust/CallManager-trust/$CAPF0_FP?force=true"

# ---- CAPF: a CSR for the current key, the outside CA's certificate imported ----

cli_ok "capf csr (current key)" capf csr
cp "$TEST_TMP/cli.out" "$TEST_TMP/cli.csr"
api_ok "capf csr (current key)" POST /api/v1/capf/csr "{}"
api_member csr >"$TEST_TMP/api.csr"
csr_info() { openssl req -in "$1" -noout -subject -verify 2>&1 | sort; openssl req -in "$1" -noout -text |
	grep -E "Public Key Algorithm|Public-Key:|CA:|Digital Signature|Certificate Sign|Signature Algorithm" | sort -u; }
if [ "$(csr_info "$TEST_TMP/cli.csr")" = "$(csr_info "$TEST_TMP/api.csr")" ] &&
	[ "$(openssl req -in "$TEST_TMP/cli.csr" -noout -pubkey)" = "$(openssl req -in "$TEST_TMP/api.csr" -noout -pubkey)" ]; then
	ok "capf csr: the same subject, key and extensions"
else
	diverge "capf csr: the CSRs differ"; diff <(csr_info "$TEST_TMP/cli.csr") <(csr_info "$TEST_TMP/api.csr") | sed 's/^/    /'
fi

cat >"$TEST_TMP/capf.ext" <<EOF
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, digitalSignature, keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
# One signed certificate for both states: they share the CAPF key.
openssl x509 -req -in "$TEST_TMP/cli.csr" -CA "$TEST_TMP/root.pem" -CAkey "$TEST_TMP/root.key" -set_serial 4242 \
	-days 700 -extfile "$TEST_TMP/capf.ext" -out "$TEST_TMP/capf-signed.pem" 2>/dev/null ||
	not_ok "the outside CA signs the CSR"
cli_ok "capf import with --chain" capf import "$TEST_TMP/capf-signed.pem" --chain "$TEST_TMP/root.pem"
api_ok "capf import with --chain" POST /api/v1/capf/import \
	"{\"certificate\":$(json_file "$TEST_TMP/capf-signed.pem"),\"chain\":$(json_file "$TEST_TMP/root.pem")}"

# ---- CAPF: regenerate (a given key, then the defaults), a CSR for a new key ----

cli_ok "capf regenerate --key ec:p256 --days 800" capf regenerate --key ec:p256 --days 800
api_ok "capf regenerate --key ec:p256 --days 800" POST /api/v1/capf/regenerate "{\"key\":\"ec:p256\",\"days\":800}"

cli_ok "capf regenerate, defaults" capf regenerate
api_ok "capf regenerate, defaults" POST /api/v1/capf/regenerate "{}"

cli_ok "capf csr --new-key --key ec:p384" capf csr --new-key --key ec:p384
cp "$TEST_TMP/cli.out" "$TEST_TMP/cli2.csr"
api_ok "capf csr --new-key --key ec:p384" POST /api/v1/capf/csr "{\"new_key\":true,\"key\":\"ec:p384\"}"
api_member csr >"$TEST_TMP/api2.csr"
csr_norm() { csr_info "$1" | sed -E 's/CAPF-[0-9a-f]{8}/CAPF-<new>/g'; }
if [ "$(csr_norm "$TEST_TMP/cli2.csr")" = "$(csr_norm "$TEST_TMP/api2.csr")" ]; then
	ok "capf csr --new-key: the same subject (but the CN), key type and extensions"
else
	diverge "capf csr --new-key: the CSRs differ"
	diff <(csr_norm "$TEST_TMP/cli2.csr") <(csr_norm "$TEST_TMP/api2.csr") | sed 's/^/    /'
fi

# ---- ITL ----

cli_ok "ITL publish" itl publish
api_ok "ITL rebuild" POST /api/v1/itl/rebuild

T1=$(($(date +%s) + 2))
stop_daemon

# ---- the two databases, normalised ----

# now_norm EXPR: an epoch column as <now> / <now+1d> when it falls in the run.
now_norm() {
	echo "CASE WHEN ($1) BETWEEN $T0 AND $T1 THEN '<now>'
		WHEN ($1) BETWEEN $T0 + 86400 AND $T1 + 86400 THEN '<now+1d>' ELSE ($1) END"
}
# The same for a "YYYY-MM-DD HH:MM:SS UTC" text (a JSON leaf).
text_time_norm() {
	echo "CASE WHEN ($1) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]*'
		THEN $(now_norm "CAST(strftime('%s', substr($1, 1, 19)) AS INTEGER)") ELSE ($1) END"
}

# dump STATE ACTOR: everything administration stores, one fact a line.
dump() {
	local s=$1 actor=$2 db="$1/opencapf.db" q
	q() { sqlite3 -batch -noheader -separator ' | ' "$db" "$@"; }
	echo "== settings"
	q "SELECT key, value FROM settings ORDER BY key"
	echo "== phones"
	q "SELECT 'phone ' || name, 'model=' || model, 'description=' || description, 'auth=' || auth_mode,
		'auth_string=' || auth_string, 'key_order=' || key_order, 'rsa_bits=' || rsa_bits,
		'ec_bits=' || ec_bits, 'operation=' || operation, 'deadline=' || ($(now_norm deadline)),
		'status=' || status, 'auth_failures=' || auth_failures, 'locked_until=' || locked_until,
		'last_contact=' || last_contact, 'created=' || ($(now_norm created)),
		'updated=' || ($(now_norm updated)), 'op_claim=' || op_claim
		FROM phones ORDER BY name"
	echo "== phone history, phone certificates, seen certificates"
	q "SELECT 'history', phone, operation, auth_mode, outcome, reason FROM phone_history ORDER BY phone, id"
	q "SELECT 'current', phone, kind, source, serial, subject, issuer, sha256 FROM phone_certs ORDER BY phone, kind"
	q "SELECT 'seen', phone, kind, sha256, count FROM seen_certs ORDER BY phone, id"
	echo "== issued certificates"
	q "SELECT phone, serial, subject, issuer, sha256, issuer_sha256, status FROM issued_certs ORDER BY id"
	echo "== revocations"
	q "SELECT serial, issuer_sha256, phone, ($(now_norm time)), reason FROM revocations ORDER BY id"
	echo "== trust stores"
	q "SELECT 'store', name, description FROM trust_stores ORDER BY name"
	q "SELECT 'cert', store, sha256, subject, issuer, serial, ($(now_norm not_before)),
		'valid_days=' || ((not_after - not_before) / 86400), 'note=' || note, 'added=' || ($(now_norm added))
		FROM trust_certs ORDER BY store, subject, sha256"
	echo "== CAPF certificates"
	local id
	for id in $(q "SELECT id FROM capf_certs ORDER BY id"); do
		q "SELECT 'capf #' || id, state, key_file, sha256, 'created=' || ($(now_norm created))
			FROM capf_certs WHERE id = $id"
		q "SELECT writefile('$TEST_TMP/capf.der', der) FROM capf_certs WHERE id = $id" >/dev/null
		openssl x509 -inform DER -in "$TEST_TMP/capf.der" -noout -subject -issuer -serial -ext \
			basicConstraints,keyUsage 2>/dev/null | sed 's/^/    /'
		openssl x509 -inform DER -in "$TEST_TMP/capf.der" -noout -text |
			grep -E "Public Key Algorithm|Public-Key:|ASN1 OID|Signature Algorithm" | sort -u | sed 's/^ */    /'
		echo "    valid_days=$(( ($(date -d "$(openssl x509 -inform DER -in "$TEST_TMP/capf.der" -noout -enddate |
			cut -d= -f2)" +%s) - $(date -d "$(openssl x509 -inform DER -in "$TEST_TMP/capf.der" -noout \
			-startdate | cut -d= -f2)" +%s)) / 86400 ))"
	done
	echo "== service certificates, TVS"
	q "SELECT 'service', name, key_file, sha256 FROM service_certs ORDER BY name"
	q "SELECT 'tvs', sha256, subject, issuer, serial, roles, ttl, source, note, 'added=' || ($(now_norm added))
		FROM tvs_certs ORDER BY subject, sha256"
	echo "== key files"
	(cd "$s/keys" && stat -c '%n %a' -- * | sort)
	echo "== tftp"
	# CRLs left out: derived data the daemon (state B) publishes by itself on a timer
	(cd "$s/tftp" && ls | grep -v -e '\.crl$' -e '\.crl\.pem$')
	# The published ITL as `itl show` reads it, its records' lengths aside
	# (an ECDSA signature's length varies).
	echo "== published ITL"
	"$OPENCAPF" itl show "$s/tftp/ITLFile.tlv" 2>&1 | awk '
		/^Length of ITL file:/ { next }
		$1 ~ /^[0-9]+$/ && $2 ~ /^[A-Z_]+$/ && $3 ~ /^[0-9]+$/ {
			if ($2 == "RECORDLENGTH") next
			if ($2 == "TIMESTAMP") { print $1 " TIMESTAMP <time>"; next }
			line = $1 " " $2; for (i = 4; i <= NF; i++) line = line " " $i; print line; next }
		{ print }'
	echo "== audit log (after the common template)"
	q "SELECT id FROM audit_log WHERE id > $BASE_AUDIT ORDER BY id" | while read -r id; do
		q "SELECT '-- ' || CASE actor WHEN '$actor' THEN '<admin>' ELSE actor END || ' ' || action || ' ' ||
			object FROM audit_log WHERE id = $id"
		q "SELECT '   ' || j.fullkey || ' = ' || CASE j.type WHEN 'text' THEN ($(text_time_norm j.atom))
				WHEN 'integer' THEN ($(now_norm j.atom)) ELSE coalesce(j.atom, j.type) END
			FROM audit_log a, json_tree(CASE WHEN json_valid(a.detail) THEN a.detail ELSE json_quote(a.detail) END) j
			WHERE a.id = $id AND j.type NOT IN ('object', 'array') ORDER BY j.fullkey"
	done
}

# Random values of the CAPF keys made during the run, named by order of
# appearance: each new capf_certs row's fingerprints, serial and CN, then any
# other CAPF-xxxxxxxx CN (a --new-key CSR's).
randoms() {
	local db="$1/opencapf.db" n=0 id cn serial
	for id in $(sqlite3 "$db" "SELECT id FROM capf_certs WHERE id > $BASE_CAPF ORDER BY id"); do
		n=$((n + 1))
		sqlite3 "$db" "SELECT writefile('$TEST_TMP/capf.der', der) FROM capf_certs WHERE id = $id" >/dev/null
		cn=$(openssl x509 -inform DER -in "$TEST_TMP/capf.der" -noout -subject -nameopt multiline |
			sed -n 's/^ *commonName *= *//p')
		# The imported certificate (the template's key and name) is the same in both states.
		case " $TPL_CNS " in *" $cn "*) continue ;; esac
		echo "s/$(sqlite3 "$db" "SELECT sha256 FROM capf_certs WHERE id = $id")/<new$n.sha256>/g"
		echo "s/$(openssl x509 -inform DER -in "$TEST_TMP/capf.der" -noout -fingerprint -sha1 |
			sed 's/.*=//; s/://g' | tr A-F a-f)/<new$n.sha1>/g"
		serial=$(openssl x509 -inform DER -in "$TEST_TMP/capf.der" -noout -serial | cut -d= -f2)
		[ ${#serial} -ge 16 ] && echo "s/$serial/<new$n.serial>/Ig" &&
			echo "s/$(echo "$serial" | sed 's/../&:/g; s/:$//')/<new$n.serial>/Ig"   # as the ITL shows it
		echo "s/$(openssl x509 -inform DER -in "$TEST_TMP/capf.der" -noout -fingerprint -sha1 |
			sed 's/.*=//; s/:/ /g')/<new$n.sha1>/Ig"
		echo "s/$cn/<new$n.cn>/g"
	done
}
# The template's CNs stay as they are (the same in both states).
normalise_cns() {
	awk -v keep="$TPL_CNS" 'BEGIN { n = split(keep, k, " "); for (i = 1; i <= n; i++) base[k[i]] = 1 }
	{
		out = ""
		while (match($0, /CAPF-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]/)) {
			cn = substr($0, RSTART, RLENGTH)
			if (!(cn in seen)) seen[cn] = (cn in base) ? cn : "<cn" (++ncn) ">"
			out = out substr($0, 1, RSTART - 1) seen[cn]
			$0 = substr($0, RSTART + RLENGTH)
		}
		print out $0
	}'
}

randoms "$A" >"$TEST_TMP/cli.sed" && randoms "$B" >"$TEST_TMP/api.sed" || not_ok "find the new CAPF certificates"
dump "$A" "$CLI_ACTOR" | sed -f "$TEST_TMP/cli.sed" | normalise_cns >"$TEST_TMP/cli.dump"
dump "$B" "$API_ACTOR" | sed -f "$TEST_TMP/api.sed" | normalise_cns >"$TEST_TMP/api.dump"

# Each section compared on its own, so the report names what differs.
sections=$(grep '^== ' "$TEST_TMP/cli.dump" "$TEST_TMP/api.dump" | cut -d: -f2- | awk '!seen[$0]++')
while IFS= read -r sec; do
	# Rows ordered by a random value (a new certificate's fingerprint or CN)
	# are sorted after normalising; the CAPF certificates and the audit log
	# keep their order (by id).
	order=cat
	case "$sec" in "== CAPF certificates" | "== audit log"*) ;; *) order=sort ;; esac
	awk -v s="$sec" '/^== /{on = ($0 == s); next} on' "$TEST_TMP/cli.dump" | $order >"$TEST_TMP/sec.cli"
	awk -v s="$sec" '/^== /{on = ($0 == s); next} on' "$TEST_TMP/api.dump" | $order >"$TEST_TMP/sec.api"
	if cmp -s "$TEST_TMP/sec.cli" "$TEST_TMP/sec.api"; then
		ok "CLI and API stored the same: ${sec#== }"
	else
		diverge "CLI and API stored different ${sec#== } (- CLI, + API):"
		diff -u --label cli --label api "$TEST_TMP/sec.cli" "$TEST_TMP/sec.api" | tail -n +3 | sed 's/^/    /'
	fi
done <<<"$sections"

# The comparison itself must see something: the audit rows of every operation.
n=$(grep -c '^-- ' "$TEST_TMP/api.dump")
[ "$n" -ge 30 ] && ok "the API side wrote $n audit rows to compare" || not_ok "only $n audit rows on the API side"

if [ -s "$DIVERGENCES" ]; then
	echo
	echo "CLI/API divergences:"
	sed 's/^/  - /' "$DIVERGENCES"
fi
finish
