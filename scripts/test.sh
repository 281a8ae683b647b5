#!/usr/bin/env bash
# test.sh - the test command (README, .ci/run): install what is needed,
# build with warnings as errors, run every test, and end with one line
# "N passed, N failed".  Exit status 0 only when something ran and nothing failed.
#
# Tests start their own MariaDB (a private data folder) and radiusd on free
# loopback ports and stop them, also when a test fails.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
. scripts/test-counts.sh
out="$top/tests/out"
mkdir -p "$out"

scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
if ! scripts/build.sh --enable-werror; then
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
fi

passed=0
failed=0

add_last_line() { # LABEL LOG: add the last "N passed, N failed" of LOG to the totals
	local summary p f
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$2" | tail -n 1)
	p=$(echo "$summary" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(echo "$summary" | sed -n 's/.* \([0-9]*\) failed$/\1/p')
	p=${p:-0}
	f=${f:-0}
	[ "$p" -eq 0 ] && [ "$f" -eq 0 ] && f=1	# nothing ran: that is a failure
	echo "$1: $p passed, $f failed"
	passed=$((passed + p))
	failed=$((failed + f))
}

# Unit tests (cmocka): `make check`, one result per test case; a program
# that crashed counts as one failure (Makefile.am, tests/unit/run-test.sh).
# The logs of what failed (test-suite.log) are printed.
unit_log="$out/unit.log"
make -j"$(nproc)" AM_COLOR_TESTS=no check >"$unit_log" 2>&1
make_check_counts "$unit_log"
if [ "$f" -ne 0 ]; then
	if grep -q '^# TOTAL:' "$unit_log" && [ -f test-suite.log ]; then cat test-suite.log; else cat "$unit_log"; fi
fi
echo "unit: $p passed, $f failed"
passed=$((passed + p))
failed=$((failed + f))

# Two builds for the later passes go in the background, at the lowest
# priority, while the parallel end-to-end files run (those mostly wait on
# radiusd, MariaDB and their clients, and none of them measures time): the
# fuzz targets (scripts/fuzz.sh --build-only) and the sanitized build
# (scripts/build-sanitized.sh).  The scripts that use them later rebuild
# only what changed, that is nothing.
nice -n 19 scripts/fuzz.sh --build-only >"$out/build-fuzz.log" 2>&1 &
fuzz_build_pid=$!
nice -n 19 scripts/build-sanitized.sh >"$out/build-sanitized.log" 2>&1 &
sanitized_build_pid=$!

# End-to-end tests (pytest): real MariaDB, real radiusd with the module, real
# radclient.  First every file that neither measures time nor loads the
# machine, three files at a time (pytest-xdist: each worker its own MariaDB
# and radiusd; a file's tests stay on one worker), then the others one at a
# time (the "serial" files of tests/e2e/conftest.py).
e2e_log="$out/e2e.log"
/usr/bin/python3 -m pytest -p no:cacheprovider -q -rfE -n 3 --dist loadfile -m "not serial" --durations=10 \
	tests/e2e 2>&1 | tee "$e2e_log"
pytest_counts "$e2e_log"
echo "e2e (parallel files): $p passed, $f failed"
passed=$((passed + p))
failed=$((failed + f))

# A failed build is reported by the script that needs it, which builds again.
wait "$fuzz_build_pid" || tail -n 20 "$out/build-fuzz.log"
wait "$sanitized_build_pid" || tail -n 20 "$out/build-sanitized.log"

# Fuzzing (libFuzzer, clang): each target runs 3 s on its committed corpus
# (scripts/fuzz.sh, tests/fuzz/README.md); one target is one test.
fuzz_log="$out/fuzz.log"
scripts/fuzz.sh 3 >"$fuzz_log" 2>&1
grep -v -E '^[0-9]+ passed, [0-9]+ failed$' "$fuzz_log"
add_last_line fuzz "$fuzz_log"

e2e_serial_log="$out/e2e-serial.log"
/usr/bin/python3 -m pytest -p no:cacheprovider -q -rfE -m serial --durations=10 tests/e2e 2>&1 | tee "$e2e_serial_log"
pytest_counts "$e2e_serial_log"
echo "e2e (serial files): $p passed, $f failed"
passed=$((passed + p))
failed=$((failed + f))

# The suite again with the module and the admin tool built with AddressSanitizer
# and UndefinedBehaviorSanitizer, the module loaded into radiusd
# (scripts/test-sanitized.sh), and radiusd under Valgrind through 10,000
# requests (scripts/valgrind.sh); tests/sanitizers/README.md.  Both at once:
# the first mostly waits on radiusd and MariaDB, the second keeps one core.
# A sanitizer or Valgrind report in our code counts as a failure, printed.
scripts/valgrind.sh 10000 >"$out/valgrind.log" 2>&1 &
valgrind_pid=$!
scripts/test-sanitized.sh 2>&1 | tee "$out/sanitized.log"
wait "$valgrind_pid"
cat "$out/valgrind.log"
add_last_line sanitized "$out/sanitized.log"
add_last_line valgrind "$out/valgrind.log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
