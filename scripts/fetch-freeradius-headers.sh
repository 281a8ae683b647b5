#!/usr/bin/env bash
# fetch-freeradius-headers.sh OUTDIR - provide the 8 FreeRADIUS headers that
# Debian's libfreeradius-dev (3.2.1) includes but does not install:
#   OUTDIR/freeradius/{automask,clients,connection,listen,log,process,tmpl,xlat}.h
# Add -IOUTDIR to CFLAGS (together with -include freeradius/build.h).
#
# The headers are taken from Debian's source package of EXACTLY the installed
# freeradius version (apt-get source, with a private apt configuration in a
# cache folder; nothing in /etc is changed), with `freeradius-devel/`
# rewritten to `freeradius/`. The downloaded source is cached in
# $FR_SRC_CACHE (default OUTDIR/../.fr-src-cache). If the system headers are
# already complete (FreeRADIUS 3.2.9+), OUTDIR/freeradius is left empty.
set -euo pipefail

me=${0##*/}
HEADERS=(automask clients connection listen log process tmpl xlat)

die() { echo "$me: error: $*" >&2; exit 1; }

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $me OUTDIR" >&2
    exit 2
fi
mkdir -p -- "$1"
OUTDIR=$(cd -- "$1" && pwd)
CACHE=${FR_SRC_CACHE:-$OUTDIR/../.fr-src-cache}
mkdir -p -- "$CACHE"
CACHE=$(cd -- "$CACHE" && pwd)

# Version of the installed server (the module is loaded into it).
V=
for p in freeradius libfreeradius-dev; do
    if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)" = "ii " ]; then
        V=$(dpkg-query -W -f='${Version}' "$p")
        break
    fi
done
[ -n "$V" ] || die "neither freeradius nor libfreeradius-dev is installed; run scripts/install-deps.sh first"
if dev_v=$(dpkg-query -W -f='${Version}' libfreeradius-dev 2>/dev/null) && [ -n "$dev_v" ] && [ "$dev_v" != "$V" ]; then
    echo "$me: warning: freeradius is $V but libfreeradius-dev is $dev_v; using $V" >&2
fi

have_all() { # DIR: all 8 headers present in DIR
    local h
    for h in "${HEADERS[@]}"; do [ -f "$1/$h.h" ] || return 1; done
}

# FreeRADIUS 3.2.9+ installs them itself.
if have_all /usr/include/freeradius; then
    mkdir -p "$OUTDIR/freeradius"
    for h in "${HEADERS[@]}"; do rm -f "$OUTDIR/freeradius/$h.h"; done
    echo "system-$V" >"$OUTDIR/.version"
    echo "$me: /usr/include/freeradius already has all 8 headers (freeradius $V); $OUTDIR/freeradius left empty, nothing fetched"
    exit 0
fi

# Already done for this version?
if [ "$(cat "$OUTDIR/.version" 2>/dev/null || true)" = "$V" ] && have_all "$OUTDIR/freeradius"; then
    echo "$me: $OUTDIR/freeradius already has the 8 headers from freeradius $V, nothing to do"
    exit 0
fi

