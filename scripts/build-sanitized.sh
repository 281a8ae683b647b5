#!/usr/bin/env bash
# build-sanitized.sh - build a copy of rlm_vrms2fa, vrms2fa-admin and the
# unit tests with AddressSanitizer and UndefinedBehaviorSanitizer
# (./configure --enable-sanitizers --enable-werror) in build-sanitized/,
# without touching the normal in-tree build, plus the LD_PRELOAD shim
# tests/sanitizers/nodeepbind.c that lets radiusd load the module.
#
# automake refuses a VPATH build from a source tree configured in-tree, so
# the build is a mirror of the working tree: the files `git ls-files -co
# --exclude-standard` lists (tracked ones as they are now, uncommitted
# changes included, and new files not ignored), copied with rsync when
# their content differs (so a copied file is newer than what was built from
# it); the copy's own scripts/build.sh then rebuilds only what changed.
# Files removed from the working tree are removed from the copy.
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

if ! git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	echo "$me: $top is not a git work tree (the copy is made from git ls-files)" >&2
	exit 1
fi
command -v rsync >/dev/null || { echo "$me: rsync not found (scripts/install-deps.sh installs it)" >&2; exit 1; }

# The sources: tracked and untracked-but-not-ignored files that exist, not the copy itself.
mkdir -p "$dest"
list="$dest/.sources"
rel=${dest#"$top"/}
git ls-files -z -co --exclude-standard \
	| while IFS= read -r -d '' f; do
		case $f in "$rel"/*) continue ;; esac
		if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
	done >"$list.new"
mv "$list.new" "$list"
# --delete-missing-args is not wanted: --files-from copies only what exists;
# files gone from the list are removed below.
rsync -rlpc --from0 --files-from="$list" "$top/" "$dest/src/"
if [ -f "$dest/.sources.prev" ]; then
	# Remove from the copy what is no longer in the working tree.
	sort -z "$list" >"$dest/.sources.sorted"
	sort -z "$dest/.sources.prev" \
		| comm -z -23 - "$dest/.sources.sorted" \
		| while IFS= read -r -d '' gone; do rm -f -- "$dest/src/$gone"; done
	rm -f "$dest/.sources.sorted"
fi
cp "$list" "$dest/.sources.prev"

# Share the cache of FreeRADIUS's source package with the in-tree build (nothing downloaded twice).
export FR_SRC_CACHE="$top/.fr-src-cache"
if ! "$dest/src/scripts/build.sh" --enable-sanitizers --enable-werror >"$dest/build.log" 2>&1; then
	cat "$dest/build.log" >&2
	echo "$me: the sanitized build failed (log: $dest/build.log)" >&2
	exit 1
fi

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
