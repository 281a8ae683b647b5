#!/usr/bin/env bash
# build-package.sh [OUTDIR] - build the Debian package freeradius-vrms2fa
# from this tree: OUTDIR (default build-deb/) receives the two upstream
# tarballs, the unpacked source tree and the .deb.
#
# Two steps, so that the package build itself never reaches the network:
#   1. online (this script): the 8 FreeRADIUS headers that Debian's
#      libfreeradius-dev 3.2.1 lacks are taken from Debian's source package of
#      EXACTLY the installed libfreeradius-dev version (the same fetch as the
#      developer build, scripts/fetch-freeradius-headers.sh) and packed,
#      unmodified, with FreeRADIUS's COPYRIGHT and LICENSE, as a second
#      upstream tarball freeradius-vrms2fa_VERSION.orig-frheaders.tar.xz
#      (unpacked into frheaders/ of the source tree);
#   2. offline: `dpkg-buildpackage -us -uc -b` in a network namespace of its
#      own (`unshare -n`: no interface but a loopback that is down), so a
#      build step that tried to download anything would fail.
# debian/README.source says the same for people who start from the tarballs.
#
# Options (environment):
#   VRMS2FA_DEB_NO_UNSHARE=1   build without the network namespace (a machine
#                              where unshare is not allowed); still offline
#                              by construction, only not enforced
#   VRMS2FA_DEB_NOCHECK=1      DEB_BUILD_OPTIONS=nocheck: skip the unit tests
#                              that debian/rules runs (faster)
#   FR_SRC_CACHE               where the FreeRADIUS source is cached
#                              (default: .fr-src-cache/ of this tree)
# Prints the paths of the .deb files on its last lines.
set -euo pipefail

me=${0##*/}
die() { echo "$me: error: $*" >&2; exit 1; }

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build-deb}
mkdir -p -- "$out"
out=$(cd -- "$out" && pwd)
case "$out/" in
    "$top/debian/"*) die "OUTDIR must not be inside debian/" ;;
esac

[ -f "$top/debian/changelog" ] || die "no debian/changelog in $top"
for tool in dpkg-buildpackage dpkg-parsechangelog dh xz; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found: run scripts/install-deps.sh (debhelper, dpkg-dev, fakeroot, xz-utils)"
done

src=$(cd "$top" && dpkg-parsechangelog -S Source)
full=$(cd "$top" && dpkg-parsechangelog -S Version)
upver=${full%-*}                    # 0.1.0-1 -> 0.1.0
upver=${upver#*:}

# 1. The headers, from Debian's source of exactly the build-dependency's version.
frver=$(dpkg-query -W -f='${Version}' libfreeradius-dev 2>/dev/null || true)
[ -n "$frver" ] || die "libfreeradius-dev is not installed (the build-dependency): run scripts/install-deps.sh"
cache=${FR_SRC_CACHE:-$top/.fr-src-cache}
FR_SRC_CACHE=$cache "$top/scripts/fetch-freeradius-headers.sh" "$out/.fr-fetch" >/dev/null
shopt -s nullglob
origs=("$cache/src/$frver"/freeradius_*.orig.tar.*)
shopt -u nullglob
if [ "${#origs[@]}" -ne 1 ]; then
    # fetch-freeradius-headers.sh downloads nothing when the system headers
    # are complete (FreeRADIUS 3.2.9+): nothing to carry then.
    if [ -f /usr/include/freeradius/xlat.h ]; then
        origs=()
    else
        die "no freeradius_*.orig.tar.* of $frver in $cache/src/$frver"
    fi
fi

work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

comp=$work/frheaders
mkdir -p "$comp"
if [ "${#origs[@]}" -eq 1 ]; then
    tar -xf "${origs[0]}" -C "$work" --wildcards \
        'freeradius-server-*/src/include/automask.h' 'freeradius-server-*/src/include/clients.h' \
        'freeradius-server-*/src/include/connection.h' 'freeradius-server-*/src/include/listen.h' \
        'freeradius-server-*/src/include/log.h' 'freeradius-server-*/src/include/process.h' \
        'freeradius-server-*/src/include/tmpl.h' 'freeradius-server-*/src/include/xlat.h' \
        'freeradius-server-*/COPYRIGHT' 'freeradius-server-*/LICENSE'
    frtop=$(echo "$work"/freeradius-server-*)
    cp -p "$frtop"/src/include/*.h "$frtop/COPYRIGHT" "$frtop/LICENSE" "$comp/"
fi
cat >"$comp/SOURCE" <<EOF
FreeRADIUS headers that libfreeradius-dev $frver includes but does not install.
Taken unmodified from src/include/ of ${origs[0]##*/} (Debian source package
freeradius $frver), with its COPYRIGHT and LICENSE (GPL-2+), by
scripts/build-package.sh of rlm_vrms2fa.  debian/rules rewrites
freeradius-devel/ to freeradius/ in a copy (fr-include/) at build time.
EOF
echo "$frver" >"$comp/FREERADIUS_VERSION"
# Reproducible tarballs: fixed order, owner and time.
tarx() { # TARBALL DIR NAME: pack DIR as NAME/ into TARBALL
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2024-01-01 00:00Z' \
        -C "$(dirname "$2")" --transform "s|^$(basename "$2")|$3|" -cf - "$(basename "$2")" \
        | xz -6 >"$1"
}
tarx "$out/${src}_${upver}.orig-frheaders.tar.xz" "$comp" frheaders

