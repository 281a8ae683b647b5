#!/bin/sh
# run-test.sh PROGRAM - runs one cmocka unit test program for `make check`
# (LOG_COMPILER in Makefile.am; automake's tap-driver.sh reads its output).
#
# With CMOCKA_MESSAGE_OUTPUT=TAP the program prints one "ok"/"not ok" line
# per test case, and the driver counts each "not ok" as a FAIL.  cmocka
# then exits with the number of failed cases, which the driver would count
# once more, as an ERROR of the program.  So an exit status equal to the
# number of "not ok" lines (cases already counted) is passed on as 0.  Any
# other non-zero status (a crash, an abort, a sanitizer report at exit)
# ends the output with "Bail out! ..." so that the program counts as
# exactly one ERROR, whatever it printed before; its output is in its log
# (tests/unit/test_*.log).
set -u
[ $# -ge 1 ] || { echo "usage: $0 PROGRAM [ARG...]" >&2; exit 99; }
tmp=$(mktemp "${TMPDIR:-/tmp}/run-test.XXXXXX") || exit 99
trap 'rm -f "$tmp" "$tmp.rc"' EXIT
# stdout goes to the driver as it comes (tee) and to $tmp to count the
# "not ok" lines; stderr goes straight to the log.
{ "$@"; echo $? >"$tmp.rc"; } | tee "$tmp"
rc=$(cat "$tmp.rc" 2>/dev/null) || rc=99
[ -n "$rc" ] || rc=99
not_ok=$(grep -c '^not ok ' "$tmp")
if [ "$rc" -eq 0 ] || [ "$rc" -eq $((not_ok % 256)) ]; then
	exit 0
fi
why="exited with status $rc"
[ "$rc" -gt 128 ] && [ "$rc" -le 192 ] && why="$why (signal $((rc - 128)))"
echo "Bail out! $1 $why, after $(grep -c '^\(not \)\{0,1\}ok ' "$tmp") test case(s)"
exit "$rc"
