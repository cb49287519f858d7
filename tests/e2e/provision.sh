#!/usr/bin/env bash
# provision.sh: the CAPF part of phones' configuration files. `phone config`
# prints the elements (capfAuthMode from the mode and the pending operation,
# capfList from the cluster settings) or merges them into the
# administrator's own file, other elements untouched; `provision` writes the
# folder: the merged SEP<MAC>.cnf.xml and its .sgn (verified by the state's
# ITL signer), only what changed, every bad template named with its line
# while the others are still published, nothing half-written.
. "$(dirname "$0")/lib.sh"

S="$TEST_TMP/state"
oc() { "$OPENCAPF" --state "$S" "$@"; }
oc init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" >/dev/null || exit 1
T="$S/templates"
mkdir -p "$T"
xpath() { xmllint --xpath "$1" - 2>/dev/null; }   # xpath EXPR < FILE
command -v xmllint >/dev/null || { echo "xmllint (libxml2-utils) is missing"; exit 77; }

# --- capfAuthMode from the mode and the pending operation
n=0
for mode in string null lsc-first mic-first; do
	n=$((n + 1)); P=$(printf 'SEP0000000000%02X' "$n")
	if [ "$mode" = string ]; then oc phone add "$P" --auth string --auth-string 123456 >/dev/null
	else oc phone add "$P" --auth "$mode" >/dev/null; fi
	equal "$mode without an operation: capfAuthMode 0" "$(oc phone config "$P" | grep -o '<capfAuthMode>[0-9]' | cut -c15)" 0
	oc phone op "$P" install >/dev/null
	equal "$mode with an install pending: capfAuthMode $n" "$(oc phone config "$P" | grep -o '<capfAuthMode>[0-9]' | cut -c15)" "$n"
done
expect_exit 0 "provision settings: two CAPF servers" oc provision settings --capf-server capf1.example:3804,capf2.example:4804
expect_exit 0 "phone config" oc phone config SEP000000000001
expect_output "<processNodeName>capf1.example</processNodeName>" "capfList names the first server"
expect_output "<phonePort>4804</phonePort>" "... and the second with its port"
expect_exit 2 "a bad security mode is refused" oc provision settings --security-mode 5
expect_exit 1 "a bad CAPF server is refused" oc provision settings --capf-server "capf1.example:99999"
expect_output "capf1.example" "naming it"

# --- merging into the administrator's own file
cat >"$T/SEP000000000001.cnf.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<device xsi:type="axl:XIPPhone" ctiid="94">
  <fullConfig>true</fullConfig>
  <deviceProtocol>SIP</deviceProtocol>
  <capfAuthMode>0</capfAuthMode>
  <loadInformation>sip88xx.14-2-1-0201-10</loadInformation>
  <!-- the PBX's comment -->
  <sipProfile><sipProxies><registerWithProxy>true</registerWithProxy></sipProxies></sipProfile>
</device>
XML
oc phone config SEP000000000001 --merge "$T/SEP000000000001.cnf.xml" >"$TEST_TMP/merged.xml"
equal "merged: capfAuthMode replaced where it was" "$(xpath 'string(/device/capfAuthMode)' <"$TEST_TMP/merged.xml")" 1
equal "merged: one capfAuthMode" "$(xpath 'count(//capfAuthMode)' <"$TEST_TMP/merged.xml")" 1
equal "merged: capfList added" "$(xpath 'count(/device/capfList/capf)' <"$TEST_TMP/merged.xml")" 2
equal "merged: deviceSecurityMode added" "$(xpath 'string(/device/deviceSecurityMode)' <"$TEST_TMP/merged.xml")" 2
equal "merged: other elements untouched" "$(xpath 'string(/device/loadInformation)' <"$TEST_TMP/merged.xml")" \
	sip88xx.14-2-1-0201-10
