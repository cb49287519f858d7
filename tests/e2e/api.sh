#!/usr/bin/env bash
# api.sh: opencapfd's admin HTTP API over real HTTP (curl): every endpoint,
# every authentication failure (401, 403, CSRF, rate limit), malformed and
# oversized bodies, wrong types, unknown paths and methods: each a clear
# 4xx JSON error that changes nothing. Also browser sessions (cookie flags,
# CSRF), a phone enrolling with phonesim and the metrics counting it, the
# guarded trust removal, the CAPF lifecycle, the ITL, token revocation, no
# secret in logs or the audit log, and HTTPS.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"

S="$TEST_TMP/state"
DB="$S/opencapf.db"
"$OPENCAPF" --state "$S" init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" >/dev/null
"$OPENCAPF" --state "$S" capf cert >"$TEST_TMP/capf.pem"
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null
"$PHONESIM" mfg-ca create "$TEST_TMP/other" --subject "CN=Other Test CA,O=Elsewhere" >/dev/null
"$OPENCAPF" --state "$S" trust add manufacturing "$TEST_TMP/mfg/mfg.crt" >/dev/null

# --- tokens from the CLI
"$OPENCAPF" --state "$S" token create --role admin --label "api test" >"$TEST_TMP/create.out"
ADMIN=$(tail -1 "$TEST_TMP/create.out")
READ=$(new_token "$S" read)
REVOKED=$(new_token "$S" admin)
[[ "$ADMIN" =~ ^ocapf_[0-9]+_[A-Za-z0-9_-]{43}$ ]] && ok "token create prints the token alone on its last line" ||
	not_ok "token create output: $(cat "$TEST_TMP/create.out")"
expect_exit 2 "token create without --role is refused" "$OPENCAPF" --state "$S" token create
check "token list" "$OPENCAPF" --state "$S" token list
expect_output "admin +active" "token list shows roles and states"
expect_no_output "${ADMIN#ocapf_*_}" "token list never shows a token"
REVOKED_ID=$(echo "$REVOKED" | cut -d_ -f2)
check "token revoke" "$OPENCAPF" --state "$S" token revoke "$REVOKED_ID"
expect_exit 1 "revoking it twice fails" "$OPENCAPF" --state "$S" token revoke "$REVOKED_ID"

cat >"$TEST_TMP/opencapfd.ini" <<EOF
[http]
login_max_failures = 60
login_window = 600
session_minutes = 30
EOF
start_api_daemon "$S" --config "$TEST_TMP/opencapfd.ini" || exit 1

# call METHOD PATH [CURL ARGS...]: sets CODE; the body is in $B, headers in $H.
B="$TEST_TMP/body" H="$TEST_TMP/headers"
call() {
	local m=$1 p=$2; shift 2
	CODE=$(curl -s -o "$B" -D "$H" -w '%{http_code}' -X "$m" "$@" "$BASE$p")
}
AUTH=(-H "Authorization: Bearer $ADMIN")
RAUTH=(-H "Authorization: Bearer $READ")
JSON=(-H "Content-Type: application/json")
# expect CODE DESCRIPTION: the last call's status, and a JSON error body for 4xx/5xx.
expect() {
	if [ "$CODE" = "$1" ]; then ok "$2"; else not_ok "$2 (HTTP $CODE, wanted $1)"; head -c 400 "$B" | sed 's/^/    /'; echo; fi
	if [ "$1" -ge 400 ]; then
		jq -e '.error | type == "string" and length > 0' "$B" >/dev/null 2>&1 && grep -qi '^content-type: application/json' "$H" ||
			not_ok "$2: the error is not a JSON {\"error\": ...} body"
	fi
}
jv() { jq -r "$1" "$B"; }
# The state an error must not change: phones, certificates, trust, tokens, audit (failed logins aside).
snapshot() {
	sqlite3 "$DB" "SELECT * FROM phones ORDER BY name; SELECT phone, time, outcome FROM phone_history ORDER BY id;
		SELECT store, sha256, note FROM trust_certs ORDER BY store, sha256; SELECT id, state, sha256 FROM capf_certs ORDER BY id;
		SELECT id, role, revoked FROM api_tokens ORDER BY id; SELECT count(*) FROM issued_certs;
		SELECT id, actor, action, object FROM audit_log WHERE action NOT LIKE 'api.login%' ORDER BY id" | md5sum
}

# --- health, open to all
call GET /api/v1/health
expect 200 "health needs no token"
equal "health says ok" "$(jv .status)" ok
grep -qi '^x-content-type-options: nosniff' "$H" && ok "nosniff header" || not_ok "no nosniff header"
grep -qi "^content-security-policy: default-src 'self'" "$H" && ok "content security policy" || not_ok "no CSP header"

# --- authentication failures
BEFORE=$(snapshot)
call GET /api/v1/phones
expect 401 "no token: 401"
grep -qi '^www-authenticate: Bearer' "$H" && ok "401 names the Bearer scheme" || not_ok "no WWW-Authenticate"
call GET /api/v1/phones -H "Authorization: Basic YWRtaW46YWRtaW4="
expect 401 "another scheme: 401"
call GET /api/v1/phones -H "Authorization: Bearer ocapf_1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
expect 401 "a wrong secret for a real token id: 401"
call GET /api/v1/phones -H "Authorization: Bearer nonsense"
expect 401 "a malformed token: 401"
call GET /api/v1/phones -H "Authorization: Bearer $REVOKED"
expect 401 "a revoked token: 401"
call GET /metrics
expect 401 "metrics need a token"
call GET /api/v1/phones -H "Cookie: opencapf_session=1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
expect 401 "a forged session cookie: 401"
for req in "POST /api/v1/phones" "POST /api/v1/phones/schedule" "PATCH /api/v1/phones/SEP001122334455" \
	"DELETE /api/v1/phones/SEP001122334455" "POST /api/v1/phones/SEP001122334455/operation" \
	"POST /api/v1/trust/CAPF-trust" "DELETE /api/v1/trust/CAPF-trust/0123456789abcdef" \
	"POST /api/v1/capf/regenerate" "POST /api/v1/capf/csr" "POST /api/v1/capf/import" "POST /api/v1/itl/rebuild"; do
	set -- $req
	call "$1" "$2" "${RAUTH[@]}" "${JSON[@]}" -d '{}'
	expect 403 "read token: $req is forbidden"
	call "$1" "$2" "${JSON[@]}" -d '{}'
	expect 401 "no token: $req is 401"
