# fuzz_lib.sh: the libFuzzer build shared by scripts/fuzz.sh and
# scripts/fuzz-campaign.sh. Source it from the repository root; it defines:
#
#   fuzz_prepare DIR [SOURCE]
#                      configure DIR (once) for the sources in SOURCE (default:
#                      the current folder) with CC=clang -Dfuzzing=true and
#                      ASan + UBSan, list its fuzz-* targets into FUZZ_TARGETS
#                      (names without "fuzz-"), and build them. Returns 2 when
#                      clang is missing, 1 when setup, listing or build fails.
#
# Messages start with "$FUZZ_ME:" (the calling script's name by default).
FUZZ_ME=${FUZZ_ME:-$(basename "$0")}
FUZZ_TARGETS=

fuzz_prepare() {
	local dir=$1 src=${2:-.}
	command -v clang >/dev/null || { echo "$FUZZ_ME: clang is needed for libFuzzer" >&2; return 2; }
	if [ ! -f "$dir/build.ninja" ]; then
		# Every object gets libFuzzer's coverage instrumentation and the
		# sanitizers, so that targets of other layers (linked from their
		# libraries) are guided too. -Wno-unknown-warning-option: gcc-only
		# warning flags in the project arguments must not stop a clang build.
		CC=clang meson setup "$dir" "$src" -Dfuzzing=true -Db_sanitize=address,undefined \
			-Db_lundef=false -Dc_args='-fsanitize=fuzzer-no-link -Wno-unknown-warning-option' \
			>/dev/null || {
			echo "$FUZZ_ME: meson setup of $dir failed" >&2; return 1; }
	fi
	FUZZ_TARGETS=$(cd "$dir" && meson introspect --targets | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["type"] == "executable" and t["name"].startswith("fuzz-"):
        print(t["name"][len("fuzz-"):])')
	[ -n "$FUZZ_TARGETS" ] || { echo "$FUZZ_ME: no fuzz-* targets in $dir (is -Dfuzzing=true set?)" >&2; return 1; }
	# shellcheck disable=SC2086 # one word per target
	ninja -C "$dir" $(printf 'fuzz/fuzz-%s ' $FUZZ_TARGETS) || { echo "$FUZZ_ME: build failed" >&2; return 1; }
}
