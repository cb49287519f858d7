#!/usr/bin/env bash
# backup.sh: `opencapf backup` taken while `phonesim load` enrolls phones
# (OPENCAPF_BACKUP_PHONES of them, default 300; scripts/backup-campaign.sh
# runs 10,000), restored into a new state: integrity_check ok, and every LSC
# a phone had received before the backup started is on record. Encrypted
# backups, and truncated, altered, foreign archives and wrong passphrases
# refused with the reason.
. "$(dirname "$0")/lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"
command -v sqlite3 >/dev/null || { echo "skipped: sqlite3 is not installed"; exit 77; }

N=${OPENCAPF_BACKUP_PHONES:-300}
S="$TEST_TMP/state"
oc() { "$OPENCAPF" --state "$S" "$@"; }
oc init --key ec:p256 >/dev/null
oc capf cert >"$TEST_TMP/capf.pem"
start_daemon "$S" || exit 1
{ echo "name,key_order,operation"
  for i in $(seq 0 $((N - 1))); do printf 'SEP%012X,ec,install\n' $((0xB0000 + i)); done
} >"$TEST_TMP/phones.csv"
oc phone import "$TEST_TMP/phones.csv" >/dev/null

# --- the load runs; the backup starts once a sixth of the phones have their LSC
R="$TEST_TMP/received"
"$PHONESIM" load --capf "127.0.0.1:$CAPF_PORT" --trust "$TEST_TMP/capf.pem" --first SEP0000000B0000 \
	--count "$N" --concurrency 20 --threads 2 --max-seconds 1200 --received "$R" >"$TEST_TMP/load.out" 2>&1 &
LOAD_PID=$!
PIDS+=("$LOAD_PID")
for _ in $(seq 1 600); do
	[ "$(cat "$R" 2>/dev/null | wc -l)" -ge $((N / 6)) ] && break
	sleep 0.1
done
cp "$R" "$TEST_TMP/received.before"
expect_exit 0 "backup while the load runs" oc backup "$TEST_TMP/during.ocb"
expect_output "^backup .*during.ocb: [0-9]+ files, [0-9]+ bytes, schema [0-9]+, not encrypted$" "it says what it wrote"
if kill -0 "$LOAD_PID" 2>/dev/null; then ok "the load was still enrolling phones after the backup"
else not_ok "the load had already ended: the backup did not overlap it"; fi
wait "$LOAD_PID"
equal "the load enrolled every phone" "$?" 0
before=$(wc -l <"$TEST_TMP/received.before")
echo "# $before of $N LSCs received before the backup started"
equal "archive mode 0600" "$(stat -c %a "$TEST_TMP/during.ocb")" 600

# --- restore it
T="$TEST_TMP/restored"
expect_exit 0 "restore into a new state" "$OPENCAPF" --state "$T" restore "$TEST_TMP/during.ocb"
expect_output "^restored [0-9]+ files from .* \(schema [0-9]+, integrity ok\)$" "it says what it restored"
equal "PRAGMA integrity_check" "$(sqlite3 "$T/opencapf.db" 'PRAGMA integrity_check')" ok
missing=$(sqlite3 "$T/opencapf.db" "SELECT phone || ' ' || sha256 || ' ' || serial FROM issued_certs" | sort |
	comm -13 - <(sort "$TEST_TMP/received.before") | wc -l)
equal "every LSC received before the backup is on record in the restore ($before)" "$missing" 0
equal "keys/ is 0700" "$(stat -c %a "$T/keys")" 700
equal "every key file is 0600" "$(find "$T/keys" -type f ! -perm 600 | wc -l)" 0
equal "the same CAPF key" "$(cmp -s "$S/keys/capf-1.key" "$T/keys/capf-1.key" && echo same)" same
expect_exit 0 "the restored state serves the CLI" "$OPENCAPF" --state "$T" phone show SEP0000000B0000
stop_daemon

