#!/usr/bin/env bash
# phonesim_cli.sh: end-to-end test of the phonesim command line without a
# CAPF server: mfg-ca, init, trust, show, export, the errors each one must
# report, and the connection failures `capf` reports before any CAPF talk.
#
# Needs PHONESIM (the binary) and VECTORS (tests/vectors); openssl(1) checks
# what phonesim wrote. Prints "ok"/"not ok" per check and fails if any did.
set -u

: "${PHONESIM:?PHONESIM must name the phonesim binary}"
: "${VECTORS:?VECTORS must name tests/vectors}"
T=$(mktemp -d /tmp/phonesim-e2e.XXXXXX)
PASSED=0
FAILED=0
trap 'if [ "$FAILED" = 0 ]; then rm -rf "$T"; else echo "(files kept in $T)"; fi' EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; sed 's/^/    /' "$T/out" "$T/err" | head -20; }

# run CMD...: phonesim with stdout in $T/out, stderr in $T/err, status in $RC.
run() { "$PHONESIM" "$@" >"$T/out" 2>"$T/err"; RC=$?; }
# expect STATUS DESCRIPTION: the last run exited with STATUS.
expect() { if [ "$RC" = "$1" ]; then ok "$2"; else echo "    exit $RC, expected $1"; not_ok "$2"; fi; }
# has FILE PATTERN DESCRIPTION: FILE (out or err) matches the extended regex.
has() { if grep -Eq -- "$2" "$T/$1"; then ok "$3"; else echo "    no /$2/ in $1"; not_ok "$3"; fi; }
mode_of() { stat -c %a "$1"; }
is_mode() { if [ "$(mode_of "$1")" = "$2" ]; then ok "$1 has mode $2"; else not_ok "$1 has mode $2 (is $(mode_of "$1"))"; fi; }
cert_text() { openssl x509 -in "$1" -noout -text; }

cd "$T" || exit 1

# ---- help, version, usage errors ----
run --help; expect 0 "phonesim --help"; has out "mfg-ca" "--help lists mfg-ca"; has out "export" "--help lists export"
run --version; expect 0 "phonesim --version"; has out "^phonesim [0-9]" "--version prints the version"
for c in mfg-ca init trust capf show export; do
	run "$c" --help; expect 0 "$c --help"; has out "^usage: phonesim $c" "$c --help prints its usage"
done
run; expect 1 "no command is a usage error"
run frobnicate; expect 1 "unknown command"; has err "unknown command 'frobnicate'" "unknown command is named"
run show --bogus x; expect 1 "unknown option"; has err "unknown option '--bogus'" "unknown option is named"
run show; expect 1 "missing argument"; has err "missing argument" "missing argument is reported"
run show a b; expect 1 "extra argument"; has err "unexpected argument 'b'" "extra argument is named"

# ---- mfg-ca ----
run mfg-ca create mfg --state /nonexistent; expect 0 "mfg-ca create (with an ignored --state)"
[ -f mfg/mfg.crt ] && [ -f mfg/mfg.key ] && ok "mfg.crt and mfg.key written" || not_ok "mfg.crt and mfg.key written"
is_mode mfg/mfg.key 600
cert_text mfg/mfg.crt >"$T/out"
has out "Subject: CN ?= ?Test Manufacturing CA, O ?= ?Example" "default CA subject"
has out "CA:TRUE" "CA has basicConstraints CA:TRUE"
has out "Certificate Sign" "CA has keyUsage keyCertSign"
run mfg-ca create mfg; expect 1 "mfg-ca create refuses to overwrite"; has err "already holds a manufacturing CA" "overwrite refusal says why"
run mfg-ca create mfg2 --subject "CN=Other Mfg CA,O=Acme,C=NZ" --key ec:p256 --days 30; expect 0 "mfg-ca create with subject, EC key, days"
cert_text mfg2/mfg.crt >"$T/out"
has out "Subject: CN ?= ?Other Mfg CA, O ?= ?Acme, C ?= ?NZ" "custom CA subject"
has out "prime256v1|P-256" "EC P-256 CA key"
run mfg-ca create mfg3 --key rsa:1000; expect 1 "bad key spec"; has err "key" "bad key spec is reported"
run mfg-ca create mfg3 --subject "nonsense"; expect 1 "bad subject"; has err "subject" "bad subject is reported"
run mfg-ca make mfg3; expect 1 "mfg-ca without 'create'"

