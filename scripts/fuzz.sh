#!/usr/bin/env bash
# fuzz.sh - build the libFuzzer targets of tests/fuzz/ (clang, ASan, UBSan)
# and run each for a while on its committed corpus.  See tests/fuzz/README.md.
#
#   scripts/fuzz.sh [--merge] [-j JOBS] [SECONDS_PER_TARGET] [TARGET...]
#   scripts/fuzz.sh --build-only     (build the targets, run nothing)
#
# SECONDS_PER_TARGET defaults to 10 (the test suite's short run); TARGET is
# fuzz_address or just address; none means all.  Every target runs with
# -max_total_time=SECONDS -timeout=10 -rss_limit_mb=2048 on
# tests/fuzz/corpus/<target>/.  New interesting inputs go only to the
# scratch folder tests/fuzz/build/new/<target>/ (not committed); with
# --merge they are then merged (minimised) into the committed corpus.
# JOBS targets run at once (default: 2, or 1 on a single core; FUZZ_JOBS).
#
# The targets are built by the project's build system, ./configure
# --enable-fuzzing --enable-werror (clang; FUZZ_CC for another compiler),
# in a copy of the tree of its own, build-fuzz/src (scripts/build-copy.sh),
# so that the normal build stays gcc; only what changed is rebuilt.
#
# Prints "fuzz <target>: N runs, N crashes (...)" per target and ends with
# "N passed, N failed" like scripts/test.sh.  Exit status 0 only when every
# target built and ran without a crash, leak, timeout or out-of-memory.
set -uo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
fuzz="$top/tests/fuzz"
build="$fuzz/build"	# logs, scratch corpus, artifacts
bin="$top/build-fuzz/src/tests/fuzz"	# the targets (scripts/build-copy.sh)

merge=0
build_only=0
jobs=${FUZZ_JOBS:-}
seconds=
targets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--merge) merge=1 ;;
	--build-only) build_only=1 ;;
	-j) shift; jobs=${1:-} ;;
	-j*) jobs=${1#-j} ;;
	-h|--help) sed -n '2,22p' "$self" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*)
		if [ -z "$seconds" ] && [[ "$1" =~ ^[0-9]+$ ]]; then
			seconds=$1
		else
			t=${1#fuzz_}
			targets+=("fuzz_$t")
		fi
		;;
	esac
	shift
done
seconds=${seconds:-10}
if [ -z "$jobs" ]; then
	jobs=$(nproc 2>/dev/null || echo 1)
	[ "$jobs" -gt 2 ] && jobs=2
fi
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: bad -j '$jobs'" >&2; exit 2; }

all=()
for f in "$fuzz"/fuzz_*.c; do all+=("$(basename "$f" .c)"); done
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
for t in "${targets[@]}"; do
	if [ ! -f "$fuzz/$t.c" ]; then
		echo "fuzz.sh: no target $t (have: ${all[*]})" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
done

CC=${FUZZ_CC:-clang}
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz.sh: $CC not found (scripts/install-deps.sh installs clang and libclang-rt-14-dev)" >&2
	echo "0 passed, ${#targets[@]} failed"
	exit 1
fi

# ---- build (only what changed) ------------------------------------------
mkdir -p "$build/logs" "$build/new" "$build/artifacts"
configure=(--enable-fuzzing --enable-werror)
[ -n "${FUZZ_CC:-}" ] && configure+=("CC=$FUZZ_CC")
if ! scripts/build-copy.sh build-fuzz "${configure[@]}"; then
	echo "fuzz.sh: build failed"
	echo "0 passed, ${#targets[@]} failed"
	exit 1
fi
for t in "${targets[@]}"; do
	if [ ! -x "$bin/$t" ]; then
		echo "fuzz.sh: $bin/$t was not built (is it in FUZZ_TARGETS in Makefile.am?)"
		echo "0 passed, ${#targets[@]} failed"
		exit 1
	fi
done

if [ "$build_only" -eq 1 ]; then
	echo "fuzz.sh: ${#targets[@]} targets built in $bin"
	exit 0
fi

# ---- run ------------------------------------------------------------------
# run_one TARGET: fuzz for $seconds, then (with --merge) merge; writes the
# summary line to $build/logs/TARGET.result and the output to TARGET.log.
run_one() {
	local t=$1 corpus="$fuzz/corpus/$1" new="$build/new/$1" log="$build/logs/$1.log"
	local art="$build/artifacts/$1/" dict=() rc runs eps crashes line
	mkdir -p "$corpus" "$new" "$art"
	rm -f "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-* "$art"/slow-unit-*
	[ -f "$fuzz/$t.dict" ] && dict=(-dict="$fuzz/$t.dict")
	# The scratch folder comes first: libFuzzer writes new inputs there only.
	"$bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art" "${dict[@]}" "$new" "$corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	crashes=$(find "$art" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	[ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1
	if [ "$rc" -eq 0 ] && [ "$merge" -eq 1 ]; then
		merge_one "$t" >>"$log" 2>&1 || { rc=1; crashes=$((crashes + 1)); }
	fi
	line="fuzz $t: ${runs:-0} runs, $crashes crashes (${eps:-0} exec/s, corpus $(find "$corpus" -type f | wc -l) files)"
	[ "$rc" -ne 0 ] && line="$line: see $log"
	printf '%s\n%s\n' "$rc" "$line" >"$build/logs/$t.result"
}

# merge_one TARGET: a minimal corpus from the committed one plus the scratch
# folder.  Hand-made files (seed-*, regress-*) are always kept; inputs the
# fuzzer found are kept only if they add coverage to those.
merge_one() {
	local t=$1 corpus="$fuzz/corpus/$1" new="$build/new/$1" tmp="$build/merge-$1"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	find "$corpus" -maxdepth 1 -type f \( -name 'seed-*' -o -name 'regress-*' \) -exec cp -p {} "$tmp"/ \;
	"$bin/$t" -merge=1 -timeout=10 -rss_limit_mb=2048 "$tmp" "$corpus" "$new" || return 1
	rm -rf "$corpus"
	mv "$tmp" "$corpus"
	rm -rf "$new"
	mkdir -p "$new"
	echo "merged: $(find "$corpus" -type f | wc -l) files, $(du -sk "$corpus" | cut -f1) KiB"
}

for t in "${targets[@]}"; do
	rm -f "$build/logs/$t.result"
	run_one "$t" &
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
done
wait

passed=0
failed=0
for t in "${targets[@]}"; do
	res="$build/logs/$t.result"
	if [ ! -f "$res" ]; then
		echo "fuzz $t: did not run"
		failed=$((failed + 1))
		continue
	fi
	rc=$(sed -n 1p "$res")
	sed -n 2p "$res"
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		# the sanitizer's or libFuzzer's report, and how to reproduce it
		grep -m 1 -A 25 -E '^(==[0-9]+==ERROR|.*runtime error|.*property broken|ALARM|==[0-9]+== ERROR)' \
			"$build/logs/$t.log" | sed 's/^/    /'
		for a in "$build/artifacts/$t"/*; do
			[ -f "$a" ] && echo "    reproduce: $bin/$t $a"
		done
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