done
equal "refused requests changed nothing" "$(snapshot)" "$BEFORE"

# --- phones: create, show, list, update
call POST /api/v1/phones "${AUTH[@]}" "${JSON[@]}" \
	-d '{"name":"SEP001122334455","model":"7962","description":"front desk","auth":"string","auth_string":"735193","key_order":"ec-rsa","rsa_bits":3072,"ec_bits":384}'
expect 201 "create a phone"
equal "created with its settings" "$(jv '[.name,.model,.auth,.key_order,.rsa_bits,.ec_bits,.auth_string_set]|@csv')" \
	'"SEP001122334455","7962","string","ec-rsa",3072,384,true'
grep -q "735193" "$B" && not_ok "the authentication string is in the response" || ok "the authentication string is never returned"
grep -qi '^location: /api/v1/phones/SEP001122334455' "$H" && ok "201 names the new phone's location" || not_ok "no Location"
call POST /api/v1/phones "${AUTH[@]}" "${JSON[@]}" -d '{"name":"SEP001122334455"}'
expect 409 "creating it twice: 409"
for n in 1 2 3 4 5 6; do
	call POST /api/v1/phones "${AUTH[@]}" "${JSON[@]}" -d "{\"name\":\"SEP00000000000$n\",\"model\":\"8845\",\"auth\":\"mic-first\"}"
done
expect 201 "create more phones"
call GET /api/v1/phones/SEP001122334455 "${RAUTH[@]}"
expect 200 "show a phone with a read token"
equal "CAPF Information labels" "$(jv '[.auth_label,.key_order_label,.operation_label]|@csv')" \
	'"By Authentication String","EC Preferred, RSA Backup","No Pending Operation"'
call GET /api/v1/phones/SEP00000000FFFF "${AUTH[@]}"
expect 404 "an unknown phone: 404"
call GET /api/v1/phones/not-a-phone "${AUTH[@]}"
expect 404 "not a device name: 404"
call GET "/api/v1/phones?model=8845&limit=2&offset=1" "${RAUTH[@]}"
expect 200 "list with a filter and paging"
equal "total, page size and first name" "$(jv '[.total,(.phones|length),.phones[0].name]|@csv')" '6,2,"SEP000000000002"'
call GET "/api/v1/phones?names=SEP000000000001,SEP001122334455" "${AUTH[@]}"
equal "names filter" "$(jv '[.phones[].name]|join(" ")')" "SEP000000000001 SEP001122334455"
call GET "/api/v1/phones?name=SEP0000*&auth=mic-first&lsc_status=none" "${AUTH[@]}"
equal "glob, auth and LSC state filters" "$(jv .total)" 6
call GET "/api/v1/phones?lsc_status=bogus" "${AUTH[@]}"
expect 400 "a bad filter value: 400"
call GET "/api/v1/phones?colour=red" "${AUTH[@]}"
expect 400 "an unknown filter: 400"
call GET "/api/v1/phones?limit=0" "${AUTH[@]}"
expect 400 "limit out of range: 400"
call GET "/api/v1/phones?offset=-1" "${AUTH[@]}"
expect 400 "negative offset: 400"
# Issue 21, defect 6: the list's elements are `phone list --json`'s, member for member; ages as the CLI's.
call GET "/api/v1/phones?model=8845" "${AUTH[@]}"
equal "the API list and 'phone list --json' give the same phones in the same shape" "$(jq -c .phones "$B")" \
	"$("$OPENCAPF" --state "$S" phone list --model 8845 --json | jq -c .)"
call GET "/api/v1/phones?since=7d" "${AUTH[@]}"
expect 200 "the list takes since=7d (last contact within a week)"
call GET "/api/v1/phones?since=7x" "${AUTH[@]}"
expect 400 "a bad since: 400"

call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" -d '{"description":"","rsa_bits":2048,"model":"8851"}'
expect 200 "update a phone"
equal "updated fields" "$(jv '[.description,.rsa_bits,.model,.auth]|@csv')" '"",2048,"8851","string"'
sqlite3 "$DB" "SELECT actor, action FROM audit_log WHERE object='SEP001122334455' ORDER BY id" >"$TEST_TMP/last.out"
expect_output "^api:token-[0-9]+\|phone.add$" "the creation is audited with the token as actor"
expect_output "^api:token-[0-9]+\|phone.set$" "the update is audited"
sqlite3 "$DB" "SELECT detail FROM audit_log" | grep -q 735193 && not_ok "the auth string leaked into the audit log" ||
	ok "the audit log holds no authentication string"

