#!/usr/bin/env bash
# privsep.sh: the daemon's privilege separation, seen from /proc.
#
# Started as root with --user, opencapfd binds CAPF, TVS, the registration
# check and the HTTPS file service, then runs as the unprivileged user: every
# thread's uid, no new privileges, keys/ unopenable for that user, none of
# the private keys' secrets in its memory (the signer's holds them: the
# search works). The signer has no socket but its socketpairs. The opencapf
# command uses the keys through the signer's door (strace: it opens no key
# file): an ITL, a new CAPF key made, self-signed and saved by the signer and
# used by the daemon; the daemon's user is refused there; with the signer
# stopped, a command gives up on the door after 5 s and warns. Killing the
# signer stops the daemon with status 1, and every recorded LSC verifies.
# Then the same daemon started as the unprivileged user: same separation of
# processes. Needs root (77 otherwise).
set -u
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
: "${PHONESIM:?}" "${OPENCAPFD:?}"

if [ "$(id -u)" != 0 ]; then echo "skipped: needs root"; exit 77; fi
USER_NAME=opencapf-test
id -u "$USER_NAME" >/dev/null 2>&1 ||
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$USER_NAME" ||
	{ echo "skipped: cannot create the user $USER_NAME"; exit 77; }
U=$(id -u "$USER_NAME")
chmod 755 "$TEST_TMP"
cd "$TEST_TMP"
export OPENCAPF_STATE=$TEST_TMP/state

"$OPENCAPF" init --subject "O=Example,OU=Voice,C=NZ" >/dev/null
# the state for the daemon's user, keys/ for root
chown -R "$USER_NAME:" state && chown -R root:root state/keys && chmod 700 state/keys
chmod 600 state/keys/*
mkdir -m 700 https && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj /CN=files -keyout https/files.key -out https/files.crt 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj /CN=localhost -keyout https/api.key -out https/api.crt 2>/dev/null
chmod 644 https/files.crt https/api.crt
TVS_PORT=$(free_port) REG_PORT=$(free_port) HTTPS_PORT=$(free_port) API_PORT=$(free_port)
start_daemon state --user "$USER_NAME" --tvs-listen "127.0.0.1:$TVS_PORT" --register-listen "127.0.0.1:$REG_PORT" \
	--https-files-listen "127.0.0.1:$HTTPS_PORT" --https-files-cert https/files.crt \
	--https-files-key "$TEST_TMP/https/files.key" --http-listen "127.0.0.1:$API_PORT" \
	--http-cert "$TEST_TMP/https/api.crt" --http-key "$TEST_TMP/https/api.key" || exit 1
SIGNER=$(pgrep -P "$DAEMON_PID" -x opencapf-signer)
equal "one signer process, child of the daemon" "$(echo "$SIGNER" | wc -w)" 1

# an enrollment through the signer (TLS handshake and LSC)
"$OPENCAPF" phone add SEP001122334455 --auth string --auth-string 123456 >/dev/null
"$OPENCAPF" phone op SEP001122334455 install --by "2030-01-01 12:00" >/dev/null
"$PHONESIM" mfg-ca create mfg >/dev/null
"$PHONESIM" init phone1 --name SEP001122334455 --mfg-ca mfg >/dev/null
"$OPENCAPF" capf cert >capf.pem && "$PHONESIM" trust phone1 capf.pem >/dev/null
check "enrollment with the key in the signer" "$PHONESIM" capf phone1 "127.0.0.1:$CAPF_PORT" --auth-string 123456
expect_output "result: installed" "the phone got its LSC"
check "TLS to TVS" openssl s_client -connect "127.0.0.1:$TVS_PORT" -brief </dev/null
check "TLS to the HTTPS file service" openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -brief </dev/null
check "TLS to the HTTPS API" openssl s_client -connect "127.0.0.1:$API_PORT" -brief </dev/null
grep -E "signer: (sign-cert|load-key)" "$DAEMON_LOG" >"$TEST_TMP/last.out"
expect_output "sign-cert: LSC SEP001122334455" "the signer logged the LSC"
expect_output "load-key: TLS key files.key" "the signer holds the HTTPS file service's key"
expect_output "load-key: TLS key api.key" "the signer holds the HTTPS API's key"

# the opencapf command while the daemon runs: the keys through the signer's door
equal "the signer's door is STATE/signer.sock, 0600" "$(stat -c %a state/signer.sock)" 600
if command -v strace >/dev/null; then
	# (LeakSanitizer cannot run under ptrace: no leak check for this one run)
	check "itl publish through the daemon's signer" env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		strace -f -qq -e trace=open,openat -o "$TEST_TMP/itl.trace" "$OPENCAPF" itl publish
	equal "the command opened no key file" "$(grep -c -e '/keys/[^"]*\.key' -e 'files\.key' "$TEST_TMP/itl.trace")" 0
else
	check "itl publish through the daemon's signer" "$OPENCAPF" itl publish
	echo "# strace not installed: the command's open calls not checked"
fi
grep -E "signer: admin sign: data \([0-9]+ bytes, SHA[0-9]+\) with sast-1.key" "$DAEMON_LOG" >"$TEST_TMP/last.out"
expect_output "with sast-1.key" "the signer signed the ITL for the command (logged as admin)"
check "capf regenerate through the daemon's signer" "$OPENCAPF" capf regenerate
grep -E "signer: admin (generate-key|save-key|sign: certificate)" "$DAEMON_LOG" >"$TEST_TMP/last.out"
expect_output "admin generate-key: EC 256 key|admin generate-key: RSA 2048 key" "the signer made the new CAPF key"
expect_output "admin sign: certificate .* with \(new key\)" "... signed its own certificate with it"
expect_output "admin save-key: slot [0-9]+ to .*/keys/capf-2.key" "... and saved it as keys/capf-2.key"
equal "the new key file is root's, 0600" "$(stat -c '%U %a' state/keys/capf-2.key)" "root 600"
for _ in $(seq 1 50); do grep -q "CAPF certificate changed from" "$DAEMON_LOG" && break; sleep 0.2; done
grep "CAPF certificate changed from" "$DAEMON_LOG" >"$TEST_TMP/last.out"
expect_output "changed from" "the daemon serves the new CAPF certificate"
"$OPENCAPF" capf cert >capf2.pem && "$PHONESIM" trust phone1 capf2.pem >/dev/null
"$OPENCAPF" phone op SEP001122334455 install --by "2030-01-01 12:00" >/dev/null
check "enrollment with the new key, made in the signer" "$PHONESIM" capf phone1 "127.0.0.1:$CAPF_PORT" \
	--auth-string 123456
