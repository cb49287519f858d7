#!/usr/bin/env bash
# completion.sh: the bash completion script, generated from the CLI's
# command table: it offers every command `opencapf --help` lists, each
# group's subcommands and each command's options, and the copy generated at
# build time is the one the program prints.
. "$(dirname "$0")/lib.sh"

"$OPENCAPF" completion bash >"$TEST_TMP/opencapf.bash"
equal "completion bash exits 0" "$?" 0
if [ -n "${COMPLETION_FILE:-}" ]; then
	equal "the build's completion file is the program's output" \
		"$(cmp -s "$COMPLETION_FILE" "$TEST_TMP/opencapf.bash" && echo same)" same
fi

# complete WORDS...: what the script offers for the last word.
complete_words() {
	bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_opencapf
		printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$TEST_TMP/opencapf.bash" "$OPENCAPF" "$@"
}

listed=$("$OPENCAPF" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p' | sort)
equal "every command of --help is offered, and only those" "$(complete_words "")" "$listed"
equal "'ba' completes to backup" "$(complete_words ba)" backup
equal "'phone a' offers add and auth-strings" "$(complete_words phone a | tr '\n' ' ')" "add auth-strings "
subs=$("$OPENCAPF" capf --help | sed -n '/^Subcommands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p' | sort)
equal "'capf ' offers every capf subcommand" "$(complete_words capf "")" "$subs"
equal "'check --d' offers --days" "$(complete_words check --d)" "--days"
equal "'backup x --pass' offers --passphrase-file" "$(complete_words backup x --pass)" "--passphrase-file"
equal "'phone add SEP1 --auth-s' offers --auth-string" "$(complete_words phone add SEP1 --auth-s)" "--auth-string"
equal "options after --state DIR still work" "$(complete_words --state /tmp check --crit)" "--critical-days"
mkdir -p "$TEST_TMP/dirs/sub1"
equal "--state completes folders" "$(complete_words --state "$TEST_TMP/dirs/s")" "$TEST_TMP/dirs/sub1"
"$OPENCAPF" completion zsh >"$TEST_TMP/opencapf.zsh"
equal "zsh uses bashcompinit" "$(grep -c '^autoload -U +X bashcompinit && bashcompinit$' "$TEST_TMP/opencapf.zsh")" 1
expect_exit 2 "completion fish is refused" "$OPENCAPF" completion fish
expect_output "completion fish: expected bash or zsh" "... naming the value"
finish
