#!/usr/bin/env bash
# build-sanitized.sh - build a copy of rlm_vrms2fa, vrms2fa-admin and the
# unit tests with AddressSanitizer and UndefinedBehaviorSanitizer
# (./configure --enable-sanitizers --enable-werror) in build-sanitized/src,
# a mirror of the working tree, uncommitted changes included, made by
# scripts/build-copy.sh without touching the normal in-tree build (a second
# run rebuilds only what changed); plus the LD_PRELOAD shim
# tests/sanitizers/nodeepbind.c that lets radiusd load the module.
#
# Prints the variables the sanitized test run needs (tests/sanitizers/README.md):
#   VRMS2FA_BUILD_DIR=...  VRMS2FA_RADIUSD_PRELOAD=...
# Usage: scripts/build-sanitized.sh [BUILD_DIR]   (default build-sanitized)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
me=${0##*/}
dest=${1:-build-sanitized}
case $dest in /*) ;; *) dest="$top/$dest" ;; esac

scripts/build-copy.sh "$dest" --enable-sanitizers --enable-werror || {
	echo "$me: the sanitized build failed" >&2
	exit 1
}

# The shim radiusd is started with (before the sanitizer runtime in LD_PRELOAD).
shim="$dest/nodeepbind.so"
if [ ! -f "$shim" ] || [ tests/sanitizers/nodeepbind.c -nt "$shim" ]; then
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -shared -fPIC -o "$shim.new" tests/sanitizers/nodeepbind.c -ldl
	mv "$shim.new" "$shim"
fi

asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
for lib in "$asan" "$ubsan"; do
	[ -e "$lib" ] || { echo "$me: $lib not found (gcc's sanitizer runtimes: libasan8, libubsan1)" >&2; exit 1; }
done
echo "$me: built $dest/src/.libs/rlm_vrms2fa.so, vrms2fa-admin and the unit tests with -fsanitize=address,undefined"
echo "VRMS2FA_BUILD_DIR=$dest/src"
echo "VRMS2FA_RADIUSD_PRELOAD=$shim $(readlink -f "$asan") $(readlink -f "$ubsan")"