# ---- init ----
for bad in SEP00112233445 sep001122334455 SEP00112233445G SEP00112233445a ATA001122334455 SEP0011223344556; do
	run init p-bad --name "$bad" --mfg-ca mfg; expect 1 "init refuses device name $bad"
done
has err "not a device name" "bad device name is explained"
[ ! -e p-bad ] && ok "nothing written for a bad name" || not_ok "nothing written for a bad name"
run init p-bad --name SEP001122334455; expect 1 "init without --mfg-ca"; has err "required" "missing --mfg-ca is explained"
run init p-bad --name SEP001122334455 --mfg-ca nowhere; expect 1 "init with a missing CA folder"
run init phone --name SEP001122334455 --mfg-ca mfg; expect 0 "init a phone"
for f in phone.conf mic.crt mic.key mfg.crt; do
	[ -f "phone/$f" ] && ok "phone/$f written" || not_ok "phone/$f written"
done
is_mode phone/mic.key 600
grep -q '^name=SEP001122334455$' phone/phone.conf && grep -q '^model=7962$' phone/phone.conf &&
	ok "phone.conf holds name and model" || not_ok "phone.conf holds name and model"
cert_text phone/mic.crt >"$T/out"
has out "Subject: CN ?= ?CP-7962-SEP001122334455, O ?= ?Example" "MIC subject CN=CP-MODEL-NAME, O from the CA"
has out "Issuer: CN ?= ?Test Manufacturing CA" "MIC issued by the manufacturing CA"
has out "Digital Signature, Key Encipherment" "MIC keyUsage"
has out "TLS Web Client Authentication" "MIC extendedKeyUsage clientAuth"
has out "CA:FALSE" "MIC is not a CA"
openssl verify -CAfile mfg/mfg.crt phone/mic.crt >"$T/out" 2>&1 && ok "MIC chains to the manufacturing CA" || not_ok "MIC chains to the manufacturing CA"
cmp -s mfg/mfg.crt phone/mfg.crt && ok "mfg.crt copied into the phone" || not_ok "mfg.crt copied into the phone"
run init phone --name SEP0011223344AA --mfg-ca mfg; expect 1 "init refuses an existing phone folder"
run init phone2 --name SEP00AABBCCDDEE --mfg-ca mfg2 --model 8841 --mic-key ec:p256 --mic-days 30; expect 0 "init with model, EC MIC, days"
cert_text phone2/mic.crt >"$T/out"
has out "CN ?= ?CP-8841-SEP00AABBCCDDEE, O ?= ?Acme" "MIC subject with model 8841"
has out "prime256v1|P-256" "EC MIC key"

# ---- show ----
run show phone; expect 0 "show"
has out "^Name: +SEP001122334455" "show: name"
has out "^Model: +7962" "show: model"
has out "^MIC: +CN=CP-7962-SEP001122334455" "show: MIC subject"
has out "Not after: +20[0-9][0-9]-" "show: MIC not-after"
has out "^LSC status: +None" "show: no LSC"
has out "^CAPF: +none" "show: no CAPF certificate trusted"
run show phone --json; expect 0 "show --json"
if command -v python3 >/dev/null; then
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["name"]=="SEP001122334455"; assert d["lsc"]["status"]=="None"; assert d["mic"]["serial"]; assert d["capf"]==[]' "$T/out" &&
		ok "show --json is valid JSON with name, lsc, mic, capf" || not_ok "show --json content"
else
	has out '"status": "None"' "show --json: LSC status"
fi
run show mfg; expect 1 "show on a folder that is not a phone"; has err "not a phone folder" "not-a-phone is explained"

# ---- trust ----
run trust phone "$T/missing.pem"; expect 1 "trust with a missing file"
run trust phone "$VECTORS/keys/capf.crt"; expect 0 "trust the CAPF certificate"
has out "CAPF-0a1b2c3d" "trust names the certificate"
openssl x509 -in phone/capf.pem -noout >/dev/null 2>&1 && ok "capf.pem written as PEM" || not_ok "capf.pem written as PEM"
run show phone; has out "^CAPF: +CN=CAPF-0a1b2c3d" "show: trusted CAPF certificate"

