#!/usr/bin/env bash
# install-deps.sh - install (idempotently) every Debian 12 package needed to
# build rlm_vrms2fa and to run its tests.
#
# * Fast path: if every package is already installed (checked with
#   dpkg-query) nothing else happens: no root, no apt-get update.
# * Otherwise (as root, or re-executed through sudo) runs `apt-get update`
#   once, then `apt-get install --no-install-recommends` for the missing ones.
# * Services are not started during the install (a temporary
#   /usr/sbin/policy-rc.d that exits 101, removed again by a trap), and any
#   freeradius/mariadb daemon that appeared during the install is stopped
#   afterwards: the tests run their own private instances on loopback ports.
set -euo pipefail

PACKAGES="
# build: compiler and autotools
gcc
make
autoconf
automake
libtool
pkg-config
dpkg-dev
xz-utils
ca-certificates
# build: FreeRADIUS module headers and what they include
libfreeradius-dev
libtalloc-dev
libpcre3-dev
libssl-dev
# build: libraries the module and admin tool use
liboath-dev
libmariadb-dev
libargon2-dev
libcrypt-dev
libqrencode-dev
libpng-dev
libjson-c-dev
# build: unit tests
libcmocka-dev
# server: FreeRADIUS, its client tools and the SQL driver
freeradius
freeradius-utils
freeradius-mysql
# server: MariaDB (plus Galera for the cluster tests)
mariadb-server
mariadb-client
galera-4
rsync
# tests: TOTP codes, QR codes
oathtool
qrencode
zbar-tools
# tests: python test harness and a real SMTP server (aiosmtpd)
python3
python3-pytest
python3-pytest-xdist
python3-aiosmtpd
# tests: the README's sudo rule for the web backend, checked with visudo (test_install.py)
sudo
# tests: a radiusd whose clock is off (test_clock.py)
libfaketime
# tests: Wi-Fi 802.1X client (eapol_test, tests/e2e/test_eap.py)
eapoltest
# tests: networking, process tools
iproute2
procps
# tests: memory checking and sanitizers
valgrind
clang
libclang-rt-14-dev
# package: dpkg-buildpackage of debian/ and its checks (tests/e2e/test_package.py)
debhelper
fakeroot
lintian
util-linux
# tests: real RADIUS clients (tests/e2e/test_gateways.py): PAM's pam_radius_auth driven by pamtester, pyrad
libpam-radius-auth
pamtester
python3-pyrad
# benchmark (bench/run.py): TOTP secrets sealed like the module seals them
python3-cryptography
"

me=${0##*/}
mapfile -t pkgs < <(printf '%s\n' "$PACKAGES" | sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d')

# Packages that are not in state "ii" (installed, ok).
missing_pkgs() {
    local installed
    installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${pkgs[@]}" 2>/dev/null \
        | awk '$1 == "ii" { print $2 }' || true)
    local p
    for p in "${pkgs[@]}"; do
        grep -qxF -- "$p" <<<"$installed" || printf '%s\n' "$p"
    done
}

mapfile -t missing < <(missing_pkgs)
if [ "${#missing[@]}" -eq 0 ]; then
    echo "$me: all ${#pkgs[@]} packages already installed, nothing to do"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo -- bash "$0" "$@"
    fi
    echo "$me: ${#missing[@]} package(s) missing (${missing[*]}); run this script as root (sudo is not available)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# PIDs of running freeradius / mariadb / mysql daemons (reads /proc, so it
# works before procps is installed).
daemon_pids() {
    local d comm
    for d in /proc/[0-9]*; do
        comm=$(cat "$d/comm" 2>/dev/null) || continue
        case $comm in
            freeradius|radiusd|mariadbd|mysqld|mysqld_safe|mariadbd-safe) echo "${d#/proc/}" ;;
        esac
    done
}
before_pids=" $(daemon_pids | tr '\n' ' ') "
systemd_active() {
    [ -d /run/systemd/system ] && systemctl is-active --quiet "$1" 2>/dev/null
}
before_svcs=" "
for svc in freeradius mariadb; do
    if systemd_active "$svc"; then before_svcs+="$svc "; fi
done

# Keep services from being started by the maintainer scripts.
policy=/usr/sbin/policy-rc.d
policy_backup=
if [ -e "$policy" ] || [ -L "$policy" ]; then
    policy_backup="$policy.install-deps-orig.$$"
    mv -- "$policy" "$policy_backup"
fi
restore_policy() {
    rm -f -- "$policy"
    if [ -n "$policy_backup" ]; then
        mv -- "$policy_backup" "$policy"
    fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# temporary, written by %s: do not start services\nexit 101\n' "$me" >"$policy"
chmod 0755 "$policy"

apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null

restore_policy
trap - EXIT

# Stop any daemon that the install left running.
stopped=()
for svc in freeradius mariadb; do
    case $before_svcs in *" $svc "*) continue ;; esac
    if systemd_active "$svc"; then
        systemctl stop "$svc" && stopped+=("$svc")
    fi
done
for pid in $(daemon_pids); do
    case $before_pids in *" $pid "*) continue ;; esac
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
    kill -TERM "$pid" 2>/dev/null && stopped+=("${comm}(pid $pid)")
done
if [ "${#stopped[@]}" -gt 0 ]; then
    for _ in $(seq 1 50); do
        left=0
        for pid in $(daemon_pids); do
            case $before_pids in *" $pid "*) ;; *) left=1 ;; esac
        done
        [ "$left" -eq 0 ] && break
        sleep 0.1
    done
fi

still=$(missing_pkgs | tr '\n' ' ')
if [ -n "$still" ]; then
    echo "$me: apt-get finished but these packages are still not installed: $still" >&2
    exit 1
fi

msg="$me: apt-get update + installed ${#missing[@]} package(s): ${missing[*]}"
if [ "${#stopped[@]}" -gt 0 ]; then
    msg+="; stopped daemons left running by the install: ${stopped[*]}"
fi
echo "$msg"
