#!/usr/bin/env bash
# valgrind.sh [REQUESTS] - radiusd under Valgrind's memcheck with the normal
# build of the module (scripts/build.sh), driven through REQUESTS requests of
# every kind (default 10000), then stopped with SIGTERM for Valgrind's leak
# check: tests/e2e/test_valgrind.py, whose docstring lists the kinds and the
# criterion (nothing lost and no memory error with a frame of our code).
# Valgrind's XML, its log and the findings are left in tests/out/valgrind/.
# Ends with one line "N passed, N failed" (scripts/test.sh adds it up).
# Extra arguments after REQUESTS go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
. scripts/test-counts.sh
out="$top/tests/out/valgrind"
mkdir -p "$out"

requests=${1:-10000}
shift || true
case $requests in
'' | *[!0-9]*)
	echo "usage: scripts/valgrind.sh [REQUESTS] [pytest arguments]" >&2
	exit 2
	;;
esac
command -v valgrind >/dev/null || { echo "valgrind not found (scripts/install-deps.sh)"; echo "0 passed, 1 failed"; exit 1; }

export VRMS2FA_VALGRIND_REQUESTS=$requests VRMS2FA_VALGRIND_OUT=$out
log="$out/pytest.log"
start=$(date +%s)
/usr/bin/python3 -m pytest -p no:cacheprovider -q -rfE "$@" tests/e2e/test_valgrind.py 2>&1 | tee "$log"
pytest_counts "$log"	# nothing ran (skipped): a failure
echo "valgrind ($requests requests): $p passed, $f failed in $(($(date +%s) - start)) s"
echo "$p passed, $f failed"
[ "$f" -eq 0 ] && [ "$p" -gt 0 ]
