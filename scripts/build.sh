#!/usr/bin/env bash
# build.sh - configure and build rlm_vrms2fa, vrms2fa-admin and the unit
# tests in this tree.  Extra arguments go to ./configure (CI passes
# --enable-werror).  Re-running only rebuilds what changed.
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
echo "build.sh: built .libs/rlm_vrms2fa.so, vrms2fa-admin and the unit tests (configure $want)"