# --- malformed bodies, wrong types: 400/413/415, nothing changed
BEFORE=$(snapshot)
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" -d '{"model": "7962",'
expect 400 "malformed JSON: 400"
grep -q "malformed JSON at line" "$B" && ok "the error says where the JSON broke" || not_ok "no position in: $(cat "$B")"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" -d '["model"]'
expect 400 "a JSON array body: 400"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" -d '"text"'
expect 400 "a JSON string body: 400"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}"
expect 400 "no body: 400"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" -H "Content-Type: text/plain" -d '{"model":"x"}'
expect 415 "not JSON content: 415"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" -d '{"rsa_bits":"2048"}'
expect 400 "a number as a string: 400"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" -d '{"auth":7}'
expect 400 "a string as a number: 400"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" -d '{"rsa_bits":2000}'
expect 400 "an RSA size phones do not have: 400"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" -d '{"auth_string":"12ab"}'
expect 400 "an authentication string that is not digits: 400"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" -d '{"ec_bits":256.5}'
expect 400 "a fraction: 400"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" -d '{"modle":"7962"}'
expect 400 "an unknown member: 400"
grep -q "unknown member 'modle'" "$B" && ok "the error names the unknown member" || not_ok "error: $(cat "$B")"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" -d '{"model":"a","model":"b"}'
expect 400 "duplicate members: 400"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" -d '{"name":"SEP001122334466"}'
expect 400 "renaming: 400"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" -d '{"description":"bell\u0007"}'
expect 400 "control characters: 400"
call PATCH /api/v1/phones/SEP000000000001 "${AUTH[@]}" "${JSON[@]}" -d '{"auth":"string"}'
expect 400 "string mode without a string: 400"
call POST /api/v1/phones "${AUTH[@]}" "${JSON[@]}" -d '{"name":"sep0011223344z7"}'
expect 400 "a device name with a non-hex digit: 400"
call POST /api/v1/phones "${AUTH[@]}" "${JSON[@]}" -d '{"name":"00:11:22:33:44:zz"}'
expect 400 "a MAC address with a non-hex digit: 400"
call POST /api/v1/phones "${AUTH[@]}" "${JSON[@]}" -d '{"model":"7962"}'
expect 400 "a phone without a name: 400"
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$TEST_TMP/big.json"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" --data-binary "@$TEST_TMP/big.json"
expect 413 "a 2 MiB body: 413"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" -H "Expect:" --data-binary "@$TEST_TMP/big.json"
expect 413 "a 2 MiB body sent without waiting for 100-continue: 413"
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$TEST_TMP/huge.json"
call POST /api/v1/phones "${AUTH[@]}" "${JSON[@]}" --data-binary "@$TEST_TMP/huge.json"
expect 413 "a 9 MiB body is refused before it is read whole, with a JSON error"
call POST /api/v1/phones/SEP001122334455/operation "${AUTH[@]}" "${JSON[@]}" -d '{"operation":"reboot"}'
expect 400 "an unknown operation: 400"
call POST /api/v1/phones/SEP001122334455/operation "${AUTH[@]}" "${JSON[@]}" -d '{"operation":"install","by":"tomorrow"}'
expect 400 "a bad deadline: 400"
call POST /api/v1/phones/schedule "${AUTH[@]}" "${JSON[@]}" -d '{"operation":"install"}'
expect 400 "bulk scheduling with no filter and no \"all\": 400"
call POST /api/v1/phones/schedule "${AUTH[@]}" "${JSON[@]}" -d '{"operation":"install","filter":{"names":["bad"]}}'
expect 400 "bulk scheduling with a bad name: 400"
call GET /api/v1/nothing-here "${AUTH[@]}"
expect 404 "an unknown endpoint: 404"
call PUT /api/v1/phones/SEP001122334455 "${AUTH[@]}" "${JSON[@]}" -d '{}'
expect 405 "a method the path does not take: 405"
grep -qi '^allow: GET, HEAD, PATCH, DELETE' "$H" && ok "405 lists the allowed methods" || not_ok "Allow: $(grep -i '^allow' "$H")"
call DELETE /api/v1/health
expect 405 "DELETE on health: 405"
call GET "/api/v1/phones/SEP001122334455%2F..%2Fx" "${AUTH[@]}"
expect 404 "an encoded slash does not reach another route: 404"
call GET "/../../etc/passwd" --path-as-is
[ "$CODE" = 404 ] || [ "$CODE" = 400 ] && ok "no file outside the web folder ($CODE)" || not_ok "traversal: $CODE"
call GET "/.hidden"
expect 404 "no dot files"
equal "none of those requests changed anything" "$(snapshot)" "$BEFORE"

# --- scheduling, history, removal
call POST /api/v1/phones/SEP001122334455/operation "${AUTH[@]}" "${JSON[@]}" -d '{"operation":"install","by":"2099-01-01 12:00"}'
expect 200 "schedule an install"
equal "pending, with the deadline" "$(jv '[.operation,.status,.deadline]|@csv')" '"install","Pending","2099-01-01 12:00:00 UTC"'
call POST /api/v1/phones/SEP001122334455/operation "${AUTH[@]}" "${JSON[@]}" -d '{"operation":"install","by":"2001-01-01 12:00"}'
grep -q "already past" "$B" && ok "a past deadline is warned about" || not_ok "no warning: $(jv .warning)"
call POST /api/v1/phones/schedule "${AUTH[@]}" "${JSON[@]}" \
	-d '{"filter":{"model":"8845"},"operation":"troubleshoot","dry_run":true}'
expect 200 "bulk dry run"
equal "dry run selects 6 and changes none" "$(jv '.count'),$(sqlite3 "$DB" "SELECT count(*) FROM phones WHERE operation='troubleshoot'")" "6,0"
call POST /api/v1/phones/schedule "${AUTH[@]}" "${JSON[@]}" \
	-d '{"filter":{"names":["SEP000000000001","SEP000000000002"]},"operation":"install","note":"rollover"}'
