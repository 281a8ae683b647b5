#!/usr/bin/env bash
# build.sh - configure and build rlm_vrms2fa, vrms2fa-admin and the unit
# tests in this tree (`make check` runs the unit tests).  Extra arguments go
# to ./configure (CI passes --enable-werror; scripts/build-sanitized.sh and
# scripts/fuzz.sh run it in their copies of the tree with --enable-sanitizers
# or --enable-fuzzing).  Re-running only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

want="$*"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	autoreconf -fi >/dev/null
fi
if [ ! -f Makefile ] || [ "$(cat .configure-args 2>/dev/null)" != "$want" ] || [ configure -nt Makefile ]; then
	# shellcheck disable=SC2086
	./configure $want >/dev/null
	printf '%s' "$want" > .configure-args
fi
make -j"$(nproc)" >/dev/null
make -j"$(nproc)" unit-tests >/dev/null
case " $want " in
*" --enable-fuzzing "*) what="the core and the fuzz targets tests/fuzz/fuzz_*" ;;
*) what=".libs/rlm_vrms2fa.so, vrms2fa-admin and the unit tests" ;;
esac
echo "build.sh: built $what (configure $want)"