SRC=$CACHE/src/$V
fetched="from cache $SRC"
start=$(date +%s.%N)
if [ ! -f "$SRC/.complete" ]; then
    APTDIR=$CACHE/apt
    rm -rf -- "$APTDIR/sources.list.d" "$SRC"
    mkdir -p "$APTDIR/sources.list.d" "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$SRC"

    # deb-src entries made from the machine's own Debian apt sources (same
    # mirrors). Third-party repositories (URIs without "debian") are skipped.
    shopt -s nullglob
    for f in /etc/apt/sources.list.d/*.sources; do
        awk 'BEGIN { RS = ""; ORS = "\n\n" }
             {
               n = split($0, l, "\n"); deb = 0; dbn = 0; out = ""
               for (i = 1; i <= n; i++) {
                 if (l[i] ~ /^Types:/) {
                   if (l[i] ~ /[: \t]deb([ \t]|$)/) deb = 1
                   l[i] = "Types: deb-src"
                 }
                 if (l[i] ~ /^URIs:/ && tolower(l[i]) ~ /debian/) dbn = 1
                 out = out l[i] "\n"
               }
               if (deb && dbn) printf "%s\n", out
             }' "$f" >"$APTDIR/sources.list.d/${f##*/}"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '{ line = $0; sub(/^[ \t]+/, "", line)
               if (line !~ /^deb[ \t]/) next
               rest = line; sub(/^deb[ \t]+/, "", rest)
               uri = rest; sub(/^\[[^]]*\][ \t]*/, "", uri); split(uri, w, /[ \t]+/)
               if (tolower(w[1]) ~ /debian/) print "deb-src " rest }' "$f" \
            >"$APTDIR/sources.list.d/$(basename "$f" .list)-src.list"
    done
    shopt -u nullglob
    if ! grep -qs -e '^Types: deb-src' -e '^deb-src ' "$APTDIR"/sources.list.d/*; then
        die "found no Debian 'deb' entries in /etc/apt/sources.list or /etc/apt/sources.list.d/ to derive deb-src entries from.
  Fix: add the Debian archive to your apt sources, or put freeradius_${V}.dsc and its tarballs into $SRC and create $SRC/.complete"
    fi

    A=(-o Dir::Etc::SourceList=/dev/null
       -o "Dir::Etc::SourceParts=$APTDIR/sources.list.d"
       -o "Dir::State::Lists=$APTDIR/lists"
       -o "Dir::Cache=$APTDIR/cache")
    if [ "$(id -u)" -eq 0 ]; then A+=(-o APT::Sandbox::User=root); fi

    if ! apt-get "${A[@]}" -q update >"$APTDIR/update.log" 2>&1; then
        echo "$me: warning: 'apt-get update' for the deb-src entries reported errors (see $APTDIR/update.log); trying anyway" >&2
    fi
    if ! (cd "$SRC" && apt-get "${A[@]}" -q source --download-only "freeradius=$V") >"$APTDIR/source.log" 2>&1; then
        sed 's/^/  /' "$APTDIR/source.log" >&2
        die "'apt-get source --download-only freeradius=$V' failed (log: $APTDIR/source.log).
  Fix: make sure the Debian archive (deb.debian.org) is reachable and serves freeradius $V
  (deb-src entries used: $APTDIR/sources.list.d/; an old version may only be on snapshot.debian.org),
  or upgrade freeradius/libfreeradius-dev to the version the archive has, or download
  freeradius_${V#*:}.dsc and its tarballs by hand into $SRC and create $SRC/.complete"
    fi
    touch "$SRC/.complete"
    fetched="downloaded $(du -sh --exclude=.complete "$SRC" | cut -f1) into $SRC"
fi

shopt -s nullglob
origs=("$SRC"/freeradius_*.orig.tar.*)
debs=("$SRC"/freeradius_*.debian.tar.*)
shopt -u nullglob
[ "${#origs[@]}" -eq 1 ] || die "expected one freeradius_*.orig.tar.* in $SRC, found ${#origs[@]}; delete $SRC and rerun"

# Debian's patches are not applied; make sure none of them touches these headers.
if [ "${#debs[@]}" -eq 1 ]; then
    hre=$(IFS='|'; echo "${HEADERS[*]}")
    if tar -xOf "${debs[0]}" --wildcards 'debian/patches/*' 2>/dev/null \
        | grep -Eq "^\+\+\+ [^ ]*src/include/($hre)\.h"; then
        echo "$me: warning: a Debian patch in ${debs[0]##*/} modifies one of the headers; the unpatched upstream version is used" >&2
    fi
fi

tmp=$(mktemp -d "$OUTDIR/.fetch.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
tar -xf "${origs[0]}" -C "$tmp" --wildcards 'freeradius-server-*/src/include'
inc=$(echo "$tmp"/freeradius-server-*/src/include)
mkdir -p "$tmp/out"
for h in "${HEADERS[@]}"; do
    [ -f "$inc/$h.h" ] || die "$h.h is not in ${origs[0]##*/}"
    sed 's|freeradius-devel/|freeradius/|g' "$inc/$h.h" >"$tmp/out/$h.h"
done
mkdir -p "$OUTDIR/freeradius"
for h in "${HEADERS[@]}"; do mv -f "$tmp/out/$h.h" "$OUTDIR/freeradius/$h.h"; done
echo "$V" >"$OUTDIR/.version"

secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
echo "$me: 8 headers from Debian source freeradius $V (${origs[0]##*/}, $(du -h "${origs[0]}" | cut -f1)) -> $OUTDIR/freeradius; $fetched; ${secs}s"