expect 200 "bulk schedule on named phones"
equal "two phones scheduled" "$(jv '.count'),$(sqlite3 "$DB" "SELECT count(*) FROM phones WHERE operation='install' AND name LIKE 'SEP0000%'")" "2,2"
call GET "/api/v1/phones?operation=install" "${AUTH[@]}"
equal "operation filter" "$(jv .total)" 3
call DELETE /api/v1/phones/SEP000000000002 "${AUTH[@]}"
expect 409 "removing a phone with a pending operation: 409"
call DELETE "/api/v1/phones/SEP000000000002?force=true" "${AUTH[@]}"
expect 200 "removed with force"
call GET /api/v1/phones/SEP000000000002 "${AUTH[@]}"
expect 404 "gone"
call DELETE /api/v1/phones/SEP000000000006 "${AUTH[@]}"
expect 200 "remove a phone without an operation"

# --- a phone enrolls (phonesim), its history, metrics
P=SEP001122334455
"$PHONESIM" init "$TEST_TMP/$P" --name "$P" --mfg-ca "$TEST_TMP/mfg" >/dev/null
"$PHONESIM" trust "$TEST_TMP/$P" "$TEST_TMP/capf.pem" >/dev/null
call POST /api/v1/phones/$P/operation "${AUTH[@]}" "${JSON[@]}" -d '{"operation":"install"}'
expect_exit 2 "a wrong authentication string fails" "$PHONESIM" capf "$TEST_TMP/$P" "127.0.0.1:$CAPF_PORT" --auth-string 111111 --timeout 20
expect_exit 0 "phonesim installs an LSC" "$PHONESIM" capf "$TEST_TMP/$P" "127.0.0.1:$CAPF_PORT" --auth-string 735193 --timeout 20
call GET /api/v1/phones/$P "${RAUTH[@]}"
equal "status after enrolling" "$(jv '[.status,.operation,(.lsc.serial|length>0)]|@csv')" '"Upgrade Success","none",true'
call GET "/api/v1/phones/$P/history?limit=1" "${AUTH[@]}"
expect 200 "history"
equal "newest history entry" "$(jv '.history[0].outcome')" "Upgrade Success"
P2=SEP000000000003
"$PHONESIM" init "$TEST_TMP/$P2" --name "$P2" --mfg-ca "$TEST_TMP/mfg" >/dev/null
"$PHONESIM" trust "$TEST_TMP/$P2" "$TEST_TMP/capf.pem" >/dev/null
call POST /api/v1/phones/$P2/operation "${AUTH[@]}" "${JSON[@]}" -d '{"operation":"troubleshoot"}'
expect_exit 0 "a phone authenticates with its MIC (troubleshoot)" "$PHONESIM" capf "$TEST_TMP/$P2" "127.0.0.1:$CAPF_PORT" --auth-cert mic-first --timeout 20
call GET /metrics "${AUTH[@]}"
expect 200 "metrics"
grep -q '^opencapf_capf_sessions_total{outcome="upgrade_success"} 1$' "$B" && ok "metrics count the upgrade" || not_ok "sessions: $(grep sessions_total "$B")"
grep -q '^opencapf_capf_sessions_total{outcome="failed"} 1$' "$B" && ok "metrics count the failure" || not_ok "failed: $(grep 'outcome="failed"' "$B")"
grep -q '^opencapf_lscs_issued_total 1$' "$B" && ok "metrics count the LSC" || not_ok "$(grep lscs_issued "$B")"
grep -q '^opencapf_capf_handshake_seconds_count [1-9]' "$B" && ok "handshake latency histogram" || not_ok "no handshake histogram"
grep -q '^opencapf_lsc_issuance_seconds_bucket{le="+Inf"} 1$' "$B" && ok "issuance latency histogram" || not_ok "no issuance histogram"
grep -q '^opencapf_capf_open_sessions 0$' "$B" && ok "open sessions back to 0" || not_ok "$(grep open_sessions "$B")"
grep -q '^opencapf_trust_store_certificates{store="manufacturing"} 1$' "$B" && ok "trust store sizes" || not_ok "no trust sizes"
na=$(sed -n 's/^opencapf_capf_not_after_seconds \([0-9]*\)$/\1/p' "$B")
[ -n "$na" ] && [ $(( (na - $(date +%s)) / 86400 )) -ge 1790 ] && [ $(( (na - $(date +%s)) / 86400 )) -le 1826 ] &&
	ok "CAPF certificate expiry as a Unix time" || not_ok "CAPF expiry: $(grep not_after_seconds "$B")"
grep -qi '^content-type: text/plain; version=0.0.4' "$H" && ok "Prometheus content type" || not_ok "content type"
grep -Eq '^opencapf_build_info\{version="[0-9][^"]*"\} 1$' "$B" && ok "build info" || not_ok "$(grep build_info "$B")"
grep -q '^opencapf_operations_pending{operation="install"} 1$' "$B" && ok "pending operations by kind" ||
	not_ok "$(grep operations_pending "$B")"
grep -q '^opencapf_operations_failed{operation="install"} 0$' "$B" && ok "failing operations by kind" ||
	not_ok "$(grep operations_failed "$B")"
grep -q '^opencapf_tvs_requests_total{result="valid"} 0$' "$B" && ok "TVS requests by result" || not_ok "no TVS requests"