grep -q "the PBX's comment" "$TEST_TMP/merged.xml" && grep -q 'ctiid="94"' "$TEST_TMP/merged.xml" &&
	ok "merged: comments and attributes kept" || not_ok "merged: comments and attributes kept"
printf '<device>\n  <fullConfig>true\n</device>\n' >"$TEST_TMP/broken.xml"
expect_exit 1 "invalid XML is refused" oc phone config SEP000000000001 --merge "$TEST_TMP/broken.xml"
expect_output "broken.xml:[0-9]+: not well-formed XML" "with the file and line"
printf '<phone/>\n' >"$TEST_TMP/other.xml"
expect_exit 1 "a root other than <device> is refused" oc phone config SEP000000000001 --merge "$TEST_TMP/other.xml"
expect_output "the root element is <phone>, not <device>" "saying why"

# --- the provisioning folder
cp "$T/SEP000000000001.cnf.xml" "$T/SEP000000000002.cnf.xml"
printf '<device>\n <a>\n</device>\n' >"$T/SEP000000000003.cnf.xml"
cp "$T/SEP000000000001.cnf.xml" "$T/SEP0000000000FF.cnf.xml"
expect_exit 1 "provision: a bad template fails the run" oc provision
expect_output "2 written, 0 unchanged, 1 without a template, 2 failed" "the others are still published"
expect_output "SEP000000000003.cnf.xml:[0-9]+: not well-formed XML" "the bad template is named with its line"
expect_output "SEP0000000000FF.cnf.xml: no phone named SEP0000000000FF" "a template for an unknown phone is named"
D="$S/tftp"
for P in SEP000000000001 SEP000000000002; do
	check "$P.cnf.xml.sgn verifies with the state's signer" oc sgn verify "$D/$P.cnf.xml.sgn"
	equal "$P: the .sgn carries the file byte for byte" "$(oc sgn strip -o - "$D/$P.cnf.xml.sgn" 2>/dev/null | sha256sum)" \
		"$(sha256sum <"$D/$P.cnf.xml")"
done
check "nothing for the bad template" test ! -e "$D/SEP000000000003.cnf.xml"
equal "no half-written file" "$(find "$D" -name '*.tmp*' | wc -l)" 0
rm "$T/SEP000000000003.cnf.xml" "$T/SEP0000000000FF.cnf.xml"
before=$(stat -c %Y.%N "$D/SEP000000000001.cnf.xml.sgn" 2>/dev/null || stat -c %Y "$D/SEP000000000001.cnf.xml.sgn")
sleep 1
expect_exit 0 "provision again" oc provision
expect_output "0 written, 2 unchanged" "only what changed is written"
equal "the unchanged .sgn is not rewritten" "$(stat -c %Y.%N "$D/SEP000000000001.cnf.xml.sgn" 2>/dev/null ||
	stat -c %Y "$D/SEP000000000001.cnf.xml.sgn")" "$before"
oc phone op SEP000000000002 none >/dev/null
expect_exit 0 "a phone's operation done: provision" oc provision
expect_output "1 written, 1 unchanged" "its file is written again"
equal "its capfAuthMode is 0 now" "$(xpath 'string(/device/capfAuthMode)' <"$D/SEP000000000002.cnf.xml")" 0
equal "the run is audited" "$(sqlite3 "$S/opencapf.db" "SELECT count(*) FROM audit_log WHERE action='provision.publish'")" 3

