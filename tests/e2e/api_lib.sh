# api_lib.sh: helpers for the tests of opencapfd's admin HTTP API and web UI
# (sourced after lib.sh, not run).

# start_api_daemon STATE [OPTIONS...]: opencapfd with CAPF and the HTTP API
# on free loopback ports (TVS off); sets CAPF_PORT, HTTP_PORT, BASE,
# DAEMON_PID, DAEMON_LOG.
start_api_daemon() {
	local state=$1; shift
	for _ in 1 2 3 4 5; do
		HTTP_PORT=$(free_port)
		if start_daemon "$state" --tvs-listen off --http-listen "127.0.0.1:$HTTP_PORT" "$@" &&
			wait_port "$HTTP_PORT"; then
			BASE="http://127.0.0.1:$HTTP_PORT"
			return 0
		fi
		kill "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null
	done
	echo "cannot start opencapfd with the HTTP API:"; cat "$DAEMON_LOG"
	return 1
}

# new_token STATE ROLE: a fresh API token (the last line of `token create`).
new_token() {
	"$OPENCAPF" --state "$1" token create --role "$2" --label "test $2" | tail -1
}
