#!/usr/bin/env bash
# package.sh: the Debian package built from the tree as an administrator
# would install it: dpkg-buildpackage on a copy of the tree, the contents and
# maintainer scripts checked with dpkg-deb, lintian without errors, the
# systemd units verified (systemd-analyze verify; security exposure at most
# 2.0), the Prometheus rules checked with promtool, the package unpacked
# into a scratch root (dpkg -x) and its daemon run from there with the
# example configuration on loopback ports: READY=1 over NOTIFY_SOCKET, SIGHUP (a reload)
# survived, a phone enrolled with the packaged phonesim, /metrics checked.
. "$(dirname "$0")/lib.sh"
: "${SOURCE_ROOT:?SOURCE_ROOT must name the source tree}"
for tool in dpkg-buildpackage dpkg-deb lintian fakeroot python3 sqlite3; do
	command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed"; exit 77; }
done
dpkg-checkbuilddeps "$SOURCE_ROOT/debian/control" >/dev/null 2>&1 || {
	echo "skipped: build dependencies missing"; exit 77; }

# --- build from a copy of the tree (the build leaves files beside debian/)
mkdir "$TEST_TMP/src"
if git -C "$SOURCE_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$SOURCE_ROOT" ls-files -co --exclude-standard | grep -v '^build' |
		tar -C "$SOURCE_ROOT" -cf - -T - | tar -C "$TEST_TMP/src" -xf -
else
	tar -C "$SOURCE_ROOT" --exclude='./build*' --exclude='./.git' -cf - . | tar -C "$TEST_TMP/src" -xf -
