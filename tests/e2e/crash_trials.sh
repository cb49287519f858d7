#!/usr/bin/env bash
# crash_trials.sh: the short CI variant of scripts/crash-trials.sh:
# 3 trials (CRASH_TRIALS to change) of 200 phones enrolling while opencapfd
# is killed with SIGKILL at a random moment and restarted on the same state;
# each trial checks the database's integrity, that every LSC a phone received
# is on record, one confirmed LSC per install, and that every operation ends.
# Skipped (77) without sqlite3.
: "${OPENCAPF:?OPENCAPF must name the opencapf binary}"
: "${OPENCAPFD:?OPENCAPFD must name the opencapfd binary}"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"
if ! command -v sqlite3 >/dev/null; then
	echo "skipped: sqlite3 is not installed"
	exit 77
fi
export OPENCAPF OPENCAPFD PHONESIM
exec bash "$(dirname "$0")/../../scripts/crash-trials.sh" "${CRASH_TRIALS:-3}"