# --- the web UI's endpoints: tokens, diagnose, records, statistics
call GET /api/v1/tokens "${RAUTH[@]}"
expect 403 "tokens: not for a read token"
call POST /api/v1/tokens "${AUTH[@]}" "${JSON[@]}" -d '{"role":"read","label":"from the API"}'
expect 201 "create a token"
NEW_TOKEN=$(jv .token) NEW_ID=$(jv .id)
curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $NEW_TOKEN" "$BASE/api/v1/session" | grep -q 200 &&
	ok "the created token works" || not_ok "the created token does not work"
call GET /api/v1/tokens "${AUTH[@]}"
equal "the list names it, without secrets" "$(jv "[.tokens[]|select(.id==$NEW_ID)|.label]|join(\",\")"),$(grep -c ocapf_ "$B")" \
	"from the API,0"
call POST /api/v1/tokens "${AUTH[@]}" "${JSON[@]}" -d '{"role":"root"}'
expect 400 "a bad role: 400"
call DELETE "/api/v1/tokens/$NEW_ID" "${AUTH[@]}"
expect 200 "revoke it"
call DELETE "/api/v1/tokens/$NEW_ID" "${AUTH[@]}"
expect 404 "revoking it again: 404"
curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $NEW_TOKEN" "$BASE/api/v1/session" | grep -q 401 &&
	ok "the revoked token is refused" || not_ok "the revoked token still works"
call GET /api/v1/phones/SEP001122334455/diagnose "${RAUTH[@]}"
expect 200 "diagnose a phone"
equal "diagnose: what it presents" "$(jv '[.known,.presents]|@csv')" 'true,"LSC"'
call GET /api/v1/phones/SEP00000000FFFF/diagnose "${RAUTH[@]}"
expect 404 "diagnose an unknown phone: 404"
call GET /api/v1/tvs "${RAUTH[@]}"
expect 200 "TVS entries"
jq -e '.count >= 3 and ([.entries[].roles[]] | index("CAPF"))' "$B" >/dev/null && ok "TVS entries with roles" || not_ok "$(head -c 300 "$B")"
jq -n --rawfile pem "$TEST_TMP/mfg/mfg.crt" '{certificates: $pem, roles: ["CCM", 7], ttl: 600, note: "lab"}' \
	>"$TEST_TMP/tvs.json"
MFG_TVS_SHA=$(openssl x509 -in "$TEST_TMP/mfg/mfg.crt" -outform DER | sha256sum | cut -c1-64)
call POST /api/v1/tvs "${RAUTH[@]}" "${JSON[@]}" --data-binary @"$TEST_TMP/tvs.json"
expect 403 "TVS add with a read token: 403"
call POST /api/v1/tvs "${AUTH[@]}" "${JSON[@]}" --data-binary @"$TEST_TMP/tvs.json"
expect 200 "TVS add"
equal "TVS add: the entry added" "$(jv '[.count, .entries[0].sha256, .entries[0].result]|@csv')" "1,\"$MFG_TVS_SHA\",\"added\""
call POST /api/v1/tvs "${AUTH[@]}" "${JSON[@]}" --data-binary @"$TEST_TMP/tvs.json"
equal "TVS add again: updated" "$(jv '.entries[0].result')" updated
equal "the CLI lists it with its roles and TTL" \
	"$("$OPENCAPF" --state "$S" tvs list | grep -A3 "^$MFG_TVS_SHA" | sed -n 's/^  \(roles\|ttl\|source\) *//p' | paste -sd' ')" \
	"CCM,APP-SERVER 600 admin: lab"
equal "audited as tvs.add then tvs.update" "$(sqlite3 "$DB" "SELECT group_concat(action) FROM audit_log WHERE action LIKE 'tvs.%' AND detail LIKE '%$MFG_TVS_SHA%'")" "tvs.add,tvs.update"
call POST /api/v1/tvs "${AUTH[@]}" "${JSON[@]}" -d '{"certificates":"x","roles":["BOSS"]}'
expect 400 "TVS add: an unknown role: 400"
expect_body() { grep -q "$1" "$B" && ok "$2" || not_ok "$2: $(head -c 200 "$B")"; }
expect_body "'roles' item 1 is not a role" "... naming the item"
call POST /api/v1/tvs "${AUTH[@]}" "${JSON[@]}" -d '{"roles":["CCM"]}'
expect 400 "TVS add without certificates: 400"
call DELETE "/api/v1/tvs/$MFG_TVS_SHA" "${AUTH[@]}"
expect 200 "TVS remove"
call DELETE "/api/v1/tvs/$MFG_TVS_SHA" "${AUTH[@]}"
expect 404 "TVS remove again: 404"
call DELETE "/api/v1/tvs/nothex" "${AUTH[@]}"
expect 400 "TVS remove: not a fingerprint: 400"
call GET /api/v1/ctl "${RAUTH[@]}"
expect 200 "a CTL from the state"
jq -e '.verified and (.text | test("Length of CTL file"))' "$B" >/dev/null && ok "the CTL verifies" || not_ok "$(head -c 300 "$B")"
call GET "/api/v1/stats/lsc-expiry?months=600" "${RAUTH[@]}"
expect 400 "lsc-expiry: months out of range"
call GET /api/v1/stats/lsc-expiry "${RAUTH[@]}"
equal "lsc-expiry: 24 months, every phone counted" "$(jv '[(.months|length), ([.months[].count]|add) + .later + .expired + .none]|@csv')" "24,5"
call GET "/api/v1/stats/campaign?since=1h" "${RAUTH[@]}"
equal "campaign: the enrollments done, one install pending, 60 buckets" \
	"$(jv '[.done >= 1, .done == ([.series[].done]|add), .pending.install, (.series|length)]|@csv')" "true,true,1,60"
