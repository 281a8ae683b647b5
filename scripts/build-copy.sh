#!/usr/bin/env bash
# build-copy.sh DEST [CONFIGURE_ARGS...] - build a copy of this tree in
# DEST/src with ./configure CONFIGURE_ARGS, without touching the normal
# in-tree build: scripts/build-sanitized.sh (--enable-sanitizers) and
# scripts/fuzz.sh (--enable-fuzzing, clang) use it.
#
# automake refuses a VPATH build from a source tree configured in-tree (and
# make would find the in-tree objects through VPATH), so the build is a
# mirror of the working tree: the files `git ls-files -co --exclude-standard`
# lists (tracked ones as they are now, uncommitted changes included, and new
# files not ignored), copied with rsync when their content differs (so a
# copied file is newer than what was built from it); the copy's own
# scripts/build.sh then rebuilds only what changed.  Files removed from the
# working tree are removed from the copy.  The build's output is in
# DEST/build.log, printed when the build fails.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
me=${0##*/}
[ $# -ge 1 ] || { echo "usage: $me DEST [CONFIGURE_ARGS...]" >&2; exit 2; }
dest=$1
shift
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
if ! "$dest/src/scripts/build.sh" "$@" >"$dest/build.log" 2>&1; then
	cat "$dest/build.log" >&2
	echo "$me: the build in $dest/src failed (configure $*; log: $dest/build.log)" >&2
	exit 1
fi
