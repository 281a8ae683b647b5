# test-counts.sh - sourced by the test scripts (test.sh, test-sanitized.sh,
# valgrind.sh): the counts of a `make check` run or a pytest run, read from
# its output.
#
# make_check_counts LOG: sets p and f from the summary automake's test
# harness printed to LOG ("# PASS:  N", "# FAIL:  N", ...): p is PASS, f is
# FAIL + XPASS + ERROR.  Each cmocka test case is one result, and a unit
# program that crashed or exited non-zero for another reason is one ERROR
# (Makefile.am, tests/unit/run-test.sh).  No summary (the build failed) or
# no result at all counts as one failure.
# shellcheck shell=bash
make_check_counts() {
	local kind n
	p=0
	f=0
	for kind in PASS FAIL XPASS ERROR; do
		n=$(sed -n "s/^# $kind: *\([0-9][0-9]*\)\$/\1/p" "$1" | tail -n 1)
		n=${n:-0}
		if [ "$kind" = PASS ]; then p=$n; else f=$((f + n)); fi
	done
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
}
#
# pytest_counts LOG: sets p (tests passed) and f (tests failed, errors
# included) from the last summary line pytest wrote to LOG.  A run that
# passed nothing and failed nothing (it did not start, or everything was
# skipped) counts as one failure: a test command must never pass by
# running nothing.
pytest_counts() {
	local summary e
	summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error|skipped)' "$1" | tail -n 1)
	p=$(echo "$summary" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
	f=$(echo "$summary" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
	e=$(echo "$summary" | grep -oE '[0-9]+ errors?' | grep -oE '[0-9]+')
	p=${p:-0}
	f=$((${f:-0} + ${e:-0}))
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
}