call GET "/api/v1/stats/campaign?since=tomorrow" "${RAUTH[@]}"
expect 400 "campaign: a bad since"
call GET "/api/v1/stats/rates?minutes=1" "${RAUTH[@]}"
equal "rates: six 10-second slots, the CAPF sessions counted" "$(jv '[(.capf|length), (.capf|add) >= 1, (.tvs|add)]|@csv')" "6,true,0"

# --- dashboard, report, audit
call GET /api/v1/dashboard "${RAUTH[@]}"
expect 200 "dashboard"
equal "dashboard counts" "$(jv '[.lsc.total,.lsc.installed,.lsc.none,.operations.install,.failed]|@csv')" "5,1,4,1,0"
call GET "/api/v1/report?lsc_status=installed" "${RAUTH[@]}"
expect 200 "CAPF report"
equal "report rows and summary" "$(jv '[(.phones|length),.phones[0].name,.summary.installed]|@csv')" "1,\"$P\",1"
call GET "/api/v1/audit?action=phone.&limit=3" "${RAUTH[@]}"
expect 200 "audit log"
equal "three newest phone entries, with JSON details" "$(jv '[(.entries|length),(.entries[0].detail|type)]|@csv')" '3,"object"'
call GET "/api/v1/audit?since=yesterday" "${RAUTH[@]}"
expect 400 "a bad audit time: 400"

# --- trust stores: list, show, add, guarded remove, export
call GET /api/v1/trust "${RAUTH[@]}"
expect 200 "list trust stores"
equal "stores with counts" "$(jv '[.stores[]|select(.name=="CAPF-trust" or .name=="manufacturing")|.count]|@csv')" "1,1"
call GET /api/v1/trust/manufacturing "${RAUTH[@]}"
expect 200 "show a store"
equal "the MIC of $P2 depends on the manufacturing CA" "$(jv '.certificates[0].usage.mic_phones')" 1
call GET /api/v1/trust/no-such-store "${AUTH[@]}"
expect 404 "an unknown store: 404"
MFG_SHA=$(openssl x509 -in "$TEST_TMP/mfg/mfg.crt" -outform DER | sha256sum | cut -c1-64)
CAPF_SHA=$(openssl x509 -in "$TEST_TMP/capf.pem" -outform DER | sha256sum | cut -c1-64)
BEFORE=$(snapshot)
call DELETE "/api/v1/trust/manufacturing/${MFG_SHA:0:16}" "${AUTH[@]}"
expect 409 "removing the CA phones' MICs chain to is refused"
equal "the refusal names the phones" "$(jv '[.usage.phones,.usage.names[0]]|@csv')" "1,\"$P2\""
call DELETE "/api/v1/trust/CAPF-trust/$CAPF_SHA" "${AUTH[@]}"
expect 409 "removing the current CAPF certificate is refused"
call DELETE "/api/v1/trust/CAPF-trust/0123456789abcdef" "${AUTH[@]}"
expect 404 "an unknown fingerprint: 404"
call DELETE "/api/v1/trust/CAPF-trust/abc" "${AUTH[@]}"
expect 400 "a fingerprint too short: 400"
equal "refused removals changed nothing" "$(snapshot)" "$BEFORE"
jq -n --rawfile pem "$TEST_TMP/other/mfg.crt" '{certificates: $pem, note: "lab CA"}' >"$TEST_TMP/add.json"
call POST /api/v1/trust/manufacturing "${AUTH[@]}" "${JSON[@]}" --data-binary "@$TEST_TMP/add.json"
expect 200 "add a certificate"
equal "added" "$(jv '.added|length'),$(jv '.already_present|length')" "1,0"
call POST /api/v1/trust/manufacturing "${AUTH[@]}" "${JSON[@]}" --data-binary "@$TEST_TMP/add.json"
equal "adding it again" "$(jv '.added|length'),$(jv '.already_present|length')" "0,1"
call POST /api/v1/trust/manufacturing "${AUTH[@]}" "${JSON[@]}" -d '{"certificates":"not a certificate"}'
expect 400 "adding text that is no certificate: 400"
call GET /api/v1/trust/manufacturing/export "${RAUTH[@]}"
expect 200 "export a store"
equal "the export holds both certificates" "$(grep -c 'BEGIN CERTIFICATE' "$B")" 2
OTHER_SHA=$(openssl x509 -in "$TEST_TMP/other/mfg.crt" -outform DER | sha256sum | cut -c1-64)
call DELETE "/api/v1/trust/manufacturing/$OTHER_SHA" "${AUTH[@]}"
expect 200 "remove a certificate no phone depends on"
sqlite3 "$DB" "SELECT action FROM audit_log WHERE action LIKE 'trust.%' ORDER BY id" | tr '\n' ' ' >"$TEST_TMP/last.out"
expect_output "trust.add trust.remove" "trust changes are audited with the CLI's actions"