# The main upstream tarball: the files git knows (tracked and untracked but
# not ignored), as they are in the work tree, without debian/.
tree=$work/$src-$upver
mkdir -p "$tree"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$top" && git ls-files -z -c -o --exclude-standard) \
        | (cd "$top" && grep -zv '^debian/' | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) \
        | tar -C "$top" --null -T - -cf - | tar -C "$tree" -xf -
else
    tar -C "$top" --exclude=./debian --exclude=./build-deb --exclude=./.fr-src-cache \
        --exclude=./fr-include --exclude='*.o' --exclude='*.lo' --exclude=.libs -cf - . | tar -C "$tree" -xf -
fi
tarx "$out/${src}_${upver}.orig.tar.xz" "$tree" "$src-$upver"

# The source tree the package is built in: upstream + frheaders/ + debian/.
build=$out/$src-$upver
rm -rf -- "$build"
tar -C "$out" -xf "$out/${src}_${upver}.orig.tar.xz"
mkdir -p "$build/frheaders"
tar -C "$build/frheaders" --strip-components=1 -xf "$out/${src}_${upver}.orig-frheaders.tar.xz"
cp -a "$top/debian" "$build/debian"

# 2. The build, without network.
opts=${DEB_BUILD_OPTIONS:-}
[ "${VRMS2FA_DEB_NOCHECK:-}" = 1 ] && opts="$opts nocheck"
arch=$(dpkg --print-architecture)
rm -f "$out/${src}_${full}_$arch.deb" "$out/${src}-dbgsym_${full}_$arch.deb"
start=$(date +%s)
# The first line of the log says how many network interfaces (other than
# loopback) are up where the build runs: 0 inside `unshare -n`.
netcheck='echo "network interfaces up for the build (besides lo): $(ip -o link show up 2>/dev/null | grep -vc ": lo:")"; exec "$@"'
run=(sh -c "$netcheck" sh dpkg-buildpackage -us -uc -b "-j$(nproc)")
if [ "${VRMS2FA_DEB_NO_UNSHARE:-}" != 1 ]; then
    command -v unshare >/dev/null 2>&1 || die "unshare (util-linux) not found; set VRMS2FA_DEB_NO_UNSHARE=1 to build without the network namespace"
    if [ "$(id -u)" -eq 0 ]; then run=(unshare -n -- "${run[@]}"); else run=(unshare -r -n -- "${run[@]}"); fi
fi
log=$out/build.log
if ! (cd "$build" && DEB_BUILD_OPTIONS="${opts# }" "${run[@]}") >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    die "dpkg-buildpackage failed (full log: $log)"
fi
echo "$me: built in $(( $(date +%s) - start )) s without network (log: $log); FreeRADIUS headers of $frver"
ls -1 "$out"/*_"${full}"_*.deb
