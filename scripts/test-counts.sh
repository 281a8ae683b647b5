# test-counts.sh - sourced by the test scripts (test.sh, test-sanitized.sh,
# valgrind.sh): the counts of a cmocka program or a pytest run, read from
# its log.
#
# cmocka_counts LOG RC: sets p and f from the "[  PASSED  ] N test(s)." and
# "[  FAILED  ] N test(s)" lines of LOG; a program that exited with RC != 0
# without saying which test failed (a crash, say) counts as one failure.
cmocka_counts() {
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
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