# ---- export ----
run export phone; expect 1 "export without --out"; has err "--out" "missing --out is explained"
run export phone --out ex --which bogus; expect 1 "export --which bogus"
run export phone --out ex --which lsc; expect 1 "export --which lsc without an LSC"; has err "no LSC" "no LSC is explained"
run export phone --out ex; expect 0 "export the current certificate (the MIC)"
has out "MIC" "export says it wrote the MIC"
is_mode ex/key.pem 600
cmp -s <(openssl x509 -in ex/cert.pem -outform DER) <(openssl x509 -in phone/mic.crt -outform DER) &&
	ok "cert.pem is the MIC" || not_ok "cert.pem is the MIC"
[ "$(grep -c 'BEGIN CERTIFICATE' ex/chain.pem)" = 2 ] && ok "chain.pem holds MIC and manufacturing CA" || not_ok "chain.pem holds 2 certificates"
[ "$(openssl pkey -in ex/key.pem -pubout 2>/dev/null)" = "$(openssl x509 -in ex/cert.pem -noout -pubkey)" ] &&
	ok "key.pem is the key of cert.pem" || not_ok "key.pem is the key of cert.pem"

# An installed LSC (the vectors' one, issued by the trusted CAPF certificate)
# becomes the current certificate.
openssl x509 -in "$VECTORS/keys/lsc-rsa.pem" -out phone/lsc.crt
openssl pkey -in "$VECTORS/keys/lsc-rsa.pem" -out phone/lsc.key
chmod 600 phone/lsc.key
run show phone; expect 0 "show with an LSC"
has out "^LSC status: +Installed" "show: LSC installed"
has out "Serial: +077df539a15b777394de0f88007e9be0" "show: LSC serial"
run show phone --json
has out '"status": "Installed"' "show --json: LSC installed"
run export phone --out ex2; expect 0 "export the current certificate (the LSC)"
has out "LSC" "export says it wrote the LSC"
cmp -s <(openssl x509 -in ex2/cert.pem -outform DER) <(openssl x509 -in phone/lsc.crt -outform DER) &&
	ok "cert.pem is the LSC" || not_ok "cert.pem is the LSC"
openssl verify -CAfile "$VECTORS/keys/capf.crt" ex2/cert.pem >/dev/null 2>&1 && ok "exported LSC chains to the CAPF certificate" || not_ok "exported LSC verifies"
grep -q 'BEGIN CERTIFICATE' ex2/chain.pem && [ "$(grep -c 'BEGIN CERTIFICATE' ex2/chain.pem)" = 2 ] &&
	ok "chain.pem holds LSC and CAPF certificate" || not_ok "LSC chain.pem"
run export phone --out ex3 --which mic; expect 0 "export --which mic with an LSC installed"
cmp -s <(openssl x509 -in ex3/cert.pem -outform DER) <(openssl x509 -in phone/mic.crt -outform DER) &&
	ok "--which mic exports the MIC" || not_ok "--which mic exports the MIC"
cp "$VECTORS/keys/mic.key" phone/lsc.key
run show phone; expect 1 "an LSC with the wrong key is refused"; has err "does not hold the key" "wrong LSC key is explained"
rm -f phone/lsc.crt phone/lsc.key

# ---- capf: failures before any CAPF message ----
run capf phone2 127.0.0.1:1; expect 3 "capf without a trusted CAPF certificate"
has out "^LSC: Connection failed" "console: LSC: Connection failed"
has out "^result: connection failed" "result line for a missing capf.pem"
grep -q "LSC: Connection failed" phone2/console.log && ok "console.log records the line" || not_ok "console.log records the line"
run capf phone 127.0.0.1:1 --timeout 5; expect 3 "capf to a closed port"
has out "^result: connection failed: cannot connect" "closed port is reported"
run capf phone 127.0.0.1:1 --misbehave bogus; expect 1 "capf with an unknown misbehave mode"
run capf phone 127.0.0.1:1 --auth-cert bogus; expect 1 "capf with an unknown --auth-cert"
run capf phone 127.0.0.1:1 --tls-max 1.1; expect 1 "capf with an unsupported --tls-max"
run capf phone 127.0.0.1:1 --timeout -1; expect 1 "capf with a negative --timeout"
run capf phone; expect 1 "capf without HOST:PORT"
run capf phone 'nohost:' --timeout 2; expect 1 "capf to a malformed address"; has err "is not HOST" "malformed address is explained"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