# --- encrypted
printf 'correct horse battery staple\n' >"$TEST_TMP/pass"
printf 'wrong\n' >"$TEST_TMP/wrong"
expect_exit 0 "an encrypted backup" oc backup "$TEST_TMP/enc.ocb" --passphrase-file "$TEST_TMP/pass"
expect_output "encrypted \(AES-256-GCM\)$" "it says it is encrypted"
equal "the archive does not hold the key in clear" "$(grep -c "PRIVATE KEY" "$TEST_TMP/enc.ocb")" 0
expect_exit 1 "no passphrase for an encrypted archive" "$OPENCAPF" --state "$TEST_TMP/e1" restore "$TEST_TMP/enc.ocb"
expect_output "the archive is encrypted: a passphrase is needed" "... refused, with the reason"
expect_exit 1 "a wrong passphrase" "$OPENCAPF" --state "$TEST_TMP/e1" restore "$TEST_TMP/enc.ocb" \
	--passphrase-file "$TEST_TMP/wrong"
expect_output "authentication failed: wrong passphrase, or the archive was altered" "... refused, with the reason"
expect_exit 0 "the right passphrase restores it" "$OPENCAPF" --state "$TEST_TMP/e1" restore "$TEST_TMP/enc.ocb" \
	--passphrase-file "$TEST_TMP/pass"
equal "... with every phone" "$(sqlite3 "$TEST_TMP/e1/opencapf.db" 'SELECT count(*) FROM phones')" "$N"

# --- refused archives leave nothing behind
size=$(stat -c %s "$TEST_TMP/during.ocb")
head -c $((size - 100)) "$TEST_TMP/during.ocb" >"$TEST_TMP/truncated.ocb"
expect_exit 1 "a truncated archive is refused" "$OPENCAPF" --state "$TEST_TMP/x" restore "$TEST_TMP/truncated.ocb"
expect_output "truncated: $((size - 100)) bytes, the header announces $size" "... saying it is truncated"
cp "$TEST_TMP/during.ocb" "$TEST_TMP/tampered.ocb"
flip_byte "$TEST_TMP/tampered.ocb" $((size / 2))
expect_exit 1 "an altered archive is refused" "$OPENCAPF" --state "$TEST_TMP/x" restore "$TEST_TMP/tampered.ocb"
expect_output "checksum mismatch: the archive was altered or damaged" "... saying so"
cp "$TEST_TMP/enc.ocb" "$TEST_TMP/enc-tampered.ocb"
flip_byte "$TEST_TMP/enc-tampered.ocb" 1000
expect_exit 1 "an altered encrypted archive is refused" "$OPENCAPF" --state "$TEST_TMP/x" restore \
	"$TEST_TMP/enc-tampered.ocb" --passphrase-file "$TEST_TMP/pass"
expect_output "authentication failed" "... saying so"
head -c 4096 /dev/urandom >"$TEST_TMP/foreign.ocb"
expect_exit 1 "a foreign file is refused" "$OPENCAPF" --state "$TEST_TMP/x" restore "$TEST_TMP/foreign.ocb"
expect_output "not an opencapf backup" "... saying so"
tar -C "$S" -cf "$TEST_TMP/state.tar" keys
expect_exit 1 "a tar of the state is refused" "$OPENCAPF" --state "$TEST_TMP/x" restore "$TEST_TMP/state.tar"
[ ! -e "$TEST_TMP/x" ] && [ -z "$(ls -d "$TEST_TMP"/x.restore-* 2>/dev/null)" ] && \
	ok "refused restores left no state and no staging folder" || not_ok "a refused restore left files"
expect_exit 1 "restore into a state that is not empty is refused" "$OPENCAPF" --state "$T" restore \
	"$TEST_TMP/during.ocb"
expect_output "is not empty: restore only into a new or empty state folder" "... saying so"
mkdir "$TEST_TMP/empty"
expect_exit 0 "restore into an empty folder" "$OPENCAPF" --state "$TEST_TMP/empty" restore "$TEST_TMP/during.ocb"
expect_exit 1 "backup to an existing file is refused" oc backup "$TEST_TMP/during.ocb"
expect_output "already exists" "... saying so"
expect_exit 1 "backup of a missing state" "$OPENCAPF" --state "$TEST_TMP/none" backup "$TEST_TMP/none.ocb"
expect_output "no readable opencapf state at $TEST_TMP/none" "... names it"
: >"$TEST_TMP/empty-pass"
expect_exit 1 "an empty passphrase is refused" oc backup "$TEST_TMP/e2.ocb" --passphrase-file "$TEST_TMP/empty-pass"
expect_exit 0 "backup --help" oc backup --help
expect_exit 0 "restore --help" oc restore --help
expect_exit 2 "restore needs FILE" oc restore
finish
