#!/usr/bin/env bash
# test-softhsm.sh: the end-to-end tests again, with every state's keys made in
# a SoftHSM2 token instead of key files.
#
#   scripts/test-softhsm.sh [BUILD_DIR] [TEST...]
#
# A token in a temporary folder (SOFTHSM2_CONF), then `meson test` of the
# named tests (default: CAPF with every mode and key type, ITL/TVS,
# registration, the servers, privilege separation, load) with
# OPENCAPF_KEY_STORE set, so every `opencapf init` makes its CAPF, SAST and
# TVS keys in the token and keys/ only names them. Exits 77 when SoftHSM2 is
# not installed (scripts/setup.sh --test installs it).
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build}
[ $# -gt 0 ] && shift
TESTS=("$@")
[ ${#TESTS[@]} -gt 0 ] || TESTS=(e2e-capf-ops e2e-capf-lifecycle e2e-itl-tvs e2e-register-diag e2e-privsep
	e2e-phone-fleet e2e-load e2e-servers-freeradius e2e-servers-ocserv e2e-servers-kamailio signer-p11)
MODULE=/usr/lib/softhsm/libsofthsm2.so
if [ ! -r "$MODULE" ] || ! command -v softhsm2-util >/dev/null; then
	echo "test-softhsm: skipped: SoftHSM2 is not installed ($MODULE)"
	exit 77
fi
[ -f "$BUILD/build.ninja" ] || { echo "test-softhsm: no build folder $BUILD" >&2; exit 2; }

TOKEN_DIR=$(mktemp -d /tmp/opencapf-softhsm.XXXXXX)
trap 'rm -rf "$TOKEN_DIR"' EXIT
chmod 755 "$TOKEN_DIR"   # the daemon's user (e2e-privsep) reaches nothing else in it
mkdir -m 700 "$TOKEN_DIR/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$TOKEN_DIR" \
	>"$TOKEN_DIR/softhsm2.conf"
export SOFTHSM2_CONF=$TOKEN_DIR/softhsm2.conf
softhsm2-util --init-token --free --label opencapf --pin 1234 --so-pin 56781234 >/dev/null ||
	{ echo "test-softhsm: cannot create the token" >&2; exit 1; }
echo 1234 >"$TOKEN_DIR/pin"
chmod 600 "$TOKEN_DIR/pin"
export OPENCAPF_KEY_STORE="pkcs11:token=opencapf?module-path=$MODULE&pin-source=file:$TOKEN_DIR/pin"
echo "test-softhsm: keys in the SoftHSM2 token 'opencapf' ($TOKEN_DIR)"
meson test -C "$BUILD" --num-processes 2 --print-errorlogs --logbase testlog-softhsm "${TESTS[@]}"
