#!/usr/bin/env bash
# cli_init.sh: `opencapf init`, `capf show`, `capf cert` against real state
# folders: the CAPF certificate's contents, refusals that leave data
# untouched, and crash safety of init.
. "$(dirname "$0")/lib.sh"

S="$TEST_TMP/state"
SUBJ="O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ"

# --- help and usage errors
expect_exit 0 "opencapf --help" "$OPENCAPF" --help
expect_output "init" "top-level help lists init"
for c in init "capf show" "capf cert" "phone add" "phone set" "phone op" "phone show" "phone list" \
	"phone remove" "trust list" "trust show" "trust add"; do
	# shellcheck disable=SC2086
	expect_exit 0 "opencapf $c --help" "$OPENCAPF" $c --help
	expect_output "usage: opencapf" "$c --help prints usage"
done
expect_exit 2 "unknown command is a usage error" "$OPENCAPF" frobnicate
expect_output "unknown command 'frobnicate'" "unknown command named"
expect_exit 2 "unknown option is a usage error" "$OPENCAPF" --state "$S" init --bogus
expect_output "unknown option" "unknown option named"
expect_exit 2 "bad --key is a usage error" "$OPENCAPF" --state "$S" init --key rsa:1000
expect_output "rsa:2048" "bad --key lists the choices"
expect_exit 2 "bad --subject is a usage error" "$OPENCAPF" --state "$S" init --subject "X=1"
[ ! -e "$S" ] && ok "failed usage created nothing" || not_ok "failed usage created $S"

# --- a state that does not exist yet
expect_exit 1 "capf show without state fails" "$OPENCAPF" --state "$S" capf show
expect_output "opencapf init" "error says to run init"