# --- CAPF certificate: show, PEM, CSR, regenerate, import errors; ITL
call GET /api/v1/capf "${RAUTH[@]}"
expect 200 "show the CAPF certificate"
equal "current certificate and phones on it" "$(jv '[.current.sha256,.current.lsc_phones,.rollover.in_progress]|@csv')" "\"$CAPF_SHA\",1,false"
call GET /api/v1/capf/cert "${RAUTH[@]}"
expect 200 "CAPF PEM"
cmp -s "$B" "$TEST_TMP/capf.pem" && ok "the PEM is the CLI's" || not_ok "PEM differs from 'capf cert'"
call POST /api/v1/capf/csr "${AUTH[@]}" "${JSON[@]}" -d '{}'
expect 200 "CSR for the current key"
jv .csr | openssl req -noout -verify >/dev/null 2>&1 && ok "the CSR verifies" || not_ok "bad CSR"
call POST /api/v1/capf/csr "${AUTH[@]}" "${JSON[@]}" -d '{"key":"rsa:2048"}'
expect 400 "a CSR key without new_key: 400"
BEFORE=$(snapshot)
call POST /api/v1/capf/regenerate "${AUTH[@]}" "${JSON[@]}" -d '{"key":"rsa:1024"}'
expect 400 "a weak CAPF key: 400"
call POST /api/v1/capf/regenerate "${AUTH[@]}" "${JSON[@]}" -d '{"days":0}'
expect 400 "zero days: 400"
call POST /api/v1/capf/import "${AUTH[@]}" "${JSON[@]}" -d '{"certificate":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}'
expect 400 "importing garbage: 400"
jq -n --rawfile pem "$TEST_TMP/other/mfg.crt" '{certificate: $pem}' >"$TEST_TMP/import.json"
call POST /api/v1/capf/import "${AUTH[@]}" "${JSON[@]}" --data-binary "@$TEST_TMP/import.json"
expect 409 "importing a certificate for another key: 409"
equal "refused CAPF changes changed nothing" "$(snapshot)" "$BEFORE"
call POST /api/v1/itl/rebuild "${AUTH[@]}"
expect 200 "rebuild the ITL"
equal "the ITL verifies" "$(jv .verified)" true
call GET /api/v1/itl "${RAUTH[@]}"
expect 200 "show the ITL"
grep -q "CAPF" "$B" && ok "the ITL lists the CAPF certificate" || not_ok "no CAPF in the ITL text"
call POST /api/v1/capf/regenerate "${AUTH[@]}" "${JSON[@]}" -d '{"key":"ec:p256","days":400}'
expect 200 "regenerate the CAPF certificate"
equal "the old one is previous, with its phone" "$(jv '[.previous.sha256,.previous.lsc_phones,.new.key]|@csv')" "\"$CAPF_SHA\",1,\"EC P-256\""
call GET /api/v1/capf "${RAUTH[@]}"
equal "rollover in progress with one phone on the previous certificate" \
	"$(jv '[.rollover.in_progress,.rollover.phones_on_previous,(.current.days_left|. >= 399 and . <= 400)]|@csv')" "true,1,true"

# --- browser sessions: login, cookie flags, CSRF, logout
call POST /api/v1/login "${JSON[@]}" -d "{\"token\":\"$READ\"}"
expect 200 "log in with a token"
COOKIE=$(grep -i '^set-cookie: opencapf_session=' "$H" | sed 's/^[^=]*=\([^;]*\);.*/\1/' | tr -d '\r')
grep -i '^set-cookie:' "$H" | grep -q 'HttpOnly; SameSite=Strict' && ok "the cookie is HttpOnly, SameSite=Strict" || not_ok "cookie flags: $(grep -i set-cookie "$H")"
grep -i '^set-cookie:' "$H" | grep -q 'Secure' && not_ok "Secure on plain HTTP (the browser would drop it)" || ok "no Secure flag on plain HTTP loopback"
CSRF=$(jv .csrf)
call GET /api/v1/dashboard -H "Cookie: opencapf_session=$COOKIE"
expect 200 "the session reads"
call POST /api/v1/logout -H "Cookie: opencapf_session=$COOKIE"
expect 403 "a change without the CSRF header: 403"
call POST /api/v1/logout -H "Cookie: opencapf_session=$COOKIE" -H "X-CSRF-Token: wrong"
expect 403 "a wrong CSRF token: 403"
call POST /api/v1/login "${JSON[@]}" -d "{\"token\":\"$ADMIN\"}"
ACOOKIE=$(grep -i '^set-cookie: opencapf_session=' "$H" | sed 's/^[^=]*=\([^;]*\);.*/\1/' | tr -d '\r')
ACSRF=$(jv .csrf)
call PATCH /api/v1/phones/SEP000000000001 -H "Cookie: opencapf_session=$ACOOKIE" "${JSON[@]}" -d '{"model":"9971"}'
expect 403 "an admin session without CSRF cannot change a phone"
call PATCH /api/v1/phones/SEP000000000001 -H "Cookie: opencapf_session=$ACOOKIE" -H "X-CSRF-Token: $CSRF" "${JSON[@]}" -d '{"model":"9971"}'
expect 403 "another session's CSRF token does not work"
call PATCH /api/v1/phones/SEP000000000001 -H "Cookie: opencapf_session=$ACOOKIE" -H "X-CSRF-Token: $ACSRF" "${JSON[@]}" -d '{"model":"9971"}'
expect 200 "with its CSRF token it can"
sqlite3 "$DB" "SELECT actor FROM audit_log WHERE action='phone.set' ORDER BY id DESC LIMIT 1" >"$TEST_TMP/last.out"
expect_output "^web:token-" "a browser change is audited as web:token-N"
call PATCH /api/v1/phones/SEP000000000001 -H "Cookie: opencapf_session=$COOKIE" -H "X-CSRF-Token: $CSRF" "${JSON[@]}" -d '{"model":"1"}'
expect 403 "a read session cannot change anything"
call POST /api/v1/logout -H "Cookie: opencapf_session=$COOKIE" -H "X-CSRF-Token: $CSRF"
expect 200 "log out"
call GET /api/v1/dashboard -H "Cookie: opencapf_session=$COOKIE"
expect 401 "the session is gone after logout"
call POST /api/v1/login "${JSON[@]}" -d '{"token": 5}'
expect 400 "a login without a token string: 400"
call POST /api/v1/login "${JSON[@]}" -d '{"token": "ocapf_1_wrongwrongwrongwrongwrongwrongwrongwrongwro"}'
expect 401 "a login with a wrong token: 401"
grep -qi '^set-cookie:' "$H" && not_ok "a failed login set a cookie" || ok "a failed login sets no cookie"
"$OPENCAPF" --state "$S" token revoke "$(echo "$ADMIN" | cut -d_ -f2)" >/dev/null
call GET /api/v1/dashboard -H "Cookie: opencapf_session=$ACOOKIE"
expect 401 "revoking a token ends its sessions"
call GET /api/v1/dashboard "${AUTH[@]}"
expect 401 "a token revoked while the daemon runs stops working at once"
ADMIN=$(new_token "$S" admin)
AUTH=(-H "Authorization: Bearer $ADMIN")

