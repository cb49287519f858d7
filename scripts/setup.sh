#!/usr/bin/env bash
# setup.sh: install what opencapf needs on Debian 12 (as root) and build it.
#
#   bash scripts/setup.sh            # packages + release build in ./build
#   bash scripts/setup.sh --asan     # also the ASan+UBSan build in ./build-asan
#   bash scripts/setup.sh --test     # also the packages the test suite uses
#
# Idempotent: packages already installed are not fetched again, and an
# existing build directory is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PKGS=(build-essential meson ninja-build pkg-config libssl-dev libsqlite3-dev libpq-dev libp11-kit-dev
	libevent-dev libjansson-dev libinih-dev libcmocka-dev libpcap-dev libxml2-dev openssl sqlite3)
TEST_PKGS=(clang libclang-rt-14-dev python3 libxml2-utils procps psmisc iproute2 curl tcpdump jq chromium tftp-hpa python3-cryptography
	strace)
# Keys in a PKCS#11 token: SoftHSM2 (scripts/test-softhsm.sh, tests/signer), opensc's pkcs11-tool.
TEST_PKGS+=(softhsm2 opensc)
# The PostgreSQL store's tests start a server of their own (tests/pg/with-postgres.sh).
TEST_PKGS+=(postgresql)
# The browser test (tests/browser) drives Chromium with Node.js; an npm that
# came with another Node.js package is kept.
command -v npm >/dev/null || TEST_PKGS+=(nodejs npm)
# The package test (tests/e2e/package.sh): dpkg-buildpackage, lintian,
# systemd-analyze for the units; promtool (package prometheus, below) checks
# the alerting rules and /metrics.
TEST_PKGS+=(debhelper devscripts dpkg-dev fakeroot lintian systemd)
# Real servers and clients for the 'servers' tests (tests/e2e/servers_*.sh): installed
# when they can be, without starting their system services; a test whose package is
# missing says "skipped".
SERVER_PKGS=(freeradius eapoltest ocserv openconnect kamailio kamailio-tls-modules prometheus)

want_asan=0 want_test=0
for a in "$@"; do
	case "$a" in
	--asan) want_asan=1 ;;
	--test) want_test=1; want_asan=1 ;;
	-h|--help) sed -n '2,9p' "$0"; exit 0 ;;
	*) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
	esac
done

pkgs=("${BUILD_PKGS[@]}")
[ "$want_test" = 1 ] && pkgs+=("${TEST_PKGS[@]}")
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup.sh: missing packages (${missing[*]}); run as root to install them" >&2
		exit 1
	fi
	echo "setup.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The unprivileged user of tests/e2e/privsep.sh (the daemon started as root becomes it).
[ "$want_test" = 1 ] && [ "$(id -u)" = 0 ] && ! id -u opencapf-test >/dev/null 2>&1 &&
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin opencapf-test
server_missing=()
[ "$want_test" = 1 ] && [ "$(id -u)" = 0 ] && for p in "${SERVER_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || server_missing+=("$p")
done
if [ "${#server_missing[@]}" -gt 0 ]; then
	echo "setup.sh: installing ${server_missing[*]} (servers for the tests; their services stay stopped)"
	export DEBIAN_FRONTEND=noninteractive
	policy=
	[ -e /usr/sbin/policy-rc.d ] || { policy=/usr/sbin/policy-rc.d; printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; }
	apt-get update -qq || true
	if ! apt-get install -y -qq --no-install-recommends "${server_missing[@]}" >/dev/null 2>&1; then
		for p in "${server_missing[@]}"; do # one by one: install what can be
			apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 ||
				echo "setup.sh: cannot install $p: the tests that need it will say skipped" >&2
		done
	fi
	[ -z "$policy" ] || rm -f "$policy"
	units=$(printf '%s\n' "${server_missing[@]}" | sed -n 's/^\(freeradius\|kamailio\|prometheus\)$/\1/p; s/^ocserv$/ocserv ocserv.socket/p')
	[ -z "$units" ] || ! command -v systemctl >/dev/null || systemctl disable -q $units 2>/dev/null || true
fi

[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
if [ "$want_asan" = 1 ]; then
	[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	ninja -C build-asan >/dev/null
fi
echo "setup.sh: built ./build$([ "$want_asan" = 1 ] && echo ' and ./build-asan')"