fi
(cd "$TEST_TMP/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -b -us -uc) \
	>"$TEST_TMP/build.log" 2>&1
equal "dpkg-buildpackage -b -us -uc" "$?" 0 || tail -30 "$TEST_TMP/build.log"
DEB=$(ls "$TEST_TMP"/opencapf_*_*.deb 2>/dev/null | head -1)
[ -f "$DEB" ] || { not_ok "no .deb was built"; finish; exit 1; }

# --- contents and control files
dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|' >"$TEST_TMP/contents"
for f in /usr/bin/opencapf /usr/sbin/opencapfd /usr/bin/phonesim /usr/share/man/man1/opencapf.1.gz \
	/usr/share/man/man8/opencapfd.8.gz /usr/share/man/man1/phonesim.1.gz /usr/share/opencapf/web/index.html \
	/usr/share/opencapf/web/app.js /etc/opencapf/opencapfd.conf /lib/systemd/system/opencapfd.service \
	/lib/systemd/system/opencapf-check.service /lib/systemd/system/opencapf-check.timer \
	/lib/systemd/system/opencapf-crl.service /lib/systemd/system/opencapf-crl.timer \
	/usr/share/bash-completion/completions/opencapf /usr/share/opencapf/prometheus/opencapf.rules.yml \
	/usr/share/doc/opencapf/copyright; do
	grep -qx "$f" "$TEST_TMP/contents" && ok "package holds $f" || not_ok "package lacks $f"
done
mkdir "$TEST_TMP/control"
dpkg-deb -e "$DEB" "$TEST_TMP/control"
equal "the example configuration is a conffile" "$(cat "$TEST_TMP/control/conffiles")" /etc/opencapf/opencapfd.conf
expect_exit 0 "postinst creates the system user opencapf" grep -q "adduser --quiet --system --group" \
	"$TEST_TMP/control/postinst"
expect_exit 0 "postinst migrates on upgrade after a backup" grep -q "migrate_state" "$TEST_TMP/control/postinst"
expect_exit 0 "postrm keeps keys unless OPENCAPF_PURGE_KEYS=yes" grep -q 'OPENCAPF_PURGE_KEYS:-no' \
	"$TEST_TMP/control/postrm"
expect_exit 0 "the units are enabled by the maintainer scripts" grep -q "deb-systemd-helper" \
	"$TEST_TMP/control/postinst"
for s in postinst postrm prerm; do
	[ -f "$TEST_TMP/control/$s" ] && expect_exit 0 "$s is valid sh" sh -n "$TEST_TMP/control/$s"
done
expect_exit 0 "Depends names adduser" sh -c "dpkg-deb -f '$DEB' Depends | grep -q adduser"

# --- lintian: no errors
lintian --fail-on error "$DEB" >"$TEST_TMP/lintian.out" 2>&1
equal "lintian reports no errors" "$?" 0 || grep '^E:' "$TEST_TMP/lintian.out" | head
grep -E '^[EW]:' "$TEST_TMP/lintian.out" | sed 's/^/# /'

# --- unpacked into a scratch root
ROOT="$TEST_TMP/root"
dpkg -x "$DEB" "$ROOT"
U="$ROOT/lib/systemd/system"
if command -v systemd-analyze >/dev/null; then
	# Verified with ExecStart pointing into the scratch root (the host has no /usr/sbin/opencapfd).
	mkdir "$TEST_TMP/units"
	for u in opencapfd.service opencapf-check.service opencapf-check.timer opencapf-crl.service opencapf-crl.timer; do
		sed "s|/usr/sbin/|$ROOT/usr/sbin/|; s|/usr/bin/|$ROOT/usr/bin/|" "$U/$u" >"$TEST_TMP/units/$u"
	done
	expect_exit 0 "systemd-analyze verify: the units" systemd-analyze verify --man=no "$TEST_TMP/units/opencapfd.service" \
		"$TEST_TMP/units/opencapf-check.service" "$TEST_TMP/units/opencapf-check.timer" \
		"$TEST_TMP/units/opencapf-crl.service" "$TEST_TMP/units/opencapf-crl.timer"
	for u in opencapfd.service opencapf-check.service opencapf-crl.service; do
		e=$(systemd-analyze security --offline=true --root="$ROOT" "$u" 2>/dev/null |
			sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		[ -n "$e" ] && awk "BEGIN { exit !($e <= 2.0) }" && ok "systemd-analyze security $u: exposure $e (at most 2.0)" \
			|| not_ok "systemd-analyze security $u: exposure '$e' (wanted at most 2.0)"
	done
else
	echo "# systemd-analyze not installed: units not verified"
fi
expect_exit 0 "the unit waits for READY=1 (Type=notify)" grep -qx "Type=notify" "$U/opencapfd.service"
if command -v promtool >/dev/null; then
	expect_exit 0 "promtool check rules" promtool check rules "$ROOT/usr/share/opencapf/prometheus/opencapf.rules.yml"
else
	echo "# promtool not installed: rules not checked"
fi

# --- the example configuration names every setting the daemon knows
CONF="$ROOT/etc/opencapf/opencapfd.conf"
for src in "$SOURCE_ROOT/src/cmd/opencapfd/config.c" "$SOURCE_ROOT/src/api/api_config.c" \
	"$SOURCE_ROOT/src/net/file_service.c"; do
	[ -f "$src" ] || continue
	for key in $(grep -o 'strcmp(key, "[a-z_]*")' "$src" | sed 's/.*"\(.*\)")/\1/' | sort -u); do
		grep -Eq "^#?$key =( |$)" "$CONF" || not_ok "the example configuration lacks $key ($(basename "$src"))"
	done
done
for sec in $(grep -o 'strcmp(section, "[a-z_]*")' "$SOURCE_ROOT/src/cmd/opencapfd/config.c" | sed 's/.*"\(.*\)")/\1/'); do
	grep -qx "\[$sec\]" "$CONF" || not_ok "the example configuration lacks [$sec]"
done
ok "the example configuration lists every section and key the daemon's configuration readers know"

# --- the maintainer scripts, run against a scratch state (system tools replaced by stubs that log)
M="$TEST_TMP/maint"
mkdir -p "$M/bin" "$M/var/lib" "$M/backups"
for tool in adduser chown; do printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n' "$tool" "$M" >"$M/bin/$tool"; done
printf '#!/bin/sh\nexit 2\n' >"$M/bin/getent"
printf '#!/bin/sh\necho "runuser $*" >>"%s/calls"\nshift 3\nexec "$@"\n' "$M" >"$M/bin/runuser"
ln -s "$ROOT/usr/bin/opencapf" "$M/bin/opencapf"
chmod +x "$M/bin/"*
for s in postinst postrm; do
	sed "s|^STATE=/var/lib/opencapf|STATE=$M/var/lib/opencapf|; s|/var/backups/opencapf|$M/backups|g; /#DEBHELPER#/d" \
		"$TEST_TMP/control/$s" >"$M/$s"
done
maint() { PATH="$M/bin:$PATH" sh "$M/$1" "${@:2}"; }
expect_exit 0 "postinst configure (a first install)" maint postinst configure
expect_exit 0 "... creates the system user opencapf" grep -q "^adduser --quiet --system --group --home $M/var/lib/opencapf" "$M/calls"
equal "... and the state folder, 0750" "$(stat -c %a "$M/var/lib/opencapf")" 750
rmdir "$M/var/lib/opencapf"
"$ROOT/usr/bin/opencapf" --state "$M/var/lib/opencapf" init --key ec:p256 >/dev/null
sqlite3 "$M/var/lib/opencapf/opencapf.db" "PRAGMA user_version" >"$M/schema"
expect_exit 0 "postinst configure 0.0.9 (an upgrade)" maint postinst configure 0.0.9
expect_output "state backed up to $M/backups/before-upgrade-from-0.0.9-" "... backs the state up first"
expect_exit 0 "... into an archive that restores" "$ROOT/usr/bin/opencapf" --state "$M/restored" restore \
	"$(ls "$M"/backups/before-upgrade-from-0.0.9-*.ocb)"
expect_exit 0 "... then opens the state as opencapf (the schema migration)" \
	grep -q "^runuser -u opencapf -- opencapf --state $M/var/lib/opencapf check" "$M/calls"
expect_exit 0 "postrm purge" maint postrm purge
expect_output "kept the private keys in $M/var/lib/opencapf/keys" "... says it kept the keys"
equal "... kept keys/ and nothing else" "$(ls "$M/var/lib/opencapf")" keys
expect_exit 0 "... the CAPF key is still there" test -s "$M/var/lib/opencapf/keys/capf-1.key"
expect_exit 0 "postrm purge with OPENCAPF_PURGE_KEYS=yes" env OPENCAPF_PURGE_KEYS=yes PATH="$M/bin:$PATH" sh "$M/postrm" purge
expect_exit 1 "... removes the keys too" test -e "$M/var/lib/opencapf"

# --- the packaged programs, the example configuration with its defaults made explicit
OC="$ROOT/usr/bin/opencapf"
S="$TEST_TMP/state"
CAPF_PORT=$(free_port); TVS_PORT=$(free_port); HTTP_PORT=$(free_port)
sed -E "s/^#([a-z_]+ =)/\1/; s|^state = .*|state = $S|; s|^tftp_dir = .*|tftp_dir = $TEST_TMP/tftp|;
	s|^web_dir = .*|web_dir = $ROOT/usr/share/opencapf/web|; s|^metrics_public = .*|metrics_public = yes|" "$CONF" |
	awk -v c="127.0.0.1:$CAPF_PORT" -v t="127.0.0.1:$TVS_PORT" -v h="127.0.0.1:$HTTP_PORT" '
		/^\[/ { sec = $0 } /^listen = / { if (sec == "[capf]") $0 = "listen = " c; else if (sec == "[tvs]") $0 = "listen = " t;
		else if (sec == "[http]") $0 = "listen = " h } { print }' >"$TEST_TMP/opencapfd.conf"
"$OC" --state "$S" init --key ec:p256 >/dev/null
expect_exit 0 "packaged opencapf check on a new state" "$OC" --state "$S" check
equal "packaged completion is the packaged program's" "$("$OC" completion bash |
	cmp -s - "$ROOT/usr/share/bash-completion/completions/opencapf" && echo same)" same

python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(30)
with open(sys.argv[2], "w") as out:
    while True:
        try: msg = s.recv(4096).decode()
        except socket.timeout: break
        out.write(msg.replace("\n", " ") + "\n"); out.flush()
        if "STOPPING=1" in msg: break' "$TEST_TMP/notify.sock" "$TEST_TMP/notify.log" &
NOTIFY_PID=$!
PIDS+=("$NOTIFY_PID")
for _ in $(seq 1 50); do [ -S "$TEST_TMP/notify.sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET="$TEST_TMP/notify.sock" "$ROOT/usr/sbin/opencapfd" --config "$TEST_TMP/opencapfd.conf" \
	--workers 2 >"$TEST_TMP/daemon.log" 2>&1 &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")
wait_port "$CAPF_PORT" && wait_port "$HTTP_PORT" && ok "the packaged daemon listens with the example configuration" ||
	{ not_ok "the packaged daemon did not start"; cat "$TEST_TMP/daemon.log"; }
for _ in $(seq 1 50); do grep -q READY=1 "$TEST_TMP/notify.log" 2>/dev/null && break; sleep 0.1; done
expect_exit 0 "it sent READY=1 to NOTIFY_SOCKET" grep -q "^READY=1 STATUS=serving" "$TEST_TMP/notify.log"
kill -HUP "$DAEMON_PID"; sleep 0.3
kill -0 "$DAEMON_PID" 2>/dev/null && ok "SIGHUP does not stop it" || not_ok "SIGHUP stopped the daemon"
expect_exit 0 "SIGHUP reloads the example configuration" grep -q "reloaded: log level" "$TEST_TMP/daemon.log"

PS="$ROOT/usr/bin/phonesim"
"$OC" --state "$S" phone add SEP00AA11BB22CC --auth string --auth-string 482913 >/dev/null
"$OC" --state "$S" phone op SEP00AA11BB22CC install >/dev/null
"$OC" --state "$S" capf cert >"$TEST_TMP/capf.pem"
(cd "$TEST_TMP" && "$PS" mfg-ca create mfg >/dev/null && "$PS" init phone1 --name SEP00AA11BB22CC --mfg-ca mfg >/dev/null &&
	"$PS" trust phone1 capf.pem >/dev/null)
expect_exit 0 "the packaged phonesim enrolls a phone" sh -c "cd '$TEST_TMP' && '$PS' capf phone1 127.0.0.1:$CAPF_PORT --auth-string 482913"
expect_exit 0 "the phone has its LSC on record" sh -c "'$OC' --state '$S' phone show SEP00AA11BB22CC | grep -q 'Upgrade Success'"
expect_exit 0 "packaged opencapf check --connect sees the listeners" "$OC" --state "$S" check \
	--connect "127.0.0.1:$CAPF_PORT" --connect "127.0.0.1:$TVS_PORT"
curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" >"$TEST_TMP/metrics"
expect_exit 0 "/metrics answers" grep -q "^opencapf_lscs_issued_total 1$" "$TEST_TMP/metrics"
if command -v promtool >/dev/null; then
	promtool check metrics <"$TEST_TMP/metrics" >"$TEST_TMP/promtool.out" 2>&1
	rc=$?
	sed 's/^/# promtool: /' "$TEST_TMP/promtool.out"
	equal "promtool check metrics: /metrics parses with no lint finding" "$rc" 0
fi
expect_exit 0 "the web UI is served from the package's files" curl -sf "http://127.0.0.1:$HTTP_PORT/index.html"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
equal "the packaged daemon exits 0 on SIGTERM" "$?" 0
wait "$NOTIFY_PID" 2>/dev/null
expect_exit 0 "it sent STOPPING=1" grep -q "^STOPPING=1" "$TEST_TMP/notify.log"
finish