expect_output "result: installed" "the phone got an LSC of the new CAPF certificate"
expect_exit 1 "the daemon's user is refused at the door" setpriv --reuid "$U" --regid "$(id -g "$USER_NAME")" \
	--clear-groups "$OPENCAPF" itl publish
expect_output "uid $U may not use the daemon's signer" "... with the reason"
grep -q "refused an administrator's connection from pid [0-9]*: uid $U" "$DAEMON_LOG" &&
	ok "the signer logged the refusal" || not_ok "the signer logged the refusal"

# the workers: user, privileges, files, memory
bad=0
for t in /proc/"$DAEMON_PID"/task/*; do
	uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$t/status")
	[ "$uids" = "$U $U $U $U" ] || { bad=1; echo "    $t: Uid $uids"; }
done
equal "every thread of the daemon runs as $USER_NAME" "$bad" 0
equal "the daemon has no new privileges" "$(awk '/^NoNewPrivs:/ {print $2}' /proc/"$DAEMON_PID"/status)" 1
equal "the daemon has no capabilities" "$(awk '/^CapEff:/ {print $2}' /proc/"$DAEMON_PID"/status)" 0000000000000000
opened=0
for f in state/keys state/keys/* https/files.key https/api.key; do
	setpriv --reuid "$U" --regid "$(id -g "$USER_NAME")" --clear-groups cat "$f" >/dev/null 2>&1 && opened=1
done
equal "the daemon's user opens nothing under keys/ nor the HTTPS keys" "$opened" 0
if ls -l /proc/"$DAEMON_PID"/fd | grep -q -e "/keys/" -e "files.key" -e "api.key"; then not_ok "no key file open in the daemon"; else
	ok "no key file open in the daemon"; fi
# key files (not the token references of scripts/test-softhsm.sh)
PEM_KEYS=$(grep -l "PRIVATE KEY" state/keys/*.key)
check "no private key secrets in the daemon's memory" python3 "$HERE/memsearch.py" "$DAEMON_PID" \
	$PEM_KEYS https/files.key https/api.key
expect_output "searched [1-9][0-9]* bytes" "the daemon's memory was searched"
expect_exit 1 "the signer's memory holds them (the search finds keys)" python3 "$HERE/memsearch.py" "$SIGNER" \
	${PEM_KEYS:-https/files.key}

# the signer: sockets are its socketpairs only
socks=$(ls -l /proc/"$SIGNER"/fd | grep -o 'socket:\[[0-9]*\]' | tr -dc '0-9\n' | sort)
inet=0
for s in $socks; do
	grep -q " $s " /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null && inet=1
	grep -qw "$s" /proc/net/unix || inet=1
done
equal "the signer holds no network socket" "$inet" 0
daemon_socks=$(ls -l /proc/"$DAEMON_PID"/fd | grep -c 'socket:')
[ "$(echo "$socks" | wc -w)" -gt 0 ] && [ "$daemon_socks" -gt 0 ] && ok "the signer holds $(echo "$socks" | wc -w) socketpair ends" ||
	not_ok "the signer holds socketpair ends"
equal "the signer runs as keys/'s owner (root), not as the daemon's user" "$(awk '/^Uid:/ {print $2}' /proc/"$SIGNER"/status)" 0

# a signer that does not answer at the door (stopped): a command waits 5 s for
# its welcome, says so, and opens the key files itself
kill -STOP "$SIGNER"
started=$(date +%s)
check "with the signer stopped, itl publish still works" "$OPENCAPF" itl publish
took=$(( $(date +%s) - started ))
kill -CONT "$SIGNER"
expect_output "warning: the daemon's signer at .*signer.sock: no answer within 5 s: the command opens the key files itself" \
	"... after a warning that names the socket"
[ "$took" -le 15 ] && ok "... within 15 s ($took s)" || not_ok "... within 15 s (took $took s)"

# killing the signer stops the daemon, with nothing half-recorded
"$OPENCAPF" phone op SEP001122334455 install --by "2030-01-01 12:00" >/dev/null
kill -KILL "$SIGNER"
wait "$DAEMON_PID"
equal "the daemon exits with status 1 when the signer dies" "$?" 1
grep -E "signer process [0-9]+ was killed by signal 9: stopping" "$DAEMON_LOG" >"$TEST_TMP/last.out"
expect_output "killed by signal 9" "the daemon says why it stopped"
sqlite3 state/opencapf.db "SELECT hex(der) FROM issued_certs" | while read -r hex; do
	echo "$hex" | xxd -r -p | openssl x509 -inform DER -out "$TEST_TMP/lsc.pem" &&
		openssl verify -partial_chain -CAfile <(cat capf.pem capf2.pem) "$TEST_TMP/lsc.pem" >/dev/null || echo bad
done >"$TEST_TMP/last.out"
expect_no_output "bad" "every recorded LSC is whole and verifies"

# started as the unprivileged user: the same separation of processes (not with
# keys in a token of root's, which that user cannot open)
if [ -n "${OPENCAPF_KEY_STORE:-}" ]; then finish; exit; fi
chown -R "$USER_NAME:" state
"$PHONESIM" init phone2 --name SEP00112233AABB --mfg-ca mfg >/dev/null
"$PHONESIM" trust phone2 capf2.pem >/dev/null
"$OPENCAPF" phone add SEP00112233AABB --auth string --auth-string 654321 >/dev/null
"$OPENCAPF" phone op SEP00112233AABB install --by "2030-01-01 12:00" >/dev/null
chown -R "$USER_NAME:" state
OPENCAPFD_REAL=$OPENCAPFD
OPENCAPFD=$TEST_TMP/as-user.sh
printf '#!/bin/sh\nexec setpriv --reuid %s --regid %s --clear-groups "%s" "$@"\n' "$U" "$(id -g "$USER_NAME")" \
	"$OPENCAPFD_REAL" >"$OPENCAPFD"
chmod 755 "$OPENCAPFD"
start_daemon state || exit 1
SIGNER=$(pgrep -P "$DAEMON_PID" -x opencapf-signer)
equal "started as $USER_NAME: a signer process too" "$(echo "$SIGNER" | wc -w)" 1
check "started as $USER_NAME: enrollment" "$PHONESIM" capf phone2 "127.0.0.1:$CAPF_PORT" --auth-string 654321
expect_output "result: installed" "started as $USER_NAME: the phone got its LSC"
check "started as $USER_NAME: no private key secrets in the daemon's memory" python3 "$HERE/memsearch.py" \
	"$DAEMON_PID" $PEM_KEYS
stop_daemon

finish