# --- init
expect_exit 0 "init creates the state" "$OPENCAPF" --state "$S" init --subject "$SUBJ"
expect_output "CAPF-[0-9a-f]{8}" "init names the CAPF certificate"
[ -f "$S/opencapf.db" ] && ok "database created" || not_ok "no database"
equal "keys/ is 0700" "$(stat -c %a "$S/keys")" 700
for k in "$S"/keys/*.key; do equal "$(basename "$k") is 0600" "$(stat -c %a "$k")" 600; done
equal "database is in WAL mode" "$(sqlite3 "$S/opencapf.db" 'PRAGMA journal_mode')" wal
ls -a "$(dirname "$S")" | grep -q '^\.state\.init' && not_ok "temporary init folder left behind" \
	|| ok "no temporary folder left behind"

# --- the certificate
"$OPENCAPF" --state "$S" capf cert >"$TEST_TMP/capf.pem"
check "capf cert prints a PEM certificate" openssl x509 -in "$TEST_TMP/capf.pem" -noout
openssl x509 -in "$TEST_TMP/capf.pem" -noout -text >"$TEST_TMP/last.out"
expect_output "Subject: CN ?= ?CAPF-[0-9a-f]{8}, OU ?= ?Voice, O ?= ?Example, L ?= ?Wellington, ST ?= ?WGN, C ?= ?NZ" \
	"subject CN=CAPF-xxxxxxxx with the organisation fields"
expect_output "Basic Constraints: critical" "basicConstraints critical"
expect_output "CA:TRUE, pathlen:0" "CA:TRUE pathlen:0"
expect_output "Key Usage: critical" "keyUsage critical"
expect_output "Digital Signature, Certificate Sign" "digitalSignature + keyCertSign"
expect_output "Signature Algorithm: sha256WithRSAEncryption" "SHA-256 with RSA"
expect_output "Public-Key: \(2048 bit\)" "RSA-2048 by default"
serial=$(openssl x509 -in "$TEST_TMP/capf.pem" -noout -serial | cut -d= -f2)
equal "serial is 16 bytes" "${#serial}" 32
issuer=$(openssl x509 -in "$TEST_TMP/capf.pem" -noout -issuer -nameopt RFC2253)
subject=$(openssl x509 -in "$TEST_TMP/capf.pem" -noout -subject -nameopt RFC2253)
equal "self-signed" "${issuer#issuer=}" "${subject#subject=}"
nb=$(date -d "$(openssl x509 -in "$TEST_TMP/capf.pem" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in "$TEST_TMP/capf.pem" -noout -enddate | cut -d= -f2)" +%s)
equal "valid 5 years (1825 days)" "$(( (na - nb) / 86400 ))" 1825
check "CAPF certificate verifies against itself" openssl verify -CAfile "$TEST_TMP/capf.pem" "$TEST_TMP/capf.pem"

expect_exit 0 "capf show" "$OPENCAPF" --state "$S" capf show
expect_output "^Subject: +CN=CAPF-" "show: subject"
expect_output "^Serial: +[0-9a-f]{32}$" "show: serial"
expect_output "^Key: +RSA 2048" "show: key"
expect_output "^SHA-1: +[0-9a-f]{40}$" "show: SHA-1 fingerprint (lower-case hex, as everywhere)"
expect_output "^SHA-256: +[0-9a-f]{64}$" "show: SHA-256 fingerprint (lower-case hex, as everywhere)"
expect_output "^Days left: +1824|^Days left: +1825" "show: days left"
fp=$(openssl x509 -in "$TEST_TMP/capf.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
expect_output "$fp" "show: SHA-256 matches openssl"

# --- trust stores hold the CAPF certificate
OPENCAPF_STATE="$S" "$OPENCAPF" trust list >"$TEST_TMP/last.out" 2>&1
for t in CallManager-trust CAPF-trust manufacturing phone-vpn-trust 802.1x; do
	expect_output "^$t " "trust store $t exists"
done
for t in CAPF-trust CallManager-trust; do
	"$OPENCAPF" --state "$S" trust show "$t" >"$TEST_TMP/last.out" 2>&1
	expect_output "sha256 +$(echo "$fp" | tr -d : | tr A-F a-f)" "CAPF certificate is in $t"
done

# --- OPENCAPF_STATE works like --state
OPENCAPF_STATE="$S" "$OPENCAPF" capf show >"$TEST_TMP/last.out" 2>&1
expect_output "CN=CAPF-" "OPENCAPF_STATE selects the state"

# --- refusals leave data untouched
before=$(cd "$S" && find . -type f -exec sha256sum {} + | sort)
expect_exit 1 "init on an existing state refuses" "$OPENCAPF" --state "$S" init
expect_output "already exists" "refusal says why"
after=$(cd "$S" && find . -type f -exec sha256sum {} + | sort)
equal "existing state untouched by the refused init" "$after" "$before"

# --- --force moves the old state aside, keys and all
oldkey=$(sha256sum "$S"/keys/capf-1.key | cut -d' ' -f1)
expect_exit 0 "init --force" "$OPENCAPF" --state "$S" init --force --key ec:p256
expect_output "previous state moved to" "init --force says where the old state went"
moved=$(ls -d "$S".old-* | head -1)
equal "old CAPF key kept in the moved state" "$(sha256sum "$moved"/keys/capf-1.key | cut -d' ' -f1)" "$oldkey"
"$OPENCAPF" --state "$S" capf show >"$TEST_TMP/last.out" 2>&1
expect_output "^Key: +EC P-256" "new state has an EC P-256 CAPF key"
"$OPENCAPF" --state "$S" capf cert | openssl x509 -noout -text >"$TEST_TMP/last.out"
expect_output "ecdsa-with-SHA256" "EC CAPF certificate signed with ECDSA-SHA256"

# --- unwritable state
expect_exit 1 "init under a file fails" "$OPENCAPF" --state /etc/hostname/state init
expect_output "opencapf: " "unwritable state gives an error"

# --- corrupt database
C="$TEST_TMP/corrupt"
"$OPENCAPF" --state "$C" init >/dev/null
head -c 4096 /dev/urandom >"$C/opencapf.db"
rm -f "$C/opencapf.db-wal" "$C/opencapf.db-shm"
sum=$(sha256sum "$C/opencapf.db")
expect_exit 1 "corrupt database is refused" "$OPENCAPF" --state "$C" capf show
expect_output "not an opencapf database|corrupt" "corrupt database error is clear"
equal "corrupt database left as it was" "$(sha256sum "$C/opencapf.db")" "$sum"

# --- killing init at any moment leaves no state or a complete one
K="$TEST_TMP/killed"
complete=0 absent=0 broken=0
for i in $(seq 1 12); do
	rm -rf "$K" "$TEST_TMP"/.killed.init-*
	"$OPENCAPF" --state "$K" init --key rsa:3072 >/dev/null 2>&1 &
	pid=$!
	sleep "0.$(printf '%03d' $(( (i * 37) % 400 )))"
	kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	if [ ! -e "$K" ]; then absent=$((absent + 1))
	elif "$OPENCAPF" --state "$K" capf show >/dev/null 2>&1; then complete=$((complete + 1))
	else broken=$((broken + 1)); fi
done
equal "killed init never leaves a half state ($absent absent, $complete complete)" "$broken" 0

# --- an existing empty folder (a package's /var/lib/opencapf, owned by the service user) is
# filled in place, keeping its owner and mode, by that user, whose parent folder is read-only
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	P="$TEST_TMP/varlib"
	mkdir -p "$P/opencapf" && chown nobody "$P/opencapf" && chmod 750 "$P/opencapf" && chmod 755 "$TEST_TMP" "$P"
	expect_exit 0 "init as the service user into its empty folder (parent not writable)" \
		setpriv --reuid nobody --regid nogroup --clear-groups "$OPENCAPF" --state "$P/opencapf" init
	equal "the folder keeps its mode" "$(stat -c %a "$P/opencapf")" 750
	equal "the state belongs to the service user" "$(stat -c %U "$P/opencapf/opencapf.db" "$P/opencapf/keys" | sort -u)" nobody
	equal "no build folder is left" "$(find "$P" -name '.*init*' | wc -l)" 0
	expect_exit 0 "the state works" "$OPENCAPF" --state "$P/opencapf" capf show
	expect_exit 0 "and takes a phone" sh -c "'$OPENCAPF' --state '$P/opencapf' phone add SEP00AABBCCDDEE"
	expect_exit 1 "a second init into it is refused" \
		setpriv --reuid nobody --regid nogroup --clear-groups "$OPENCAPF" --state "$P/opencapf" init
fi

finish
