# The shell tests' bookkeeping (sourced, bash).  Every test script counts its
# checks with these and ends with `summary`, whose line "N passed, N failed"
# scripts/count-tests adds up over the whole suite.
#
#   check DESCRIPTION COMMAND...   one check: passes when COMMAND exits 0.
#       COMMAND's stdout and stderr go to $T/check.log ($T: the test's own
#       temp directory) and are shown, indented, when it fails; a script that
#       defines on_check_failure gets it called after that, to show more
#       (what the tool under test printed, its exit status).
#   ok / fail MESSAGE              count a pass or a failure by hand.
#   summary                        the counts; non-zero when anything failed.

passed=0
failed=0

ok() { passed=$((passed + 1)); }

fail() {
	failed=$((failed + 1))
	echo "FAIL - $*"
}

check() {
	local what=$1
	shift
	if "$@" >"${T:?tests/checks.sh: set T first}/check.log" 2>&1; then
		ok
		echo "ok   - $what"
	else
		fail "$what"
		sed -n '1,30s/^/       /p' "$T/check.log"
		if declare -F on_check_failure >/dev/null; then
			on_check_failure
		fi
	fi
}

summary() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
