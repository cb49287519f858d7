#!/usr/bin/env bash
# api_limits.sh: the API's limits protect the victim, not the attacker
#, with the default login_max_failures (10):
#   - ten bad tokens from 127.0.0.1 block bad tokens from there (429 with
#     Retry-After), while a valid token, the login page with a valid token
#     and a browser session from the same address keep working; another
#     address is not blocked; nothing is written while blocked; a second
#     round blocks twice as long (backoff);
#   - a 10 MB body (with and without 100-continue, and chunked) gets 413
#     with the API's JSON error, not libevent's HTML page, and the API
#     keeps answering.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"

S="$TEST_TMP/state"
DB="$S/opencapf.db"
"$OPENCAPF" --state "$S" init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" >/dev/null
ADMIN=$(new_token "$S" admin)
printf '[http]\nlogin_window = 3\n' >"$TEST_TMP/opencapfd.ini"
start_api_daemon "$S" --config "$TEST_TMP/opencapfd.ini" || exit 1

B="$TEST_TMP/body" H="$TEST_TMP/headers"
# call METHOD PATH [CURL ARGS...]: sets CODE; the body is in $B, headers in $H.
call() {
	local m=$1 p=$2; shift 2
	CODE=$(curl -s -o "$B" -D "$H" -w '%{http_code}' -X "$m" "$@" "$BASE$p")
}
# json_error CODE DESCRIPTION: the last call got CODE with a JSON {"error": ...} body.
json_error() {
	if [ "$CODE" = "$1" ] && jq -e '.error | type == "string" and length > 0' "$B" >/dev/null 2>&1 &&
		grep -qi '^content-type: application/json' "$H"; then ok "$2"; else
		not_ok "$2 (HTTP $CODE, wanted $1 with a JSON error)"; head -c 300 "$B" | sed 's/^/    /'; echo; fi
}
bad() { call GET /api/v1/phones -H "Authorization: Bearer ocapf_9_bad$1-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "${@:2}"; }
retry_after() { tr -d '\r' <"$H" | awk 'tolower($1) == "retry-after:" { print $2 }'; }
failures() { sqlite3 "$DB" "SELECT count(*) FROM login_failures"; }

# --- ten bad tokens: the tenth starts a block
codes=""
for i in $(seq 1 10); do bad "$i"; codes="$codes $CODE"; done
equal "nine bad tokens get 401, the tenth 429" "$codes" " 401 401 401 401 401 401 401 401 401 429"
bad 11
json_error 429 "an eleventh bad token: 429"
WAIT=$(retry_after)
[ -n "$WAIT" ] && [ "$WAIT" -ge 1 ] && [ "$WAIT" -le 3 ] && ok "Retry-After within login_window ($WAIT s)" ||
	not_ok "Retry-After: '$WAIT'"
call GET /api/v1/phones -H "Authorization: Bearer $ADMIN"
equal "a valid token from the same address still works" "$CODE" 200
call POST /api/v1/login -H "Content-Type: application/json" -d "{\"token\":\"$ADMIN\"}" -c "$TEST_TMP/cookies"
equal "the login page still accepts a valid token" "$CODE" 200
call GET /api/v1/session -b "$TEST_TMP/cookies"
equal "the browser session works while the address is blocked" "$CODE" 200
call POST /api/v1/login -H "Content-Type: application/json" -d '{"token":"ocapf_9_bad-login-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}'
json_error 429 "the login page refuses a bad token: 429"
bad 12 --interface 127.0.0.2
equal "a bad token from another address: 401, not blocked" "$CODE" 401
for i in $(seq 13 30); do bad "$i"; done
equal "bad tokens while blocked: still 429" "$CODE" 429
equal "nothing is written while blocked (10 + 1 failures on record)" "$(failures)" 11

# --- backoff: after the block, ten more failures block for twice as long
sleep "$((WAIT + 1))"
bad 31
equal "after the block a bad token gets 401 again" "$CODE" 401
for i in $(seq 32 40); do bad "$i"; done
WAIT=$(retry_after)
[ "$CODE" = 429 ] && [ -n "$WAIT" ] && [ "$WAIT" -ge 4 ] && [ "$WAIT" -le 6 ] &&
	ok "the second round blocks for twice login_window ($WAIT s)" || not_ok "second round: HTTP $CODE, Retry-After '$WAIT'"
call GET /api/v1/phones -H "Authorization: Bearer $ADMIN"
equal "a valid token still works in the second block" "$CODE" 200
equal "audit: the failures before the first block, then one entry per block" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM audit_log WHERE action = 'api.login_failed'"),$(sqlite3 "$DB" \
		"SELECT count(*) FROM audit_log WHERE action = 'api.login_blocked'")" "10,2"

# --- oversized bodies: the API's JSON 413, never libevent's HTML
head -c $((10 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$TEST_TMP/big.json"
AUTH=(-H "Authorization: Bearer $ADMIN" -H "Content-Type: application/json")
call POST /api/v1/phones "${AUTH[@]}" --data-binary "@$TEST_TMP/big.json"
json_error 413 "a 10 MB body: 413 with a JSON error"
grep -q "the limit is 1048576" "$B" && ok "the error names the limit" || not_ok "413 body: $(cat "$B")"
call POST /api/v1/phones "${AUTH[@]}" -H "Expect:" --data-binary "@$TEST_TMP/big.json"
json_error 413 "a 10 MB body sent without waiting for 100-continue: 413 JSON"
call POST /api/v1/phones "${AUTH[@]}" -H "Transfer-Encoding: chunked" --data-binary "@$TEST_TMP/big.json"
json_error 413 "a 10 MB chunked body (no length): 413 JSON"
call POST /api/v1/nowhere -H "Content-Type: application/json" --data-binary "@$TEST_TMP/big.json"
json_error 413 "a 10 MB body to an unknown path: 413 JSON"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$TEST_TMP/over.json"
call POST /api/v1/phones "${AUTH[@]}" --data-binary "@$TEST_TMP/over.json"
json_error 413 "one byte over 1 MiB: 413 JSON"
call PATCH /api/v1/phones/SEP001122334455 "${AUTH[@]}" -d '{"model":"7962"}'
json_error 404 "a small body on the same daemon is read as usual"
call GET /api/v1/health
equal "the API keeps answering" "$CODE" 200
grep -qi '<html' "$DAEMON_LOG" && not_ok "HTML in the log" || ok "no HTML anywhere"
stop_daemon
finish
