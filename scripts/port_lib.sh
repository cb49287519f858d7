# port_lib.sh: free_port, for the tests and the benchmark and trial scripts
# (sourced, not run): a loopback port that no TCP or UDP socket uses, taken
# below the kernel's ephemeral range. Outgoing connections (load generators,
# database clients) take their local ports from that range, so a port picked
# there can be in use again by the time a daemon binds it.
free_port() {
	local lo hi top p hex
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
	top=$lo
	[ "$top" -gt 12000 ] || top=32768
	for _ in $(seq 1 100); do
		p=$((10000 + RANDOM % (top - 10000)))
		hex=$(printf ':%04X' "$p")
		awk -v h="$hex" 'FNR > 1 && substr($2, length($2) - 4) == h { used = 1 } END { exit !used }' \
			/proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null || { echo "$p"; return 0; }
	done
	return 1
}
