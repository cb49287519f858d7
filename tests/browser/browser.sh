#!/usr/bin/env bash
# browser.sh: the web UI in real headless Chromium (tests/browser/test.mjs,
# driven by playwright-core from npm), against a real opencapfd with
# phonesim enrolling a phone, failing one (a past deadline), and a bounded
# `phonesim load` of 60 phones (scheduled in the UI by a filter) while the
# campaign page watches, plus TVS requests. Installs playwright-core from the committed
# package-lock.json into the build folder (npm ci) on the first run.
# Screenshots of every page at 1400 and 800 px wide are saved in
# $BUILD_DIR/browser-screenshots (their paths are printed).
# Skips (exit 77) only when Chromium or Node.js is not installed
# (scripts/setup.sh --test installs both).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../e2e/lib.sh"
. "$here/../e2e/api_lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"
: "${BUILD_DIR:?BUILD_DIR must name the build folder}"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "SKIP: the browser test needs chromium, nodejs and npm (bash scripts/setup.sh --test installs them)"
	exit 77
fi

# playwright-core, pinned by package-lock.json, installed beside the build.
NODE_DIR="$BUILD_DIR/browser-node"
mkdir -p "$NODE_DIR"
cp "$here/package.json" "$here/package-lock.json" "$here/test.mjs" "$NODE_DIR/"
if ! cmp -s "$here/package-lock.json" "$NODE_DIR/node_modules/.package-lock.json.installed" 2>/dev/null; then
	if ! (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1); then
		not_ok "npm ci installs playwright-core"; cat "$NODE_DIR/npm.log"; finish; exit 1
	fi
	cp "$here/package-lock.json" "$NODE_DIR/node_modules/.package-lock.json.installed"
fi

S="$TEST_TMP/state"
P=SEP00AA11BB22CC
"$OPENCAPF" --state "$S" init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" >/dev/null
"$OPENCAPF" --state "$S" capf cert >"$TEST_TMP/capf.pem"
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null
"$OPENCAPF" --state "$S" trust add manufacturing "$TEST_TMP/mfg/mfg.crt" >/dev/null
"$PHONESIM" init "$TEST_TMP/$P" --name "$P" --mfg-ca "$TEST_TMP/mfg" >/dev/null
"$PHONESIM" trust "$TEST_TMP/$P" "$TEST_TMP/capf.pem" >/dev/null
"$OPENCAPF" --state "$S" phone add "$P" --model 8845 >/dev/null
for i in 1 2 3 4 5; do "$OPENCAPF" --state "$S" phone add "SEP00AA11BB220$i" --model 7962 >/dev/null; done
# P2 fails in the test (a deadline in the past): a phone of its own.
P2=SEP00AA11BB2201
"$PHONESIM" init "$TEST_TMP/$P2" --name "$P2" --mfg-ca "$TEST_TMP/mfg" >/dev/null
"$PHONESIM" trust "$TEST_TMP/$P2" "$TEST_TMP/capf.pem" >/dev/null
# 60 phones (more than a page of 50) for the bulk action on a filter and the load.
LOAD_FIRST=SEP00000000B000
{ echo "name,model,key_order"; for i in $(seq 0 59); do printf 'SEP%012X,7811,ec\n' $((0xB000 + i)); done; } >"$TEST_TMP/load.csv"
"$OPENCAPF" --state "$S" phone import "$TEST_TMP/load.csv" >/dev/null || { not_ok "import 60 phones"; finish; exit 1; }
# TVS: its certificate for phonesim, CAPF's entry to ask about.
"$OPENCAPF" --state "$S" tvs cert >"$TEST_TMP/tvs.pem"
ADMIN=$(new_token "$S" admin)
READ=$(new_token "$S" read)
TVS_PORT=$(free_port)
start_api_daemon "$S" --tvs-listen "127.0.0.1:$TVS_PORT" || exit 1

SHOTS="$BUILD_DIR/browser-screenshots"
rm -rf "$SHOTS"; mkdir -p "$SHOTS"
BASE_URL="$BASE" ADMIN_TOKEN="$ADMIN" READ_TOKEN="$READ" PHONE="$P" PHONE_DIR="$TEST_TMP/$P" \
	CAPF_ADDR="127.0.0.1:$CAPF_PORT" SCREENSHOT_DIR="$SHOTS" CHROMIUM="$CHROMIUM" \
	P2="$P2" P2_DIR="$TEST_TMP/$P2" CAPF_PEM="$TEST_TMP/capf.pem" LOAD_FIRST="$LOAD_FIRST" LOAD_COUNT=60 \
	TVS_ADDR="127.0.0.1:$TVS_PORT" TVS_PEM="$TEST_TMP/tvs.pem" PHONESIM="$PHONESIM" \
	node "$NODE_DIR/test.mjs" >"$TEST_TMP/node.out" 2>&1
node_rc=$?
grep -E '^(ok|not ok|# screenshot) ' "$TEST_TMP/node.out"
PASSED=$((PASSED + $(grep -c '^ok ' "$TEST_TMP/node.out")))
FAILED=$((FAILED + $(grep -c '^not ok ' "$TEST_TMP/node.out")))
if [ "$node_rc" != 0 ] && ! grep -q '^not ok ' "$TEST_TMP/node.out"; then
	not_ok "the browser test ran"; tail -20 "$TEST_TMP/node.out"
fi
n=$(ls "$SHOTS"/*.png 2>/dev/null | wc -l)
[ "$n" -ge 30 ] && ok "screenshots saved in $SHOTS ($n)" || not_ok "screenshots saved ($n in $SHOTS)"
stop_daemon
finish
