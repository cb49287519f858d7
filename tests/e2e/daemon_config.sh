#!/usr/bin/env bash
# daemon_config.sh: opencapfd's settings: built-in defaults, then the INI
# file (--config), then the command line, each overriding the one before;
# bad files and options are refused with the line or option named.
. "$(dirname "$0")/lib.sh"
: "${OPENCAPFD:?OPENCAPFD must name the opencapfd binary}"

S="$TEST_TMP/state"
"$OPENCAPF" --state "$S" init >/dev/null
expect_exit 0 "opencapfd --help" "$OPENCAPFD" --help
expect_output "--capf-listen ADDR:PORT" "help names the CAPF listener option"
expect_output "--config FILE" "help names --config"

FILE_PORT=$(free_port)
CLI_PORT=$(free_port)
cat >"$TEST_TMP/opencapfd.ini" <<INI
; opencapfd test configuration
[daemon]
state = $S
workers = 1
log_level = info

[capf]
listen = 127.0.0.1:$FILE_PORT
keygen_timeout = 120

[tvs]
listen = off

[http]
listen = off
INI

# The file alone: its listener and its state.
"$OPENCAPFD" --config "$TEST_TMP/opencapfd.ini" >"$TEST_TMP/file.log" 2>&1 &
pid=$!; PIDS+=("$pid")
wait_port "$FILE_PORT" && ok "the file's listen address is used" || not_ok "nothing listens on the file's port"
grep -q "state $S" "$TEST_TMP/file.log" && ok "the file's state directory is used" || not_ok "state from file not used"
kill "$pid"; wait "$pid"; equal "stops cleanly" "$?" 0

# The command line overrides the file.
"$OPENCAPFD" --config "$TEST_TMP/opencapfd.ini" --capf-listen "127.0.0.1:$CLI_PORT" >"$TEST_TMP/cli.log" 2>&1 &
pid=$!; PIDS+=("$pid")
wait_port "$CLI_PORT" && ok "--capf-listen overrides the file" || not_ok "command line did not override the file"
(exec 3<>"/dev/tcp/127.0.0.1/$FILE_PORT") 2>/dev/null && not_ok "the file's port is still used" \
	|| ok "the file's port is not used when overridden"
kill "$pid"; wait "$pid"

# Bad files and options: refused, naming what is wrong.
printf '[capf]\nlisten = 127.0.0.1:1\nbogus_key = 1\n' >"$TEST_TMP/bad-key.ini"
expect_exit 2 "unknown key refused" "$OPENCAPFD" --config "$TEST_TMP/bad-key.ini"
expect_output "line 3: unknown setting 'bogus_key' in \[capf\]" "error names the line and key"
printf '[capf]\nauth_timeout = soon\n' >"$TEST_TMP/bad-value.ini"
expect_exit 2 "bad value refused" "$OPENCAPFD" --config "$TEST_TMP/bad-value.ini"
expect_output "line 2: bad value for capf.auth_timeout: 'soon'" "error names the line and value"
printf '[nowhere]\nx = 1\n' >"$TEST_TMP/bad-section.ini"
expect_exit 2 "unknown section refused" "$OPENCAPFD" --config "$TEST_TMP/bad-section.ini"
expect_output "unknown section \[nowhere\]" "error names the section"
expect_exit 2 "missing config file refused" "$OPENCAPFD" --config "$TEST_TMP/none.ini"
expect_output "cannot open" "error names the missing file"
expect_exit 2 "bad listen address refused" "$OPENCAPFD" --state "$S" --capf-listen nonsense
expect_exit 2 "unknown option refused" "$OPENCAPFD" --frobnicate
expect_exit 1 "a state that does not exist is refused" "$OPENCAPFD" --state "$TEST_TMP/none" \
	--capf-listen "127.0.0.1:$(free_port)" --tvs-listen off --http-listen off
expect_output "opencapf init" "error says how to create the state"

# --- with the HTTP API off the upkeep still runs: the CRL at start, and an
# ITL removed by hand is put back at the next check (every 10 s)
log_within() { # SECONDS PATTERN
	local i
	for i in $(seq 1 $(($1 * 10))); do grep -q "$2" "$DAEMON_LOG" && return 0; sleep 0.1; done
	return 1
}
start_daemon "$S" --tftp-dir "$TEST_TMP/tftp" || exit 1
log_within 5 "HTTP API off; CRL, provisioning and ITL upkeep still run" && ok "API off: the upkeep runs" ||
	not_ok "API off: the upkeep runs"
log_within 10 "CRL .* published" && ok "API off: the CRL is published" || not_ok "API off: the CRL is published"
rm -f "$TEST_TMP/tftp/ITLFile.tlv"
log_within 25 "ITL: republished" && [ -s "$TEST_TMP/tftp/ITLFile.tlv" ] &&
	ok "API off: a removed ITLFile.tlv is published again" ||
	not_ok "API off: a removed ITLFile.tlv is published again"
check "... and it verifies" "$OPENCAPF" itl show "$TEST_TMP/tftp/ITLFile.tlv"
stop_daemon

finish
