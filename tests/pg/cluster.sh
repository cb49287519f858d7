#!/usr/bin/env bash
# cluster.sh: two opencapfd nodes on one PostgreSQL state, as docs/cluster.md
# sets them up: node a's SQLite state moved into PostgreSQL with `opencapf
# store migrate`, its folder (keys/, store.uri, tftp/) copied to node b.
# Checks that a change made through one node is what the other serves at
# once: a TVS certificate added through node a's API is valid on node b's TVS (also
# after node a is killed), a phone scheduled on node b enrolls through node
# a, a trust store change made through node a's HTTP API is what node b's
# CLI lists, a CAPF certificate regenerated through node a is in node b's
# published ITL within seconds, a TVS certificate renewed through node a is
# what node b's TVS presents (once node b has its key) and in node b's ITL;
# and that both nodes refuse a second daemon on their own folder but share
# the database. Runs under with-postgres.sh (OPENCAPF_TEST_PG).
. "$(dirname "$0")/../e2e/lib.sh"
: "${OPENCAPFD:?}" "${PHONESIM:?}" "${VECTORS:?VECTORS must name tests/vectors}" "${OPENCAPF_TEST_PG:?}"
command -v psql >/dev/null && command -v curl >/dev/null || { echo "SKIP: psql or curl missing"; exit 77; }

