#!/usr/bin/env bash
# demo.sh: opencapf on its embedded defaults, end to end, on this machine.
#
# Installs and builds (scripts/setup.sh), creates a state folder in
# ./demo-state (ignored by git), starts opencapfd on loopback, enrolls an
# emulated phone and shows the LSC it received. The daemon keeps running;
# the last lines say how to stop it. Run it again to enroll another phone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

STATE=${OPENCAPF_STATE:-$PWD/demo-state}
PORT=${CAPF_PORT:-3804}
REG_PORT=${REGISTER_PORT:-2443}
B=$PWD/build/src/cmd
export OPENCAPF_STATE=$STATE

if [ ! -f "$STATE/opencapf.db" ]; then
	"$B/opencapf/opencapf" init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ"
	"$B/phonesim/phonesim" mfg-ca create "$STATE/demo-mfg" >/dev/null
	"$B/opencapf/opencapf" trust add manufacturing "$STATE/demo-mfg/mfg.crt" >/dev/null
fi
"$B/opencapf/opencapf" capf show

if [ -f "$STATE/opencapfd.pid" ] && kill -0 "$(cat "$STATE/opencapfd.pid")" 2>/dev/null; then
	echo "opencapfd already running (pid $(cat "$STATE/opencapfd.pid"))"
else
	"$B/opencapfd/opencapfd" --capf-listen "127.0.0.1:$PORT" --register-listen "127.0.0.1:$REG_PORT" \
		--pidfile "$STATE/opencapfd.pid" \
		>>"$STATE/opencapfd.log" 2>&1 &
	for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
	echo "opencapfd started on 127.0.0.1:$PORT (log: $STATE/opencapfd.log)"
fi

# A new emulated phone each run: SEP + 12 hex digits.
shopt -s nullglob
existing=("$STATE"/phones/SEP*)
N=${#existing[@]}
NAME=$(printf 'SEP00DEC0DE%04X' "$((N + 1))")
PHONE="$STATE/phones/$NAME"
mkdir -p "$STATE/phones"
"$B/phonesim/phonesim" init "$PHONE" --name "$NAME" --mfg-ca "$STATE/demo-mfg" --model 7962 >/dev/null
"$B/opencapf/opencapf" capf cert >"$STATE/capf.pem"
"$B/phonesim/phonesim" trust "$PHONE" "$STATE/capf.pem" >/dev/null
"$B/opencapf/opencapf" phone add "$NAME" --model 7962 --auth mic-first --key-order ec-rsa
"$B/opencapf/opencapf" phone op "$NAME" install
echo
echo "--- the phone enrolls (phonesim $NAME -> 127.0.0.1:$PORT)"
"$B/phonesim/phonesim" capf "$PHONE" "127.0.0.1:$PORT"
echo
echo "--- what opencapf recorded"
"$B/opencapf/opencapf" phone show "$NAME"
echo
echo "--- the LSC the phone now holds"
openssl x509 -in "$PHONE/lsc.crt" -noout -subject -issuer -serial -dates -ext subjectAltName,extendedKeyUsage
echo
echo "--- the phone registers with call control's TLS check (LSC if installed, else MIC)"
"$B/phonesim/phonesim" register "$PHONE" "127.0.0.1:$REG_PORT" --tls-max 1.2 ||
	echo "(the registration check on 127.0.0.1:$REG_PORT did not accept it: an older daemon? restart it)"
"$B/opencapf/opencapf" register log "$NAME" --limit 1
echo
echo "State: $STATE   Stop the daemon: kill \$(cat $STATE/opencapfd.pid)"