# --- the daemon keeps the folder current by itself
if [ -n "${OPENCAPFD:-}" ]; then
	HTTP_PORT=$(free_port)
	start_daemon "$S" --http-listen "127.0.0.1:$HTTP_PORT" || exit 1
	wait_for() { for _ in $(seq 1 60); do eval "$1" && return 0; sleep 0.5; done; return 1; }
	cp "$T/SEP000000000001.cnf.xml" "$T/SEP000000000004.cnf.xml"
	wait_for "test -s '$D/SEP000000000004.cnf.xml.sgn'" && ok "a new template is published by the daemon" ||
		not_ok "a new template is published by the daemon"
	oc phone op SEP000000000001 none >/dev/null
	wait_for "[ \"\$(xmllint --xpath 'string(/device/capfAuthMode)' '$D/SEP000000000001.cnf.xml' 2>/dev/null)\" = 0 ]" &&
		ok "a phone's operation done: the daemon rewrites its configuration" ||
		not_ok "a phone's operation done: the daemon rewrites its configuration"
	check "and its signature verifies" oc sgn verify "$D/SEP000000000001.cnf.xml.sgn"
	grep -q "provisioning: 1 configuration written" "$DAEMON_LOG" && ok "the daemon logs what it wrote" ||
		not_ok "the daemon logs what it wrote"

	# --- encrypted configurations: to the phone's RSA LSC; an EC-only phone is refused
	if [ -n "${PHONESIM:-}" ]; then
		oc capf cert >"$TEST_TMP/capf.pem"
		"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null
		oc trust add manufacturing "$TEST_TMP/mfg/mfg.crt" >/dev/null
		for spec in E1:rsa E2:ec; do
			P=SEP0000000000${spec%%:*}
			"$PHONESIM" init "$TEST_TMP/$P" --name "$P" --mfg-ca "$TEST_TMP/mfg" >/dev/null
			"$PHONESIM" trust "$TEST_TMP/$P" "$TEST_TMP/capf.pem" >/dev/null
			oc phone add "$P" --key-order "${spec#*:}" >/dev/null && oc phone op "$P" install >/dev/null
			check "$P enrolls (${spec#*:} key)" "$PHONESIM" capf "$TEST_TMP/$P" "127.0.0.1:$CAPF_PORT" --timeout 30
			cp "$T/SEP000000000001.cnf.xml" "$T/$P.cnf.xml"
		done
		expect_exit 0 "provision encrypt" oc provision encrypt SEP0000000000E1 SEP0000000000E2
		expect_exit 1 "provision: the EC-only phone is refused" oc provision
		expect_output "SEP0000000000E2: its certificate has an EC key: an encrypted configuration needs an RSA key" \
			"saying why, by name"
		check "no plain configuration for the refused phone's encryption" test ! -e "$D/SEP0000000000E2.cnf.xml.enc.sgn"
		E="$D/SEP0000000000E1.cnf.xml"
		check "the encrypted configuration is published" test -s "$E.enc.sgn"
		check "its plain file is not" test ! -e "$E"
		check "the stub .sgn verifies" oc sgn verify "$E.sgn"
		check "the .enc.sgn verifies" oc sgn verify "$E.enc.sgn"
		oc sgn strip -o "$TEST_TMP/stub.xml" "$E.sgn" 2>/dev/null
		equal "the stub says fullConfig false" "$(xpath 'string(/device/fullConfig)' <"$TEST_TMP/stub.xml")" false
		equal "the stub says encrConfig true" "$(xpath 'string(/device/encrConfig)' <"$TEST_TMP/stub.xml")" true
		equal "the stub's certHash is the MD5 of the phone's LSC" "$(xpath 'string(/device/certHash)' <"$TEST_TMP/stub.xml")" \
			"$(openssl x509 -in "$TEST_TMP/SEP0000000000E1/lsc.crt" -outform DER | md5sum | cut -d' ' -f1)"
		equal "the stub names the CAPF servers" "$(xpath 'count(/device/capfList/capf)' <"$TEST_TMP/stub.xml")" 2
		expect_exit 0 "the phone's key decrypts it" oc sgn strip --key "$TEST_TMP/SEP0000000000E1/lsc.key" \
			-o "$TEST_TMP/plain.xml" "$E.enc.sgn"
		equal "the full configuration inside says deviceSecurityMode 3" \
			"$(xpath 'string(/device/deviceSecurityMode)' <"$TEST_TMP/plain.xml")" 3
		equal "and keeps the template's elements" "$(xpath 'string(/device/loadInformation)' <"$TEST_TMP/plain.xml")" \
			sip88xx.14-2-1-0201-10
		expect_exit 1 "another key does not decrypt it" oc sgn strip --key "$TEST_TMP/SEP0000000000E1/mic.key" \
			-o "$TEST_TMP/x.xml" "$E.enc.sgn"
		oc provision >/dev/null 2>&1
		before=$(sha256sum <"$E.enc.sgn")
		oc provision >/dev/null 2>&1
		equal "unchanged: not encrypted again" "$(sha256sum <"$E.enc.sgn")" "$before"
		oc phone op SEP0000000000E1 install >/dev/null
		"$PHONESIM" capf "$TEST_TMP/SEP0000000000E1" "127.0.0.1:$CAPF_PORT" --timeout 30 >/dev/null 2>&1
		oc phone op SEP0000000000E1 install >/dev/null; oc phone op SEP0000000000E1 none >/dev/null
		oc provision >/dev/null 2>&1
		oc phone show SEP0000000000E1 >"$TEST_TMP/last.out"
		expect_output "^Configuration: +template, published [0-9-]+ [0-9:]+ UTC, encrypted to [0-9a-f]{64}" \
			"phone show says where the configuration stands"
		equal "phone show --json: provisioning.encrypted" \
			"$(oc phone show SEP0000000000E1 --json | jq -r '.provisioning.encrypted')" true
		expect_exit 0 "a new LSC: the configuration is encrypted to it" oc sgn strip \
			--key "$TEST_TMP/SEP0000000000E1/lsc.key" -o "$TEST_TMP/plain2.xml" "$E.enc.sgn"
	fi
	stop_daemon

	# --- the HTTPS provisioning certificate: made at init, in a 1.1 ITL as TFTP, used by the HTTPS file service
	H="$S/certs/https.pem"
	check "init made the HTTPS provisioning certificate" test -s "$H"
	openssl x509 -in "$H" -noout -text >"$TEST_TMP/last.out"
	expect_output "ASN1 OID: prime256v1" "its key is EC P-256"
	equal "its key file is 0600" "$(stat -c %a "$S/keys/https.key")" 600
	https_cn=$(openssl x509 -in "$H" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
	oc itl settings --version 1.1 >/dev/null
	oc itl show "$D/ITLFile.tlv" >"$TEST_TMP/last.out"
	grep -B2 -A12 "SUBJECTNAME.*CN=$https_cn" "$TEST_TMP/last.out" | grep -q "FUNCTION.*TFTP" &&
		ok "a 1.1 ITL lists it with role TFTP" || not_ok "a 1.1 ITL lists it with role TFTP"
	HTTPS_PORT=$(free_port)
	start_daemon "$S" --https-files-listen "127.0.0.1:$HTTPS_PORT" || exit 1
	wait_port "$HTTPS_PORT"
	served=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256)
	equal "the HTTPS file service presents it by default" "$served" "$(openssl x509 -in "$H" -noout -fingerprint -sha256)"
	curl -sk "https://127.0.0.1:$HTTPS_PORT/SEP000000000002.cnf.xml.sgn" -o "$TEST_TMP/over-https.xml"
	equal "over HTTPS a .sgn request gets the unsigned file" "$(sha256sum <"$TEST_TMP/over-https.xml")" \
		"$(sha256sum <"$D/SEP000000000002.cnf.xml")"
	stop_daemon
	old_fp=$(openssl x509 -in "$H" -noout -fingerprint -sha256)
	expect_exit 0 "provision https-cert --renew" oc provision https-cert --renew
	[ "$(openssl x509 -in "$H" -noout -fingerprint -sha256)" != "$old_fp" ] && ok "a new certificate" || not_ok "a new certificate"
	oc itl show "$D/ITLFile.tlv" | grep -q "The ITL file was verified successfully" && ok "the ITL is published again" ||
		not_ok "the ITL is published again"
fi

finish