# --- the web UI's files
call GET /
expect 200 "the web UI's index"
grep -qi '^content-type: text/html' "$H" && ok "served as HTML" || not_ok "index content type"
call GET /app.js
expect 200 "the UI's script"
call POST /index.html
expect 405 "the UI's files are read-only"

# --- no secret in the log, the audit log or the database
for t in "$ADMIN" "$READ"; do
	secret=${t#ocapf_*_}   # the whole secret: it may itself contain "_"
	grep -q -- "$secret" "$DAEMON_LOG" && not_ok "a token in the daemon log" || ok "no token in the daemon log"
	sqlite3 "$DB" "SELECT * FROM audit_log; SELECT * FROM api_tokens; SELECT * FROM api_sessions" | grep -q -- "$secret" &&
		not_ok "a token in the database" || ok "the database keeps only token hashes"
done

# --- failed logins are rate-limited and audited
for i in $(seq 1 80); do
	CODE=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ocapf_9_guess$i-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "$BASE/api/v1/phones")
	[ "$CODE" = 429 ] && break
done
equal "repeated failed logins end in 429" "$CODE" 429
call GET /api/v1/phones -H "Authorization: Bearer ocapf_9_guess-again-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
expect 429 "while blocked a bad token gets 429"
grep -qi '^retry-after: [0-9]' "$H" && ok "429 says when to retry" || not_ok "no Retry-After"
call GET /api/v1/phones "${AUTH[@]}"
expect 200 "while blocked a good token from the same address is still accepted"
call POST /api/v1/login "${JSON[@]}" -d '{"token":"ocapf_9_guess-login-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}'
expect 429 "the login page refuses bad tokens too"
call POST /api/v1/login "${JSON[@]}" -d "{\"token\":\"$ADMIN\"}"
expect 200 "the login page still accepts a good token"
call GET /api/v1/health
expect 200 "health stays open"
equal "each failure audited, then one block entry" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM audit_log WHERE action='api.login_failed'"),$(sqlite3 "$DB" "SELECT count(*) FROM audit_log WHERE action='api.login_blocked'")" "59,1"
sqlite3 "$DB" "SELECT detail FROM audit_log WHERE action LIKE 'api.login%'" | grep -q guess &&
	not_ok "a tried token is in the audit log" || ok "the audit log never holds the tried tokens"
stop_daemon

# --- listening: loopback only without HTTPS; HTTPS with a certificate
# (a state of its own: this client address is still blocked in the first one)
S="$TEST_TMP/state2"
"$OPENCAPF" --state "$S" init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" >/dev/null
ADMIN=$(new_token "$S" admin)
P3=$(free_port)
expect_exit 1 "a non-loopback address without a certificate is refused" \
	timeout 10 "$OPENCAPFD" --state "$S" --capf-listen off --tvs-listen off --http-listen "0.0.0.0:$P3"
expect_output "needs HTTPS" "the refusal says HTTPS is needed"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_TMP/https.key" -out "$TEST_TMP/https.crt" -days 2 \
	-subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1
start_api_daemon "$S" --http-cert "$TEST_TMP/https.crt" --http-key "$TEST_TMP/https.key" || exit 1
CODE=$(curl -s -o "$B" -D "$H" -w '%{http_code}' --cacert "$TEST_TMP/https.crt" "https://127.0.0.1:$HTTP_PORT/api/v1/health")
equal "HTTPS serves the API" "$CODE" 200
CODE=$(curl -s -o "$B" -D "$H" -w '%{http_code}' --cacert "$TEST_TMP/https.crt" -H "Content-Type: application/json" \
	-d "{\"token\":\"$ADMIN\"}" "https://127.0.0.1:$HTTP_PORT/api/v1/login")
grep -i '^set-cookie:' "$H" | grep -q '; Secure' && ok "the session cookie is Secure under HTTPS" || not_ok "cookie: $(grep -i set-cookie "$H")"
grep -qi '^strict-transport-security:' "$H" && ok "HSTS under HTTPS" || not_ok "no HSTS"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/api/v1/health")
[ "$CODE" != 200 ] && ok "no plain HTTP on the HTTPS port" || not_ok "plain HTTP answered"
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$TEST_TMP/huge.json"
CODE=$(curl -s -o "$B" -D "$H" -w '%{http_code}' --cacert "$TEST_TMP/https.crt" -H "Content-Type: application/json" \
	-H "Authorization: Bearer $ADMIN" --data-binary "@$TEST_TMP/huge.json" "https://127.0.0.1:$HTTP_PORT/api/v1/phones")
equal "HTTPS: a 9 MiB body gets 413" "$CODE" 413
jq -e '.error | test("limit")' "$B" >/dev/null 2>&1 && ok "HTTPS: the 413 is the JSON error" || not_ok "413 body: $(head -c 300 "$B")"
stop_daemon
finish