A=$TEST_TMP/a B=$TEST_TMP/b
DB=cluster_$$
URI=${OPENCAPF_TEST_PG/:\/\/\/*\?/:///$DB?}
psql -X -q "$OPENCAPF_TEST_PG" -c "CREATE DATABASE $DB" >/dev/null || { not_ok "create the database"; finish; exit; }
check "init node a (SQLite)" "$OPENCAPF" --state "$A" init --key ec:p256 --subject "O=Example,C=NZ"
check "store migrate into PostgreSQL" "$OPENCAPF" --state "$A" store migrate "$URI"
expect_output "now uses PostgreSQL" "migrate says the state uses PostgreSQL now"
equal "store.uri names the database" "$(cat "$A/store.uri")" "$URI"
check "store migrate again is refused" bash -c "! '$OPENCAPF' --state '$A' store migrate '$URI'"
cp -a "$A" "$B"
TOKEN=$("$OPENCAPF" --state "$A" token create --role admin --label cluster | tail -1)

# node NAME STATE: opencapfd with CAPF, TVS and (node a) the API on free ports.
declare -A CAPF TVS HTTP NPID
node() {
	local n=$1 s=$2
	CAPF[$n]=$(free_port) TVS[$n]=$(free_port) HTTP[$n]=$(free_port)
	"$OPENCAPFD" --state "$s" --node "$n" --capf-listen "127.0.0.1:${CAPF[$n]}" \
		--tvs-listen "127.0.0.1:${TVS[$n]}" --http-listen "127.0.0.1:${HTTP[$n]}" --workers 2 \
		>"$TEST_TMP/$n.log" 2>&1 &
	NPID[$n]=$!
	PIDS+=("${NPID[$n]}")
	wait_port "${TVS[$n]}" && wait_port "${CAPF[$n]}"
}
check "node a starts" node a "$A"
check "node b starts" node b "$B"

"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null
"$OPENCAPF" --state "$A" trust add manufacturing "$TEST_TMP/mfg/mfg.crt" >/dev/null
P=SEP0000000C0001
"$PHONESIM" init "$TEST_TMP/$P" --name "$P" --mfg-ca "$TEST_TMP/mfg" >/dev/null
check "the phone installs node a's ITL" "$PHONESIM" itl "$TEST_TMP/$P" "$A/tftp/ITLFile.tlv"
expect_exit 2 "node b's TVS: an unknown certificate is invalid" "$PHONESIM" tvs "$TEST_TMP/$P" \
	"127.0.0.1:${TVS[b]}" "$VECTORS/keys/capf.crt"
curl -sS -o "$TEST_TMP/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' --data "{\"certificates\": $(jq -Rs . <"$VECTORS/keys/capf.crt"), \"roles\": [\"CCM\"]}" \
	"http://127.0.0.1:${HTTP[a]}/api/v1/tvs" >"$TEST_TMP/code"
equal "tvs add through node a's API" "$(cat "$TEST_TMP/code")" 200
expect_exit 0 "node b's TVS answers for it at once" "$PHONESIM" tvs "$TEST_TMP/$P" "127.0.0.1:${TVS[b]}" \
	"$VECTORS/keys/capf.crt"
expect_output "^Role:             CCM$" "with the role given on node a"

# A trust store change through node a's API, seen through node b.
curl -sS -o "$TEST_TMP/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' --data "{\"certificates\": $(jq -Rs . <"$VECTORS/keys/mfg.crt")}" \
	"http://127.0.0.1:${HTTP[a]}/api/v1/trust/phone-vpn-trust" >"$TEST_TMP/code"
equal "trust add through node a's API" "$(cat "$TEST_TMP/code")" 200
"$OPENCAPF" --state "$B" trust show phone-vpn-trust >"$TEST_TMP/last.out" 2>&1
expect_output "$(openssl x509 -in "$VECTORS/keys/mfg.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' |
	tr A-F a-f)" "node b's CLI lists the certificate added through node a's API"

# A phone scheduled through node b enrolls through node a.
"$OPENCAPF" --state "$B" phone add "$P" --operation install >/dev/null
"$OPENCAPF" --state "$A" capf cert >"$TEST_TMP/capf.pem"
"$PHONESIM" trust "$TEST_TMP/$P" "$TEST_TMP/capf.pem" >/dev/null
check "the phone enrolls through node a" timeout 60 "$PHONESIM" capf "$TEST_TMP/$P" "127.0.0.1:${CAPF[a]}" --timeout 20
"$OPENCAPF" --state "$B" phone show "$P" >"$TEST_TMP/last.out"
expect_output "Upgrade Success" "node b's CLI shows the install done through node a"

# A new CAPF certificate made through node a: node b hears of it at once
# (NOTIFY), has no key for it yet (keys stay per node), and once the key is
# copied into its keys/ presents it at its next try (every 10 s).
old_fp=$(openssl s_client -connect "127.0.0.1:${CAPF[b]}" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256)
check "capf regenerate through node a" "$OPENCAPF" --state "$A" capf regenerate
cp -a "$A/keys/." "$B/keys/"
switched=0
for _ in $(seq 1 50); do
	grep -q "CAPF certificate changed" "$TEST_TMP/b.log" && { switched=1; break; }
	sleep 0.5
done
equal "node b switches to the new CAPF certificate" "$switched" 1
new_fp=$(openssl s_client -connect "127.0.0.1:${CAPF[b]}" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256)
[ -n "$new_fp" ] && [ "$new_fp" != "$old_fp" ] && ok "node b's CAPF listener presents it" ||
	not_ok "node b's CAPF listener presents the new certificate ($old_fp -> $new_fp)"

# itl_b_lists SHA1: 1 once node b's published ITL lists that certificate
# (within 20 s), else 0.
itl_b_lists() {
	for _ in $(seq 1 40); do
		"$OPENCAPF" itl show "$B/tftp/ITLFile.tlv" 2>/dev/null | grep -q "$1" && { echo 1; return; }
		sleep 0.5
	done
	echo 0
}

# The ITL: node a's CLI published the new one into node a's folder; node b
# republishes into its own within a tick (10 s) of its check, once, and
# neither node rewrites it again while nothing changes.
new_sha1=$("$OPENCAPF" --state "$A" capf cert | openssl x509 -noout -fingerprint -sha1 | sed 's/.*=//; s/:/ /g')
equal "node b's published ITL lists the new CAPF certificate" "$(itl_b_lists "$new_sha1")" 1
check "node b's ITL verifies" "$OPENCAPF" itl show "$B/tftp/ITLFile.tlv"
equal "node b logs the republish once" "$(grep -c 'ITL: republished' "$TEST_TMP/b.log")" 1
equal "node a, where it changed, does not republish" "$(grep -c 'ITL: republished' "$TEST_TMP/a.log")" 0
itl_b=$(stat -c %i.%Y.%s "$B/tftp/ITLFile.tlv") itl_a=$(stat -c %i.%Y.%s "$A/tftp/ITLFile.tlv")
sleep 11
equal "node b leaves its ITL alone afterwards" "$(stat -c %i.%Y.%s "$B/tftp/ITLFile.tlv")" "$itl_b"
equal "node a leaves its ITL alone" "$(stat -c %i.%Y.%s "$A/tftp/ITLFile.tlv")" "$itl_a"
equal "still one republish on node b" "$(grep -c 'ITL: republished' "$TEST_TMP/b.log")" 1

# A TVS certificate renewed through node a: node b notices within its check
# (5 s), cannot use it before its key is in keys/ (logged once), then
# presents it to new TVS connections without a SIGHUP, and its ITL lists it.
tvs_fp() { openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256; }
old_tvs=$(tvs_fp "${TVS[b]}")
check "tvs cert --renew through node a" "$OPENCAPF" --state "$A" tvs cert --renew
new_tvs=$("$OPENCAPF" --state "$A" tvs cert | openssl x509 -noout -fingerprint -sha256)
waited=0
for _ in $(seq 1 30); do
	grep -q "cannot switch to the new TVS certificate" "$TEST_TMP/b.log" && { waited=1; break; }
	sleep 0.5
done
equal "node b has no key for it yet and says so" "$waited" 1
equal "node b's TVS presents the old one meanwhile" "$(tvs_fp "${TVS[b]}")" "$old_tvs"
cp -a "$A/keys/." "$B/keys/"
switched=0
for _ in $(seq 1 30); do
	grep -q "tvs: TVS certificate changed" "$TEST_TMP/b.log" && { switched=1; break; }
	sleep 0.5
done
equal "node b switches to the new TVS certificate" "$switched" 1
[ -n "$old_tvs" ] && [ "$new_tvs" != "$old_tvs" ] && equal "node b's TVS presents it" "$(tvs_fp "${TVS[b]}")" "$new_tvs" ||
	not_ok "the TVS certificate was renewed ($old_tvs -> $new_tvs)"
equal "node a's TVS presents it too" "$(tvs_fp "${TVS[a]}")" "$new_tvs"
tvs_sha1=$("$OPENCAPF" --state "$A" tvs cert | openssl x509 -noout -fingerprint -sha1 | sed 's/.*=//; s/:/ /g')
equal "node b's published ITL lists the new TVS certificate" "$(itl_b_lists "$tvs_sha1")" 1
expect_exit 0 "a phone takes node b's new ITL" "$PHONESIM" itl "$TEST_TMP/$P" "$B/tftp/ITLFile.tlv"

# Node a killed: node b serves on.
kill -9 "${NPID[a]}"; wait "${NPID[a]}" 2>/dev/null
check "tvs add through node b's folder" "$OPENCAPF" --state "$B" tvs add "$TEST_TMP/mfg/mfg.crt" --role CCM
expect_exit 0 "node b's TVS after node a's death" "$PHONESIM" tvs "$TEST_TMP/$P" "127.0.0.1:${TVS[b]}" \
	"$VECTORS/keys/capf.crt" "$TEST_TMP/mfg/mfg.crt"
equal "both valid" "$(grep -c '^Status:           Valid' "$TEST_TMP/last.out")" 2
kill -TERM "${NPID[b]}"; wait "${NPID[b]}"
equal "node b exits 0 on SIGTERM" "$?" 0
psql -X -q "$OPENCAPF_TEST_PG" -c "DROP DATABASE $DB" >/dev/null 2>&1
finish
