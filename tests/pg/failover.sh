#!/usr/bin/env bash
# failover.sh: the short CI variant of scripts/failover-trials.sh: 3 trials
# (FAILOVER_TRIALS to change) of 200 phones enrolling through two opencapfd
# nodes on one PostgreSQL while one node is killed with SIGKILL at a random
# moment; the phones fail over to the other node; each trial checks that
# every LSC a phone received is on record, one confirmed LSC per install, no
# operation completed twice, and that every operation ends. With
# FAILOVER_KILL=postgres (test e2e-pg-restart) PostgreSQL is restarted
# instead, and both nodes must reconnect by themselves. Runs under
# with-postgres.sh (skipped, 77, without PostgreSQL).
: "${OPENCAPF:?OPENCAPF must name the opencapf binary}"
: "${OPENCAPFD:?OPENCAPFD must name the opencapfd binary}"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"
export OPENCAPF OPENCAPFD PHONESIM
exec bash "$(dirname "$0")/../../scripts/failover-trials.sh" "${FAILOVER_TRIALS:-3}"
